/**
 * Python documents: analysed from the editor's text (debounced while
 * typing) in the analysis worker, findings pushed as diagnostics, and their
 * fixes offered as quick fixes — versioned edits, so a fix computed for an
 * older text is never applied to a newer one.
 */
import * as path from 'node:path';
import {
  CodeActionKind,
  DiagnosticSeverity,
  type CancellationToken,
  type CodeAction,
  type Diagnostic,
  type Range,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { PythonFinding, Severity } from '../python';
import type { ClipThresholds } from './clip-threshold';
import type { PythonAnalysis } from './python-analysis';
import { filePath } from './uri';

export const LOGGER_ACTION_TITLE = 'Log gradient norms with GradLens';
/** Quiet time after a keystroke before the file is analysed again. */
export const TYPING_DELAY_MS = 200;
/** Longest a first analysis waits for the workspace's logs to recommend a threshold before using 1.0. */
const THRESHOLD_WAIT_MS = 2000;

const README = 'https://github.com/gradlens/gradlens';
/** The README heading of each rule; its GitHub anchor is what a diagnostic links to. */
export const RULE_HEADINGS: Readonly<Record<string, string>> = {
  GL001: 'GL001: Training step without gradient clipping',
  GL002: 'GL002: Gradient clipping in the wrong place',
  GL003: 'GL003: Value clipping instead of norm clipping',
  GL004: 'GL004: Recurrent layer without orthogonal initialisation',
  GL005: 'GL005: Hidden state carried across batches without detach',
  GL006: 'GL006: Trainer configured without gradient clipping',
  GL007: 'GL007: SGD with a learning rate of 1 or more on a recurrent model',
};

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

export function ruleHelp(code: string): string {
  const heading = RULE_HEADINGS[code];
  return heading ? `${README}#${headingAnchor(heading)}` : `${README}#python-training-code`;
}

const SEVERITIES: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function toDiagnostic(finding: PythonFinding): Diagnostic {
  return {
    range: finding.range,
    severity: SEVERITIES[finding.severity],
    code: finding.code,
    codeDescription: { href: ruleHelp(finding.code) },
    source: 'GradLens',
    message: finding.message,
  };
}

function overlaps(a: Range, b: Range): boolean {
  const before = (p: Range['start'], q: Range['start']) => p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

interface Analysed {
  version: number;
  findings: PythonFinding[];
}

export interface PythonFilesOptions {
  /** The parser and rules, off the server's thread. */
  analysis: PythonAnalysis;
  thresholds: ClipThresholds;
  /** Where the logs that recommend a threshold are; the script's own folder when undefined. */
  logFolder?: string;
  publish: (uri: string, version: number, diagnostics: Diagnostic[]) => void;
}

export class PythonFiles {
  private readonly analysed = new Map<string, Analysed>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly options: PythonFilesOptions,
    /** The editor's current copy of a document, to tell a stale analysis from a current one. */
    private readonly current: (uri: string) => TextDocument | undefined,
  ) {}

  /** Analyses a document: at once when it opens, after TYPING_DELAY_MS of quiet when it changes (a change in between restarts the wait). */
  changed(document: TextDocument): void {
    const delayMs = this.seen.has(document.uri) ? TYPING_DELAY_MS : 0;
    this.seen.add(document.uri);
    clearTimeout(this.timers.get(document.uri));
    this.timers.set(
      document.uri,
      setTimeout(() => {
        this.timers.delete(document.uri);
        void this.analyse(document.uri, document.version);
      }, delayMs),
    );
  }

  remove(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.seen.delete(uri);
    this.analysed.delete(uri);
    this.options.analysis.abandon(uri);
  }

  dispose(): void {
    for (const uri of [...this.timers.keys()]) this.remove(uri);
    void this.options.analysis.dispose();
  }

  /**
   * Quick fixes for the findings under `range`, and "Log gradient norms with
   * GradLens" on a training loop there — only while the findings were
   * computed for the document's current version.
   */
  async codeActions(uri: string, range: Range, token: CancellationToken): Promise<CodeAction[]> {
    const document = this.current(uri);
    const analysed = this.analysed.get(uri);
    if (!document || !analysed || analysed.version !== document.version || token.isCancellationRequested) return [];
    const { version } = document;
    const actions: CodeAction[] = [];
    for (const finding of analysed.findings) {
      if (!overlaps(finding.range, range)) continue;
      for (const fix of finding.fixes) {
        actions.push({
          title: fix.title,
          kind: CodeActionKind.QuickFix,
          isPreferred: fix.isPreferred,
          diagnostics: [toDiagnostic(finding)],
          edit: { documentChanges: [{ textDocument: { uri, version: document.version }, edits: fix.edits }] },
        });
      }
    }
    const logger = (await this.options.analysis.loggerInsertion(uri, document.getText(), range.start.line, token)) ?? [];
    // The text may have changed while the worker read it: edits for an older version are offered for none.
    if (token.isCancellationRequested || this.current(uri)?.version !== version) return [];
    if (logger.length > 0) {
      actions.push({
        title: LOGGER_ACTION_TITLE,
        kind: CodeActionKind.Refactor,
        edit: { documentChanges: [{ textDocument: { uri, version }, edits: logger }] },
      });
    }
    return actions;
  }

  private async threshold(file: string | undefined): Promise<number | undefined> {
    const folder = this.options.logFolder ?? (file ? path.dirname(file) : undefined);
    if (!folder) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), THRESHOLD_WAIT_MS)));
    try {
      return await Promise.race([this.options.thresholds.for(folder), giveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async analyse(uri: string, version: number): Promise<void> {
    const maxNorm = await this.threshold(filePath(uri));
    // The text may have moved on while the logs were read: analyse only the version asked for, and let the newer one come.
    const document = this.current(uri);
    if (!document || document.version !== version) return;
    // Undefined when a newer version superseded this one in the worker's queue.
    const findings = await this.options.analysis.analyze(uri, document.getText(), maxNorm);
    if (!findings || this.current(uri)?.version !== version) return;
    this.analysed.set(uri, { version, findings });
    this.options.publish(uri, version, findings.map(toDiagnostic));
  }
}
