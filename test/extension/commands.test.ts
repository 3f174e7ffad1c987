import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { COMMAND_IDS } from '../../src/extension/command-ids';

/** What package.json promises a user: the commands in the palette and the menus that show them. */
interface Manifest {
  contributes: {
    commands: Array<{ command: string; title: string; category?: string }>;
    menus: Record<string, Array<{ command: string; when?: string }>>;
  };
}

const manifest = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as Manifest;

describe('extension commands', () => {
  it('registers exactly the commands package.json contributes, in its order', () => {
    assert.deepEqual(
      manifest.contributes.commands.map((c) => c.command),
      [...COMMAND_IDS],
    );
  });

  it('shows every command under the GradLens category', () => {
    for (const c of manifest.contributes.commands) assert.equal(c.category, 'GradLens', `${c.command} has category ${c.category}`);
  });

  it('puts only contributed commands in menus', () => {
    const ids = new Set<string>(COMMAND_IDS);
    for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
      for (const item of items) assert.ok(ids.has(item.command), `menu ${menu} names ${item.command}, which no handler registers`);
    }
  });
});
