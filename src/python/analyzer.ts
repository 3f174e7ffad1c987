import * as path from 'path';
import { Language, Parser, type Tree } from 'web-tree-sitter';
import type { HintId } from '../diagnosis/types';
import { hintLocation, type HintLocation } from './hint-locations';
import { planLoggerInsertion, type LoggerPlan, type LoggerTarget } from './logger-insertion';
import { buildModel } from './model';
import { clippingFindings } from './rules/clipping';
import type { RuleContext } from './rules/context';
import { hiddenStateFindings } from './rules/hidden-state';
import { learningRateFindings } from './rules/learning-rate';
import { recurrentInitFindings } from './rules/recurrent-init';
import { trainerConfigFindings } from './rules/trainer-config';
import { valueClippingFindings } from './rules/value-clipping';
import { formatThreshold, SourceText } from './text';
import type { AnalyzeOptions, PythonFinding, TextEdit } from './types';

/** What the analyses that run no rules take: `isCancelled` stops the parse, and the answer is then the one for unreadable text. */
type Cancellable = Pick<AnalyzeOptions, 'isCancelled'>;

const RULES: ReadonlyArray<(context: RuleContext) => PythonFinding[]> = [clippingFindings, valueClippingFindings, trainerConfigFindings, recurrentInitFindings, hiddenStateFindings, learningRateFindings];

/** Parses Python with tree-sitter and runs GradLens's rules over the training code. */
export class PythonAnalyzer {
  private constructor(private readonly parser: Parser) {}

  /** `wasmDir` holds `tree-sitter.wasm` and `tree-sitter-python.wasm` (dist/ in the extension, node_modules paths in tests). */
  static async load(wasmDir: string): Promise<PythonAnalyzer> {
    await Parser.init({ locateFile: () => path.join(wasmDir, 'tree-sitter.wasm') });
    const python = await Language.load(path.join(wasmDir, 'tree-sitter-python.wasm'));
    const parser = new Parser();
    parser.setLanguage(python);
    return new PythonAnalyzer(parser);
  }

  /** Findings sorted by position; never throws — a file the parser or a rule cannot handle yields what could be found, or nothing. */
  analyze(text: string, options: AnalyzeOptions = {}): PythonFinding[] {
    return this.withContext(text, options, [], (context) => this.findings(context, options));
  }

  /** "Log gradient norms with GradLens": edits inserting the Python logger into the training loop at `line` (0-based), or [] when there is no loop there or the logger is already used. Never throws. */
  loggerInsertion(text: string, line: number): TextEdit[] {
    const plan = this.loggerPlan(text, { line, orFirstLoop: false });
    return plan.type === 'insertion' ? plan.edits : [];
  }

  /** The logger insertion for `target`, with what it does or why there is nothing to insert. Never throws. */
  loggerPlan(text: string, target: LoggerTarget, options: Cancellable = {}): LoggerPlan {
    const unreadable: LoggerPlan = { type: 'nothing', reason: 'GradLens could not read this file as Python.' };
    return this.withContext(text, options, unreadable, (context) => planLoggerInsertion(context, target));
  }

  /** Where a dashboard hint's change goes in the script, with the quick fix of the rule that carries it out. Never throws. */
  hintLocation(text: string, hint: HintId, options: AnalyzeOptions = {}): HintLocation | undefined {
    // One parse for the findings and the landmarks: on a long script parsing takes most of the time.
    return this.withContext(text, options, undefined, (context) => hintLocation(context, hint, this.findings(context, options)));
  }

  /** Whether the text holds a training step (backward() then an optimizer's step()): what makes a Python file a training script. */
  hasTrainingStep(text: string, options: Cancellable = {}): boolean {
    return this.withContext(text, options, false, (context) => context.model.trainingSteps.length > 0);
  }

  /** Whether the text parses without ERROR or MISSING nodes; how tests (and callers) check that a fix left valid Python. */
  parsesCleanly(text: string): boolean {
    const tree = this.parseOrNull(text);
    if (!tree) return false;
    try {
      return !tree.rootNode.hasError;
    } finally {
      tree.delete();
    }
  }

  /** The rules' findings, sorted by position; [] once `isCancelled` says stop. */
  private findings(context: RuleContext, options: AnalyzeOptions): PythonFinding[] {
    const findings: PythonFinding[] = [];
    for (const rule of RULES) {
      if (options.isCancelled?.()) return [];
      try {
        findings.push(...rule(context));
      } catch {
        // One rule tripping over half-typed code must not hide the others' findings.
      }
    }
    return findings.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  }

  /** `read` over the text's syntax; `fallback` when it cannot be parsed or read, or `isCancelled` stopped the parse. */
  private withContext<T>(text: string, options: AnalyzeOptions, fallback: T, read: (context: RuleContext) => T): T {
    const tree = this.parseOrNull(text, options.isCancelled);
    if (!tree) return fallback;
    try {
      return read(this.context(tree, text, options));
    } catch {
      return fallback;
    } finally {
      tree.delete();
    }
  }

  /** The tree, or null when the text cannot be parsed or `isCancelled` said stop while parsing. */
  private parseOrNull(text: string, isCancelled?: () => boolean): Tree | null {
    try {
      const tree = this.parser.parse(text, null, isCancelled ? { progressCallback: isCancelled } : undefined);
      // A parse stopped half-way resumes on the next call unless reset: the next text is another one.
      if (!tree) this.parser.reset();
      return tree;
    } catch {
      this.parser.reset();
      return null;
    }
  }

  private context(tree: Tree, text: string, options: AnalyzeOptions): RuleContext {
    return { model: buildModel(tree.rootNode, text), source: new SourceText(text), threshold: formatThreshold(options.maxNorm) };
  }
}
