/**
 * The open log files: each is analysed from disk, re-analysed (debounced)
 * when it changes there — saved, or appended to by a training run — and its
 * findings pushed as diagnostics. Hover and CodeLens wait for the same
 * analysis rather than starting their own.
 */
import { watch, type FSWatcher } from 'node:fs';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import type { Severity } from '../diagnosis/types';
import { analyzeLogFile, type LogAnalysis, type LogFinding } from './log-diagnostics';

/** README section that explains each finding kind. */
export const LOG_FINDINGS_HELP = 'https://github.com/gradlens/gradlens#what-the-diagnosis-says';
/** A log written by a running training job changes many times a second; one analysis per quiet spell is enough. */
const REFRESH_DELAY_MS = 300;

const SEVERITIES: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
};

export function toDiagnostic(finding: LogFinding): Diagnostic {
  return {
    range: { start: { line: finding.line, character: 0 }, end: { line: finding.line, character: finding.length } },
    severity: SEVERITIES[finding.severity],
    code: finding.kind,
    codeDescription: { href: LOG_FINDINGS_HELP },
    source: 'GradLens',
    message: finding.message,
  };
}

interface OpenLog {
  file: string;
  analysis: Promise<LogAnalysis | undefined>;
  /** Counts analyses: a result is published only while it is the newest. */
  generation: number;
  timer?: NodeJS.Timeout;
  watcher?: FSWatcher;
}

export class LogFiles {
  private readonly open = new Map<string, OpenLog>();

  constructor(
    private readonly publish: (uri: string, diagnostics: Diagnostic[]) => void,
    private readonly report: (message: string) => void,
  ) {}

  /** Starts following a log document; its diagnostics come as soon as it is read. */
  add(uri: string, file: string): void {
    if (this.open.has(uri)) return;
    const entry: OpenLog = { file, analysis: Promise.resolve(undefined), generation: 0 };
    this.open.set(uri, entry);
    try {
      entry.watcher = watch(file, { persistent: false }, () => this.changed(uri));
      entry.watcher.on('error', () => entry.watcher?.close());
    } catch {
      // A file that cannot be watched is still analysed on open and on save.
    }
    this.analyse(uri, entry);
  }

  has(uri: string): boolean {
    return this.open.has(uri);
  }

  /** The file changed on disk: analyse it again once it has been quiet for a moment. */
  changed(uri: string): void {
    const entry = this.open.get(uri);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.analyse(uri, entry), REFRESH_DELAY_MS);
  }

  remove(uri: string): void {
    const entry = this.open.get(uri);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.watcher?.close();
    entry.generation++;
    this.open.delete(uri);
    this.publish(uri, []);
  }

  /** The newest analysis of an open log, or undefined when the document is not one. */
  analysis(uri: string): Promise<LogAnalysis | undefined> | undefined {
    return this.open.get(uri)?.analysis;
  }

  dispose(): void {
    for (const uri of [...this.open.keys()]) this.remove(uri);
  }

  private analyse(uri: string, entry: OpenLog): void {
    const generation = ++entry.generation;
    const current = () => entry.generation === generation && this.open.get(uri) === entry;
    entry.analysis = analyzeLogFile(entry.file, () => !current()).catch((error: Error) => {
      this.report(`GradLens could not read ${entry.file}: ${error.message}`);
      return undefined;
    });
    void entry.analysis.then((analysis) => {
      if (current()) this.publish(uri, (analysis?.findings ?? []).map(toDiagnostic));
    });
  }
}
