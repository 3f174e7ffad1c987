import { readFileSync } from 'node:fs';
import { compareCase, computeReferenceCase, parseReferenceFile } from '../engine/reference';
import { toJsonLine } from '../engine/record';
import { type CommandSpec, type Parsed, UsageError } from './args';
import { errorMessage } from '../shared/errors';

export const verifySpec: CommandSpec = {
  name: 'verify-reference',
  summary:
    'Recomputes every case of a gradlens-reference-v1 file in float64 (loss, gradients, clip_grad_norm_ to 0.5, one SGD lr 0.1 and one Adam lr 0.01 step) ' +
    'and prints the largest relative error per case. Exits 1 when any error passes 1e-8.',
  usage: 'gradlens verify-reference FILE [--json]',
  positionals: [1, 1],
  options: [{ name: 'json', type: { kind: 'flag' }, help: 'print the computed values as JSON instead of the comparison' }],
};

const TOLERANCE = 1e-8;

export function verifyCommand(parsed: Parsed): number {
  const file = parsed.positionals[0];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`gradlens verify-reference: cannot read ${file}: ${errorMessage(error)}`);
  }
  let reference;
  try {
    reference = parseReferenceFile(JSON.parse(text));
  } catch (error) {
    throw new UsageError(`gradlens verify-reference: ${file}: ${errorMessage(error)}`);
  }
  const computed = reference.cases.map((c) => computeReferenceCase(c, 'float64'));
  if (parsed.options.has('json')) {
    process.stdout.write(toJsonLine({ cases: computed }) + '\n');
    return 0;
  }
  let worst = 0;
  reference.cases.forEach((c, i) => {
    const { maxRelativeError, where } = compareCase(c, computed[i]);
    worst = Math.max(worst, maxRelativeError);
    const verdict = maxRelativeError <= TOLERANCE ? 'ok  ' : 'FAIL';
    process.stdout.write(`${verdict} ${c.name.padEnd(28)} max relative error ${maxRelativeError.toExponential(2)}${maxRelativeError > TOLERANCE ? ` at ${where}` : ''}\n`);
  });
  const passed = worst <= TOLERANCE;
  process.stdout.write(`${reference.cases.length} cases, largest relative error ${worst.toExponential(2)} (limit ${TOLERANCE}): ${passed ? 'all match' : 'MISMATCH'}\n`);
  return passed ? 0 : 1;
}
