import { promises as fs } from 'node:fs';
import path from 'node:path';
import { diagnose } from '../diagnosis/diagnose';
import { toRunPayload } from '../report/payload';
import { inputsAmong, reportBase } from '../report/files';
import { markdownSummary, readReportAssets, renderReport, seriesCsv } from '../report/report';
import { diagnoseOptions, parseTagRules, readRunsOrExplain } from './analyze';
import type { TagRule } from '../logs/roles';
import { type CommandSpec, type Parsed, UsageError } from './args';

export const reportSpec: CommandSpec = {
  name: 'report',
  summary:
    'Writes the dashboard of one or more runs as one self-contained HTML file (no network; opens in any browser), with --csv and --markdown the series and the diagnosis next to it.',
  usage: 'gradlens report PATH... [--out FILE.html] [--csv] [--markdown] [--force] [--threshold X] [--tag-role PATTERN=ROLE,...]',
  positionals: [1, Infinity],
  options: [
    { name: 'out', type: { kind: 'string', placeholder: 'an .html file' }, help: 'where the report goes (default gradlens-report.html)' },
    { name: 'csv', type: { kind: 'flag' }, help: 'also write the series as CSV (FILE.csv: a row per run and step, a column per tag)' },
    { name: 'markdown', type: { kind: 'flag' }, help: 'also write the summary and findings as Markdown (FILE.md)' },
    { name: 'force', type: { kind: 'flag' }, help: 'replace report files that exist already (a log the report reads is never replaced)' },
    { name: 'threshold', type: { kind: 'number', positive: true }, help: 'gradient norm at which a step counts as exploding (default 10; 10× this is an error)' },
    { name: 'tag-role', type: { kind: 'string', placeholder: 'PATTERN=ROLE pairs, comma-separated' }, help: 'extra tag rules, before the built-in table' },
  ],
};

export interface ReportRequest {
  out: string;
  csv?: boolean;
  markdown?: boolean;
  tagRules?: TagRule[];
  threshold?: number;
  /** Replace report files that exist already (never a log the report reads). */
  force?: boolean;
}

const exists = (file: string): Promise<boolean> => fs.stat(file).then(() => true, () => false);

/** Reads the runs under the targets and writes the report; returns the files written. */
export async function writeReport(targets: readonly string[], { out, csv, markdown, tagRules = [], threshold, force }: ReportRequest): Promise<string[]> {
  const runs = await readRunsOrExplain('report', targets, tagRules);
  const stem = reportBase(out);
  const outputs = [out, ...(csv ? [`${stem}.csv`] : []), ...(markdown ? [`${stem}.md`] : [])];
  // Checked before anything is written: a refused report leaves every file as it was.
  const inputs = inputsAmong(outputs, runs.flatMap((run) => [run.path, ...run.files]));
  if (inputs.length > 0) throw new UsageError(`gradlens report: ${inputs.join(', ')} is a log the report reads; it is never overwritten (choose another --out)`);
  const existing = force ? [] : (await Promise.all(outputs.map(async (file) => ((await exists(file)) ? [file] : [])))).flat();
  if (existing.length > 0) throw new UsageError(`gradlens report: ${existing.join(', ')} already exists; pass --force to replace it, or choose another --out`);
  const options = diagnoseOptions(threshold);
  const payloads = runs.map((run) => toRunPayload(run, diagnose(run, options)));
  // dist/cli.js → the package root holds dist/webview.js and media/.
  const assets = await readReportAssets(path.dirname(__dirname));
  const written: string[] = [];
  const write = async (file: string, text: string): Promise<void> => {
    await fs.writeFile(file, text);
    written.push(file);
  };
  await fs.mkdir(path.dirname(path.resolve(out)), { recursive: true });
  await write(out, renderReport(payloads, assets));
  if (csv) await write(`${stem}.csv`, seriesCsv(runs));
  if (markdown) await write(`${stem}.md`, markdownSummary(payloads));
  return written;
}

export async function reportCommand(parsed: Parsed): Promise<number> {
  const out = (parsed.options.get('out') as string | undefined) ?? 'gradlens-report.html';
  const written = await writeReport(parsed.positionals, {
    out,
    csv: parsed.options.has('csv'),
    markdown: parsed.options.has('markdown'),
    tagRules: parseTagRules(String(parsed.options.get('tag-role') ?? '')),
    threshold: parsed.options.get('threshold') as number | undefined,
    force: parsed.options.has('force'),
  });
  for (const file of written) process.stdout.write(`wrote ${file}\n`);
  return 0;
}
