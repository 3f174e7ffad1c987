/**
 * The logs worker's work, apart from the thread it runs in: follow the runs
 * the host asks for, read what their files gain at each poll, diagnose runs
 * that changed, and tell the host about each run in a compact summary. The
 * host gets a run's series only when it asks, in the dashboard message
 * encoded here whole.
 */
import { promises as fs } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { diagnose } from '../diagnosis/diagnose';
import type { Diagnosis } from '../diagnosis/types';
import { statedHyperparameters } from '../logs/hyperparameters';
import { discoverMatched, specId, specsAt, type RunSpec } from '../logs/discovery';
import type { Run } from '../logs/run';
import { RunTail } from '../logs/tail';
import { encodeWire } from '../protocol/wire';
import type { HostToDashboard, RunCursor, RunPayload } from '../protocol/dashboard';
import { runChange, runKey, runStatus, toRunPayload } from '../report/payload';
import { markdownSummary, readReportAssets, renderReport, seriesCsv } from '../report/report';
import { warningLines } from '../report/warnings';
import { openedPlacement, workspacePlacement, type Placement } from './logs-placement';
import type { DashboardMessageReply, HostToLogs, LogsSettings, LogsToHost, MatchedFolder, OpenOrigin, RunSummary } from './logs-protocol';
import { mapWithLimit } from '../shared/concurrency';
import { errorMessage } from '../shared/errors';

/** A run is live while one of its files changed this recently. */
export const LIVE_MS = 10_000;
/** Opened folders are searched again this often, for runs that started since. */
export const REDISCOVER_MS = 5_000;
/**
 * A changed run is diagnosed again only after this many times its last
 * diagnosis took, so one huge growing log leaves the worker time for the
 * others and for the host's requests.
 */
const DIAGNOSIS_DUTY = 1;
/**
 * A run none of whose files changed for LIVE_MS is looked at this often
 * rather than at every poll interval, as TensorBoard reloads every 5 s: a
 * sweep of 1,000 finished runs no longer keeps a core busy, and training
 * that resumes shows within this.
 */
export const QUIET_POLL_MS = 5_000;
/** Followed runs polled at once (see refresh): enough to overlap reads with diagnoses, few enough for file descriptors. */
const POLLS_AT_ONCE = 8;

export const DEFAULT_LOGS_SETTINGS: LogsSettings = { tagRules: [], warnThreshold: 10, alertThreshold: 100, pollIntervalMs: 500 };

interface Claim {
  spec: RunSpec;
  placement: Placement;
}

/** When two claims name the same run, it is listed where the first of these puts it. */
const ORIGIN_RANK: Record<Placement['origin'], number> = { workspace: 0, experiment: 1, opened: 2 };

const WORKSPACE = 'workspace';
const openClaimant = (target: string): string => `open:${target}`;
/** A file holding several ranks gives one run per rank, named with it, as the readers name them. */
const rankSuffix = (run: Run): string => (run.stream !== undefined ? ` [${run.stream}]` : '');

/** One run source being tailed, with what the host was last told about it. */
class Followed {
  tail: RunTail;
  /** Data arrived since the last diagnosis. */
  dirty = true;
  diagnoses = new Map<string, Diagnosis>();
  diagnosedAt = -Infinity;
  diagnosisMs = 0;
  live = false;
  polledAt = -Infinity;
  /** The host's summaries are out of date (new diagnosis, live changed, moved to another group). */
  stale = false;
  /** Keys of the runs the host lists. */
  shown = new Set<string>();
  lastError?: string;

  constructor(
    public spec: RunSpec,
    public placement: Placement,
    settings: LogsSettings,
  ) {
    this.tail = new RunTail(spec, { tagRules: settings.tagRules });
  }

  retail(settings: LogsSettings): void {
    this.tail = new RunTail(this.spec, { tagRules: settings.tagRules });
    this.dirty = true;
    this.diagnosedAt = -Infinity;
  }
}

function samePlacement(a: Placement, b: Placement): boolean {
  return a.origin === b.origin && a.group === b.group && a.name === b.name && a.title === b.title && a.showEmpty === b.showEmpty;
}

function sameFiles(a: RunSpec, b: RunSpec): boolean {
  return a.files.length === b.files.length && a.files.every((file, i) => file.path === b.files[i].path);
}

export class LogsService {
  private settings = DEFAULT_LOGS_SETTINGS;
  /** Who wants which run source followed: the workspace, or one opened path each. */
  private readonly claims = new Map<string, Map<string, Claim>>();
  private readonly openedFolders = new Map<string, OpenOrigin>();
  /** Opened files, so one deleted and created again comes back. */
  private readonly openedFiles = new Map<string, OpenOrigin>();
  private readonly followed = new Map<string, Followed>();
  /** Every piece of work runs after the previous one: the followed set never changes under a poll. */
  private queue: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private searchedAt = Date.now();

  constructor(private readonly send: (message: LogsToHost) => void) {
    this.schedule();
  }

  handle(message: HostToLogs): void {
    switch (message.type) {
      case 'configure':
        this.enqueue(() => this.configure(message.settings));
        return;
      case 'workspace':
        this.answer(message.requestId, async () => ({ type: 'done', requestId: message.requestId, keys: await this.followWorkspace(message.folders) }));
        return;
      case 'open':
        this.answer(message.requestId, async () => ({ type: 'done', requestId: message.requestId, keys: await this.open(message.path, message.origin) }));
        return;
      case 'dashboardMessage':
        this.answer(message.requestId, async () => ({ type: 'dashboardMessage', requestId: message.requestId, ...this.dashboardMessage(message) }));
        return;
      case 'report':
        this.answer(message.requestId, async () => {
          const shown = message.keys.map((key) => this.shownRun(key));
          const payloads = shown.map((s) => toRunPayload(s.run, s.diagnosis, s.live));
          const assets = await readReportAssets(message.assetsRoot);
          const utf8 = new TextEncoder();
          return {
            type: 'report',
            requestId: message.requestId,
            html: utf8.encode(renderReport(payloads, assets)),
            csv: utf8.encode(seriesCsv(shown.map((s) => s.run))),
            markdown: utf8.encode(markdownSummary(payloads)),
          };
        });
        return;
    }
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(work).catch((error: unknown) => {
      this.send({ type: 'log', level: 'error', message: `logs worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` });
    });
    return this.queue;
  }

  private answer(requestId: number, work: () => Promise<LogsToHost>): void {
    void this.enqueue(async () => {
      try {
        this.send(await work());
      } catch (error) {
        this.send({ type: 'failed', requestId, message: errorMessage(error) });
      }
    });
  }

  /** The next poll, one interval from now; replaces a poll already scheduled, so a new interval applies at once. */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.enqueue(() => this.cycle()).then(() => this.schedule()), this.settings.pollIntervalMs);
    // What keeps the worker alive is its port to the host, not the polling.
    this.timer.unref();
  }

  private async cycle(): Promise<void> {
    if (Date.now() - this.searchedAt >= REDISCOVER_MS) {
      this.searchedAt = Date.now();
      for (const [folder, origin] of this.openedFolders) this.claims.set(openClaimant(folder), (await this.claim(folder, origin).catch(() => ({ claims: new Map<string, Claim>() }))).claims);
      for (const [file, origin] of this.openedFiles) {
        // Its run went with the file (forgetSource); a file of that name is back.
        if (this.claims.get(openClaimant(file))?.size === 0) this.claims.set(openClaimant(file), (await this.claim(file, origin).catch(() => ({ claims: new Map<string, Claim>() }))).claims);
      }
      await this.reconcile();
    }
    const now = Date.now();
    await this.refresh([...this.followed].filter(([, f]) => f.live || f.dirty || now - f.polledAt >= QUIET_POLL_MS).map(([id]) => id));
  }

  private async configure(settings: LogsSettings): Promise<void> {
    const previous = this.settings;
    this.settings = settings;
    if (previous.pollIntervalMs !== settings.pollIntervalMs) this.schedule();
    if (JSON.stringify(previous.tagRules) !== JSON.stringify(settings.tagRules)) {
      for (const followed of this.followed.values()) followed.retail(settings);
    } else if (previous.warnThreshold !== settings.warnThreshold || previous.alertThreshold !== settings.alertThreshold) {
      for (const followed of this.followed.values()) {
        followed.dirty = true;
        followed.diagnosedAt = -Infinity;
      }
    }
    await this.refresh();
  }

  private async followWorkspace(folders: MatchedFolder[]): Promise<string[]> {
    const claims = new Map<string, Claim>();
    for (const folder of folders) {
      for (const spec of await discoverMatched(folder.path, folder.files)) claims.set(specId(spec), { spec, placement: workspacePlacement(spec, folder) });
    }
    this.claims.set(WORKSPACE, claims);
    await this.reconcile();
    await this.refresh(claims.keys());
    return this.shownKeys(claims);
  }

  /** The runs at an opened path, placed under Opened (or Experiments); and whether the path is a file. */
  private async claim(target: string, origin: OpenOrigin): Promise<{ claims: Map<string, Claim>; single: boolean }> {
    const { specs, single } = await specsAt(target);
    return { claims: new Map(specs.map((spec) => [specId(spec), { spec, placement: openedPlacement(spec, target, origin, single) }])), single };
  }

  private async open(target: string, origin: OpenOrigin): Promise<string[]> {
    const { claims, single } = await this.claim(target, origin);
    (single ? this.openedFiles : this.openedFolders).set(target, origin);
    this.claims.set(openClaimant(target), claims);
    await this.reconcile();
    await this.refresh(claims.keys());
    return this.shownKeys(claims);
  }

  private shownKeys(claims: Map<string, Claim>): string[] {
    return [...claims.keys()].flatMap((id) => [...(this.followed.get(id)?.shown ?? [])]);
  }

  /** Follows what some claim wants, where the best-ranked claim puts it; forgets what nothing wants any more. */
  private async reconcile(): Promise<void> {
    const wanted = new Map<string, Claim>();
    for (const claims of this.claims.values()) {
      for (const [id, claim] of claims) {
        const current = wanted.get(id);
        if (!current) wanted.set(id, claim);
        else {
          const best = ORIGIN_RANK[claim.placement.origin] < ORIGIN_RANK[current.placement.origin] ? claim : current;
          wanted.set(id, { spec: claim.spec, placement: { ...best.placement, showEmpty: claim.placement.showEmpty || current.placement.showEmpty } });
        }
      }
    }
    for (const [id, followed] of this.followed) if (!wanted.has(id)) this.unfollow(id, followed);
    for (const [id, claim] of wanted) {
      const followed = this.followed.get(id);
      if (!followed) {
        this.followed.set(id, new Followed(claim.spec, claim.placement, this.settings));
        continue;
      }
      if (!samePlacement(followed.placement, claim.placement)) {
        followed.placement = claim.placement;
        followed.stale = true;
      }
      if (!sameFiles(followed.spec, claim.spec)) {
        // Files joined or left the run (a new TensorBoard event file): the tail takes them in, or starts over.
        followed.spec = claim.spec;
        await followed.tail.rediscover();
        followed.dirty = true;
      }
    }
  }

  private unfollow(id: string, followed: Followed): void {
    this.followed.delete(id);
    if (followed.shown.size > 0) this.send({ type: 'removed', keys: [...followed.shown] });
  }

  /**
   * One poll of these followed runs (all by default; a poll cycle passes the
   * live ones and the quiet ones due): a request waits only for the runs it
   * is about. A few at once, so one run's reads wait on the
   * disk while another is diagnosed: polled one by one, a sweep of 1,000 runs
   * left the worker idle for 38% of its listing.
   */
  private async refresh(ids: Iterable<string> = [...this.followed.keys()]): Promise<void> {
    await mapWithLimit([...ids], POLLS_AT_ONCE, async (id) => {
      const followed = this.followed.get(id);
      if (followed) await this.poll(id, followed);
    });
  }

  private async poll(id: string, followed: Followed): Promise<void> {
    followed.polledAt = Date.now();
    try {
      const stats = await Promise.all(followed.spec.files.map((file) => fs.stat(file.path).catch(() => undefined)));
      if (stats.every((stat) => stat === undefined)) {
        this.forgetSource(id, followed);
        return;
      }
      if (await followed.tail.poll()) followed.dirty = true;
      const newest = Math.max(...stats.map((stat) => stat?.mtimeMs ?? 0));
      const live = Date.now() - newest < LIVE_MS;
      if (live !== followed.live) {
        followed.live = live;
        followed.stale = true;
      }
      const due = Date.now() - followed.diagnosedAt >= Math.max(this.settings.pollIntervalMs, DIAGNOSIS_DUTY * followed.diagnosisMs);
      if (followed.dirty && due) this.diagnose(followed);
      if (followed.stale) this.publish(followed);
      followed.lastError = undefined;
    } catch (error) {
      // Reported once per distinct problem, not at every poll.
      const problem = `could not read ${followed.spec.source.path}: ${errorMessage(error)}`;
      if (problem !== followed.lastError) this.send({ type: 'log', level: 'warn', message: problem });
      followed.lastError = problem;
    }
  }

  /** Every file of the run is gone: so is the run, whoever asked for it. */
  private forgetSource(id: string, followed: Followed): void {
    for (const claims of this.claims.values()) claims.delete(id);
    this.unfollow(id, followed);
  }

  private diagnose(followed: Followed): void {
    const started = performance.now();
    const options = { warnThreshold: this.settings.warnThreshold, alertThreshold: this.settings.alertThreshold };
    followed.diagnoses = new Map(followed.tail.runs().map((run) => [runKey(run), diagnose(run, options)]));
    followed.diagnosisMs = performance.now() - started;
    followed.diagnosedAt = Date.now();
    followed.dirty = false;
    followed.stale = true;
  }

  /** Tells the host what changed about a run source's runs: summaries of those it lists, and which went. */
  private publish(followed: Followed): void {
    const summaries: RunSummary[] = [];
    const shown = new Set<string>();
    for (const run of followed.tail.runs()) {
      const key = runKey(run);
      const diagnosis = followed.diagnoses.get(key);
      if (!diagnosis || (diagnosis.steps === 0 && !followed.placement.showEmpty)) continue;
      shown.add(key);
      summaries.push(this.summary(run, diagnosis, followed));
    }
    const gone = [...followed.shown].filter((key) => !shown.has(key));
    followed.shown = shown;
    followed.stale = false;
    if (gone.length > 0) this.send({ type: 'removed', keys: gone });
    if (summaries.length > 0) this.send({ type: 'runs', runs: summaries });
  }

  private summary(run: Run, diagnosis: Diagnosis, followed: Followed): RunSummary {
    const { placement } = followed;
    return {
      key: runKey(run),
      label: placement.name + rankSuffix(run),
      title: placement.title + rankSuffix(run),
      group: placement.group,
      path: run.path,
      ...(run.stream !== undefined ? { stream: run.stream } : {}),
      format: run.format,
      status: runStatus(diagnosis),
      live: followed.live,
      steps: diagnosis.steps,
      diagnosis,
      origin: placement.origin,
      warnings: warningLines(run),
      hyperparameters: statedHyperparameters(run),
    };
  }

  private dashboardMessage(request: Extract<HostToLogs, { type: 'dashboardMessage' }>): DashboardMessageReply {
    if (request.kind === 'update') {
      if (request.keys.length !== 1) throw new Error(`an update carries one run, not ${request.keys.length}`);
      const { run, diagnosis, live, edition } = this.shownRun(request.keys[0]);
      const { message, cursor } = runChange(run, diagnosis, live, edition, request.since);
      return { text: encodeWire(message), cursors: { [request.keys[0]]: cursor }, unreadable: [] };
    }
    const runs: RunPayload[] = [];
    const cursors: Record<string, RunCursor> = {};
    const unreadable: Array<{ key: string; message: string }> = [];
    for (const key of request.keys) {
      try {
        const { run, diagnosis, live, edition } = this.shownRun(key);
        const { message, cursor } = runChange(run, diagnosis, live, edition);
        if (message.type === 'update') runs.push(message.run);
        cursors[key] = cursor;
      } catch (error) {
        unreadable.push({ key, message: errorMessage(error) });
      }
    }
    const message: HostToDashboard = { type: 'show', runs, ...(request.focus ? { focus: request.focus } : {}) };
    return { text: encodeWire(message), cursors, unreadable };
  }

  /** A listed run as it is now (diagnosed again first if data came in), named as the host lists it. */
  private shownRun(key: string): { run: Run; diagnosis: Diagnosis; live: boolean; edition: string } {
    for (const followed of this.followed.values()) {
      if (!followed.shown.has(key)) continue;
      if (followed.dirty) {
        this.diagnose(followed);
        this.publish(followed);
      }
      const run = followed.tail.runs().find((r) => runKey(r) === key);
      const diagnosis = followed.diagnoses.get(key);
      if (!run || !diagnosis) break;
      return { run: { ...run, id: followed.placement.title + rankSuffix(run) }, diagnosis, live: followed.live, edition: followed.tail.edition() };
    }
    throw new Error(`no run ${key} is followed`);
  }
}
