import type { LogFormat } from './run';
import { maskedCrc32c } from './formats/crc';
import { splitCsvLine } from './formats/csv';

/** How many leading bytes detection looks at. */
export const DETECT_BYTES = 64 * 1024;

function isTfRecordStart(head: Uint8Array): boolean {
  if (head.length < 12) return false;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return view.getUint32(8, true) === maskedCrc32c(head, 0, 8);
}

function isCsvHeader(lines: string[]): boolean {
  if (lines.length === 0) return false;
  const delimiter = [',', '\t', ';'].find((d) => lines[0].includes(d));
  if (!delimiter) return false;
  const header = splitCsvLine(lines[0], delimiter);
  if (!header || header.length < 2) return false;
  // A header names columns; a log line like "Step 3: loss=4.1, norm=2" has '=' or ':' and numbers in its fields.
  if (!header.every((field) => field.trim().length > 0 && !/[=:{}]/.test(field) && !/^\s*[-+.\d]/.test(field))) return false;
  // Most of the first rows have the header's width: one ragged or half-written row does not make a CSV a text log.
  const rows = lines.slice(1, 6).filter((line) => line.trim().length > 0);
  const fitting = rows.filter((row) => splitCsvLine(row, delimiter)?.length === header.length).length;
  return fitting * 2 > rows.length || rows.length === 0;
}

/**
 * The format of a log, from its first bytes (and its name only where the
 * content cannot tell). Returns undefined for content no reader can use,
 * such as binary data that is not a known container.
 */
export function detectFormat(fileName: string, head: Uint8Array): LogFormat | undefined {
  const name = fileName.replace(/\\/g, '/').split('/').pop() ?? fileName;
  if (isTfRecordStart(head)) return 'tfevents';
  if (head.length === 0) {
    if (/tfevents/.test(name)) return 'tfevents';
    if (name.endsWith('.wandb')) return 'wandb';
    if (name === 'trainer_state.json') return 'hf-trainer-state';
    if (name === 'wandb-summary.json') return 'wandb';
    if (name.endsWith('.csv')) return 'csv';
    if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
    return 'text';
  }
  if (head.length >= 4 && head[0] === 0x3a && head[1] === 0x57 && head[2] === 0x26 && head[3] === 0x42) return 'wandb'; // ":W&B"
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head).replace(/^\uFEFF/, '');
  const sample = text.slice(0, 4096);
  const controls = sample.split('').filter((c) => {
    const code = c.charCodeAt(0);
    return (code < 32 && code !== 9 && code !== 10 && code !== 13 && code !== 27) || code === 0xfffd;
  }).length;
  if (controls > sample.length / 10) return undefined;
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  // A leading '# ...' comment (a run's settings, say) does not decide the format; the first data line does,
  // even when the head cuts it (a JSON line of a 720-parameter model is longer than the head).
  const firstLine = lines.find((line) => line.trim().length > 0 && !line.trimStart().startsWith('#'))?.trim() ?? '';
  // The last line may be cut (by the head's size, or by a writer still writing it): rows are judged whole.
  if (!text.endsWith('\n') && lines.length > 1) lines.pop();
  if (name === 'wandb-summary.json') return 'wandb'; // one JSON object of last values, written by W&B
  if (firstLine.startsWith('{')) {
    if (firstLine === '{' || name === 'trainer_state.json') return /"log_history"/.test(text) || name === 'trainer_state.json' ? 'hf-trainer-state' : 'jsonl';
    // A Python dict repr ({'loss': ...}) is console output, not JSON.
    return firstLine.startsWith("{'") ? 'text' : 'jsonl';
  }
  if (isCsvHeader(lines.filter((line) => line.trim().length > 0))) return 'csv';
  return 'text';
}
