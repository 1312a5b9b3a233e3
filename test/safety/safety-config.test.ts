import { DdkConfig } from '../../lib/config';
import { DeliveryPlan } from '../../lib/model';
import { CHANGE_REVIEW_HEAD_LENGTH, SAFETY_LIMITS } from '../../lib/safety/shared';
import { FILE, issuesOf } from '../config/helpers';

/*
 * ddk.json's deployment safety keys (issue 13): stage `window`, `alarms`, `changeReview`, and an
 * environment's `alarms` — their validation (each error names path, value, problem, expected and
 * fix) and what the plan makes of them.
 */

function environments(): { [id: string]: any } {
  return {
    cicd: { account: '111111111111', region: 'eu-west-1' },
    dev: { account: '222222222222', region: 'eu-west-1' },
    prod: { account: '333333333333', region: 'us-east-1' },
  };
}

function doc(stages: any[], pipeline: { [key: string]: any } = {}, envs = environments()): any {
  return { environments: envs, pipeline: { name: 'shop', ...pipeline, stages } };
}

const BERLIN = { cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' };

function planOf(d: any): DeliveryPlan {
  return DeliveryPlan.fromConfig(DdkConfig.fromObject(d, FILE));
}

describe('windows', () => {
  test('one window or a list are valid; the plan keeps them in order, UTC when no zone is named', () => {
    const d = doc([
      { name: 'dev', environments: ['dev'], window: BERLIN },
      { name: 'prod', environments: ['prod'], window: [{ cron: '* * 10-11 ? * TUE,THU' }, { cron: '* * * ? DEC *', timeZone: 'UTC+01:00' }] },
    ]);
    expect(issuesOf(d)).toEqual([]);
    const plan = planOf(d);
    expect(plan.stages[0].windows).toEqual([BERLIN]);
    expect(plan.stages[1].windows).toEqual([{ cron: '* * 10-11 ? * TUE,THU', timeZone: 'UTC' }, { cron: '* * * ? DEC *', timeZone: 'UTC+01:00' }]);
  });

  test('a stage without a window has none', () => {
    expect(planOf(doc([{ name: 'dev', environments: ['dev'] }])).stages[0].windows).toEqual([]);
  });

  test('a five-field (Unix) cron is refused with the fix of a seconds field', () => {
    const [issue] = issuesOf(doc([{ name: 'dev', environments: ['dev'], window: { cron: '0 9 * * 1-5' } }]));
    expect(issue).toMatchObject({ path: 'pipeline.stages[0].window.cron', problem: 'has 5 fields' });
    expect(issue.fix).toContain('put "*" for the seconds in front');
  });

  test('an invalid field value names the field', () => {
    const [issue] = issuesOf(doc([{ name: 'dev', environments: ['dev'], window: [BERLIN, { cron: '* * 25 ? * MON' }] }]));
    expect(issue.path).toBe('pipeline.stages[0].window[1].cron');
    expect(issue.problem).toContain('hour');
  });

  test('seconds other than "*", both day fields, and years outside 1970–2199 are refused', () => {
    const problems = (cron: string) => issuesOf(doc([{ name: 'dev', environments: ['dev'], window: { cron } }])).map(i => i.problem);
    expect(problems('0 * 9 ? * MON')).toEqual(['has "0" as its seconds field, which CodePipeline does not accept there']);
    expect(problems('* * 9 1 * MON')).toEqual(['sets both day-of-month and day-of-week']);
    expect(problems('* * 9 ? * ?')).toEqual(['has "?" in both day-of-month and day-of-week']);
    expect(problems('* * 9 ? * MON 2300')).toEqual(['names the year 2300']);
  });

  test('an abbreviated or unknown time zone is refused with a Region/City fix', () => {
    const issues = issuesOf(doc([
      { name: 'dev', environments: ['dev'], window: { cron: '* * 9 ? * MON', timeZone: 'CST' } },
      { name: 'prod', environments: ['prod'], window: { cron: '* * 9 ? * MON', timeZone: 'Europe/Atlantis' } },
    ]));
    expect(issues.map(i => [i.path, i.value])).toEqual([
      ['pipeline.stages[0].window.timeZone', '"CST"'],
      ['pipeline.stages[1].window.timeZone', '"Europe/Atlantis"'],
    ]);
    expect(issues[0].fix).toContain('America/Chicago');
    expect(issues[1].problem).toBe('is not a time zone this machine knows');
  });

  test('offsets beyond ±14:00 are refused', () => {
    const [issue] = issuesOf(doc([{ name: 'dev', environments: ['dev'], window: { cron: '* * 9 ? * MON', timeZone: 'UTC+15:00' } }]));
    expect(issue).toMatchObject({ path: 'pipeline.stages[0].window.timeZone' });
  });

  test('more than 5 windows (CodePipeline\'s rules per condition) and an empty list are refused', () => {
    const six = Array.from({ length: 6 }, () => BERLIN);
    expect(issuesOf(doc([{ name: 'dev', environments: ['dev'], window: six }])).map(i => [i.path, i.problem])).toEqual([
      ['pipeline.stages[0].window', 'has more windows than the 5 rules CodePipeline allows in a stage\'s BeforeEntry condition'],
    ]);
    expect(issuesOf(doc([{ name: 'dev', environments: ['dev'], window: [] }])).map(i => i.problem)).toEqual(['is empty']);
  });

  test('a window that is not an object says what to write', () => {
    const [issue] = issuesOf(doc([{ name: 'dev', environments: ['dev'], window: '9-17' }]));
    expect(issue.path).toBe('pipeline.stages[0].window');
    expect(issue.fix).toContain('"cron"');
  });
});

describe('alarms', () => {
  test('a stage\'s names are watched in each of its environments, with the environment\'s own alarms; the stage then rolls back', () => {
    const envs = environments();
    envs.prod.alarms = ['prod-latency', 'api-5xx'];
    const plan = planOf(doc([
      { name: 'dev', environments: ['dev'] },
      { name: 'prod', environments: ['prod'], alarms: { names: ['api-5xx'], cicd: ['canary'], soakMinutes: 30 } },
    ], {}, envs));
    expect(plan.stages[1].alarms).toEqual({ soakMinutes: 30, targets: [{ targetId: 'prod', alarms: ['api-5xx', 'prod-latency'] }], cicd: ['canary'] });
    expect(plan.stages[1].rollbackOnFailure).toBe(true);
    expect(plan.stages[0].alarms).toBeUndefined();
    expect(plan.stages[0].rollbackOnFailure).toBe(false);
  });

  test('an environment\'s alarms alone make a watch with the default soak, also in the default plan', () => {
    const envs = environments();
    envs.dev.alarms = ['dev-errors'];
    const plan = planOf({ environments: envs, pipeline: { name: 'shop' } });
    expect(plan.stages.map(s => [s.name, s.alarms, s.rollbackOnFailure])).toEqual([
      ['dev', { soakMinutes: SAFETY_LIMITS.defaultSoakMinutes, targets: [{ targetId: 'dev', alarms: ['dev-errors'] }], cicd: [] }, true],
      ['prod', undefined, false],
    ]);
  });

  test('an alarms section that watches nothing is refused', () => {
    const [issue] = issuesOf(doc([{ name: 'dev', environments: ['dev'], alarms: { soakMinutes: 5 } }]));
    expect(issue).toMatchObject({ path: 'pipeline.stages[0].alarms' });
    expect(issue.problem).toContain('watches no alarm');
  });

  test('PARALLEL execution mode refuses stage and environment alarms (CodePipeline rolls back no parallel execution)', () => {
    const envs = environments();
    envs.prod.alarms = ['p'];
    const issues = issuesOf(doc([{ name: 'dev', environments: ['dev'], alarms: { names: ['a'] } }, { name: 'prod', environments: ['prod'] }], { executionMode: 'PARALLEL' }, envs));
    expect(issues.map(i => i.path).sort()).toEqual(['environments.prod.alarms', 'pipeline.stages[0].alarms']);
    expect(issues[0].fix).toContain('change the execution mode');
  });

  test('rollbackOnFailure false beside alarms is refused, also for an environment\'s alarms', () => {
    const envs = environments();
    envs.prod.alarms = ['p'];
    const issues = issuesOf(doc([
      { name: 'dev', environments: ['dev'], alarms: { names: ['a'] }, rollbackOnFailure: false },
      { name: 'prod', environments: ['prod'], rollbackOnFailure: false },
    ], {}, envs));
    expect(issues.map(i => i.path)).toEqual(['pipeline.stages[0].rollbackOnFailure', 'pipeline.stages[1].rollbackOnFailure']);
  });

  test('soak minutes out of range, alarm names with commas, duplicates and over 5 CICD alarms are refused', () => {
    const bad = issuesOf(doc([{
      name: 'dev',
      environments: ['dev'],
      alarms: { names: ['a,b', 'c', 'c'], cicd: ['1', '2', '3', '4', '5', '6'], soakMinutes: SAFETY_LIMITS.maxSoakMinutes + 1 },
    }]));
    expect(bad.map(i => i.path).sort()).toEqual([
      'pipeline.stages[0].alarms.cicd',
      'pipeline.stages[0].alarms.names[0]',
      'pipeline.stages[0].alarms.names[2]',
      'pipeline.stages[0].alarms.soakMinutes',
    ].sort());
  });

  test('alarms of the cicd environment are refused: no stage deploys it', () => {
    const envs = environments();
    envs.cicd.alarms = ['x'];
    const [issue] = issuesOf(doc([{ name: 'dev', environments: ['dev'] }], {}, envs));
    expect(issue).toMatchObject({ path: 'environments.cicd.alarms' });
    expect(issue.fix).toContain('"cicd"');
  });
});

describe('changeReview', () => {
  test('needs an approval; an environment\'s manual_approvals counts', () => {
    expect(issuesOf(doc([{ name: 'dev', environments: ['dev'], approval: true, changeReview: true }]))).toEqual([]);
    const envs = environments();
    envs.dev.manual_approvals = true;
    expect(issuesOf(doc([{ name: 'dev', environments: ['dev'], changeReview: true }], {}, envs))).toEqual([]);
    const [issue] = issuesOf(doc([{ name: 'dev', environments: ['dev'], changeReview: true }]));
    expect(issue).toMatchObject({ path: 'pipeline.stages[0].changeReview', problem: 'has no approval to show the changes in' });
    expect(issuesOf(doc([{ name: 'dev', environments: ['dev'], approval: false, changeReview: true }]))).toHaveLength(1);
  });

  test('leaves room for the summary in the approval: comment and review URL together', () => {
    const ok = { comment: 'c'.repeat(500), reviewUrl: `https://example.com/${'p'.repeat(60)}` };
    expect(issuesOf(doc([{ name: 'dev', environments: ['dev'], approval: ok, changeReview: true }]))).toEqual([]);
    const long = { comment: 'c'.repeat(500), reviewUrl: `https://example.com/${'p'.repeat(100)}` };
    const [issue] = issuesOf(doc([{ name: 'dev', environments: ['dev'], approval: long, changeReview: true }]));
    expect(issue).toMatchObject({ path: 'pipeline.stages[0].approval', value: '"629 characters of comment and review URL"' });
    expect(issue.expected).toBe(`a comment and reviewUrl of at most ${CHANGE_REVIEW_HEAD_LENGTH} characters together with changeReview`);
    // without changeReview the same approval is fine (nothing follows the comment)
    expect(issuesOf(doc([{ name: 'dev', environments: ['dev'], approval: long }]))).toEqual([]);
  });

  test('is off unless set', () => {
    const plan = planOf(doc([{ name: 'dev', environments: ['dev'], approval: true }, { name: 'prod', environments: ['prod'], approval: true, changeReview: true }]));
    expect(plan.stages.map(s => s.changeReview)).toEqual([false, true]);
  });
});

describe('release brackets (pipeline.services)', () => {
  const services = { api: { source: { codecommit: { repository: 'api' } } } };
  const withServices = (stages: any[], envs = environments()) => ({
    environments: envs,
    pipeline: { name: 'foo', strategy: 'codepipeline-trunk', services, stages },
  });

  test('take windows and alarms (stage and environment) on per-service and bracket stages', () => {
    const envs = environments();
    envs.prod.alarms = ['api-5xx'];
    const d = withServices([
      { name: 'dev', environments: ['dev'], window: BERLIN, alarms: { names: ['latency'], soakMinutes: 10 } },
      { name: 'prod', environments: ['prod'], bracket: true, window: [BERLIN], alarms: { cicd: ['canary'] } },
    ], envs);
    expect(issuesOf(d)).toEqual([]);
    const plan = planOf(d);
    expect(plan.stages.map(s => [s.name, s.windows.length, s.alarms?.targets, s.alarms?.cicd, s.rollbackOnFailure])).toEqual([
      ['dev', 1, [{ targetId: 'dev', alarms: ['latency'] }], [], true],
      ['prod', 1, [{ targetId: 'prod', alarms: ['api-5xx'] }], ['canary'], true],
    ]);
  });

  test('refuse changeReview, naming the key (a bracket stage deploys several services\' assemblies)', () => {
    const d = withServices([
      { name: 'dev', environments: ['dev'] },
      { name: 'prod', environments: ['prod'], bracket: true, window: BERLIN, approval: true, changeReview: true },
    ]);
    const issues = issuesOf(d);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'pipeline.stages[1].changeReview' });
    expect(issues[0].problem).toBe('is not supported yet with "pipeline.services" (release brackets)');
  });
});
