/**
 * Gradient histograms over time (TensorBoard histogram summaries): for the
 * chosen parameter, value buckets × steps, colour = log10 of the count. Each
 * logged histogram's buckets are spread over common value bins, so steps
 * line up even when TensorBoard chose different bucket edges.
 */
import type { RunPayload } from '../../protocol/dashboard';
import { HeatMap, type HeatRow } from '../charts/heat-map';
import { formatNumber } from '../charts/scale';
import type { StepAxis } from '../charts/x-axis';
import { el, section } from './dom';

type HistogramSeries = RunPayload['histograms'][number];

const BINS = 32;

export class Histograms {
  readonly root: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly map: HeatMap;
  private series: HistogramSeries[] = [];

  constructor(
    axis: StepAxis,
    private readonly choose: (tag: string) => void,
  ) {
    this.select = el('select', { attrs: { 'aria-label': 'Histogram shown' }, onChange: () => this.choose(this.select.value) });
    const { root, body } = section(
      'histograms',
      'Gradient histograms over time',
      el('div', { className: 'section-tools' }, el('label', {}, 'Parameter ', this.select)),
      el('p', { className: 'hint-text' }, 'Rows are gradient values (largest at the top), columns are steps; the colour is the log10 of how many entries fell in the bucket.'),
    );
    this.root = root;
    this.map = new HeatMap(body, { axis, name: 'Gradient histogram over steps (colour: log10 of the count)', valueName: 'count', zeroIsEmpty: true, rowHeight: 8, className: 'chart-histogram' });
  }

  /** Shows the run's histograms; hidden when it has none. */
  dispose(): void {
    this.map.dispose();
  }

  update(run: RunPayload, chosen: string | null): void {
    this.series = run.histograms.filter((h) => h.steps.length > 0);
    this.root.hidden = this.series.length === 0;
    if (this.series.length === 0) return;
    const current = this.series.find((h) => h.tag === chosen) ?? this.series[0];
    this.select.replaceChildren(...this.series.map((h) => Object.assign(el('option', {}, h.param ?? h.tag), { value: h.tag, selected: h === current })));
    this.map.set(rebin(current));
  }
}

/** Rows of value bins (largest value first) with one count per logged step. */
function rebin(series: HistogramSeries): HeatRow[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const h of series.histograms) {
    if (Number.isFinite(h.min)) lo = Math.min(lo, h.min);
    if (Number.isFinite(h.max)) hi = Math.max(hi, h.max);
  }
  if (!(hi >= lo)) return [];
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / BINS;
  const binOf = (v: number): number => Math.min(BINS - 1, Math.max(0, Math.floor((v - lo) / width)));
  const steps = Float64Array.from(series.steps);
  const rows = Array.from({ length: BINS }, () => new Float64Array(steps.length));
  series.histograms.forEach((h, j) => {
    for (let i = 0; i < h.counts.length; i++) {
      const count = h.counts[i];
      if (!(count > 0)) continue;
      // Bucket i holds (limits[i-1], limits[i]]; the outer buckets reach to ±1e308, so clamp to the histogram's min and max.
      const a = Math.max(h.min, i === 0 ? h.min : h.limits[i - 1]);
      const b = Math.min(h.max, h.limits[i]);
      if (!(b > a)) {
        rows[binOf(Math.min(Math.max(a, h.min), h.max))][j] += count;
        continue;
      }
      for (let k = binOf(a); k <= binOf(b); k++) {
        const overlap = Math.min(b, lo + (k + 1) * width) - Math.max(a, lo + k * width);
        if (overlap > 0) rows[k][j] += (count * overlap) / (b - a);
      }
    }
  });
  return rows.map((values, k) => ({ label: `${formatNumber(lo + k * width)} … ${formatNumber(lo + (k + 1) * width)}`, steps, values })).reverse();
}
