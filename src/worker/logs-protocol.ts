/**
 * Messages between the extension host and the logs worker, declared once.
 * The host says what to follow (the workspace's matched log files, paths a
 * user opened) and with which settings; the worker reads, tails and
 * diagnoses, and answers with a compact summary per run. A run's full data
 * goes to the host only on request, as the dashboard message that carries
 * it, already wire-encoded, so the host never decodes series. Both sides parse what they receive and drop the rest.
 */
import { ROLES } from '../logs/roles';
import { LOG_FORMATS } from '../logs/run';
import { focusSchema, runCursorSchema, runStatusSchema } from '../protocol/dashboard';
import { diagnosisSchema } from '../protocol/diagnosis';
import { array, boolean, finite, literal, message, number, object, oneOf, optional, record, string, uint8Array, union, type Infer } from '../protocol/schema';

export const logsSettingsSchema = object({
  /** User tag rules, tried before the built-in table. */
  tagRules: array(object({ pattern: string, role: literal(...ROLES) })),
  warnThreshold: finite,
  alertThreshold: finite,
  /** How often followed files are checked for new data. */
  pollIntervalMs: finite,
});
export type LogsSettings = Infer<typeof logsSettingsSchema>;

/** A workspace folder and the files in it that the log globs matched. */
export const matchedFolderSchema = object({
  path: string,
  /** The folder's name, which heads its groups when several folders are open. */
  name: string,
  /** Several workspace folders are open: prefix groups and titles with the folder's name. */
  qualify: boolean,
  files: array(string),
});
export type MatchedFolder = Infer<typeof matchedFolderSchema>;

export const openOriginSchema = literal('opened', 'experiment');
/** Where a listed run came from: the workspace's globs, Inspect Log File / Open Run Folder, or an engine experiment. */
export const runOriginSchema = literal('workspace', 'opened', 'experiment');
export type OpenOrigin = Infer<typeof openOriginSchema>;

export const hostToLogsSchema = union({
  /** Settings changed: re-read (tag rules) or re-diagnose (thresholds) what is followed. */
  configure: message('configure', { settings: logsSettingsSchema }),
  /** The workspace's matched files now: replaces the previous workspace set. Answered by `done` with the workspace's run keys. */
  workspace: message('workspace', { requestId: finite, folders: array(matchedFolderSchema) }),
  /** Follow a file or folder outside the globs. Answered by `done` with its run keys, or `failed`. */
  open: message('open', { requestId: finite, path: string, origin: openOriginSchema }),
  /**
   * The dashboard's next message, `show` (these runs, in order) or `update`
   * (one run), wire-encoded here as one text: the wire numbers the arrays it
   * shares across the whole text, so a message must never be spliced from
   * separately encoded parts. Answered by `dashboardMessage` or, for an
   * `update` whose run cannot be read, `failed`.
   */
  dashboardMessage: message('dashboardMessage', {
    requestId: finite,
    kind: literal('show', 'update'),
    keys: array(string),
    focus: optional(focusSchema),
    /** For an `update`: what the page holds of the run (the cursor of the last message it was sent), so only new points go. */
    since: optional(runCursorSchema),
  }),
  /** Export Report: the report of these runs, built here so the host thread only writes bytes. `assetsRoot` holds dist/webview.js and media/. */
  report: message('report', { requestId: finite, keys: array(string), assetsRoot: string }),
});
export type HostToLogs = Infer<typeof hostToLogsSchema>;


/** What the sidebar shows of a run: everything but the series. */
export const runSummarySchema = object({
  /** runKey(run): the run's path, and its rank when a file holds several. */
  key: string,
  /** Short name under its group: the log file or run folder, plus the rank. */
  label: string,
  /** The name with its folder, for lists and the dashboard (the payload's label). */
  title: string,
  /** The run folder relative to its workspace folder, or "Opened" / "Experiments". */
  group: string,
  path: string,
  stream: optional(string),
  format: literal(...LOG_FORMATS),
  status: runStatusSchema,
  /** The run's files changed within the last seconds. */
  live: boolean,
  steps: number,
  diagnosis: diagnosisSchema,
  origin: runOriginSchema,
  /** Read warnings, as `file:line: message`. */
  warnings: array(string),
  /** What the run's log or folder states of its hyperparameters (logs/hyperparameters.ts keys), for the sweep table. */
  hyperparameters: record(oneOf(finite, string)),
});
export type RunSummary = Infer<typeof runSummarySchema>;

export const logsToHostSchema = union({
  /** Runs that appeared or changed (data, status, live, placement). */
  runs: message('runs', { runs: array(runSummarySchema) }),
  /** Runs that are gone (file deleted, no longer matched). */
  removed: message('removed', { keys: array(string) }),
  done: message('done', { requestId: finite, keys: array(string) }),
  /** The wire text to post as it is; `cursors`: what the page holds of each run once it has it; `unreadable`: the runs a `show` left out, and why. */
  dashboardMessage: message('dashboardMessage', { requestId: finite, text: string, cursors: record(runCursorSchema), unreadable: array(object({ key: string, message: string })) }),
  /** UTF-8 bytes of the report's three files, their buffers transferred rather than copied. */
  report: message('report', { requestId: finite, html: uint8Array, csv: uint8Array, markdown: uint8Array }),
  failed: message('failed', { requestId: finite, message: string }),
  /** Something the host should write to its log: a file that cannot be read, an exception in the worker. */
  log: message('log', { level: literal('info', 'warn', 'error'), message: string }),
});
export type LogsToHost = Infer<typeof logsToHostSchema>;

export type DashboardMessageRequest = Omit<Extract<HostToLogs, { type: 'dashboardMessage' }>, 'type' | 'requestId'>;
export type DashboardMessageReply = Omit<Extract<LogsToHost, { type: 'dashboardMessage' }>, 'type' | 'requestId'>;

