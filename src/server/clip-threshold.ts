/**
 * The clip threshold a GL001 fix inserts: what GradLens recommends from the
 * logs of the script's workspace, read once per folder and kept for a while
 * (a training run's logs change slowly compared with typing). No vscode import.
 */
import { diagnose } from '../diagnosis/diagnose';
import { discoverRuns } from '../logs/discovery';
import { readRunSpec } from '../logs/open';
import { median } from '../diagnosis/stats';

/** How long a folder's recommendation is reused before its logs are read again. */
const REUSE_MS = 60_000;

/**
 * The median of the recommended thresholds of the runs under `folder`,
 * rounded to two significant digits (a threshold is a judgement, not a
 * measurement); undefined when the folder holds no gradient norms.
 */
export async function recommendedThreshold(folder: string): Promise<number | undefined> {
  const specs = await discoverRuns(folder).catch(() => []);
  const recommended: number[] = [];
  for (const spec of specs) {
    const runs = await readRunSpec(spec).catch(() => []);
    for (const run of runs) {
      const value = diagnose(run).threshold.recommended;
      if (value !== null && Number.isFinite(value) && value > 0) recommended.push(value);
    }
  }
  const middle = median(Float64Array.from(recommended));
  return middle === null ? undefined : Number(middle.toPrecision(2));
}

export class ClipThresholds {
  private readonly cache = new Map<string, { at: number; value: Promise<number | undefined> }>();

  constructor(private readonly read: (folder: string) => Promise<number | undefined> = recommendedThreshold) {}

  /** The recommendation for `folder`, read at most once per REUSE_MS; undefined when its logs hold none. */
  for(folder: string): Promise<number | undefined> {
    const cached = this.cache.get(folder);
    if (cached && Date.now() - cached.at < REUSE_MS) return cached.value;
    const value = this.read(folder).catch(() => undefined);
    this.cache.set(folder, { at: Date.now(), value });
    return value;
  }
}
