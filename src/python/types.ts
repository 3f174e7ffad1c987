/** Stable rule codes; each has a README section `GLxxx: …` the diagnostics link to. */
export const RULE_CODES = ['GL001', 'GL002', 'GL003', 'GL004', 'GL005', 'GL006', 'GL007'] as const;
export type RuleCode = (typeof RULE_CODES)[number];

/** 0-based line, UTF-16 character offset: the LSP's position. */
export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }
export interface TextEdit { range: Range; newText: string }
export interface PythonFix { title: string; isPreferred: boolean; edits: TextEdit[] }
export const SEVERITIES = ['error', 'warning', 'information', 'hint'] as const;
export type Severity = (typeof SEVERITIES)[number];
export interface PythonFinding { code: RuleCode; severity: Severity; message: string; range: Range; fixes: PythonFix[] }
export interface AnalyzeOptions {
  /** clip threshold to insert: GradLens's recommendation from the workspace's logs, else 1.0 */
  maxNorm?: number;
  /** Asked while parsing and between rules: true abandons the analysis (the result is then []). */
  isCancelled?: () => boolean;
}
