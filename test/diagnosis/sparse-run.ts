/**
 * Child process of the memory test: reads and diagnoses one log the ways
 * GradLens does (the CLI's diagnosis, the language server's hover data) and
 * prints its peak resident memory in bytes, which only the process itself
 * can measure.
 */
import { diagnose } from '../../src/diagnosis/diagnose';
import { openRuns } from '../../src/logs/open';
import { analyzeLogFile } from '../../src/server/log-diagnostics';

async function main(file: string): Promise<void> {
  const [run] = await openRuns(file);
  const diagnosis = diagnose(run);
  const analysis = await analyzeLogFile(file, () => false);
  process.stdout.write(JSON.stringify({ parameters: diagnosis.parameters.length, steps: diagnosis.steps, hovered: analysis?.runs[0].parameters.length, peakBytes: process.resourceUsage().maxRSS * 1024 }));
}

void main(process.argv[2]);
