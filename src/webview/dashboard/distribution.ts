/**
 * How the total gradient norm is distributed over the run's steps, with the
 * statistics the clip threshold is chosen from and the threshold itself.
 */
import { DistributionChart, type ValueMarker } from '../charts/distribution';
import { formatNumber } from '../charts/scale';
import type { ColorName } from '../charts/theme';
import { el, present, section } from './dom';
import type { RunModel } from './model';

export class Distribution {
  readonly root: HTMLElement;
  private readonly stats: HTMLElement;
  private readonly chart: DistributionChart;

  constructor() {
    this.stats = el('p', { className: 'stats' });
    const { root, body } = section(
      'distribution',
      'Norm distribution',
      el('p', { className: 'hint-text' }, 'The total gradient norm of every step, on a log scale. The statistics are over the healthy steps; the recommended clip threshold is their 95th percentile.'),
      this.stats,
    );
    this.root = root;
    this.chart = new DistributionChart(body, { name: 'Distribution of the total gradient norm over steps', unit: 'steps', className: 'chart-distribution' });
  }

  dispose(): void {
    this.chart.dispose();
  }

  update(model: RunModel): void {
    const norm = model.totalNorm;
    this.root.hidden = !norm;
    if (!norm) return;
    const t = model.run.diagnosis.threshold;
    const stats: Array<[string, number | null, ColorName]> = [
      ['mean', t.mean, 'purple'],
      ['median', t.median, 'foreground'],
      ['p95', t.p95, 'yellow'],
      ['p99', t.p99, 'orange'],
      ['max', t.max, 'red'],
    ];
    const markers: ValueMarker[] = stats.flatMap(([label, value, color]) => (value === null ? [] : [{ value, color, label: `${label} ${formatNumber(value)}` }]));
    if (t.recommended !== null) markers.push({ value: t.recommended, color: 'green', label: `recommended ${formatNumber(t.recommended)}` });
    let nonFinite = 0;
    for (let i = 0; i < norm.values.length; i++) if (!Number.isFinite(norm.values[i])) nonFinite++;
    this.stats.replaceChildren(
      ...present([
        ...stats.map(([label, value]) => el('span', { className: 'stat' }, `${label} ${value === null ? '—' : formatNumber(value)}`)),
        el('span', { className: 'stat stat-recommended' }, `recommended threshold ${t.recommended === null ? '—' : formatNumber(t.recommended)}`),
        nonFinite > 0 && el('span', { className: 'stat stat-nonfinite' }, `${nonFinite} non-finite steps not shown`),
      ]),
    );
    this.chart.set(norm.values, markers);
  }
}
