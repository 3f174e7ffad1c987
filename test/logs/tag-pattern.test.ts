import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { TagRoles } from '../../src/logs/roles';
import { compileTagPattern } from '../../src/logs/tag-pattern';

/** What a pattern meant when it was a regular expression: the oracle, on inputs small enough for it. */
function regexMatch(pattern: string, tag: string): { param?: string } | undefined {
  const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  const parts = pattern.split('{name}');
  const match = new RegExp(`^${parts.length === 2 ? `${escape(parts[0])}(.+)${escape(parts[1])}` : escape(parts[0])}$`, 'i').exec(tag);
  if (!match) return undefined;
  return parts.length === 2 ? { param: match[1] } : {};
}

describe('tag patterns', () => {
  it('match and take the parameter as the regular expression `^before(.+)after$` did', () => {
    const glob = fc.array(fc.constantFrom('a', 'B', '/', '.', '*', '(', '+'), { maxLength: 6 }).map((chars) => chars.join(''));
    const pattern = fc.oneof(glob, fc.tuple(glob, glob).map(([before, after]) => `${before}{name}${after}`));
    const tag = fc.array(fc.constantFrom('a', 'A', 'b', '/', '.', '(', '+'), { maxLength: 10 }).map((chars) => chars.join(''));
    fc.assert(
      fc.property(pattern, tag, (p, t) => {
        assert.deepEqual(compileTagPattern(p)(t), regexMatch(p, t), `${p} on ${t}`);
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads the built-in patterns as before', () => {
    const roles = new TagRoles();
    assert.deepEqual(roles.meaning('grad_norm/total'), { role: 'gradNorm' });
    assert.deepEqual(roles.meaning('Grad_2.0_Norm/rnn.weight_hh_l0'), { role: 'paramGradNorm', param: 'rnn.weight_hh_l0' });
    assert.deepEqual(roles.meaning('weights/encoder.İ.weight/norm'), { role: 'weightNorm', param: 'encoder.İ.weight' });
    assert.deepEqual(roles.meaning('lr-AdamW'), { role: 'lr' });
    assert.equal(roles.meaning('grad_norm/'), undefined);
  });

  it('take time linear in the tag whatever the wildcards: 13 of them no longer freeze the reader', () => {
    // `*************X` as a regular expression backtracks for minutes on a 24-character tag.
    const hostile = new TagRoles([{ pattern: `${'*'.repeat(13)}X`, role: 'loss' }, { pattern: `${'*a'.repeat(13)}{name}${'*a'.repeat(13)}z`, role: 'gradNorm' }]);
    const timeFor = (length: number): number => {
      const started = performance.now();
      for (let i = 0; i < 200; i++) assert.equal(hostile.meaning(`${'a'.repeat(length)}.${i}`), undefined);
      return performance.now() - started;
    };
    timeFor(1000);
    const short = timeFor(2_000);
    const long = timeFor(20_000);
    // Ten times the length: about ten times the time (quadratic would be a hundred).
    assert.ok(long / short < 40, `${short.toFixed(1)} ms for 2,000 characters, ${long.toFixed(1)} ms for 20,000`);
  });
});
