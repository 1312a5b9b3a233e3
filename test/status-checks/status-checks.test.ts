import { existsSync, mkdtempSync, readFileSync } from 'fs';
import { builtinModules } from 'module';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { App, Duration, RemovalPolicy, Stack, Stage, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DdkConfig, DeliveryPlan } from '../../lib';
import { ApprovalStep } from '../../lib/pipelines/approval-step';
import { CODEPIPELINE_LIMITS, pipelineLimitProblems } from '../../lib/pipelines/limits';
import { GateStep } from '../../lib/status-checks/gate-step';
import { ENV, EVENT_SOURCE, PipelineSettings, tableDefinition } from '../../lib/status-checks/shared';
import { StatusChecks, StatusChecksProps } from '../../lib/status-checks/status-checks';
import { CDK_CONTEXT, exampleDdkJson } from '../helpers';

const ENV_CICD = { account: '111111111111', region: 'eu-west-1' };

function planOf(doc: object = exampleDdkJson()): DeliveryPlan {
  return DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, 'ddk.json'));
}

function build(props: Partial<StatusChecksProps> = {}, doc?: object) {
  const app = new App({ context: CDK_CONTEXT });
  const stack = new Stack(app, 'Cicd', { env: ENV_CICD });
  const checks = new StatusChecks(stack, 'StatusChecks', { plan: planOf(doc), ...props });
  return { app, stack, checks, template: Template.fromStack(stack) };
}

/** The gate function role's statements that allow a CodePipeline job result. */
function jobResultStatements(template: Template): any[] {
  return statementsOf(template, 'StatusChecksGateFunctionRole')
    .filter(st => [st.Action].flat().some((a: string) => a.startsWith('codepipeline:PutJob')));
}

/** The statements of the default policy of a role whose logical id starts with `prefix`. */
function statementsOf(template: Template, rolePrefix: string): any[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
  const mine = policies.filter(p => p.Properties.Roles.some((r: any) => r.Ref.startsWith(rolePrefix)));
  expect(mine).toHaveLength(1);
  return mine[0].Properties.PolicyDocument.Statement;
}

/**
 * A gateway response body as API Gateway documents producing it: the template is not run through
 * VTL; the documented `$context` variables are substituted as plain text (`error.messageString`
 * is the message in double quotes, `error.message` and `error.validationErrorString` are the raw
 * text, which for a schema violation quotes the schema and the input); `$util`, `$input` and
 * `#set` are left as written.
 */
function renderGatewayResponse(template: string, error: { message: string; validationErrorString: string; responseType: string }): string {
  const context: Record<string, string> = {
    'error.message': error.message,
    'error.messageString': `"${error.message}"`,
    'error.validationErrorString': error.validationErrorString,
    'error.responseType': error.responseType,
    'requestId': 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    'extendedRequestId': 'Ab3dEF0xIAMEXAMPLE=',
    'resourcePath': '/checks',
    'httpMethod': 'GET',
    'identity.userArn': 'arn:aws:sts::111111111111:assumed-role/ci/build "42"',
  };
  return template.replace(/\$context\.([A-Za-z]+(?:\.[A-Za-z]+)*)/g, (whole, name: string) => context[name] ?? whole);
}

/** What API Gateway reports, per response type, for requests this API can receive. */
const REALISTIC_ERRORS: Record<string, { message: string; validationErrorString: string; responseType: string }> = {
  BAD_REQUEST_PARAMETERS: {
    message: 'Missing required request parameters: [revision]',
    validationErrorString: 'Missing required request parameters: [revision]',
    responseType: 'BAD_REQUEST_PARAMETERS',
  },
  BAD_REQUEST_BODY: {
    message: 'Invalid request body',
    validationErrorString: '[object has missing required properties (["state"]), instance value ("done") not found in enum (possible values: ["pending","success","failure","error"])]',
    responseType: 'BAD_REQUEST_BODY',
  },
};

describe('StatusChecks, example ddk.json', () => {
  const { template, checks, stack } = build();

  test('table: the key schema the tests\' dynalite tables use, on-demand, PITR, customer-managed KMS key, TTL', () => {
    const def = tableDefinition('x');
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: def.KeySchema,
      AttributeDefinitions: def.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StatusChecksKey'), 'Arn'] } },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('every API method requires IAM authorization', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as any[];
    expect(methods.map(m => `${m.Properties.HttpMethod}`).sort()).toEqual(['GET', 'POST', 'POST', 'PUT']);
    for (const m of methods) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  test('request validation: API Gateway the required query parameters, the function the bodies', () => {
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: false, ValidateRequestParameters: true });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      RequestParameters: { 'method.request.querystring.pipeline': true, 'method.request.querystring.revision': true, 'method.request.querystring.stage': false },
      RequestValidatorId: Match.anyValue(),
    });
    for (const m of Object.values(template.findResources('AWS::ApiGateway::Method')) as any[]) {
      expect(m.Properties.RequestValidatorId).toBeDefined();
      expect(m.Properties.RequestModels).toBeUndefined();
    }
    template.resourceCountIs('AWS::ApiGateway::Model', 0);
  });

  test('gateway responses: only documented substitutions, and valid JSON naming the problem with realistic values', () => {
    const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')) as any[];
    expect(responses.map(r => r.Properties.ResponseType)).toEqual(['BAD_REQUEST_PARAMETERS']);
    for (const r of responses) {
      for (const [contentType, text] of Object.entries(r.Properties.ResponseTemplates as Record<string, string>)) {
        expect(contentType).toBe('application/json');
        const body = renderGatewayResponse(text, REALISTIC_ERRORS[r.Properties.ResponseType]);
        expect(() => JSON.parse(body)).not.toThrow();
        expect(JSON.parse(body)).toEqual(expect.objectContaining({ message: REALISTIC_ERRORS[r.Properties.ResponseType].message }));
      }
    }
  });

  test('throttling and KMS-encrypted access logs on the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      // the log group's ARN without the trailing :* (@aws-cdk/aws-apigateway:logGroupDestinationArnWithoutWildcard)
      AccessLogSetting: {
        DestinationArn: { 'Fn::Join': ['', [Match.stringLikeRegexp(':log-group:$'), { Ref: Match.stringLikeRegexp('^StatusChecksAccessLogs') }]] },
        Format: Match.stringLikeRegexp('"caller":"\\$context.identity.caller"'),
      },
      MethodSettings: [Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20, LoggingLevel: 'ERROR', DataTraceEnabled: false })],
    });
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup')) as any[];
    expect(logGroups).toHaveLength(3);
    for (const g of logGroups) {
      expect(g.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^StatusChecksKey/), 'Arn'] });
      expect(g.Properties.RetentionInDays).toBe(365);
    }
    // the key lets CloudWatch Logs of this account and region use it, nobody else beyond the account
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'CloudWatchLogsOfThisAccountAndRegion',
          Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
        })]),
      },
    });
  });

  test('functions: Node.js 22, the bundled handlers, settings from the plan in both functions\' variables', () => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    expect(fns).toHaveLength(2);
    for (const f of fns) {
      expect(f.Properties.Runtime).toBe('nodejs22.x');
      expect(f.Properties.Handler).toBe('index.handler');
      const names = Object.keys(f.Properties.Environment.Variables);
      expect(names).toEqual(expect.arrayContaining([ENV.TABLE_NAME, ENV.EVENT_BUS_NAME, ENV.RETENTION_DAYS, ENV.PIPELINE_SETTINGS]));
      expect(f.Properties.Environment.Variables[ENV.EVENT_BUS_NAME]).toBe('arn:aws:events:eu-west-1:111111111111:event-bus/default');
      // the gate reads a stage's required contexts here (its action names only the stage)
      const settings: PipelineSettings = JSON.parse(f.Properties.Environment.Variables[ENV.PIPELINE_SETTINGS]);
      expect(settings).toEqual({
        pipeline: 'myapp',
        file: 'ddk.json',
        repository: 'myapp',
        stages: [{ name: 'development', index: 0, requiredChecks: [] }, { name: 'production', index: 1, requiredChecks: ['ci/integration'] }],
      });
    }
  });

  test('least privilege: the API function', () => {
    const statements = statementsOf(template, 'StatusChecksApiFunctionRole');
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^StatusChecksApiFunctionLogs/), 'Arn'] } },
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], Resource: { 'Fn::GetAtt': [expect.stringMatching(/^StatusChecksTable/), 'Arn'] } },
      {
        Sid: 'TableKeyThroughDynamoDB',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^StatusChecksKey/), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
      },
      { Sid: 'PublishStatusCheckEvents', Effect: 'Allow', Action: 'events:PutEvents', Resource: 'arn:aws:events:eu-west-1:111111111111:event-bus/default', Condition: { 'ForAllValues:StringEquals': { 'events:source': [EVENT_SOURCE] }, 'Null': { 'events:source': 'false' } } },
      { Sid: 'CommentOnCommits', Effect: 'Allow', Action: ['codecommit:GetCommit', 'codecommit:PostCommentForComparedCommit'], Resource: 'arn:aws:codecommit:eu-west-1:111111111111:myapp' },
    ]);
    // no managed policies on the function roles
    for (const role of Object.values(template.findResources('AWS::IAM::Role')) as any[]) {
      if (role.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'lambda.amazonaws.com') {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    }
  });

  test('least privilege: the gate function (no GetItem/UpdateItem; the job results come with the pipeline\'s action)', () => {
    const statements = statementsOf(template, 'StatusChecksGateFunctionRole');
    expect(statements.map(s => [s.Action, s.Resource === '*' ? '*' : 'scoped'])).toEqual([
      [['logs:CreateLogStream', 'logs:PutLogEvents'], 'scoped'],
      [['dynamodb:PutItem', 'dynamodb:Query'], 'scoped'],
      [['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], 'scoped'],
      ['events:PutEvents', 'scoped'],
    ]);
    // the action role may invoke the gate function and nothing else
    expect(statementsOf(template, 'StatusChecksGateActionRole')).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [{ 'Fn::GetAtt': [expect.stringMatching(/^StatusChecksGateFunction/), 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^StatusChecksGateFunction/), 'Arn'] }, ':*']] }],
      },
    ]);
  });

  test('the API URL is the stack output StatusChecksApiEndpoint', () => {
    expect(StatusChecks.API_ENDPOINT_OUTPUT).toBe('StatusChecksApiEndpoint');
    template.hasOutput('StatusChecksApiEndpoint', { Value: { 'Fn::Join': ['', Match.arrayWith(['https://', { Ref: Match.stringLikeRegexp('^StatusChecksApi') }])] } });
    expect(Object.keys(template.toJSON().Outputs)).toEqual(['StatusChecksApiEndpoint']);
    expect(stack.resolve(checks.apiEndpoint)).toEqual(template.toJSON().Outputs.StatusChecksApiEndpoint.Value);
  });

  test('grants: execute-api:Invoke on exactly the granted method of the deployed stage', () => {
    const own = new Stack(new App({ context: CDK_CONTEXT }), 'Cicd', { env: ENV_CICD });
    const sc = new StatusChecks(own, 'StatusChecks', { plan: planOf() });
    const role = new iam.Role(own, 'Reporter', { assumedBy: new iam.AccountRootPrincipal() });
    sc.grantReport(role);
    sc.grantRead(role);
    sc.grantManageRequirements(role);
    sc.grantOverride(role);
    const t = Template.fromStack(own);
    const policy = (Object.values(t.findResources('AWS::IAM::Policy')) as any[]).find(p => p.Properties.Roles[0].Ref.startsWith('Reporter'));
    const resources = policy.Properties.PolicyDocument.Statement[0].Resource.map((r: any) => JSON.stringify(r));
    expect(policy.Properties.PolicyDocument.Statement).toHaveLength(1);
    expect(policy.Properties.PolicyDocument.Statement[0].Action).toBe('execute-api:Invoke');
    expect(resources).toHaveLength(4);
    // arn:…:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>: the deployed stage and one method each
    for (const r of resources) expect(r).toMatch(/\{"Ref":"StatusChecksApi[0-9A-F]+"\},"\/",\{"Ref":"StatusChecksApiDeploymentStageprod[0-9A-F]+"\},"\/[A-Z]+\/[^"]+"\]\]\}$/);
    expect(resources.map((r: string) => /"(\/[A-Z]+\/[^"]+)"\]\]\}$/.exec(r)![1]).sort()).toEqual(['/GET/checks', '/POST/checks', '/POST/overrides', '/PUT/requirements/*']);
  });

  test('the event source and detail-types are public constants', () => {
    expect(StatusChecks.EVENT_SOURCE).toBe('ddk-pipelines.status-checks');
    expect([
      StatusChecks.DETAIL_TYPE_CHECK_REPORTED, StatusChecks.DETAIL_TYPE_REQUIREMENTS_CHANGED,
      StatusChecks.DETAIL_TYPE_OVERRIDE_RECORDED, StatusChecks.DETAIL_TYPE_GATE_DECIDED, StatusChecks.DETAIL_TYPE_CONDITION_OVERRIDDEN,
    ])
      .toEqual(['Status Check Reported', 'Required Checks Changed', 'Gate Override Recorded', 'Gate Decided', 'Stage Condition Overridden']);
  });
});

describe('the gateway response contract check', () => {
  test('catches a template that relies on VTL or puts the validator\'s raw text in a JSON string', () => {
    const vtl = '{"message": "$context.error.message: $util.escapeJavaScript($context.error.validationErrorString)"}';
    expect(() => JSON.parse(renderGatewayResponse(vtl, REALISTIC_ERRORS.BAD_REQUEST_BODY))).toThrow();
    const raw = '{"message": "$context.error.validationErrorString"}';
    expect(() => JSON.parse(renderGatewayResponse(raw, REALISTIC_ERRORS.BAD_REQUEST_BODY))).toThrow();
    expect(JSON.parse(renderGatewayResponse('{"message": $context.error.messageString}', REALISTIC_ERRORS.BAD_REQUEST_BODY))).toEqual({ message: 'Invalid request body' });
  });
});

describe('StatusChecks options', () => {
  test('a connection source: no repository, no CodeCommit permission', () => {
    const doc = exampleDdkJson();
    doc.pipeline.source = { connection: { arn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abc', repository: 'org/myapp' } };
    const { template, checks } = build({}, doc);
    expect(checks.repository).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).not.toContain('codecommit:');
    const api = (Object.values(template.findResources('AWS::Lambda::Function')) as any[]).find(f => f.Properties.Environment.Variables[ENV.PIPELINE_SETTINGS]);
    expect(JSON.parse(api.Properties.Environment.Variables[ENV.PIPELINE_SETTINGS]).repository).toBeUndefined();
  });

  test('throttling, retention, removal policy, an own bus, no account CloudWatch role', () => {
    const app = new App({ context: CDK_CONTEXT });
    const stack = new Stack(app, 'Cicd', { env: ENV_CICD });
    const bus = new events.EventBus(stack, 'Bus');
    new StatusChecks(stack, 'StatusChecks', {
      plan: planOf(),
      throttlingRateLimit: 3,
      throttlingBurstLimit: 6,
      retention: Duration.days(30),
      removalPolicy: RemovalPolicy.DESTROY,
      eventBus: bus,
      cloudWatchRole: false,
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 3, ThrottlingBurstLimit: 6 })] });
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    for (const f of Object.values(t.findResources('AWS::Lambda::Function')) as any[]) {
      expect(f.Properties.Environment.Variables[ENV.RETENTION_DAYS]).toBe('30');
      expect(f.Properties.Environment.Variables[ENV.EVENT_BUS_NAME]).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Bus/), 'Arn'] });
    }
  });

  test('a gate timeout beyond what CodePipeline allows is refused', () => {
    expect(() => build({ gateTimeout: Duration.hours(24) })).toThrow('gateTimeout: 1 day is out of range; expected whole minutes from 1 to 1410 (CodePipeline fails a Lambda invoke action after 24 hours). Fix: pass e.g. Duration.hours(1)');
    expect(() => build({ gateTimeout: Duration.seconds(90) })).toThrow(/gateTimeout: 1 minute 30 seconds is out of range/);
  });

  test('a retention that is not whole days is refused, naming the value', () => {
    expect(() => build({ retention: Duration.hours(36) })).toThrow('retention: 1 day 12 hours is not whole days; expected whole days, at least 1. Fix: pass e.g. Duration.days(365)');
  });

  test('settings too large for the functions\' environment (4 KB with the longest table name and bus ARN) are refused with the fix', () => {
    const doc = exampleDdkJson();
    doc.pipeline.stages[1].requiredChecks = Array.from({ length: 200 }, (_, i) => `ci/a-rather-long-check-name-${i}`);
    expect(() => build({}, doc)).toThrow(/^ddk\.json: pipeline\.stages: the stages and their requiredChecks take \d+ bytes in the status-check functions' environment, more than the \d+ bytes left of the 4096 bytes \(4 KB\) Lambda allows for a function's environment variables\. Fix: shorten stage names and contexts, or require fewer contexts in ddk\.json$/);
  });

  test('the largest settings accepted fit Lambda\'s 4 KB with the longest table name and bus ARN', () => {
    // GIVEN contexts added one at a time until the construct refuses them
    const doc = exampleDdkJson();
    let accepted = 0;
    for (let n = 1; n < 200; n++) {
      doc.pipeline.stages[1].requiredChecks = Array.from({ length: n }, (_, i) => `ci/a-rather-long-check-name-${i}`);
      try {
        build({}, doc);
        accepted = n;
      } catch {
        break;
      }
    }
    // THEN the last accepted environment, with tokens at their longest, is within 4096 bytes
    doc.pipeline.stages[1].requiredChecks = Array.from({ length: accepted }, (_, i) => `ci/a-rather-long-check-name-${i}`);
    const vars = (Object.values(build({}, doc).template.findResources('AWS::Lambda::Function')) as any[])[0].Properties.Environment.Variables;
    const size = Object.entries(vars).reduce((n, [k, v]) => n + k.length + (k === ENV.TABLE_NAME ? 255 : typeof v === 'string' ? Buffer.byteLength(v) : 340), 0);
    expect(accepted).toBeGreaterThan(50);
    expect(size).toBeLessThanOrEqual(4096);
  });
});

describe('module boundaries', () => {
  /** Modules a lib/ module imports (values and types), transitively, within lib/. */
  function closure(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file)) return seen;
    seen.add(file);
    const text = readFileSync(file, 'utf-8');
    for (const m of text.matchAll(/^import (?:type )?[^;]*? from '([^']+)';$/gms)) {
      const spec = m[1];
      if (spec.startsWith('.')) {
        const base = join(dirname(file), spec);
        closure(existsSync(`${base}.ts`) ? `${base}.ts` : join(base, 'index.ts'), seen);
      } else {
        seen.add(spec);
      }
    }
    return seen;
  }

  test('the constructs load no AWS SDK and no handler module (the package has neither at run time)', () => {
    const lib = join(__dirname, '..', '..', 'lib', 'status-checks');
    for (const entry of ['status-checks.ts', 'gate-step.ts']) {
      const all = [...closure(join(lib, entry))];
      expect(all.filter(m => m.startsWith('@aws-sdk/') || m.startsWith('@aws-lambda-powertools/'))).toEqual([]);
      expect(all.filter(m => /status-checks\/(store|api|gate|events|propagate)\.ts$/.test(m))).toEqual([]);
    }
  });

  test('shared.ts, decision.ts and requests.ts import neither aws-cdk-lib nor an SDK (Node.js built-ins only)', () => {
    const lib = join(__dirname, '..', '..', 'lib', 'status-checks');
    for (const file of ['shared.ts', 'decision.ts', 'requests.ts']) {
      const external = [...closure(join(lib, file))].filter(m => !m.startsWith('/') && !builtinModules.includes(m.replace(/^node:/, '')));
      expect(external).toEqual([]);
    }
  });
});

describe('cdk-nag AwsSolutions and the CloudFormation validator', () => {
  test('zero findings: every acknowledgement names a real finding and its reason', () => {
    const app = new App({ context: CDK_CONTEXT, outdir: mkdtempSync(join(tmpdir(), 'status-checks-nag-')) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'Cicd', { env: ENV_CICD });
    new StatusChecks(stack, 'StatusChecks', { plan: planOf() });
    // findings are errors (cdk-nag 3, validateAgainstDefaultRules in cdk.json): synth throws on any
    expect(() => app.synth()).not.toThrow();
  });
});

/** A CDK Pipelines pipeline with the plan's production stage gated, as the renderer will build it. */
function gatedPipeline(withNag: boolean) {
  const outdir = mkdtempSync(join(tmpdir(), 'status-checks-gate-'));
  const app = new App({ context: CDK_CONTEXT, outdir });
  if (withNag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Cicd', { env: ENV_CICD });
  const plan = planOf();
  const checks = new StatusChecks(stack, 'StatusChecks', { plan });
  const repo = codecommit.Repository.fromRepositoryName(stack, 'Repo', 'myapp');
  const source = pipelines.CodePipelineSource.codeCommit(repo, 'main');
  const pipeline = new pipelines.CodePipeline(stack, 'Pipeline', {
    crossAccountKeys: true,
    synth: new pipelines.ShellStep('Synth', { input: source, commands: ['npx cdk synth'] }),
  });
  const production = plan.stages[1];
  const gate = checks.gateStep(production, source.sourceAttribute('CommitId'));
  const approve = new ApprovalStep('Approve', { approval: production.approval! });
  const target = new Stage(stack, 'prod-eu', { env: { account: '333333333333', region: 'eu-west-1' } });
  new s3.Bucket(new Stack(target, 'Data'), 'Bucket', { enforceSSL: true });
  pipeline.addStage(target, { pre: pipelines.Step.sequence([gate, approve]) });
  pipeline.buildPipeline();
  return { app, stack, outdir, checks };
}

describe('GateStep in a CDK Pipelines wave', () => {
  const { stack } = gatedPipeline(false);
  const template = Template.fromStack(stack);
  const stageActions = (): any[] => {
    const p = (Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as any[])[0].Properties;
    return p.Stages.find((s: any) => s.Name === 'prod-eu').Actions;
  };

  test('a Lambda invoke action of the gate function, before the approval, before the deployments', () => {
    const actions = stageActions();
    const gate = actions.find(a => a.Name === 'StatusChecks');
    const approve = actions.find(a => a.Name === 'Approve');
    const deploys = actions.filter(a => a.ActionTypeId.Category === 'Deploy');
    expect(gate.ActionTypeId).toEqual({ Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda', Version: '1' });
    expect(gate.Configuration.FunctionName).toEqual({ Ref: expect.stringMatching(/^StatusChecksGateFunction/) });
    expect(gate.RoleArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^StatusChecksGateActionRole/), 'Arn'] });
    expect(gate.RunOrder).toBeLessThan(approve.RunOrder);
    expect(Math.min(...deploys.map(d => d.RunOrder))).toBeGreaterThan(approve.RunOrder);
  });

  test('UserParameters: plan stage, the source commit and execution id as CodePipeline variables (no required contexts)', () => {
    const gate = stageActions().find(a => a.Name === 'StatusChecks');
    const params = JSON.parse(gate.Configuration.UserParameters);
    expect(params).toEqual({
      pipeline: 'myapp',
      stage: 'production',
      revision: expect.stringMatching(/^#\{Source@[^.]+\.CommitId\}$/),
      executionId: '#{codepipeline.PipelineExecutionId}',
      timeoutMinutes: 60,
    });
    // the namespace the variable names is the source action's
    const p = (Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as any[])[0].Properties;
    const sourceAction = p.Stages[0].Actions[0];
    expect(params.revision).toBe(`#{${sourceAction.Namespace}.CommitId}`);
  });

  test('the gate function may report job results, in exactly one statement ("*": the only resource they accept)', () => {
    expect(jobResultStatements(template)).toEqual([
      { Effect: 'Allow', Action: ['codepipeline:PutJobFailureResult', 'codepipeline:PutJobSuccessResult'], Resource: '*' },
    ]);
  });

  test('the gate adds no cdk-nag finding (the action role\'s lambda:ListFunctions is acknowledged)', () => {
    const nag = gatedPipeline(true);
    let report: any = { pluginReports: [] };
    try {
      nag.app.synth();
    } catch {
      report = JSON.parse(readFileSync(join(nag.outdir, 'validation-report.json'), 'utf-8'));
    }
    const ours = report.pluginReports.flatMap((r: any) => r.violations)
      .flatMap((v: any) => v.violatingConstructs.map((c: any) => `${v.ruleName} ${c.constructPath}`))
      .filter((x: string) => x.includes('/StatusChecks/') || x.includes('StatusChecks'));
    expect(ours).toEqual([]);
  });

  test('invalid props are refused naming the prop', () => {
    const props = { gateFunction: {} as any, pipelineName: 'myapp', stage: 'production', revision: 'r' };
    expect(() => new GateStep('G', { ...props, stage: 'pro duction' })).toThrow('GateStep G: stage: "pro duction" is not a stage name');
    expect(() => new GateStep('G', { ...props, pipelineName: 'my app' })).toThrow('GateStep G: pipelineName: "my app" is not a pipeline name');
    expect(() => new GateStep('G', { ...props, timeout: Duration.hours(24) })).toThrow('GateStep G: timeout: 1 day is out of range');
    expect(() => new GateStep('G', { ...props, revision: 'r'.repeat(900) })).toThrow('GateStep G: revision: the UserParameters would take 1027 characters, more than the 1000 CodePipeline allows per action configuration value. Fix: pass the source\'s commit id variable');
    expect(() => GateStep.action(props, 'Status Checks', 1)).toThrow('GateStep: actionName: "Status Checks" is not a CodePipeline action name; expected letters, digits and . @ _ - (1 to 100 characters)');
    expect(() => GateStep.action(props, 'S'.repeat(101), 1)).toThrow(/is not a CodePipeline action name/);
    expect(() => GateStep.action(props, 'StatusChecks', 1000)).toThrow('GateStep StatusChecks: runOrder: 1000 is out of range; expected a whole number from 1 to 999 (CodePipeline\'s limit)');
    expect(() => GateStep.action(props, 'StatusChecks', 0)).toThrow(/runOrder: 0 is out of range/);
  });

  test('the longest UserParameters a gate renders fits CodePipeline\'s 1,000 characters per configuration value', () => {
    expect(GateStep.MAX_USER_PARAMETERS_LENGTH).toBeLessThanOrEqual(CODEPIPELINE_LIMITS.configurationValueLength);
    // 100-character names and a 100-character namespace: the rendered action stays within every action limit
    const longName = 'p'.repeat(100);
    const doc = exampleDdkJson();
    doc.pipeline.name = longName;
    doc.pipeline.stages[1].name = 's'.repeat(100);
    const plan = planOf(doc);
    const app = new App({ context: CDK_CONTEXT });
    const own = new Stack(app, 'Cicd', { env: ENV_CICD });
    const checks = new StatusChecks(own, 'StatusChecks', { plan });
    const output = new codepipeline.Artifact();
    const source = new cpa.CodeCommitSourceAction({ actionName: 'Source', repository: codecommit.Repository.fromRepositoryName(own, 'Repo', 'myapp'), output, branch: 'main', variablesNamespace: 'n'.repeat(100) });
    const pipeline = new codepipeline.Pipeline(own, 'P', { pipelineType: codepipeline.PipelineType.V2 });
    pipeline.addStage({ stageName: 'Source', actions: [source] });
    pipeline.addStage({ stageName: 'Gate', actions: [checks.gateAction(plan.stages[1], source.variables.commitId, { timeout: Duration.minutes(1410) })] });
    const stages = (Object.values(Template.fromStack(own).findResources('AWS::CodePipeline::Pipeline')) as any[])[0].Properties.Stages;
    expect(pipelineLimitProblems({ Stages: stages }, 'ddk.json')).toEqual([]);
    expect(stages[1].Actions[0].Configuration.UserParameters.length).toBeLessThanOrEqual(GateStep.MAX_USER_PARAMETERS_LENGTH);
  });
});

describe('gateAction for a pipeline built with aws-codepipeline', () => {
  test('a Lambda invoke action with the source action\'s commit id variable', () => {
    const app = new App({ context: CDK_CONTEXT });
    const stack = new Stack(app, 'Cicd', { env: ENV_CICD });
    const plan = planOf();
    const checks = new StatusChecks(stack, 'StatusChecks', { plan });
    const output = new codepipeline.Artifact();
    const source = new cpa.CodeCommitSourceAction({ actionName: 'Source', repository: codecommit.Repository.fromRepositoryName(stack, 'Repo', 'myapp'), output, branch: 'main' });
    const pipeline = new codepipeline.Pipeline(stack, 'P', { pipelineType: codepipeline.PipelineType.V2 });
    pipeline.addStage({ stageName: 'Source', actions: [source] });
    pipeline.addStage({
      stageName: 'production',
      actions: [
        checks.gateAction(plan.stages[1], source.variables.commitId, { runOrder: 1, timeout: Duration.minutes(90) }),
        new cpa.ManualApprovalAction({ actionName: 'Approve', runOrder: 2 }),
      ],
    });
    const t = Template.fromStack(stack);
    const stage = (Object.values(t.findResources('AWS::CodePipeline::Pipeline')) as any[])[0].Properties.Stages[1];
    const gate = stage.Actions.find((a: any) => a.Name === 'StatusChecks');
    expect(gate.RunOrder).toBe(1);
    expect(jobResultStatements(t)).toHaveLength(1);
    expect(JSON.parse(gate.Configuration.UserParameters)).toEqual({
      pipeline: 'myapp', stage: 'production', revision: '#{Source_Source_NS.CommitId}', executionId: '#{codepipeline.PipelineExecutionId}', timeoutMinutes: 90,
    });
  });

  test('a stage that is not in the plan, or requires no checks, gets no gate', () => {
    const app = new App({ context: CDK_CONTEXT });
    const stack = new Stack(app, 'Cicd', { env: ENV_CICD });
    const plan = planOf();
    const checks = new StatusChecks(stack, 'StatusChecks', { plan });
    expect(() => checks.gateAction(plan.stages[0], '#{S.CommitId}')).toThrow('StatusChecks Cicd/StatusChecks: stage "development" requires no checks, so its gate would have no required contexts to read; expected a plan stage with requiredChecks ("production"). Fix: gate only the stages whose requiredChecks ddk.json lists');
    expect(() => checks.gateStep({ ...plan.stages[1], name: 'qa' }, '#{S.CommitId}')).toThrow('stage "qa" is not a stage of the plan');
  });
});

describe('a stage requiring many contexts (issue: UserParameters over CodePipeline\'s 1,000 characters)', () => {
  const MANY = Array.from({ length: 60 }, (_, i) => `ci/a-rather-long-check-name-${i}`);
  const doc = exampleDdkJson();
  doc.pipeline.stages[1].requiredChecks = MANY;

  test('CDK Pipelines: the gate action stays within every CodePipeline action limit; the contexts are in the function\'s settings', () => {
    const app = new App({ context: CDK_CONTEXT });
    const stack = new Stack(app, 'Cicd', { env: ENV_CICD });
    const plan = planOf(doc);
    const checks = new StatusChecks(stack, 'StatusChecks', { plan });
    const source = pipelines.CodePipelineSource.codeCommit(codecommit.Repository.fromRepositoryName(stack, 'Repo', 'myapp'), 'main');
    const pipeline = new pipelines.CodePipeline(stack, 'Pipeline', { crossAccountKeys: true, synth: new pipelines.ShellStep('Synth', { input: source, commands: ['npx cdk synth'] }) });
    const target = new Stage(stack, 'prod-eu', { env: { account: '333333333333', region: 'eu-west-1' } });
    new s3.Bucket(new Stack(target, 'Data'), 'Bucket', { enforceSSL: true });
    pipeline.addStage(target, { pre: [checks.gateStep(plan.stages[1], source.sourceAttribute('CommitId'))] });
    pipeline.buildPipeline();
    const template = Template.fromStack(stack);
    const stages = (Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as any[])[0].Properties.Stages;
    expect(pipelineLimitProblems({ Stages: stages }, 'ddk.json')).toEqual([]);
    const gate = stages.flatMap((st: any) => st.Actions).find((a: any) => a.Name === 'StatusChecks');
    expect(gate.Configuration.UserParameters.length).toBeLessThanOrEqual(CODEPIPELINE_LIMITS.configurationValueLength);
    const fn = (Object.values(template.findResources('AWS::Lambda::Function')) as any[]).find(f => f.Properties.Description.startsWith('Status-check gates'));
    expect(JSON.parse(fn.Properties.Environment.Variables[ENV.PIPELINE_SETTINGS]).stages[1].requiredChecks).toEqual(MANY);
  });

  test('aws-codepipeline: gateAction stays within every CodePipeline action limit', () => {
    const app = new App({ context: CDK_CONTEXT });
    const stack = new Stack(app, 'Cicd', { env: ENV_CICD });
    const plan = planOf(doc);
    const checks = new StatusChecks(stack, 'StatusChecks', { plan });
    const output = new codepipeline.Artifact();
    const source = new cpa.CodeCommitSourceAction({ actionName: 'Source', repository: codecommit.Repository.fromRepositoryName(stack, 'Repo', 'myapp'), output, branch: 'main' });
    const pipeline = new codepipeline.Pipeline(stack, 'P', { pipelineType: codepipeline.PipelineType.V2 });
    pipeline.addStage({ stageName: 'Source', actions: [source] });
    pipeline.addStage({ stageName: 'production', actions: [checks.gateAction(plan.stages[1], source.variables.commitId)] });
    const stages = (Object.values(Template.fromStack(stack).findResources('AWS::CodePipeline::Pipeline')) as any[])[0].Properties.Stages;
    expect(pipelineLimitProblems({ Stages: stages }, 'ddk.json')).toEqual([]);
    expect(JSON.parse(stages[1].Actions[0].Configuration.UserParameters)).toEqual({
      pipeline: 'myapp', stage: 'production', revision: '#{Source_Source_NS.CommitId}', executionId: '#{codepipeline.PipelineExecutionId}', timeoutMinutes: 60,
    });
  });
});

describe('pipelineLimitProblems on actions: CodePipeline\'s documented action limits', () => {
  test('names the pipeline, the stage, the action, the value and the limit', () => {
    expect(pipelineLimitProblems({
      Name: 'myapp',
      Stages: [{
        Name: 'production',
        Actions: [
          { Name: 'Status Checks', RunOrder: 1000, Namespace: 'a.b', Configuration: { UserParameters: 'x'.repeat(1001), ['K'.repeat(51)]: 'v', Empty: '', FunctionName: { Ref: 'Fn' } } },
          { Name: 'Ok', RunOrder: 1, Configuration: { UserParameters: 'x'.repeat(1000) } },
        ],
      }],
    }, 'ddk.json')).toEqual([
      'ddk.json: pipeline "myapp", stage "production": the action name "Status Checks" is not 1 to 100 letters, digits and . @ _ - (CodePipeline\'s name rule). Fix: shorten or rename it in ddk.json',
      'ddk.json: pipeline "myapp", stage "production", action "Status Checks": the namespace "a.b" is not 1 to 100 letters, digits and @ _ - (CodePipeline\'s namespace rule). Fix: report this as a bug of ddk-pipelines',
      'ddk.json: pipeline "myapp", stage "production", action "Status Checks": runOrder 1000 is outside 1 to 999. Fix: report this as a bug of ddk-pipelines',
      'ddk.json: pipeline "myapp", stage "production", action "Status Checks": configuration value UserParameters is at least 1001 characters, more than the 1000 CodePipeline allows per value. Fix: shorten what this stage renders into it in ddk.json (commands, names, contexts), or split the stage',
      `ddk.json: pipeline "myapp", stage "production", action "Status Checks": configuration key "${'K'.repeat(51)}" is longer than 50 characters. Fix: report this as a bug of ddk-pipelines`,
      'ddk.json: pipeline "myapp", stage "production", action "Status Checks": configuration value Empty is empty, and CodePipeline refuses an empty value. Fix: give it a text in ddk.json, or leave the setting out',
    ]);
    expect(pipelineLimitProblems({}, 'ddk.json')).toEqual([]);
  });
});
