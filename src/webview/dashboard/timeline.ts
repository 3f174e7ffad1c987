/**
 * The timeline: total gradient norm (log scale) with the thresholds, clipped
 * steps, spikes and the first non-finite step; loss and learning rate below,
 * on the same step axis. With several runs, each run is one colour.
 */
import { LineChart, type LineChartContent, type LineSeries, type Marker, type Threshold } from '../charts/line-chart';
import { positiveExtents } from '../charts/grown';
import { formatNumber, formatStep, type ScaleKind } from '../charts/scale';
import { SERIES_COLORS, type ColorName } from '../charts/theme';
import type { StepAxis, XRange } from '../charts/x-axis';
import { el, present, section } from './dom';
import type { RunModel, StepValues } from './model';
import { PolicyReplay } from './replay';

const LOSS_LOG_RATIO = 100;

export class Timeline {
  readonly root: HTMLElement;
  private readonly norm: LineChart;
  private readonly loss: LineChart;
  private readonly lr: LineChart;
  private readonly legend: HTMLElement;
  private readonly lossBlock: HTMLElement;
  private readonly lrBlock: HTMLElement;
  private readonly rangeText: HTMLElement;
  private readonly resetButton: HTMLButtonElement;
  private readonly replay: PolicyReplay;
  private normContent: LineChartContent = { series: [], markers: [], thresholds: [], shadings: [] };

  constructor(
    private readonly axis: StepAxis,
    afterNormDraw: () => void,
  ) {
    this.legend = el('ul', { className: 'legend', attrs: { 'aria-label': 'Legend' } });
    this.rangeText = el('span', { className: 'range-text' });
    this.resetButton = el('button', { type: 'button', className: 'secondary reset-zoom', onClick: () => axis.setRange(null) }, 'Reset zoom');
    const { root, body } = section(
      'timeline',
      'Gradient norm',
      el('div', { className: 'section-tools' }, this.rangeText, this.resetButton),
      el('p', { className: 'hint-text' }, 'Drag to zoom, shift-drag or the wheel with shift to pan, the wheel to zoom, double-click to reset. Zoom and pan apply to every chart.'),
      this.legend,
    );
    this.root = root;
    this.norm = new LineChart(body, { axis, name: 'Total gradient norm', y: 'log', className: 'chart-norm', afterDraw: afterNormDraw });
    this.lossBlock = el('div', { className: 'chart-block' }, el('h3', {}, 'Loss'));
    this.lrBlock = el('div', { className: 'chart-block' }, el('h3', {}, 'Learning rate'));
    this.replay = new PolicyReplay(() => this.drawNorm());
    body.append(this.replay.root, this.lossBlock, this.lrBlock);
    this.loss = new LineChart(this.lossBlock, { axis, name: 'Loss', y: 'linear', className: 'chart-loss' });
    this.lr = new LineChart(this.lrBlock, { axis, name: 'Learning rate', y: 'linear', className: 'chart-lr' });
    axis.onRangeChange((range) => this.showRange(range));
  }

  dispose(): void {
    for (const chart of [this.norm, this.loss, this.lr]) chart.dispose();
  }

  update(models: RunModel[], focusStep: number | null): void {
    const compare = models.length > 1;
    const colorOf = (i: number): ColorName => (compare ? SERIES_COLORS[i % SERIES_COLORS.length] : 'blue');
    const normSeries: LineSeries[] = [];
    models.forEach((m, i) => {
      if (m.totalNorm) normSeries.push(line(compare ? m.label : totalNormLabel(m), m.totalNorm, colorOf(i), compare ? colorOf(i) : 'error'));
    });
    const markers = compare ? models.flatMap((m, i) => firstNonFiniteMarker(m, colorOf(i))) : eventMarkers(models[0]);
    if (focusStep !== null) markers.push({ step: focusStep, color: 'focus', label: `step ${formatStep(focusStep)}` });
    const single = compare ? undefined : models[0];
    this.normContent = {
      series: normSeries,
      markers,
      thresholds: single ? thresholds(single) : [],
      shadings: single && single.clippedRanges.length > 0 ? [{ label: 'clipped', color: 'orange', ranges: single.clippedRanges }] : [],
    };
    this.replay.update(single);
    this.drawNorm();

    const lossSeries = models.flatMap((m, i) => [
      ...(m.loss ? [line(compare ? `${m.label} loss` : 'loss', m.loss, compare ? colorOf(i) : 'purple')] : []),
      ...(m.evalLoss ? [line(compare ? `${m.label} eval loss` : 'eval loss', m.evalLoss, compare ? colorOf(i) : 'orange', undefined, 1)] : []),
    ]);
    this.lossBlock.hidden = lossSeries.length === 0;
    this.loss.setYScale(lossScale(lossSeries));
    this.loss.set({ series: lossSeries, markers: focusStep !== null ? [{ step: focusStep, color: 'focus' }] : [] });

    const lrSeries = models.flatMap((m, i) => (m.lr ? [line(compare ? `${m.label} lr` : 'learning rate', m.lr, compare ? colorOf(i) : 'green')] : []));
    this.lrBlock.hidden = lrSeries.length === 0;
    this.lr.set({ series: lrSeries, markers: focusStep !== null ? [{ step: focusStep, color: 'focus' }] : [] });

    this.renderLegend(models, compare, colorOf);
    this.showRange(this.axis.range);
  }

  /** The norm chart, with the τ the policy replay's slider holds and the steps it would clip. */
  private drawNorm(): void {
    const preview = this.replay.preview();
    const content = this.normContent;
    this.norm.set(
      preview
        ? {
            ...content,
            // Under the thresholds in force, which stay visible where τ meets them.
            thresholds: [{ value: preview.tau, color: 'yellow', label: `τ ${formatNumber(preview.tau)}` }, ...content.thresholds],
            shadings: [...content.shadings, { label: `clipped at τ ${formatNumber(preview.tau)}`, color: 'yellow', ranges: preview.ranges }],
          }
        : content,
    );
  }

  private renderLegend(models: RunModel[], compare: boolean, colorOf: (i: number) => ColorName): void {
    const item = (color: ColorName, kind: 'line' | 'band' | 'dash', text: string): HTMLElement =>
      el('li', {}, el('span', { className: `swatch swatch-${kind} color-${color}`, attrs: { 'aria-hidden': 'true' } }), text);
    if (compare) {
      this.legend.replaceChildren(...models.map((m, i) => item(colorOf(i), 'line', m.label)));
      return;
    }
    const m = models[0];
    const d = m.run.diagnosis;
    this.legend.replaceChildren(
      ...present([
        m.totalNorm && item('blue', 'line', totalNormLabel(m)),
        m.clippedRanges.length > 0 && item('orange', 'band', 'clipped steps'),
        d.threshold.recommended !== null && item('green', 'dash', `recommended threshold ${formatNumber(d.threshold.recommended)}`),
        m.clipThreshold !== undefined && item('orange', 'dash', `clip threshold ${formatNumber(m.clipThreshold)}`),
        m.totalNorm && item('yellow', 'band', 'steps norm clipping at the replayed τ would rescale'),
        d.gradNorm.firstNonFiniteStep !== null && item('error', 'line', `first non-finite step ${d.gradNorm.firstNonFiniteStep} (ticks on the top edge: NaN or Inf)`),
      ]),
    );
  }

  private showRange(range: XRange | null): void {
    const v = range ?? this.axis.extent();
    this.rangeText.textContent = v ? `${range ? 'Zoomed to steps' : 'All steps'} ${formatStep(Math.max(0, Math.round(v[0])))}–${formatStep(Math.round(v[1]))}` : '';
    this.resetButton.disabled = range === null;
  }
}

function line(label: string, data: StepValues, color: ColorName, nonFiniteColor?: ColorName, width?: number): LineSeries {
  return { label, steps: data.steps, values: data.values, color, nonFiniteColor, width };
}

function totalNormLabel(m: RunModel): string {
  return m.run.diagnosis.gradNormSource === 'parameters' ? 'total norm (from the parameters)' : 'total norm';
}

function thresholds(m: RunModel): Threshold[] {
  const out: Threshold[] = [];
  const recommended = m.run.diagnosis.threshold.recommended;
  if (recommended !== null) out.push({ value: recommended, color: 'green', label: `recommended ${formatNumber(recommended)}` });
  if (m.clipThreshold !== undefined) out.push({ value: m.clipThreshold, color: 'orange', label: `clip ${formatNumber(m.clipThreshold)}` });
  return out;
}

function firstNonFiniteMarker(m: RunModel, color: ColorName): Marker[] {
  const step = m.run.diagnosis.gradNorm.firstNonFiniteStep;
  return step === null ? [] : [{ step, color, label: 'first NaN/Inf' }];
}

/** Spikes, explosions and the first non-finite step of one run. */
function eventMarkers(m: RunModel): Marker[] {
  const markers: Marker[] = [];
  for (const f of m.run.diagnosis.findings) {
    if (f.kind === 'spike') markers.push({ step: f.step, color: 'yellow', label: 'spike', dashed: true });
    if (f.kind === 'explosion') markers.push({ step: f.step, color: 'red', label: 'explosion', dashed: true });
  }
  markers.push(...firstNonFiniteMarker(m, 'error'));
  return markers;
}

/** Log when the loss spans more than two decades (a divergence), linear otherwise. */
function lossScale(series: LineSeries[]): ScaleKind {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    const extent = positiveExtents.of(s.values, undefined);
    if (extent.nonPositive) return 'linear';
    lo = Math.min(lo, extent.min);
    hi = Math.max(hi, extent.max);
  }
  return hi / lo > LOSS_LOG_RATIO ? 'log' : 'linear';
}
