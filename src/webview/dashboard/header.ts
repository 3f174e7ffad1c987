/**
 * The top of the dashboard: what is shown (run, format, status, live), the
 * numbers that answer "did the gradients blow up?", and the actions. With
 * several runs, a table compares them.
 */
import { RUN_STATUS_WORDS, type RunStatus } from '../../protocol/dashboard';
import { FORMAT_NAMES, WRITER_NAMES } from '../../report/summary';
import { formatNumber, formatPercent, formatStep } from '../charts/scale';
import { SERIES_COLORS } from '../charts/theme';
import { el } from './dom';
import { stepSpan, type RunModel } from './model';

/** What the header's buttons do; absent actions (a standalone report) get no button. */
export interface HeaderActions {
  openLog?(key: string): void;
  exportReport?(): void;
}

function statusBadge(status: RunStatus): HTMLElement {
  return el('span', { className: `status status-${status}` }, RUN_STATUS_WORDS[status]);
}

function liveBadge(): HTMLElement {
  return el('span', { className: 'live', title: 'The log is still growing; the dashboard follows it.' }, '● live');
}

function spanText(m: RunModel): string {
  const span = stepSpan(m);
  return span ? `steps ${formatStep(span[0])}–${formatStep(span[1])}` : 'no steps';
}

export function renderHeader(models: RunModel[], actions: HeaderActions): HTMLElement {
  const compare = models.length > 1;
  const buttons = el(
    'div',
    { className: 'actions' },
    !compare && actions.openLog ? el('button', { type: 'button', className: 'secondary', onClick: () => actions.openLog?.(models[0].run.key) }, 'Open log') : null,
    actions.exportReport ? el('button', { type: 'button', className: 'export', onClick: () => actions.exportReport?.() }, 'Export report') : null,
  );
  if (compare) {
    return el('header', { className: 'header' }, el('div', { className: 'title-row' }, el('h1', {}, `Comparing ${models.length} runs`), buttons), compareTable(models));
  }
  const m = models[0];
  const run = m.run;
  const d = run.diagnosis;
  const meta = el(
    'p',
    { className: 'meta' },
    statusBadge(run.status),
    run.live ? liveBadge() : null,
    el('span', {}, FORMAT_NAMES[run.format]),
    el('span', {}, `${d.steps.toLocaleString('en-US')} logged steps, ${spanText(m)}`),
    el('span', { className: 'path', title: run.path }, run.stream === undefined ? run.path : `${run.path} (${run.stream})`),
  );
  const facts: Array<[string, string]> = [
    ['max gradient norm', d.gradNorm.max === null ? '—' : `${formatNumber(d.gradNorm.max)} at step ${d.gradNorm.maxStep}`],
    ['first non-finite step', d.gradNorm.firstNonFiniteStep === null ? 'none' : String(d.gradNorm.firstNonFiniteStep)],
    ['recommended clip threshold', d.threshold.recommended !== null ? formatNumber(d.threshold.recommended) : d.gradNorm.max !== null ? 'none: no stable stretch' : '—'],
    ['clipped steps', d.clippedFraction === null ? 'not logged' : formatPercent(d.clippedFraction)],
    ['written by', WRITER_NAMES[d.setup.writer]],
    ['loss first → last', d.loss.first === null ? 'not logged' : `${formatNumber(d.loss.first)} → ${d.loss.last === null ? '—' : formatNumber(d.loss.last)}`],
  ];
  return el(
    'header',
    { className: 'header' },
    el('div', { className: 'title-row' }, el('h1', {}, run.label), buttons),
    meta,
    el('dl', { className: 'facts' }, ...facts.map(([name, value]) => el('div', {}, el('dt', {}, name), el('dd', {}, value)))),
  );
}

function compareTable(models: RunModel[]): HTMLElement {
  const columns = ['Run', 'Status', 'Steps', 'Max norm', 'First non-finite step', 'Recommended threshold', 'Clipped'];
  const rows = models.map((m, i) => {
    const d = m.run.diagnosis;
    const color = SERIES_COLORS[i % SERIES_COLORS.length];
    return el(
      'tr',
      {},
      el('th', { attrs: { scope: 'row' } }, el('span', { className: `swatch swatch-line color-${color}`, attrs: { 'aria-hidden': 'true' } }), m.label, m.run.live ? liveBadge() : null),
      el('td', {}, statusBadge(m.run.status)),
      el('td', { className: 'numeric' }, spanText(m)),
      el('td', { className: 'numeric' }, d.gradNorm.max === null ? '—' : `${formatNumber(d.gradNorm.max)} @ ${d.gradNorm.maxStep}`),
      el('td', { className: 'numeric' }, d.gradNorm.firstNonFiniteStep === null ? 'none' : String(d.gradNorm.firstNonFiniteStep)),
      el('td', { className: 'numeric' }, d.threshold.recommended === null ? '—' : formatNumber(d.threshold.recommended)),
      el('td', { className: 'numeric' }, d.clippedFraction === null ? '—' : formatPercent(d.clippedFraction)),
    );
  });
  return el(
    'div',
    { className: 'table-scroll' },
    el('table', { className: 'compare' }, el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', { attrs: { scope: 'col' } }, c)))), el('tbody', {}, ...rows)),
  );
}
