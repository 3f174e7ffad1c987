import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LogsService, DEFAULT_LOGS_SETTINGS } from '../src/worker/logs-service';
import { writeSweep } from './sweep-folder';
const N = Number(process.argv[2] ?? 1000);
const gc = (globalThis as any).gc as () => void;
const mem = () => { gc(); gc(); const m = process.memoryUsage(); return { heap: m.heapUsed / 1e6, ab: m.arrayBuffers / 1e6, rss: m.rss / 1e6 }; };
async function main() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'gl-mem-'));
  const files = writeSweep(root, N);
  const before = mem();
  let done!: () => void; const finished = new Promise<void>((r) => (done = r));
  const service = new LogsService((m: any) => { if (m.type === 'done') done(); });
  service.handle({ type: 'configure', settings: DEFAULT_LOGS_SETTINGS } as any);
  service.handle({ type: 'workspace', requestId: 1, folders: [{ path: root, name: 'sweep', qualify: false, files }] } as any);
  await finished;
  const after = mem();
  console.log(N, 'runs: heap +', (after.heap - before.heap).toFixed(1), 'MB, arrayBuffers +', (after.ab - before.ab).toFixed(1), 'MB, per run KB', ((after.heap + after.ab - before.heap - before.ab) * 1000 / N).toFixed(0));
  if (process.argv[3]) { const v8 = await import('node:v8'); v8.writeHeapSnapshot('/tmp/sweep.heapsnapshot'); }
  rmSync(root, { recursive: true, force: true });
  process.exit(0);
}
main();
