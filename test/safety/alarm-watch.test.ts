import {
  AlarmReading, decideWatch, parseSafetyParameters, parseWatchToken, TargetReading, TRANSIENT_ERROR_MINUTES,
  WatchInput, watchSessionName,
} from '../../lib/safety/alarm-watch';
import { SafetyTarget } from '../../lib/safety/shared';
import { CODEPIPELINE_TEXT_LIMITS } from '../../lib/status-checks/gate';

/*
 * The alarm watch's decision and its input readers, as pure functions.
 */

const dev: SafetyTarget = { id: 'dev', account: '111111111111', region: 'eu-west-1', lookupRoleArn: 'arn:aws:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-eu-west-1', alarms: ['api-5xx', 'api-latency'] };
const prod: SafetyTarget = { id: 'prod', account: '222222222222', region: 'us-east-1', lookupRoleArn: 'arn:aws:iam::222222222222:role/cdk-hnb659fds-lookup-role-222222222222-us-east-1', alarms: ['orders'] };

function ok(name: string, extra: Partial<AlarmReading> = {}): AlarmReading {
  return { name, type: 'MetricAlarm', state: 'OK', reason: 'Threshold Crossed: no datapoint was greater', since: '2025-01-01T00:00:00.000Z', ...extra };
}

function input(readings: TargetReading[], extra: Partial<WatchInput> = {}): WatchInput {
  return {
    stage: 'prod',
    soakMinutes: 10,
    elapsedMinutes: 3,
    unreadMinutes: 0,
    watched: [{ target: dev, names: dev.alarms! }, { target: prod, names: prod.alarms! }],
    readings,
    cicdAccount: '999999999999',
    ...extra,
  };
}

const allOk: TargetReading[] = [
  { kind: 'read', target: dev, alarms: [ok('api-5xx'), ok('api-latency')] },
  { kind: 'read', target: prod, alarms: [ok('orders')] },
];

describe('decideWatch', () => {
  test.each<[string, WatchInput, ReturnType<typeof decideWatch>]>([
    ['all OK within the soak: continue with progress', input(allOk), {
      kind: 'continue',
      percentComplete: 30,
      summary: 'Alarm watch of stage "prod": 3 of 10 minutes, 3 alarms in 2 environments, none in ALARM.',
    }],
    ['all OK, soak elapsed: success with a summary', input(allOk, { elapsedMinutes: 10.2 }), {
      kind: 'success',
      summary: 'Alarm watch of stage "prod": 3 alarms in 2 environments (dev, prod) stayed out of ALARM for 10 minutes.',
    }],
    ['one alarm in ALARM: failure naming it, where, since when and why', input([
      { kind: 'read', target: dev, alarms: [ok('api-5xx', { state: 'ALARM', since: '2025-01-02T03:04:05.000Z', reason: 'Threshold Crossed: 1 datapoint [12.0] was greater than 5.0' }), ok('api-latency')] },
      allOk[1],
    ]), {
      kind: 'failure',
      message: 'Alarm watch of stage "prod": alarm api-5xx in dev (111111111111/eu-west-1) is in ALARM since 2025-01-02T03:04:05.000Z: Threshold Crossed: 1 datapoint [12.0] was greater than 5.0; the stage rolls back.',
    }],
    ['in ALARM after the soak elapsed: still a failure', input([
      { kind: 'read', target: dev, alarms: [ok('api-5xx'), ok('api-latency')] },
      { kind: 'read', target: prod, alarms: [ok('orders', { type: 'CompositeAlarm', state: 'ALARM', reason: 'r' })] },
    ], { elapsedMinutes: 20 }), {
      kind: 'failure',
      message: 'Alarm watch of stage "prod": alarm orders in prod (222222222222/us-east-1) is in ALARM since 2025-01-01T00:00:00.000Z: r; the stage rolls back.',
    }],
    ['went to ALARM and back during the watch: failure', input([
      { kind: 'read', target: dev, alarms: [ok('api-5xx', { alarmedDuringWatch: { at: '2025-01-02T03:00:00.000Z', reason: 'spike' } }), ok('api-latency')] },
      allOk[1],
    ]), {
      kind: 'failure',
      message: 'Alarm watch of stage "prod": alarm api-5xx in dev (111111111111/eu-west-1) went to ALARM at 2025-01-02T03:00:00.000Z during the watch (spike) and is OK now; the stage rolls back.',
    }],
    ['a watched alarm that does not exist: failure with the fix', input([
      { kind: 'read', target: dev, alarms: [ok('api-5xx')] },
      allOk[1],
    ]), {
      kind: 'failure',
      message: 'Alarm watch of stage "prod": alarm api-latency does not exist in dev (111111111111/eu-west-1) (neither a metric nor a composite alarm). Fix: create it in 111111111111/eu-west-1, or correct the alarm names in ddk.json (a watch that watches nothing would pass every deployment); the stage rolls back.',
    }],
    ['INSUFFICIENT_DATA within the soak: continue, named', input([
      { kind: 'read', target: dev, alarms: [ok('api-5xx', { state: 'INSUFFICIENT_DATA' }), ok('api-latency')] },
      allOk[1],
    ]), {
      kind: 'continue',
      percentComplete: 30,
      summary: 'Alarm watch of stage "prod": 3 of 10 minutes, 3 alarms in 2 environments, none in ALARM. 1 had insufficient data: api-5xx (dev).',
    }],
    ['INSUFFICIENT_DATA at the end of the soak: success, named', input([
      { kind: 'read', target: dev, alarms: [ok('api-5xx', { state: 'INSUFFICIENT_DATA' }), ok('api-latency')] },
      allOk[1],
    ], { elapsedMinutes: 10 }), {
      kind: 'success',
      summary: 'Alarm watch of stage "prod": 3 alarms in 2 environments (dev, prod) stayed out of ALARM for 10 minutes. 1 had insufficient data: api-5xx (dev).',
    }],
    ['AssumeRole refused: failure with the --trust fix', input([
      { kind: 'denied', target: dev, step: 'assume-role', message: 'AccessDenied: not authorized to perform sts:AssumeRole' },
      allOk[1],
    ]), {
      kind: 'failure',
      message: 'Alarm watch of stage "prod": cannot assume the lookup role arn:aws:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-eu-west-1 of dev (111111111111/eu-west-1): AccessDenied: not authorized to perform sts:AssumeRole. Fix: bootstrap 111111111111/eu-west-1 with `cdk bootstrap --trust 999999999999` (the lookup role trusts the --trust and --trust-for-lookup accounts); the stage rolls back.',
    }],
    ['DescribeAlarms refused: failure with the permission fix', input([
      allOk[0],
      { kind: 'denied', target: prod, step: 'read-alarms', message: 'AccessDenied: not authorized to perform cloudwatch:DescribeAlarms' },
    ]), {
      kind: 'failure',
      message: 'Alarm watch of stage "prod": cannot read the alarms of prod (222222222222/us-east-1) through arn:aws:iam::222222222222:role/cdk-hnb659fds-lookup-role-222222222222-us-east-1: AccessDenied: not authorized to perform cloudwatch:DescribeAlarms. Fix: give the lookup role cloudwatch:DescribeAlarms and cloudwatch:DescribeAlarmHistory (the CDK bootstrap\'s lookup role has ReadOnlyAccess, which does); the stage rolls back.',
    }],
    ['another refusal (a validation error): failure pointing at the logs', input([
      allOk[0],
      { kind: 'denied', target: prod, step: 'read-alarms', message: 'InvalidParameterValue: bad' },
    ]), {
      kind: 'failure',
      message: 'Alarm watch of stage "prod": cannot read the alarms of prod (222222222222/us-east-1) through arn:aws:iam::222222222222:role/cdk-hnb659fds-lookup-role-222222222222-us-east-1: InvalidParameterValue: bad. Fix: see the alarm-watch function\'s logs, then retry the stage; the stage rolls back.',
    }],
    ['a transient error: continue, even with the soak elapsed', input([
      allOk[0],
      { kind: 'transient', target: prod, message: 'reading the alarms: Throttling: Rate exceeded' },
    ], { elapsedMinutes: 12, unreadMinutes: 2 }), {
      kind: 'continue',
      percentComplete: 99,
      summary: `Alarm watch of stage "prod": 12 of 10 minutes; could not read prod (222222222222/us-east-1): reading the alarms: Throttling: Rate exceeded; trying again (gives up after ${TRANSIENT_ERROR_MINUTES} minutes without a reading).`,
    }],
    ['transient errors for the bound: failure', input([
      allOk[0],
      { kind: 'transient', target: prod, message: 'reading the alarms: Throttling: Rate exceeded' },
    ], { unreadMinutes: TRANSIENT_ERROR_MINUTES }), {
      kind: 'failure',
      message: `Alarm watch of stage "prod": the alarms could not be read for ${TRANSIENT_ERROR_MINUTES} minutes: prod (222222222222/us-east-1): reading the alarms: Throttling: Rate exceeded. Fix: see the alarm-watch function's logs, then retry the stage`,
    }],
    ['a target without a reading counts as unread', input([allOk[0]]), {
      kind: 'continue',
      percentComplete: 30,
      summary: `Alarm watch of stage "prod": 3 of 10 minutes; could not read prod (222222222222/us-east-1): no reading; trying again (gives up after ${TRANSIENT_ERROR_MINUTES} minutes without a reading).`,
    }],
    ['an ALARM wins over a transient error elsewhere', input([
      { kind: 'read', target: dev, alarms: [ok('api-5xx', { state: 'ALARM', reason: 'r' }), ok('api-latency')] },
      { kind: 'transient', target: prod, message: 'x' },
    ]), {
      kind: 'failure',
      message: 'Alarm watch of stage "prod": alarm api-5xx in dev (111111111111/eu-west-1) is in ALARM since 2025-01-01T00:00:00.000Z: r; the stage rolls back.',
    }],
  ])('%s', (_name, i, expected) => {
    expect(decideWatch(i)).toEqual(expected);
  });

  test('every problem is named in one failure', () => {
    const d = decideWatch(input([
      { kind: 'read', target: dev, alarms: [ok('api-5xx', { state: 'ALARM', reason: 'r' })] },
      { kind: 'denied', target: prod, step: 'assume-role', message: 'AccessDenied: no' },
    ], { cicdAccount: undefined }));
    expect(d.kind).toBe('failure');
    const message = (d as { message: string }).message;
    expect(message).toContain('alarm api-5xx in dev');
    expect(message).toContain('alarm api-latency does not exist in dev');
    expect(message).toContain('`cdk bootstrap --trust <the CICD account>`');
  });

  test('texts fit CodePipeline\'s limits', () => {
    const many = Array.from({ length: 300 }, (_, i) => `alarm-${'x'.repeat(200)}-${i}`);
    const target = { ...dev, alarms: many };
    const failing = decideWatch(input([{ kind: 'read', target, alarms: many.map(n => ok(n, { state: 'ALARM', reason: 'y'.repeat(200) })) }], { watched: [{ target, names: many }] }));
    expect((failing as { message: string }).message).toHaveLength(CODEPIPELINE_TEXT_LIMITS.failureMessage);
    const passing = decideWatch(input([{ kind: 'read', target, alarms: many.map(n => ok(n, { state: 'INSUFFICIENT_DATA' })) }], { watched: [{ target, names: many }] }));
    expect((passing as { summary: string }).summary.length).toBe(CODEPIPELINE_TEXT_LIMITS.summary);
  });
});

describe('the continuation token', () => {
  test('read back what the watch writes', () => {
    expect(parseWatchToken('{"v":1,"startedAt":"2025-01-01T00:00:00.000Z","readAt":"2025-01-01T00:05:00.000Z"}'))
      .toEqual({ v: 1, startedAt: '2025-01-01T00:00:00.000Z', readAt: '2025-01-01T00:05:00.000Z' });
  });

  test.each([undefined, '', '{', '{"v":2,"startedAt":"2025-01-01T00:00:00.000Z","readAt":"2025-01-01T00:00:00.000Z"}', '{"v":1,"startedAt":"soon","readAt":"2025-01-01T00:00:00.000Z"}', '{"v":1,"startedAt":"2025-01-01T00:00:00.000Z"}'])(
    'unreadable %p: none (the watch starts again)', t => {
      expect(parseWatchToken(t)).toBeUndefined();
    });
});

describe('UserParameters', () => {
  test('the three names', () => {
    expect(parseSafetyParameters('{"pipeline":"p","stage":"prod","executionId":"e"}')).toEqual({ ok: true, value: { pipeline: 'p', stage: 'prod', executionId: 'e' } });
  });

  test.each<[string | undefined, string[]]>([
    [undefined, ['UserParameters: "" is not JSON; expected {"pipeline", "stage", "executionId"}']],
    ['[1]', ['UserParameters: [1] is not an object; expected {"pipeline", "stage", "executionId"}']],
    ['{"pipeline":"p","stage":" "}', ['UserParameters.stage: " " is not a non-empty string', 'UserParameters.executionId: undefined is not a non-empty string']],
  ])('%p refused', (raw, issues) => {
    expect(parseSafetyParameters(raw)).toEqual({ ok: false, issues });
  });
});

describe('the role session name', () => {
  test('STS characters, at most 64', () => {
    expect(watchSessionName('prod')).toBe('ddk-alarm-watch-prod');
    expect(watchSessionName('eu prod/1')).toBe('ddk-alarm-watch-eu-prod-1');
    const long = watchSessionName('s'.repeat(100));
    expect(long).toHaveLength(64);
    // STS: RoleSessionName 2 to 64 characters of [\w+=,.@-]
    expect(long).toMatch(/^[\w+=,.@-]{2,64}$/);
  });
});
