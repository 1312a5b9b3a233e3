import {
  RepositorySeedPlanner,
  RepositorySeedSpec,
  SeedActionType,
  SeedRequestType,
} from '../../lib/pipelines/repository-seed';

const SPEC: RepositorySeedSpec = {
  repositoryName: 'myapp',
  files: [{ path: 'README.md', content: '# myapp\n' }, { path: 'ddk.json', content: '{}\n' }],
  branches: ['dev', 'staging'],
  defaultBranch: 'main',
  commitMessage: 'Initial commit by ddk-pipelines',
  authorName: 'ddk-pipelines',
};
const { CREATE, UPDATE, DELETE } = SeedRequestType;
const { CREATE_INITIAL_COMMIT, CREATE_BRANCH } = SeedActionType;

describe('RepositorySeedPlanner.plan', () => {
  test('empty repository: the initial commit on the default branch, then every other branch from it', () => {
    const plan = RepositorySeedPlanner.plan(CREATE, { branches: [] }, SPEC);
    expect(plan.actions).toEqual([
      { type: CREATE_INITIAL_COMMIT, branch: 'main' },
      { type: CREATE_BRANCH, branch: 'dev', fromBranch: 'main' },
      { type: CREATE_BRANCH, branch: 'staging', fromBranch: 'main' },
    ]);
    expect(plan.existingBranches).toEqual([]);
  });

  test('the default branch listed among the branches is created once, by the initial commit', () => {
    const plan = RepositorySeedPlanner.plan(CREATE, { branches: [] }, { ...SPEC, branches: ['dev', 'main', 'dev'] });
    expect(plan.actions).toEqual([
      { type: CREATE_INITIAL_COMMIT, branch: 'main' },
      { type: CREATE_BRANCH, branch: 'dev', fromBranch: 'main' },
    ]);
  });

  test('already-seeded repository: nothing to do, every branch left as it is', () => {
    const plan = RepositorySeedPlanner.plan(CREATE, { branches: ['staging', 'main', 'dev'], defaultBranch: 'main' }, SPEC);
    expect(plan.actions).toEqual([]);
    expect(plan.existingBranches).toEqual(['main', 'dev', 'staging']);
  });

  test('a repository with commits never gets an initial commit; existing branches are untouched, missing ones start from the default branch', () => {
    // GIVEN a user pushed "main" and "dev" already
    const plan = RepositorySeedPlanner.plan(CREATE, { branches: ['main', 'dev'], defaultBranch: 'main' }, SPEC);
    expect(plan.actions).toEqual([{ type: CREATE_BRANCH, branch: 'staging', fromBranch: 'main' }]);
    expect(plan.actions.map(a => a.type)).not.toContain(CREATE_INITIAL_COMMIT);
    expect(plan.existingBranches).toEqual(['main', 'dev']);
  });

  test('a repository without the wanted default branch: it and the others start from the repository\'s own default branch', () => {
    const plan = RepositorySeedPlanner.plan(CREATE, { branches: ['master', 'dev'], defaultBranch: 'master' }, SPEC);
    expect(plan.actions).toEqual([
      { type: CREATE_BRANCH, branch: 'main', fromBranch: 'master' },
      { type: CREATE_BRANCH, branch: 'staging', fromBranch: 'master' },
    ]);
    expect(plan.existingBranches).toEqual(['dev']);
  });

  test('update with a new branch: only the missing branch is created', () => {
    const seeded = { branches: ['main', 'dev', 'staging'], defaultBranch: 'main' };
    const plan = RepositorySeedPlanner.plan(UPDATE, seeded, { ...SPEC, branches: ['dev', 'staging', 'release'] });
    expect(plan.actions).toEqual([{ type: CREATE_BRANCH, branch: 'release', fromBranch: 'main' }]);
  });

  test('update that removes a branch from the props deletes nothing', () => {
    const plan = RepositorySeedPlanner.plan(UPDATE, { branches: ['main', 'dev', 'staging'], defaultBranch: 'main' }, { ...SPEC, branches: [] });
    expect(plan.actions).toEqual([]);
  });

  test('update with changed files does not touch a seeded repository', () => {
    const changed = { ...SPEC, files: [{ path: 'ddk.json', content: '{"changed":true}' }] };
    expect(RepositorySeedPlanner.plan(UPDATE, { branches: ['main', 'dev', 'staging'], defaultBranch: 'main' }, changed).actions).toEqual([]);
  });

  test('delete is a no-op, whatever the state', () => {
    expect(RepositorySeedPlanner.plan(DELETE, { branches: [] }, SPEC)).toEqual({ actions: [], existingBranches: [] });
    expect(RepositorySeedPlanner.plan(DELETE, { branches: ['main'], defaultBranch: 'main' }, SPEC).actions).toEqual([]);
  });

  test('branches but no default branch to start from: a clear error, nothing guessed', () => {
    expect(() => RepositorySeedPlanner.plan(CREATE, { branches: ['feature'] }, SPEC))
      .toThrow(/repository myapp has branches \(feature\) but neither "main" nor a default branch.*Fix: create "main"/);
  });
});

describe('RepositorySeedPlanner.problems', () => {
  test('a valid spec has none', () => {
    expect(RepositorySeedPlanner.problems(SPEC, 'x')).toEqual([]);
  });

  test.each([
    ['/etc/passwd', 'is absolute'],
    ['a//b', 'has an empty segment'],
    ['dir/', 'has an empty segment'],
    ['../up', 'has a "." or ".." segment'],
    ['.git/config', 'is inside .git'],
    ['a\\b', 'contains a backslash'],
    ['', 'is empty'],
  ])('file path %j %s', (path, why) => {
    const problems = RepositorySeedPlanner.problems({ ...SPEC, files: [{ path, content: 'x' }] }, 'seeder');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`seeder: files: "${path}" ${why}`);
    expect(problems[0]).toContain('Fix: rename the file');
  });

  test.each([
    ['contains a space', 'feature branch'],
    ['contains ".."', 'a..b'],
    ['begins or ends with "/" or "."', '/main'],
    ['begins or ends with "/" or "."', 'main.'],
    ['contains "..", "//" or "@{"', 'x@{y'],
    ['contains a space, a control character or one of ? ^ * [ \\ ~ :', 'a:b'],
    ['looks like a commit id', '0123456789abcdef0123456789abcdef01234567'],
    ['is "@"', '@'],
    ['begins with "-"', '-x'],
    ['has a segment starting with "." or ending with ".lock"', 'topic.lock'],
    ['has 257 characters', 'a'.repeat(257)],
  ])('branch name refused, reason: %s', (why, name) => {
    const problems = RepositorySeedPlanner.problems({ ...SPEC, branches: ['dev', name] }, 'seeder');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`seeder: branches: "${name}"`);
    expect(problems[0]).toContain(why);
  });

  test('branch names git accepts pass', () => {
    expect(RepositorySeedPlanner.problems({ ...SPEC, branches: ['release/1.0', 'feature/ABC-1_x', 'dev-eu'] }, 's')).toEqual([]);
  });

  test('every problem is reported together: no files, a bad default branch, too much content', () => {
    expect(RepositorySeedPlanner.problems({ ...SPEC, files: [], defaultBranch: 'my main' }, 's')).toEqual([
      expect.stringContaining('s: files is empty'),
      expect.stringContaining('s: defaultBranch: "my main" contains a space'),
    ]);
    const big = RepositorySeedPlanner.problems({ ...SPEC, files: [{ path: 'big.txt', content: 'x'.repeat(128 * 1024 + 1) }] }, 's');
    expect(big).toEqual([expect.stringContaining(`s: files: ${128 * 1024 + 1} bytes of content; expected at most ${128 * 1024} bytes`)]);
  });

  test('a duplicated path is reported', () => {
    expect(RepositorySeedPlanner.problems({ ...SPEC, files: [{ path: 'a', content: '1' }, { path: 'a', content: '2' }] }, 's'))
      .toEqual([expect.stringContaining('"a" is given twice')]);
  });
});

describe('RepositorySeedPlanner.parseProperties', () => {
  test('reads the properties CloudFormation delivers (with the ServiceToken) into the spec', () => {
    expect(RepositorySeedPlanner.parseProperties({ ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:f', ...SPEC })).toEqual(SPEC);
  });

  test('lists every problem of malformed properties', () => {
    expect(() => RepositorySeedPlanner.parseProperties({ repositoryName: '', files: 'x', branches: [1], defaultBranch: 'main', commitMessage: 'm', authorName: 'a' }))
      .toThrow(/invalid repository seed properties \(3 problems\):\n {2}- repositoryName: expected a non-empty string, got ""\n {2}- branches: expected a list of strings, got \[1\]\n {2}- files: expected a list of \{ path, content \} strings/);
  });

  test('validates the values too (a branch name CodeCommit would refuse)', () => {
    expect(() => RepositorySeedPlanner.parseProperties({ ...SPEC, branches: ['bad name'] }))
      .toThrow(/properties: branches: "bad name" contains a space/);
  });

  test('missing properties are reported, not defaulted', () => {
    expect(() => RepositorySeedPlanner.parseProperties(undefined)).toThrow(/6 problems/);
  });
});
