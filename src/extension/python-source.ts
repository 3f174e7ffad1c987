/**
 * Just enough of Python to find things in a training script by line: the
 * source split into logical statements (bracketed and backslash-continued
 * lines joined), with comments removed and the insides of string literals
 * blanked, so `loss.backward()` in a docstring or a comment is not taken for
 * code. Columns are kept: a match in `code` is at the same place in the line.
 * No vscode import: the tests run it on real scripts.
 */

export interface Statement {
  /** 0-based first and last line of the statement. */
  start: number;
  end: number;
  /** The first line's leading whitespace, as written. */
  indent: string;
  /**
   * The statement's code, its lines joined by '\n', with comments, line
   * continuations and string contents blanked: the same length as the
   * original text, so an offset in one is the same place in the other.
   */
  code: string;
}

export interface PythonSource {
  lines: string[];
  /** The line ending the file uses, for text inserted into it. */
  eol: '\n' | '\r\n';
  statements: Statement[];
}

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

export function parsePython(text: string): PythonSource {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(/\r?\n/);
  const statements: Statement[] = [];
  /** The quote that closes the string we are in ('"""', "'", ...), or '' outside strings. */
  let quote = '';
  let depth = 0;
  let current: { start: number; indent: string; code: string[] } | undefined;

  lines.forEach((line, index) => {
    let code = '';
    let continued = false;
    let i = 0;
    while (i < line.length) {
      const c = line[i];
      if (quote) {
        if (c === '\\') {
          code += '  '.slice(0, Math.min(2, line.length - i));
          i += 2;
        } else if (line.startsWith(quote, i)) {
          code += quote;
          i += quote.length;
          quote = '';
        } else {
          code += ' ';
          i++;
        }
        continue;
      }
      if (c === '#') {
        code += ' '.repeat(line.length - i);
        break;
      }
      if (c === '"' || c === "'") {
        quote = line.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
        code += quote;
        i += quote.length;
        continue;
      }
      if (c === '\\' && i === line.length - 1) {
        continued = true;
        code += ' ';
        i++;
        continue;
      }
      if (OPEN.has(c)) depth++;
      else if (CLOSE.has(c)) depth = Math.max(0, depth - 1);
      code += c;
      i++;
    }
    // A single-quoted string cannot span lines: an unterminated one ends here.
    if (quote.length === 1) quote = '';
    if (!current) {
      if (code.trim() === '' && !quote) return;
      current = { start: index, indent: /^[ \t]*/.exec(line)![0], code: [] };
    }
    current.code.push(code);
    if (!quote && depth === 0 && !continued) {
      statements.push({ start: current.start, end: index, indent: current.indent, code: current.code.join('\n') });
      current = undefined;
    }
  });
  if (current) statements.push({ start: current.start, end: lines.length - 1, indent: current.indent, code: current.code.join('\n') });
  return { lines, eol, statements };
}

/** Width of an indentation, with tabs to the next multiple of 8 as Python reads them. */
function indentWidth(indent: string): number {
  let width = 0;
  for (const c of indent) width = c === '\t' ? width + 8 - (width % 8) : width + 1;
  return width;
}

/** The statements enclosing statements[index], innermost first: each is the nearest earlier one indented less. */
export function enclosing(statements: readonly Statement[], index: number): number[] {
  const out: number[] = [];
  let width = indentWidth(statements[index].indent);
  for (let i = index - 1; i >= 0 && width > 0; i--) {
    const w = indentWidth(statements[i].indent);
    if (w < width) {
      out.push(i);
      width = w;
    }
  }
  return out;
}

/** The statement as written: its lines joined by '\n', aligned with `code`. */
export function originalText(source: PythonSource, statement: Statement): string {
  return source.lines.slice(statement.start, statement.end + 1).join('\n');
}

/**
 * The arguments of the call whose opening parenthesis is at `open` in
 * `code`: each argument's trimmed text and where it is, split at top-level
 * commas. Undefined when the call is not closed.
 */
export function callArguments(code: string, open: number): { args: Array<{ text: string; start: number; end: number }>; close: number } | undefined {
  const args: Array<{ text: string; start: number; end: number }> = [];
  const push = (from: number, to: number): void => {
    const raw = code.slice(from, to);
    const start = from + (raw.length - raw.trimStart().length);
    args.push({ text: raw.trim(), start, end: start + raw.trim().length });
  };
  let depth = 0;
  let from = open + 1;
  for (let i = open; i < code.length; i++) {
    const c = code[i];
    if (OPEN.has(c)) depth++;
    else if (CLOSE.has(c)) {
      depth--;
      if (depth === 0) {
        if (code.slice(from, i).trim() || args.length > 0) push(from, i);
        return { args, close: i };
      }
    } else if (c === ',' && depth === 1) {
      push(from, i);
      from = i + 1;
    }
  }
  return undefined;
}

/** Where the bracket closing at `close` opens, or -1. */
export function openingBracket(code: string, close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    if (CLOSE.has(code[i])) depth++;
    else if (OPEN.has(code[i]) && --depth === 0) return i;
  }
  return -1;
}
