/**
 * The playground's sliders and selects: each labelled, keyboard operable
 * (they are native inputs), its value shown beside it and announced as text.
 * The threshold slider moves in log10 τ, so 0.01 and 100 are as easy to reach as 1.
 */
import { clipModeSchema, nonlinearitySchema, PLAYGROUND_LIMITS, type PlaygroundParams } from '../../protocol/playground';
import type { Schema } from '../../protocol/schema';
import { formatNumber } from '../charts/scale';
import { el } from '../dashboard/dom';

type SliderKey = 'radius' | 'seqLen' | 'threshold';

interface Slider {
  key: SliderKey;
  label: string;
  /** Slider position ↔ parameter value. */
  toValue(position: number): number;
  toPosition(value: number): number;
  format(value: number): string;
  min: number;
  max: number;
  step: number;
  hint: string;
}

const SLIDERS: Slider[] = [
  {
    key: 'radius', label: 'Spectral radius γ of W_hh', ...PLAYGROUND_LIMITS.radius, toValue: (p) => p, toPosition: (v) => v, format: (v) => v.toFixed(2),
    hint: 'Every step back in time multiplies ‖∂L/∂h_t‖ by up to γ.',
  },
  {
    key: 'seqLen', label: 'Sequence length T', ...PLAYGROUND_LIMITS.seqLen, toValue: (p) => Math.round(p), toPosition: (v) => v, format: (v) => String(v),
    hint: 'Steps the gradient travels back through.',
  },
  {
    key: 'threshold', label: 'Clip threshold τ', min: Math.log10(PLAYGROUND_LIMITS.threshold.min), max: Math.log10(PLAYGROUND_LIMITS.threshold.max), step: 0.01,
    toValue: (p) => Number((10 ** p).toPrecision(3)), toPosition: (v) => Math.log10(v), format: formatNumber,
    hint: 'max_norm for norm clipping, the bound for value clipping.',
  },
];

type ChoiceKey = 'mode' | 'nonlinearity';

interface Choice<K extends ChoiceKey> {
  key: K;
  label: string;
  schema: Schema<PlaygroundParams[K]>;
  options: ReadonlyArray<readonly [PlaygroundParams[K], string]>;
}

const MODE: Choice<'mode'> = {
  key: 'mode', label: 'Clip mode', schema: clipModeSchema,
  options: [['none', 'none'], ['norm', 'norm: clip_grad_norm_(τ)'], ['value', 'value: clip_grad_value_(τ)']],
};
const ACTIVATION: Choice<'nonlinearity'> = {
  key: 'nonlinearity', label: 'Activation', schema: nonlinearitySchema,
  options: [['linear', 'linear (exactly γ per step)'], ['tanh', 'tanh (saturates)']],
};

/** Builds the controls showing `initial`; `changed` receives the edited parameter on every input. */
export function createControls(initial: PlaygroundParams, changed: (update: Partial<PlaygroundParams>) => void): HTMLElement {
  const sliders = SLIDERS.map((s) => {
    const id = `control-${s.key}`;
    const output = el('output', { className: 'control-value', attrs: { for: id } });
    const input = el('input', { type: 'range', attrs: { id, min: String(s.min), max: String(s.max), step: String(s.step), 'aria-describedby': `${id}-hint` } });
    const display = (value: number): void => {
      output.textContent = s.format(value);
      input.setAttribute('aria-valuetext', output.textContent);
    };
    input.value = String(s.toPosition(initial[s.key]));
    display(initial[s.key]);
    input.addEventListener('input', () => {
      const value = s.toValue(Number(input.value));
      display(value);
      changed({ [s.key]: value });
    });
    return el('div', { className: 'control' }, el('label', { attrs: { for: id } }, s.label), input, output, el('span', { className: 'control-hint', attrs: { id: `${id}-hint` } }, s.hint));
  });
  const select = <K extends ChoiceKey>(c: Choice<K>): HTMLElement => {
    const id = `control-${c.key}`;
    const input = el('select', { attrs: { id } }, ...c.options.map(([value, text]) => Object.assign(el('option', {}, text), { value })));
    input.value = initial[c.key];
    input.addEventListener('change', () => {
      const value = c.schema.parse(input.value);
      if (value !== undefined) changed({ [c.key]: value });
    });
    return el('div', { className: 'control' }, el('label', { attrs: { for: id } }, c.label), input);
  };
  return el('div', { className: 'controls', attrs: { role: 'group', 'aria-label': 'Playground settings' } }, ...sliders, select(MODE), select(ACTIVATION));
}
