/**
 * The sweep table: many runs at once, one row each (status, steps, the
 * largest gradient norm and its step, the first non-finite step, the final
 * loss, and a column per hyperparameter some run states), sortable by any
 * column with the mouse or the keyboard. The host sends every row on
 * 'show', then only the rows that changed; choosing a row asks the host to
 * open that run's dashboard. Log text is only ever set as text.
 * SORT_MEASURE (marks.ts) times each ordering of the rows, for tests.
 */
import { HYPERPARAMETER_LABELS } from '../../logs/hyperparameters';
import { RUN_STATUS_RANK, RUN_STATUS_WORDS, statusCounts } from '../../protocol/dashboard';
import { hostToSweepSchema, sweepStateSchema, type HostToSweep, type SweepRow, type SweepState, type SweepToHost } from '../../protocol/sweep';
import { formatNumber } from '../charts/scale';
import { el } from '../dashboard/dom';
import { compareSortValues, type SortValue } from '../dashboard/sort';
import { connectToHost } from '../host';
import { SORT_MEASURE } from './marks';

/** Worst first when sorted descending. */

interface Column {
  id: string;
  label: string;
  numeric: boolean;
  value(row: SweepRow): SortValue;
  cell(row: SweepRow): Node | string;
}

const blankOr = (value: number | null, format: (n: number) => string = String): string => (value === null ? '' : format(value));

function statusCell(row: SweepRow): Node {
  const status = el('span', { className: `status status-${row.status}` }, RUN_STATUS_WORDS[row.status]);
  return row.live ? el('span', {}, status, el('span', { className: 'live' }, '● live')) : status;
}

const FIXED_COLUMNS: readonly Column[] = [
  { id: 'run', label: 'Run', numeric: false, value: (r) => r.run, cell: (r) => r.run },
  { id: 'status', label: 'Status', numeric: false, value: (r) => RUN_STATUS_RANK[r.status], cell: statusCell },
  { id: 'steps', label: 'Steps', numeric: true, value: (r) => r.steps, cell: (r) => String(r.steps) },
  { id: 'maxNorm', label: 'Max gradient norm', numeric: true, value: (r) => r.maxNorm, cell: (r) => blankOr(r.maxNorm, formatNumber) },
  { id: 'maxNormStep', label: 'At step', numeric: true, value: (r) => r.maxNormStep, cell: (r) => blankOr(r.maxNormStep) },
  { id: 'firstNonFiniteStep', label: 'First non-finite step', numeric: true, value: (r) => r.firstNonFiniteStep, cell: (r) => blankOr(r.firstNonFiniteStep) },
  { id: 'finalLoss', label: 'Final loss', numeric: true, value: (r) => r.finalLoss, cell: (r) => blankOr(r.finalLoss, formatNumber) },
];

const LABELS: Record<string, string> = HYPERPARAMETER_LABELS;
const KNOWN_ORDER = Object.keys(HYPERPARAMETER_LABELS);

/** A column per hyperparameter some row states: the known ones in their order, any other after them by name. */
function hyperparameterColumns(rows: Iterable<SweepRow>): Column[] {
  const keys = new Set<string>();
  for (const row of rows) for (const key of Object.keys(row.hyperparameters)) keys.add(key);
  const position = (key: string): number => (KNOWN_ORDER.includes(key) ? KNOWN_ORDER.indexOf(key) : KNOWN_ORDER.length);
  return [...keys]
    .sort((a, b) => position(a) - position(b) || a.localeCompare(b))
    .map((key) => ({
      id: `hp:${key}`,
      label: LABELS[key] ?? key,
      numeric: true,
      value: (r) => r.hyperparameters[key],
      cell: (r) => {
        const value = r.hyperparameters[key];
        return typeof value === 'number' ? formatNumber(value) : (value ?? '');
      },
    }));
}

export function startSweep(root: HTMLElement): void {
  const host = connectToHost<HostToSweep, SweepToHost>(hostToSweepSchema);
  const table = new SweepTable(root, sweepStateSchema.parse(host.getState())?.sort ?? null, {
    open: (key) => host.post({ type: 'openRun', key }),
    sorted: (sort) => host.setState({ sort } satisfies SweepState),
  });
  host.onMessage((message) => (message.type === 'show' ? table.show(message.title, message.rows) : table.change(message.rows, message.removed)));
  host.post({ type: 'ready' });
}

interface SweepEvents {
  open(key: string): void;
  sorted(sort: SweepState['sort']): void;
}

interface Listed {
  row: SweepRow;
  /** Made when the row is first drawn, refilled when its data or the columns changed. */
  tr?: HTMLTableRowElement;
  stale: boolean;
}

/** Rows drawn beyond each edge of the visible window, so a short scroll shows rows already drawn. */
const OVERSCAN = 10;

/**
 * Only the rows in view (and OVERSCAN either side) are in the document,
 * between two spacer rows that keep the scroll height of all of them: a
 * thousand-row table lays out, sorts and updates as fast as a fifty-row one.
 * The table says its full size with aria-rowcount and each row its place
 * with aria-rowindex.
 */
class SweepTable {
  private readonly title = el('h1', {}, 'Sweep');
  private readonly summary = el('p', { className: 'sweep-summary', attrs: { 'aria-live': 'polite' } });
  private readonly head = el('thead');
  private readonly body = el('tbody');
  private readonly table = el('table', { className: 'sweep-table' }, this.head, this.body);
  private readonly scroller = el('div', { className: 'sweep-scroll' }, this.table);
  private readonly topSpacer = el('tr', { className: 'spacer', attrs: { 'aria-hidden': 'true' } });
  private readonly bottomSpacer = el('tr', { className: 'spacer', attrs: { 'aria-hidden': 'true' } });
  /** In the host's order (the Runs view's), which an unsorted table keeps. */
  private readonly listed = new Map<string, Listed>();
  /** Every row, in the order shown. */
  private shown: Listed[] = [];
  private columns: Column[] = [...FIXED_COLUMNS];
  private rowHeight = 0;
  private frame = 0;

  constructor(
    root: HTMLElement,
    private sort: SweepState['sort'],
    private readonly events: SweepEvents,
  ) {
    root.classList.add('dashboard', 'sweep');
    root.replaceChildren(this.title, this.summary, this.scroller);
    this.scroller.addEventListener('scroll', () => this.scheduleDraw());
    window.addEventListener('resize', () => {
      // A new zoom level or font can change the rows' height.
      this.rowHeight = 0;
      this.scheduleDraw();
    });
    this.renderHead();
  }

  show(title: string, rows: SweepRow[]): void {
    this.title.textContent = title;
    this.listed.clear();
    this.shown = [];
    this.change(rows, []);
  }

  change(rows: SweepRow[], removed: string[]): void {
    for (const key of removed) this.listed.delete(key);
    for (const row of rows) {
      const listed = this.listed.get(row.key);
      if (listed) {
        listed.row = row;
        listed.stale = true;
      } else this.listed.set(row.key, { row, stale: true });
    }
    const columns = [...FIXED_COLUMNS, ...hyperparameterColumns([...this.listed.values()].map((l) => l.row))];
    if (columns.length !== this.columns.length || columns.some((c, i) => c.id !== this.columns[i].id)) {
      this.columns = columns;
      this.renderHead();
      for (const listed of this.listed.values()) listed.stale = true;
    }
    this.renderSummary();
    this.order();
  }

  private rowElement(key: string): HTMLTableRowElement {
    const open = (): void => this.events.open(key);
    const tr = el('tr', {
      tabIndex: 0,
      title: 'Open this run in the dashboard',
      onClick: open,
      onKeydown: (e) => {
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          this.focusRow(this.shown.findIndex((l) => l.row.key === key) + (e.key === 'ArrowDown' ? 1 : -1));
        } else if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      },
    });
    tr.dataset.key = key;
    return tr;
  }

  /** The row element of a listed run, made or refilled if need be. */
  private rowOf(listed: Listed): HTMLTableRowElement {
    listed.tr ??= this.rowElement(listed.row.key);
    if (listed.stale) {
      const { row, tr } = listed;
      tr.dataset.status = row.status;
      tr.replaceChildren(...this.columns.map((c) => (c.id === 'run' ? el('th', { attrs: { scope: 'row' } }, c.cell(row)) : el('td', { className: c.numeric ? 'numeric' : '' }, c.cell(row)))));
      listed.stale = false;
    }
    return listed.tr;
  }

  private renderHead(): void {
    const cells = this.columns.map((c) => {
      const active = this.sort?.column === c.id;
      const direction = active ? (this.sort?.descending ? 'descending' : 'ascending') : 'none';
      const button = el(
        'button',
        { type: 'button', className: 'sort', title: `Sort by ${c.label}`, onClick: () => this.sortBy(c) },
        c.label,
        el('span', { className: 'sort-arrow', attrs: { 'aria-hidden': 'true' } }, active ? (this.sort?.descending ? ' ▼' : ' ▲') : ''),
      );
      return el('th', { attrs: { scope: 'col', 'aria-sort': direction }, className: c.numeric ? 'numeric' : '' }, button);
    });
    this.head.replaceChildren(el('tr', { attrs: { 'aria-rowindex': '1' } }, ...cells));
    const spacers = [this.topSpacer, this.bottomSpacer];
    for (const spacer of spacers) spacer.replaceChildren(el('td', { attrs: { colspan: String(this.columns.length) } }));
  }

  /** A new column sorts worst (largest) first, runs A→Z; the same column again flips. */
  private sortBy(column: Column): void {
    this.sort = this.sort?.column === column.id ? { column: column.id, descending: !this.sort.descending } : { column: column.id, descending: column.id !== 'run' };
    this.renderHead();
    this.order();
    this.events.sorted(this.sort);
    // Keyboard focus stays on the header just activated (renderHead made new buttons).
    const index = this.columns.findIndex((c) => c.id === column.id);
    this.head.querySelectorAll('button')[index]?.focus();
  }

  /** Puts every row in the sorted order (the host's when unsorted) and draws the window. Ties keep the order shown before, so sorting by one column and then another sorts by both. */
  private order(): void {
    const started = performance.now();
    const column = this.columns.find((c) => c.id === this.sort?.column);
    if (column && this.sort) {
      const { descending } = this.sort;
      const kept = this.shown.filter((l) => this.listed.get(l.row.key) === l);
      const keptSet = new Set(kept);
      const keyed = [...kept, ...[...this.listed.values()].filter((l) => !keptSet.has(l))].map((l) => ({ l, value: column.value(l.row) }));
      keyed.sort((a, b) => compareSortValues(a.value, b.value, descending));
      this.shown = keyed.map((k) => k.l);
    } else this.shown = [...this.listed.values()];
    this.table.setAttribute('aria-rowcount', String(this.shown.length + 1));
    this.draw();
    performance.measure(SORT_MEASURE, { start: started, end: performance.now() });
  }

  private scheduleDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** The rows in view and OVERSCAN either side, between spacers as tall as the rows left out. */
  private draw(): void {
    const height = this.rowHeight || 24;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / height) - OVERSCAN);
    // The scroller is never taller than the page's view (and is short while it is still empty).
    const count = Math.ceil(window.innerHeight / height) + 2 * OVERSCAN;
    const visible = this.shown.slice(first, first + count);
    const rows = visible.map((listed, i) => {
      const tr = this.rowOf(listed);
      tr.setAttribute('aria-rowindex', String(first + i + 2));
      return tr;
    });
    this.topSpacer.style.height = `${first * height}px`;
    this.bottomSpacer.style.height = `${Math.max(0, this.shown.length - first - visible.length) * height}px`;
    this.body.replaceChildren(this.topSpacer, ...rows, this.bottomSpacer);
    // Rows are as tall as the theme's font makes them: measured when first drawn (which lays the table out at once), then drawn again with it.
    if (this.rowHeight === 0 && rows.length > 0) {
      this.rowHeight = rows[0].getBoundingClientRect().height;
      if (Math.abs(this.rowHeight - height) > 0.5) this.scheduleDraw();
    }
  }

  /** Moves keyboard focus to the row at this place in the order, scrolling it into view. */
  private focusRow(index: number): void {
    const listed = this.shown[index];
    if (!listed) return;
    const height = this.rowHeight || 24;
    const top = index * height;
    const view = this.scroller.clientHeight - (this.head.getBoundingClientRect().height || height);
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + height > this.scroller.scrollTop + view) this.scroller.scrollTop = top + height - view;
    this.draw();
    this.rowOf(listed).focus();
  }

  private renderSummary(): void {
    const byWorst = statusCounts([...this.listed.values()].map(({ row }) => row.status));
    const runs = this.listed.size;
    this.summary.textContent =
      runs === 0 ? 'No runs to list yet.' : `${runs.toLocaleString('en-US')} run${runs === 1 ? '' : 's'}: ${byWorst.map(([status, n]) => `${n.toLocaleString('en-US')} ${RUN_STATUS_WORDS[status]}`).join(', ')}`;
  }
}
