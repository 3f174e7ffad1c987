import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { bootstrapSite, instrumentedEnv, mainGuardLines, splitArguments } from '../../src/instrument/launch';

/** How a shell user would quote an argument: bare when it is safe, else in single quotes. */
const shellQuote = (arg: string): string => (/^[\w./=:,+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

describe('launching a training script with the bootstrap', () => {
  it('splits the arguments typed in the prompt as a POSIX shell would', () => {
    assert.deepEqual(splitArguments('  --lr 0.1 --name "my run" --tag \'a b\' x\\ y  '), ['--lr', '0.1', '--name', 'my run', '--tag', 'a b', 'x y']);
    assert.deepEqual(splitArguments('--msg "say \\"hi\\" \\n" --empty ""'), ['--msg', 'say "hi" \\n', '--empty', '']);
    assert.deepEqual(splitArguments(''), []);
    assert.throws(() => splitArguments('--name "open'), /unclosed "/);
    assert.throws(() => splitArguments("--name 'open"), /unclosed '/);
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1 })), (args) => {
        assert.deepEqual(splitArguments(args.map(shellQuote).join(' ')), args);
      }),
    );
  });

  it('finds the top-level if __name__ == "__main__": of a script, in either order and quoting', () => {
    const script = ['import torch', '', 'def main():', '    if __name__ == "__main__":', '        pass', '', "if __name__ == '__main__':", '    main()', 'if "__main__" == __name__ :', "if __name__ == '__main__\":"].join('\r\n');
    assert.deepEqual(mainGuardLines(script), [6, 8]);
  });

  it('puts the bootstrap first on PYTHONPATH, keeps the user’s entries, and does not pass Electron’s Node mode on', () => {
    const site = bootstrapSite();
    assert.equal(site, path.join(__dirname, '../../media/gradlens_site'));
    const env = instrumentedEnv({ PYTHONPATH: '/mine', ELECTRON_RUN_AS_NODE: '1', HOME: '/home/u' }, site, '/runs/a.jsonl', { every: 5, allRanks: true });
    assert.deepEqual(env, { PYTHONPATH: `${site}${path.delimiter}/mine`, HOME: '/home/u', GRADLENS_OUT: '/runs/a.jsonl', GRADLENS_EVERY: '5', GRADLENS_RANKS: 'all' });
  });
});
