import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CfnElement } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import {
  APPROVAL_ACTION, ASSERTION_STACK_NAME, GATE_ACTION, GATED_STAGE, gatedPipelineIntegApp, GatedPipelineInteg,
  integEnvironment, OFFLINE_ENVIRONMENT, PIPELINE_NAME, REQUIRED_CHECK, RETAINED_ON_PURPOSE,
} from './gated-pipeline';
import { handler as reporter } from './reporter';
import { CodePipelineDelivery } from '../../lib';
import { FAKE_CREDENTIALS, startServer, TestServer, verifySigV4 } from '../cli/helpers';
import { CDK_CONTEXT } from '../helpers';

/*
 * What CI can run of the deployment test (integ.gated-pipeline.ts) without an AWS account: the
 * integ app synthesizes with the project's context (cdk.json: feature flags, CloudFormation
 * validation as errors), its templates and integ manifest match the committed snapshot (asset
 * hashes stripped), and the properties the deployment relies on hold: the assertions read the gate
 * where the pipeline has it, run in the order of the scenario, the reporter may only report, and
 * teardown leaves only what RETAINED_ON_PURPOSE names.
 *
 * When a change to the library changes what the test deploys, the snapshot fails: review the diff,
 * update it with `npx jest test/integ/gated-pipeline.test.ts -u`, and run the deployment test on
 * an account (README: "Verify on your own account").
 */

let outdir: string;
let integ: GatedPipelineInteg;
let templates: { [stackName: string]: any };
let manifest: any;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'integ-gated-pipeline-'));
  integ = gatedPipelineIntegApp(OFFLINE_ENVIRONMENT, { context: CDK_CONTEXT, outdir });
  const assembly = integ.app.synth();
  templates = Object.fromEntries(assembly.stacks.map(s => [s.stackName, s.template]));
  manifest = JSON.parse(readFileSync(join(outdir, 'integ.json'), 'utf-8'));
}, 240_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('the integ app synthesized offline', () => {
  test('integ manifest: one test case, the CICD stack under test, its own assertion stack, no update workflow', () => {
    expect(manifest.testCases).toEqual({
      'GatedPipeline/DefaultTest': {
        stacks: [`${PIPELINE_NAME}-pipeline`],
        assertionStack: ASSERTION_STACK_NAME,
        assertionStackName: ASSERTION_STACK_NAME,
        stackUpdateWorkflow: false,
        diffAssets: false,
      },
    });
    expect(normalize(manifest)).toMatchSnapshot('integ.json');
  });

  test('templates match the snapshot (asset hashes and integ-tests salts stripped)', () => {
    const deployed = [...manifest.testCases['GatedPipeline/DefaultTest'].stacks, ASSERTION_STACK_NAME];
    expect(Object.keys(templates).sort()).toEqual([...deployed].sort());
    for (const name of deployed) expect(normalize(templates[name])).toMatchSnapshot(`${name}.template.json`);
  });

  test('the assertions read the gate and the approval where the pipeline has them', () => {
    // GIVEN the positions the assertions use in GetPipelineState's stageStates / actionStates
    const { stage, gate, approval } = integ.positions;
    // THEN they are the gated stage's Lambda gate and its manual approval, in the rendered pipeline
    const stages = resourcesOf(templates[`${PIPELINE_NAME}-pipeline`], 'AWS::CodePipeline::Pipeline')[0].Properties.Stages;
    expect(stages[stage].Name).toBe(GATED_STAGE);
    expect(stages[stage].Actions[gate]).toMatchObject({ Name: GATE_ACTION, ActionTypeId: { Category: 'Invoke', Provider: 'Lambda' } });
    expect(stages[stage].Actions[approval]).toMatchObject({ Name: APPROVAL_ACTION, ActionTypeId: { Category: 'Approval', Provider: 'Manual' } });
    // and the gate requires exactly the check the assertions report
    expect(JSON.parse(stages[stage].Actions[gate].Configuration.UserParameters)).toMatchObject({ stage: GATED_STAGE });
    expect(integ.plan.stages.map(s => [s.name, s.requiredChecks])).toEqual([[GATED_STAGE, [REQUIRED_CHECK]]]);
  });

  test('the assertions run in the order of the scenario: failure → gate fails → success → retry → gate passes → approval waits', () => {
    const t = templates[ASSERTION_STACK_NAME];
    const calls = chain(t);
    const at = `stageStates.${integ.positions.stage}`;
    const gate = `${at}.actionStates.${integ.positions.gate}.latestExecution`;
    expect(calls.map(describeCall)).toEqual([
      'CodeCommit.getBranch',
      'Lambda.invoke state=failure',
      'CodePipeline.startPipelineExecution',
      `CodePipeline.getPipelineState wait ${at}.latestExecution.pipelineExecutionId`,
      `CodePipeline.getPipelineState wait ${at}.latestExecution.status`,
      `CodePipeline.getPipelineState ${gate}.errorDetails.message`,
      'Lambda.invoke state=success',
      'CodePipeline.retryStageExecution',
      `CodePipeline.getPipelineState wait ${gate}.summary`,
      `CodePipeline.getPipelineState wait ${at}.actionStates.${integ.positions.approval}.latestExecution.status`,
    ]);
    // the stage's execution is the one the test started, and the retry is of that execution
    const startId = logicalIdOf(t, r => r.Properties.api === 'startPipelineExecution');
    const expectsExecution = JSON.stringify(calls[3].Properties.expected);
    expect(expectsExecution).toContain(startId);
    expect(JSON.stringify(calls[7].Properties.parameters.pipelineExecutionId)).toContain(startId);
    expect(calls[7].Properties.parameters.retryMode).toBe('"FAILED_ACTIONS"');
  });

  test('the reporter may invoke POST /checks of the API and nothing else', () => {
    const t = templates[ASSERTION_STACK_NAME];
    const fn = resourcesOf(t, 'AWS::Lambda::Function').find(r => JSON.stringify(r.Properties.Environment ?? {}).includes('DDK_PIPELINES_API'));
    expect(fn).toBeDefined();
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const policies = resourcesOf(t, 'AWS::IAM::Policy').filter(p => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]));
    const statements = policies.flatMap(p => p.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toBe('execute-api:Invoke');
    expect(JSON.stringify(statements[0].Resource)).toMatch(/\/POST\/checks"\]\]\}$/);
    expect(resourcesOf(t, 'AWS::IAM::Role').find(r => r === t.Resources[roleId])!.Properties.ManagedPolicyArns)
      .toEqual([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']] }]);
  });

  test('teardown: only what RETAINED_ON_PURPOSE names outlives the stacks; buckets are emptied before deletion', () => {
    const cicd = templates[`${PIPELINE_NAME}-pipeline`];
    const statusChecks = (integ.stack.delivery as CodePipelineDelivery).statusChecks!;
    const at = (scope: IConstruct, path: string) => path.split('/').reduce((c, id) => c.node.findChild(id), scope);
    const kept = Object.keys(RETAINED_ON_PURPOSE).map(path => integ.stack.getLogicalId(at(statusChecks, path) as CfnElement));
    const retained = (t: any) => Object.entries<any>(t.Resources)
      .filter(([, r]) => r.DeletionPolicy !== undefined && r.DeletionPolicy !== 'Delete')
      .map(([id]) => id).sort();
    expect(retained(cicd)).toEqual([...kept].sort());
    expect(retained(templates[ASSERTION_STACK_NAME])).toEqual([]);
    // every bucket: deleted, after aws-cdk-lib's auto-delete custom resource has emptied it
    const buckets = Object.entries<any>(cicd.Resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThan(0);
    for (const [id, bucket] of buckets) {
      expect(bucket.DeletionPolicy).toBe('Delete');
      expect(resourcesOf(cicd, 'Custom::S3AutoDeleteObjects').filter(r => r.Properties.BucketName.Ref === id)).toHaveLength(1);
    }
  });
});

describe('integEnvironment', () => {
  test('integ-runner\'s CDK_INTEG_* first, then the CLI\'s CDK_DEFAULT_*', () => {
    expect(integEnvironment({ CDK_INTEG_ACCOUNT: '111122223333', CDK_INTEG_REGION: 'us-east-2', CDK_DEFAULT_ACCOUNT: '444455556666', CDK_DEFAULT_REGION: 'eu-central-1' }))
      .toEqual({ account: '111122223333', region: 'us-east-2' });
    expect(integEnvironment({ CDK_DEFAULT_ACCOUNT: '444455556666', CDK_DEFAULT_REGION: 'eu-central-1' }))
      .toEqual({ account: '444455556666', region: 'eu-central-1' });
  });

  test('integ-runner\'s snapshot placeholders (12345678, test-region) are not an environment: offline values', () => {
    expect(integEnvironment({ CDK_INTEG_ACCOUNT: '12345678', CDK_INTEG_REGION: 'test-region' })).toEqual(OFFLINE_ENVIRONMENT);
    expect(integEnvironment({ CDK_INTEG_ACCOUNT: '12345678', CDK_INTEG_REGION: 'test-region', CDK_DEFAULT_ACCOUNT: '444455556666', CDK_DEFAULT_REGION: 'ap-southeast-2' }))
      .toEqual({ account: '444455556666', region: 'ap-southeast-2' });
    expect(integEnvironment({})).toEqual(OFFLINE_ENVIRONMENT);
  });
});

describe('the reporter function', () => {
  const event = { pipeline: PIPELINE_NAME, revision: 'a'.repeat(40), context: REQUIRED_CHECK, state: 'failure' as const, clientRequestId: 'integ-failure' };
  const saved = { ...process.env };
  let server: TestServer;
  let status: number;
  let answer: unknown;

  beforeAll(async () => {
    server = await startServer(() => [status, answer]);
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    Object.assign(process.env, {
      DDK_PIPELINES_API: `${server.url}/prod/`,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  });
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  test('posts the event to /checks, signed for execute-api in the function\'s region, and returns the API\'s answer', async () => {
    status = 201;
    answer = { check: { ...event, sequence: 1, reportedBy: 'arn:aws:sts::123456789012:assumed-role/r/f' }, replayed: false };
    await expect(reporter(event)).resolves.toEqual({ ok: true, answer });
    expect(server.requests).toHaveLength(1);
    const [req] = server.requests;
    expect([req.method, req.url]).toEqual(['POST', '/prod/checks']);
    expect(JSON.parse(req.body)).toEqual(event);
    expect(verifySigV4(req, FAKE_CREDENTIALS.secretAccessKey)).toMatchObject({ service: 'execute-api', region: 'eu-west-1', accessKeyId: FAKE_CREDENTIALS.accessKeyId });
  });

  test('an answer other than 2xx is returned as ok: false with the status and the API\'s message', async () => {
    status = 403;
    answer = { message: 'User is not authorized to access this resource' };
    const result = await reporter(event);
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.message).toMatch(/POST \/checks answered 403 .*User is not authorized.*execute-api:Invoke/);
  });

  test('without the endpoint variable it says which variable is missing', async () => {
    delete process.env.DDK_PIPELINES_API;
    const result = await reporter(event);
    expect(result.ok === false && result.message).toMatch(/DDK_PIPELINES_API/);
    expect(server.requests).toHaveLength(0);
  });
});

/** Resources of one type, in template order. */
function resourcesOf(template: any, type: string): any[] {
  return Object.values<any>(template.Resources).filter(r => r.Type === type);
}

function logicalIdOf(template: any, predicate: (r: any) => boolean): string {
  const ids = Object.entries<any>(template.Resources).filter(([, r]) => r.Type.startsWith('Custom::DeployAssert@') && predicate(r)).map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one matching assertion resource, found ${ids.join(', ') || 'none'}`);
  return ids[0];
}

/**
 * The integ-tests API calls of the assertion stack in dependency order: each one's DependsOn
 * names exactly one other call, the one before it.
 */
function chain(template: any): any[] {
  const calls = Object.entries<any>(template.Resources).filter(([, r]) => r.Type.startsWith('Custom::DeployAssert@'));
  const ids = new Set(calls.map(([id]) => id));
  const previous = new Map(calls.map(([id, r]) => {
    const before = (r.DependsOn ?? []).filter((d: string) => ids.has(d));
    if (before.length > 1) throw new Error(`${id} depends on ${before.length} calls: ${before.join(', ')}`);
    return [id, before[0] as string | undefined];
  }));
  const firsts = calls.filter(([id]) => previous.get(id) === undefined).map(([id]) => id);
  if (firsts.length !== 1) throw new Error(`expected one first call, found ${firsts.join(', ')}`);
  const ordered = [firsts[0]];
  for (;;) {
    const next = calls.filter(([id]) => previous.get(id) === ordered[ordered.length - 1]).map(([id]) => id);
    if (next.length === 0) break;
    if (next.length > 1) throw new Error(`${ordered[ordered.length - 1]} is followed by ${next.join(', ')}`);
    ordered.push(next[0]);
  }
  if (ordered.length !== calls.length) throw new Error(`the chain holds ${ordered.length} of ${calls.length} calls`);
  return ordered.map(id => template.Resources[id]);
}

function describeCall(r: any): string {
  const p = r.Properties;
  const state = p.api === 'invoke' ? ` state=${/\\"state\\":\\"(\w+)\\"/.exec(JSON.stringify(p.parameters.Payload))?.[1]}` : '';
  const path = p.actualPath ? ` ${p.stateMachineArn ? 'wait ' : ''}${p.actualPath}` : '';
  return `${p.service}.${p.api}${state}${path}`;
}

/**
 * A synthesized document without what changes from one synthesis to the next while the
 * deployment stays the same: asset hashes (64 hex digits, in S3 keys and asset names) and the
 * `salt` (a timestamp) integ-tests puts into every assertion resource to re-run it.
 */
function normalize(doc: unknown): unknown {
  return JSON.parse(JSON.stringify(doc, (key, value) => (key === 'salt' ? undefined : value)).replace(/[0-9a-f]{64}/g, '<asset-hash>'));
}
