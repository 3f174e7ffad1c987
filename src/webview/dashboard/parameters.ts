/**
 * Per-parameter view: the heat map (parameters × steps, colour = log10 of the
 * gradient norm) and the problematic-parameters table, sortable by any column
 * with the mouse or the keyboard. Choosing a row or a heat-map row selects
 * that parameter in both.
 */
import type { ParameterSummary } from '../../diagnosis/types';
import { HeatMap } from '../charts/heat-map';
import { formatNumber, formatPercent } from '../charts/scale';
import type { StepAxis } from '../charts/x-axis';
import { el, present, section } from './dom';
import type { RunModel } from './model';
import { compareSortValues } from './sort';
import type { ParameterColumn, ViewState } from './state';

interface Column {
  key: ParameterColumn;
  label: string;
  text(p: ParameterSummary): string;
}

const dash = (v: number | null, format: (n: number) => string = formatNumber): string => (v === null ? '—' : format(v));

const COLUMNS: readonly Column[] = [
  { key: 'name', label: 'Parameter', text: (p) => p.name },
  { key: 'maxNorm', label: 'Max norm', text: (p) => dash(p.maxNorm) },
  { key: 'maxStep', label: 'At step', text: (p) => dash(p.maxStep, String) },
  { key: 'medianNorm', label: 'Median', text: (p) => dash(p.medianNorm) },
  { key: 'nanSteps', label: 'NaN steps', text: (p) => String(p.nanSteps) },
  { key: 'infSteps', label: 'Inf steps', text: (p) => String(p.infSteps) },
  { key: 'firstBadStep', label: 'First bad step', text: (p) => dash(p.firstBadStep, String) },
  { key: 'shareAtPeak', label: 'Share at peak', text: (p) => dash(p.shareAtPeak, formatPercent) },
];

export interface ParameterEvents {
  select(name: string | null): void;
  sort(sort: ViewState['sort']): void;
}

export class Parameters {
  readonly root: HTMLElement;
  private readonly heatMap: HeatMap;
  private readonly heatNote: HTMLElement;
  private readonly table: HTMLTableElement;
  private parameters: ParameterSummary[] = [];
  private selected: string | null = null;
  private sort: ViewState['sort'] = null;

  constructor(
    axis: StepAxis,
    private readonly events: ParameterEvents,
  ) {
    this.heatNote = el('p', { className: 'hint-text' });
    this.table = el('table', { className: 'parameters' });
    const { root, body } = section('parameters', 'Parameters', this.heatNote);
    this.root = root;
    this.heatMap = new HeatMap(body, { axis, name: 'Gradient norm per parameter and step (colour: log10 of the norm)', valueName: 'norm', className: 'chart-heat' });
    this.heatMap.onRowClick = (name) => this.events.select(name === this.selected ? null : name);
    body.append(el('h3', {}, 'Problematic parameters'), el('div', { className: 'table-scroll' }, this.table));
  }

  dispose(): void {
    this.heatMap.dispose();
  }

  update(model: RunModel, view: ViewState): void {
    this.parameters = model.run.diagnosis.parameters;
    this.sort = view.sort;
    this.selected = view.param;
    const rows = model.parameters.map((p) => ({ label: p.name, steps: p.series.steps, values: p.series.values }));
    this.heatMap.element.hidden = rows.length === 0;
    this.heatMap.set(rows);
    this.heatMap.highlight(this.selected);
    this.heatNote.textContent =
      rows.length === 0
        ? 'This log has no per-parameter gradient norms: log them (the GradLens logger does) to see which layer explodes first.'
        : 'Each row is one parameter, each column one step; the colour is the log10 of its gradient norm (scale on the right). NaN and Inf have their own colour. Click a row to select the parameter.';
    this.renderTable();
  }

  select(name: string | null): void {
    this.selected = name;
    this.heatMap.highlight(name);
    for (const row of this.table.tBodies[0]?.rows ?? []) {
      const on = row.dataset.param === name;
      row.classList.toggle('selected', on);
      row.setAttribute('aria-selected', String(on));
      if (on) row.scrollIntoView({ block: 'nearest' });
    }
  }

  setSort(sort: ViewState['sort']): void {
    this.sort = sort;
    this.renderTable();
  }

  private renderTable(): void {
    const head = el(
      'tr',
      {},
      ...COLUMNS.map((c) => {
        const active = this.sort?.column === c.key;
        const direction = active ? (this.sort?.descending ? 'descending' : 'ascending') : 'none';
        const button = el(
          'button',
          { type: 'button', className: 'sort', title: `Sort by ${c.label.toLowerCase()}`, onClick: () => this.events.sort(this.nextSort(c.key)) },
          c.label,
          el('span', { className: 'sort-arrow', attrs: { 'aria-hidden': 'true' } }, active ? (this.sort?.descending ? ' ▼' : ' ▲') : ''),
        );
        return el('th', { attrs: { scope: 'col', 'aria-sort': direction }, className: c.key === 'name' ? '' : 'numeric' }, button);
      }),
    );
    const body = el(
      'tbody',
      {},
      ...sortedParameters(this.parameters, this.sort).map((p) => {
        const selected = p.name === this.selected;
        const choose = (): void => this.events.select(selected ? null : p.name);
        const row = el(
          'tr',
          {
            tabIndex: 0,
            className: selected ? 'selected' : '',
            attrs: { 'aria-selected': String(selected) },
            onClick: choose,
            onKeydown: (e) => {
              if (e.key !== 'Enter' && e.key !== ' ') return;
              e.preventDefault();
              choose();
            },
          },
          ...COLUMNS.map((c) => (c.key === 'name' ? el('th', { attrs: { scope: 'row' } }, c.text(p)) : el('td', { className: 'numeric' }, c.text(p)))),
        );
        row.dataset.param = p.name;
        return row;
      }),
    );
    const empty = this.parameters.length === 0 ? el('caption', {}, 'No per-parameter gradient norms in this log.') : null;
    this.table.replaceChildren(...present([empty, el('thead', {}, head), body]));
  }

  /** A new column sorts worst first (names A→Z); the same column again flips; a third time returns to the diagnosis's order. */
  private nextSort(column: ParameterColumn): ViewState['sort'] {
    const firstDescending = column !== 'name';
    if (this.sort?.column !== column) return { column, descending: firstDescending };
    if (this.sort.descending === firstDescending) return { column, descending: !firstDescending };
    return null;
  }
}

function sortedParameters(parameters: ParameterSummary[], sort: ViewState['sort']): ParameterSummary[] {
  if (!sort) return parameters;
  const { column, descending } = sort;
  return [...parameters].sort((a, b) => compareSortValues(a[column], b[column], descending));
}
