/**
 * What the end-to-end tests share: GradLens's API, the workspace's files,
 * waiting for what a person would wait for, and the driver's inspector,
 * which reads the webviews' DOM from the Chromium side.
 */
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { GradLensApi } from '../../../src/extension/api';
import type { RunSummary } from '../../../src/worker/logs-protocol';

export const EXTENSION_ID = 'gradlens.gradlens';

export async function gradlens(): Promise<GradLensApi> {
  const extension = vscode.extensions.getExtension<GradLensApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is installed`);
  return extension.activate();
}

export function workspacePath(...parts: string[]): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'a workspace folder is open');
  return path.join(folder.uri.fsPath, ...parts);
}

/**
 * Puts test/python/instrument/train_shapes.py (a PyTorch script that knows nothing of GradLens) into the
 * workspace, for the tests that run it: only then, so that earlier tests see one training script.
 */
export function shapesScript(): string {
  const target = workspacePath('scripts', 'train_shapes.py');
  mkdirSync(path.dirname(target), { recursive: true });
  // Compiled into out/e2e/: the repository is two folders up.
  copyFileSync(path.join(__dirname, '..', '..', 'test', 'python', 'instrument', 'train_shapes.py'), target);
  return target;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something other than undefined; fails naming `what` and the last state after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, describe?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `; last seen: ${describe()}` : ''}`);
    await sleep(100);
  }
}

/** The listed run whose path is `file` (or is inside `file`). */
export function runAt(api: GradLensApi, file: string): RunSummary | undefined {
  return api.runs().find((run) => run.path === file || run.path.startsWith(file + path.sep));
}

export function codeOf(diagnostic: vscode.Diagnostic): string {
  const code = diagnostic.code;
  return String(typeof code === 'object' ? code.value : code);
}

/** The first diagnostic of `uri` that `wanted` accepts, once the language server has published it. */
export function diagnosticOf(uri: vscode.Uri, wanted: (d: vscode.Diagnostic) => boolean, what: string): Promise<vscode.Diagnostic> {
  return waitFor(what, () => vscode.languages.getDiagnostics(uri).find(wanted), 30_000, () =>
    vscode.languages.getDiagnostics(uri).map((d) => `${codeOf(d)}@${d.range.start.line + 1}`).join(', '),
  );
}

/** The open GradLens dashboard tab, once there is one. */
export function dashboardTab(): Promise<vscode.Tab> {
  return waitFor('the dashboard tab', () =>
    vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('gradlens.dashboard')),
  );
}

export interface InspectRequest {
  /** `workbench`, or the `data-page` of a webview's body (`dashboard`, `playground`). */
  frame: string;
  /** Click the first element matching `selector` (and containing `text`), before reading anything. */
  click?: { selector: string; text?: string };
  /** name → CSS selector: the trimmed text of every match. */
  text?: Record<string, string>;
  /** name → CSS selector of canvases: how many pixels they have drawn. */
  ink?: Record<string, string>;
  /** Also save a screenshot of the window, as this file in the run's artifacts. */
  screenshot?: string;
}

export interface InspectResult {
  found: boolean;
  text: Record<string, string[]>;
  ink: Record<string, number>;
}

/** Whether the driver's inspector is there: under code-server it is; under @vscode/test-electron the DOM checks are skipped. */
export const canInspect = (): boolean => process.env.GRADLENS_E2E_INSPECTOR !== undefined;

export function inspect(request: InspectRequest): Promise<InspectResult> {
  const address = process.env.GRADLENS_E2E_INSPECTOR;
  assert.ok(address, 'the driver inspector is running');
  const body = JSON.stringify({ ...request, screenshot: request.screenshot && path.join(process.env.GRADLENS_E2E_ARTIFACTS ?? '.', request.screenshot) });
  return new Promise((resolve, reject) => {
    const req = http.request(address, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as InspectResult) : reject(new Error(`inspector: ${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
