/**
 * GradLens's settings, typed: the one place that knows their names. Values
 * that cannot work are replaced by their defaults (or left out, for tag
 * rules) with a warning in the GradLens log.
 */
import * as vscode from 'vscode';
import type { TagRule } from '../logs/roles';
import { numberFromSetting, stringFromSetting, stringsFromSetting, tagRulesFromSetting, type Checked } from './runs/settings';

export const CONFIG_SECTION = 'gradlens';

export interface GradLensConfig {
  /** `gradlens.logGlobs`: globs, relative to each workspace folder, of the logs the Runs view lists. */
  logGlobs: string[];
  /** `gradlens.exclude`: glob of files never listed. */
  exclude: string;
  /** `gradlens.tagRoles`: user tag rules, tried before the built-in table. */
  tagRoles: TagRule[];
  /** `gradlens.pollIntervalMs`: how often growing logs are read. */
  pollIntervalMs: number;
  /** `gradlens.warnThreshold`: norm at which a step counts as exploding. */
  warnThreshold: number;
  /** `gradlens.alertThreshold`: norm at which an explosion is an error. */
  alertThreshold: number;
}

export function readConfig(log?: Pick<vscode.LogOutputChannel, 'warn'>): GradLensConfig {
  const section = vscode.workspace.getConfiguration(CONFIG_SECTION);
  const read = <T>(name: string, check: (raw: unknown, fallback: T) => Checked<T>): T => {
    const fallback = section.inspect<T>(name)?.defaultValue;
    if (fallback === undefined) throw new Error(`package.json declares no default for ${CONFIG_SECTION}.${name}`);
    const { value, problems } = check(section.get(name), fallback);
    for (const problem of problems) log?.warn(`setting ${CONFIG_SECTION}.${name}: ${problem}`);
    return value;
  };
  const warnThreshold = read('warnThreshold', (raw, fallback: number) => numberFromSetting(raw, fallback, 0, true));
  const alertThreshold = read('alertThreshold', (raw, fallback: number) => numberFromSetting(raw, fallback, 0, true));
  if (alertThreshold < warnThreshold) log?.warn(`setting ${CONFIG_SECTION}.alertThreshold: ${alertThreshold} is below warnThreshold ${warnThreshold}; using ${warnThreshold}`);
  return {
    logGlobs: read('logGlobs', stringsFromSetting),
    exclude: read('exclude', stringFromSetting),
    tagRoles: read('tagRoles', (raw) => tagRulesFromSetting(raw)),
    pollIntervalMs: read('pollIntervalMs', (raw, fallback: number) => numberFromSetting(raw, fallback, 100)),
    warnThreshold,
    alertThreshold: Math.max(alertThreshold, warnThreshold),
  };
}

export function affectsGradLens(event: vscode.ConfigurationChangeEvent): boolean {
  return event.affectsConfiguration(CONFIG_SECTION);
}
