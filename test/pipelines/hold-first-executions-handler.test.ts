import { CodeCommitClient } from '@aws-sdk/client-codecommit';
import {
  CodePipelineClient,
  DuplicatedStopRequestException,
  ListPipelineExecutionsCommand,
  PipelineExecutionNotStoppableException,
  PipelineExecutionSummary,
  StopPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler, logger } from '../../lambda/seed-repository';
import { createPipelineClient, holdFirstExecutions, HoldContext, HoldResponse } from '../../lambda/seed-repository/hold';
import { HOLD_MAX_WAIT_SECONDS, HOLD_PAGE_SIZE, HOLD_RESOURCE_TYPE, HoldSpec } from '../../lib/pipelines/first-execution-hold';

const SEED = '0123456789abcdef0123456789abcdef01234567';
const USER = 'fedcba9876543210fedcba9876543210fedcba98';
const REASON = `ddk-pipelines: waiting for the team's first push; the repository holds only the seed commit ${SEED}`;
const E1 = '11111111-1111-1111-1111-111111111111';
const E2 = '22222222-2222-2222-2222-222222222222';
const PROPS: HoldSpec = { pipelineNames: ['myapp-main'], seedCommitId: SEED };

function event(requestType: 'Create' | 'Update' | 'Delete', props: any = PROPS): CloudFormationCustomResourceEvent {
  const base = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
    ResponseURL: 'https://example.com/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/myapp-pipeline/1',
    RequestId: 'r-1',
    LogicalResourceId: 'SeedHoldFirstExecutions',
    ResourceType: HOLD_RESOURCE_TYPE,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider', ...props },
  };
  if (requestType === 'Create') return { ...base, RequestType: 'Create' };
  if (requestType === 'Update') return { ...base, RequestType: 'Update', PhysicalResourceId: `ddk-hold-${SEED}`, OldResourceProperties: base.ResourceProperties };
  return { ...base, RequestType: 'Delete', PhysicalResourceId: `ddk-hold-${SEED}` };
}

/** A summary as ListPipelineExecutions returns it. */
function summary(pipelineExecutionId: string, status: string, revisions: string[], triggerType = 'CreatePipeline'): PipelineExecutionSummary {
  return {
    pipelineExecutionId,
    status: status as PipelineExecutionSummary['status'],
    sourceRevisions: revisions.map(revisionId => ({ actionName: 'Source', revisionId })),
    trigger: { triggerType: triggerType as any },
  };
}

beforeAll(() => logger.setLogLevel('SILENT'));

describe('first-execution hold handler (CodePipeline mocked, fake clock)', () => {
  let cp: AwsStub<any, any, any>;
  let clock: number;
  let waits: number[];
  let ctx: HoldContext;
  beforeEach(() => {
    cp = mockClient(CodePipelineClient);
    cp.on(StopPipelineExecutionCommand).resolves({ pipelineExecutionId: E1 });
    clock = 1_000_000;
    waits = [];
    ctx = {
      client: createPipelineClient(1, { region: 'eu-west-1' }),
      logger,
      sleep: async s => { waits.push(s); clock += s * 1000; },
      now: () => clock,
    };
  });
  afterEach(() => {
    cp.restore();
    jest.restoreAllMocks();
  });

  const hold = (e: CloudFormationCustomResourceEvent) => holdFirstExecutions(e, ctx);

  test('the creation execution, first still in Source, then building the seed commit: stopped, abandoning its actions, with the reason', async () => {
    cp.on(ListPipelineExecutionsCommand)
      .resolvesOnce({ pipelineExecutionSummaries: [] })
      .resolvesOnce({ pipelineExecutionSummaries: [summary(E1, 'InProgress', [])] })
      .resolves({ pipelineExecutionSummaries: [summary(E1, 'InProgress', [SEED])] });

    const res = await hold(event('Create'));

    expect(cp).toHaveReceivedCommandWith(ListPipelineExecutionsCommand, { pipelineName: 'myapp-main', maxResults: HOLD_PAGE_SIZE });
    expect(cp).toHaveReceivedCommandTimes(ListPipelineExecutionsCommand, 3);
    expect(waits).toEqual([5, 5]);
    expect(cp.commandCalls(StopPipelineExecutionCommand).map(c => c.args[0].input)).toEqual([
      { pipelineName: 'myapp-main', pipelineExecutionId: E1, abandon: true, reason: REASON },
    ]);
    expect(res).toEqual({
      PhysicalResourceId: `ddk-hold-${SEED}`,
      Data: { StoppedExecutions: `myapp-main:${E1}`, EndedExecutions: '', NotHeldPipelines: '' },
    });
  });

  test('two pipelines (Gitflow): each creation execution of the seed commit is stopped', async () => {
    cp.on(ListPipelineExecutionsCommand, { pipelineName: 'myapp-main' }).resolves({ pipelineExecutionSummaries: [summary(E1, 'InProgress', [SEED])] });
    cp.on(ListPipelineExecutionsCommand, { pipelineName: 'myapp-dev' })
      .resolvesOnce({ pipelineExecutionSummaries: [] })
      .resolves({ pipelineExecutionSummaries: [summary(E2, 'InProgress', [SEED])] });

    const res = await hold(event('Create', { pipelineNames: ['myapp-main', 'myapp-dev'], seedCommitId: SEED }));

    expect(cp.commandCalls(StopPipelineExecutionCommand).map(c => [c.args[0].input.pipelineName, c.args[0].input.pipelineExecutionId]))
      .toEqual([['myapp-main', E1], ['myapp-dev', E2]]);
    // the decided pipeline is not listed again
    expect(cp.commandCalls(ListPipelineExecutionsCommand).map(c => c.args[0].input.pipelineName)).toEqual(['myapp-main', 'myapp-dev', 'myapp-dev']);
    expect((res as HoldResponse).Data?.StoppedExecutions).toBe(`myapp-main:${E1},myapp-dev:${E2}`);
  });

  test('no execution appears in time: gives up after about 150 seconds, and the deployment goes on', async () => {
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
    const warn = jest.spyOn(logger, 'warn');

    const res = await hold(event('Create'));

    expect(waits.reduce((a, b) => a + b, 0)).toBe(HOLD_MAX_WAIT_SECONDS);
    expect(cp).toHaveReceivedCommandTimes(ListPipelineExecutionsCommand, HOLD_MAX_WAIT_SECONDS / 5 + 1);
    expect(cp).not.toHaveReceivedCommand(StopPipelineExecutionCommand);
    expect(res.Data).toEqual({ StoppedExecutions: '', EndedExecutions: '', NotHeldPipelines: 'myapp-main:not-found' });
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/Nothing held/), expect.objectContaining({ pipelineName: 'myapp-main', notHeld: 'not-found' }));
  });

  test('the execution of the seed commit already failed: left as it is, nothing stopped', async () => {
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary(E1, 'Failed', [SEED])] });
    const res = await hold(event('Create'));
    expect(cp).not.toHaveReceivedCommand(StopPipelineExecutionCommand);
    expect(waits).toEqual([]);
    expect(res.Data).toEqual({ StoppedExecutions: '', EndedExecutions: `myapp-main:${E1}:Failed`, NotHeldPipelines: '' });
  });

  test('the repository already had commits (no seed commit): no call at all', async () => {
    const res = await hold(event('Create', { pipelineNames: ['myapp-main'], seedCommitId: '' }));
    expect(cp.calls()).toHaveLength(0);
    expect(res).toEqual({ PhysicalResourceId: 'ddk-hold-unseeded', Data: { StoppedExecutions: '', EndedExecutions: '', NotHeldPipelines: '' } });
  });

  test('a stop refused as not stoppable (it ended meanwhile): logged, and the request succeeds', async () => {
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary(E1, 'InProgress', [SEED])] });
    cp.on(StopPipelineExecutionCommand).rejects(new PipelineExecutionNotStoppableException({ message: 'Unable to stop the pipeline execution', $metadata: {} }));
    const info = jest.spyOn(logger, 'info');

    const res = await hold(event('Create'));

    expect(cp).toHaveReceivedCommandTimes(StopPipelineExecutionCommand, 1);
    expect(res.Data).toEqual({ StoppedExecutions: '', EndedExecutions: `myapp-main:${E1}:NotStoppable`, NotHeldPipelines: '' });
    expect(info).toHaveBeenCalledWith(expect.stringMatching(/could no longer be stopped/), expect.objectContaining({ pipelineExecutionId: E1 }));
  });

  test('a stop refused as a duplicate (someone is stopping it): left to that stop', async () => {
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary(E1, 'InProgress', [SEED])] });
    cp.on(StopPipelineExecutionCommand).rejects(new DuplicatedStopRequestException({ message: 'already stopping', $metadata: {} }));
    const res = await hold(event('Create'));
    expect(res.Data?.EndedExecutions).toBe(`myapp-main:${E1}:Stopping`);
    expect(cp).toHaveReceivedCommandTimes(StopPipelineExecutionCommand, 1);
  });

  test('AccessDenied while IAM applies the role\'s new policy: looked at again, then stopped', async () => {
    const denied = Object.assign(new Error('not authorized to perform codepipeline:ListPipelineExecutions'), { name: 'AccessDeniedException' });
    cp.on(ListPipelineExecutionsCommand).rejectsOnce(denied).resolves({ pipelineExecutionSummaries: [summary(E1, 'InProgress', [SEED])] });
    const res = await hold(event('Create'));
    expect(waits).toEqual([5]);
    expect(res.Data?.StoppedExecutions).toBe(`myapp-main:${E1}`);
    expect(res.Data?.NotHeldPipelines).toBe('');
  });

  test('a stop that fails for another reason is tried again on the next look, once stopped not again', async () => {
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary(E1, 'InProgress', [SEED]), summary(E2, 'InProgress', [SEED], 'CloudWatchEvent')] });
    cp.on(StopPipelineExecutionCommand, { pipelineExecutionId: E2 })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({});
    const res = await hold(event('Create'));
    // E1 once (CodePipeline may still list it InProgress on the second look), E2 twice
    expect(cp.commandCalls(StopPipelineExecutionCommand).map(c => c.args[0].input.pipelineExecutionId)).toEqual([E1, E2, E2]);
    expect(res.Data?.StoppedExecutions).toBe(`myapp-main:${E1},myapp-main:${E2}`);
  });

  test('CodePipeline refusing every call: the deployment still succeeds, reporting the error', async () => {
    cp.on(ListPipelineExecutionsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const res = await hold(event('Create'));
    expect(res.Data).toEqual({ StoppedExecutions: '', EndedExecutions: '', NotHeldPipelines: 'myapp-main:error' });
    expect(waits.reduce((a, b) => a + b, 0)).toBe(HOLD_MAX_WAIT_SECONDS);
  });

  test('an older pipeline with many executions and no creation execution among the newest: given up at once', async () => {
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary(E1, 'Succeeded', [USER], 'CloudWatchEvent')], nextToken: 'page-2' });
    const res = await hold(event('Create'));
    expect(waits).toEqual([]);
    expect(res.Data?.NotHeldPipelines).toBe('myapp-main:not-new');
  });

  test('the creation execution ran the team\'s commit: nothing stopped, given up at once', async () => {
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary(E1, 'Succeeded', [USER])] });
    const res = await hold(event('Create'));
    expect(cp).not.toHaveReceivedCommand(StopPipelineExecutionCommand);
    expect(res.Data?.NotHeldPipelines).toBe('myapp-main:other-revision');
  });

  test.each(['Update', 'Delete'] as const)('%s: nothing to do, no call, the physical id is kept', async requestType => {
    await expect(hold(event(requestType))).resolves.toEqual({ PhysicalResourceId: `ddk-hold-${SEED}` });
    expect(cp.calls()).toHaveLength(0);
  });

  test('malformed properties on Create: a clear error before any call', async () => {
    await expect(hold(event('Create', { pipelineNames: ['myapp main'], seedCommitId: SEED }))).rejects.toThrow('pipelineNames: "myapp main" contains a character');
    expect(cp.calls()).toHaveLength(0);
  });
});

describe('the entry point dispatches on the resource type', () => {
  let cp: AwsStub<any, any, any>;
  let cc: AwsStub<any, any, any>;
  beforeEach(() => {
    cp = mockClient(CodePipelineClient);
    cc = mockClient(CodeCommitClient);
  });
  afterEach(() => {
    cp.restore();
    cc.restore();
  });

  test('a hold event goes to CodePipeline, never to CodeCommit', async () => {
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [summary(E1, 'InProgress', [SEED])] });
    cp.on(StopPipelineExecutionCommand).resolves({});
    const res = await handler(event('Create'));
    expect(cp).toHaveReceivedCommandWith(StopPipelineExecutionCommand, { pipelineName: 'myapp-main', pipelineExecutionId: E1, abandon: true, reason: REASON });
    expect(cc.calls()).toHaveLength(0);
    expect(res).toEqual({ PhysicalResourceId: `ddk-hold-${SEED}`, Data: { StoppedExecutions: `myapp-main:${E1}`, EndedExecutions: '', NotHeldPipelines: '' } });
  });

  test('an unknown resource type is refused, naming the two it serves', async () => {
    await expect(handler({ ...event('Create'), ResourceType: 'Custom::Other' })).rejects.toThrow(
      'ddk-pipelines: the seeding function received a "Custom::Other" resource; expected Custom::DdkRepositorySeed or Custom::DdkHoldSeedExecution. Fix: point only RepositorySeeder\'s resources at its provider');
    expect(cp.calls()).toHaveLength(0);
    expect(cc.calls()).toHaveLength(0);
  });
});
