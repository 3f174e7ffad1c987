import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discoverMatched } from '../../src/logs/discovery';
import { openedPlacement, workspacePlacement } from '../../src/worker/logs-placement';
import { coreRow, WandbLogWriter } from '../logs/wandb-writer';

function write(file: string, content: string | Uint8Array): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

const jsonLines = (steps: number) => Array.from({ length: steps }, (_, step) => `{"step": ${step}, "loss": 1.5, "grad_norm": 0.5}\n`).join('');
const trainerState = (step: number) => JSON.stringify({ global_step: step, log_history: Array.from({ length: step }, (_, i) => ({ loss: 1, grad_norm: 1, step: i + 1 })) });

describe('logs worker: which runs the matched files make', () => {
  it('makes one run per tool layout and per loose log, placed by folder, leaving out what did not match', async () => {
    const top = mkdtempSync(path.join(os.tmpdir(), 'gradlens-discovery-'));
    const matched = [
      write(path.join(top, 'train.log'), 'step 1 loss 2.5 grad_norm 1.0\nstep 2 loss 2.4 grad_norm 1.1\n'),
      // Hugging Face output dir: the newest checkpoint's state is the run.
      ...[100, 300].map((step) => write(path.join(top, 'out', `checkpoint-${step}`, 'trainer_state.json'), trainerState(step))),
      write(path.join(top, 'out', 'trainer_state.json'), trainerState(200)),
      // MLflow file store: a run named by its meta.yaml; a deleted run stays hidden.
      ...['abc', 'old'].flatMap((id) => {
        write(path.join(top, 'mlruns', '1', id, 'meta.yaml'), id === 'abc' ? 'run_id: abc\nrun_name: brave-owl-12\nlifecycle_stage: active\n' : 'run_id: old\nlifecycle_stage: deleted\n');
        return [write(path.join(top, 'mlruns', '1', id, 'metrics', 'train', 'loss'), '1700000000000 2.5 0\n1700000000100 2.25 1\n')];
      }),
      // W&B offline run: its console output.log belongs to the run, it is not a run of its own.
      write(path.join(top, 'wandb', 'offline-run-20261123_120000-abc123xy', 'run-abc123xy.wandb'), wandbLog()),
      write(path.join(top, 'wandb', 'offline-run-20261123_120000-abc123xy', 'files', 'output.log'), 'step 1 loss 2.5\n'),
      // A hidden folder and a name no folder walk looks at, both matched by the user's globs.
      write(path.join(top, '.cache', 'grads.jsonl'), jsonLines(3)),
      write(path.join(top, 'logs', 'job.metrics'), jsonLines(4)),
    ];
    write(path.join(top, 'logs', 'unmatched.jsonl'), jsonLines(2));

    const folder = { path: top, name: 'project', qualify: false, files: matched };
    const specs = await discoverMatched(top, matched);
    const listed = specs.map((spec) => {
      const place = workspacePlacement(spec, folder);
      return `${spec.source.format} ${place.group} | ${place.name} | ${place.title}`;
    });
    assert.deepEqual(listed.sort(), [
      'hf-trainer-state project | out | out',
      'jsonl .cache | grads.jsonl | .cache/grads.jsonl',
      'jsonl logs | job.metrics | logs/job.metrics',
      'mlflow mlruns/1 | brave-owl-12 | mlruns/1/brave-owl-12',
      'text project | train.log | train.log',
      'wandb wandb | offline-run-20261123_120000-abc123xy | wandb/offline-run-20261123_120000-abc123xy',
    ]);
    assert.equal(specs.find((spec) => spec.source.format === 'hf-trainer-state')?.source.path, path.join(top, 'out', 'checkpoint-300', 'trainer_state.json'));
    assert.deepEqual(
      specs.map((spec) => workspacePlacement(spec, { ...folder, qualify: true }).group).sort(),
      ['project', 'project', 'project/.cache', 'project/logs', 'project/mlruns/1', 'project/wandb'],
      'with several workspace folders open, groups start with the folder name',
    );
  });

  it('places an opened file under Opened by its name, and an opened folder’s runs by their path from it', async () => {
    const top = mkdtempSync(path.join(os.tmpdir(), 'gradlens-opened-'));
    const file = write(path.join(top, 'sweep', 'lr-0.1', 'grads.jsonl'), jsonLines(2));
    const [spec] = await discoverMatched(top, [file]);
    assert.deepEqual(openedPlacement(spec, file, 'opened', true), { origin: 'opened', group: 'Opened', name: 'grads.jsonl', title: 'grads.jsonl', showEmpty: true });
    assert.deepEqual(openedPlacement(spec, path.join(top, 'sweep'), 'opened', false), { origin: 'opened', group: 'Opened', name: 'grads.jsonl', title: 'sweep/lr-0.1/grads.jsonl', showEmpty: false });
    assert.equal(openedPlacement(spec, file, 'experiment', true).group, 'Experiments');
  });
});

function wandbLog(): Uint8Array {
  const writer = new WandbLogWriter();
  for (let i = 0; i < 3; i++) writer.write(coreRow([[['train', 'loss'], String(3 - i * 0.1)], ['grad_norm', '1.5']]));
  return writer.bytes();
}
