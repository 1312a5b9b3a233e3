import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { ALICE, apiEvent, CI, gateEvent, handlerEnvironment, LocalDynamo, setEnvironment, SETTINGS } from './local';
import type * as ApiHandler from '../../lambda/status-checks-api';
import type * as GateHandler from '../../lambda/status-checks-gate';
import { DETAIL_TYPES, EVENT_SOURCE, PipelineSettings } from '../../lib/status-checks/shared';

/*
 * The gate handler as CodePipeline runs it: a job event in, PutJobSuccessResult (with a
 * continuation token while waiting) or PutJobFailureResult out (aws-sdk-client-mock), the
 * checks read from dynalite, reports and overrides recorded through the API handler.
 */

const codePipeline = mockClient(CodePipelineClient);
const eventBridge = mockClient(EventBridgeClient);
let local: LocalDynamo;
let restore: () => void;
let gate: typeof GateHandler.handler;
let api: typeof ApiHandler.handler;
let counter = 0;

/** The example's stages, plus a stage requiring two contexts and one requiring forty. */
const MANY = Array.from({ length: 40 }, (_, i) => `ci/a-rather-long-check-name-${String(i).padStart(2, '0')}`);
const GATE_SETTINGS: PipelineSettings = {
  ...SETTINGS,
  stages: [
    ...SETTINGS.stages,
    { name: 'staging', index: 2, requiredChecks: ['ci/integration', 'ci/lint'] },
    { name: 'many', index: 3, requiredChecks: MANY },
  ],
};

beforeAll(async () => {
  local = await LocalDynamo.start('status-checks-gate');
  restore = setEnvironment(handlerEnvironment(local, GATE_SETTINGS));
  gate = (require('../../lambda/status-checks-gate') as typeof GateHandler).handler; // eslint-disable-line @typescript-eslint/no-require-imports
  api = (require('../../lambda/status-checks-api') as typeof ApiHandler).handler; // eslint-disable-line @typescript-eslint/no-require-imports
});

afterAll(async () => {
  restore();
  await local.stop();
});

beforeEach(() => {
  codePipeline.reset();
  codePipeline.on(PutJobSuccessResultCommand).resolves({});
  codePipeline.on(PutJobFailureResultCommand).resolves({});
  eventBridge.reset();
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

/** A fresh revision and execution per test. */
function fresh(): { revision: string; executionId: string } {
  counter += 1;
  return { revision: counter.toString(16).padStart(40, 'c'), executionId: `exec-${counter}` };
}

async function report(revision: string, context: string, state: string, extra: Record<string, unknown> = {}): Promise<void> {
  const r = await api(apiEvent({ method: 'POST', resource: '/checks', body: { pipeline: 'myapp', revision, context, state, ...extra } }));
  expect(r.statusCode).toBe(201);
}

/** What the gate told CodePipeline on its last invocation. */
function lastResult(): { kind: 'success' | 'failure'; input: any } {
  const ok = codePipeline.commandCalls(PutJobSuccessResultCommand);
  const ko = codePipeline.commandCalls(PutJobFailureResultCommand);
  expect(ok.length + ko.length).toBe(1);
  return ok.length === 1 ? { kind: 'success', input: ok[0].args[0].input } : { kind: 'failure', input: ko[0].args[0].input };
}

async function invoke(params: Record<string, unknown>, token?: string): Promise<{ kind: 'success' | 'failure'; input: any }> {
  codePipeline.resetHistory();
  await gate(gateEvent(params, token));
  return lastResult();
}

function gateEvents(): any[] {
  return eventBridge.commandCalls(PutEventsCommand)
    .flatMap(c => c.args[0].input.Entries ?? [])
    .filter(e => e.DetailType === DETAIL_TYPES.GATE_DECIDED)
    .map(e => ({ source: e.Source, ...JSON.parse(e.Detail!) }));
}

test('pass: every required context success → PutJobSuccessResult without a continuation token', async () => {
  const p = fresh();
  await report(p.revision, 'ci/integration', 'success');
  const r = await invoke(p);
  expect(r).toEqual({
    kind: 'success',
    input: { jobId: 'job-1', executionDetails: { summary: `Stage "production", revision ${p.revision.slice(0, 12)}: all 1 required check passed: ci/integration.`, percentComplete: 100 } },
  });
  expect(gateEvents()).toEqual([expect.objectContaining({
    source: EVENT_SOURCE, pipeline: 'myapp', stage: 'production', execution: p.executionId, revision: p.revision, verdict: 'PASS', required: ['ci/integration'],
  })]);
});

test('fail: a failure → PutJobFailureResult naming the context and its target URL', async () => {
  const p = fresh();
  await report(p.revision, 'ci/integration', 'failure', { description: '2 tests failed', targetUrl: 'https://ci.example.com/9' });
  const r = await invoke(p);
  expect(r.kind).toBe('failure');
  expect(r.input.failureDetails).toEqual({
    type: 'JobFailed',
    message: `Stage "production", revision ${p.revision.slice(0, 12)}: 1 required check failed: ci/integration (failure: 2 tests failed, https://ci.example.com/9).`,
  });
});

test('wait: pending → success with a continuation token; CodePipeline re-invokes; then pass', async () => {
  const p = fresh();
  await report(p.revision, 'ci/integration', 'pending');
  const first = await invoke({ ...p, stage: 'staging' });
  expect(first.kind).toBe('success');
  expect(first.input.continuationToken).toBeDefined();
  const token = JSON.parse(first.input.continuationToken);
  expect(token).toEqual({ v: 1, startedAt: expect.stringMatching(/^\d{4}-/) });
  expect(first.input.executionDetails).toEqual({
    summary: `Stage "staging", revision ${p.revision.slice(0, 12)}: waiting for 2 of 2 required checks: ci/integration (pending); ci/lint (not reported yet).`,
    percentComplete: 0,
  });

  // re-invoked with the token while one is still missing: still waiting, same start time
  await report(p.revision, 'ci/integration', 'success');
  const second = await invoke({ ...p, stage: 'staging' }, first.input.continuationToken);
  expect(JSON.parse(second.input.continuationToken)).toEqual(token);
  expect(second.input.executionDetails.percentComplete).toBe(50);

  await report(p.revision, 'ci/lint', 'success');
  const third = await invoke({ ...p, stage: 'staging' }, second.input.continuationToken);
  expect(third.kind).toBe('success');
  expect(third.input.continuationToken).toBeUndefined();
  // one event per change of verdict or summary: WAIT, WAIT (another summary), PASS
  expect(gateEvents().map(e => [e.verdict, e.previousVerdict])).toEqual([['WAIT', undefined], ['WAIT', 'WAIT'], ['PASS', 'WAIT']]);
});

test('no event when nothing changed between two invocations', async () => {
  const p = fresh();
  const first = await invoke(p);
  await invoke(p, first.input.continuationToken);
  expect(gateEvents()).toHaveLength(1);
});

test('timeout: still waiting after timeoutMinutes → PutJobFailureResult with a summary', async () => {
  // only Date is faked: the SDK and dynalite keep their real timers
  jest.useFakeTimers({ now: new Date('2030-05-01T10:00:00Z'), doNotFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask', 'hrtime', 'performance'] });
  try {
    const p = fresh();
    await report(p.revision, 'ci/integration', 'pending', { description: 'queued' });
    const first = await invoke({ ...p, timeoutMinutes: 60 });
    expect(JSON.parse(first.input.continuationToken).startedAt).toBe('2030-05-01T10:00:00.000Z');

    jest.setSystemTime(new Date('2030-05-01T10:59:00Z'));
    const before = await invoke({ ...p, timeoutMinutes: 60 }, first.input.continuationToken);
    expect(before.kind).toBe('success');
    expect(before.input.continuationToken).toBe(first.input.continuationToken);

    jest.setSystemTime(new Date('2030-05-01T11:00:00Z'));
    const after = await invoke({ ...p, timeoutMinutes: 60 }, before.input.continuationToken);
    expect(after.kind).toBe('failure');
    expect(after.input.failureDetails.message).toBe(`Stage "production", revision ${p.revision.slice(0, 12)}: timed out after 60 minutes waiting for ci/integration (pending: queued). Fix: report the checks (or override the errors) and retry the stage.`);
  } finally {
    jest.useRealTimers();
  }
});

test('an unreadable continuation token restarts the wait instead of failing', async () => {
  const p = fresh();
  const r = await invoke(p, 'not-json');
  expect(r.kind).toBe('success');
  expect(JSON.parse(r.input.continuationToken).v).toBe(1);
});

test('override: error → waits for an override; the override (who, when, why) lets the next invocation pass', async () => {
  const p = fresh();
  await report(p.revision, 'ci/integration', 'error', { description: 'runner lost' });
  const waiting = await invoke(p);
  expect(waiting.kind).toBe('success');
  expect(waiting.input.continuationToken).toBeDefined();
  expect(waiting.input.executionDetails.summary).toContain('ci/integration (error: runner lost) is in error; the stage waits for an override');

  // the gate recorded the execution, so the API can find its revision
  const o = await api(apiEvent({ method: 'POST', resource: '/overrides', principal: ALICE, body: { pipeline: 'myapp', stage: 'production', execution: p.executionId, reason: 'runner outage, see INC-42' } }));
  expect(o.statusCode).toBe(201);

  const passed = await invoke(p, waiting.input.continuationToken);
  expect(passed.kind).toBe('success');
  expect(passed.input.continuationToken).toBeUndefined();
  expect(passed.input.executionDetails.summary).toMatch(new RegExp(`ci/integration \\(error\\) overridden by ${ALICE.replace(/[/.]/g, '\\$&')} at \\d{4}-.*: "runner outage, see INC-42"\\.$`));
});

test('an override does not pass a context that later turned failure', async () => {
  const p = fresh();
  await report(p.revision, 'ci/integration', 'error');
  const waiting = await invoke(p);
  await api(apiEvent({ method: 'POST', resource: '/overrides', principal: ALICE, body: { pipeline: 'myapp', stage: 'production', execution: p.executionId, reason: 'x' } }));
  await report(p.revision, 'ci/integration', 'failure');
  expect((await invoke(p, waiting.input.continuationToken)).kind).toBe('failure');
});

test('contexts required at run time are gated too', async () => {
  const p = fresh();
  await report(p.revision, 'ci/integration', 'success');
  const add = await api(apiEvent({ method: 'PUT', resource: '/requirements/{pipeline}/{stage}', path: { pipeline: 'myapp', stage: 'production' }, principal: CI, body: { add: ['sec/scan'] } }));
  expect(add.statusCode).toBe(200);
  const r = await invoke(p);
  expect(r.input.executionDetails.summary).toContain('sec/scan (not reported yet)');
  await api(apiEvent({ method: 'PUT', resource: '/requirements/{pipeline}/{stage}', path: { pipeline: 'myapp', stage: 'production' }, principal: CI, body: { remove: ['sec/scan'] } }));
  expect((await invoke(p, r.input.continuationToken)).input.continuationToken).toBeUndefined();
});

test('a report scoped to another stage does not open this gate', async () => {
  const p = fresh();
  await report(p.revision, 'ci/integration', 'success', { stage: 'development' });
  expect((await invoke(p)).input.continuationToken).toBeDefined();
  await report(p.revision, 'ci/integration', 'success', { stage: 'production' });
  expect((await invoke(p)).input.continuationToken).toBeUndefined();
});

test('the required contexts come from the function\'s settings, not the action: forty contexts, a short UserParameters', async () => {
  const p = fresh();
  const event = gateEvent({ ...p, stage: 'many' });
  expect(event['CodePipeline.job'].data.actionConfiguration.configuration.UserParameters.length).toBeLessThan(200);
  for (const c of MANY.slice(0, 39)) await report(p.revision, c, 'success');
  codePipeline.resetHistory();
  await gate(event);
  const waiting = lastResult();
  expect(waiting.input.executionDetails).toEqual({
    summary: `Stage "many", revision ${p.revision.slice(0, 12)}: waiting for 1 of 40 required checks: ${MANY[39]} (not reported yet).`,
    percentComplete: 97,
  });
  await report(p.revision, MANY[39], 'success');
  const passed = await invoke({ ...p, stage: 'many' }, waiting.input.continuationToken);
  expect(passed.kind).toBe('success');
  expect(passed.input.continuationToken).toBeUndefined();
});

test('a stage the settings do not know, or another pipeline, fails the job naming the fix', async () => {
  const p = fresh();
  const unknown = await invoke({ ...p, stage: 'qa' });
  expect(unknown).toEqual({ kind: 'failure', input: { jobId: 'job-1', failureDetails: { type: 'JobFailed', message: 'The status-check gate is misconfigured: UserParameters.stage: "qa" is not a stage of pipeline "myapp"; expected one of "development", "production", "staging", "many". Fix: render the gate for a stage of ddk.json with StatusChecks.gateStep or gateAction, and deploy the CICD stack (the gate function reads the stages\' requiredChecks from its environment)' } } });
  const other = await invoke({ ...p, pipeline: 'otherapp' });
  expect(other.input.failureDetails.message).toBe('The status-check gate is misconfigured: UserParameters.pipeline: "otherapp" is not the pipeline this gate serves; expected "myapp". Fix: render the gate with the StatusChecks construct of pipeline "otherapp" (StatusChecks.gateStep or gateAction)');
});

test('misconfigured UserParameters fail the job, naming the parameter', async () => {
  codePipeline.resetHistory();
  await gate(gateEvent({ revision: '#{SourceVariables.CommitId}' }));
  const r = lastResult();
  expect(r.kind).toBe('failure');
  expect(r.input.failureDetails.message).toMatch(/^The status-check gate is misconfigured: UserParameters\.revision: "#\{SourceVariables\.CommitId\}" is an unresolved CodePipeline variable/);
});

test('an EventBridge outage does not change the decision', async () => {
  const p = fresh();
  await report(p.revision, 'ci/integration', 'success');
  eventBridge.on(PutEventsCommand).rejects(new Error('EventBridge unavailable'));
  expect((await invoke(p)).kind).toBe('success');
});

// last: the table goes away
test('store unavailable → the gate fails closed, even where it would have passed', async () => {
  const p = fresh();
  await report(p.revision, 'ci/integration', 'success');
  await local.dropTable();
  const r = await invoke(p);
  expect(r.kind).toBe('failure');
  expect(r.input.failureDetails.message).toMatch(/^Status-check gate of stage "production" failed closed: the status-check table "status-checks-gate" could not be read \(ResourceNotFoundException: .*\)\. The stage does not deploy when its checks cannot be read\. Fix: restore access to the table/);
  expect(codePipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
});
