import assert from 'node:assert/strict';
import { TagRoles } from '../../src/logs/roles';
import { globSearches, numberFromSetting, stringFromSetting, stringsFromSetting, tagRulesFromSetting } from '../../src/extension/runs/settings';

describe('settings: checked values', () => {
  it('turns gradlens.tagRoles into tag rules that name the roles of a log’s tags, leaving out rules that cannot work', () => {
    const { value, problems } = tagRulesFromSetting({
      'train/my_norm': 'gradNorm',
      'norms/{name}': 'paramGradNorm',
      'acc': 'accuracy',
      'a/{name}/{name}': 'paramGradNorm',
      '': 'loss',
    });
    const roles = new TagRoles(value);
    assert.deepEqual(roles.meaning('train/my_norm'), { role: 'gradNorm' });
    assert.deepEqual(roles.meaning('norms/encoder.weight'), { role: 'paramGradNorm', param: 'encoder.weight' });
    assert.equal(roles.meaning('acc'), undefined);
    assert.equal(problems.length, 3);
    assert.match(problems[0], /"acc": "accuracy" is not a role \(loss, evalLoss, gradNorm/);
    assert.match(problems[1], /"a\/\{name\}\/\{name\}": a pattern holds \{name\} at most once/);
    assert.match(problems[2], /an empty pattern matches no tag/);
    assert.deepEqual(tagRulesFromSetting(['gradNorm']), { value: [], problems: ['must be an object of "tag pattern": "role" pairs'] });
    assert.deepEqual(tagRulesFromSetting(undefined), { value: [], problems: [] });
  });

  it('falls back to the default for a number out of range or not a number', () => {
    assert.deepEqual(numberFromSetting(250, 500, 100), { value: 250, problems: [] });
    assert.deepEqual(numberFromSetting(50, 500, 100), { value: 500, problems: ['50 is not a number of at least 100; using 500'] });
    assert.deepEqual(numberFromSetting('fast', 500, 100), { value: 500, problems: ['"fast" is not a number of at least 100; using 500'] });
    assert.deepEqual(numberFromSetting(0, 10, 0, true), { value: 10, problems: ['0 is not a number above 0; using 10'] });
  });

  it('searches for the log globs in one group, each glob with braces or a comma on its own', () => {
    assert.deepEqual(globSearches(['**/*.jsonl', '**/*.csv', '**/mlruns/**/metrics/**']), ['{**/*.jsonl,**/*.csv,**/mlruns/**/metrics/**}']);
    assert.deepEqual(globSearches(['**/*.{log,txt}', '**/*.csv', 'a,b/*.jsonl']), ['**/*.csv', '**/*.{log,txt}', 'a,b/*.jsonl']);
    assert.deepEqual(globSearches([]), []);
  });

  it('keeps the globs of a list and drops what is not one', () => {
    assert.deepEqual(stringsFromSetting(['**/*.jsonl', 3, ''], ['**/*.csv']), { value: ['**/*.jsonl'], problems: ['entries that are not globs were ignored'] });
    assert.deepEqual(stringsFromSetting('**/*.jsonl', ['**/*.csv']).value, ['**/*.csv']);
    assert.deepEqual(stringFromSetting(null, '**/node_modules/**').value, '**/node_modules/**');
  });
});
