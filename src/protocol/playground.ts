/**
 * Everything the playground says across its two boundaries, declared once:
 * webview ↔ extension host (wire strings) and host ↔ engine worker
 * (structured clone). The parameters are what the sliders set; the result is
 * what the engine computed for them. Numbers in a result may be NaN or
 * infinite (a gradient that overflowed is a fact to show, not an error).
 */
import { array, finite, float64Array, literal, message, nullable, number, object, string, union, type Infer, type Schema } from './schema';

/** Slider ranges; the compute refuses values outside them, the webview builds its sliders from them. */
export const PLAYGROUND_LIMITS = {
  radius: { min: 0.5, max: 1.5, step: 0.01 },
  seqLen: { min: 2, max: 200, step: 1 },
  threshold: { min: 0.01, max: 100 },
  /** The loss-surface window over (w, b); a path may start anywhere inside it. */
  start: { w: { min: 0, max: 10 }, b: { min: -5, max: 0 } },
  /** Each component of the 2-D example gradient. */
  vector: { min: -4, max: 4 },
} as const;

const between = (min: number, max: number, integer = false): Schema<number> => ({
  parse: (v) => (typeof v === 'number' && v >= min && v <= max && (!integer || Number.isInteger(v)) ? v : undefined),
});

export const clipModeSchema = literal('none', 'norm', 'value');
export type ClipMode = Infer<typeof clipModeSchema>;

export const nonlinearitySchema = literal('linear', 'tanh');

export const playgroundParamsSchema = object({
  /** γ: spectral radius of the recurrent weight (orthogonal, scaled). */
  radius: between(PLAYGROUND_LIMITS.radius.min, PLAYGROUND_LIMITS.radius.max),
  /** T: sequence length, for the profile and the one-unit RNN alike. */
  seqLen: between(PLAYGROUND_LIMITS.seqLen.min, PLAYGROUND_LIMITS.seqLen.max, true),
  /** τ: clip threshold (max_norm, or the clip value). */
  threshold: between(PLAYGROUND_LIMITS.threshold.min, PLAYGROUND_LIMITS.threshold.max),
  mode: clipModeSchema,
  nonlinearity: nonlinearitySchema,
  /** Where both gradient-descent paths on the loss surface start. */
  start: object({ w: between(PLAYGROUND_LIMITS.start.w.min, PLAYGROUND_LIMITS.start.w.max), b: between(PLAYGROUND_LIMITS.start.b.min, PLAYGROUND_LIMITS.start.b.max) }),
  /** The 2-D example gradient g. */
  vector: object({ x: between(PLAYGROUND_LIMITS.vector.min, PLAYGROUND_LIMITS.vector.max), y: between(PLAYGROUND_LIMITS.vector.min, PLAYGROUND_LIMITS.vector.max) }),
});
export type PlaygroundParams = Infer<typeof playgroundParamsSchema>;

export const DEFAULT_PLAYGROUND_PARAMS: PlaygroundParams = {
  radius: 1.1,
  seqLen: 50,
  threshold: 1,
  mode: 'norm',
  nonlinearity: 'linear',
  start: { w: 4, b: -3 },
  vector: { x: 3, y: 1 },
};

const vector2 = object({ x: number, y: number });

/** What clipping at τ does to a gradient: its norm before and after, and how far it turned. */
export const clipEffectSchema = object({
  mode: clipModeSchema,
  threshold: finite,
  normBefore: number,
  normAfter: number,
  /** cos∠(clipped, raw): 1 when the direction is kept. */
  cosine: number,
});
export type ClipEffect = Infer<typeof clipEffectSchema>;

export const profileResultSchema = object({
  /** ‖∂L/∂h_t‖ for t = 0..T−1 (the loss is read at t = T−1). */
  hiddenGradNorms: float64Array,
  /** ‖∂L/∂h_{T−1}‖·γ^(T−1−t): the linear network's exact profile, an upper bound with tanh. */
  envelope: float64Array,
  /** Spectral radius of W_hh measured by the engine's instruments. */
  measuredRadius: number,
  clip: clipEffectSchema,
  /** Per-parameter gradient norms before and after clipping. */
  parameters: array(object({ name: string, before: number, after: number })),
});
export type ProfileResult = Infer<typeof profileResultSchema>;

const axisSchema = object({ min: finite, max: finite, count: finite });
export type GridAxis = Infer<typeof axisSchema>;

/** The value of node k of a grid axis (count nodes from min to max). */
export const gridValue = (axis: GridAxis, k: number): number => axis.min + ((axis.max - axis.min) * k) / (axis.count - 1);

/** A gradient-descent path: the point before each step and after the last one. */
export const pathSchema = object({
  w: float64Array,
  b: float64Array,
  loss: float64Array,
  /** ‖∇L‖ at each point, before clipping. */
  gradNorm: float64Array,
  /** Length of each step actually taken (after clipping): one fewer than points. */
  stepLength: float64Array,
});
export type GradientPath = Infer<typeof pathSchema>;

export const surfaceResultSchema = object({
  w: axisSchema,
  b: axisSchema,
  /** Row-major, b rows (from b.min) × w columns (from w.min). */
  loss: float64Array,
  gradNorm: float64Array,
  /** Initial state and target of the one-unit RNN h_t = σ(w·h_{t−1} + b), loss (h_T − target)². */
  h0: finite,
  target: finite,
  lr: finite,
  raw: pathSchema,
  /** The path with the chosen clipping; null when the mode is none. */
  clipped: nullable(pathSchema),
});
export type SurfaceResult = Infer<typeof surfaceResultSchema>;

export const clipping2dResultSchema = object({
  vector: vector2,
  threshold: finite,
  valueClipped: vector2,
  normClipped: vector2,
  /** Angle between each clipped vector and g, in degrees. */
  valueAngle: number,
  normAngle: number,
});
export type Clipping2dResult = Infer<typeof clipping2dResultSchema>;

export const playgroundResultSchema = object({
  params: playgroundParamsSchema,
  profile: profileResultSchema,
  surface: surfaceResultSchema,
  clipping2d: clipping2dResultSchema,
  /** Time the engine took for this result, in milliseconds. */
  elapsedMs: finite,
});
export type PlaygroundResult = Infer<typeof playgroundResultSchema>;

export const playgroundToHostSchema = union({
  /** The page is loaded and listening. */
  ready: message('ready', {}),
  /** Compute for these slider values; `id` grows, only the newest answer is drawn. */
  compute: message('compute', { id: finite, params: playgroundParamsSchema }),
});
export type PlaygroundToHost = Infer<typeof playgroundToHostSchema>;

export const hostToPlaygroundSchema = union({
  result: message('result', { id: finite, result: playgroundResultSchema }),
  error: message('error', { id: finite, message: string }),
});
export type HostToPlayground = Infer<typeof hostToPlaygroundSchema>;

/** What the webview keeps with setState: the slider values, restored when the panel comes back. */
export const playgroundStateSchema = object({ params: playgroundParamsSchema });
export type PlaygroundState = Infer<typeof playgroundStateSchema>;
