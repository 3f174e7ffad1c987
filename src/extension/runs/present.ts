/**
 * What the Runs and Findings views show, apart from VS Code so it can be
 * tested: the groups and their order, a status's word, icon and colour, a
 * run's description and tooltip, a finding's label. Every string here that
 * comes from a log is shown as text by the views, never as markup.
 */
import { formatNumber } from '../../diagnosis/stats';
import type { Finding, FindingKind, Severity } from '../../diagnosis/types';
import { noFindingsText } from '../../diagnosis/verdict';
import { RUN_STATUS_RANK, RUN_STATUS_WORDS, statusCounts, type RunStatus } from '../../protocol/dashboard';
import type { SweepRow } from '../../protocol/sweep';
import { FORMAT_NAMES, stepRange } from '../../report/summary';
import type { RunSummary } from '../../worker/logs-protocol';

/** A codicon id and, where it has one, a theme colour id. */
export interface Look {
  icon: string;
  color?: string;
}

export const STATUS_LOOKS: Record<RunStatus, Look> = {
  healthy: { icon: 'pass', color: 'testing.iconPassed' },
  warning: { icon: 'warning', color: 'list.warningForeground' },
  exploding: { icon: 'flame', color: 'list.errorForeground' },
  nonfinite: { icon: 'error', color: 'errorForeground' },
  'no-gradients': { icon: 'circle-large-outline' },
  empty: { icon: 'circle-outline' },
};

export const SEVERITY_LOOKS: Record<Severity, Look> = {
  error: { icon: 'error', color: 'list.errorForeground' },
  warning: { icon: 'warning', color: 'list.warningForeground' },
  info: { icon: 'info' },
};

const KIND_WORDS: Record<FindingKind, string> = {
  nonfinite: 'non-finite values',
  explosion: 'explosion',
  spike: 'spike',
  vanishing: 'vanishing',
  clipping: 'clipping',
  dominance: 'dominance',
  divergence: 'divergence',
  'loss-trend': 'loss trend',
};

export interface RunGroup {
  /** Unique across origins: a workspace folder named "Opened" is not the Opened group. */
  id: string;
  name: string;
  origin: RunSummary['origin'];
  runs: RunSummary[];
  /** Runs shown under another label than their own, by key: a sweep's runs go by their subfolder (`lr-3/grads.jsonl`). */
  labels: Map<string, string>;
}

/** A run's label in its group's rows. */
export const shownLabel = (group: RunGroup, run: RunSummary): string => group.labels.get(run.key) ?? run.label;

/**
 * A folder with this many subfolders of one run each is a sweep: its runs
 * are one group, named by their subfolders, rather than as many groups of
 * one run (a thousand of them in the Runs view, and as many tree nodes for
 * VS Code to build at each refresh).
 */
export const SWEEP_FOLDERS = 10;
/** Groups of more runs than this start collapsed: the sweep table lists them better. */
export const COLLAPSED_RUNS = 100;

/** Experiments first (what the user just started), then the workspace's folders, then what was opened. */
const ORIGIN_ORDER: Record<RunSummary['origin'], number> = { experiment: 0, workspace: 1, opened: 2 };
const compareNames = new Intl.Collator('en', { numeric: true }).compare;

export function groupRuns(runs: readonly RunSummary[]): RunGroup[] {
  const groups = new Map<string, RunGroup>();
  const groupOf = (origin: RunSummary['origin'], name: string): RunGroup => {
    const id = `${origin}:${name}`;
    let group = groups.get(id);
    if (!group) {
      group = { id, name, origin, runs: [], labels: new Map() };
      groups.set(id, group);
    }
    return group;
  };
  for (const run of runs) groupOf(run.origin, run.group).runs.push(run);
  mergeSweeps(groups, groupOf);
  return [...groups.values()]
    .sort((a, b) => ORIGIN_ORDER[a.origin] - ORIGIN_ORDER[b.origin] || compareNames(a.name, b.name))
    .map((group) => ({ ...group, runs: group.runs.sort((a, b) => compareNames(shownLabel(group, a), shownLabel(group, b))) }));
}

/** Folders of a workspace folder that hold SWEEP_FOLDERS or more subfolders of one run each become one group of those runs. */
function mergeSweeps(groups: Map<string, RunGroup>, groupOf: (origin: RunSummary['origin'], name: string) => RunGroup): void {
  const byParent = new Map<string, RunGroup[]>();
  for (const group of groups.values()) {
    const cut = group.name.lastIndexOf('/');
    if (group.origin !== 'workspace' || cut <= 0 || group.runs.length !== 1) continue;
    const parent = group.name.slice(0, cut);
    const siblings = byParent.get(parent);
    if (siblings) siblings.push(group);
    else byParent.set(parent, [group]);
  }
  for (const [parent, members] of byParent) {
    if (members.length < SWEEP_FOLDERS) continue;
    const sweep = groupOf('workspace', parent);
    for (const member of members) {
      groups.delete(member.id);
      const run = member.runs[0];
      sweep.runs.push(run);
      sweep.labels.set(run.key, `${member.name.slice(parent.length + 1)}/${run.label}`);
    }
  }
}

/** One formatter for every count: toLocaleString makes a new one each call, which a thousand tree rows a refresh made slow. */
const COUNTS = new Intl.NumberFormat('en-US');
const count = (n: number, word: string): string => `${COUNTS.format(n)} ${word}${n === 1 ? '' : 's'}`;

/** `3 runs · 1 live`; a sweep's also say how many of its runs are in trouble: `1,000 runs · 50 exploding · 1 live`. */
export function groupDescription(group: RunGroup): string {
  const live = group.runs.filter((run) => run.live).length;
  const troubled =
    group.runs.length < SWEEP_FOLDERS ? [] : statusCounts(group.runs.map((run) => run.status)).filter(([status]) => RUN_STATUS_RANK[status] >= RUN_STATUS_RANK.warning);
  return [count(group.runs.length, 'run'), ...troubled.map(([status, n]) => `${COUNTS.format(n)} ${RUN_STATUS_WORDS[status]}`), ...(live > 0 ? [`${live} live`] : [])].join(' · ');
}

/** `exploding · 400 steps · ● live` */
export function runDescription(run: RunSummary): string {
  return [RUN_STATUS_WORDS[run.status], ...(run.steps > 0 ? [count(run.steps, 'step')] : []), ...(run.live ? ['● live'] : [])].join(' · ');
}

/** Label and value of each tooltip line; values come from the log and are shown as text. */
export function runTooltipRows(run: RunSummary): Array<[string, string]> {
  const d = run.diagnosis;
  const severities = (['error', 'warning', 'info'] as const)
    .map((severity) => [severity, d.findings.filter((f) => f.severity === severity).length] as const)
    .filter(([, n]) => n > 0)
    .map(([severity, n]) => count(n, severity === 'info' ? 'note' : severity));
  return [
    ['Path', run.path],
    ...(run.stream !== undefined ? [['Rank', run.stream] as [string, string]] : []),
    ['Format', FORMAT_NAMES[run.format]],
    ['Status', RUN_STATUS_WORDS[run.status] + (run.live ? ', growing' : '')],
    ['Steps', d.firstStep === null ? '0' : `${count(run.steps, 'step')} (${d.firstStep}–${d.lastStep})`],
    ['Max gradient norm', d.gradNorm.max === null ? '—' : `${formatNumber(d.gradNorm.max)} at step ${d.gradNorm.maxStep}`],
    ['First non-finite', d.gradNorm.firstNonFiniteStep === null ? '—' : `step ${d.gradNorm.firstNonFiniteStep}`],
    ['Recommended clip threshold', d.threshold.recommended === null ? '—' : formatNumber(d.threshold.recommended)],
    ['Findings', severities.length > 0 ? severities.join(', ') : 'none'],
    ...(run.warnings.length > 0 ? [['Read warnings', `${run.warnings.length}, first: ${run.warnings[0]}`] as [string, string]] : []),
  ];
}

/** The runs a sweep table lists: those of a Runs view folder (`origin` and `folder`, its group's name) and of the folders under it; all of an origin's runs for folder ''. */
export interface SweepScope {
  origin: RunSummary['origin'];
  folder: string;
}

export function inSweepScope(run: RunSummary, scope: SweepScope | undefined): boolean {
  if (!scope) return true;
  return run.origin === scope.origin && (scope.folder === '' || run.group === scope.folder || run.group.startsWith(`${scope.folder}/`));
}

/** `Sweep: runs/lr-sweep`, or every run the Runs view lists. */
export function sweepTitle(scope: SweepScope | undefined): string {
  if (!scope) return 'Sweep: all runs';
  return scope.folder === '' ? 'Sweep: the workspace’s runs' : `Sweep: ${scope.folder}`;
}

/** A run as the sweep table lists it, from its summary alone. */
export function sweepRow(run: RunSummary): SweepRow {
  const d = run.diagnosis;
  return {
    key: run.key,
    run: run.title,
    status: run.status,
    live: run.live,
    steps: run.steps,
    maxNorm: d.gradNorm.max,
    maxNormStep: d.gradNorm.maxStep,
    firstNonFiniteStep: d.gradNorm.firstNonFiniteStep,
    finalLoss: d.loss.last,
    hyperparameters: run.hyperparameters,
  };
}

/** `explosion, steps 3–4` */
export function findingLabel(finding: Finding): string {
  return `${KIND_WORDS[finding.kind]}, ${stepRange(finding.step, finding.endStep)}`;
}

/** The parameters most involved: `lstm.weight_hh_l0, lstm.weight_ih_l0 +3` */
export function findingDescription(finding: Finding): string {
  const shown = finding.layers.slice(0, 2);
  const more = finding.layers.length - shown.length;
  return shown.join(', ') + (more > 0 ? ` +${more}` : '');
}

/** What the Findings view says instead of (or above) a list. */
export function findingsMessage(run: RunSummary | undefined): string | undefined {
  if (!run) return 'Select a run in Runs.';
  if (run.diagnosis.findings.length === 0) return run.steps === 0 ? `${run.label} has no steps yet.` : noFindingsText(run.diagnosis, run.label);
  return undefined;
}
