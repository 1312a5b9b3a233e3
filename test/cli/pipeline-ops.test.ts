import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  GetPipelineStateOutput,
  ListPipelineExecutionsCommand,
  PipelineNotFoundException,
  PutApprovalResultCommand,
  RollbackStageCommand,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { FAKE_CREDENTIALS, runCli, startServer } from './helpers';
import { stageStatuses } from '../../lib/cli/pipeline-ops';
import { ROOT } from '../helpers';

const cp = mockClient(CodePipelineClient);
beforeEach(() => cp.reset());

const T = new Date('2026-03-01T10:00:00Z');

/** The state of the example pipeline: production's gate has passed, its approval waits. */
function waitingForApproval(): GetPipelineStateOutput {
  return {
    pipelineName: 'myapp',
    pipelineVersion: 3,
    stageStates: [
      { stageName: 'Source', latestExecution: { pipelineExecutionId: 'e-2', status: 'Succeeded' }, actionStates: [{ actionName: 'myapp', latestExecution: { status: 'Succeeded' } }] },
      { stageName: 'Build', latestExecution: { pipelineExecutionId: 'e-2', status: 'Succeeded' }, actionStates: [{ actionName: 'Synth', latestExecution: { status: 'Succeeded' } }] },
      { stageName: 'development', latestExecution: { pipelineExecutionId: 'e-2', status: 'Succeeded' }, actionStates: [] },
      {
        stageName: 'production',
        latestExecution: { pipelineExecutionId: 'e-1', status: 'InProgress' },
        inboundExecution: { pipelineExecutionId: 'e-2', status: 'InProgress' },
        actionStates: [
          { actionName: 'StatusCheckGate', latestExecution: { status: 'Succeeded', summary: 'all required checks passed' } },
          { actionName: 'Approve', latestExecution: { status: 'InProgress', token: 'tok-123', lastStatusChange: T } },
          { actionName: 'prod-eu.Deploy' },
        ],
      },
    ],
  };
}

describe('status: why a stage waits', () => {
  test('an approval waiting (it carries a token) and an execution waiting to enter', () => {
    const [, , dev, prod] = stageStatuses(waitingForApproval());
    expect(dev).toMatchObject({ name: 'development', state: 'Succeeded', blockers: [] });
    expect(prod).toMatchObject({
      name: 'production',
      state: 'InProgress',
      execution: 'e-1',
      inbound: 'e-2',
      blockers: [{ kind: 'approval', action: 'Approve', since: '2026-03-01T10:00:00.000Z' }],
    });
  });

  test('a gate waiting (an Invoke action in progress) with its latest summary and link', () => {
    const state: GetPipelineStateOutput = {
      stageStates: [{
        stageName: 'production',
        latestExecution: { pipelineExecutionId: 'e-1', status: 'InProgress' },
        actionStates: [{ actionName: 'Checks', latestExecution: { status: 'InProgress', summary: 'waiting for ci/integration (pending)', externalExecutionUrl: 'https://console/lambda' } }],
      }],
    };
    const [st] = stageStatuses(state, new Map([['production/Checks', 'Invoke']]));
    expect(st.blockers).toEqual([{ kind: 'gate', action: 'Checks', summary: 'waiting for ci/integration (pending)', url: 'https://console/lambda', since: undefined }]);
  });

  test('a running deployment is not a blocker; a failed action and a disabled transition are', () => {
    const state: GetPipelineStateOutput = {
      stageStates: [
        { stageName: 'a', latestExecution: { pipelineExecutionId: 'e', status: 'InProgress' }, actionStates: [{ actionName: 'Deploy', latestExecution: { status: 'InProgress' } }] },
        {
          stageName: 'b',
          latestExecution: { pipelineExecutionId: 'e', status: 'Failed' },
          inboundTransitionState: { enabled: false, disabledReason: 'freeze until Monday' },
          actionStates: [{ actionName: 'Deploy', latestExecution: { status: 'Failed', errorDetails: { code: 'JobFailed', message: 'Stack rolled back' } } }],
        },
      ],
    };
    const [a, b] = stageStatuses(state, new Map([['a/Deploy', 'Deploy'], ['b/Deploy', 'Deploy']]));
    expect(a.blockers).toEqual([]);
    expect(b.blockers.map(x => [x.kind, x.summary])).toEqual([['transition', 'freeze until Monday'], ['failed', 'Stack rolled back']]);
  });

  test('`status` prints each stage, the waiting approval and how to answer it', async () => {
    cp.on(GetPipelineStateCommand).resolves(waitingForApproval());
    cp.on(GetPipelineCommand).rejects(new Error('AccessDenied')); // categories are optional
    const r = await runCli(['status']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(cp).toHaveReceivedCommandWith(GetPipelineStateCommand, { name: 'myapp' });
    expect(r.stdout).toContain('pipeline myapp (version 3)');
    expect(r.stdout).toMatch(/✔ development +Succeeded +execution e-2/);
    expect(r.stdout).toMatch(/● production +InProgress +execution e-1\n {6}waiting for approval: Approve since 2026-03-01T10:00:00.000Z\n {8}answer: ddk-pipelines approve\|reject --pipeline myapp --stage production/);
    expect(r.stdout).toContain('next in: execution e-2');
    expect(await cp.call(0).thisValue.config.region()).toBe('eu-west-1'); // the CICD region of ddk.json
  });

  test('`status --json`: the stages as data', async () => {
    cp.on(GetPipelineStateCommand).resolves(waitingForApproval());
    cp.on(GetPipelineCommand).resolves({ pipeline: { name: 'myapp', roleArn: 'r', stages: [{ name: 'production', actions: [{ name: 'Approve', actionTypeId: { category: 'Approval', owner: 'AWS', provider: 'Manual', version: '1' } }] }] } });
    const r = await runCli(['status', '--json']);
    const json = JSON.parse(r.stdout);
    expect(json.pipeline).toBe('myapp');
    expect(json.stages.map((s: any) => [s.name, s.state])).toEqual([['Source', 'Succeeded'], ['Build', 'Succeeded'], ['development', 'Succeeded'], ['production', 'InProgress']]);
    expect(json.stages[3].actions.find((a: any) => a.name === 'Approve').category).toBe('Approval');
  });

  test('`status` with the status-check API: a waiting gate shows the required contexts that are not green, with links', async () => {
    const server = await startServer(() => [200, {
      checks: [
        { context: 'ci/integration', state: 'failure', targetUrl: 'https://ci/7', description: '3 failed' },
        { context: 'ci/unit', state: 'success' },
        { context: 'ci/other-stage', state: 'pending', stage: 'development' },
      ],
      history: [],
    }]);
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey });
    try {
      cp.on(GetPipelineStateCommand).resolves({
        pipelineName: 'myapp',
        stageStates: [{
          stageName: 'production',
          latestExecution: { pipelineExecutionId: 'e-9', status: 'InProgress' },
          actionStates: [{ actionName: 'StatusChecks', latestExecution: { status: 'InProgress', summary: 'waiting: ci/integration failure' } }],
        }],
      });
      cp.on(GetPipelineCommand).resolves({ pipeline: { name: 'myapp', roleArn: 'r', stages: [{ name: 'production', actions: [{ name: 'StatusChecks', actionTypeId: { category: 'Invoke', owner: 'AWS', provider: 'Lambda', version: '1' } }] }] } });
      cp.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { pipelineExecutionId: 'e-9', artifactRevisions: [{ revisionId: 'abc123' }] } });
      const r = await runCli(['status', '--endpoint', server.url]);
      expect(r.code).toBe(0);
      expect(server.requests[0].url).toBe('/checks?pipeline=myapp&revision=abc123');
      expect(r.stdout).toContain('waiting on gate: StatusChecks — waiting: ci/integration failure');
      expect(r.stdout).toContain('required check ci/integration: failure — 3 failed https://ci/7');
      expect(r.stdout).not.toContain('ci/unit'); // green
      expect(r.stdout).not.toContain('ci/other-stage'); // scoped to another stage
    } finally {
      process.env = saved;
      await server.close();
    }
  });

  test('a pipeline that does not exist: one line naming pipeline and region, exit 1', async () => {
    cp.on(GetPipelineStateCommand).rejects(new PipelineNotFoundException({ message: 'not found', $metadata: {} }));
    const r = await runCli(['status', '--pipeline', 'nope', '--region', 'us-east-2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: pipeline "nope" not found in us-east-2 with the current credentials. Fix: check --pipeline and --region, and that the credentials are for the CICD account\n');
  });
});

describe('executions', () => {
  test('newest first, up to --limit, across pages', async () => {
    cp.on(ListPipelineExecutionsCommand)
      .resolvesOnce({
        nextToken: 'n1',
        pipelineExecutionSummaries: [
          { pipelineExecutionId: 'e-3', status: 'InProgress', startTime: T, trigger: { triggerType: 'CloudWatchEvent' }, sourceRevisions: [{ actionName: 's', revisionId: '0123456789abcdef', revisionSummary: 'Fix the bucket policy\n\nlong text' }] },
          { pipelineExecutionId: 'e-2', status: 'Failed', startTime: T },
        ],
      })
      .resolvesOnce({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'e-1', status: 'Succeeded', executionType: 'ROLLBACK' }, { pipelineExecutionId: 'e-0', status: 'Succeeded' }] });
    const r = await runCli(['executions', '--limit', '3']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^EXECUTION +STATUS +STARTED +TRIGGER +REVISION$/);
    expect(lines[1]).toMatch(/^e-3 +InProgress +2026-03-01T10:00:00.000Z +CloudWatchEvent +0123456789ab Fix the bucket policy$/);
    expect(lines[3]).toMatch(/^e-1 +Succeeded \(rollback\)/);
    expect(lines).toHaveLength(4);
    expect(cp).toHaveReceivedCommandTimes(ListPipelineExecutionsCommand, 2);
    expect(cp.commandCalls(ListPipelineExecutionsCommand).map(c => c.args[0].input)).toEqual([
      { pipelineName: 'myapp', maxResults: 3 },
      { pipelineName: 'myapp', maxResults: 1, nextToken: 'n1' },
    ]);
  });

  test('--json, and a bad --limit', async () => {
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'e-1', status: 'Succeeded' }] });
    const r = await runCli(['executions', '--json']);
    expect(JSON.parse(r.stdout)).toEqual({ pipeline: 'myapp', executions: [{ execution: 'e-1', status: 'Succeeded' }] });
    const bad = await runCli(['executions', '--limit', 'ten']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--limit: "ten" is not a whole number from 1 to 1000');
  });
});

describe('approve and reject', () => {
  test('approve: the token of the waiting approval goes back with PutApprovalResult', async () => {
    cp.on(GetPipelineStateCommand).resolves(waitingForApproval());
    cp.on(PutApprovalResultCommand).resolves({});
    const r = await runCli(['approve', '--stage', 'production', '--reason', 'dev looks good']);
    expect(r).toMatchObject({ code: 0, stdout: 'approved Approve in myapp/production (execution e-1): dev looks good\n' });
    expect(cp).toHaveReceivedCommandWith(PutApprovalResultCommand, {
      pipelineName: 'myapp',
      stageName: 'production',
      actionName: 'Approve',
      token: 'tok-123',
      result: { status: 'Approved', summary: 'dev looks good' },
    });
  });

  test('reject: status Rejected, a default summary when no reason is given', async () => {
    cp.on(GetPipelineStateCommand).resolves(waitingForApproval());
    cp.on(PutApprovalResultCommand).resolves({});
    const r = await runCli(['reject', '--stage', 'production', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'Rejected', action: 'Approve', execution: 'e-1' });
    expect(cp).toHaveReceivedCommandWith(PutApprovalResultCommand, { result: { status: 'Rejected', summary: 'Rejected with the ddk-pipelines CLI' } });
  });

  test('no approval waiting: exit 1 and nothing answered', async () => {
    cp.on(GetPipelineStateCommand).resolves(waitingForApproval());
    const r = await runCli(['approve', '--stage', 'development']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: no approval is waiting in stage "development" of myapp (stage state: Succeeded)');
    expect(cp).not.toHaveReceivedCommand(PutApprovalResultCommand);
  });

  test('an unknown stage names the stages there are, with a suggestion', async () => {
    cp.on(GetPipelineStateCommand).resolves(waitingForApproval());
    const r = await runCli(['approve', '--stage', 'prodution']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pipeline "myapp" has no stage "prodution" (did you mean "production"?); its stages are "Source", "Build", "development", "production". Fix: correct --stage, or');
  });

  test('two approvals waiting: --action picks one', async () => {
    const state = waitingForApproval();
    state.stageStates![3].actionStates!.push({ actionName: 'SecurityReview', latestExecution: { status: 'InProgress', token: 'tok-sec' } });
    cp.on(GetPipelineStateCommand).resolves(state);
    cp.on(PutApprovalResultCommand).resolves({});
    const ambiguous = await runCli(['approve', '--stage', 'production']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('2 approvals wait in stage "production": Approve, SecurityReview. Fix: pass --action <name>');
    const r = await runCli(['approve', '--stage', 'production', '--action', 'SecurityReview']);
    expect(r.code).toBe(0);
    expect(cp).toHaveReceivedCommandWith(PutApprovalResultCommand, { actionName: 'SecurityReview', token: 'tok-sec' });
  });
});

describe('Gitflow: one pipeline per stage', () => {
  // GIVEN the example ddk.json with the codepipeline-gitflow strategy
  const dir = mkdtempSync(join(tmpdir(), 'ddk-gitflow-cli-'));
  const doc = JSON.parse(readFileSync(join(ROOT, 'ddk.json'), 'utf-8'));
  doc.pipeline.strategy = 'codepipeline-gitflow';
  writeFileSync(join(dir, 'ddk.json'), JSON.stringify(doc));

  test('--stage picks the pipeline <name>-<stage>', async () => {
    cp.on(GetPipelineStateCommand).resolves({ ...waitingForApproval(), pipelineName: 'myapp-production' });
    cp.on(PutApprovalResultCommand).resolves({});
    const r = await runCli(['approve', '--stage', 'production'], { cwd: dir });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(cp).toHaveReceivedCommandWith(GetPipelineStateCommand, { name: 'myapp-production' });
    expect(cp).toHaveReceivedCommandWith(PutApprovalResultCommand, { pipelineName: 'myapp-production', stageName: 'production' });
  });

  test('status of a Gitflow pipeline reads its checks under the plan\'s name, with the stage\'s required contexts', async () => {
    const server = await startServer(() => [200, { checks: [{ context: 'ci/integration', state: 'failure' }], history: [] }]);
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey });
    try {
      cp.on(GetPipelineStateCommand).resolves({
        pipelineName: 'myapp-production',
        stageStates: [{
          stageName: 'production',
          latestExecution: { pipelineExecutionId: 'e-9', status: 'InProgress' },
          actionStates: [{ actionName: 'StatusChecks', latestExecution: { status: 'InProgress', summary: 'waiting' } }],
        }],
      });
      cp.on(GetPipelineCommand).resolves({ pipeline: { name: 'myapp-production', roleArn: 'r', stages: [{ name: 'production', actions: [{ name: 'StatusChecks', actionTypeId: { category: 'Invoke', owner: 'AWS', provider: 'Lambda', version: '1' } }] }] } });
      cp.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: { pipelineExecutionId: 'e-9', artifactRevisions: [{ revisionId: 'abc123' }] } });
      const r = await runCli(['status', '--pipeline', 'myapp-production', '--endpoint', server.url, '--json'], { cwd: dir });
      expect(r.code).toBe(0);
      expect(server.requests[0].url).toBe('/checks?pipeline=myapp&revision=abc123');
      expect(JSON.parse(r.stdout).stages[0].checks).toEqual([{ context: 'ci/integration', state: 'failure', required: true }]);
    } finally {
      process.env = saved;
      await server.close();
    }
  });

  test('without --stage or --pipeline, the error names the pipelines; an unknown --stage the stages', async () => {
    const status = await runCli(['status'], { cwd: dir });
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('uses codepipeline-gitflow: one pipeline per stage ("myapp-development", "myapp-production"). Fix: pass --pipeline <one of them>');
    const typo = await runCli(['rollback', '--stage', 'prodution'], { cwd: dir });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('--stage: ');
    expect(typo.stderr).toContain('has no stage "prodution" (did you mean "production"?); its stages are "development", "production"');
    expect(cp.calls()).toHaveLength(0);
  });
});

describe('rollback', () => {
  const failedProduction = (): GetPipelineStateOutput => ({
    stageStates: [{ stageName: 'production', latestExecution: { pipelineExecutionId: 'e-5', status: 'Failed' } }],
  });

  test('default target: the newest execution that succeeded in the stage (ListPipelineExecutions filter)', async () => {
    cp.on(GetPipelineStateCommand).resolves(failedProduction());
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'e-4', status: 'Succeeded' }, { pipelineExecutionId: 'e-2', status: 'Succeeded' }] });
    cp.on(RollbackStageCommand).resolves({ pipelineExecutionId: 'rb-1' });
    const r = await runCli(['rollback', '--stage', 'production']);
    expect(r).toMatchObject({ code: 0, stdout: 'rolling back myapp/production to execution e-4 (from e-5): rollback execution rb-1 started\n' });
    expect(cp).toHaveReceivedCommandWith(ListPipelineExecutionsCommand, { pipelineName: 'myapp', filter: { succeededInStage: { stageName: 'production' } } });
    expect(cp).toHaveReceivedCommandWith(RollbackStageCommand, { pipelineName: 'myapp', stageName: 'production', targetPipelineExecutionId: 'e-4' });
  });

  test('the execution the stage holds now is never the target; later pages are read', async () => {
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'production', latestExecution: { pipelineExecutionId: 'e-4', status: 'Succeeded' } }] });
    cp.on(ListPipelineExecutionsCommand)
      .resolvesOnce({ nextToken: 'p2', pipelineExecutionSummaries: [{ pipelineExecutionId: 'e-4', status: 'Succeeded' }] })
      .resolvesOnce({ pipelineExecutionSummaries: [{ pipelineExecutionId: 'e-1', status: 'Succeeded' }] });
    cp.on(RollbackStageCommand).resolves({ pipelineExecutionId: 'rb-2' });
    const r = await runCli(['rollback', '--stage', 'production', '--json']);
    expect(JSON.parse(r.stdout)).toEqual({ pipeline: 'myapp', stage: 'production', from: 'e-4', to: 'e-1', rollbackExecution: 'rb-2' });
  });

  test('--to names the target; no earlier success is an error', async () => {
    cp.on(GetPipelineStateCommand).resolves(failedProduction());
    cp.on(RollbackStageCommand).resolves({ pipelineExecutionId: 'rb-3' });
    const to = await runCli(['rollback', '--stage', 'production', '--to', 'e-2']);
    expect(to.code).toBe(0);
    expect(cp).not.toHaveReceivedCommand(ListPipelineExecutionsCommand);
    expect(cp).toHaveReceivedCommandWith(RollbackStageCommand, { targetPipelineExecutionId: 'e-2' });

    cp.reset();
    cp.on(GetPipelineStateCommand).resolves(failedProduction());
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: [] });
    const none = await runCli(['rollback', '--stage', 'production']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('stage "production" of myapp has no earlier successful standard (non-rollback) execution to roll back to. Fix: pass --to <execution>');
    expect(cp).not.toHaveReceivedCommand(RollbackStageCommand);
  });

  // GIVEN the history "automatic rollback, then a good run", newest first as ListPipelineExecutions
  // lists it with the succeededInStage filter: e-4 (a good run, held by the stage now), rb-3 (the
  // automatic rollback after e-2 failed, which restored e-1), e-1. CodePipeline refuses a
  // ROLLBACK execution as targetPipelineExecutionId, so the target is e-1, not rb-3.
  const autoRollbackThenGoodRun = [
    { pipelineExecutionId: 'e-4', status: 'Succeeded' as const, executionType: 'STANDARD' as const },
    { pipelineExecutionId: 'rb-3', status: 'Succeeded' as const, executionType: 'ROLLBACK' as const, rollbackMetadata: { rollbackTargetPipelineExecutionId: 'e-1' } },
    { pipelineExecutionId: 'e-1', status: 'Succeeded' as const, executionType: 'STANDARD' as const },
  ];

  test('default target: a rollback execution is never the target (only STANDARD executions are)', async () => {
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'production', latestExecution: { pipelineExecutionId: 'e-4', status: 'Succeeded', type: 'STANDARD' } }] });
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: autoRollbackThenGoodRun });
    cp.on(RollbackStageCommand).resolves({ pipelineExecutionId: 'rb-5' });
    const r = await runCli(['rollback', '--stage', 'production', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ pipeline: 'myapp', stage: 'production', from: 'e-4', to: 'e-1', rollbackExecution: 'rb-5' });
    expect(cp).toHaveReceivedCommandTimes(RollbackStageCommand, 1);
    expect(cp).toHaveReceivedCommandWith(RollbackStageCommand, { targetPipelineExecutionId: 'e-1' });
  });

  test('default target: only rollback executions besides the current one is "no earlier execution"', async () => {
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'production', latestExecution: { pipelineExecutionId: 'e-4', status: 'Succeeded' } }] });
    cp.on(ListPipelineExecutionsCommand).resolves({ pipelineExecutionSummaries: autoRollbackThenGoodRun.slice(0, 2) });
    const r = await runCli(['rollback', '--stage', 'production']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has no earlier successful standard (non-rollback) execution to roll back to');
    expect(cp).not.toHaveReceivedCommand(RollbackStageCommand);
  });

  test('--to a rollback execution is refused before RollbackStage, naming the execution it restored', async () => {
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'production', latestExecution: { pipelineExecutionId: 'e-4', status: 'Succeeded' } }] });
    cp.on(GetPipelineExecutionCommand, { pipelineName: 'myapp', pipelineExecutionId: 'rb-3' }).resolves({
      pipelineExecution: { pipelineExecutionId: 'rb-3', status: 'Succeeded', executionType: 'ROLLBACK', rollbackMetadata: { rollbackTargetPipelineExecutionId: 'e-1' } },
    });
    cp.on(GetPipelineExecutionCommand, { pipelineName: 'myapp', pipelineExecutionId: 'e-1' }).resolves({
      pipelineExecution: { pipelineExecutionId: 'e-1', status: 'Succeeded', executionType: 'STANDARD' },
    });
    cp.on(RollbackStageCommand).resolves({ pipelineExecutionId: 'rb-6' });
    const refused = await runCli(['rollback', '--stage', 'production', '--to', 'rb-3']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('error: --to: execution rb-3 is a rollback execution (type ROLLBACK); CodePipeline rolls back only to STANDARD executions. '
      + 'Fix: pass --to e-1 (the execution it restored), or leave out --to for the last successful one (see `ddk-pipelines executions`)\n');
    expect(cp).not.toHaveReceivedCommand(RollbackStageCommand);

    const ok = await runCli(['rollback', '--stage', 'production', '--to', 'e-1']);
    expect(ok.code).toBe(0);
    expect(cp).toHaveReceivedCommandWith(RollbackStageCommand, { targetPipelineExecutionId: 'e-1' });
  });

  test('an AWS error is one line, no stack trace', async () => {
    cp.on(GetPipelineStateCommand).resolves(failedProduction());
    const err = Object.assign(new Error('Stage production is not eligible for rollback'), { name: 'UnableToRollbackStageException' });
    cp.on(RollbackStageCommand).rejects(err);
    const r = await runCli(['rollback', '--stage', 'production', '--to', 'e-1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: rolling back production: UnableToRollbackStageException: Stage production is not eligible for rollback\n');
  });
});
