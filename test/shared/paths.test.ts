import assert from 'node:assert/strict';
import path from 'node:path';
import { isInside } from '../../src/shared/paths';

describe('isInside', () => {
  const root = path.join(path.sep, 'work', 'runs');
  it('takes the folder itself and what lies below it', () => {
    assert.equal(isInside(root, root), true);
    assert.equal(isInside(path.join(root, 'a', 'grads.jsonl'), root), true);
    assert.equal(isInside(path.join(root, '..data', 'grads.jsonl'), root), true, 'a name that starts with two dots is still below');
  });
  it('refuses its parent, its siblings and a folder whose name only starts the same', () => {
    assert.equal(isInside(path.dirname(root), root), false);
    assert.equal(isInside(path.join(path.dirname(root), 'other', 'grads.jsonl'), root), false);
    assert.equal(isInside(`${root}-old${path.sep}grads.jsonl`, root), false);
  });
});
