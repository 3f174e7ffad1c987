import * as vscode from 'vscode';
import type { InitName } from '../engine/init';
import { findPreset, PRESETS, type Preset } from '../engine/presets';
import type { StepRecord } from '../engine/record';
import { clipLabel, describe as describeRun, summarize } from '../engine/summary';
import { validateConfig, type ClipSpec, type ModelKind, type TrainConfig } from '../engine/trainer';
import { startTraining, type TrainingHandle } from '../worker/training-client';
import { EXPERIMENT_RUNNING_CONTEXT } from './command-ids';
import type { DashboardPanel } from './dashboard-panel';
import { ExperimentLog } from './experiment-log';
import {
  checkNumber,
  CLIP_MODES,
  CUSTOM_INITS,
  CUSTOM_MODELS,
  customExperiment,
  defaultRadius,
  defaultSteps,
  GAIN_RULE,
  RADIUS_RULE,
  STEPS_RULE,
  THRESHOLD_RULE,
  type NumberRule,
} from './experiment-config';
import type { RunsModel } from './runs/model';
import { errorMessage } from '../shared/errors';

const fmt = (v: number): string => (Number.isFinite(v) ? v.toPrecision(4) : String(v));

/** Where experiment logs go, in the extension's global storage. */
export function experimentsFolder(storage: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(storage, 'experiments');
}

/**
 * Engine experiments: each run of a preset (or of a custom setup) trains in
 * the training worker and streams its records, batch by batch, into a
 * JSON-lines log in the extension's storage. The log is opened in the Runs
 * view and the dashboard as soon as it exists, so both follow the run live.
 * The bundled engine is all that runs: no workspace code, so experiments are
 * allowed in restricted mode.
 */
export class Experiments implements vscode.Disposable {
  private running: TrainingHandle | undefined;
  private active = false;

  constructor(
    private readonly workerPath: string,
    private readonly storage: vscode.Uri,
    private readonly model: RunsModel,
    private readonly dashboard: DashboardPanel,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Trains the named preset, or the one the person picks; settles when the experiment ends. */
  async run(presetName?: string): Promise<void> {
    if (this.alreadyRunning()) return;
    if (presetName !== undefined) {
      const named = findPreset(presetName);
      if (named) await this.runPreset(named);
      else void vscode.window.showErrorMessage(`GradLens has no experiment named "${presetName}"; the presets are ${PRESETS.map((p) => p.name).join(', ')}.`);
      return;
    }
    const custom = { label: 'Custom…', detail: 'Choose the model, initialisation, spectral radius, clipping and number of steps', preset: undefined };
    const picked = await vscode.window.showQuickPick([...PRESETS.map((p) => ({ label: p.name, detail: p.description, preset: p })), custom], {
      title: 'GradLens: Run Experiment',
      placeHolder: 'Choose an experiment to train with the bundled engine',
      matchOnDetail: true,
    });
    if (!picked) return;
    const preset = picked.preset ?? (await this.askCustom());
    // Checked again: another experiment may have started while this one was being chosen.
    if (preset && !this.alreadyRunning()) await this.runPreset(preset);
  }

  private alreadyRunning(): boolean {
    if (this.active) void vscode.window.showInformationMessage('A GradLens experiment is already running. Stop it first (GradLens: Stop Experiment).');
    return this.active;
  }

  stop(): void {
    if (!this.active) {
      void vscode.window.showInformationMessage('No GradLens experiment is running.');
      return;
    }
    this.active = false;
    this.running?.cancel();
  }

  /** The custom experiment, step by step; undefined when the person backs out. */
  private async askCustom(): Promise<Preset | undefined> {
    const title = 'GradLens: Custom Experiment';
    const pick = <T>(items: ReadonlyArray<{ label: string; detail: string; value: T }>, placeHolder: string) =>
      vscode.window.showQuickPick(items, { title, placeHolder }).then((p) => p?.value);
    const ask = async (rule: NumberRule, value: number, prompt: string): Promise<number | undefined> => {
      const text = await vscode.window.showInputBox({ title, prompt, value: String(value), validateInput: (t) => checkNumber(t, rule) });
      return text === undefined ? undefined : Number(text.trim());
    };
    const model = await pick<ModelKind>(CUSTOM_MODELS.map((m) => ({ label: m.model, detail: m.detail, value: m.model })), 'Model');
    if (!model) return undefined;
    const init = await pick<InitName>(CUSTOM_INITS.map((i) => ({ label: i.init, detail: i.detail, value: i.init })), 'Initialisation of the weights');
    if (!init) return undefined;
    const radius =
      model === 'mlp'
        ? await ask(GAIN_RULE, defaultRadius(model), 'Per-layer gain of the initialisation (above 1: gradients grow through depth)')
        : await ask(RADIUS_RULE, defaultRadius(model), 'Spectral radius of the recurrent weight W_hh (above 1: gradients can explode; below 1: they vanish)');
    if (radius === undefined) return undefined;
    const mode = await pick<ClipSpec['mode']>(CLIP_MODES.map((c) => ({ label: c.mode, detail: c.detail, value: c.mode })), 'Gradient clipping');
    if (!mode) return undefined;
    let clip: ClipSpec = { mode: 'none' };
    if (mode !== 'none') {
      const threshold = await ask(THRESHOLD_RULE, 1, mode === 'norm' ? 'Clip the gradient norm to at most (max_norm)' : 'Clamp each gradient component to ±');
      if (threshold === undefined) return undefined;
      clip = mode === 'norm' ? { mode, maxNorm: threshold } : { mode, value: threshold };
    }
    const steps = await ask(STEPS_RULE, defaultSteps(model), 'Training steps');
    if (steps === undefined) return undefined;
    const run = customExperiment({ model, init, radius, clip, steps });
    try {
      validateConfig(run.config);
    } catch (error) {
      void vscode.window.showErrorMessage(`GradLens: this experiment cannot run: ${errorMessage(error)}`);
      return undefined;
    }
    return { name: run.id, description: `${model}, ${init} init, radius ${radius}, clipping ${clipLabel(clip)}, ${steps} steps`, runs: [run] };
  }

  private async runPreset(preset: Preset): Promise<void> {
    const folder = experimentsFolder(this.storage);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    this.active = true;
    await vscode.commands.executeCommand('setContext', EXPERIMENT_RUNNING_CONTEXT, true);
    const shown: string[] = [];
    const summaries: string[] = [];
    try {
      await vscode.workspace.fs.createDirectory(folder);
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `GradLens: ${preset.name}`, cancellable: true }, async (progress, token) => {
        const subscription = token.onCancellationRequested(() => this.stop());
        try {
          for (const { id, config } of preset.runs) {
            const file = vscode.Uri.joinPath(folder, `${stamp}-${id}.jsonl`);
            // The log exists before training starts, so the Runs view and the dashboard follow it from the first step.
            await vscode.workspace.fs.writeFile(file, new Uint8Array());
            const entries = await this.model.open(file.fsPath, 'experiment');
            if (!this.active) break;
            shown.push(...entries.map((e) => e.key));
            this.dashboard.show([...shown]);
            summaries.push(await this.train(id, config, file, (message, increment) => progress.report({ message, increment: increment / preset.runs.length })));
          }
        } finally {
          subscription.dispose();
        }
      });
    } catch (error) {
      this.log.error(`experiment ${preset.name}: ${errorMessage(error)}`);
      void vscode.window.showErrorMessage(`GradLens experiment ${preset.name} failed: ${errorMessage(error)}`);
    } finally {
      this.active = false;
      this.running = undefined;
      await vscode.commands.executeCommand('setContext', EXPERIMENT_RUNNING_CONTEXT, false);
    }
    if (summaries.length > 0) {
      void vscode.window.showInformationMessage(`GradLens ${preset.name}: ${summaries.join(' ')}`, 'Open Dashboard').then((choice) => {
        if (choice) this.dashboard.show([...shown]);
      });
    }
  }

  /** Trains one run, streaming its records into `file`; returns its summary in words. */
  private async train(id: string, config: TrainConfig, file: vscode.Uri, report: (message: string, increment: number) => void): Promise<string> {
    const records: StepRecord[] = [];
    const writer = new ExperimentLog(file.fsPath, (error) => this.log.error(`experiment ${id}: writing ${file.fsPath} failed: ${error.message}`));
    this.log.info(`experiment ${id}: ${config.model} hidden ${config.hiddenSize}, T=${config.seqLen}, ${config.steps} steps, clipping ${clipLabel(config.clip)}; log ${file.fsPath}`);
    const handle = startTraining(this.workerPath, config, {
      onRecords: (batch, total) => {
        records.push(...batch);
        writer.append(batch);
        for (const r of batch) this.log.trace(`${id} step ${r.step}: loss=${fmt(r.loss)} grad_norm=${fmt(r.grad_norm)}${r.clipped ? ' [clipped]' : ''}`);
        report(`${id}: step ${records.length}/${total}, ‖g‖ = ${fmt(batch[batch.length - 1].grad_norm)}`, (100 * batch.length) / total);
      },
    });
    this.running = handle;
    try {
      const result = await handle.done;
      await writer.flushed();
      const summary = `${id}: ${describeRun(summarize(records), clipLabel(config.clip))}${result.reason === 'cancelled' ? ' (stopped)' : ''}`;
      this.log.info(`experiment ${id} ${result.reason} after ${result.steps} steps in ${result.elapsedMs} ms: ${summary}`);
      return summary;
    } catch (error) {
      await writer.flushed();
      this.log.error(`experiment ${id} failed: ${errorMessage(error)}`);
      void vscode.window.showErrorMessage(`GradLens experiment ${id} failed: ${errorMessage(error)}`);
      return `${id}: failed (${errorMessage(error)}).`;
    } finally {
      this.running = undefined;
    }
  }

  dispose(): void {
    this.active = false;
    this.running?.cancel();
  }
}
