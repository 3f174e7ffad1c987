/**
 * What the dashboard keeps with setState so a hidden or reloaded panel comes
 * back as it was: the runs (the host reads these to read the runs again) and
 * the view (zoom, selected parameter, table sort, histogram shown). The saved
 * state is parsed like any other input; what does not match is ignored.
 */
import { dashboardStateSchema } from '../../protocol/dashboard';
import { array, boolean, finite, literal, nullable, object, optional, string, type Infer } from '../../protocol/schema';

export const PARAMETER_COLUMNS = ['name', 'maxNorm', 'maxStep', 'medianNorm', 'nanSteps', 'infSteps', 'firstBadStep', 'shareAtPeak'] as const;
export type ParameterColumn = (typeof PARAMETER_COLUMNS)[number];

const viewStateSchema = object({
  /** The zoomed step range; null for the whole run. */
  range: nullable(array(finite)),
  param: nullable(string),
  /** Null keeps the diagnosis's order (worst first). */
  sort: nullable(object({ column: literal(...PARAMETER_COLUMNS), descending: boolean })),
  histogram: nullable(string),
});
export type ViewState = Infer<typeof viewStateSchema>;

export const EMPTY_VIEW: ViewState = { range: null, param: null, sort: null, histogram: null };

const savedStateSchema = object({
  runs: array(object({ path: string, stream: optional(string) })),
  view: optional(viewStateSchema),
});
export type SavedState = Infer<typeof savedStateSchema>;

// The saved state extends the protocol's DashboardState; this line stops the build if it no longer does.
const extendsProtocol: Infer<typeof dashboardStateSchema> = {} as SavedState;
void extendsProtocol;

export function parseSavedState(value: unknown): SavedState | undefined {
  return savedStateSchema.parse(value);
}

/** The runs' identities, to tell whether a saved view belongs to the runs shown now. */
export function sameRuns(a: SavedState['runs'], b: SavedState['runs']): boolean {
  return a.length === b.length && a.every((r, i) => r.path === b[i].path && r.stream === b[i].stream);
}
