import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { hintLocationRequest, loggerInsertionRequest, trainingScriptsRequest, type TextDocumentEdit } from '../../src/protocol/language-server';
import { bundleServer, fileUri, hugeScript, removeBundle, ServerSession } from './harness';

/**
 * GradLens's own requests (src/protocol/language-server.ts), through the
 * protocol as the extension sends them: "Insert Gradient Logger" and the
 * dashboard's "Show fix" ask the language server, which answers with
 * versioned edits from the same src/python code as its code actions.
 */
const SCRIPTS = path.resolve(__dirname, '..', 'extension', 'scripts');
const GOLDEN = path.resolve(__dirname, '..', 'python-rules', 'golden');
const CORPUS = path.resolve(__dirname, '..', 'python-rules', 'corpus');
const LSTM_LOG = path.resolve(__dirname, '..', 'fixtures', 'real', 'torch_lstm_sgd_noclip', 'grads.jsonl');

function applyEdit(edit: TextDocumentEdit, text: string): string {
  return TextDocument.applyEdits(TextDocument.create(edit.textDocument.uri, 'python', edit.textDocument.version, text), edit.edits);
}

describe('language server: GradLens requests', function () {
  this.timeout(60000);
  let bundle: { dir: string; script: string };
  let server: ServerSession;
  let workspace: string;

  before(async () => {
    bundle = await bundleServer();
    workspace = mkdtempSync(path.join(tmpdir(), 'gradlens-requests-'));
    server = await ServerSession.start(bundle.script, { logFolder: workspace });
  });

  after(async () => {
    if (server?.alive) await server.stop();
    if (bundle) removeBundle(bundle.dir);
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  /** Sends a request and parses its answer with the declaration the extension uses. */
  async function ask<P, R>(request: { method: string; result: { parse(value: unknown): R | undefined } }, params: P): Promise<R> {
    const raw: unknown = await server.connection.sendRequest(request.method, params);
    const parsed = request.result.parse(raw);
    assert.ok(parsed !== undefined, `${request.method} answered ${JSON.stringify(raw)}`);
    return parsed;
  }

  it('answers the logger insertion with one versioned edit, the same as the code action\'s golden file', async () => {
    const text = readFileSync(path.join(CORPUS, 'plain_loop_ok.py'), 'utf8');
    const uri = fileUri(path.join(workspace, 'plain_loop_ok.py'));
    await server.open(uri, 'python', text, 3);
    // The cursor on line 0 is in no loop: the command instruments the script's first training loop.
    const answer = await ask(loggerInsertionRequest, { uri, version: 3, line: 0 });
    assert.equal(answer.type, 'insertion');
    if (answer.type !== 'insertion') return;
    assert.deepEqual(answer.edit.textDocument, { uri, version: 3 });
    assert.equal(applyEdit(answer.edit, text), readFileSync(path.join(GOLDEN, 'plain_loop_ok.logger.py'), 'utf8'));
    assert.match(answer.message, /^Inserted the import, the logger before the training loop, grad_logger\.log\(…\) before clipping\.$/);
  });

  it('says why when there is nothing to insert, and never answers for a version the editor has left', async () => {
    const uri = fileUri(path.join(workspace, 'no_loop.py'));
    await server.open(uri, 'python', 'import torch\nprint(torch.__version__)\n', 1);
    assert.deepEqual(await ask(loggerInsertionRequest, { uri, version: 1, line: 0 }), {
      type: 'nothing',
      reason: 'No training loop found: GradLens looks for backward() followed by an optimizer step() inside a for or while loop.',
    });
    const changed = server.nextDiagnostics(uri);
    await server.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: readFileSync(path.join(SCRIPTS, 'mlp_epochs.py'), 'utf8') }] });
    await changed;
    const stale = await ask(loggerInsertionRequest, { uri, version: 1, line: 0 });
    assert.equal(stale.type, 'nothing');
    assert.equal((await ask(loggerInsertionRequest, { uri, version: 2, line: 0 })).type, 'insertion');
  });

  it('waits for a document whose didOpen the request overtook', async () => {
    const uri = fileUri(path.join(workspace, 'late.py'));
    const text = readFileSync(path.join(SCRIPTS, 'rnn_accumulate.py'), 'utf8');
    const answer = ask(hintLocationRequest, { uri, version: 1, hint: 'log-gradients' });
    await server.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
    const location = await answer;
    assert.equal(location.type, 'location');
    if (location.type !== 'location') return;
    assert.equal(text.split('\n')[location.range.start.line].trim(), 'loss.backward()');
  });

  it('locates a hint with the quick fix of the rule that carries it out', async () => {
    const text = readFileSync(path.join(SCRIPTS, 'rnn_accumulate.py'), 'utf8');
    const uri = fileUri(path.join(workspace, 'rnn_accumulate.py'));
    await server.open(uri, 'python', text, 7);
    const location = await ask(hintLocationRequest, { uri, version: 7, hint: 'add-norm-clipping' });
    assert.equal(location.type, 'location');
    if (location.type !== 'location') return;
    assert.deepEqual(location.range, { start: { line: 32, character: 12 }, end: { line: 32, character: 22 } });
    assert.ok(location.fix, 'GL001 offers its fix');
    assert.deepEqual(location.fix.edit.textDocument, { uri, version: 7 });
    assert.match(applyEdit(location.fix.edit, text), /\n {12}torch\.nn\.utils\.clip_grad_norm_\(net\.parameters\(\), max_norm=1\.0\)\n {12}opt\.step\(\)\n/);
    // From the dashboard, the fix inserts the threshold the hint recommends for its run.
    const fromRun = await ask(hintLocationRequest, { uri, version: 7, hint: 'add-norm-clipping', maxNorm: 3.38 });
    assert.ok(fromRun.type === 'location' && fromRun.fix);
    assert.match(applyEdit(fromRun.fix.edit, text), /clip_grad_norm_\(net\.parameters\(\), max_norm=3\.38\)/);
    // A hint with no rule behind it opens at its landmark, without a fix.
    const lr = await ask(hintLocationRequest, { uri, version: 7, hint: 'lr-warmup' });
    assert.deepEqual(lr.type === 'location' && { line: lr.range.start.line, fix: lr.fix }, { line: 16, fix: undefined });
  });

  it('tells training scripts from other Python files on disk', async () => {
    const training = path.join(workspace, 'train.py');
    const helper = path.join(workspace, 'helper.py');
    writeFileSync(training, readFileSync(path.join(SCRIPTS, 'mlp_epochs.py')));
    writeFileSync(helper, '"""Call loss.backward() then optimizer.step()."""\ndef evaluate(model, x):\n    return model(x)\n');
    const uris = [training, helper, path.join(workspace, 'missing.py')].map(fileUri);
    assert.deepEqual(await ask(trainingScriptsRequest, { uris }), { uris: [uris[0]] });
  });

  it('answers half-typed and binary scripts without failing', async () => {
    const halfTyped = readFileSync(path.join(SCRIPTS, 'char_lstm.py'), 'utf8').replace('optimizer.step()', 'optimizer.step(').replace('class CharLSTM(nn.Module):', 'class CharLSTM(nn.Module');
    const binary = String.fromCharCode(...Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    for (const [name, text] of [['half.py', halfTyped], ['binary.py', binary]]) {
      const uri = fileUri(path.join(workspace, name));
      await server.open(uri, 'python', text, 1);
      assert.ok(['insertion', 'nothing'].includes((await ask(loggerInsertionRequest, { uri, version: 1, line: 60 })).type), name);
      assert.ok(['location', 'nothing'].includes((await ask(hintLocationRequest, { uri, version: 1, hint: 'truncated-bptt' })).type), name);
    }
    assert.ok(server.alive);
  });

  it('answers a hover on a log before the training-script and hint requests on a 50,000-line script, which the worker computes in turn', async () => {
    const log = fileUri(LSTM_LOG);
    await server.open(log, 'jsonl', '');
    const uri = fileUri(path.join(workspace, 'huge.py'));
    await server.open(uri, 'python', hugeScript());
    const answered: string[] = [];
    const training = ask(trainingScriptsRequest, { uris: [uri] }).then((answer) => (answered.push('training scripts'), answer));
    const location = ask(hintLocationRequest, { uri, version: 1, hint: 'add-norm-clipping' }).then((answer) => (answered.push('hint location'), answer));
    const hover: Hover | null = await server.connection.sendRequest('textDocument/hover', { textDocument: { uri: log }, position: { line: 3, character: 0 } });
    answered.push('hover');
    assert.match((hover?.contents as MarkupContent | undefined)?.value ?? '', /step 3/);
    assert.deepEqual(await training, { uris: [uri] });
    assert.equal((await location).type, 'location');
    assert.deepEqual(answered, ['hover', 'training scripts', 'hint location']);
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  });

  it('says the script changed, rather than answering for the old text, when an edit comes while the worker computes the request', async () => {
    const uri = fileUri(path.join(workspace, 'huge_edited.py'));
    const huge = hugeScript();
    await server.open(uri, 'python', huge);
    const answer = ask(loggerInsertionRequest, { uri, version: 1, line: 0 });
    await server.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: `# edited\n${huge}` }] });
    assert.deepEqual(await answer, { type: 'nothing', reason: 'The script changed while GradLens was reading it: try again.' });
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  });

  it('refuses parameters that do not match the declaration', async () => {
    await assert.rejects(server.connection.sendRequest(hintLocationRequest.method, { uri: 'file:///x.py', version: 1, hint: '<img src=x onerror=alert(1)>' }), /parameters do not match/);
    assert.ok(server.alive);
  });
});
