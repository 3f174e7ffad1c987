import type { Position, Range, TextEdit } from './types';

/** Maps UTF-16 offsets (what web-tree-sitter reports as startIndex for a JS string) to LSP positions and back, and knows the file's line-ending and indentation conventions so inserted code blends in. */
export class SourceText {
  private readonly lineStarts: number[] = [0];
  readonly eol: string;

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    // The first line ending decides: a CRLF file gets CRLF insertions.
    const firstNewline = text.indexOf('\n');
    this.eol = firstNewline > 0 && text[firstNewline - 1] === '\r' ? '\r\n' : '\n';
  }

  get lineCount(): number { return this.lineStarts.length; }

  positionAt(offset: number): Position {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle] <= clamped) low = middle; else high = middle - 1;
    }
    return { line: low, character: clamped - this.lineStarts[low] };
  }

  offsetAt(position: Position): number {
    const lineStart = this.lineStarts[Math.min(position.line, this.lineStarts.length - 1)];
    return Math.min(lineStart + position.character, this.text.length);
  }

  range(startOffset: number, endOffset: number): Range {
    return { start: this.positionAt(startOffset), end: this.positionAt(endOffset) };
  }

  lineStart(line: number): number { return this.lineStarts[line]; }

  /** Offset just past the line's ending (or the end of the text on the last line). */
  nextLineStart(line: number): number {
    return line + 1 < this.lineStarts.length ? this.lineStarts[line + 1] : this.text.length;
  }

  /** The leading spaces/tabs of a line, verbatim (tabs stay tabs). */
  indentation(line: number): string {
    const start = this.lineStarts[line];
    let end = start;
    while (end < this.text.length && (this.text[end] === ' ' || this.text[end] === '\t')) end++;
    return this.text.slice(start, end);
  }

  /** True when only whitespace precedes `offset` on its line: a statement there owns its line. */
  startsLine(offset: number): boolean {
    const { line } = this.positionAt(offset);
    return this.text.slice(this.lineStarts[line], offset).trim() === '';
  }

  /** The file's indentation step: the first indented line's leading whitespace (a tab in a tab-indented file), else four spaces. */
  indentUnit(): string {
    for (let line = 0; line < this.lineStarts.length; line++) {
      const indent = this.indentation(line);
      if (indent && this.text.slice(this.lineStarts[line] + indent.length, this.nextLineStart(line)).trim() !== '') return indent;
    }
    return '    ';
  }

  /** Inserts whole lines after `line`, each indented with `indent` (adding the line break a last line without one lacks). */
  insertLinesAfter(line: number, indent: string, lines: string[]): TextEdit {
    const offset = this.nextLineStart(line);
    const at = this.positionAt(offset);
    const endsWithBreak = offset > 0 && this.text[offset - 1] === '\n';
    const body = lines.map((code) => indent + code);
    return { range: { start: at, end: at }, newText: endsWithBreak ? body.map((code) => code + this.eol).join('') : this.eol + body.join(this.eol) };
  }

  /** Inserts whole lines before `line`, each indented with `indent`. */
  insertLinesBefore(line: number, indent: string, lines: string[]): TextEdit {
    const at = this.positionAt(this.lineStarts[line]);
    return { range: { start: at, end: at }, newText: lines.map((code) => indent + code + this.eol).join('') };
  }
}

/** Python literal for a clip threshold: `1.0`, `0.5`, `2.37`; anything unusable falls back to 1.0. */
export function formatThreshold(maxNorm: number | undefined): string {
  const value = maxNorm !== undefined && Number.isFinite(maxNorm) && maxNorm > 0 ? maxNorm : 1;
  const rounded = Number(value.toPrecision(4));
  return Number.isInteger(rounded) ? rounded.toFixed(1) : String(rounded);
}

/** Applies LSP edits (all relative to the original text, non-overlapping) the way an editor does. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const source = new SourceText(text);
  // Applied from the end backwards; edits inserting at the same place keep their array order in the result, as LSP specifies.
  const sorted = edits
    .map((edit, index) => ({ start: source.offsetAt(edit.range.start), end: source.offsetAt(edit.range.end), newText: edit.newText, index }))
    .sort((a, b) => b.start - a.start || b.end - a.end || b.index - a.index);
  let result = text;
  for (const edit of sorted) result = result.slice(0, edit.start) + edit.newText + result.slice(edit.end);
  return result;
}
