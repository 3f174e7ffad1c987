import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PythonAnalyzer } from '../../src/python';

const nodeModules = path.join(__dirname, '..', '..', 'node_modules');
let analyzer: Promise<PythonAnalyzer> | null = null;

/** The analyzer loaded the way the extension loads it: from one directory holding both wasm files (as dist/ will). */
export function loadAnalyzer(): Promise<PythonAnalyzer> {
  analyzer ??= (async () => {
    const wasmDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradlens-wasm-'));
    fs.copyFileSync(path.join(nodeModules, 'web-tree-sitter', 'tree-sitter.wasm'), path.join(wasmDir, 'tree-sitter.wasm'));
    fs.copyFileSync(path.join(nodeModules, 'tree-sitter-python', 'tree-sitter-python.wasm'), path.join(wasmDir, 'tree-sitter-python.wasm'));
    return PythonAnalyzer.load(wasmDir);
  })();
  return analyzer;
}

export const corpusDir = path.join(__dirname, 'corpus');
export const goldenDir = path.join(__dirname, 'golden');

export function readCorpus(name: string): string {
  return fs.readFileSync(path.join(corpusDir, name), 'utf8');
}
