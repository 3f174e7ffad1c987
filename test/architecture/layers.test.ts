/**
 * The source's layers, as the compiler cannot state them: each top-level
 * folder of src/ imports only from folders in lower layers (and from
 * itself), never upward and never sideways. The pure core (engine, logs,
 * diagnosis, protocol, ...) thus never reaches a front door, and the front
 * doors (CLI, extension host, webview) never reach each other.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SRC = path.join(__dirname, '../../src');

/** Lowest first. A folder may import from any folder of a lower layer. */
const LAYERS: readonly (readonly string[])[] = [
  ['shared'],
  ['engine', 'logs', 'instrument'],
  ['diagnosis'],
  ['protocol', 'python'],
  ['playground', 'report'],
  ['worker', 'server'],
  ['cli', 'extension', 'webview'],
];
const layerOf = new Map(LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer] as const)));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sources(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every relative module a file imports or re-exports (type-only imports too: they tie the layers as much). */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
}

const folderOf = (file: string): string => path.relative(SRC, file).split(path.sep)[0];

describe('source layers', () => {
  it('places every folder of src/ in a layer', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    assert.deepEqual(folders.filter((f) => !layerOf.has(f)), [], 'a new folder needs its place in LAYERS');
  });

  it('imports only downward: no folder reaches a folder of its own layer or a higher one', () => {
    const wrong: string[] = [];
    for (const file of sources(SRC)) {
      const from = folderOf(file);
      for (const specifier of relativeImports(file)) {
        const to = folderOf(path.resolve(path.dirname(file), specifier));
        if (to === from) continue;
        if (!(layerOf.get(to)! < layerOf.get(from)!)) wrong.push(`${path.relative(SRC, file)} imports ${specifier} (${from} → ${to})`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('sees the imports it judges (the check itself reads the source)', () => {
    const diagnose = path.join(SRC, 'diagnosis', 'diagnose.ts');
    assert.ok(relativeImports(diagnose).some((s) => s.startsWith('../logs/')), 'diagnose.ts imports from logs');
  });
});
