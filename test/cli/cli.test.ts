import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBundles, ROOT } from '../bundles';

const REFERENCE = path.join(ROOT, 'test/fixtures/reference_grads_float64.json');
const REAL = path.join(ROOT, 'test/fixtures/real');
const dir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-cli-'));
/** The package's layout: the bundles in dist/, the style sheets in media/. */
const CLI = path.join(dir, 'dist', 'cli.js');

function gradlens(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Parses a JSON line the way Python would, bare NaN and Infinity included. */
function parseLine(line: string): Record<string, unknown> {
  return JSON.parse(line.replace(/\bNaN\b/g, '"NaN"').replace(/-?\bInfinity\b/g, (m) => `"${m}"`)) as Record<string, unknown>;
}

describe('gradlens CLI', () => {
  before(() => {
    // The CLI finds its worker and the report's bundle beside itself, as in dist/.
    buildBundles(['cli', 'training-worker', 'webview'], { outdir: path.join(dir, 'dist') });
    cpSync(path.join(ROOT, 'media'), path.join(dir, 'media'), { recursive: true });
  });

  describe('analyze', () => {
    interface JsonRun {
      id: string;
      format: string;
      steps: number;
      gradNorm: { firstNonFiniteStep: number | null };
      loss: { last: number | string | null };
      findings: { kind: string; severity: string; step: number; layers: string[]; hints: { id: string }[] }[];
      warnings: string[];
    }
    const analyzeJson = (...args: string[]) => {
      const r = gradlens('analyze', '--json', ...args);
      return { code: r.code, runs: (JSON.parse(r.stdout) as { runs: JsonRun[] }).runs, stderr: r.stderr };
    };

    it('reads a folder of real runs in every format and finds each one', () => {
      const { code, runs } = analyzeJson(REAL);
      assert.equal(code, 1, 'errors in the exploding runs fail the default --fail-on error');
      const byId = new Map(runs.map((run) => [run.id, run]));
      for (const id of ['real/torch_lstm_sgd_noclip/grads.jsonl', 'real/torch_lstm_sgd_noclip/train.log', 'real/torch_lstm_sgd_noclip/tb', 'real/lightning_rnn_noclip/csv/version_0/metrics.csv', 'real/lightning_rnn_noclip/tb/version_0', 'real/hf_gpt2_lr3e-4_clip1', 'real/hf_gpt2_lr3e-4_clip1/runs']) {
        assert.ok(byId.has(id), `missing ${id}; found ${[...byId.keys()].join(', ')}`);
      }
      assert.equal(byId.get('real/torch_lstm_sgd_noclip/grads.jsonl')!.format, 'jsonl');
      assert.equal(byId.get('real/hf_gpt2_lr3e-4_clip1')!.format, 'hf-trainer-state');
      assert.equal(byId.get('real/torch_lstm_sgd_noclip/tb')!.format, 'tfevents');
      for (const id of ['real/torch_lstm_sgd_noclip/grads.jsonl', 'real/torch_lstm_sgd_noclip/train.log', 'real/torch_lstm_sgd_noclip/tb']) {
        const explosion = byId.get(id)!.findings.find((f) => f.kind === 'explosion');
        assert.equal(explosion?.step, 3, id);
      }
      const nan = byId.get('real/torch_rnn_radius1.6_noclip/grads.jsonl')!;
      assert.equal(nan.gradNorm.firstNonFiniteStep, 1);
      assert.equal(nan.loss.last, 'NaN', 'non-finite numbers are spelled as strings in --json');
      for (const run of runs) assert.deepEqual(run.warnings, [], run.id);
    });

    it('prints a table and the findings with hints, and exits 0 for a healthy run', () => {
      const r = gradlens('analyze', path.join(REAL, 'hf_gpt2_lr3e-4_clip1/trainer_state.json'));
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /300 steps/);
      assert.match(r.stdout, /clip threshold\s+recommended/);
      assert.match(r.stdout, /No findings: the gradients look healthy/);
      const bad = gradlens('analyze', path.join(REAL, 'torch_rnn_radius1.6_noclip/grads.jsonl'));
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /ERROR\s+nonfinite, steps 1–299/);
      assert.match(bad.stdout, /worst parameters/);
      assert.match(bad.stdout, /→ Clip the gradient norm/);
    });

    it('--fail-on sets which severity fails, and --threshold moves the explosion threshold', () => {
      const clipped = path.join(REAL, 'torch_lstm_sgd_clip1/grads.jsonl');
      assert.equal(gradlens('analyze', clipped).code, 0, 'a contained explosion is a warning');
      assert.equal(gradlens('analyze', clipped, '--fail-on', 'warn').code, 1);
      assert.equal(gradlens('analyze', path.join(REAL, 'torch_rnn_radius1.6_noclip/grads.jsonl'), '--fail-on', 'never').code, 0);
      const healthy = path.join(REAL, 'hf_gpt2_lr3e-4_clip1/trainer_state.json');
      assert.deepEqual(analyzeJson(healthy).runs[0].findings, []);
      assert.equal(analyzeJson(healthy, '--threshold', '0.2').runs[0].findings[0]?.kind, 'explosion');
    });

    it('reads tags through --tag-role rules', () => {
      const log = path.join(dir, 'custom.jsonl');
      writeFileSync(log, Array.from({ length: 30 }, (_, i) => JSON.stringify({ step: i, g_total: i === 20 ? 5000 : 1 })).join('\n') + '\n');
      assert.equal(analyzeJson(log).runs[0].findings.length, 0);
      assert.equal(analyzeJson(log, '--tag-role', 'g_total=gradNorm').runs[0].findings[0].kind, 'explosion');
    });

    it('exits 2 for bad usage or input with no training data, naming the file and line', () => {
      assert.equal(gradlens('analyze').code, 2);
      assert.match(gradlens('analyze', path.join(dir, 'missing.jsonl')).stderr, /cannot read/);
      assert.equal(gradlens('analyze', REAL, '--tag-role', 'x=nonsense').code, 2);
      const garbage = path.join(dir, 'garbage.jsonl');
      writeFileSync(garbage, '{"step": 0, "loss": \n');
      const r = gradlens('analyze', garbage);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /garbage\.jsonl:1: not a JSON object/);
    });

    it('exits 2 for numbers of which none is a loss or gradient norm, saying which series it found and how to name them', () => {
      const log = path.join(dir, 'unnamed.csv');
      writeFileSync(log, 'step,xent,lr\n' + Array.from({ length: 30 }, (_, i) => `${i},${3 - i / 30},0.001`).join('\n') + '\n');
      const r = gradlens('analyze', log);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, /no training data \(no loss or gradient norm\) in .*unnamed\.csv/);
      assert.match(r.stderr, /2 numeric series found, none recognised as a training loss or a gradient norm: "xent", "lr"\. GradLens looks for tags such as loss, train\/loss, grad_norm .* To use them, give their roles: --tag-role "xent=loss"/);
      assert.match(r.stdout, /No training steps/);
      const named = gradlens('analyze', log, '--tag-role', 'xent=loss');
      assert.equal(named.code, 0, named.stderr);
      assert.match(named.stdout, /No findings, but this log has no gradient norms/);
    });
  });

  describe('faults', () => {
    /** The CLI under a descriptor limit, as on macOS (256 by default) or a tight CI container. */
    const underFileLimit = (limit: number, ...args: string[]) => {
      const r = spawnSync('bash', ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, process.execPath, CLI, ...args], { encoding: 'utf8', cwd: dir });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };

    it('reads every run of a folder of 300 under a 64-descriptor limit, and never exits 0 with runs it could not read', () => {
      const folder = mkdtempSync(path.join(os.tmpdir(), 'gradlens-many-'));
      for (let i = 0; i < 300; i++) writeFileSync(path.join(folder, `run${i}.jsonl`), '{"step": 0, "loss": 1, "grad_norm": 1}\n{"step": 1, "loss": 1, "grad_norm": 1}\n');
      const roomy = underFileLimit(64, 'analyze', '--json', '--fail-on', 'never', folder);
      assert.equal(roomy.code, 0, roomy.stderr);
      assert.equal((JSON.parse(roomy.stdout) as { runs: unknown[] }).runs.length, 300);
      // So tight a limit that some opens fail: the exit code says the result is incomplete.
      const tight = underFileLimit(20, 'analyze', '--json', '--fail-on', 'never', folder);
      if (tight.code === 0) assert.equal((JSON.parse(tight.stdout) as { runs: unknown[] }).runs.length, 300);
      else {
        assert.equal(tight.code, 2);
        assert.match(tight.stderr, /could not be read|cannot read|no training data/);
      }
    });

    it('exits 3, not the code of a finding, on an error it did not expect: here a broken install missing its webview bundle', () => {
      const lonely = mkdtempSync(path.join(os.tmpdir(), 'gradlens-broken-'));
      cpSync(CLI, path.join(lonely, 'dist', 'cli.js'));
      // The style sheets are there, so the one file missing is the bundle (the report reads all three at once).
      cpSync(path.join(ROOT, 'media'), path.join(lonely, 'media'), { recursive: true });
      const r = spawnSync(process.execPath, [path.join(lonely, 'dist', 'cli.js'), 'report', path.join(REAL, 'torch_lstm_sgd_noclip', 'grads.jsonl'), '--out', path.join(lonely, 'r.html')], { encoding: 'utf8' });
      assert.equal(r.status, 3);
      assert.match(r.stderr, /^gradlens report: internal error, please report it: Error: ENOENT.*webview\.js/);
    });
  });

  describe('train', () => {
    it('writes one JSON line per step to stdout and a summary to stderr', () => {
      const r = gradlens('train', '--steps', '5', '--hidden', '8', '--seq-len', '10');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n').map(parseLine);
      assert.deepEqual(lines.map((l) => l.step), [0, 1, 2, 3, 4]);
      for (const l of lines) {
        for (const key of ['loss', 'grad_norm', 'lr', 'clipped', 'layers', 'weight_norms', 'nonfinite']) assert.ok(key in l, `missing ${key}`);
      }
      assert.match(r.stderr, /5 steps; loss/);
    });

    it('writes NaN and Infinity as bare Python-style values, never null', () => {
      const out = path.join(dir, 'nan.jsonl');
      const r = gradlens('train', '--steps', '8', '--hidden', '8', '--seq-len', '10', '--lr', '1e9', '--out', out);
      assert.equal(r.code, 0, r.stderr);
      const text = readFileSync(out, 'utf8');
      assert.match(text, /"grad_norm": ?NaN|"grad_norm":NaN/);
      assert.doesNotMatch(text, /null/);
      assert.match(r.stderr, /first became NaN\/Inf at step/);
    });

    it('writes one file per run for a preset with several runs', () => {
      const out = path.join(dir, 'regimes.jsonl');
      const r = gradlens('train', '--preset', 'regimes', '--steps', '2', '--out', out);
      assert.equal(r.code, 0, r.stderr);
      for (const id of ['radius-0.9', 'radius-1.0', 'radius-1.1']) assert.ok(existsSync(path.join(dir, `regimes-${id}.jsonl`)), id);
    });

    it('stops at the stop rule and says so', () => {
      const r = gradlens('train', '--preset', 'rnn-exploding', '--stop-above', '1000');
      assert.equal(r.code, 0, r.stderr);
      const last = parseLine(r.stdout.trim().split('\n').pop()!);
      assert.ok(!((last.grad_norm as number) <= 1000));
      assert.match(r.stderr, /Stopped by the stop rule/);
    });

    it('refuses an --out it cannot write before training, with exit code 2', () => {
      const r = gradlens('train', '--out', path.join(dir, 'no-such-folder', 'x.jsonl'));
      assert.equal(r.code, 2);
      assert.match(r.stderr, /cannot write .*no-such-folder.*ENOENT/);
    });

    const badOptions: Array<[string[], RegExp]> = [
      [['--hidden', 'abc'], /--hidden expects a whole number ≥ 1 \(got "abc"\)/],
      [['--lr', '-1'], /--lr expects a positive number/],
      [['--model', 'transformer'], /--model expects one of rnn, lstm, gru, mlp/],
      [['--clip', 'norm:-1'], /--clip expects none, norm:X or value:X/],
      [['--wat'], /unknown option --wat/],
      [['--task', 'adding', '--input', '3'], /--task adding has input size 2/],
      [['--steps'], /--steps needs a value/],
      [['--model', 'mlp', '--tbptt', '4'], /tbptt must be 0 for an MLP/],
    ];
    for (const [args, message] of badOptions) {
      it(`rejects ${args.join(' ')} with exit code 2 and a one-line error`, () => {
        const r = gradlens('train', ...args);
        assert.equal(r.code, 2);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split('\n').length, 1);
      });
    }
  });

  describe('verify-reference', () => {
    it('matches every PyTorch reference case', () => {
      const r = gradlens('verify-reference', REFERENCE);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /10 cases, largest relative error .* all match/);
    });

    it('prints the computed values with --json', () => {
      const r = gradlens('verify-reference', REFERENCE, '--json');
      assert.equal(r.code, 0);
      const out = JSON.parse(r.stdout) as { cases: Array<Record<string, unknown>> };
      assert.equal(out.cases.length, 10);
      assert.deepEqual(Object.keys(out.cases[0]).sort(), ['adam_lr0.01_step1_after_clip', 'clip_grad_norm_0.5', 'grad_norm', 'grads', 'loss', 'name', 'sgd_lr0.1_after_clip']);
    });

    it('exits 1 and names the value when a case does not match', () => {
      const file = JSON.parse(readFileSync(REFERENCE, 'utf8')) as { cases: Array<{ grads: Record<string, { data: number[] }> }> };
      file.cases[2].grads['rnn.weight_hh_l0'].data[3] *= 1 + 1e-6;
      const tampered = path.join(dir, 'tampered.json');
      writeFileSync(tampered, JSON.stringify(file));
      const r = gradlens('verify-reference', tampered);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /FAIL lstm_1layer_mse .* at grads\.rnn\.weight_hh_l0\[3\]/);
    });

    it('exits 2 on a missing or malformed file', () => {
      assert.equal(gradlens('verify-reference', path.join(dir, 'nope.json')).code, 2);
      const bad = path.join(dir, 'bad.json');
      writeFileSync(bad, '{"format": "something-else"}');
      const r = gradlens('verify-reference', bad);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /gradlens-reference-v1/);
    });
  });

  it('prints help for every command', () => {
    for (const command of ['analyze', 'report', 'train', 'verify-reference', 'demo']) {
      const r = gradlens(command, '--help');
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`Usage: gradlens ${command}`));
    }
    assert.equal(gradlens().code, 2);
    assert.equal(gradlens('frobnicate').code, 2);
  });

  it('demo trains both runs, writes their logs and explains the difference', () => {
    const r = gradlens('demo', '--out-dir', path.join(dir, 'demo'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rnn-exploding\s+none/);
    assert.match(r.stdout, /rnn-clipped\s+norm ≤ 1/);
    assert.match(r.stdout, /What happened/);
    assert.ok(existsSync(path.join(dir, 'demo', 'rnn-exploding.jsonl')));
    assert.match(r.stdout, /open it in any browser\): .*report\.html/);
    assert.match(readFileSync(path.join(dir, 'demo', 'report.html'), 'utf8'), /id="gradlens-data">\{"type":"show","runs":\[\{"key":.*rnn-exploding.*rnn-clipped/s);
  });

  describe('report', () => {
    it('writes one self-contained HTML file, and the CSV and Markdown beside it', () => {
      const out = path.join(dir, 'reports', 'lstm.html');
      const r = gradlens('report', path.join(REAL, 'torch_lstm_sgd_noclip', 'grads.jsonl'), '--out', out, '--csv', '--markdown');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), [`wrote ${out}`, `wrote ${out.replace(/html$/, 'csv')}`, `wrote ${out.replace(/html$/, 'md')}`]);
      const html = readFileSync(out, 'utf8');
      assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
      assert.ok(!/<(script|link|img)\b[^>]*\b(src|href)=/.test(html), 'nothing is loaded from outside the file');
      const csv = readFileSync(out.replace(/html$/, 'csv'), 'utf8').split('\n');
      assert.match(csv[0], /^run,step,.*grad_norm/);
      assert.equal(csv.filter((line) => line.startsWith('grads.jsonl,')).length, 400, 'a row per step');
      assert.match(readFileSync(out.replace(/html$/, 'md'), 'utf8'), /\*\*Error: explosion, steps 3–4\.\*\*/);
    });

    it('--csv writes every value of a long run, per-parameter norms included (the dashboard’s payload thins them, the export does not)', () => {
      const log = path.join(dir, 'long', 'grads.jsonl');
      mkdirSync(path.dirname(log), { recursive: true });
      const steps = 20_000;
      const lines = Array.from({ length: steps }, (_, step) => JSON.stringify({ step, grad_norm: 1 + (step % 7), layers: { 'rnn.weight_hh_l0': 1 + (step % 5), 'head.weight': 0.5 + (step % 3) } }));
      writeFileSync(log, lines.join('\n') + '\n');
      const out = path.join(dir, 'long', 'report.html');
      assert.equal(gradlens('report', log, '--out', out, '--csv').code, 0);
      const rows = readFileSync(path.join(dir, 'long', 'report.csv'), 'utf8').trim().split('\n');
      const header = rows[0].split(',');
      const columns = ['layers.rnn.weight_hh_l0', 'layers.head.weight'].map((tag) => header.indexOf(tag));
      assert.ok(columns.every((c) => c > 0), `a column per parameter: ${header.join(',')}`);
      const cells = rows.slice(1).map((row) => row.split(','));
      assert.equal(cells.length, steps, 'a row per step');
      assert.equal(cells.flatMap((row) => columns.map((c) => row[c])).filter((cell) => cell !== '').length, 2 * steps, 'every per-parameter value');
      assert.deepEqual(cells[12_345].slice(1), ['12345', ...header.slice(2).map((tag) => String({ grad_norm: 1 + (12345 % 7), 'layers.rnn.weight_hh_l0': 1 + (12345 % 5), 'layers.head.weight': 0.5 + (12345 % 3) }[tag]))]);
    });

    it('never overwrites a log it reads, and replaces an existing report only with --force', () => {
      const runDir = mkdtempSync(path.join(os.tmpdir(), 'gradlens-report-inputs-'));
      const log = path.join(runDir, 'grads.jsonl');
      const metrics = path.join(runDir, 'metrics.csv');
      cpSync(path.join(REAL, 'torch_lstm_sgd_noclip', 'grads.jsonl'), log);
      cpSync(path.join(REAL, 'lightning_rnn_noclip', 'csv', 'version_0', 'metrics.csv'), metrics);
      const before = [readFileSync(log), readFileSync(metrics)];
      const intoLog = gradlens('report', log, '--out', log, '--force');
      assert.equal(intoLog.code, 2);
      assert.match(intoLog.stderr, /grads\.jsonl is a log the report reads; it is never overwritten/);
      // metrics.html's CSV beside it would be metrics.csv, the log being reported.
      const besideLog = gradlens('report', metrics, '--out', path.join(runDir, 'metrics.html'), '--csv');
      assert.equal(besideLog.code, 2);
      assert.match(besideLog.stderr, /metrics\.csv is a log the report reads/);
      assert.ok(!existsSync(path.join(runDir, 'metrics.html')), 'a refused report writes nothing');
      assert.deepEqual([readFileSync(log), readFileSync(metrics)], before);

      const out = path.join(runDir, 'report.html');
      assert.equal(gradlens('report', log, '--out', out, '--markdown').code, 0);
      const again = gradlens('report', log, '--out', out, '--markdown');
      assert.equal(again.code, 2);
      assert.match(again.stderr, /report\.html, .*report\.md already exists; pass --force to replace it/);
      assert.equal(gradlens('report', log, '--out', out, '--markdown', '--force').code, 0);
    });

    it('exits 2 naming a path that holds no training data', () => {
      writeFileSync(path.join(dir, 'empty.jsonl'), '');
      const r = gradlens('report', path.join(dir, 'empty.jsonl'));
      assert.equal(r.code, 2);
      assert.match(r.stderr, /gradlens report: no training data found in .*empty\.jsonl/);
    });
  });
});
