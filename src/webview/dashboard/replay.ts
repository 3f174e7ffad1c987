/**
 * Policy replay on the dashboard: what each spike policy people run would
 * have done on this log, and a τ slider that replays norm clipping at any
 * threshold over the timeline (the steps it would clip, their share, the
 * mean scale factor). The slider moves in log10 τ across the run's norms.
 */
import { addClipTally, clipShares, type ClipTally } from '../../diagnosis/policies';
import { GrownFold, positiveExtents } from '../charts/grown';
import { formatNumber, formatPercent } from '../../diagnosis/stats';
import { el } from './dom';
import { rangesWhere, type RunModel, type StepValues } from './model';

/** Slider positions per decade of τ. */
const STEPS_PER_DECADE = 100;

export interface ClipPreview {
  tau: number;
  /** [from, to] pairs of the steps norm clipping at τ would rescale. */
  ranges: Float64Array;
}

/** What clipping at τ (the key) does to a run's norms, kept as a live run grows: an update reads its new steps alone. */
const clipTallies = new GrownFold<ClipTally & { tau: number }>(
  (key) => ({ tau: Number(key), finite: 0, clipped: 0, scaleSum: 0 }),
  (tally, values, from, to) => addClipTally(tally, values, tally.tau, from, to),
);

export class PolicyReplay {
  readonly root: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly output: HTMLOutputElement;
  private readonly summary: HTMLElement;
  private readonly policies: HTMLElement;
  private norms: StepValues | undefined;
  private runKey: string | undefined;
  /** The τ replayed: the run's own until the slider moves (slider positions are rounded). */
  private tauValue = 1;

  constructor(private readonly changed: () => void) {
    const id = 'replay-tau';
    this.input = el('input', { type: 'range', attrs: { id, step: '1', 'aria-describedby': 'replay-summary' } });
    this.output = el('output', { className: 'control-value', attrs: { for: id } });
    this.summary = el('p', { className: 'replay-summary', attrs: { id: 'replay-summary', 'aria-live': 'polite' } });
    this.policies = el('ul', { className: 'replay-policies', attrs: { 'aria-label': 'What each spike policy would have done' } });
    this.input.addEventListener('input', () => {
      this.tauValue = Number((10 ** (Number(this.input.value) / STEPS_PER_DECADE)).toPrecision(3));
      this.show();
      this.changed();
    });
    this.root = el(
      'div',
      { className: 'replay', attrs: { role: 'group', 'aria-label': 'Policy replay' } },
      el('h3', {}, 'Policy replay'),
      el('div', { className: 'control' }, el('label', { attrs: { for: id } }, 'Norm clipping at τ'), this.input, this.output),
      this.summary,
      this.policies,
    );
  }

  /** Shows one run's replay (the slider keeps its τ while the same run is updated); hidden for several runs or a run without norms. */
  update(model: RunModel | undefined): void {
    const norms = model?.totalNorm;
    const { min: lo, max: hi } = norms ? positiveExtents.of(norms.values, undefined) : { min: Infinity, max: -Infinity };
    this.root.hidden = !model || !norms || !(hi > 0);
    if (!model || !norms || !(hi > 0)) {
      this.norms = undefined;
      return;
    }
    const d = model.run.diagnosis;
    this.policies.replaceChildren(...d.policies.filter((p) => p.name !== 'clip-norm').map((p) => el('li', {}, p.summary)));
    const key = `${model.run.key}:${norms.steps.length}`;
    const fresh = key !== this.runKey;
    this.runKey = key;
    this.norms = norms;
    const min = Math.floor(Math.log10(lo) * STEPS_PER_DECADE) - STEPS_PER_DECADE / 2;
    const max = Math.ceil(Math.log10(hi) * STEPS_PER_DECADE) + STEPS_PER_DECADE / 2;
    this.input.min = String(min);
    this.input.max = String(max);
    if (fresh) {
      const initial = d.policies.find((p) => p.name === 'clip-norm')?.parameters.tau;
      const tau = typeof initial === 'number' && initial > 0 ? initial : (d.threshold.recommended ?? 1);
      this.tauValue = tau;
      this.input.value = String(Math.round(Math.log10(tau) * STEPS_PER_DECADE));
    }
    this.show();
  }

  /** τ and the steps it would clip, for the timeline; undefined when nothing is replayed. */
  preview(): ClipPreview | undefined {
    if (!this.norms || this.root.hidden) return undefined;
    const tau = this.tau();
    return { tau, ranges: rangesWhere(this.norms, { key: `τ ${tau}`, on: (v) => v > tau && Number.isFinite(v) }) };
  }

  private tau(): number {
    return this.tauValue;
  }

  private show(): void {
    if (!this.norms) return;
    const tau = this.tau();
    const tally = clipTallies.of(this.norms.values, undefined, String(tau));
    const replay = clipShares(tally);
    this.output.textContent = formatNumber(tau);
    this.input.setAttribute('aria-valuetext', `τ ${formatNumber(tau)}`);
    this.summary.textContent = `At τ = ${formatNumber(tau)}, norm clipping would rescale ${tally.clipped} of ${this.norms.steps.length} steps (${formatPercent(replay.clippedShare)}), by ${formatNumber(replay.meanScale)} on average; the shaded steps on the chart above.`;
  }
}
