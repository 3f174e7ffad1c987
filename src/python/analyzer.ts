import * as path from 'path';
import { Language, Parser, type Tree } from 'web-tree-sitter';
import { loggerInsertion } from './logger-insertion';
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
    const tree = this.parseOrNull(text);
    if (!tree) return [];
    try {
      const context = this.context(tree, text, options);
      const findings: PythonFinding[] = [];
      for (const rule of RULES) {
        try {
          findings.push(...rule(context));
        } catch {
          // One rule tripping over half-typed code must not hide the others' findings.
        }
      }
      return findings.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
    } catch {
      return [];
    } finally {
      tree.delete();
    }
  }

  /** "Log gradient norms with GradLens": edits inserting the Python logger into the training loop at `line` (0-based), or [] when there is no loop there or the logger is already used. Never throws. */
  loggerInsertion(text: string, line: number): TextEdit[] {
    const tree = this.parseOrNull(text);
    if (!tree) return [];
    try {
      return loggerInsertion(this.context(tree, text, {}), line);
    } catch {
      return [];
    } finally {
      tree.delete();
    }
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

  private parseOrNull(text: string): Tree | null {
    try {
      return this.parser.parse(text);
    } catch {
      return null;
    }
  }

  private context(tree: Tree, text: string, options: AnalyzeOptions): RuleContext {
    return { model: buildModel(tree.rootNode), source: new SourceText(text), threshold: formatThreshold(options.maxNorm) };
  }
}
