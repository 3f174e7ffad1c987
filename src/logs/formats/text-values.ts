/**
 * The named numbers in one console line, as training scripts print them:
 * `loss=0.5`, `loss: 0.5 (0.6)`, `lm loss: 2.1E+00 |`, `train loss 4.12 |`,
 * `val_loss:4.2`, and Python dicts `{'loss': 2.3}`. Keys are kept as written.
 * Anything that is not plainly a number (`12.3ms`, `eta: 0:10:00`,
 * `4.50it/s`, `45%`) is not a value: console logs are full of those.
 */
import { parseLogNumber } from '../numbers';

export type Pair = [key: string, value: number];

const NUMBER = String.raw`[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf(?:inity)?)|n\/a|na`;
// Scripts print tensors and numpy scalars as they are (`loss=tensor(2.3045, device='cuda:0')`,
// `np.float64(2.3)`), and DeepSpeed prints learning rates as lists (`lr=[0.0001]`).
const VALUE = new RegExp(String.raw`^(?:(?:tensor|(?:np|numpy)\.float\d*)\(|\[)?(${NUMBER})(?:\)|\])?$`, 'i');

const WORD = String.raw`[A-Za-z_][\w.\-/@]*`;
/** A key may have several words (`lm loss`, `elapsed time per iteration (ms)`), one space apart. */
const KEY = String.raw`${WORD}(?: [A-Za-z_(][\w.\-/@()]*)*`;

const KEYED_FIELD = new RegExp(String.raw`^(${KEY})\s*[:=]\s*(\S+)$`);
const SPACED_FIELD = new RegExp(String.raw`^(${KEY})\s+(\S+)$`);
const KEY_WORD = new RegExp(`^${WORD}$`);
const KEYED_TOKEN = new RegExp(String.raw`^(${WORD})[:=](\S+)$`);
const KEY_TOKEN = new RegExp(String.raw`^(${WORD})[:=]$`);
/**
 * Fields end at pipes, tabs, commas, semicolons, ` - `, and runs of spaces
 * before a key; not at padding after a colon (`consumed samples:     2048`).
 * The lookbehind keeps a long run of spaces from being rescanned at every position.
 */
const FIELD_BREAK = /[|\t;,]|\s-\s|(?<![:=\s])\s{2,}(?=[A-Za-z_])/;

/** The number a value token stands for, or undefined when it is not plainly one. */
function readValue(token: string): number | undefined {
  const match = VALUE.exec(token);
  return match ? parseLogNumber(match[1]) : undefined;
}

/** The key-value pairs in a line (with the step already cut out of it), in order. */
export function readPairs(text: string): Pair[] {
  const pairs: Pair[] = [];
  for (const raw of text.split(FIELD_BREAK)) {
    const field = withoutNotes(raw.trim());
    if (field.length > 0) readField(field, pairs);
  }
  return pairs;
}

/**
 * The field without trailing notes after its value: running averages `(6.9)`,
 * z-scores `(+0.12z)`, statuses `[EXPLODING]`. A note follows a space, so
 * `tensor(2.3)` keeps its parenthesis. Scanned from the end, in linear time.
 */
function withoutNotes(field: string): string {
  let end = field.length;
  for (;;) {
    const close = field[end - 1];
    if (close !== ')' && close !== ']') break;
    const open = field.lastIndexOf(close === ')' ? '(' : '[', end - 2);
    if (open <= 0 || !/\s/.test(field[open - 1])) break;
    end = open - 1;
    while (end > 0 && /\s/.test(field[end - 1])) end--;
  }
  return field.slice(0, end);
}

function readField(field: string, pairs: Pair[]): void {
  const whole = KEYED_FIELD.exec(field) ?? SPACED_FIELD.exec(field);
  if (whole) {
    const value = readValue(whole[2]);
    if (value !== undefined) {
      pairs.push([whole[1], value]);
      return;
    }
  }
  const tokens = field.split(/\s+/);
  if (!readAlternating(tokens, pairs)) readTokens(tokens, pairs);
}

/** A number with its unit stuck to it (`11136.00ms`, `28.77%`, `4.5it/s`): the place of a value, though not one GradLens reads. */
const UNIT_VALUE = new RegExp(String.raw`^(?:${NUMBER})[A-Za-z%/]+$`, 'i');

/**
 * `loss 2.3 lr 0.001`, nanoGPT's `loss 8.7390 time 156.20ms mfu 28.77%`:
 * words and numbers taking turns, and nothing else. Numbers with units keep
 * their turn but are not values.
 */
function readAlternating(tokens: string[], pairs: Pair[]): boolean {
  if (tokens.length < 4 || tokens.length % 2 !== 0) return false;
  const found: Pair[] = [];
  for (let i = 0; i < tokens.length; i += 2) {
    if (!KEY_WORD.test(tokens[i])) return false;
    const value = readValue(tokens[i + 1]);
    if (value !== undefined) found.push([tokens[i], value]);
    else if (!UNIT_VALUE.test(tokens[i + 1])) return false;
  }
  pairs.push(...found);
  return found.length > 0;
}

/** OLMo's format_float writes large values with thousands separators (`65,312`). */
const THOUSANDS = /^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;
/**
 * One indented line of a block under a progress marker: `    train/CE loss=9.123`
 * (OLMo's console logger), `\t Train loss/train/total: 7.1000` (Composer's, which
 * puts `Train ` or `Eval ` before each name). Names may have spaces.
 */
const BLOCK_LINE = /^\s+(?:(?:Train|Eval) )?([^=\s](?:[^=]*?[^=\s])?)(?:=|: )\s*(\S+)$/;

export function readBlockLine(text: string): Pair | undefined {
  const match = BLOCK_LINE.exec(text.trimEnd());
  if (!match) return undefined;
  const value = THOUSANDS.test(match[2]) ? Number(match[2].replace(/,/g, '')) : readValue(match[2]);
  return value === undefined ? undefined : [match[1], value];
}

/** `val_loss:4.2 train_time:123ms`, `INFO loss: 0.5 acc: 0.9`: single-word keys among other words. */
function readTokens(tokens: string[], pairs: Pair[]): void {
  for (let i = 0; i < tokens.length; i++) {
    const keyed = KEYED_TOKEN.exec(tokens[i]);
    if (keyed) {
      const value = readValue(keyed[2]);
      if (value !== undefined) pairs.push([keyed[1], value]);
      continue;
    }
    const key = KEY_TOKEN.exec(tokens[i]);
    if (!key || i + 1 >= tokens.length) continue;
    const value = readValue(tokens[i + 1]);
    // `eta: 1 day` is not eta=1: a value must not be followed by a bare word (its unit).
    if (value !== undefined && (i + 2 >= tokens.length || startsPair(tokens[i + 2]))) {
      pairs.push([key[1], value]);
      i++;
    }
  }
}

function startsPair(token: string): boolean {
  return KEYED_TOKEN.test(token) || KEY_TOKEN.test(token);
}

const DICT_START = /\{\s*(?:'[^'\\]*'|"[^"\\]*")\s*:/;
const DICT_ENTRY = /(?:'([^'\\]*)'|"([^"\\]*)")\s*:\s*('[^'\\]*'|"[^"\\]*"|[^,}]*)/g;

/**
 * The numeric entries of a Python dict printed in the line (`print(logs)`,
 * Hugging Face's console) and where the dict starts, or undefined when the
 * line holds none. Numbers may be bare (`2.345`, `nan`) or quoted, as recent
 * Trainers print them (`'2.345'`). `others` counts the entries that are not
 * numbers (`'gpt2'`, `True`, `[0.9, 0.999]`): a Trainer's log entry has none,
 * a printed config has some.
 */
export function readDict(text: string): { pairs: Pair[]; start: number; others: number } | undefined {
  const start = text.search(DICT_START);
  if (start < 0) return undefined;
  const end = text.lastIndexOf('}');
  if (end < start) return undefined;
  const pairs: Pair[] = [];
  let others = 0;
  for (const match of text.slice(start + 1, end).matchAll(DICT_ENTRY)) {
    const raw = match[3].trim();
    const quoted = raw.startsWith("'") || raw.startsWith('"');
    const value = readValue(quoted ? raw.slice(1, -1) : raw);
    if (value !== undefined) pairs.push([match[1] ?? match[2], value]);
    else others++;
  }
  return pairs.length > 0 ? { pairs, start, others } : undefined;
}
