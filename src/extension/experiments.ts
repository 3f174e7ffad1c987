import * as vscode from 'vscode';
import { PRESETS, type Preset } from '../engine/presets';
import { toJsonLine, type StepRecord } from '../engine/record';
import { clipLabel, describe as describeRun, summarize } from '../engine/summary';
import { startTraining, type TrainingHandle } from '../worker/client';

const fmt = (v: number): string => (Number.isFinite(v) ? v.toPrecision(4) : String(v));

/**
 * Engine experiments started from the command palette: each preset run goes
 * to the training worker, its records stream into a JSON-lines log in the
 * extension's storage and a line per step into the GradLens log.
 */
export class Experiments implements vscode.Disposable {
  private running: TrainingHandle | null = null;

  constructor(
    private readonly workerPath: string,
    private readonly storage: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async run(): Promise<void> {
    if (this.running) {
      void vscode.window.showInformationMessage('A GradLens experiment is already running. Stop it first (GradLens: Stop Experiment).');
      return;
    }
    const picked = await vscode.window.showQuickPick(
      PRESETS.map((p) => ({ label: p.name, detail: p.description, preset: p })),
      { title: 'GradLens: Run Experiment', placeHolder: 'Choose an experiment to train with the bundled engine' },
    );
    if (!picked) return;
    await this.runPreset(picked.preset);
  }

  stop(): void {
    if (!this.running) {
      void vscode.window.showInformationMessage('No GradLens experiment is running.');
      return;
    }
    this.running.cancel();
  }

  private async runPreset(preset: Preset): Promise<void> {
    const folder = vscode.Uri.joinPath(this.storage, 'experiments');
    await vscode.workspace.fs.createDirectory(folder);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `GradLens: ${preset.name}`, cancellable: true },
      async (progress, token) => {
        for (const { id, config } of preset.runs) {
          if (token.isCancellationRequested) break;
          const records: StepRecord[] = [];
          this.log.info(`experiment ${id}: ${config.model} hidden ${config.hiddenSize}, T=${config.seqLen}, ${config.steps} steps`);
          const handle = startTraining(this.workerPath, config, {
            onRecords: (batch, total) => {
              records.push(...batch);
              for (const r of batch) this.log.trace(`${id} step ${r.step}: loss=${fmt(r.loss)} grad_norm=${fmt(r.grad_norm)}${r.clipped ? ' [clipped]' : ''}`);
              progress.report({ message: `${id}: step ${records.length}/${total}, ‖g‖ = ${fmt(batch[batch.length - 1].grad_norm)}`, increment: (100 * batch.length) / total / preset.runs.length });
            },
          });
          this.running = handle;
          const subscription = token.onCancellationRequested(() => handle.cancel());
          try {
            const result = await handle.done;
            const file = vscode.Uri.joinPath(folder, `${stamp}-${id}.jsonl`);
            await vscode.workspace.fs.writeFile(file, Buffer.from(records.map((r) => toJsonLine(r)).join('\n') + '\n'));
            const summary = describeRun(summarize(records), clipLabel(config.clip));
            this.log.info(`experiment ${id} ${result.reason} after ${result.steps} steps in ${result.elapsedMs} ms: ${summary} Log: ${file.fsPath}`);
            void vscode.window.showInformationMessage(`GradLens ${id}: ${summary}`, 'Open Log').then((choice) => {
              if (choice) void vscode.window.showTextDocument(file);
            });
          } catch (error) {
            this.log.error(`experiment ${id} failed: ${(error as Error).message}`);
            void vscode.window.showErrorMessage(`GradLens experiment ${id} failed: ${(error as Error).message}`);
          } finally {
            subscription.dispose();
            this.running = null;
          }
        }
      },
    );
  }

  dispose(): void {
    this.running?.cancel();
  }
}
