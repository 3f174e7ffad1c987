/**
 * The commands GradLens contributes, in package.json's order. Kept apart
 * from the handlers (commands.ts) so a test without VS Code can check the
 * list against package.json.
 */
export const COMMAND_IDS = [
  'gradlens.openDashboard',
  'gradlens.inspectLogFile',
  'gradlens.openRunFolder',
  'gradlens.runExperiment',
  'gradlens.stopExperiment',
  'gradlens.compareRuns',
  'gradlens.recommendThreshold',
  'gradlens.exportReport',
  'gradlens.openPlayground',
  'gradlens.insertLogger',
  'gradlens.runTrainingScript',
  'gradlens.openSweepTable',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];

/** Context key set while an engine experiment trains (package.json `when` clauses use it). */
export const EXPERIMENT_RUNNING_CONTEXT = 'gradlens.experimentRunning';
