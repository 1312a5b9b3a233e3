import { CodePipelineClient, CodePipelineServiceException, GetPipelineStateCommand, GetPipelineStateOutput, OverrideStageConditionCommand } from '@aws-sdk/client-codepipeline';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ALICE, apiEvent, CI, handlerEnvironment, LocalDynamo, SETTINGS, setEnvironment } from './local';
import type * as ApiHandler from '../../lambda/status-checks-api';
import { CONDITION_OVERRIDE_ROUTE, ConditionOverride } from '../../lib/safety/shared';
import { handleApiRequest } from '../../lib/status-checks/api';
import { CodePipelineConditions, notWaiting } from '../../lib/status-checks/condition-overrides';
import { CONDITION_OVERRIDE_REASON_LENGTH, parseConditionOverrideRequest } from '../../lib/status-checks/requests';
import { PipelineSettings } from '../../lib/status-checks/shared';
import { StatusCheckStore } from '../../lib/status-checks/store';

/*
 * POST /conditions/override end to end: API Gateway proxy events in, JSON out, DynamoDB through
 * dynalite, CodePipeline (GetPipelineState, OverrideStageCondition) through aws-sdk-client-mock.
 */

const codePipeline = mockClient(CodePipelineClient);
const eventBridge = mockClient(EventBridgeClient);
const WINDOWED: PipelineSettings = {
  ...SETTINGS,
  stages: [
    { name: 'development', index: 0, requiredChecks: [] },
    { name: 'production', index: 1, requiredChecks: ['ci/integration'], windowPipeline: 'myapp' },
  ],
};
let local: LocalDynamo;
let restore: () => void;
let handler: typeof ApiHandler.handler;
let store: StatusCheckStore;
let executionCounter = 0;

beforeAll(async () => {
  local = await LocalDynamo.start('condition-overrides');
  restore = setEnvironment(handlerEnvironment(local, WINDOWED));
  handler = (require('../../lambda/status-checks-api') as typeof ApiHandler).handler; // eslint-disable-line @typescript-eslint/no-require-imports
  store = new StatusCheckStore(DynamoDBDocumentClient.from(local.client), local.tableName);
});

afterAll(async () => {
  restore();
  await local.stop();
});

beforeEach(() => {
  codePipeline.reset();
  codePipeline.on(OverrideStageConditionCommand).resolves({});
  eventBridge.reset();
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
});

/** A fresh execution id per test (the pattern OverrideStageCondition takes). */
function execution(): string {
  executionCounter += 1;
  return `${executionCounter.toString(16).padStart(8, '0')}-aaaa-4bbb-8ccc-dddddddddddd`;
}

/** GetPipelineState of pipeline "myapp" with `executionId` at production's entry condition in `status`. */
function state(executionId: string, status: string | undefined = 'InProgress'): GetPipelineStateOutput {
  return {
    pipelineName: 'myapp',
    stageStates: [
      { stageName: 'Source', latestExecution: { pipelineExecutionId: executionId, status: 'Succeeded' } },
      {
        stageName: 'production',
        latestExecution: { pipelineExecutionId: executionId, status: 'InProgress' },
        ...(status ? { beforeEntryConditionState: { latestExecution: { status: status as 'InProgress', summary: 'DeploymentWindow: outside the window' } } } : {}),
      },
    ],
  };
}

async function call(body: unknown, principal: string | null = ALICE): Promise<{ status: number; body: any; raw: APIGatewayProxyResult }> {
  const raw = await handler(apiEvent({ method: 'POST', resource: CONDITION_OVERRIDE_ROUTE, body, principal }));
  return { status: raw.statusCode, body: JSON.parse(raw.body), raw };
}

describe('POST /conditions/override', () => {
  test('an execution waiting for the window: recorded (who, why, when) before OverrideStageCondition BEFORE_ENTRY; 200 with the record', async () => {
    const id = execution();
    codePipeline.on(GetPipelineStateCommand, { name: 'myapp' }).resolves(state(id));
    // GIVEN CodePipeline, when asked to override, looks for the record first
    let recordedFirst: ConditionOverride | undefined;
    codePipeline.on(OverrideStageConditionCommand).callsFake(async () => {
      recordedFirst = await store.conditionOverride('myapp', { pipeline: 'myapp', stage: 'production', executionId: id, conditionType: 'BEFORE_ENTRY', by: ALICE, reason: 'hotfix for incident 42' });
      return {};
    });
    const before = Date.now();
    const r = await call({ pipeline: 'myapp', stage: 'production', executionId: id, reason: '  hotfix for incident 42 ' });

    expect(r.status).toBe(200);
    const record = r.body.override;
    expect(r.body).toEqual({ replayed: false, override: { pipeline: 'myapp', stage: 'production', executionId: id, conditionType: 'BEFORE_ENTRY', by: ALICE, reason: 'hotfix for incident 42', at: expect.any(String) } });
    expect(Date.parse(record.at)).toBeGreaterThanOrEqual(before);
    expect(recordedFirst).toEqual(record);
    expect(codePipeline.commandCalls(GetPipelineStateCommand).map(c => c.args[0].input)).toEqual([{ name: 'myapp' }]);
    expect(codePipeline.commandCalls(OverrideStageConditionCommand).map(c => c.args[0].input)).toEqual([
      { pipelineName: 'myapp', stageName: 'production', pipelineExecutionId: id, conditionType: 'BEFORE_ENTRY' },
    ]);
  });

  test('the record sits beside the gate\'s items of the execution; the gate\'s state does not change', async () => {
    const id = execution();
    codePipeline.on(GetPipelineStateCommand).resolves(state(id));
    expect((await call({ pipeline: 'myapp', stage: 'production', executionId: id, reason: 'why' })).status).toBe(200);
    expect(await store.gateState('myapp', 'production', id)).toEqual({ gate: undefined, overrides: [] });
  });

  test('a retry after the override went through (the execution entered the stage): 200 with the first record, nothing called again', async () => {
    const id = execution();
    codePipeline.on(GetPipelineStateCommand).resolves(state(id));
    const first = await call({ pipeline: 'myapp', stage: 'production', executionId: id, reason: 'why' });
    codePipeline.reset();
    codePipeline.on(GetPipelineStateCommand).resolves(state(id, 'Overridden'));
    const again = await call({ pipeline: 'myapp', stage: 'production', executionId: id, reason: 'why' });
    expect(again).toMatchObject({ status: 200, body: { override: first.body.override, replayed: true } });
    expect(codePipeline.commandCalls(OverrideStageConditionCommand)).toHaveLength(0);
  });

  test('not waiting at the stage\'s entry: 409, nothing recorded or overridden', async () => {
    const id = execution();
    codePipeline.on(GetPipelineStateCommand).resolves(state(id, 'Succeeded'));
    const r = await call({ pipeline: 'myapp', stage: 'production', executionId: id, reason: 'why' });
    expect(r.status).toBe(409);
    expect(r.body.message).toBe(`execution "${id}" does not wait for the window of stage "production" in pipeline "myapp": its entry condition (the deployment windows) is Succeeded, not InProgress. Nothing was recorded. Fix: see ddk-pipelines status (or aws codepipeline get-pipeline-state --name myapp) for the execution waiting at the stage's entry`);
    expect(codePipeline.commandCalls(OverrideStageConditionCommand)).toHaveLength(0);
    expect(await store.conditionOverride('myapp', { pipeline: 'myapp', stage: 'production', executionId: id, conditionType: 'BEFORE_ENTRY', by: ALICE, reason: 'why' })).toBeUndefined();
  });

  test('another execution waits: 409 naming it', async () => {
    const waiting = execution();
    const other = execution();
    codePipeline.on(GetPipelineStateCommand).resolves(state(waiting));
    const r = await call({ pipeline: 'myapp', stage: 'production', executionId: other, reason: 'why' });
    expect(r.status).toBe(409);
    expect(r.body.message).toContain(`its entry condition is InProgress, but for ${waiting} (latestExecution, InProgress), not ${other}`);
  });

  test('CodePipeline refuses the override: 409 with the record kept as an attempt', async () => {
    const id = execution();
    codePipeline.on(GetPipelineStateCommand).resolves(state(id));
    codePipeline.on(OverrideStageConditionCommand).rejects(new CodePipelineServiceException({ name: 'ConditionNotOverridableException', $fault: 'client', $metadata: {}, message: 'The condition cannot be overridden' }));
    const r = await call({ pipeline: 'myapp', stage: 'production', executionId: id, reason: 'why' });
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(/^recorded, but CodePipeline's OverrideStageCondition refused the override of stage "production" in pipeline "myapp" for execution ".*" \(ConditionNotOverridableException: The condition cannot be overridden\); the record stays as an attempt/);
    expect(r.body.override).toMatchObject({ executionId: id, by: ALICE });
  });

  test('GetPipelineState fails: 502, nothing recorded', async () => {
    const id = execution();
    codePipeline.on(GetPipelineStateCommand).rejects(new CodePipelineServiceException({ name: 'InternalFailure', $fault: 'server', $metadata: {}, message: 'boom' }));
    const r = await call({ pipeline: 'myapp', stage: 'production', executionId: id, reason: 'why' });
    expect(r).toMatchObject({ status: 502, body: { message: 'CodePipeline GetPipelineState of pipeline "myapp" failed (InternalFailure: boom); nothing was recorded. Fix: retry later' } });
  });

  test('the deployed pipeline lacks the stage: 409', async () => {
    codePipeline.on(GetPipelineStateCommand).resolves({ pipelineName: 'myapp', stageStates: [{ stageName: 'Source' }] });
    const r = await call({ pipeline: 'myapp', stage: 'production', executionId: execution(), reason: 'why' });
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(/^pipeline "myapp" has no stage "production" in CodePipeline/);
  });

  test.each<[string, unknown, string[]]>([
    ['an empty reason', { pipeline: 'myapp', stage: 'production', executionId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', reason: '  ' }, ['body.reason: "  " is empty']],
    ['a too long reason', { pipeline: 'myapp', stage: 'production', executionId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', reason: 'x'.repeat(CONDITION_OVERRIDE_REASON_LENGTH + 1) }, [`body.reason: "${'x'.repeat(76)}... is too long (1001 characters); expected a non-empty text of at most ${CONDITION_OVERRIDE_REASON_LENGTH} characters`]],
    ['an execution id CodePipeline would refuse', { pipeline: 'myapp', stage: 'production', executionId: 'exec-1', reason: 'r' }, ['body.executionId: "exec-1" is not a valid executionId']],
    ['a server-set field', { pipeline: 'myapp', stage: 'production', executionId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', reason: 'r', by: 'me', conditionType: 'ON_SUCCESS' }, ['body.by: is set by the server', 'body.conditionType: is set by the server']],
    ['missing fields', {}, ['body.pipeline: is missing', 'body.stage: is missing', 'body.executionId: is missing', 'body.reason: is missing']],
    ['an unknown stage', { pipeline: 'myapp', stage: 'staging', executionId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', reason: 'r' }, ['body.stage: "staging" is not a stage of pipeline "myapp"']],
    ['a stage without windows', { pipeline: 'myapp', stage: 'development', executionId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', reason: 'r' }, ['body.stage: stage "development" has no deployment window']],
    ['an unknown pipeline', { pipeline: 'other', stage: 'production', executionId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', reason: 'r' }, ['body.pipeline: "other" is not "myapp"']],
  ])('%s: 400 {message, issues}, CodePipeline not called', async (_n, body, issues) => {
    const r = await call(body);
    expect(r.status).toBe(400);
    expect(r.body.issues.map((i: string, k: number) => i.slice(0, issues[k]?.length))).toEqual(issues);
    expect(typeof r.body.message).toBe('string');
    expect(codePipeline.calls()).toHaveLength(0);
  });

  test('an unsigned request: 403', async () => {
    expect((await call({ pipeline: 'myapp', stage: 'production', executionId: execution(), reason: 'r' }, null)).status).toBe(403);
  });
});

describe('the event stream', () => {
  test('a taken override publishes "Stage Condition Overridden" with the record; a refused one publishes nothing', async () => {
    const id = execution();
    codePipeline.on(GetPipelineStateCommand, { name: 'myapp' }).resolves(state(id));
    const r = await call({ pipeline: 'myapp', stage: 'production', executionId: id, reason: 'INC-7' });
    expect(r.status).toBe(200);
    const entries = eventBridge.commandCalls(PutEventsCommand).flatMap(c => c.args[0].input.Entries ?? []);
    expect(entries.map(e => [e.Source, e.DetailType, JSON.parse(e.Detail!)])).toEqual([['ddk-pipelines.status-checks', 'Stage Condition Overridden', r.body.override]]);

    eventBridge.resetHistory();
    const other = execution();
    codePipeline.on(GetPipelineStateCommand, { name: 'myapp' }).resolves(state(other));
    codePipeline.on(OverrideStageConditionCommand).rejects(new CodePipelineServiceException({ name: 'ConditionNotOverridableException', $fault: 'client', $metadata: {}, message: 'no' }));
    expect((await call({ pipeline: 'myapp', stage: 'production', executionId: other, reason: 'INC-8' })).status).toBe(409);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  test('an event that cannot be published: 502 with the record, and a retry publishes it', async () => {
    const id = execution();
    codePipeline.on(GetPipelineStateCommand, { name: 'myapp' }).resolves(state(id));
    eventBridge.on(PutEventsCommand).rejectsOnce(new Error('bus down')).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });
    const r = await call({ pipeline: 'myapp', stage: 'production', executionId: id, reason: 'INC-9' });
    expect(r.status).toBe(502);
    expect(r.body.message).toMatch(/^recorded, but the "Stage Condition Overridden" event could not be published/);
    expect(r.body.override).toMatchObject({ executionId: id, reason: 'INC-9' });
    // the same request again: the first record is answered, and this time the event goes out
    const again = await call({ pipeline: 'myapp', stage: 'production', executionId: id, reason: 'INC-9' });
    expect(again).toMatchObject({ status: 200, body: { override: r.body.override } });
    const details = eventBridge.commandCalls(PutEventsCommand).flatMap(c => c.args[0].input.Entries ?? []).map(e => JSON.parse(e.Detail!));
    expect(details).toEqual([r.body.override, r.body.override]);
  });
});

describe('codepipeline-gitflow: the stage\'s own pipeline <name>-<stage>', () => {
  const gitflow: PipelineSettings = { ...WINDOWED, stages: [{ name: 'production', index: 0, requiredChecks: [], windowPipeline: 'myapp-production' }] };

  test.each(['myapp', 'myapp-production'])('pipeline %p: CodePipeline is asked about myapp-production; recorded under the plan\'s pipeline', async pipeline => {
    const id = execution();
    const client = new CodePipelineClient({ region: 'eu-west-1' });
    codePipeline.on(GetPipelineStateCommand, { name: 'myapp-production' }).resolves({ ...state(id), pipelineName: 'myapp-production' });
    const logs: string[] = [];
    const r = await handleApiRequest({ method: 'POST', resource: CONDITION_OVERRIDE_ROUTE, principal: CI, body: JSON.stringify({ pipeline, stage: 'production', executionId: id, reason: 'r' }) }, {
      store,
      events: { publish: async () => undefined },
      comments: { postCommitComment: async () => undefined },
      settings: gitflow,
      now: () => new Date('2030-01-01T00:00:00Z'),
      logger: { info: m => logs.push(m), warn: m => logs.push(m), error: m => logs.push(m) },
      conditions: new CodePipelineConditions(client),
    });
    expect(r).toEqual({ statusCode: 200, body: { replayed: false, override: { pipeline: 'myapp-production', stage: 'production', executionId: id, conditionType: 'BEFORE_ENTRY', by: CI, reason: 'r', at: '2030-01-01T00:00:00.000Z' } } });
    expect(codePipeline.commandCalls(OverrideStageConditionCommand).map(c => c.args[0].input.pipelineName)).toEqual(['myapp-production']);
    expect(await store.conditionOverride('myapp', { pipeline: 'myapp-production', stage: 'production', executionId: id, conditionType: 'BEFORE_ENTRY', by: CI, reason: 'r' })).toEqual(r.body.override);
  });
});

describe('release brackets (services): a per-service stage in each service\'s pipeline, a bracket stage in the release pipeline', () => {
  const services: PipelineSettings = {
    ...WINDOWED,
    pipeline: 'foo',
    stages: [
      { name: 'dev', index: 0, requiredChecks: [], windowPipelines: ['foo-frontend', 'foo-backend'] },
      { name: 'hardening', index: 1, requiredChecks: [], windowPipeline: 'foo-release' },
    ],
  };
  const request = (pipeline: string, stage: string, id: string) => handleApiRequest(
    { method: 'POST', resource: CONDITION_OVERRIDE_ROUTE, principal: CI, body: JSON.stringify({ pipeline, stage, executionId: id, reason: 'r' }) }, {
      store,
      events: { publish: async () => undefined },
      comments: { postCommitComment: async () => undefined },
      settings: services,
      now: () => new Date('2030-01-01T00:00:00Z'),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      conditions: new CodePipelineConditions(new CodePipelineClient({ region: 'eu-west-1' })),
    });
  const stateOf = (pipeline: string, stage: string, id: string): GetPipelineStateOutput => ({
    pipelineName: pipeline,
    stageStates: [{ stageName: stage, latestExecution: { pipelineExecutionId: id, status: 'InProgress' }, beforeEntryConditionState: { latestExecution: { status: 'InProgress' } } }],
  });

  test('a per-service stage: the service\'s pipeline the request names is asked and overridden, recorded under the plan\'s pipeline', async () => {
    const id = execution();
    codePipeline.on(GetPipelineStateCommand, { name: 'foo-backend' }).resolves(stateOf('foo-backend', 'dev', id));
    const r = await request('foo-backend', 'dev', id);
    expect(r).toMatchObject({ statusCode: 200, body: { override: { pipeline: 'foo-backend', stage: 'dev', executionId: id } } });
    expect(codePipeline.commandCalls(GetPipelineStateCommand).map(c => c.args[0].input.name)).toEqual(['foo-backend']);
    expect(codePipeline.commandCalls(OverrideStageConditionCommand).map(c => c.args[0].input))
      .toEqual([{ pipelineName: 'foo-backend', stageName: 'dev', pipelineExecutionId: id, conditionType: 'BEFORE_ENTRY' }]);
    expect(await store.conditionOverride('foo', { pipeline: 'foo-backend', stage: 'dev', executionId: id, conditionType: 'BEFORE_ENTRY', by: CI, reason: 'r' })).toEqual((r.body as any).override);
  });

  test.each(['foo', 'foo-release'])('a per-service stage refuses pipeline %p (several pipelines hold it: the request must name one); nothing asked or recorded', async pipeline => {
    const r = await request(pipeline, 'dev', execution());
    expect(r.statusCode).toBe(400);
    expect((r.body as any).message).toBe(`body.pipeline: "${pipeline}" is not a pipeline of stage "dev"; the stage runs in each service's pipeline ("foo-frontend", "foo-backend"), so the request must name the one whose execution waits. Fix: send "pipeline" as one of "foo-frontend", "foo-backend" (ddk-pipelines window override --stage dev --pipeline <one of them>)`);
    expect(codePipeline.calls()).toHaveLength(0);
  });

  test.each(['foo', 'foo-release'])('a bracket stage: pipeline %p overrides it in the release pipeline', async pipeline => {
    const id = execution();
    codePipeline.on(GetPipelineStateCommand, { name: 'foo-release' }).resolves(stateOf('foo-release', 'hardening', id));
    const r = await request(pipeline, 'hardening', id);
    expect(r).toMatchObject({ statusCode: 200, body: { override: { pipeline: 'foo-release', stage: 'hardening', executionId: id } } });
    expect(codePipeline.commandCalls(OverrideStageConditionCommand).map(c => c.args[0].input.pipelineName)).toEqual(['foo-release']);
  });

  test('a bracket stage refuses a service\'s pipeline', async () => {
    const r = await request('foo-frontend', 'hardening', execution());
    expect(r.statusCode).toBe(400);
    expect((r.body as any).message).toContain('body.pipeline: "foo-frontend" is not the pipeline of stage "hardening" this API serves; expected "foo" or "foo-release"');
    expect(codePipeline.calls()).toHaveLength(0);
  });
});

describe('notWaiting (pure)', () => {
  const id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
  test.each<[string, Parameters<typeof notWaiting>[0], string | undefined]>([
    ['InProgress, the stage\'s latest execution', { beforeEntryStatus: 'InProgress', executions: [{ pipelineExecutionId: id, field: 'latestExecution', status: 'InProgress' }] }, undefined],
    ['InProgress, an inbound execution', { beforeEntryStatus: 'InProgress', executions: [{ pipelineExecutionId: 'x', field: 'latestExecution' }, { pipelineExecutionId: id, field: 'inboundExecutions' }] }, undefined],
    ['no condition run', { executions: [] }, 'its entry condition (the deployment windows) is not running, not InProgress'],
    ['Overridden', { beforeEntryStatus: 'Overridden', executions: [{ pipelineExecutionId: id, field: 'latestExecution' }] }, 'its entry condition (the deployment windows) is Overridden, not InProgress'],
    ['InProgress, no execution named', { beforeEntryStatus: 'InProgress', executions: [] }, `its entry condition is InProgress, but for no execution GetPipelineState names, not ${id}`],
  ])('%s', (_n, st, expected) => {
    expect(notWaiting(st, id)).toBe(expected);
  });
});

test('parseConditionOverrideRequest: the reason is trimmed, the four fields kept', () => {
  expect(parseConditionOverrideRequest({ pipeline: 'p', stage: 's', executionId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', reason: ' r ' }))
    .toEqual({ ok: true, value: { pipeline: 'p', stage: 's', executionId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', reason: 'r' } });
});
