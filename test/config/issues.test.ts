import { ConfigIssue } from '../../lib/config';
import { closest, DdkConfigError, didYouMean, editDistance, formatIssue, jsonPath, renderValue } from '../../lib/config/issues';

const ISSUE: ConfigIssue = {
  file: 'app/ddk.json',
  path: 'environments.dev.account',
  value: '"12345"',
  problem: 'is not a 12-digit AWS account id (it has 5 characters)',
  expected: 'a 12-digit AWS account id as a string',
  fix: 'copy the account id',
};

describe('formatIssue', () => {
  test('renders file, path, value, problem, expectation and fix on one line', () => {
    expect(formatIssue(ISSUE)).toBe(
      'app/ddk.json: environments.dev.account: "12345" is not a 12-digit AWS account id (it has 5 characters); '
      + 'expected a 12-digit AWS account id as a string. Fix: copy the account id',
    );
  });

  test('leaves out the value when it is missing', () => {
    expect(formatIssue({ ...ISSUE, value: undefined, problem: 'is missing' })).toBe(
      'app/ddk.json: environments.dev.account: is missing; expected a 12-digit AWS account id as a string. Fix: copy the account id',
    );
  });

  test('leaves out the path for a problem of the whole file', () => {
    expect(formatIssue({ file: 'f.json', path: '', problem: 'cannot be read (ENOENT)', expected: 'a readable file', fix: 'create it' })).toBe(
      'f.json: cannot be read (ENOENT); expected a readable file. Fix: create it',
    );
  });
});

describe('didYouMean', () => {
  test('suggests the closest candidate for a likely typo', () => {
    expect(didYouMean('eu-wset-1', ['us-east-1', 'eu-west-1', 'eu-west-2'])).toBe(' (did you mean "eu-west-1"?)');
    expect(didYouMean('prdo', ['dev', 'prod'])).toBe(' (did you mean "prod"?)');
  });

  test('compares case-insensitively and suggests the candidate as spelled', () => {
    expect(didYouMean('EXECUTIONMODE', ['name', 'executionMode'])).toBe(' (did you mean "executionMode"?)');
  });

  test('suggests nothing when no candidate is close', () => {
    expect(didYouMean('Ireland', ['eu-west-1', 'us-east-1'])).toBe('');
    expect(didYouMean('anything', [])).toBe('');
  });
});

describe('closest and editDistance', () => {
  test('editDistance is the Levenshtein distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
    expect(editDistance('ab', 'ba')).toBe(2);
  });

  test('closest accepts at most 2 edits for short words, a third of the length for long ones', () => {
    expect(closest('dv', ['dev'])).toBe('dev');
    expect(closest('x', ['dev'])).toBeUndefined(); // 3 edits
    // 12 characters: up to 12 / 3 = 4 edits
    expect(closest('abcdefghijkl', ['abcdefghwxyz'])).toBe('abcdefghwxyz'); // 4 edits
    expect(closest('abcdefghijkl', ['abcdefgvwxyz'])).toBeUndefined(); // 5 edits
  });

  test('closest prefers the nearest candidate, the first one on a tie', () => {
    expect(closest('prod-e', ['prod-eu', 'prod-us', 'prod'])).toBe('prod-eu');
    expect(closest('ab', ['ac', 'ad'])).toBe('ac');
  });
});

describe('jsonPath', () => {
  test('joins identifiers with dots, indexes with brackets and quotes other keys', () => {
    expect(jsonPath(['environments', 'dev', 'account'])).toBe('environments.dev.account');
    expect(jsonPath(['pipeline', 'stages', 1, 'environments', 0])).toBe('pipeline.stages[1].environments[0]');
    expect(jsonPath(['environments', 'dev env'])).toBe('environments["dev env"]');
    expect(jsonPath(['resources', 'ddk-bucket'])).toBe('resources.ddk-bucket');
    expect(jsonPath(['resources', 'AWS::S3::Bucket'])).toBe('resources["AWS::S3::Bucket"]');
    expect(jsonPath(['environments', '1dev'])).toBe('environments["1dev"]');
    expect(jsonPath([])).toBe('');
  });
});

describe('renderValue', () => {
  test('renders JSON, and undefined as missing', () => {
    expect(renderValue('x')).toBe('"x"');
    expect(renderValue(12)).toBe('12');
    expect(renderValue(null)).toBe('null');
    expect(renderValue({ a: [1] })).toBe('{"a":[1]}');
    expect(renderValue(undefined)).toBeUndefined();
  });

  test('cuts long values to 80 characters', () => {
    const rendered = renderValue('a'.repeat(200))!;

    expect(rendered).toHaveLength(80);
    expect(rendered.endsWith('...')).toBe(true);
    expect(renderValue('a'.repeat(78))).toHaveLength(80);
  });
});

describe('DdkConfigError', () => {
  test('lists every issue under a header that counts them', () => {
    const second: ConfigIssue = { ...ISSUE, path: 'environments.prod.region', value: '"mars-1"', problem: 'is not a known AWS region' };

    const error = new DdkConfigError('app/ddk.json', [ISSUE, second]);

    expect(error.name).toBe('DdkConfigError');
    expect(error.issues).toEqual([ISSUE, second]);
    expect(error.message).toBe([
      'app/ddk.json is not a valid ddk.json (2 problems):',
      `  - ${formatIssue(ISSUE)}`,
      `  - ${formatIssue(second)}`,
    ].join('\n'));
    expect(new DdkConfigError('f', [ISSUE]).message).toMatch(/^f is not a valid ddk\.json \(1 problem\):\n/);
  });

  test('isDdkConfigError recognises the error by name, not by class', () => {
    expect(DdkConfigError.isDdkConfigError(new DdkConfigError('f', [ISSUE]))).toBe(true);
    expect(DdkConfigError.isDdkConfigError({ name: 'DdkConfigError', issues: [] })).toBe(true);
    expect(DdkConfigError.isDdkConfigError(new Error('x'))).toBe(false);
    expect(DdkConfigError.isDdkConfigError(null)).toBe(false);
    expect(DdkConfigError.isDdkConfigError('DdkConfigError')).toBe(false);
  });
});
