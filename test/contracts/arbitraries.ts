import * as fc from 'fast-check';
import { PipelineSchema } from '../../lib/config/schema';

/*
 * Generated ddk.json documents, valid for the zod schema (lib/config/schema.ts) and the config's
 * cross-checks: environments (one to `maxTargets` targets besides cicd, several accounts and
 * regions, the cicd account among them, custom bootstrap qualifiers), stages (names, several
 * environments each, approvals, many and long required checks, tests, branches, rollback), sources
 * (CodeCommit created or imported, connections with codestar-connections and codeconnections
 * ARNs), notifications, execution modes, change sets, all three strategies and, in about a third of
 * them, review deployments (an environment, branches, TTL, tests, a URL output, forks), and in about
 * half deployment safety (stage windows of 1 to 5 rules, change reviews on approved stages, stage
 * and CICD-account alarms with soak times, environment alarms; none of the alarms in PARALLEL mode).
 *
 * fast-check shrinks a failing document towards fewer environments, stages, checks and options.
 */

/** How large generated documents get. */
export interface DdkArbitraryOptions {
  /** Targets besides cicd. @default 4 */
  readonly maxTargets?: number;
  /** Required checks per stage. @default 12 */
  readonly maxChecks?: number;
  /** Characters of a required check's name part (ddk.json sets no limit). @default 300 */
  readonly maxCheckLength?: number;
  /** Restricts the strategies. @default all three */
  readonly strategies?: string[];
}

const CICD_ACCOUNT = '111111111111';
const ACCOUNTS = [CICD_ACCOUNT, '222222222222', '333333333333', '444444444444', '555555555555'];
const REGIONS = ['eu-west-1', 'us-east-1', 'eu-central-1', 'ap-southeast-2'];
const STRATEGIES = ['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'];
const RESERVED = ['source', 'build', 'updatepipeline', 'assets', 'cicd'];

const chars = (set: string) => fc.constantFrom(...set.split(''));
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = `${LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789`;

/** A word of `set` characters starting with a letter. */
function word(minLength: number, maxLength: number, set = `${ALNUM}-`, size?: fc.SizeForArbitrary): fc.Arbitrary<string> {
  return fc.tuple(chars(LOWER), fc.string({ unit: chars(set), minLength: minLength - 1, maxLength: maxLength - 1, size })).map(([a, b]) => a + b);
}

/** An environment id: a letter, then letters, digits and -. */
const envId = word(1, 20).filter(id => !RESERVED.includes(id.toLowerCase()));
/** A stage or pipeline name: letters, digits and . @ _ - (CodePipeline's pattern), mostly short, sometimes up to `maxLength`. */
const stageName = (maxLength: number) => fc.oneof(
  { weight: 4, arbitrary: word(1, Math.min(20, maxLength), `${ALNUM}.@_-`) },
  { weight: 1, arbitrary: fc.tuple(word(1, 12, `${ALNUM}.@_-`), fc.integer({ min: 8, max: maxLength - 13 })).map(([w, n]) => `${w}-${'x'.repeat(n)}`) },
).filter(n => !RESERVED.includes(n.toLowerCase()) && n.toLowerCase() !== 'main');
/** A git branch name as ddk.json's BRANCH_PATTERN accepts it. */
const branch = fc.oneof(
  fc.constantFrom('main', 'develop', 'release/1.2', 'hotfix/login-fix', 'env/prod_eu'),
  word(1, 30, `${ALNUM}._-`).map(b => `feature/${b}`),
).filter(b => !/\.\.|\/\/|\/$|\.lock$|\.$/.test(b));
/**
 * A status-check context `system/name`, mostly short, sometimes with a name of up to `max`
 * characters (made of a word and a run of one character, so that a failure shrinks its length fast).
 */
const context = (max: number) => fc.tuple(
  word(1, 12, `${ALNUM}._-`),
  fc.oneof(
    { weight: 3, arbitrary: word(1, 20, `${ALNUM}._/-`) },
    { weight: 1, arbitrary: fc.tuple(word(1, 12, `${ALNUM}._-`), fc.integer({ min: Math.min(40, max - 13), max: max - 13 })).map(([w, n]) => `${w}-${'x'.repeat(n)}`) },
  ),
).map(([s, n]) => `${s}/${n.replace(/\/+$/, '')}`);
/** A stage's required checks: a few, or many (up to `max`). */
const requiredChecks = (max: number, length: number) => fc.oneof(
  { weight: 3, arbitrary: fc.uniqueArray(context(length), { minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.uniqueArray(context(length), { minLength: Math.ceil(max / 2), maxLength: max, size: 'max' }) },
);
const email = fc.tuple(word(1, 12, `${LOWER}0123456789.`), fc.constantFrom('example.com', 'example.org')).map(([u, d]) => `${u.replace(/\.+$/, '')}@${d}`);
const uuid = fc.uuid();

const approval = fc.oneof(
  fc.boolean(),
  fc.record({
    comment: fc.string({ minLength: 0, maxLength: 512 }),
    reviewUrl: word(1, 40).map(p => `https://review.example.com/${p}`),
    notify: fc.uniqueArray(email, { minLength: 1, maxLength: 3 }),
    timeoutMinutes: fc.oneof(fc.constantFrom(5, 60, 1440, 86400), fc.integer({ min: 5, max: 86400 })),
  }, { requiredKeys: [] }),
);

const source = fc.oneof(
  fc.constant(undefined),
  fc.record({
    codecommit: fc.record({
      repository: word(1, 60, `${ALNUM}._-`),
      branch,
      create: fc.boolean(),
    }, { requiredKeys: ['repository'] }),
  }),
  fc.record({
    connection: fc.record({
      arn: fc.tuple(fc.constantFrom('codestar-connections', 'codeconnections'), fc.constantFrom(...REGIONS), uuid)
        .map(([service, region, id]) => `arn:aws:${service}:${region}:${CICD_ACCOUNT}:connection/${id}`),
      repository: fc.tuple(word(1, 20, `${ALNUM}._-`), word(1, 30, `${ALNUM}._-`)).map(([o, r]) => `${o}/${r}`),
      branch,
    }, { requiredKeys: ['arn', 'repository'] }),
  }),
);

const notifications = fc.oneof(
  fc.constant(undefined),
  fc.record({
    emails: fc.uniqueArray(email, { minLength: 1, maxLength: 3 }),
    events: fc.uniqueArray(fc.constantFrom('execution-started', 'execution-succeeded', 'execution-failed', 'execution-superseded', 'stage-failed', 'stage-resumed', 'action-failed', 'approval-needed', 'approval-succeeded'), { minLength: 1, maxLength: 4 }),
  }, { requiredKeys: [] }),
  fc.record({
    topicArn: fc.tuple(fc.constantFrom(...REGIONS), word(1, 40, `${ALNUM}_-`)).map(([r, n]) => `arn:aws:sns:${r}:${CICD_ACCOUNT}:${n}`),
  }),
);

/** A CloudWatch alarm name: mostly short, sometimes of 255 characters; no commas. */
const alarmName = fc.oneof(
  { weight: 4, arbitrary: word(1, 40, `${ALNUM}-_./ #:`).map(n => n.trim() || 'alarm') },
  { weight: 1, arbitrary: word(1, 10).map(w => `${w}-${'x'.repeat(254 - w.length)}`) },
);

/**
 * Deployment safety on the explicit stages (windows, change reviews, alarms) and environments
 * (alarms), as validation accepts it: alarms only outside PARALLEL mode and never with
 * rollbackOnFailure false; a change review only on a stage with an approval, whose name has no "."
 * (CodePipeline's variable namespaces do not allow it: the renderer refuses such a stage).
 */
function applySafety(safety: any, environments: Record<string, any>, pipeline: Record<string, any>, parallel: boolean): void {
  const stages: any[] = pipeline.stages ?? [];
  stages.forEach((stage, i) => {
    const windows = safety.windows[i % safety.windows.length];
    if (windows) stage.window = windows.length === 1 ? windows[0] : windows;
    if (safety.changeReview[i % 4] && stage.approval && !stage.name.includes('.')) stage.changeReview = true;
    const alarms = safety.stageAlarms[i % 4];
    if (alarms && !parallel && (alarms.names || alarms.cicd)) {
      stage.alarms = Object.fromEntries(Object.entries(alarms).filter(([, v]) => v !== undefined));
      delete stage.rollbackOnFailure;
    }
  });
  if (parallel) return;
  Object.keys(environments).filter(id => id !== 'cicd').forEach((id, i) => {
    const alarms = safety.envAlarms[i % safety.envAlarms.length];
    if (!alarms) return;
    environments[id].alarms = alarms;
    for (const s of stages) if (s.environments.includes(id)) delete s.rollbackOnFailure;
  });
}

/** A generated ddk.json document. */
export function ddkDocument(options: DdkArbitraryOptions = {}): fc.Arbitrary<any> {
  const maxTargets = options.maxTargets ?? 4;
  const maxChecks = options.maxChecks ?? 12;
  const maxCheckLength = options.maxCheckLength ?? 300;
  const strategies = options.strategies ?? STRATEGIES;
  const retention = 'artifactRetentionDays' in PipelineSchema.shape;

  const environment = fc.record({
    account: fc.constantFrom(...ACCOUNTS),
    region: fc.constantFrom(...REGIONS),
    qualifier: fc.option(fc.constantFrom('hnb659fds', 'ddk12345', 'team7'), { nil: undefined }),
  });

  return fc.record({
    cicdRegion: fc.constantFrom(...REGIONS),
    targets: fc.uniqueArray(fc.tuple(envId, environment), { minLength: 1, maxLength: maxTargets, selector: ([id]) => id.toLowerCase() }),
    strategy: fc.constantFrom(...strategies),
    name: fc.option(stageName(100), { nil: undefined, freq: 8 }),
    source,
    executionMode: fc.option(fc.constantFrom('QUEUED', 'SUPERSEDED', 'PARALLEL'), { nil: undefined }),
    changeSets: fc.option(fc.boolean(), { nil: undefined }),
    rollbackOnFailure: fc.option(fc.boolean(), { nil: undefined }),
    artifactRetentionDays: fc.option(fc.integer({ min: 1, max: 3650 }), { nil: undefined }),
    notifications,
    explicitStages: fc.boolean(),
    stageSeeds: fc.array(fc.record({
      name: stageName(100),
      slot: fc.nat(),
      approval: fc.option(approval, { nil: undefined }),
      requiredChecks: fc.option(requiredChecks(maxChecks, maxCheckLength), { nil: undefined }),
      tests: fc.option(fc.array(fc.constantFrom('npm run smoke', 'npm run integ -- --env "$DDK_ENVIRONMENT"', 'curl -fsS https://example.com/health'), { minLength: 1, maxLength: 3 }), { nil: undefined }),
      branch: fc.option(branch, { nil: undefined }),
      rollbackOnFailure: fc.option(fc.boolean(), { nil: undefined }),
    }), { minLength: 1, maxLength: 4 }),
    // last, so that adding it left the earlier fields of the seed's documents as they were
    review: fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      {
        weight: 1,
        arbitrary: fc.record({
          target: fc.nat(),
          branches: fc.option(fc.uniqueArray(branch, { minLength: 1, maxLength: 3 }), { nil: undefined }),
          ttlHours: fc.option(fc.constantFrom(0, 1, 72, 8760), { nil: undefined }),
          tests: fc.option(fc.array(fc.constantFrom('npm run e2e', 'npx playwright test --reporter=line', 'curl -fsS "$(jq -r \'.[].ReviewUrl\' "$DDK_REVIEW_OUTPUTS")"'), { minLength: 1, maxLength: 2 }), { nil: undefined }),
          urlOutput: fc.option(fc.constantFrom('ReviewUrl', 'WebsiteUrl'), { nil: undefined }),
          allowForks: fc.option(fc.boolean(), { nil: undefined }),
        }),
      },
    ),
    // after review, for the same reason: deployment safety (issue 13) in about half of the documents
    safety: fc.oneof(
      { weight: 1, arbitrary: fc.constant(undefined) },
      {
        weight: 1,
        arbitrary: fc.record({
          windows: fc.array(fc.option(fc.array(fc.record({
            cron: fc.constantFrom('* * 9-16 ? * MON-FRI', '* 0-29 * ? * *', '* * * L * ?', '* * 22-23 ? * 6L', '* * * ? * * 2030'),
            timeZone: fc.option(fc.constantFrom('Europe/Berlin', 'UTC', 'UTC+05:30', 'America/New_York'), { nil: undefined }),
          }, { requiredKeys: ['cron'] }), { minLength: 1, maxLength: 5 }), { nil: undefined }), { minLength: 4, maxLength: 4 }),
          changeReview: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
          stageAlarms: fc.array(fc.option(fc.record({
            names: fc.option(fc.uniqueArray(alarmName, { minLength: 1, maxLength: 3 }), { nil: undefined }),
            cicd: fc.option(fc.uniqueArray(alarmName, { minLength: 1, maxLength: 5 }), { nil: undefined }),
            soakMinutes: fc.option(fc.constantFrom(1, 10, 60, 1410), { nil: undefined }),
          }), { nil: undefined }), { minLength: 4, maxLength: 4 }),
          envAlarms: fc.array(fc.option(fc.uniqueArray(alarmName, { minLength: 1, maxLength: 2 }), { nil: undefined }),
            { minLength: 6, maxLength: 6 }),
        }),
      },
    ),
  }).map(g => {
    const environments: Record<string, any> = { cicd: { account: CICD_ACCOUNT, region: g.cicdRegion } };
    for (const [id, e] of g.targets) {
      environments[id] = { account: e.account, region: e.region, ...(e.qualifier ? { bootstrap: { qualifier: e.qualifier } } : {}) };
    }
    const parallel = g.executionMode === 'PARALLEL';
    const pipeline: Record<string, any> = { strategy: g.strategy };
    if (g.name !== undefined) pipeline.name = g.name;
    if (g.source !== undefined) pipeline.source = g.source;
    if (g.executionMode !== undefined) pipeline.executionMode = g.executionMode;
    if (g.changeSets !== undefined) pipeline.changeSets = g.changeSets;
    if (g.rollbackOnFailure !== undefined && !parallel) pipeline.rollbackOnFailure = g.rollbackOnFailure;
    if (retention && g.artifactRetentionDays !== undefined) pipeline.artifactRetentionDays = g.artifactRetentionDays;
    if (g.notifications !== undefined) pipeline.notifications = g.notifications;
    if (g.explicitStages) pipeline.stages = stagesOf(g, parallel);
    if (g.review !== undefined) {
      const { target, ...rest } = g.review;
      const given = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      pipeline.review = { environment: g.targets[target % g.targets.length][0], ...given };
    }
    if (g.safety !== undefined) applySafety(g.safety, environments, pipeline, parallel);
    const doc: any = { environments, pipeline };
    if (g.name === undefined) doc.tags = { application: 'generated-app' };
    return doc;
  });
}

/** Distributes the targets over the generated stages (each target in exactly one, no stage empty). */
function stagesOf(g: any, parallel: boolean): any[] {
  const ids: string[] = g.targets.map(([id]: [string]) => id);
  const seeds = g.stageSeeds.slice(0, ids.length);
  const names = new Set<string>();
  const stages = seeds.map((s: any) => ({ ...s, environments: [] as string[] }));
  ids.forEach((id, i) => stages[i < stages.length ? i : seeds[i % seeds.length].slot % stages.length].environments.push(id));
  const branches = new Set<string>();
  return stages.flatMap((s: any, i: number) => {
    let name = s.name;
    while (names.has(name.toLowerCase())) name = `${name.slice(0, 90)}-${i}`;
    names.add(name.toLowerCase());
    const out: any = { name, environments: s.environments };
    if (s.approval !== undefined) out.approval = s.approval;
    if (s.requiredChecks !== undefined) out.requiredChecks = s.requiredChecks;
    if (s.tests !== undefined) out.tests = s.tests;
    // codepipeline-gitflow needs one branch per stage (a stage's default branch is its name, the last one's main)
    if (s.branch !== undefined && g.strategy === 'codepipeline-gitflow' && !branches.has(s.branch) && !names.has(s.branch.toLowerCase())) {
      out.branch = s.branch;
      branches.add(s.branch);
    }
    if (s.rollbackOnFailure !== undefined && !parallel) out.rollbackOnFailure = s.rollbackOnFailure;
    return [out];
  });
}
