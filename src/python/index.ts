export { PythonAnalyzer } from './analyzer';
export type { HintLocation } from './hint-locations';
export type { LoggerPlan, LoggerTarget } from './logger-insertion';
export { applyEdits } from './text';
export type { AnalyzeOptions, Position, PythonFinding, PythonFix, Range, RuleCode, Severity, TextEdit } from './types';
