/**
 * Where a report's files go, and which of them may not be written: the CLI
 * and Export Report both name and check them here.
 */
import path from 'node:path';

/** `report.html` → `report`: the name the CSV and Markdown files share with the HTML report. */
export function reportBase(htmlPath: string): string {
  return htmlPath.replace(/\.html?$/i, '');
}

/** The report files that would replace a log they are made from: a report never overwrites its input. */
export function inputsAmong(outputs: readonly string[], inputs: readonly string[]): string[] {
  const read = new Set(inputs.map((file) => path.resolve(file)));
  return outputs.filter((file) => read.has(path.resolve(file)));
}
