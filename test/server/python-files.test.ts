import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { CodeAction, Diagnostic, Hover, MarkupContent, TextDocumentEdit, TextEdit } from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { bundleServer, fileUri, hugeScript, removeBundle, ServerSession } from './harness';

const CORPUS = path.resolve(__dirname, '..', 'python-rules', 'corpus');
const GOLDEN = path.resolve(__dirname, '..', 'python-rules', 'golden');
const LSTM_LOG = path.resolve(__dirname, '..', 'fixtures', 'real', 'torch_lstm_sgd_noclip', 'grads.jsonl');

const WARNING = 2;
const INFORMATION = 3;

function summary(diagnostics: Diagnostic[]): [number, string, number | undefined][] {
  return diagnostics.map((d) => [d.range.start.line, String(d.code), d.severity]);
}

/** The corpus's golden file for a script's first fix of `code`, named `<script>.<code>.L<editor line>.fix1.py`, and the 0-based line it names. */
function golden(script: string, code: string): { line: number; text: string } {
  const stem = script.replace(/\.py$/, '');
  const name = readdirSync(GOLDEN).find((file) => file.startsWith(`${stem}.${code}.L`) && file.endsWith('.fix1.py'));
  assert.ok(name, `a golden file for ${script} ${code}`);
  return { line: Number(/\.L(\d+)\./.exec(name)![1]) - 1, text: readFileSync(path.join(GOLDEN, name), 'utf8') };
}

/** The quick fixes offered for a diagnostic (the logger action, a refactoring, may come with them on a loop). */
async function codeActions(server: ServerSession, uri: string, diagnostic: Diagnostic): Promise<CodeAction[]> {
  const actions: CodeAction[] = await server.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: diagnostic.range, context: { diagnostics: [diagnostic] } });
  return actions.filter((action) => action.kind === 'quickfix');
}

/** Applies a code action's edit the way an editor does, after checking it targets `version` of `uri`. */
function applyAction(action: CodeAction, uri: string, version: number, text: string): string {
  const changes = action.edit?.documentChanges;
  assert.ok(changes && changes.length === 1, 'one versioned document edit');
  const change = changes[0] as TextDocumentEdit;
  assert.deepEqual(change.textDocument, { uri, version });
  return TextDocument.applyEdits(TextDocument.create(uri, 'python', version, text), change.edits);
}

/** The edits that take `fixed` back to `original`, as an editor's undo of `edits` does: each inserted text replaced by the text it replaced. */
function inverseEdits(original: string, fixed: string, edits: TextEdit[]): TextEdit[] {
  const before = TextDocument.create('file:///before.py', 'python', 1, original);
  const after = TextDocument.create('file:///after.py', 'python', 2, fixed);
  // In document order; edits at the same place keep their order, as they were applied.
  const ordered = edits.map((edit) => ({ start: before.offsetAt(edit.range.start), end: before.offsetAt(edit.range.end), newText: edit.newText })).sort((a, b) => a.start - b.start);
  let shift = 0;
  return ordered.map(({ start, end, newText }) => {
    const at = start + shift;
    shift += newText.length - (end - start);
    return { range: { start: after.positionAt(at), end: after.positionAt(at + newText.length) }, newText: original.slice(start, end) };
  });
}

describe('language server: Python training code, through the protocol', function () {
  let bundle: { dir: string; script: string };
  let server: ServerSession;
  let scratch: string;

  /** Copies a corpus script into its own folder (so no log there sways the threshold). */
  function place(script: string, folder = script): string {
    const dir = path.join(scratch, folder);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, script);
    copyFileSync(path.join(CORPUS, script), file);
    return file;
  }

  before(async () => {
    bundle = await bundleServer();
    server = await ServerSession.start(bundle.script);
    scratch = mkdtempSync(path.join(tmpdir(), 'gradlens-python-'));
  });

  after(async () => {
    if (server.alive) await server.stop();
    removeBundle(bundle.dir);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('reports GL001 on a plain loop, linked to its README section, and its fix gives the golden file', async () => {
    const file = place('plain_loop.py');
    const uri = fileUri(file);
    const text = readFileSync(file, 'utf8');
    const diagnostics = await server.open(uri, 'python', text);
    const expected = golden('plain_loop.py', 'GL001');
    assert.deepEqual(summary(diagnostics), [[expected.line, 'GL001', INFORMATION]]);
    assert.equal(diagnostics[0].source, 'GradLens');
    assert.equal(diagnostics[0].codeDescription?.href, 'https://github.com/gradlens/gradlens#gl001-training-step-without-gradient-clipping');
    const actions = await codeActions(server, uri, diagnostics[0]);
    assert.equal(actions.length, 1);
    assert.equal(actions[0].kind, 'quickfix');
    assert.equal(actions[0].isPreferred, true);
    assert.equal(actions[0].title, 'Clip gradients before the step (max_norm=1.0)');
    assert.equal(applyAction(actions[0], uri, 1, text), expected.text);
  });

  it('warns on an RNN language model, and keeps CRLF line endings in the fix', async () => {
    const file = place('rnn_lm.py');
    const crlf = readFileSync(file, 'utf8').replace(/\r?\n/g, '\r\n');
    writeFileSync(file, crlf);
    const uri = fileUri(file);
    const expected = golden('rnn_lm.py', 'GL001');
    // Other rules fire on this script too; this test is about the step without clipping.
    const clipping = (await server.open(uri, 'python', crlf)).find((d) => d.code === 'GL001');
    assert.ok(clipping);
    assert.deepEqual(summary([clipping]), [[expected.line, 'GL001', WARNING]]);
    const [action] = await codeActions(server, uri, clipping);
    const fixed = applyAction(action, uri, 1, crlf);
    assert.equal(fixed, expected.text.replace(/\r?\n/g, '\r\n'));
    assert.doesNotMatch(fixed, /[^\r]\n/);
  });

  it('takes the clip threshold from the logs beside the script', async () => {
    const file = place('plain_loop.py', 'with-logs');
    copyFileSync(LSTM_LOG, path.join(path.dirname(file), 'grads.jsonl'));
    const uri = fileUri(file);
    const clipping = (await server.open(uri, 'python', readFileSync(file, 'utf8'))).find((d) => d.code === 'GL001');
    assert.ok(clipping);
    const [action] = await codeActions(server, uri, clipping);
    // The LSTM run's recommendation is 3.378..., rounded to two significant digits.
    assert.equal(action.title, 'Clip gradients before the step (max_norm=3.4)');
    assert.match((action.edit?.documentChanges?.[0] as TextDocumentEdit).edits.map((e) => e.newText).join(''), /max_norm=3\.4\)/);
  });

  it('offers no fix computed for an older version, and re-diagnoses the new text after typing stops', async () => {
    const file = place('plain_loop.py', 'typing');
    const uri = fileUri(file);
    const text = readFileSync(file, 'utf8');
    const before = (await server.open(uri, 'python', text)).find((d) => d.code === 'GL001');
    assert.ok(before);
    const fixed = golden('plain_loop.py', 'GL001').text;
    const republished = server.nextDiagnostics(uri);
    await server.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: fixed.slice(0, fixed.length - 1) }],
    });
    // Version 2 is not analysed yet (typing debounce): the version-1 fix must not be offered for it.
    assert.deepEqual(await codeActions(server, uri, before), []);
    await server.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 3 }, contentChanges: [{ text: fixed }] });
    assert.deepEqual(await republished, []);
  });

  it('offers "Log gradient norms with GradLens" on a training loop, and nowhere else', async () => {
    const file = place('plain_loop_ok.py');
    const uri = fileUri(file);
    const text = readFileSync(file, 'utf8');
    await server.open(uri, 'python', text);
    const at = (line: number): Promise<CodeAction[]> =>
      server.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: { start: { line, character: 4 }, end: { line, character: 4 } }, context: { diagnostics: [] } });
    // Line 25 in the editor is the loop's `for` (as in the corpus's logger test).
    const [logger] = (await at(24)).filter((action) => action.title === 'Log gradient norms with GradLens');
    assert.ok(logger);
    assert.equal(logger.kind, 'refactor');
    assert.equal(applyAction(logger, uri, 1, text), readFileSync(path.join(GOLDEN, 'plain_loop_ok.logger.py'), 'utf8'));
    assert.deepEqual(await at(0), []);
  });

  it('survives binary content, half-typed code and a 50,000-line script', async () => {
    const binary = String.fromCharCode(...Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    const halfTyped = 'import torch\nfor x in loader:\n    loss = model(x\n    loss.backward(\n    optimizer.step()\n    scaler.scale(\n';
    const huge = hugeScript();
    assert.ok(huge.split('\n').length >= 50000);
    for (const [name, text] of [['binary.py', binary], ['half.py', halfTyped], ['huge.py', huge]] as const) {
      const uri = fileUri(path.join(scratch, name));
      const diagnostics = await server.open(uri, 'python', text);
      assert.ok(diagnostics.every((d) => d.source === 'GradLens'));
    }
    assert.ok(server.alive);
  });

  it('answers a hover on a log while a 50,000-line script is analysed', async () => {
    const logUri = fileUri(LSTM_LOG);
    await server.open(logUri, 'jsonl', '');
    const folder = path.join(scratch, 'responsive');
    mkdirSync(folder);
    const uri = fileUri(path.join(folder, 'huge.py'));
    const answered: string[] = [];
    const diagnosed = server.nextDiagnostics(uri, 60000).then(() => answered.push('script diagnostics'));
    await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text: hugeScript() } });
    // Parsing 50,000 lines takes seconds: by now the analysis is under way.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const hover: Hover | null = await server.connection.sendRequest('textDocument/hover', { textDocument: { uri: logUri }, position: { line: 3, character: 0 } });
    answered.push('hover');
    assert.match((hover?.contents as MarkupContent | undefined)?.value ?? '', /step 3/);
    await diagnosed;
    assert.deepEqual(answered, ['hover', 'script diagnostics']);
  });

  it('offers nothing for a version the document left while the worker was computing the logger insertion', async () => {
    const folder = path.join(scratch, 'stale-action');
    mkdirSync(folder);
    const uri = fileUri(path.join(folder, 'huge.py'));
    const huge = hugeScript();
    await server.open(uri, 'python', huge);
    // Line 23 in the editor is the first copy's epoch loop.
    const atLoop = { textDocument: { uri }, range: { start: { line: 22, character: 4 }, end: { line: 22, character: 4 } }, context: { diagnostics: [] } };
    const offered: CodeAction[] = await server.connection.sendRequest('textDocument/codeAction', atLoop);
    assert.ok(offered.some((action) => action.title === 'Log gradient norms with GradLens'));
    // The worker parses 50,000 lines for the request; the edit arrives meanwhile.
    const pending: Promise<CodeAction[]> = server.connection.sendRequest('textDocument/codeAction', atLoop);
    await server.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: `# edited\n${huge}` }] });
    assert.deepEqual(await pending, []);
    // Closing abandons the analysis of version 2, which the next tests need not wait for.
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  });

  it('applies a quick fix as one versioned edit whose inverse (one undo) restores a CRLF, tab-indented script byte for byte', async () => {
    const file = place('rnn_lm.py', 'undo');
    const original = readFileSync(file, 'utf8').replace(/\r?\n/g, '\r\n').replace(/^(?: {4})+/gm, (indent) => '\t'.repeat(indent.length / 4));
    writeFileSync(file, original);
    const uri = fileUri(file);
    const diagnostics = await server.open(uri, 'python', original);
    const fixes = (await Promise.all(diagnostics.map((diagnostic) => codeActions(server, uri, diagnostic)))).flat();
    // GL001, GL004 and GL005: an insertion before a statement, a function after the imports with a call in __init__, a line in the loop.
    assert.deepEqual(fixes.map((action) => action.diagnostics?.[0].code).sort(), ['GL001', 'GL004', 'GL005']);
    for (const action of fixes) {
      const fixed = applyAction(action, uri, 1, original);
      assert.notEqual(fixed, original);
      assert.doesNotMatch(fixed, /[^\r]\n|^ /m, `${action.title}: CRLF and tabs kept`);
      const edits = (action.edit!.documentChanges![0] as TextDocumentEdit).edits;
      assert.equal(TextDocument.applyEdits(TextDocument.create(uri, 'python', 2, fixed), inverseEdits(original, fixed, edits)), original, `${action.title}: undone byte for byte`);
    }
  });

  it('shuts down and exits cleanly', async () => {
    assert.equal(await server.stop(), 0);
  });
});
