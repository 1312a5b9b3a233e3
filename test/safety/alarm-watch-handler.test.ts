import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type * as Handler from '../../lambda/alarm-watch';
import { isTransient } from '../../lib/safety/alarm-reader';
import { TRANSIENT_ERROR_MINUTES } from '../../lib/safety/alarm-watch';
import { encodeSafetyStages } from '../../lib/safety/settings';
import { SAFETY_STAGES_VARIABLE, SafetyStages } from '../../lib/safety/shared';
import { setEnvironment } from '../status-checks/local';

/*
 * The alarm-watch handler against mocked STS, CloudWatch and CodePipeline: the exact calls it
 * makes (the lookup role per target, DescribeAlarms by 100 names with paging, the history of an
 * alarm that changed during the watch) and how it answers the job.
 */

const sts = mockClient(STSClient);
const cloudWatch = mockClient(CloudWatchClient);
const codePipeline = mockClient(CodePipelineClient);

const DEV_ROLE = 'arn:aws:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-eu-west-1';
const PROD_ROLE = 'arn:aws:iam::222222222222:role/cdk-hnb659fds-lookup-role-222222222222-us-east-1';
const MANY = Array.from({ length: 150 }, (_, i) => `alarm-${String(i).padStart(3, '0')}`);
const stages: SafetyStages = {
  prod: {
    soakMinutes: 10,
    targets: [
      { id: 'dev', account: '111111111111', region: 'eu-west-1', lookupRoleArn: DEV_ROLE, alarms: ['api-5xx', 'api-composite'] },
      { id: 'prod', account: '222222222222', region: 'us-east-1', lookupRoleArn: PROD_ROLE, alarms: ['orders'] },
      // a target without alarms is not read
      { id: 'other', account: '333333333333', region: 'eu-west-1', lookupRoleArn: 'arn:aws:iam::333333333333:role/x' },
    ],
  },
  many: { targets: [{ id: 'dev', account: '111111111111', region: 'eu-west-1', lookupRoleArn: DEV_ROLE, alarms: MANY }] },
  empty: { targets: [{ id: 'dev', account: '111111111111', region: 'eu-west-1', lookupRoleArn: DEV_ROLE, alarms: [] }] },
};
const context = { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:999999999999:function:alarm-watch', awsRequestId: 'req-1' } as Context;
const JOB = '11111111-2222-3333-4444-555555555555';
const EXECUTION = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';

function jobEvent(stage: string, continuationToken?: string, userParameters?: string) {
  return {
    'CodePipeline.job': {
      id: JOB,
      accountId: '999999999999',
      data: {
        actionConfiguration: { configuration: { FunctionName: 'alarm-watch', UserParameters: userParameters ?? JSON.stringify({ pipeline: 'myapp', stage, executionId: EXECUTION }) } },
        inputArtifacts: [],
        outputArtifacts: [],
        artifactCredentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'x', sessionToken: 'x' },
        ...(continuationToken !== undefined ? { continuationToken } : {}),
      },
    },
  };
}

/** A token of a watch that started `minutes` ago and last read everything then. */
function tokenFrom(minutes: number, readMinutesAgo = 0): { token: string; startedAt: string } {
  const startedAt = new Date(Date.now() - minutes * 60_000).toISOString();
  return { token: JSON.stringify({ v: 1, startedAt, readAt: new Date(Date.now() - readMinutesAgo * 60_000).toISOString() }), startedAt };
}

function metric(name: string, state = 'OK', extra: Partial<MetricAlarm> = {}): MetricAlarm {
  return { AlarmName: name, StateValue: state as MetricAlarm['StateValue'], StateReason: `reason of ${name}`, StateUpdatedTimestamp: new Date('2025-01-01T00:00:00Z'), StateTransitionedTimestamp: new Date('2025-01-01T00:00:00Z'), ...extra };
}

function sdkError(name: string, fault: 'client' | 'server', status: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}

const credentials = (n: string) => ({ Credentials: { AccessKeyId: `AKIA${n}`, SecretAccessKey: `secret-${n}`, SessionToken: `token-${n}`, Expiration: new Date('2030-01-01T00:00:00Z') } });

function allGood() {
  sts.on(AssumeRoleCommand, { RoleArn: DEV_ROLE }).resolves(credentials('DEV'));
  sts.on(AssumeRoleCommand, { RoleArn: PROD_ROLE }).resolves(credentials('PROD'));
  cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['api-5xx', 'api-composite'] }).resolves({
    MetricAlarms: [metric('api-5xx')],
    CompositeAlarms: [{ AlarmName: 'api-composite', StateValue: 'OK', StateReason: 'children OK', StateTransitionedTimestamp: new Date('2025-01-01T00:00:00Z') }],
  });
  cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['orders'] }).resolves({ MetricAlarms: [metric('orders')] });
}

function failures() {
  return codePipeline.commandCalls(PutJobFailureResultCommand).map(c => c.args[0].input);
}
function successes() {
  return codePipeline.commandCalls(PutJobSuccessResultCommand).map(c => c.args[0].input);
}

let handler: typeof Handler.handler;
let restore: () => void;

beforeAll(() => {
  restore = setEnvironment({ AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', POWERTOOLS_LOG_LEVEL: 'SILENT' });
  delete process.env[SAFETY_STAGES_VARIABLE];
  handler = (require('../../lambda/alarm-watch') as typeof Handler).handler; // eslint-disable-line @typescript-eslint/no-require-imports
});

afterAll(() => {
  delete process.env[SAFETY_STAGES_VARIABLE];
  restore();
});

beforeEach(() => {
  sts.reset();
  cloudWatch.reset();
  codePipeline.reset();
  codePipeline.on(PutJobSuccessResultCommand).resolves({});
  codePipeline.on(PutJobFailureResultCommand).resolves({});
});

// first: the handler builds its dependencies once they can be built (afterwards they are cached)
test('a missing DDK_SAFETY_STAGES still answers the job (failed, naming the variable)', async () => {
  await handler(jobEvent('prod'), context);
  expect(sts.calls()).toHaveLength(0);
  expect(successes()).toHaveLength(0);
  expect(failures()).toEqual([{
    jobId: JOB,
    failureDetails: { type: 'JobFailed', externalExecutionId: 'req-1', message: expect.stringMatching(new RegExp(`^The alarm watch is misconfigured: environment variable ${SAFETY_STAGES_VARIABLE} is not set; expected the JSON safety stages .*Fix: `)) },
  }]);
});

describe('with DDK_SAFETY_STAGES', () => {
  beforeAll(() => {
    // as DeploymentSafety writes it at its largest: compressed, the lookup roles left to the reader to derive
    process.env[SAFETY_STAGES_VARIABLE] = encodeSafetyStages(JSON.parse(JSON.stringify(stages, (k, v) => k === 'lookupRoleArn' ? undefined : v)), 0);
  });

  test('first invocation, all OK: each target read through its lookup role in its region; continue with the start in the token', async () => {
    allGood();
    const before = Date.now();
    await handler(jobEvent('prod'), context);

    expect(sts.commandCalls(AssumeRoleCommand).map(c => c.args[0].input)).toEqual([
      { RoleArn: DEV_ROLE, RoleSessionName: 'ddk-alarm-watch-prod', DurationSeconds: 900 },
      { RoleArn: PROD_ROLE, RoleSessionName: 'ddk-alarm-watch-prod', DurationSeconds: 900 },
    ]);
    const describes = cloudWatch.commandCalls(DescribeAlarmsCommand);
    expect(describes.map(c => c.args[0].input)).toEqual([
      { AlarmNames: ['api-5xx', 'api-composite'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100, NextToken: undefined },
      { AlarmNames: ['orders'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100, NextToken: undefined },
    ]);
    // each target's client: its region, the lookup role's credentials
    const clients = describes.map(c => c.thisValue as CloudWatchClient);
    expect(await clients[0].config.region()).toBe('eu-west-1');
    expect(await clients[1].config.region()).toBe('us-east-1');
    expect(await clients[0].config.credentials()).toMatchObject({ accessKeyId: 'AKIADEV', secretAccessKey: 'secret-DEV', sessionToken: 'token-DEV' });
    expect(await clients[1].config.credentials()).toMatchObject({ accessKeyId: 'AKIAPROD' });
    // nothing changed since the watch started: no history read
    expect(cloudWatch.commandCalls(DescribeAlarmHistoryCommand)).toHaveLength(0);

    expect(failures()).toHaveLength(0);
    const [success] = successes();
    expect(success).toEqual({
      jobId: JOB,
      continuationToken: expect.any(String),
      executionDetails: { summary: 'Alarm watch of stage "prod": 0 of 10 minutes, 3 alarms in 2 environments, none in ALARM.', percentComplete: 0 },
    });
    const token = JSON.parse(success.continuationToken!);
    expect(token).toEqual({ v: 1, startedAt: token.readAt, readAt: expect.any(String) });
    expect(Date.parse(token.startedAt)).toBeGreaterThanOrEqual(before);
  });

  test('the soak elapsed, all OK: success with the summary, no continuation token', async () => {
    allGood();
    await handler(jobEvent('prod', tokenFrom(10.5).token), context);
    expect(successes()).toEqual([{
      jobId: JOB,
      executionDetails: { summary: 'Alarm watch of stage "prod": 3 alarms in 2 environments (dev, prod) stayed out of ALARM for 10 minutes.', percentComplete: 100 },
    }]);
  });

  test('an alarm in ALARM fails the job: the stage rolls back', async () => {
    allGood();
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['orders'] }).resolves({
      MetricAlarms: [metric('orders', 'ALARM', { StateReason: 'Threshold Crossed: 1 datapoint [7.0] was greater than the threshold (5.0).', StateTransitionedTimestamp: new Date('2025-03-04T05:06:07Z'), StateUpdatedTimestamp: new Date('2025-03-04T05:16:07Z') })],
    });
    await handler(jobEvent('prod', tokenFrom(4).token), context);
    expect(successes()).toHaveLength(0);
    expect(failures()).toEqual([{
      jobId: JOB,
      failureDetails: {
        type: 'JobFailed',
        message: 'Alarm watch of stage "prod": alarm orders in prod (222222222222/us-east-1) is in ALARM since 2025-03-04T05:06:07.000Z: Threshold Crossed: 1 datapoint [7.0] was greater than the threshold (5.0).; the stage rolls back.',
      },
    }]);
  });

  test('an alarm that went to ALARM and back since the watch started: its history is read, the job fails', async () => {
    allGood();
    const { token, startedAt } = tokenFrom(6);
    const changed = new Date(Date.now() - 60_000);
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['orders'] }).resolves({ MetricAlarms: [metric('orders', 'OK', { StateTransitionedTimestamp: changed })] });
    cloudWatch.on(DescribeAlarmHistoryCommand).resolvesOnce({
      AlarmHistoryItems: [{
        AlarmName: 'orders',
        HistoryItemType: 'StateUpdate',
        Timestamp: new Date('2025-03-04T05:00:00Z'),
        HistorySummary: 'Alarm updated from OK to INSUFFICIENT_DATA',
        HistoryData: JSON.stringify({ version: '1.0', oldState: { stateValue: 'OK' }, newState: { stateValue: 'INSUFFICIENT_DATA', stateReason: 'no data' } }),
      }],
      NextToken: 'h2',
    }).resolvesOnce({
      AlarmHistoryItems: [{
        AlarmName: 'orders',
        HistoryItemType: 'StateUpdate',
        Timestamp: new Date('2025-03-04T05:01:00Z'),
        HistorySummary: 'Alarm updated from INSUFFICIENT_DATA to ALARM',
        HistoryData: JSON.stringify({ version: '1.0', oldState: { stateValue: 'INSUFFICIENT_DATA' }, newState: { stateValue: 'ALARM', stateReason: 'Threshold Crossed: 3 datapoints' } }),
      }],
    });
    await handler(jobEvent('prod', token), context);
    expect(cloudWatch.commandCalls(DescribeAlarmHistoryCommand).map(c => c.args[0].input)).toEqual([
      { AlarmName: 'orders', AlarmTypes: ['MetricAlarm'], HistoryItemType: 'StateUpdate', StartDate: new Date(startedAt), ScanBy: 'TimestampAscending', MaxRecords: 100, NextToken: undefined },
      { AlarmName: 'orders', AlarmTypes: ['MetricAlarm'], HistoryItemType: 'StateUpdate', StartDate: new Date(startedAt), ScanBy: 'TimestampAscending', MaxRecords: 100, NextToken: 'h2' },
    ]);
    expect(failures().map(f => f.failureDetails!.message)).toEqual([
      'Alarm watch of stage "prod": alarm orders in prod (222222222222/us-east-1) went to ALARM at 2025-03-04T05:01:00.000Z during the watch (Threshold Crossed: 3 datapoints) and is OK now; the stage rolls back.',
    ]);
  });

  test('a state change during the watch without ALARM in the history: the watch goes on', async () => {
    allGood();
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['orders'] }).resolves({ MetricAlarms: [metric('orders', 'OK', { StateTransitionedTimestamp: new Date(Date.now() - 60_000) })] });
    cloudWatch.on(DescribeAlarmHistoryCommand).resolves({ AlarmHistoryItems: [{ HistoryData: '{"newState":{"stateValue":"OK"}}' }, { HistoryData: 'not json' }] });
    await handler(jobEvent('prod', tokenFrom(3.5).token), context);
    expect(cloudWatch.commandCalls(DescribeAlarmHistoryCommand)).toHaveLength(1);
    expect(failures()).toHaveLength(0);
    expect(successes().map(s => s.executionDetails)).toEqual([{ summary: 'Alarm watch of stage "prod": 3 of 10 minutes, 3 alarms in 2 environments, none in ALARM.', percentComplete: 35 }]);
  });

  test('150 alarms: DescribeAlarms by 100 names, each call paged with NextToken', async () => {
    sts.on(AssumeRoleCommand).resolves(credentials('DEV'));
    const first = MANY.slice(0, 100);
    const second = MANY.slice(100);
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: first, NextToken: undefined }).resolves({ MetricAlarms: first.slice(0, 60).map(n => metric(n)), NextToken: 'page-2' });
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: first, NextToken: 'page-2' }).resolves({ MetricAlarms: first.slice(60).map(n => metric(n)) });
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: second, NextToken: undefined }).resolves({ MetricAlarms: second.map(n => metric(n)) });
    await handler(jobEvent('many', tokenFrom(11).token), context);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand).map(c => c.args[0].input)).toEqual([
      { AlarmNames: first, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100, NextToken: undefined },
      { AlarmNames: first, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100, NextToken: 'page-2' },
      { AlarmNames: second, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100, NextToken: undefined },
    ]);
    // the default soak: 10 minutes
    expect(successes()).toEqual([{ jobId: JOB, executionDetails: { summary: 'Alarm watch of stage "many": 150 alarms in 1 environment (dev) stayed out of ALARM for 10 minutes.', percentComplete: 100 } }]);
  });

  test('a watched alarm that does not exist fails the job with the fix', async () => {
    allGood();
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['api-5xx', 'api-composite'] }).resolves({ MetricAlarms: [metric('api-5xx')] });
    await handler(jobEvent('prod', tokenFrom(2).token), context);
    expect(failures().map(f => f.failureDetails!.message)).toEqual([
      'Alarm watch of stage "prod": alarm api-composite does not exist in dev (111111111111/eu-west-1) (neither a metric nor a composite alarm). Fix: create it in 111111111111/eu-west-1, or correct the alarm names in ddk.json (a watch that watches nothing would pass every deployment); the stage rolls back.',
    ]);
  });

  test('AssumeRole refused: the job fails with the bootstrap --trust fix naming the CICD account', async () => {
    allGood();
    sts.on(AssumeRoleCommand, { RoleArn: PROD_ROLE }).rejects(sdkError('AccessDenied', 'client', 403));
    await handler(jobEvent('prod', tokenFrom(2).token), context);
    expect(cloudWatch.commandCalls(DescribeAlarmsCommand).map(c => c.args[0].input.AlarmNames)).toEqual([['api-5xx', 'api-composite']]);
    expect(failures().map(f => f.failureDetails!.message)).toEqual([
      `Alarm watch of stage "prod": cannot assume the lookup role ${PROD_ROLE} of prod (222222222222/us-east-1): AccessDenied: AccessDenied happened. Fix: bootstrap 222222222222/us-east-1 with \`cdk bootstrap --trust 999999999999\` (the lookup role trusts the --trust and --trust-for-lookup accounts); the stage rolls back.`,
    ]);
  });

  test('throttled: the watch goes on, keeping the last complete reading in the token', async () => {
    allGood();
    cloudWatch.on(DescribeAlarmsCommand, { AlarmNames: ['orders'] }).rejects(sdkError('Throttling', 'client', 400));
    const { token } = tokenFrom(5, 2);
    await handler(jobEvent('prod', token), context);
    expect(failures()).toHaveLength(0);
    const [success] = successes();
    expect(success.executionDetails!.summary).toBe(`Alarm watch of stage "prod": 5 of 10 minutes; could not read prod (222222222222/us-east-1): reading the alarms: Throttling: Throttling happened; trying again (gives up after ${TRANSIENT_ERROR_MINUTES} minutes without a reading).`);
    expect(JSON.parse(success.continuationToken!)).toEqual(JSON.parse(token));
  });

  test(`unreadable for ${TRANSIENT_ERROR_MINUTES} minutes: the job fails`, async () => {
    allGood();
    sts.on(AssumeRoleCommand, { RoleArn: DEV_ROLE }).rejects(sdkError('InternalFailure', 'server', 500));
    await handler(jobEvent('prod', tokenFrom(20, TRANSIENT_ERROR_MINUTES + 1).token), context);
    expect(failures().map(f => f.failureDetails!.message)).toEqual([
      `Alarm watch of stage "prod": the alarms could not be read for ${TRANSIENT_ERROR_MINUTES + 1} minutes: dev (111111111111/eu-west-1): AssumeRole of ${DEV_ROLE}: InternalFailure: InternalFailure happened. Fix: see the alarm-watch function's logs, then retry the stage`,
    ]);
  });

  test.each<[string, ReturnType<typeof jobEvent>, RegExp]>([
    ['UserParameters not JSON', jobEvent('prod', undefined, 'prod'), /^The alarm watch is misconfigured: UserParameters: "prod" is not JSON/],
    ['a stage DDK_SAFETY_STAGES lacks', jobEvent('staging'), /^The alarm watch is misconfigured: UserParameters.stage: "staging" is not in DDK_SAFETY_STAGES; expected one of "prod", "many", "empty". Fix: /],
    ['a stage that watches no alarm', jobEvent('empty'), /^The alarm watch is misconfigured: stage "empty" watches no alarm in DDK_SAFETY_STAGES \(no target has alarms\). Fix: /],
  ])('%s: the job fails, nothing is read', async (_n, event, message) => {
    await handler(event, context);
    expect(sts.calls()).toHaveLength(0);
    expect(failures()).toEqual([{ jobId: JOB, failureDetails: { type: 'JobFailed', message: expect.stringMatching(message) } }]);
  });

  test('an event that is not a CodePipeline job is refused', async () => {
    await expect(handler({ detail: {} }, context)).rejects.toThrow('the alarm watch is a CodePipeline Lambda invoke action; received {"detail":{}}, not a CodePipeline job');
    expect(codePipeline.calls()).toHaveLength(0);
  });
});

describe('isTransient', () => {
  test.each<[string, unknown, boolean]>([
    ['throttling', sdkError('Throttling', 'client', 400), true],
    ['a server error', sdkError('InternalFailure', 'server', 500), true],
    ['429', { name: 'X', $fault: 'client', $metadata: { httpStatusCode: 429 } }, true],
    ['no answer (network)', new Error('socket hang up'), true],
    ['access denied', sdkError('AccessDenied', 'client', 403), false],
    ['a validation error', sdkError('ValidationError', 'client', 400), false],
  ])('%s: %p', (_n, e, expected) => {
    expect(isTransient(e)).toBe(expected);
  });
});
