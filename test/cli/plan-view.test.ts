import { exampleDoc } from './helpers';
import { style } from '../../lib/cli/io';
import { planJson, renderPlan, renderTree } from '../../lib/cli/plan-view';
import { DdkConfig } from '../../lib/config';
import { DeliveryPlan } from '../../lib/model';
import { fooDocument } from '../releases/fixtures';

const planOf = (doc: unknown) => DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, 'ddk.json'));

describe('plan tree', () => {
  test('the example ddk.json: stages in order, gate, approval, parallel environments, tests, source', () => {
    const text = renderPlan(planOf(exampleDoc()));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('pipeline myapp  (cdk-pipelines, SUPERSEDED) in 111111111111 / eu-west-1');
    expect(lines).toContain('├─ source    codecommit myapp @ main (created by the pipeline stack)');
    expect(lines).toContain('├─ update    the pipeline updates itself (self-mutation)');
    // development before production, each with its environments under it
    const dev = lines.indexOf('├─ 1. stage development');
    const prod = lines.indexOf('└─ 2. stage production');
    expect(dev).toBeGreaterThan(0);
    expect(prod).toBeGreaterThan(dev);
    expect(lines.slice(dev, prod)).toEqual([
      '├─ 1. stage development',
      '│  └─ deploy    1 environment',
      '│     └─ dev  222222222222  eu-west-1',
    ]);
    expect(lines.slice(prod)).toEqual([
      '└─ 2. stage production',
      '   ├─ gate      required checks must be success: ci/integration',
      '   ├─ approval  manual: "Check the dev deployment first"; notify release-managers@example.com',
      '   ├─ deploy    2 environments in parallel',
      '   │  ├─ prod-eu  333333333333  eu-west-1',
      '   │  └─ prod-us  444444444444  us-east-1',
      '   └─ test      npm run smoke',
    ]);
  });

  test('without a pipeline section: one stage per environment, an approval before all but the first', () => {
    const doc = exampleDoc();
    delete doc.pipeline;
    const text = renderPlan(planOf(doc));
    expect(text).toMatch(/1\. stage dev\n│  └─ deploy {4}1 environment/);
    expect(text).not.toMatch(/1\. stage dev\n[^\n]*approval/);
    expect(text).toContain('2. stage prod-eu\n│  ├─ approval  manual: "Approve the deployment of stage prod-eu"');
    expect(text).toContain('3. stage prod-us');
  });

  test('a connection source, review URL and approval timeout are shown', () => {
    const doc = exampleDoc();
    doc.pipeline.source = { connection: { arn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abc-123', repository: 'acme/app', branch: 'trunk' } };
    doc.pipeline.stages[1].approval = { comment: 'go', reviewUrl: 'https://example.com/review', timeoutMinutes: 60 };
    const text = renderPlan(planOf(doc));
    expect(text).toContain('source    connection acme/app @ trunk (arn:aws:codeconnections:eu-west-1:111111111111:connection/abc-123)');
    expect(text).toContain('approval  manual: "go"; review https://example.com/review; expires after 60 min');
  });

  test('colour only when asked for: the plain tree has no escape sequences, the coloured one does', () => {
    const plan = planOf(exampleDoc());
    expect(renderPlan(plan, style(false))).not.toContain('\u001b[');
    expect(renderPlan(plan, style(true))).toContain('\u001b[1mproduction\u001b[22m');
  });

  test('renderTree draws nested branches', () => {
    expect(renderTree({ label: 'r', children: [{ label: 'a', children: [{ label: 'a1' }] }, { label: 'b' }] })).toEqual([
      'r', '├─ a', '│  └─ a1', '└─ b',
    ]);
  });
});

describe('plan JSON', () => {
  test('stages with environments, approvals, checks and tests; no EnvironmentConfig objects', () => {
    const json = planJson(planOf(exampleDoc()));
    expect(json).toMatchObject({
      name: 'myapp',
      strategy: 'cdk-pipelines',
      executionMode: 'SUPERSEDED',
      selfMutating: true,
      source: { kind: 'codecommit', repository: 'myapp', branch: 'main', create: true },
      cicd: { account: '111111111111', region: 'eu-west-1' },
    });
    expect(json.stages.map(s => s.name)).toEqual(['development', 'production']);
    expect(json.stages[0].approval).toBeNull();
    expect(json.stages[1]).toMatchObject({
      requiredChecks: ['ci/integration'],
      approval: { comment: 'Check the dev deployment first', notify: ['release-managers@example.com'] },
      environments: [
        { id: 'prod-eu', account: '333333333333', region: 'eu-west-1' },
        { id: 'prod-us', account: '444444444444', region: 'us-east-1' },
      ],
      tests: ['npm run smoke'],
    });
    // plain data: survives a JSON round trip unchanged
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  test('a bootstrap qualifier is carried per environment', () => {
    const doc = exampleDoc();
    doc.environments.dev.bootstrap = { qualifier: 'abc123' };
    const json = planJson(planOf(doc));
    expect(json.stages[0].environments[0]).toEqual({ id: 'dev', account: '222222222222', region: 'eu-west-1', bootstrapQualifier: 'abc123' });
  });
});

describe('the review path (pipeline.review)', () => {
  const CONNECTION = { connection: { arn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abc-123', repository: 'acme/app', branch: 'main' } };
  const withReview = (review: Record<string, unknown>, source?: unknown) => {
    const doc = exampleDoc();
    doc.pipeline.review = review;
    if (source) doc.pipeline.source = source;
    return planOf(doc);
  };

  test('CodeCommit: after the stages, the environment, branches, stack names, tests, URL, forks and teardown', () => {
    const text = renderPlan(withReview({ environment: 'dev', branches: ['main', 'release'], ttlHours: 24, tests: ['npm run e2e', 'npm run a11y'], urlOutput: 'ReviewUrl' }));
    const lines = text.trimEnd().split('\n');
    const at = lines.findIndex(l => l.startsWith('└─ review'));
    // the review path is the last node, after the last stage
    expect(lines[at - 1]).toBe('│  └─ test      npm run smoke');
    expect(lines.slice(at)).toEqual([
      '└─ review    pull requests into main, release → a review deployment each in dev  222222222222  eu-west-1',
      '   ├─ stacks    myapp-review-pr<number>-<stack>  (one set per pull request)',
      '   ├─ test      npm run e2e',
      '   ├─ test      npm run a11y',
      '   ├─ url       the stack output ReviewUrl, linked from the check review/deploy',
      '   ├─ forks     none (CodeCommit pull requests come from the same repository)',
      '   └─ teardown  when the pull request is closed or merged, or after 24 h without an update; by hand: ddk-pipelines reviews destroy',
    ]);
    expect(lines).toContain('├─ 2. stage production');
  });

  test('a connection source: stacks known by branch, the fork policy, no TTL, the console as URL', () => {
    const refused = renderPlan(withReview({ environment: 'prod-eu', ttlHours: 0 }, CONNECTION));
    expect(refused).toContain('└─ review    pull requests into main → a review deployment each in prod-eu  333333333333  eu-west-1');
    expect(refused).toContain('   ├─ stacks    myapp-review-b-<branch>-<hash>-<stack>  (one set per pull request, known by its source branch)');
    expect(refused).toContain('   ├─ url       the CloudFormation console (no urlOutput), linked from the check review/deploy');
    expect(refused).toContain('   ├─ forks     refused (allowForks: false)');
    expect(refused).toContain('   └─ teardown  when the pull request is closed or merged (no TTL); by hand: ddk-pipelines reviews destroy');
    expect(refused).not.toMatch(/^ {3}├─ test/m);
    expect(renderPlan(withReview({ environment: 'dev', allowForks: true }, CONNECTION))).toContain('   ├─ forks     deploy too (allowForks)');
  });

  test('without pipeline.review: no review node', () => {
    const text = renderPlan(planOf(exampleDoc()));
    expect(text).not.toContain('review ');
    expect(text.trimEnd().split('\n').pop()).toBe('   └─ test      npm run smoke');
  });

  test('plan --json: the review path with its defaults; absent without pipeline.review', () => {
    const json = planJson(withReview({ environment: 'dev' }));
    expect(json.review).toEqual({
      environment: { id: 'dev', account: '222222222222', region: 'eu-west-1' },
      branches: ['main'],
      ttlHours: 72,
      tests: [],
      allowForks: false,
      stackNames: 'myapp-review-pr<number>-<stack>',
    });
    expect(planJson(withReview({ environment: 'dev', urlOutput: 'Url', tests: ['x'] })).review).toMatchObject({ urlOutput: 'Url', tests: ['x'] });
    expect('review' in planJson(planOf(exampleDoc()))).toBe(false);
  });
});

describe('release brackets (pipeline.services): the foo story', () => {
  const foo = () => planOf(fooDocument());

  test('each service\'s own pipeline, the release joining them, then the bracket stages with every service', () => {
    const lines = renderPlan(foo()).trimEnd().split('\n');
    expect(lines).toEqual([
      'pipeline foo  (codepipeline-trunk, SUPERSEDED) in 111111111111 / eu-west-1',
      '├─ deploy    through CloudFormation change sets (prepare, execute)',
      '├─ service   foobar-frontend  (its own pipeline foo-foobar-frontend)',
      '│  ├─ source    codecommit foobar-frontend @ main (existing repository)',
      '│  ├─ build     npm ci && npm test && npx cdk synth',
      '│  ├─ stacks    foobar-frontend-<environment>-<stack>  (ServiceStages, from DDK_SERVICE and DDK_ENVIRONMENTS)',
      '│  ├─ 1. stage dev',
      '│  │  └─ deploy    1 environment',
      '│  │     └─ dev  222222222222  eu-west-1',
      '│  └─ candidate a revision that passed stage dev becomes foobar-frontend\'s candidate for the next release',
      '├─ service   foobar-backend  (its own pipeline foo-foobar-backend)',
      '│  ├─ source    connection acme/foobar-backend @ trunk (arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789)',
      '│  ├─ build     npm ci && npx cdk synth',
      '│  ├─ stacks    foobar-backend-<environment>-<stack>  (ServiceStages, from DDK_SERVICE and DDK_ENVIRONMENTS)',
      '│  ├─ 1. stage dev',
      '│  │  └─ deploy    1 environment',
      '│  │     └─ dev  222222222222  eu-west-1',
      '│  └─ candidate a revision that passed stage dev becomes foobar-backend\'s candidate for the next release',
      '├─ release   release start: one revision per service (foobar-frontend, foobar-backend), exactly that set through every bracket stage; '
        + 'a service left out takes its candidate  (pipeline foo-release)',
      '├─ 2. stage hardening  (bracket: from here on the services move together, as one release)',
      '│  ├─ gate      required checks must be success: perf/e2e  (reported against the release id)',
      '│  ├─ deploy    2 services × 1 environment, in parallel',
      '│  │  ├─ foobar-frontend  hardening  333333333333  eu-west-1',
      '│  │  └─ foobar-backend   hardening  333333333333  eu-west-1',
      '│  └─ test      npm run perf  (once, against the whole release)',
      '└─ 3. stage production  (bracket: the release moves on when hardening passes, automatically)',
      '   └─ deploy    2 services × 1 environment, in parallel',
      '      ├─ foobar-frontend  production  444444444444  eu-west-1',
      '      └─ foobar-backend   production  444444444444  eu-west-1',
    ]);
  });

  test('no pipeline source, build or self-mutation line of its own: each service has them', () => {
    const text = renderPlan(foo());
    expect(text).not.toMatch(/^├─ (source|build|update) /m);
  });

  test('an approval before a bracket stage holds the release; rollback returns every service; no per-service stage: the build makes the candidate', () => {
    const doc = fooDocument();
    doc.pipeline.stages = [
      { name: 'hardening', environments: ['dev', 'hardening'], bracket: true, rollbackOnFailure: true },
      { name: 'production', environments: ['production'], approval: { comment: 'ship it' } },
    ];
    const lines = renderPlan(planOf(doc)).trimEnd().split('\n');
    expect(lines).toContain('│  └─ candidate a revision that built becomes foobar-frontend\'s candidate for the next release');
    expect(lines).not.toContainEqual(expect.stringMatching(/│ {2}├─ \d\. stage/));
    const at = lines.indexOf('├─ 1. stage hardening  (bracket: from here on the services move together, as one release)');
    expect(lines.slice(at + 1, at + 7)).toEqual([
      '│  ├─ deploy    2 services × 2 environments, in parallel',
      '│  │  ├─ foobar-frontend  dev        222222222222  eu-west-1',
      '│  │  ├─ foobar-frontend  hardening  333333333333  eu-west-1',
      '│  │  ├─ foobar-backend   dev        222222222222  eu-west-1',
      '│  │  └─ foobar-backend   hardening  333333333333  eu-west-1',
      '│  └─ rollback  every service to the previous release when a deployment fails',
    ]);
    expect(lines).toContain('└─ 2. stage production  (bracket: the release moves on when hardening passes and the approval is given)');
    expect(lines).toContain('   ├─ approval  manual: "ship it"');
  });

  test('plan --json: services and the release plan; each stage says whether it is a bracket stage; no pipeline source or build', () => {
    const json = planJson(foo());
    expect(json.services).toEqual([
      {
        name: 'foobar-frontend',
        pipeline: 'foo-foobar-frontend',
        source: { kind: 'codecommit', repository: 'foobar-frontend', branch: 'main', create: false },
        build: { commands: ['npm ci', 'npm test', 'npx cdk synth'] },
        stackNames: 'foobar-frontend-<environment>-<stack>',
      },
      {
        name: 'foobar-backend',
        pipeline: 'foo-foobar-backend',
        source: {
          kind: 'connection',
          repository: 'acme/foobar-backend',
          branch: 'trunk',
          create: false,
          connectionArn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
        },
        build: { commands: ['npm ci', 'npx cdk synth'] },
        stackNames: 'foobar-backend-<environment>-<stack>',
      },
    ]);
    expect(json.releasePlan).toEqual({
      serviceStages: ['dev'],
      bracketStages: ['hardening', 'production'],
      servicePipelines: [{ service: 'foobar-frontend', name: 'foo-foobar-frontend' }, { service: 'foobar-backend', name: 'foo-foobar-backend' }],
      releasePipeline: 'foo-release',
    });
    expect(json.stages.map(s => [s.name, s.bracket])).toEqual([['dev', false], ['hardening', true], ['production', true]]);
    expect('source' in json).toBe(false);
    expect('build' in json).toBe(false);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  test('a plan without services renders exactly as before: no services, release plan or bracket in the JSON', () => {
    const json = planJson(planOf(exampleDoc()));
    for (const key of ['services', 'releasePlan']) expect(key in json).toBe(false);
    expect(json.stages.every(s => !('bracket' in s))).toBe(true);
    expect(json.source).toEqual({ kind: 'codecommit', repository: 'myapp', branch: 'main', create: true });
    expect(json.build).toEqual({ commands: ['npm ci', 'npm test', 'npx cdk synth'] });
    expect(renderPlan(planOf(exampleDoc()))).not.toMatch(/service |candidate|bracket|release start/);
  });
});
