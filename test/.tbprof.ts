import { createWriteStream, existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tfEventsReaderWith } from '../src/logs/formats/tfevents';
import { feedFile } from '../src/logs/files';
import { RunBuilder } from '../src/logs/run';
import { encodeEvent, frameRecord, scalarEvent } from './logs/tfevents-writer';
const FILE = '/tmp/tb/events.out.tfevents.bench';
const P = ['lstm.weight_ih_l0','lstm.weight_hh_l0','lstm.bias_ih_l0','lstm.bias_hh_l0','l1.weight','l1.bias','l2.weight','l2.bias','emb.weight','head.weight','head.bias','norm.weight'];
async function write(steps: number) {
  const s = createWriteStream(FILE);
  const chunks: Uint8Array[] = [frameRecord(encodeEvent({ fileVersion: 'brain.Event:2' }))];
  let v = 1.2345;
  for (let step = 0; step < steps; step++) {
    chunks.push(frameRecord(encodeEvent(scalarEvent(step, 'train/loss', v))));
    chunks.push(frameRecord(encodeEvent(scalarEvent(step, 'grad_norm/total', v * 2))));
    for (const p of P) chunks.push(frameRecord(encodeEvent(scalarEvent(step, `grad_norm/${p}`, (v = (v * 1.0001) % 7 + 0.1)))));
    if (chunks.length > 10000) { s.write(Buffer.concat(chunks)); chunks.length = 0; }
  }
  s.write(Buffer.concat(chunks));
  await new Promise((r) => s.end(r));
}
async function main() {
  if (!existsSync(FILE)) await write(300000);
  const mode = process.argv[2] ?? 'wasm';
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    const builder = new RunBuilder({ id: 'b', path: FILE, files: [FILE], format: 'tfevents' });
    const reader = tfEventsReaderWith(mode as 'wasm')(builder, FILE);
    await feedFile(FILE, (b) => reader.push(b));
    reader.end();
    const run = builder.runs()[0];
    console.log(mode, (performance.now() - t).toFixed(0), 'ms', run.series.length, 'series');
  }
}
main();
