/**
 * A workspace of 1,000 runs (test/e2e/prepare.mjs writes test/sweep-folder.ts's
 * sweep folder, mixed JSON lines, CSV, TensorBoard and trainer_state.json): the
 * Runs view and the sweep table (opened as the listing begins) list them all with
 * their statuses, the table sorts by max gradient norm with the exploding runs
 * first and follows a run that goes non-finite, and a row opens its run's dashboard. Throughout, the
 * extension host's thread (this one: the tests run in it) is watched for
 * blocks: a timer every 10 ms that fires late means the thread was busy.
 */
import * as assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { canInspect, gradlens, inspect, waitFor, workspacePath } from './helpers';

const RUNS = 1000;
/** Every twentieth run of test/sweep-folder.ts explodes. */
const EXPLODING = RUNS / 20;
/** The goal: the host's thread never busy for longer at a time. Asserted at ten times that, so a slow machine does not fail it. */
const BLOCK_GOAL_MS = 50;
/** bench:sweep lists 1,000 runs in 3.4–5.6 s (goal 10 s); asserted at ten times the goal. */
const LISTED_BOUND_MS = 100_000;
const RESOLUTION_MS = 10;

/** The longest the thread was busy at once since `reset`: how late the latest-firing 10 ms tick was. */
function blockProbe(): { maxBlockMs(): number; reset(): void; stop(): void } {
  const delays = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delays.enable();
  return { maxBlockMs: () => Math.max(0, delays.max / 1e6 - RESOLUTION_MS), reset: () => delays.reset(), stop: () => delays.disable() };
}

const probe = blockProbe();
const blocks: string[] = [];

/** Records the longest block of a phase and starts the next one. */
function endPhase(phase: string): number {
  const ms = probe.maxBlockMs();
  blocks.push(`${phase}: ${ms.toFixed(0)} ms`);
  probe.reset();
  return ms;
}

const SUMMARY = `1,000 runs: ${EXPLODING} exploding, ${RUNS - EXPLODING} healthy`;
/** A row's status cell: the second, after the run's name. */
const STATUS_CELLS = 'table.sweep-table tbody tr:not(.spacer) > :nth-child(2)';

const sweepText = (names: Record<string, string>, click?: { selector: string; text?: string }) => inspect({ frame: 'sweep', text: names, ...(click ? { click } : {}) });

describe('a sweep of 1,000 runs', function () {
  this.timeout(300_000);

  after(() => {
    probe.stop();
    console.log(`      longest block of the extension host's thread, per phase (goal ${BLOCK_GOAL_MS} ms): ${blocks.join('; ')}`);
  });

  it('lists every run in the Runs view and the sweep table as they are read, the thread never blocked long', async function () {
    const api = await gradlens();
    // From here on: loading and activating the extension is behind, the listing has just begun.
    probe.reset();
    await vscode.commands.executeCommand('gradlens.runs.focus');
    await vscode.commands.executeCommand('gradlens.openSweepTable');
    const statuses = () => {
      const runs = api.runs();
      return runs.length === RUNS && runs.every((run) => run.status !== 'empty') ? runs : undefined;
    };
    const waited = Date.now();
    const runs = await waitFor(`${RUNS} runs with their statuses`, statuses, LISTED_BOUND_MS, () => `${api.runs().length} runs`);
    // The extension host started with the window; GradLens activated with it and began listing on its next tick.
    console.log(`      ${RUNS} runs listed with their statuses ${process.uptime().toFixed(1)} s after the extension host started, ${((Date.now() - waited) / 1000).toFixed(1)} s after GradLens was first asked for its API`);
    assert.equal(runs.filter((run) => run.status === 'exploding').length, EXPLODING);
    assert.equal(runs.filter((run) => run.status === 'healthy').length, RUNS - EXPLODING);
    const block = endPhase('listing 1,000 runs, the sweep table open');
    // VS Code's built-in extensions activate in the same thread while the listing starts (175–386 ms of module loading in
    // profiles, BENCHMARKS 'Many runs in VS Code'): this phase is bounded at 20× the goal, the others at 10×.
    assert.ok(block < BLOCK_GOAL_MS * 20, `the host's thread was blocked for ${block.toFixed(0)} ms at once while the runs were listed`);
    // A group per run folder and the run in it; read after the phase, since drawing every row for the test is the test's own work.
    const rows = api.runsView();
    assert.equal(rows.filter((row) => row.group !== undefined).length, RUNS);
    assert.equal(rows.filter((row) => row.icon === 'flame').length, EXPLODING);
    probe.reset();
    if (!canInspect()) this.skip();
    await waitFor('the sweep table to list every run', async () => {
      const page = await sweepText({ summary: '.sweep-summary', rows: 'table.sweep-table tbody tr:not(.spacer)' });
      return page.found && page.text.summary[0] === SUMMARY && page.text.rows.length > 20 ? page : undefined;
    }, 30_000, () => SUMMARY);
  });

  it('sorts the exploding runs first by max gradient norm, and follows a run that goes non-finite', async function () {
    if (!canInspect()) this.skip();
    const sorted = await sweepText({ status: STATUS_CELLS, sort: 'th[aria-sort="descending"]' }, { selector: 'button.sort', text: 'Max gradient norm' });
    assert.deepEqual(sorted.text.sort, ['Max gradient norm ▼']);
    const drawn = sorted.text.status;
    const top = drawn.slice(0, Math.min(EXPLODING, drawn.length));
    assert.ok(top.length > 20 && top.every((status) => status.startsWith('exploding')), `the exploding runs come first: ${drawn.join(', ')}`);
    await vscode.commands.executeCommand('workbench.action.closeAuxiliaryBar');
    await inspect({ frame: 'workbench', screenshot: 'vscode-sweep.png' });

    // Run lr-4 (JSON lines, healthy) trains on into NaN.
    appendFileSync(workspacePath('sweep', 'lr-4', 'grads.jsonl'), [300, 301].map((step) => `{"step": ${step}, "loss": NaN, "grad_norm": NaN, "lr": 0.01}`).join('\n') + '\n');
    const nonfinite = `1,000 runs: 1 non-finite, ${EXPLODING} exploding, ${RUNS - EXPLODING - 1} healthy`;
    await waitFor('the table to follow the new status', async () => ((await sweepText({ summary: '.sweep-summary' })).text.summary[0] === nonfinite ? true : undefined), 30_000);
    const byStatus = await sweepText({ run: 'table.sweep-table tbody tr:not(.spacer) > th', status: STATUS_CELLS }, { selector: 'button.sort', text: 'Status' });
    assert.equal(byStatus.text.run[0], 'sweep/lr-4/grads.jsonl', 'the worst status first');
    assert.match(byStatus.text.status[0], /^non-finite● live/);
    const block = endPhase('a run going non-finite');
    assert.ok(block < BLOCK_GOAL_MS * 10, `the host's thread was blocked for ${block.toFixed(0)} ms at once`);
  });

  it("opens a row's run in the dashboard", async function () {
    if (!canInspect()) this.skip();
    const api = await gradlens();
    const first = await sweepText({ run: 'table.sweep-table tbody tr:not(.spacer) > th' });
    const title = first.text.run[0];
    assert.equal(api.runs().find((r) => r.title === title)?.status, 'nonfinite', `the first row (${title}) is the run that went non-finite`);
    await sweepText({}, { selector: 'table.sweep-table tbody tr:not(.spacer)' });
    await waitFor(`the dashboard of ${title}`, () =>
      vscode.window.tabGroups.all.flatMap((group) => group.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('gradlens.dashboard') && t.label === `GradLens: ${title}`),
    );
    const header = await waitFor('the dashboard to draw the run', async () => {
      const page = await inspect({ frame: 'dashboard', text: { title: '.header h1' } });
      return page.found && page.text.title.length > 0 ? page.text.title[0] : undefined;
    });
    // The dashboard names a run as the Runs view titles it.
    assert.equal(header, title);
    const block = endPhase('a dashboard opened from the table');
    assert.ok(block < BLOCK_GOAL_MS * 10, `the host's thread was blocked for ${block.toFixed(0)} ms at once`);
  });
});
