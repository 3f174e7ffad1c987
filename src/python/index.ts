export { PythonAnalyzer } from './analyzer';
export { applyEdits } from './text';
export type { AnalyzeOptions, Position, PythonFinding, PythonFix, Range, RuleCode, Severity, TextEdit } from './types';
