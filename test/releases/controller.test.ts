import {
  CodePipelineClient, GetPipelineCommand, GetPipelineExecutionCommand, ListPipelineExecutionsCommand,
  PutJobFailureResultCommand, PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  actionEvent, ALICE, BACKEND, candidateJob, commit, DECLARATION, description, EXECUTION, FRONTEND, pipelineEvent,
  RELEASE_ID, releaseRun, SETTINGS, stageEvent,
} from './fixtures';
import type * as ReleaseHandler from '../../lambda/release-events';
import { CodePipelineReleaseReader } from '../../lib/releases/codepipeline-reader';
import type { ReleaseDependencies } from '../../lib/releases/controller';
import { runReleaseFunction } from '../../lib/releases/controller';
import type { ExecutionDescription } from '../../lib/releases/progress';
import { RELEASE_DETAIL_TYPES, RELEASE_SETTINGS_ENV } from '../../lib/releases/shared';
import { ReleaseStore } from '../../lib/releases/store';
import { CodePipelineJobResults } from '../../lib/reviews/adapters';
import { EventBridgePublisher } from '../../lib/status-checks/events';
import { EVENT_SOURCE } from '../../lib/status-checks/shared';
import { handlerEnvironment, LocalDynamo, setEnvironment } from '../status-checks/local';

/*
 * The release function end to end: the Lambda handler (lambda/release-events) on the events
 * and jobs AWS documents, DynamoDB through dynalite, CodePipeline (GetPipelineExecution,
 * GetPipeline, ListPipelineExecutions, PutJob*Result) and EventBridge through
 * aws-sdk-client-mock. `status` is what GetPipelineExecution answers at the time.
 */

const codePipeline = mockClient(CodePipelineClient);
const eventBridge = mockClient(EventBridgeClient);
const CONTEXT = { awsRequestId: 'req-1', functionName: 'foo-release-events', functionVersion: '$LATEST', memoryLimitInMB: '256' } as unknown as Context;
const SERVICE_EXECUTION = 'aaaaaaaa-1111-2222-3333-444444444444';
const { STARTED, DEPLOYED, TESTED, PROMOTED, FINISHED, CANDIDATE } = RELEASE_DETAIL_TYPES;
const FULL = [STARTED, `${DEPLOYED} (hardening)`, `${TESTED} (hardening)`, `${PROMOTED} (hardening)`, `${DEPLOYED} (production)`, `${TESTED} (production)`, FINISHED];

let local: LocalDynamo;
let restore: () => void;
let handler: typeof ReleaseHandler.handler;
let releases: ReleaseStore;
/** GetPipelineExecution's answer, per execution. */
let executions: Record<string, ExecutionDescription>;

beforeAll(async () => {
  local = await LocalDynamo.start('release-events');
  restore = setEnvironment({ ...handlerEnvironment(local), [RELEASE_SETTINGS_ENV]: JSON.stringify(SETTINGS) });
  // loaded after the environment is set, as Lambda loads it
  handler = (require('../../lambda/release-events') as typeof ReleaseHandler).handler; // eslint-disable-line @typescript-eslint/no-require-imports
  releases = new ReleaseStore(DynamoDBDocumentClient.from(local.client, { marshallOptions: { removeUndefinedValues: true } }), local.tableName);
});

afterAll(async () => {
  restore();
  await local.stop();
});

beforeEach(() => {
  codePipeline.reset();
  eventBridge.reset();
  executions = {};
  codePipeline.on(GetPipelineExecutionCommand).callsFake(input => {
    const found = executions[input.pipelineExecutionId];
    if (!found) throw Object.assign(new Error(`Pipeline execution not found: ${input.pipelineExecutionId}`), { name: 'PipelineExecutionNotFoundException' });
    return { pipelineExecution: found };
  });
  codePipeline.on(GetPipelineCommand).resolves({ pipeline: { name: 'foo-release', roleArn: 'arn:aws:iam::111111111111:role/x', ...DECLARATION } as any, metadata: {} });
  codePipeline.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
  codePipeline.on(PutJobSuccessResultCommand).resolves({});
  codePipeline.on(PutJobFailureResultCommand).resolves({});
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

function published(): Array<{ detailType: string; detail: any; source: string; bus: string }> {
  return eventBridge.commandCalls(PutEventsCommand)
    .flatMap(c => (c.args[0].input.Entries ?? []).map(e => ({
      detailType: e.DetailType!, detail: JSON.parse(e.Detail!), source: e.Source!, bus: e.EventBusName!,
    })));
}
const releaseEvents = () => published().filter(e => e.detailType !== CANDIDATE).map(e => (e.detail.stage ? `${e.detailType} (${e.detail.stage})` : e.detailType));
const jobSuccesses = () => codePipeline.commandCalls(PutJobSuccessResultCommand).map(c => c.args[0].input);
const jobFailures = () => codePipeline.commandCalls(PutJobFailureResultCommand).map(c => c.args[0].input);

/** Runs the release's events through the handler, GetPipelineExecution answering Succeeded from the last one on. */
async function runAll(events: unknown[], execution = EXECUTION, desc: (status: string) => ExecutionDescription = s => description(s)): Promise<void> {
  for (const [i, e] of events.entries()) {
    executions[execution] = desc(i === events.length - 1 ? 'Succeeded' : 'InProgress');
    await handler(e, CONTEXT);
  }
}

describe('the foo story: candidates, then a release of the couple through hardening and production', () => {
  test('candidates are recorded and published; the release is recorded, and its events published and kept in order', async () => {
    // GIVEN each service's pipeline passed its last per-service stage (dev)
    await handler(candidateJob({ operation: 'candidate', service: 'foobar-frontend', revision: FRONTEND, execution: SERVICE_EXECUTION }, 'job-frontend'), CONTEXT);
    await handler(candidateJob({ operation: 'candidate', service: 'foobar-backend', revision: BACKEND, execution: SERVICE_EXECUTION }, 'job-backend'), CONTEXT);
    expect(jobSuccesses()).toEqual([
      { jobId: 'job-frontend', executionDetails: { summary: `foobar-frontend@${FRONTEND.slice(0, 12)} is the candidate of "foobar-frontend" for the next release of foo`, percentComplete: 100 } },
      { jobId: 'job-backend', executionDetails: { summary: expect.stringContaining('is the candidate of "foobar-backend"'), percentComplete: 100 } },
    ]);
    expect(published().filter(e => e.detailType === CANDIDATE)).toEqual([
      { detailType: CANDIDATE, source: EVENT_SOURCE, bus: 'arn:aws:events:eu-west-1:111111111111:event-bus/default', detail: { pipeline: 'foo', service: 'foobar-frontend', revision: FRONTEND, execution: SERVICE_EXECUTION, recordedAt: expect.any(String), state: 'recorded' } },
      expect.objectContaining({ detailType: CANDIDATE, detail: expect.objectContaining({ service: 'foobar-backend', revision: BACKEND }) }),
    ]);
    expect((await releases.candidates('foo')).map(c => [c.service, c.revision])).toEqual([['foobar-backend', BACKEND], ['foobar-frontend', FRONTEND]]);

    // WHEN `release start` started the release pipeline with both revisions pinned, and it runs to the end
    await runAll(releaseRun());

    // THEN the stream: started, hardening deployed, tested (the performance test), promoted automatically, production, finished
    expect(releaseEvents()).toEqual(FULL);
    const stream = published().filter(e => e.detailType !== CANDIDATE);
    expect(stream.every(e => e.source === EVENT_SOURCE)).toBe(true);
    for (const e of stream) {
      expect(e.detail).toMatchObject({ releaseId: RELEASE_ID, pipeline: 'foo', members: [{ service: 'foobar-frontend', revision: FRONTEND }, { service: 'foobar-backend', revision: BACKEND }] });
    }
    expect(stream[stream.length - 1].detail).toMatchObject({ state: 'succeeded', startedBy: ALICE });
    // the record and the history `release status` and `release events` read
    const record = await releases.get('foo', RELEASE_ID);
    expect(record).toMatchObject({ state: 'succeeded', startedBy: ALICE, execution: EXECUTION, outbox: [] });
    expect((await releases.events('foo', RELEASE_ID)).map(e => (e.stage ? `${e.detailType} (${e.stage})` : e.detailType))).toEqual(FULL);
    expect(await releases.releaseOfExecution('foo', EXECUTION)).toBe(RELEASE_ID);
    // the pipeline's layout was read once, at the execution's version
    expect(codePipeline.commandCalls(GetPipelineCommand).map(c => c.args[0].input)).toEqual([{ name: 'foo-release', version: 3 }]);
    expect(codePipeline.commandCalls(GetPipelineExecutionCommand)[0].args[0].input).toEqual({ pipelineName: 'foo-release', pipelineExecutionId: EXECUTION });
    // every member was in artifactRevisions: no ListPipelineExecutions
    expect(codePipeline.commandCalls(ListPipelineExecutionsCommand)).toHaveLength(0);
  });
});

describe('events out of order, twice, or at the same time', () => {
  const EXEC = '22222222-1234-5678-abcd-12345678abcd';
  const ID = 'r-20301130-090000-2222';
  const desc = (status: string) => description(status, { pipelineExecutionId: EXEC, variables: [{ name: 'ReleaseId', resolvedValue: ID }] });
  const forExecution = (events: any[]) => events.map(e => ({ ...e, detail: { ...e.detail, 'execution-id': EXEC } }));

  test('reversed and duplicated: the same stream in the same order, each event once', async () => {
    const events = forExecution(releaseRun());
    const order = [...events].reverse();
    await runAll([...order, order[3], order[10], order[0]], EXEC, desc);
    expect(releaseEvents()).toEqual(FULL);
    expect((await releases.events('foo', ID)).map(e => e.detailType)).toEqual(FULL.map(x => x.replace(/ \(.*\)$/, '')));
  });

  test('handled concurrently: one consistent record, each release event recorded once and published at least once', async () => {
    const exec = '33333333-1234-5678-abcd-12345678abcd';
    const id = 'r-20301130-090000-3333';
    executions[exec] = description('InProgress', { pipelineExecutionId: exec, variables: [{ name: 'ReleaseId', resolvedValue: id }] });
    const events = releaseRun().map(e => ({ ...e, detail: { ...e.detail, 'execution-id': exec } }));
    const results = await Promise.allSettled(events.slice(0, -1).map(e => handler(e, CONTEXT)));
    // an invocation that lost every write to the others fails, and Lambda retries its event
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    for (const i of failed) expect(String((results[i] as PromiseRejectedResult).reason)).toMatch(/changed since it was read/);
    for (const i of failed) await handler(events[i], CONTEXT);
    executions[exec] = { ...executions[exec], status: 'Succeeded' };
    await handler(events[events.length - 1], CONTEXT);
    const record = await releases.get('foo', id);
    expect(record).toMatchObject({ state: 'succeeded', outbox: [], eventCount: 7 });
    expect(record!.published).toEqual(['started', 'deployed:hardening', 'tested:hardening', 'promoted:hardening', 'deployed:production', 'tested:production', 'finished:succeeded:1']);
    expect((await releases.events('foo', id))).toHaveLength(7);
    expect(new Set(releaseEvents())).toEqual(new Set(FULL));
  });
});

describe('release ids', () => {
  test('an execution without a release id (the pipeline\'s first run on creation, a console "Release change") is not a release: nothing recorded or published', async () => {
    const exec = '44444444-1234-5678-abcd-12345678abcd';
    executions[exec] = description('InProgress', { pipelineExecutionId: exec, variables: [{ name: 'ReleaseId', resolvedValue: 'manual' }], trigger: { triggerType: 'CreatePipeline', triggerDetail: 'arn:aws:iam::111111111111:role/cfn' } });
    const events = releaseRun().map(e => ({ ...e, detail: { ...e.detail, 'execution-id': exec } }));
    for (const e of events) await handler(e, CONTEXT);
    expect(await releases.releaseOfExecution('foo', exec)).toBeUndefined();
    expect((await releases.list('foo')).filter(r => r.execution === exec)).toEqual([]);
    expect(published().filter(e => JSON.stringify(e).includes(exec))).toEqual([]);
  });

  test('a ReleaseId already naming another execution\'s release: the second execution gets a derived id', async () => {
    const exec = '55555555-1234-5678-abcd-12345678abcd';
    executions[exec] = description('InProgress', { pipelineExecutionId: exec });
    await handler({ ...pipelineEvent('STARTED'), detail: { ...pipelineEvent('STARTED').detail, 'execution-id': exec } }, CONTEXT);
    const id = await releases.releaseOfExecution('foo', exec);
    expect(id).not.toBe(RELEASE_ID);
    expect(await releases.get('foo', id!)).toMatchObject({ note: expect.stringContaining(`already names the release of execution ${EXECUTION}`) });
    expect(await releases.get('foo', RELEASE_ID)).toMatchObject({ execution: EXECUTION });
  });
});

describe('what CodePipeline says about the execution', () => {
  test('a member missing from artifactRevisions is read from ListPipelineExecutions, and only while it is missing', async () => {
    const exec = '66666666-1234-5678-abcd-12345678abcd';
    const id = 'r-20301130-090000-6666';
    executions[exec] = description('InProgress', { pipelineExecutionId: exec, variables: [{ name: 'ReleaseId', resolvedValue: id }] }, { 'foobar-frontend': FRONTEND });
    codePipeline.on(ListPipelineExecutionsCommand)
      .resolvesOnce({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'other' }], nextToken: 'page-2' })
      .resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: exec, sourceRevisions: [{ actionName: 'Source-foobar-backend', revisionId: BACKEND }] }] });
    const at = (e: any) => ({ ...e, detail: { ...e.detail, 'execution-id': exec } });
    await handler(at(pipelineEvent('STARTED')), CONTEXT);
    expect(codePipeline.commandCalls(ListPipelineExecutionsCommand).map(c => c.args[0].input)).toEqual([
      { pipelineName: 'foo-release', maxResults: 100 }, { pipelineName: 'foo-release', maxResults: 100, nextToken: 'page-2' },
    ]);
    expect(published()[0]).toMatchObject({ detailType: STARTED, detail: { members: [{ service: 'foobar-frontend', revision: FRONTEND }, { service: 'foobar-backend', revision: BACKEND }] } });
    await handler(at(stageEvent('Source', 'STARTED')), CONTEXT);
    expect(codePipeline.commandCalls(ListPipelineExecutionsCommand)).toHaveLength(2);
  });

  test('a rollback execution and an execution CodePipeline does not know are not recorded', async () => {
    const rollback = '77777777-1234-5678-abcd-12345678abcd';
    executions[rollback] = description('InProgress', { pipelineExecutionId: rollback, executionType: 'ROLLBACK', rollbackMetadata: { rollbackTargetPipelineExecutionId: EXECUTION } });
    const r = await handler({ ...stageEvent('hardening', 'STARTED'), detail: { ...stageEvent('hardening', 'STARTED').detail, 'execution-id': rollback } }, CONTEXT);
    expect(r.summaries[0]).toMatch(/is a rollback \(to execution 12345678-/);
    const unknown = await handler({ ...stageEvent('hardening', 'STARTED'), detail: { ...stageEvent('hardening', 'STARTED').detail, 'execution-id': '88888888-1234-5678-abcd-12345678abcd' } }, CONTEXT);
    expect(unknown.summaries[0]).toMatch(/is unknown to CodePipeline/);
    expect(await releases.releaseOfExecution('foo', rollback)).toBeUndefined();
    expect(published()).toEqual([]);
  });

  test('a GetPipelineExecution error fails the invocation (Lambda retries it)', async () => {
    codePipeline.on(GetPipelineExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(handler(stageEvent('hardening', 'STARTED'), CONTEXT)).rejects.toThrow('Rate exceeded');
  });
});

describe('delivery', () => {
  test('an event EventBridge refuses stays in the outbox; the invocation fails; the retry delivers it once', async () => {
    const exec = '99999999-1234-5678-abcd-12345678abcd';
    const id = 'r-20301130-090000-9999';
    executions[exec] = description('InProgress', { pipelineExecutionId: exec, variables: [{ name: 'ReleaseId', resolvedValue: id }] });
    const started = { ...pipelineEvent('STARTED'), detail: { ...pipelineEvent('STARTED').detail, 'execution-id': exec } };
    eventBridge.on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    await expect(handler(started, CONTEXT)).rejects.toThrow(`release ${id}: 0 of 1 pending event(s) delivered; the rest stay in the outbox (EventBridge did not accept the "Release Started" event`);
    expect(await releases.get('foo', id)).toMatchObject({ published: ['started'], outbox: [expect.objectContaining({ detailType: STARTED, n: 1 })] });
    // Lambda's retry of the same event: nothing new to decide, the outbox is delivered
    await handler(started, CONTEXT);
    expect(await releases.get('foo', id)).toMatchObject({ outbox: [] });
    expect(releaseEvents()).toEqual([STARTED, STARTED]); // the refused attempt, then the delivery
    expect(await releases.events('foo', id)).toHaveLength(1);
  });

  test('a later event of the release also delivers what an earlier invocation left in the outbox', async () => {
    const exec = 'aaaaaaaa-1234-5678-abcd-12345678abcd';
    const id = 'r-20301130-090000-aaaa';
    executions[exec] = description('InProgress', { pipelineExecutionId: exec, variables: [{ name: 'ReleaseId', resolvedValue: id }] });
    const at = (e: any) => ({ ...e, detail: { ...e.detail, 'execution-id': exec } });
    eventBridge.on(PutEventsCommand).rejectsOnce(new Error('network down')).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    await expect(handler(at(pipelineEvent('STARTED')), CONTEXT)).rejects.toThrow('network down');
    await handler(at(actionEvent('hardening', 'Tests', 'STARTED')), CONTEXT);
    expect(releaseEvents().slice(1)).toEqual([STARTED, `${DEPLOYED} (hardening)`]);
    expect((await releases.get('foo', id))!.outbox).toEqual([]);
  });
});

describe('Candidate jobs are always answered', () => {
  const params = { operation: 'candidate', service: 'foobar-backend', revision: commit('7'), execution: SERVICE_EXECUTION };

  test('misconfigured parameters: PutJobFailureResult naming the fields', async () => {
    await handler(candidateJob({ ...params, service: 'payments' }, 'job-bad'), CONTEXT);
    expect(jobFailures()).toEqual([{ jobId: 'job-bad', failureDetails: { type: 'JobFailed', message: expect.stringMatching(/^The Candidate action is misconfigured: UserParameters\.service: "payments" is not a service of pipeline "foo"/) } }]);
    expect(jobSuccesses()).toEqual([]);
  });

  test('an older execution\'s job after a newer one: success, the newer candidate stays', async () => {
    const deps = dependencies();
    await runReleaseFunction(candidateJob({ ...params, revision: commit('8') }, 'job-new'), { ...deps, now: () => new Date('2030-12-02T00:00:00Z') });
    await runReleaseFunction(candidateJob(params, 'job-old'), { ...deps, now: () => new Date('2030-12-01T00:00:00Z') });
    expect(jobSuccesses()[1]).toEqual({ jobId: 'job-old', executionDetails: { summary: expect.stringMatching(/not recorded: foobar-backend@888888888888 .* was recorded later, at 2030-12-02T00:00:00.000Z, and stays the candidate/), percentComplete: 100 } });
    expect((await releases.candidates('foo')).find(c => c.service === 'foobar-backend')!.revision).toBe(commit('8'));
  });

  test('an unreadable store or a refused event: PutJobFailureResult saying what happened', async () => {
    const deps = dependencies();
    await runReleaseFunction(candidateJob(params, 'job-store'), { ...deps, releases: new ReleaseStore(DynamoDBDocumentClient.from(local.client), 'no-such-table') });
    expect(jobFailures()[0]).toMatchObject({ jobId: 'job-store', failureDetails: { message: expect.stringMatching(/^The release function could not record candidate foobar-backend@777777777777: the status-check table "no-such-table" could not be written/) } });
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'x' }] });
    await runReleaseFunction(candidateJob({ ...params, revision: commit('9') }, 'job-event'), { ...deps, now: () => new Date('2031-01-01T00:00:00Z') });
    expect(jobFailures()[1]).toMatchObject({ jobId: 'job-event', failureDetails: { message: expect.stringMatching(/is the candidate of "foobar-backend".*; but the "Release Candidate Recorded" event could not be published/) } });
  });

  test('a misconfigured function still answers a job, and fails other inputs', async () => {
    const saved = process.env[RELEASE_SETTINGS_ENV];
    delete process.env[RELEASE_SETTINGS_ENV];
    let answers: unknown[] = [];
    try {
      await jest.isolateModulesAsync(async () => {
        /* eslint-disable @typescript-eslint/no-require-imports */
        const sdk = require('@aws-sdk/client-codepipeline') as typeof import('@aws-sdk/client-codepipeline');
        const fresh = (require('../../lambda/release-events') as typeof ReleaseHandler).handler;
        /* eslint-enable @typescript-eslint/no-require-imports */
        const pipeline = mockClient(sdk.CodePipelineClient);
        pipeline.on(sdk.PutJobFailureResultCommand).resolves({});
        await fresh(candidateJob(params, 'job-misconfigured'), CONTEXT);
        await expect(fresh(pipelineEvent('STARTED'), CONTEXT)).rejects.toThrow(`environment variable ${RELEASE_SETTINGS_ENV} is not set`);
        answers = pipeline.commandCalls(sdk.PutJobFailureResultCommand).map(c => c.args[0].input);
        pipeline.restore();
      });
    } finally {
      process.env[RELEASE_SETTINGS_ENV] = saved;
    }
    expect(answers).toEqual([{
      jobId: 'job-misconfigured',
      failureDetails: { type: 'JobFailed', message: expect.stringMatching(/^The release function is misconfigured: environment variable DDK_RELEASE_SETTINGS is not set/), externalExecutionId: 'req-1' },
    }]);
  });
});

/** The handler's dependencies, built from the test's clients (for calls with another clock or store). */
function dependencies(): ReleaseDependencies {
  return {
    settings: SETTINGS,
    releases,
    events: new EventBridgePublisher(new EventBridgeClient({ region: 'eu-west-1' }), 'default'),
    pipeline: new CodePipelineReleaseReader(new CodePipelineClient({ region: 'eu-west-1' }), 'foo-release'),
    jobs: new CodePipelineJobResults(new CodePipelineClient({ region: 'eu-west-1' })),
    now: () => new Date(),
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  };
}
