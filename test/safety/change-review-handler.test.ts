import { CloudFormationClient, DescribeTypeCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { strToU8, zipSync, Zippable } from 'fflate';
import { appStack, appStackChanged, queueStack, SCHEMAS, tableStack } from './fixtures/change-review';
import type * as Handler from '../../lambda/change-review';
import { OUTPUT_VARIABLES_BYTES } from '../../lib/safety/change-review';
import { encodeSafetyStages } from '../../lib/safety/settings';
import {
  CHANGE_REVIEW_VARIABLES, ChangeReport, REPORT_BUCKET_VARIABLE, SAFETY_LIMITS, SAFETY_STAGES_VARIABLE, SafetyStages,
} from '../../lib/safety/shared';
import { CODEPIPELINE_TEXT_LIMITS } from '../../lib/status-checks/gate';
import { setEnvironment } from '../status-checks/local';
import { localRegions } from './fixtures/zip';

/*
 * The change review handler as CodePipeline runs it: a job event in (UserParameters, the synth
 * artifact in S3), STS, CloudFormation and S3 through aws-sdk-client-mock, PutJobSuccessResult
 * with the output variables or PutJobFailureResult out. The artifact is a real zip (fflate), served
 * by byte ranges as S3 serves `Range: bytes=start-end` (both ends inclusive).
 */

const s3 = mockClient(S3Client);
const sts = mockClient(STSClient);
const cfn = mockClient(CloudFormationClient);
const codePipeline = mockClient(CodePipelineClient);

const DEV_ROLE = 'arn:aws:iam::111111111111:role/cdk-hnb659fds-lookup-role-111111111111-eu-west-1';
const PROD_ROLE = 'arn:aws:iam::222222222222:role/cdk-hnb659fds-lookup-role-222222222222-us-east-1';
const STAGES: SafetyStages = {
  prod: {
    targets: [
      { id: 'dev', account: '111111111111', region: 'eu-west-1', lookupRoleArn: DEV_ROLE, assembly: 'assembly-dev' },
      { id: 'prod', account: '222222222222', region: 'us-east-1', lookupRoleArn: PROD_ROLE, assembly: 'cdk.out/assembly-prod' },
    ],
  },
};
const JOB_ID = '11111111-2222-3333-4444-555555555555';
const EXECUTION = 'a1b2c3d4-0000-1111-2222-333344445555';

function manifest(env: string, stacks: Record<string, string>): Uint8Array {
  return strToU8(JSON.stringify({
    version: '48.0.0',
    artifacts: Object.fromEntries(Object.entries(stacks).map(([name, file]) => [name, {
      type: 'aws:cloudformation:stack', environment: env, properties: { templateFile: file, stackName: name },
    }])),
  }));
}

/** The synth artifact's files as CodeBuild zips cdk.out (base-directory cdk.out). */
function zipContents(): Zippable {
  return {
    'manifest.json': strToU8('{"version":"48.0.0","artifacts":{}}'),
    'assembly-dev/manifest.json': manifest('aws://111111111111/eu-west-1', { 'dev-App': 'devApp.template.json', 'dev-Queue': 'devQueue.template.json' }),
    'assembly-dev/devApp.template.json': strToU8(JSON.stringify(appStackChanged())),
    'assembly-dev/devQueue.template.json': strToU8(JSON.stringify(queueStack())),
    'assembly-prod/manifest.json': manifest('aws://222222222222/us-east-1', { 'prod-Table': 'prodTable.template.json' }),
    'assembly-prod/prodTable.template.json': strToU8(JSON.stringify(tableStack())),
  };
}

function artifact(): Uint8Array {
  return zipSync(zipContents());
}

const ETAG = '"3858f62230ac3c915f300c664312c11f-2"';

/** The artifact `zip` in S3: HeadObject and ranged GetObject as S3 answers them (206, Content-Range). */
function serve(zip: Uint8Array): void {
  s3.on(HeadObjectCommand).resolves({ ContentLength: zip.length, ETag: ETAG, AcceptRanges: 'bytes' });
  s3.on(GetObjectCommand).callsFake(async (input) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(String(input.Range));
    if (!m || input.IfMatch !== ETAG) throw new Error(`expected a ranged GetObject with IfMatch, got ${JSON.stringify(input)}`);
    const [start, end] = [Number(m[1]), Math.min(Number(m[2]), zip.length - 1)];
    const body = zip.slice(start, end + 1);
    return { Body: { transformToByteArray: async () => body } as any, ContentLength: body.length, ContentRange: `bytes ${start}-${end}/${zip.length}` };
  });
}


function jobEvent(userParameters: unknown = { pipeline: 'myapp', stage: 'prod', executionId: EXECUTION }, inputArtifacts?: unknown[]): unknown {
  return {
    'CodePipeline.job': {
      id: JOB_ID,
      accountId: '999999999999',
      data: {
        actionConfiguration: { configuration: { FunctionName: 'myapp-change-review', UserParameters: typeof userParameters === 'string' ? userParameters : JSON.stringify(userParameters) } },
        inputArtifacts: inputArtifacts ?? [{
          name: 'Synth_Output',
          revision: null,
          location: { type: 'S3', s3Location: { bucketName: 'myapp-artifacts', objectKey: 'myapp/Synth_Outp/AbCdEf1' } },
        }],
        outputArtifacts: [],
        artifactCredentials: { accessKeyId: 'AKIA-artifact', secretAccessKey: 'secret', sessionToken: 'token' },
        encryptionKey: { id: 'arn:aws:kms:eu-west-1:999999999999:key/k', type: 'KMS' },
      },
    },
  };
}

let handler: typeof Handler.handler;
let runChangeReviewJob: typeof Handler.runChangeReviewJob;
let environmentDependencies: typeof Handler.environmentDependencies;
let restore: () => void;

beforeAll(() => {
  restore = setEnvironment({
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    // as DeploymentSafety writes it at its largest: compressed, the lookup roles left to the reader to derive
    [SAFETY_STAGES_VARIABLE]: encodeSafetyStages(JSON.parse(JSON.stringify(STAGES, (k, v) => k === 'lookupRoleArn' ? undefined : v)), 0),
    [REPORT_BUCKET_VARIABLE]: 'myapp-artifacts',
  });
  ({ handler, runChangeReviewJob, environmentDependencies } = require('../../lambda/change-review') as typeof Handler); // eslint-disable-line @typescript-eslint/no-require-imports
});

afterAll(() => restore());

function missing(stack: string): Error {
  return Object.assign(new Error(`Stack with id ${stack} does not exist`), { name: 'ValidationError' });
}

beforeEach(() => {
  for (const m of [s3, sts, cfn, codePipeline]) m.reset();
  serve(artifact());
  s3.on(PutObjectCommand).resolves({});
  sts.on(AssumeRoleCommand).callsFake(async (input) => ({
    Credentials: { AccessKeyId: `AKIA-${input.RoleArn.split(':')[4]}`, SecretAccessKey: 's', SessionToken: 't', Expiration: new Date() },
  }));
  cfn.on(GetTemplateCommand, { StackName: 'dev-App' }).resolves({ TemplateBody: JSON.stringify(appStack()) });
  cfn.on(GetTemplateCommand, { StackName: 'dev-Queue' }).resolves({ TemplateBody: JSON.stringify(queueStack()) });
  cfn.on(GetTemplateCommand, { StackName: 'prod-Table' }).rejects(missing('prod-Table'));
  cfn.on(DescribeTypeCommand).callsFake(async (input) => ({ Schema: SCHEMAS[input.TypeName] }));
  codePipeline.on(PutJobSuccessResultCommand).resolves({});
  codePipeline.on(PutJobFailureResultCommand).resolves({});
});

function failure(): { type: string; message: string } {
  expect(codePipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
  const calls = codePipeline.commandCalls(PutJobFailureResultCommand);
  expect(calls).toHaveLength(1);
  expect(calls[0].args[0].input.jobId).toBe(JOB_ID);
  return calls[0].args[0].input.failureDetails as { type: string; message: string };
}

test('reviews the stage: reads the artifact, assumes each lookup role, reads templates and schemas in the targets\' regions, writes the report, answers with the variables', async () => {
  await handler(jobEvent());

  // THEN the artifact is read with the function's own role, by ranges of the same object version:
  // its size, the tail (the whole of this small zip), then each needed manifest and template
  const zip = artifact();
  const object = { Bucket: 'myapp-artifacts', Key: 'myapp/Synth_Outp/AbCdEf1' };
  expect(s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input)).toEqual([object]);
  const regions = localRegions(zip);
  expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
    `bytes=0-${zip.length - 1}`,
    ...['assembly-dev/manifest.json', 'assembly-prod/manifest.json', 'assembly-dev/devApp.template.json', 'assembly-dev/devQueue.template.json', 'assembly-prod/prodTable.template.json']
      .map((n) => `bytes=${regions.get(n)!.join('-')}`),
  ].map((Range) => ({ ...object, Range, IfMatch: ETAG })));
  // AND each target's lookup role is assumed once, the session naming pipeline and stage
  expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
    { RoleArn: DEV_ROLE, RoleSessionName: 'ddk-review-myapp-prod', DurationSeconds: 900 },
    { RoleArn: PROD_ROLE, RoleSessionName: 'ddk-review-myapp-prod', DurationSeconds: 900 },
  ]);
  // AND CloudFormation is called in each target's region with that target's credentials
  const calls = await Promise.all(cfn.calls().map(async (c) => {
    const config = (c.thisValue as CloudFormationClient).config;
    const input = c.args[0].input as Record<string, unknown>;
    return `${c.args[0].constructor.name} ${String(input.StackName ?? input.TypeName)} ${String(input.TemplateStage ?? input.Type)} ${await config.region()} ${(await config.credentials()).accessKeyId}`;
  }));
  expect(calls).toEqual([
    'GetTemplateCommand dev-App Original eu-west-1 AKIA-111111111111',
    'DescribeTypeCommand AWS::EC2::SecurityGroup RESOURCE eu-west-1 AKIA-111111111111',
    'DescribeTypeCommand AWS::IAM::Policy RESOURCE eu-west-1 AKIA-111111111111',
    'DescribeTypeCommand AWS::Lambda::Function RESOURCE eu-west-1 AKIA-111111111111',
    'DescribeTypeCommand AWS::S3::Bucket RESOURCE eu-west-1 AKIA-111111111111',
    'GetTemplateCommand dev-Queue Original eu-west-1 AKIA-111111111111',
    'GetTemplateCommand prod-Table Original us-east-1 AKIA-222222222222',
  ]);

  // AND the report is written at reportKey(), with the bucket's default encryption (no key id)
  const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
  expect(puts).toHaveLength(1);
  const key = `ddk-change-reviews/myapp/${EXECUTION}/prod.json`;
  expect(puts[0]).toEqual({ Bucket: 'myapp-artifacts', Key: key, Body: expect.any(String), ContentType: 'application/json' });
  const report = JSON.parse(puts[0].Body as string) as ChangeReport;
  expect(report.stacks.map((s) => `${s.target} ${s.stackName} ${s.status}`)).toEqual(['dev dev-App changed', 'dev dev-Queue unchanged', 'prod prod-Table new']);
  expect(report.summary).toBe(
    'dev: 3 modified, 1 replaced in 1 of 2 stacks; prod: 1 added in 1 of 1 stack (1 new). REPLACES: dev DataBucketE3889A50. '
    + 'IAM: dev HandlerServiceRoleDefaultPolicyCBD0CC91. Security groups: dev ServiceSecurityGroup5C5A7F2D',
  );

  // AND the job succeeds with Summary, ReportUrl (console, CICD region) and ReportUri
  expect(codePipeline.commandCalls(PutJobFailureResultCommand)).toHaveLength(0);
  const success = codePipeline.commandCalls(PutJobSuccessResultCommand).map((c) => c.args[0].input);
  expect(success).toEqual([{
    jobId: JOB_ID,
    executionDetails: { summary: report.summary, percentComplete: 100 },
    outputVariables: {
      [CHANGE_REVIEW_VARIABLES.summary]: report.summary,
      [CHANGE_REVIEW_VARIABLES.reportUrl]: `https://eu-west-1.console.aws.amazon.com/s3/object/myapp-artifacts?region=eu-west-1&bucketType=general&prefix=${encodeURIComponent(key)}`,
      [CHANGE_REVIEW_VARIABLES.reportUri]: `s3://myapp-artifacts/${key}`,
    },
  }]);
});

test('output variables stay within CodePipeline\'s limits at the longest names (the link fits an approval\'s 1,000-character configuration value)', async () => {
  // GIVEN a 100-character pipeline and stage name (CodePipeline's maxima)
  const long = 'p'.repeat(100);
  const stage = 's'.repeat(100);
  const deps = environmentDependencies({ ...process.env, [SAFETY_STAGES_VARIABLE]: JSON.stringify({ [stage]: STAGES.prod }) });
  await runChangeReviewJob(jobEvent({ pipeline: long, stage, executionId: EXECUTION }), deps);
  const vars = codePipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input.outputVariables!;
  expect(vars.Summary.length).toBeLessThanOrEqual(SAFETY_LIMITS.summaryLength);
  expect(vars.ReportUrl.length).toBeLessThanOrEqual(1000);
  const bytes = Object.entries(vars).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  expect(bytes).toBeLessThanOrEqual(OUTPUT_VARIABLES_BYTES);
  const details = codePipeline.commandCalls(PutJobSuccessResultCommand)[0].args[0].input.executionDetails!;
  expect(details.summary!.length).toBeLessThanOrEqual(CODEPIPELINE_TEXT_LIMITS.summary);
});

test('AccessDenied on AssumeRole fails the job: bootstrap the target with --trust the CICD account', async () => {
  sts.on(AssumeRoleCommand, { RoleArn: PROD_ROLE }).rejects(Object.assign(new Error(`User: arn:aws:sts::999999999999:assumed-role/review/fn is not authorized to perform: sts:AssumeRole on resource: ${PROD_ROLE}`), { name: 'AccessDenied' }));
  await handler(jobEvent());
  expect(failure()).toEqual({
    type: 'JobFailed',
    message: `Change review cannot assume the lookup role ${PROD_ROLE} of target prod (222222222222/us-east-1): AccessDenied: User: arn:aws:sts::999999999999:assumed-role/review/fn `
      + `is not authorized to perform: sts:AssumeRole on resource: ${PROD_ROLE}. Fix: bootstrap 222222222222/us-east-1 with --trust 999999999999 `
      + '(npx cdk bootstrap aws://222222222222/us-east-1 --trust 999999999999 --cloudformation-execution-policies <policy>), so that the CDK lookup role trusts the pipeline\'s account',
  });
  expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
});

test('throttling of GetTemplate (after the SDK\'s retries) fails the job: retry the stage', async () => {
  cfn.on(GetTemplateCommand, { StackName: 'dev-App' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { attempts: 5 } }));
  await handler(jobEvent());
  expect(failure().message).toBe(
    'Change review throttled reading target dev (111111111111/eu-west-1), stack dev-App: Throttling: Rate exceeded. Fix: retry the stage; if it persists, request a higher API quota in 111111111111/eu-west-1',
  );
});

test('an unreadable artifact fails the job: what, where, fix', async () => {
  const fix = 'Fix: the function needs s3:GetObject on the artifact bucket and kms:Decrypt on its key (the ChangeReview construct grants both); retry the stage';
  // HeadObject denied (S3 authorizes HEAD with s3:GetObject; a HEAD error has no body, so the SDK names it by status)
  s3.on(HeadObjectCommand).rejects(Object.assign(new Error('UnknownError'), { name: '403' }));
  await handler(jobEvent());
  expect(failure().message).toBe(`Change review cannot read the synth artifact s3://myapp-artifacts/myapp/Synth_Outp/AbCdEf1: 403: UnknownError. ${fix}`);
  expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  // a ranged GetObject denied
  serve(artifact());
  s3.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
  codePipeline.resetHistory();
  await handler(jobEvent());
  const whole = `bytes 0-${artifact().length - 1}`;
  expect(failure().message).toBe(`Change review of stage prod cannot read the synth artifact: GetObject s3://myapp-artifacts/myapp/Synth_Outp/AbCdEf1 ${whole}: AccessDenied: Access Denied. ${fix}`);
  // the object replaced between reads: IfMatch fails with 412
  serve(artifact());
  s3.on(GetObjectCommand, { Range: `bytes=0-${artifact().length - 1}` }).rejects(Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed' }));
  codePipeline.resetHistory();
  await handler(jobEvent());
  expect(failure().message).toBe(`Change review of stage prod cannot read the synth artifact: GetObject s3://myapp-artifacts/myapp/Synth_Outp/AbCdEf1 ${whole}: PreconditionFailed: `
    + `At least one of the pre-conditions you specified did not hold. ${fix}`);
  // not a zip
  serve(strToU8('<html>not a zip, but longer than an end record</html>'));
  codePipeline.resetHistory();
  await handler(jobEvent());
  expect(failure().message).toMatch(/^Change review of stage prod cannot read the synth artifact: the artifact is not a readable zip/);
  // HeadObject without a ContentLength
  s3.on(HeadObjectCommand).resolves({ ETag: ETAG });
  codePipeline.resetHistory();
  await handler(jobEvent());
  expect(failure().message).toBe(`Change review cannot read the synth artifact s3://myapp-artifacts/myapp/Synth_Outp/AbCdEf1: Error: HeadObject returned no ContentLength. ${fix}`);
});

test('a large artifact: its assets\' bytes are never requested', async () => {
  // GIVEN 2 MB of assets and 2,000 asset files besides the assemblies
  const assets = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`asset.${i}/index.js`, strToU8(`exports.n = ${i};`)]));
  const big = new Uint8Array(2_000_000).map((_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 1e6) % 256);
  const zip = zipSync({ ...zipContents(), ...assets, 'asset.big/layer.tar': big });
  serve(zip);
  await handler(jobEvent());
  expect(codePipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(1);
  // THEN 1 HeadObject and 2 + 5 ranged GETs (tail, central directory, 2 manifests, 3 templates)
  expect(s3.commandCalls(HeadObjectCommand)).toHaveLength(1);
  const ranges = s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Range!);
  expect(ranges).toHaveLength(7);
  const requested = ranges.reduce((n, r) => { const [a, b] = r.slice(6).split('-').map(Number); return n + b - a + 1; }, 0);
  expect(requested).toBeLessThan(300_000);
  const regions = localRegions(zip);
  const wanted = new Set(Object.keys(zipContents()).filter((n) => n !== 'manifest.json'));
  for (const [name, [start, end]] of regions) {
    if (wanted.has(name)) continue;
    expect(ranges.filter((r) => { const [a, b] = r.slice(6).split('-').map(Number); return a <= end && start <= b; })).toEqual([]);
  }
});

test('a report that cannot be written fails the job', async () => {
  s3.on(PutObjectCommand).rejects(Object.assign(new Error('KMS denied'), { name: 'KMS.AccessDeniedException' }));
  await handler(jobEvent());
  expect(failure().message).toBe(`Change review cannot write its report to s3://myapp-artifacts/ddk-change-reviews/myapp/${EXECUTION}/prod.json: KMS.AccessDeniedException: KMS denied. `
    + 'Fix: the function needs s3:PutObject on the report prefix and kms:GenerateDataKey on the bucket\'s key (the ChangeReview construct grants both); retry the stage');
});

test('a deployed YAML template fails with the stack named', async () => {
  cfn.on(GetTemplateCommand, { StackName: 'dev-Queue' }).resolves({ TemplateBody: 'Resources:\n  Q:\n    Type: AWS::SQS::Queue\n' });
  await handler(jobEvent());
  expect(failure().message).toMatch(/^Change review cannot read the deployed template of stack dev-Queue in target dev \(111111111111\/eu-west-1\) .*the deployed template of dev-Queue is not JSON/);
});

test('misconfigured actions fail the job: bad UserParameters, no input artifact, an unknown stage', async () => {
  await handler(jobEvent('not json'));
  expect(failure().message).toBe('The change review is misconfigured: UserParameters "not json" is not the JSON {"pipeline","stage","executionId"} the ChangeReview action is built with. Fix: redeploy the pipeline stack');
  codePipeline.resetHistory();
  await handler(jobEvent(undefined, []));
  expect(failure().message).toMatch(/^The change review is misconfigured: the action has no input artifact in S3/);
  codePipeline.resetHistory();
  await handler(jobEvent({ pipeline: 'myapp', stage: 'qa', executionId: EXECUTION }));
  expect(failure().message).toMatch(/^The change review is misconfigured: stage "qa" is not in DDK_SAFETY_STAGES \(it has /);
  expect(sts.calls()).toHaveLength(0);
});

test('a failure message longer than PutJobFailureResult takes is cut to 5,000 characters', async () => {
  const huge = `Rate exceeded ${'x'.repeat(6000)}`;
  cfn.on(GetTemplateCommand, { StackName: 'dev-App' }).rejects(Object.assign(new Error(huge), { name: 'Throttling' }));
  await handler(jobEvent());
  const message = failure().message;
  expect(message.length).toBe(CODEPIPELINE_TEXT_LIMITS.failureMessage);
  expect(message.endsWith('…')).toBe(true);
});

test('a function without its settings still answers the job (jobAnsweringHandler)', async () => {
  const r = setEnvironment({ [REPORT_BUCKET_VARIABLE]: '' });
  try {
    // GIVEN a fresh module (its settings not read yet), with its own SDK module mocked
    let fresh!: typeof Handler.handler;
    let isolated!: ReturnType<typeof mockClient>;
    let failCommand!: typeof PutJobFailureResultCommand;
    jest.isolateModules(() => {
      const cp = require('@aws-sdk/client-codepipeline') as typeof import('@aws-sdk/client-codepipeline'); // eslint-disable-line @typescript-eslint/no-require-imports
      isolated = mockClient(cp.CodePipelineClient) as unknown as ReturnType<typeof mockClient>;
      failCommand = cp.PutJobFailureResultCommand;
      (isolated as any).on(cp.PutJobFailureResultCommand).resolves({});
      fresh = (require('../../lambda/change-review') as typeof Handler).handler; // eslint-disable-line @typescript-eslint/no-require-imports
    });
    await fresh(jobEvent());
    const calls = isolated.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0]).toBeInstanceOf(failCommand);
    expect((calls[0].args[0].input as any).failureDetails).toEqual({
      type: 'JobFailed',
      message: `The change review is misconfigured: environment variable ${REPORT_BUCKET_VARIABLE} is not set; expected the report bucket's name. The ChangeReview construct writes it. Fix: redeploy the pipeline stack`,
    });
    isolated.restore();
  } finally {
    r();
  }
});
