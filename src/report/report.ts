/**
 * What "Export Report" and `gradlens report` write: one self-contained HTML
 * page (the dashboard's own bundle and styles inlined, the runs embedded as
 * wire JSON, the same CSP as the panel, no network), the series as CSV and
 * the diagnosis as Markdown.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Run } from '../logs/run';
import type { HostToDashboard, RunPayload } from '../protocol/dashboard';
import { noFindingsText } from '../diagnosis/verdict';
import { encodeWire } from '../protocol/wire';
import { createNonce, renderPage } from './page';
import { LEDGER_COLUMNS, ledgerRows, PARAMETER_COLUMNS, parameterRows, policyLines, runHeading, stepRange, summaryRows } from './summary';

export interface ReportAssets {
  /** dist/webview.js */
  script: string;
  /** The theme fallbacks for a page outside VS Code, then the dashboard's styles. */
  styles: string[];
}

/** The bundle and style sheets, from an installed extension or package root. */
export async function readReportAssets(root: string): Promise<ReportAssets> {
  const read = (...parts: string[]) => fs.readFile(path.join(root, ...parts), 'utf8');
  const [script, theme, dashboard] = await Promise.all([read('dist', 'webview.js'), read('media', 'standalone-theme.css'), read('media', 'dashboard.css')]);
  return { script, styles: [theme, dashboard] };
}

export function renderReport(runs: RunPayload[], assets: ReportAssets): string {
  const show: HostToDashboard = { type: 'show', runs };
  return renderPage({
    title: `GradLens report: ${runs.map((r) => r.label).join(', ')}`,
    nonce: createNonce(),
    script: { inline: assets.script },
    styles: assets.styles.map((inline) => ({ inline })),
    data: encodeWire(show),
    page: 'dashboard',
  });
}

/** A spreadsheet cannot take a log's text for a formula. */
function csvText(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * One row per run and step, one column per tag (the union over the runs, in
 * order of appearance); a tag without a value at that step leaves its cell
 * empty. Non-finite values are written NaN, Infinity, -Infinity. It takes
 * Runs, whole: a payload's per-parameter series are thinned for the heat map.
 */
export function seriesCsv(runs: ReadonlyArray<Pick<Run, 'id' | 'series'>>): string {
  const tags: string[] = [];
  const column = new Map<string, number>();
  for (const run of runs) for (const s of run.series) if (!column.has(s.tag)) column.set(s.tag, tags.push(s.tag) - 1);
  const lines = [['run', 'step', ...tags].map(csvText).join(',')];
  for (const run of runs) {
    const steps = [...new Set(run.series.flatMap((s) => Array.from(s.steps)))].sort((a, b) => a - b);
    const rowOf = new Map(steps.map((step, i) => [step, i]));
    const cells: string[][] = steps.map(() => new Array<string>(tags.length).fill(''));
    for (const s of run.series) {
      const c = column.get(s.tag)!;
      for (let i = 0; i < s.steps.length; i++) cells[rowOf.get(s.steps[i])!][c] = String(s.values[i]);
    }
    const label = csvText(run.id);
    steps.forEach((step, i) => lines.push(`${label},${step},${cells[i].join(',')}`));
  }
  return lines.join('\n') + '\n';
}

/** Log text in Markdown: no markup, no HTML, no table breaks. */
/** Log text as Markdown text: every character Markdown (or a GFM table) would read is escaped. */
export function md(text: string): string {
  return text.replace(/[\\`*_[\]<>|~]/g, '\\$&').replace(/\r?\n/g, ' ');
}

/**
 * Log text as a Markdown code span, whatever it holds: fenced by one more
 * backtick than its longest run of them (a name with a backtick would end a
 * one-backtick span), with `|` escaped in a GFM table cell (where a code span
 * takes the escape, and anywhere else would show it).
 */
export function markdownCode(text: string, where: 'text' | 'table' = 'text'): string {
  const fence = '`'.repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length)) + 1);
  const line = text.replace(/\r?\n/g, ' ');
  const body = where === 'table' ? line.replace(/\|/g, '\\|') : line;
  return /^`|`$/.test(body) ? `${fence} ${body} ${fence}` : `${fence}${body}${fence}`;
}

function markdownTable(header: string[], rows: string[][]): string[] {
  return [`| ${header.map(md).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.map(md).join(' | ')} |`)];
}

const SEVERITY_WORD = { error: 'Error', warning: 'Warning', info: 'Info' } as const;

export function markdownSummary(runs: RunPayload[]): string {
  const out = ['# GradLens report', ''];
  for (const run of runs) {
    const d = run.diagnosis;
    out.push(`## ${md(run.label)}`, '', `${md(runHeading(run.format, d))}; status: **${run.status}**. Log: ${markdownCode(run.path)}`, '');
    out.push(...markdownTable(['', ''], summaryRows(d)), '');
    if (d.parameters.length > 0) out.push('### Parameters, worst first', '', ...markdownTable(PARAMETER_COLUMNS, parameterRows(d)), '');
    out.push('### Findings', '');
    if (d.findings.length === 0) out.push(d.steps > 0 ? md(noFindingsText(d)) : 'No training steps: no loss or gradient norm was found.', '');
    for (const f of d.findings) {
      out.push(`- **${SEVERITY_WORD[f.severity]}: ${f.kind}, ${stepRange(f.step, f.endStep)}.** ${md(f.message)}`);
      for (const hint of f.hints) out.push(`  - ${md(hint.text)}`);
    }
    if (d.ledger.spikes.length > 0) out.push('', '### Spike ledger', '', ...markdownTable(LEDGER_COLUMNS, ledgerRows(d)));
    const policies = policyLines(d);
    if (policies.length > 0) out.push('', '### Policy replay', '', 'What each spike policy would have done on this log:', '', ...policies.map((line) => `- ${md(line)}`));
    if (run.warnings.length > 0) out.push('', '### Read warnings', '', ...run.warnings.map((w) => `- ${md(w)}`));
    out.push('');
  }
  return out.join('\n');
}
