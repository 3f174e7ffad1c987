/**
 * The playground page: sliders for γ, T, τ and the clip mode; the engine (in
 * the host's worker) computes, this page draws. Requests go at most once per
 * animation frame and only the newest answer is drawn; the slider values are
 * kept with setState, so a hidden or reloaded panel comes back as it was.
 */
import {
  DEFAULT_PLAYGROUND_PARAMS, hostToPlaygroundSchema, playgroundStateSchema,
  type GradientPath, type HostToPlayground, type PlaygroundParams, type PlaygroundResult, type PlaygroundToHost,
} from '../../protocol/playground';
import { LineChart } from '../charts/line-chart';
import { formatNumber } from '../charts/scale';
import { StepAxis } from '../charts/x-axis';
import { el, section } from '../dashboard/dom';
import { connectToHost } from '../host';
import { ARROW_COLORS, ClipPlane } from './clip-plane';
import { createControls } from './controls';
import { PATH_COLORS, SurfaceMap, WALL_FACTOR } from './surface-map';

const CLIP_CALL = { norm: 'clip_grad_norm_', value: 'clip_grad_value_' } as const;

const degrees = (cosine: number): number => (Math.acos(Math.min(1, Math.max(-1, cosine))) * 180) / Math.PI;
const formatAngle = (deg: number): string => `${deg.toFixed(1)}°`;

/** Where a descent path took its longest step and where it ended. */
function describePath(path: GradientPath): string {
  const longest = path.stepLength.reduce((best, d, k) => (d > path.stepLength[best] ? k : best), 0);
  const end = path.loss.length - 1;
  return `largest step ${formatNumber(path.stepLength[longest])} (step ${longest + 1} of ${path.stepLength.length}, at ‖∇L‖ = ${formatNumber(path.gradNorm[longest])}); ends at w ${formatNumber(path.w[end])}, b ${formatNumber(path.b[end])} with loss ${formatNumber(path.loss[end])}`;
}

/** A line of text whose content the drawing code replaces. */
const line = (className: string): HTMLElement => el('p', { className: `readout ${className}` });

/** A legend entry: a swatch in a theme colour (by class) and its text. */
const key = (color: string, text: string): HTMLElement => el('span', { className: 'key' }, el('span', { className: `swatch swatch-${color}`, attrs: { 'aria-hidden': 'true' } }), text);

export function startPlayground(root: HTMLElement): void {
  const bridge = connectToHost<HostToPlayground, PlaygroundToHost>(hostToPlaygroundSchema);
  root.classList.add('playground');
  const header = el(
    'header',
    {},
    el('h1', {}, 'Gradient clipping playground'),
    el('p', { className: 'lede' }, 'Why gradients explode in recurrent networks, and what clipping does about it. Every number below is computed by the GradLens engine as you move the sliders.'),
  );
  if (bridge.standalone) {
    root.append(header, el('p', { className: 'notice' }, 'The playground runs the GradLens training engine, which lives in VS Code: open it there with “GradLens: Open Playground”.'));
    return;
  }

  let params: PlaygroundParams = playgroundStateSchema.parse(bridge.getState())?.params ?? DEFAULT_PLAYGROUND_PARAMS;
  let lastRequested = 0;
  let lastDrawn = 0;
  let frameRequested = false;
  const status = el('p', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
  const request = (): void => {
    if (frameRequested) return;
    frameRequested = true;
    requestAnimationFrame(() => {
      frameRequested = false;
      bridge.post({ type: 'compute', id: ++lastRequested, params });
      status.textContent = 'Computing…';
    });
  };
  const change = (update: Partial<PlaygroundParams>): void => {
    params = { ...params, ...update };
    bridge.setState({ params });
    request();
  };
  const controls = createControls(params, change);

  // (a) The backward profile.
  const profile = section('profile', '‖∂L/∂h_t‖ back through time', el('p', { className: 'explain' },
    'A vanilla RNN (orthogonal W_hh scaled to spectral radius γ) reads a sequence of length T; the loss is taken at the last step. Backpropagation multiplies the gradient by W_hhᵀ once per step back, so its norm follows γ^(T−1−t): it vanishes for γ < 1 and explodes for γ > 1. With tanh, saturated units multiply by less.'));
  const profileChart = new LineChart(profile.body, { axis: new StepAxis(), name: 'Norm of the loss gradient with respect to each hidden state, over time steps', y: 'log', className: 'profile-chart' });
  const profileKeys = el('p', { className: 'keys' }, key('blue', '‖∂L/∂h_t‖ from the engine’s backward pass'), key('orange', 'γ^(T−1−t), scaled to meet it at t = T−1'));
  const growth = line('readout-growth');
  const radius = line('readout-radius');
  const clipEffect = line('readout-clip');
  const parameterRows = el('tbody');
  const parameterTable = el('table', { className: 'parameters' },
    el('caption', {}, 'Gradient norm per parameter, before and after clipping'),
    el('thead', {}, el('tr', {}, el('th', { attrs: { scope: 'col' } }, 'parameter'), el('th', { attrs: { scope: 'col' } }, '‖g‖ raw'), el('th', { attrs: { scope: 'col' } }, '‖g‖ clipped'))),
    parameterRows);
  profile.body.append(profileKeys, growth, radius, clipEffect, parameterTable);

  // (b) The loss surface with its cliff.
  const surface = section('surface', 'The cliff: loss surface of a one-unit RNN', el('p', { className: 'explain' },
    'The network of Pascanu, Mikolov & Bengio (2013), one unit and no input, run for T steps. Where its start h_0 = ½ sits on an unstable fixed point (b = −w/2, w > 4) the loss drops off a wall: the gradient there is huge and one plain gradient step throws the parameters far away. The clipped step is bounded by lr·τ and walks down into the valley.'));
  const model = line('readout-model');
  const hover = line('readout-hover');
  const surfaceMap = new SurfaceMap(surface.body, { start: () => params.start, moveStart: (start) => change({ start }), showHover: (text) => (hover.textContent = text ?? '') });
  const rawPath = line('readout-raw-path');
  const clippedPath = line('readout-clipped-path');
  surface.body.insertBefore(model, surfaceMap.element);
  surface.body.append(hover, el('p', { className: 'keys' }, key(PATH_COLORS.raw, 'gradient descent without clipping'), key(PATH_COLORS.clipped, 'with the chosen clipping'), key('wall', `‖∇L‖ above ${WALL_FACTOR}× its median: the wall`), key('start', 'start (click the map to move it)')), rawPath, clippedPath);

  // (c) Value clipping turns the gradient, norm clipping does not.
  const plane = section('clip2d', 'Value clipping turns the gradient; norm clipping does not', el('p', { className: 'explain' },
    'Clamping each component to ±τ (clip_grad_value_) shortens the large components more than the small ones, so the step points elsewhere. Rescaling the whole vector to norm τ (clip_grad_norm_) keeps its direction.'));
  const clipPlane = new ClipPlane(plane.body, () => params.vector, (vector) => change({ vector }));
  const valueAngle = line('readout-value-angle');
  const normAngle = line('readout-norm-angle');
  plane.body.append(el('p', { className: 'keys' }, key(ARROW_COLORS.raw, 'g (click to move)'), key(ARROW_COLORS.value, 'value-clipped'), key(ARROW_COLORS.norm, 'norm-clipped')), valueAngle, normAngle);

  root.append(header, controls, status, profile.root, el('div', { className: 'pair' }, surface.root, plane.root));

  const draw = (result: PlaygroundResult): void => {
    const p = result.params;
    const t = Float64Array.from(result.profile.hiddenGradNorms, (_, i) => i);
    profileChart.set({
      // The envelope underneath and wider: where the two coincide (a linear RNN), both stay visible.
      series: [
        { label: 'γ^(T−1−t) envelope', steps: t, values: result.profile.envelope, color: 'orange', width: 4 },
        { label: '‖∂L/∂h_t‖', steps: t, values: result.profile.hiddenGradNorms, color: 'blue', width: 1.5 },
      ],
    });
    const norms = result.profile.hiddenGradNorms;
    growth.textContent = `‖∂L/∂h_0‖ / ‖∂L/∂h_${p.seqLen - 1}‖ = ${formatNumber(norms[0] / norms[norms.length - 1])}   (γ^(T−1) = ${formatNumber(p.radius ** (p.seqLen - 1))})`;
    radius.textContent = `Spectral radius of W_hh measured by the engine: ${result.profile.measuredRadius.toFixed(4)}`;
    const c = result.profile.clip;
    clipEffect.textContent =
      c.mode === 'none'
        ? `No clipping: the update uses the raw gradient, ‖g‖ = ${formatNumber(c.normBefore)}.`
        : `${CLIP_CALL[c.mode]}(τ = ${formatNumber(c.threshold)}): ‖g‖ ${formatNumber(c.normBefore)} → ${formatNumber(c.normAfter)}, ` +
          (c.mode === 'value' ? `direction turned by ${formatAngle(degrees(c.cosine))} (cos = ${c.cosine.toFixed(4)})` : 'direction kept');
    parameterRows.replaceChildren(...result.profile.parameters.map((row) => el('tr', {}, el('td', {}, row.name), el('td', {}, formatNumber(row.before)), el('td', {}, formatNumber(row.after)))));

    const s = result.surface;
    model.textContent = `h_t = σ(w·h_{t−1} + b), h_0 = ${formatNumber(s.h0)}, loss (h_T − ${formatNumber(s.target)})², T = ${p.seqLen}; gradient descent with lr ${formatNumber(s.lr)} from (${formatNumber(s.raw.w[0])}, ${formatNumber(s.raw.b[0])}).`;
    surfaceMap.set(s);
    rawPath.textContent = `Without clipping: ${describePath(s.raw)}.`;
    clippedPath.textContent = s.clipped
      ? `With ${p.mode} clipping at τ = ${formatNumber(p.threshold)}: ${describePath(s.clipped)}.`
      : 'Choose the norm or value clip mode to compare with a clipped path.';

    clipPlane.set(result.clipping2d);
    valueAngle.textContent = `Value clipping turns g by ${formatAngle(result.clipping2d.valueAngle)}.`;
    normAngle.textContent = `Norm clipping turns g by ${formatAngle(result.clipping2d.normAngle)}.`;
  };

  bridge.onMessage((message) => {
    if (message.id < lastDrawn) return; // an older answer overtaken by a newer one
    lastDrawn = message.id;
    if (message.type === 'error') {
      status.textContent = `The engine could not compute this: ${message.message}`;
      return;
    }
    draw(message.result);
    status.textContent = message.id === lastRequested ? `Computed by the engine in ${formatNumber(Math.round(message.result.elapsedMs))} ms.` : 'Computing…';
  });
  bridge.post({ type: 'ready' });
  request();
}
