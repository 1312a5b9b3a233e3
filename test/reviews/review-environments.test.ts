import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ArtifactStore, BuildLogs, CdkPipelinesDelivery, CodePipelineDelivery, DdkConfig, DeliveryPipelineStack, DeliveryPlan, ReviewEnvironments, SampleApplication, StatusChecks } from '../../lib';
import { CDK_CLI_VERSION } from '../../lib/pipelines/versions';
import { reviewAssemblyId } from '../../lib/reviews/review-stage';
import { REVIEW_SETTINGS_ENV, ReviewSettings } from '../../lib/reviews/shared';
import { ENV } from '../../lib/status-checks/shared';
import { checkAccess, reviewCases } from '../contracts/access';
import { accessInputOf } from '../contracts/check-all';
import { checkEventRules } from '../contracts/contracts/events';
import { checkIamActionsAndConditions } from '../contracts/contracts/iam';
import { CDK_CONTEXT, exampleDdkJson, render, SynthesizedWithNag, synthWithNag } from '../helpers';

/*
 * ReviewEnvironments in every strategy, for both source kinds, as the app renders it: the
 * review build, the controller and what invokes it (CodeCommit pull request events or the
 * review pipelines of a connection source, build state changes, the sweep, destroy requests),
 * every IAM statement exact, the API's review routes, cdk-nag's AwsSolutions pack and
 * aws-cdk-lib's CloudFormation validation.
 */

const STRATEGIES = ['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'];
const CONNECTION = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/0b1d7c2e-6c11-4d3e-9b59-1a2b3c4d5e6f';
const REVIEW = { environment: 'dev', branches: ['main', 'release/2.0'], ttlHours: 24, tests: ['npm run e2e', 'npx playwright test'], urlOutput: 'ReviewUrl' };
const BOOTSTRAP_ROLES = 'arn:aws:iam::222222222222:role/cdk-hnb659fds-*-role-222222222222-eu-west-1';
const DEPLOY_ROLE = 'arn:aws:iam::222222222222:role/cdk-hnb659fds-deploy-role-222222222222-eu-west-1';

/** The example ddk.json with a review section (and a connection source, when asked). */
function reviewDoc(strategy: string, options: { connection?: boolean; review?: object } = {}): any {
  const doc = exampleDdkJson();
  doc.pipeline.strategy = strategy;
  doc.pipeline.review = options.review ?? REVIEW;
  if (options.connection) doc.pipeline.source = { connection: { arn: CONNECTION, repository: 'acme/app' } };
  return doc;
}

type Synthesized = SynthesizedWithNag;

const resourcesOfType = (json: any, type: string) => Object.entries<any>(json.Resources).filter(([, r]) => r.Type === type);
const logicalId = (json: any, type: string, prefix: RegExp) => {
  const ids = resourcesOfType(json, type).map(([id]) => id).filter(id => prefix.test(id));
  expect(ids).toHaveLength(1);
  return ids[0];
};
const ids = (json: any) => ({
  controller: logicalId(json, 'AWS::Lambda::Function', /DdkReviewsController/),
  project: logicalId(json, 'AWS::CodeBuild::Project', /DdkReviewsBuildProject/),
  controllerLogs: logicalId(json, 'AWS::Logs::LogGroup', /DdkReviewsControllerLogs/),
  buildLogs: logicalId(json, 'AWS::Logs::LogGroup', /BuildLogsLogGroup/),
  artifactKey: logicalId(json, 'AWS::KMS::Key', /ArtifactsKey/),
  bucket: logicalId(json, 'AWS::S3::Bucket', /ArtifactsBucket/),
  table: logicalId(json, 'AWS::DynamoDB::Table', /StatusChecksTable/),
  checksKey: logicalId(json, 'AWS::KMS::Key', /StatusChecksKey/),
});
/** The statements of the default policy of the role whose logical id matches. */
function statementsOf(json: any, role: RegExp): any[] {
  const mine = resourcesOfType(json, 'AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: any) => role.test(r.Ref)));
  expect(mine).toHaveLength(1);
  return mine[0][1].Properties.PolicyDocument.Statement;
}
/** The rule whose logical id matches. */
function rule(json: any, id: RegExp): any {
  return json.Resources[logicalId(json, 'AWS::Events::Rule', id)].Properties;
}
/** The controller's settings, its build project's name (a Ref) shown as `<project>`. */
function settingsOf(json: any): ReviewSettings {
  const value = json.Resources[ids(json).controller].Properties.Environment.Variables[REVIEW_SETTINGS_ENV];
  const text = value['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : '<project>')).join('');
  return JSON.parse(text);
}
const pipelinesByName = (json: any) => Object.fromEntries(resourcesOfType(json, 'AWS::CodePipeline::Pipeline').map(([, p]) => [p.Properties.Name, p.Properties]));

/** The review build's buildspec: synth, the pinned CLI's deploy, the tests only after a successful build phase. */
const EXPECTED_BUILDSPEC = {
  version: '0.2',
  phases: {
    install: { 'runtime-versions': { nodejs: 22 } },
    build: {
      commands: [
        'test -n "$DDK_REVIEW_ID" || { echo "DDK_REVIEW_ID is not set: review builds are started by the review controller of pipeline myapp, which sets it"; exit 1; }',
        'echo "Review $DDK_REVIEW_ID: commit $DDK_REVIEW_COMMIT of branch $DDK_REVIEW_BRANCH"',
        'npm ci',
        'npm test',
        'npx cdk synth',
        'test -d "cdk.out/$DDK_REVIEW_ASSEMBLY" || { echo "cdk.out/$DDK_REVIEW_ASSEMBLY is missing: the app did not synthesize the review stage. Fix: build the app with the ddk-pipelines DeliveryPipelineStack (or call addReviewStage) and synthesize into cdk.out"; exit 1; }',
        `npx --yes aws-cdk@${CDK_CLI_VERSION} deploy --app "cdk.out/$DDK_REVIEW_ASSEMBLY" --all --require-approval never --ci --progress events --outputs-file "$DDK_REVIEW_OUTPUTS"`,
      ],
    },
    post_build: {
      commands: [
        '[ "$CODEBUILD_BUILD_SUCCEEDING" = "1" ] || echo "The review deployment failed: the review tests do not run"',
        'if [ "$CODEBUILD_BUILD_SUCCEEDING" = "1" ]; then\nnpm run e2e\nfi',
        'if [ "$CODEBUILD_BUILD_SUCCEEDING" = "1" ]; then\nnpx playwright test\nfi',
      ],
    },
  },
};

/** The statements both source kinds give the controller (before the source's own). */
function controllerStatements(json: any): any[] {
  const i = ids(json);
  return [
    { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [i.controllerLogs, 'Arn'] } },
    { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], Resource: { 'Fn::GetAtt': [i.table, 'Arn'] } },
    {
      Sid: 'TableKeyThroughDynamoDB',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: { 'Fn::GetAtt': [i.checksKey, 'Arn'] },
      Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
    },
    {
      Sid: 'PublishReviewEvents',
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: 'arn:aws:events:eu-west-1:111111111111:event-bus/default',
      Condition: { 'ForAllValues:StringEquals': { 'events:source': ['ddk-pipelines.status-checks'] }, 'Null': { 'events:source': 'false' } },
    },
    { Sid: 'ReviewBuilds', Effect: 'Allow', Action: ['codebuild:BatchGetProjects', 'codebuild:StartBuild'], Resource: { 'Fn::GetAtt': [i.project, 'Arn'] } },
    { Sid: 'ReviewEnvironmentDeployRole', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: DEPLOY_ROLE },
  ];
}

/** The statements both source kinds give the review build (before the source's own). */
function buildStatements(json: any): any[] {
  const i = ids(json);
  return [
    { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [i.buildLogs, 'Arn'] } },
    { Sid: 'ProjectKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': [i.artifactKey, 'Arn'] } },
    { Sid: 'ReviewEnvironmentBootstrapRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: BOOTSTRAP_ROLES },
  ];
}

/** Checks every case kind shares: build project, controller, the build, sweep and destroy rules, the API. */
function commonChecks(s: () => Synthesized, kind: 'codecommit' | 'connection') {
  test('the review build: no source of its own, Node.js 22, MEDIUM, the artifact key, the build log group, the pipeline name and the review assembly', () => {
    const { json, stack } = s();
    const i = ids(json);
    const p = json.Resources[i.project].Properties;
    expect(p.Source).toEqual({ Type: 'NO_SOURCE', BuildSpec: expect.any(String) });
    expect(JSON.parse(p.Source.BuildSpec)).toEqual(EXPECTED_BUILDSPEC);
    expect(p.Environment).toEqual({
      ComputeType: 'BUILD_GENERAL1_MEDIUM',
      Image: 'aws/codebuild/standard:7.0',
      ImagePullCredentialsType: 'CODEBUILD',
      PrivilegedMode: false,
      Type: 'LINUX_CONTAINER',
      EnvironmentVariables: [
        { Name: 'DDK_PIPELINE_NAME', Type: 'PLAINTEXT', Value: 'myapp' },
        { Name: 'DDK_REVIEW_ASSEMBLY', Type: 'PLAINTEXT', Value: reviewAssemblyId(stack.delivery) },
        { Name: 'DDK_REVIEW_OUTPUTS', Type: 'PLAINTEXT', Value: '/tmp/ddk-review-outputs.json' },
      ],
    });
    expect(reviewAssemblyId(stack.delivery)).toBe('assembly-myapp-pipeline-Delivery-DdkReviewStage');
    expect(p.EncryptionKey).toEqual({ 'Fn::GetAtt': [i.artifactKey, 'Arn'] });
    expect(p.LogsConfig).toEqual({ CloudWatchLogs: { GroupName: { Ref: i.buildLogs }, Status: 'ENABLED' } });
    expect(p.TimeoutInMinutes).toBe(120);
  });

  test('the controller: Node.js 22 on ARM, its own role and encrypted log group, the status-check variables and the review settings', () => {
    const { json } = s();
    const i = ids(json);
    const f = json.Resources[i.controller].Properties;
    expect([f.Runtime, f.Architectures, f.Handler, f.Timeout, f.MemorySize]).toEqual(['nodejs22.x', ['arm64'], 'index.handler', 300, 256]);
    expect(f.Role).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/DdkReviewsControllerRole/), 'Arn'] });
    expect(f.LoggingConfig).toEqual({ LogGroup: { Ref: i.controllerLogs } });
    expect(json.Resources[i.controllerLogs].Properties).toEqual(expect.objectContaining({ KmsKeyId: { 'Fn::GetAtt': [i.checksKey, 'Arn'] }, RetentionInDays: 365 }));
    expect(json.Resources[i.controllerLogs].DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(Object.keys(f.Environment.Variables).sort()).toEqual([REVIEW_SETTINGS_ENV, 'NODE_OPTIONS', ENV.EVENT_BUS_NAME, ENV.RETENTION_DAYS, ENV.TABLE_NAME].sort());
    expect(f.Environment.Variables[ENV.TABLE_NAME]).toEqual({ Ref: i.table });
    expect(f.Environment.Variables[ENV.RETENTION_DAYS]).toBe('365');
    expect(settingsOf(json)).toEqual({
      pipeline: 'myapp',
      file: 'ddk.json',
      environment: { id: 'dev', account: '222222222222', region: 'eu-west-1', qualifier: 'hnb659fds' },
      branches: ['main', 'release/2.0'],
      ttlHours: 24,
      allowForks: false,
      urlOutput: 'ReviewUrl',
      tests: true,
      source: kind === 'codecommit' ? { kind, repository: 'myapp' } : { kind, repository: 'acme/app' },
      buildProject: '<project>',
    });
    expect(f.Environment.Variables[REVIEW_SETTINGS_ENV]['Fn::Join'][1]).toContainEqual({ Ref: i.project });
  });

  test('the build\'s terminal states, the sweep every 15 minutes (always: it advances teardowns) and destroy requests invoke the controller', () => {
    const { json } = s();
    const i = ids(json);
    expect(rule(json, /DdkReviewsBuildStateRule/).EventPattern).toEqual({
      'source': ['aws.codebuild'],
      'detail-type': ['CodeBuild Build State Change'],
      'detail': { 'project-name': [{ Ref: i.project }], 'build-status': ['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED'] },
    });
    const sweep = rule(json, /DdkReviewsSweepRule/);
    expect([sweep.ScheduleExpression, sweep.State, sweep.EventPattern]).toEqual(['rate(15 minutes)', 'ENABLED', undefined]);
    const destroy = rule(json, /DdkReviewsDestroyRequestedRule/);
    expect(destroy.EventPattern).toEqual({ 'source': ['ddk-pipelines.status-checks'], 'detail-type': ['Review Destroy Requested'], 'detail': { pipeline: ['myapp'] } });
    expect(destroy.EventBusName).toBe('default');
    // every rule of the construct targets the controller, and may invoke it (one permission per rule, scoped to the rule)
    const mine = resourcesOfType(json, 'AWS::Events::Rule').filter(([id]) => id.includes('DdkReviews'));
    expect(mine).toHaveLength(kind === 'codecommit' ? 4 : 3);
    for (const [id, r] of mine) {
      expect(r.Properties.Targets).toEqual([{ Arn: { 'Fn::GetAtt': [i.controller, 'Arn'] }, Id: 'Target0' }]);
      const permissions = resourcesOfType(json, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.SourceArn?.['Fn::GetAtt']?.[0] === id);
      expect(permissions.map(([, p]) => [p.Properties.Principal, p.Properties.Action, p.Properties.FunctionName])).toEqual([['events.amazonaws.com', 'lambda:InvokeFunction', { 'Fn::GetAtt': [i.controller, 'Arn'] }]]);
    }
  });

  test('the API reads and destroys reviews: GET /reviews (pipeline required) and POST /reviews/destroy, IAM-authorized, on the API function', () => {
    const { json } = s();
    const resources = Object.fromEntries(resourcesOfType(json, 'AWS::ApiGateway::Resource').map(([id, r]) => [id, r.Properties]));
    const reviews = Object.entries(resources).find(([, r]) => r.PathPart === 'reviews')!;
    const destroy = Object.entries(resources).find(([, r]) => r.PathPart === 'destroy')!;
    expect(destroy[1].ParentId).toEqual({ Ref: reviews[0] });
    const methods = resourcesOfType(json, 'AWS::ApiGateway::Method').map(([, m]) => m.Properties);
    const get = methods.find(m => m.ResourceId.Ref === reviews[0])!;
    const post = methods.find(m => m.ResourceId.Ref === destroy[0])!;
    expect([get.HttpMethod, get.AuthorizationType, get.RequestParameters, get.RequestValidatorId]).toEqual(['GET', 'AWS_IAM', { 'method.request.querystring.pipeline': true }, expect.anything()]);
    expect([post.HttpMethod, post.AuthorizationType, post.RequestValidatorId]).toEqual(['POST', 'AWS_IAM', expect.anything()]);
    const checks = methods.find(m => m.HttpMethod === 'GET' && m.RequestParameters?.['method.request.querystring.revision'])!;
    expect(get.Integration).toEqual(checks.Integration);
    expect(post.Integration).toEqual(checks.Integration);
    const response = resourcesOfType(json, 'AWS::ApiGateway::GatewayResponse')[0][1].Properties.ResponseTemplates['application/json'];
    expect(response).toContain('GET /reviews needs pipeline');
  });

  test('every IAM action and condition key exists (Service Authorization Reference), the rules name what the services send', async () => {
    const { output } = s();
    expect(await checkIamActionsAndConditions(output)).toEqual([]);
    expect(checkEventRules(output)).toEqual([]);
  });

  test('the access simulation: the build and the controller may do what they need and nothing more', async () => {
    const { output, plan } = s();
    const input = accessInputOf({ plan, stacks: [output] });
    const { cases, missing } = reviewCases(input);
    expect(missing).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(15);
    expect((await checkAccess(input)).filter(f => f.contract === 'access.reviews')).toEqual([]);
  });
}

describe.each(STRATEGIES)('%s, CodeCommit source', strategy => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthWithNag(reviewDoc(strategy));
  }, 120_000);
  const s = () => synthesized;

  test('cdk-nag AwsSolutions and CloudFormation validation pass (synthesis throws on a finding); the renderer exposes the construct', () => {
    expect(s().stack.delivery.reviews).toBeInstanceOf(ReviewEnvironments);
    expect(s().stack.delivery.reviews!.pipelines).toEqual([]);
  });

  test('the repository\'s pull request events into the review branches invoke the controller', () => {
    const { json } = s();
    const repo = logicalId(json, 'AWS::CodeCommit::Repository', /Repository/);
    expect(rule(json, /DdkReviewsPullRequestRule/).EventPattern).toEqual({
      'source': ['aws.codecommit'],
      'detail-type': ['CodeCommit Pull Request State Change', 'CodeCommit PullRequest State Change'],
      'resources': [{ 'Fn::GetAtt': [repo, 'Arn'] }],
      'detail': {
        event: ['pullRequestCreated', 'pullRequestSourceBranchUpdated', 'pullRequestStatusChanged', 'pullRequestMergeStatusUpdated'],
        destinationReference: ['refs/heads/main', 'refs/heads/release/2.0'],
      },
    });
    // no review pipelines: the main pipelines only
    expect(Object.keys(pipelinesByName(json)).filter(n => n.includes('review'))).toEqual([]);
  });

  test('least privilege: the review build assumes only the review environment\'s bootstrap roles and pulls only the repository', () => {
    const { json } = s();
    const repo = logicalId(json, 'AWS::CodeCommit::Repository', /Repository/);
    expect(statementsOf(json, /DdkReviewsBuildRole/)).toEqual([
      ...buildStatements(json),
      { Sid: 'PullRequestSource', Effect: 'Allow', Action: 'codecommit:GitPull', Resource: { 'Fn::GetAtt': [repo, 'Arn'] } },
    ]);
    // aws-cdk-lib's project defaults (an /aws/codebuild log group, report groups), which the other projects get, are not granted
    expect(JSON.stringify(json.Resources)).toMatch(/log-group:\/aws\/codebuild\//);
    expect(JSON.stringify(statementsOf(json, /DdkReviewsBuildRole/))).not.toMatch(/aws\/codebuild|report-group/);
  });

  test('least privilege: the controller assumes only the review environment\'s deploy role and comments only on the repository', () => {
    const { json } = s();
    const repo = logicalId(json, 'AWS::CodeCommit::Repository', /Repository/);
    expect(statementsOf(json, /DdkReviewsControllerRole/)).toEqual([
      ...controllerStatements(json),
      { Sid: 'CommentOnPullRequests', Effect: 'Allow', Action: 'codecommit:PostCommentForPullRequest', Resource: { 'Fn::GetAtt': [repo, 'Arn'] } },
    ]);
  });

  commonChecks(s, 'codecommit');
});

describe.each(['codepipeline-trunk', 'cdk-pipelines'])('%s, connection source', strategy => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthWithNag(reviewDoc(strategy, { connection: true }));
  }, 120_000);
  const s = () => synthesized;

  test('two V2 pipelines in PARALLEL mode with pull request triggers on the review branches: opened and updated, and closed', () => {
    const { json, stack } = s();
    const all = pipelinesByName(json);
    expect(Object.keys(all).sort()).toEqual(['myapp', 'myapp-review', 'myapp-review-close']);
    expect(stack.delivery.reviews!.pipelines.map(p => p.node.id)).toEqual(['RequestPipeline', 'ClosePipeline']);
    const main = all.myapp;
    for (const [name, events] of [['myapp-review', ['OPEN', 'UPDATED']], ['myapp-review-close', ['CLOSED']]] as const) {
      const p = all[name];
      expect([p.PipelineType, p.ExecutionMode, p.RestartExecutionOnUpdate]).toEqual(['V2', 'PARALLEL', false]);
      expect(p.Triggers).toEqual([{
        ProviderType: 'CodeStarSourceConnection',
        GitConfiguration: { SourceActionName: 'Source', PullRequest: [{ Branches: { Includes: ['main', 'release/2.0'] }, Events: events }] },
      }]);
      // the pipelines share the delivery system's artifact store
      expect(p.ArtifactStore).toEqual(main.ArtifactStore ?? expect.objectContaining({ Location: { Ref: ids(json).bucket } }));
      expect(p.ArtifactStore.Location).toEqual({ Ref: ids(json).bucket });
    }
  });

  test('Source, then a Lambda invoke of the controller with the source branch, commit and repository and the source artifact', () => {
    const { json } = s();
    const i = ids(json);
    const all = pipelinesByName(json);
    for (const [name, stage, operation] of [['myapp-review', 'Request', 'request'], ['myapp-review-close', 'Close', 'close']]) {
      const [source, invoke] = all[name].Stages;
      expect(source.Name).toBe('Source');
      expect(source.Actions).toHaveLength(1);
      expect(source.Actions[0].ActionTypeId).toEqual({ Category: 'Source', Owner: 'AWS', Provider: 'CodeStarSourceConnection', Version: '1' });
      expect(source.Actions[0].Configuration).toEqual({ ConnectionArn: CONNECTION, FullRepositoryId: 'acme/app', BranchName: 'main', DetectChanges: true });
      expect(source.Actions[0].OutputArtifacts).toEqual([{ Name: 'Source' }]);
      const ns = source.Actions[0].Namespace;
      expect(invoke.Name).toBe(stage);
      expect(invoke.Actions).toHaveLength(1);
      const action = invoke.Actions[0];
      expect(action.ActionTypeId).toEqual({ Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda', Version: '1' });
      expect(action.Configuration.FunctionName).toEqual({ Ref: i.controller });
      expect(JSON.parse(action.Configuration.UserParameters)).toEqual({
        operation, branch: `#{${ns}.BranchName}`, commit: `#{${ns}.CommitId}`, repository: `#{${ns}.FullRepositoryName}`,
      });
      expect(action.InputArtifacts).toEqual([{ Name: 'Source' }]);
      expect(action.RoleArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/DdkReviewsActionRole/), 'Arn'] });
    }
    // no CodeCommit rule
    expect(resourcesOfType(json, 'AWS::Events::Rule').filter(([id]) => /PullRequestRule/.test(id))).toEqual([]);
  });

  test('the source actions may use the connection with its ARN\'s prefix (codeconnections)', () => {
    const { json } = s();
    for (const role of [/DdkReviewsRequestPipelineSourceCodePipelineActionRole/, /DdkReviewsClosePipelineSourceCodePipelineActionRole/]) {
      expect(statementsOf(json, role)).toContainEqual({ Effect: 'Allow', Action: ['codeconnections:UseConnection', 'codestar-connections:UseConnection'], Resource: CONNECTION });
    }
  });

  test('least privilege: the review build reads only the artifact bucket (the source artifact) and assumes only the review environment\'s bootstrap roles', () => {
    const { json } = s();
    const i = ids(json);
    expect(statementsOf(json, /DdkReviewsBuildRole/)).toEqual([
      ...buildStatements(json),
      { Sid: 'SourceArtifactBucket', Effect: 'Allow', Action: ['s3:GetBucketAcl', 's3:GetBucketLocation'], Resource: { 'Fn::GetAtt': [i.bucket, 'Arn'] } },
      { Sid: 'SourceArtifacts', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [i.bucket, 'Arn'] }, '/*']] } },
    ]);
  });

  test('least privilege: the controller answers CodePipeline jobs (once, "*": the only resource they accept) and touches no repository', () => {
    const { json } = s();
    expect(statementsOf(json, /DdkReviewsControllerRole/)).toEqual([
      ...controllerStatements(json),
      { Effect: 'Allow', Action: ['codepipeline:PutJobFailureResult', 'codepipeline:PutJobSuccessResult'], Resource: '*' },
    ]);
    // the action role may invoke the controller and read the artifacts it passes
    const action = statementsOf(json, /DdkReviewsActionRole/);
    expect(action.find(st => st.Action === 'lambda:InvokeFunction')!.Resource).toEqual([
      { 'Fn::GetAtt': [ids(json).controller, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids(json).controller, 'Arn'] }, ':*']] },
    ]);
  });

  commonChecks(s, 'connection');
});

test('the nag setup of these tests finds what it should (a control: an unlogged bucket fails synthesis)', () => {
  // GIVEN the example with a review section and, added to the CICD stack, a bucket without access logs
  const doc = reviewDoc('codepipeline-trunk');
  const app = new App({ context: CDK_CONTEXT, outdir: mkdtempSync(join(tmpdir(), 'review-environments-control-')) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, 'ddk.json'));
  const stack = new DeliveryPipelineStack(app, plan.cicdStackName, { plan, application: new SampleApplication() });
  new s3.Bucket(stack, 'Unlogged', { enforceSSL: true });
  // THEN synthesis fails on that bucket's finding, and on nothing of the review environments
  let message = '';
  try {
    app.synth();
  } catch (e: any) {
    message = String(e.message);
  }
  expect(message).toMatch(/AwsSolutions-S1/);
  expect(message).not.toMatch(/DdkReviews/);
}, 60_000);

describe('wiring and defaults', () => {
  test('a plan with a review section and no required checks gets the status checks (the reviews report through them)', () => {
    const doc = reviewDoc('codepipeline-trunk');
    delete doc.pipeline.stages[1].requiredChecks;
    const { template, stack } = render(doc);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    expect(stack.delivery.statusChecks).toBeInstanceOf(StatusChecks);
    expect(stack.delivery).toBeInstanceOf(CodePipelineDelivery);
    expect(stack.delivery.reviews).toBeInstanceOf(ReviewEnvironments);
  });

  test('without a review section: no review resources, no review routes', () => {
    const { template, stack } = render(exampleDdkJson());
    expect(stack.delivery).toBeInstanceOf(CdkPipelinesDelivery);
    expect(stack.delivery.reviews).toBeUndefined();
    expect(stack.delivery.statusChecks!.reviewRoutes).toBe(false);
    const json = template.toJSON();
    expect(JSON.stringify(json)).not.toContain('DdkReviews');
    expect(resourcesOfType(json, 'AWS::ApiGateway::Resource').map(([, r]) => r.Properties.PathPart)).not.toContain('reviews');
  });

  test('ttlHours 0 and no tests: the sweep still runs (teardowns advance through it), the build has no post_build', () => {
    const { template } = render(reviewDoc('codepipeline-trunk', { review: { environment: 'prod-eu', ttlHours: 0 } }));
    const json = template.toJSON();
    expect(rule(json, /DdkReviewsSweepRule/).ScheduleExpression).toBe('rate(15 minutes)');
    const spec = JSON.parse(json.Resources[ids(json).project].Properties.Source.BuildSpec);
    expect(spec.phases.post_build).toBeUndefined();
    // default branches: the source branch; the review environment's account and region in every ARN
    expect(settingsOf(json)).toEqual(expect.objectContaining({ branches: ['main'], ttlHours: 0, tests: false, environment: { id: 'prod-eu', account: '333333333333', region: 'eu-west-1', qualifier: 'hnb659fds' } }));
    expect(settingsOf(json).urlOutput).toBeUndefined();
    expect(statementsOf(json, /DdkReviewsControllerRole/)).toContainEqual(expect.objectContaining({ Resource: 'arn:aws:iam::333333333333:role/cdk-hnb659fds-deploy-role-333333333333-eu-west-1' }));
  });

  test('a review environment with its own bootstrap qualifier: the roles are the qualifier\'s', () => {
    const doc = reviewDoc('codepipeline-gitflow');
    doc.environments.dev.bootstrap = { qualifier: 'team7' };
    const json = render(doc).template.toJSON();
    expect(statementsOf(json, /DdkReviewsBuildRole/)).toContainEqual(expect.objectContaining({ Resource: 'arn:aws:iam::222222222222:role/cdk-team7-*-role-222222222222-eu-west-1' }));
    expect(statementsOf(json, /DdkReviewsControllerRole/)).toContainEqual(expect.objectContaining({ Resource: 'arn:aws:iam::222222222222:role/cdk-team7-deploy-role-222222222222-eu-west-1' }));
    expect(settingsOf(json).environment.qualifier).toBe('team7');
  });

  test('more than 8 review branches: one pull request filter per 8 branches (CodePipeline allows 8 per filter, 3 filters)', () => {
    const branches = Array.from({ length: 24 }, (_, i) => `release/${i}`);
    const json = render(reviewDoc('codepipeline-trunk', { connection: true, review: { environment: 'dev', branches } })).template.toJSON();
    const triggers = pipelinesByName(json)['myapp-review'].Triggers;
    const filters = triggers[0].GitConfiguration.PullRequest;
    expect(filters.map((f: any) => f.Branches.Includes)).toEqual([branches.slice(0, 8), branches.slice(8, 16), branches.slice(16)]);
  });
});

describe.each(STRATEGIES)('%s, inside a review build', strategy => {
  test('the assembly the review build deploys (DDK_REVIEW_ASSEMBLY) is the review stage\'s: the review environment, the review\'s stack names', () => {
    // GIVEN the plan a review build synthesizes (the app reads DDK_REVIEW_ID and friends into DeliveryPlanOptions.review)
    const outdir = mkdtempSync(join(tmpdir(), 'review-build-'));
    try {
      const app = new App({ context: CDK_CONTEXT, outdir, builtinCloudFormationValidation: false });
      const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(reviewDoc(strategy), 'ddk.json'), { review: { id: 'pr12', commit: 'abc123', branch: 'feature/x', pullRequest: '12' } });
      const stack = new DeliveryPipelineStack(app, plan.cicdStackName, { plan, application: new SampleApplication() });
      const assembly = app.synth();
      // WHEN the review build runs `cdk deploy --app cdk.out/$DDK_REVIEW_ASSEMBLY`
      const project = resourcesOfType(JSON.parse(readFileSync(join(outdir, assembly.getStackArtifact(stack.artifactId).templateFile), 'utf-8')), 'AWS::CodeBuild::Project')
        .find(([id]) => /DdkReviewsBuildProject/.test(id))![1];
      const assemblyId = project.Properties.Environment.EnvironmentVariables.find((v: any) => v.Name === 'DDK_REVIEW_ASSEMBLY').Value;
      const nested = assembly.getNestedAssembly(assemblyId);
      // THEN it holds the review deployment's stacks, in the review environment, under the review's names
      expect(nested.stacks.map(st => [st.stackName, st.environment.account, st.environment.region])).toEqual([['myapp-review-pr12-DataPipeline', '222222222222', 'eu-west-1']]);
      expect(nested.stacks[0].tags).toEqual(expect.objectContaining({ 'ddk-pipelines:pipeline': 'myapp', 'ddk-pipelines:review': 'pr12', 'ddk-pipelines:commit': 'abc123' }));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('limits, refused with the file, the value and the fix', () => {
  test('a pipeline name that makes <name>-review-close longer than CodePipeline\'s 100 characters', () => {
    const doc = reviewDoc('codepipeline-trunk', { connection: true });
    doc.pipeline.name = 'n'.repeat(88);
    expect(() => render(doc)).toThrow(`ddk.json: pipeline.name: "${'n'.repeat(88)}" makes the review pipeline name "${'n'.repeat(88)}-review-close" 101 characters long, more than CodePipeline's 100 (a connection source's review deployments run through pipelines <name>-review and <name>-review-close). Fix: shorten pipeline.name to at most 87 characters`);
    doc.pipeline.name = 'n'.repeat(87);
    expect(Object.keys(pipelinesByName(render(doc).template.toJSON()))).toContain(`${'n'.repeat(87)}-review-close`);
  });

  test('more branches than a connection\'s pull request trigger filters on', () => {
    const branches = Array.from({ length: 25 }, (_, i) => `release/${i}`);
    expect(() => render(reviewDoc('codepipeline-trunk', { connection: true, review: { environment: 'dev', branches } })))
      .toThrow('ddk.json: pipeline.review.branches: 25 branches; a connection source\'s pull request trigger filters on at most 24 (3 filters of 8 branches, CodePipeline\'s GitPullRequestFilter). Fix: list at most 24 branches');
  });

  test('branches that make the CodeCommit rule\'s pattern longer than EventBridge\'s 2,048 characters', () => {
    const branches = Array.from({ length: 45 }, (_, i) => `feature/a-rather-long-branch-name-${i}`);
    expect(() => render(reviewDoc('codepipeline-trunk', { review: { environment: 'dev', branches } })))
      .toThrow(/^ddk\.json: pipeline\.review\.branches: the 45 branches make the pull request rule's event pattern up to \d+ characters long, more than the 2048 EventBridge allows by default \("Event pattern size" quota\)\. Fix: list fewer or shorter branches$/);
    // the largest accepted pattern, with the longest repository ARN, is within the quota
    const fits = Array.from({ length: 20 }, (_, i) => `feature/a-rather-long-branch-name-${i}`);
    const json = render(reviewDoc('codepipeline-trunk', { review: { environment: 'dev', branches: fits } })).template.toJSON();
    const pattern = rule(json, /DdkReviewsPullRequestRule/).EventPattern;
    expect(JSON.stringify({ ...pattern, resources: [`arn:aws-us-gov:codecommit:us-gov-west-1:123456789012:${'r'.repeat(100)}`] }).length).toBeLessThanOrEqual(2048);
  });

  test('review settings too large for the controller\'s 4 KB environment', () => {
    const branches = Array.from({ length: 24 }, (_, i) => `release/${i}-${'x'.repeat(150)}`);
    expect(() => render(reviewDoc('codepipeline-trunk', { connection: true, review: { environment: 'dev', branches } })))
      .toThrow(/^ddk\.json: pipeline\.review\.branches: the review settings take \d+ bytes in the review controller's environment, more than the \d+ bytes left of the 4096 bytes \(4 KB\) Lambda allows for a function's environment variables\. Fix: list fewer or shorter branches$/);
  });
});

describe('the construct on its own', () => {
  function parts(doc: any) {
    const app = new App({ context: CDK_CONTEXT });
    const stack = new Stack(app, 'Cicd', { env: { account: '111111111111', region: 'eu-west-1' } });
    const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, 'ddk.json'));
    const artifacts = new ArtifactStore(stack, 'Artifacts');
    const buildLogs = new BuildLogs(stack, 'BuildLogs', { key: artifacts.key, name: 'Cicd' });
    const statusChecks = new StatusChecks(stack, 'StatusChecks', { plan });
    return { stack, plan, artifacts, buildLogs, statusChecks };
  }

  test('refuses a plan without a review section, and a CodeCommit source without its repository', () => {
    const none = parts(exampleDdkJson());
    expect(() => new ReviewEnvironments(none.stack, 'Reviews', { ...none, assemblyId: 'a' }))
      .toThrow('ReviewEnvironments Cicd/Reviews: the plan of pipeline myapp has no review section; expected plan.review. Fix: add "pipeline": {"review": {"environment": "<environment id>"}} to ddk.json, or do not create ReviewEnvironments');
    const p = parts(reviewDoc('codepipeline-trunk'));
    expect(() => new ReviewEnvironments(p.stack, 'Reviews', { ...p, assemblyId: 'a' }))
      .toThrow('ReviewEnvironments Cicd/Reviews: repository is not set, but the source of pipeline myapp is CodeCommit; expected the repository whose pull requests deploy. Fix: pass the renderer\'s repository');
    const repository = codecommit.Repository.fromRepositoryName(p.stack, 'Repo', 'myapp');
    const reviews = new ReviewEnvironments(p.stack, 'Reviews2', { ...p, repository, assemblyId: 'assembly-x' });
    expect(p.stack.resolve(reviews.deployRoleArn)).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::222222222222:role/cdk-hnb659fds-deploy-role-222222222222-eu-west-1']] });
  });

  test('grantReadReviews and grantDestroyReviews: execute-api:Invoke on exactly GET /reviews and POST /reviews/destroy of the deployed stage', () => {
    const p = parts(reviewDoc('codepipeline-trunk'));
    const role = new iam.Role(p.stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    p.statusChecks.grantReadReviews(role);
    p.statusChecks.grantDestroyReviews(role);
    const policy = (Object.values(Template.fromStack(p.stack).findResources('AWS::IAM::Policy')) as any[]).find(x => x.Properties.Roles[0].Ref.startsWith('Reader'));
    const statement = policy.Properties.PolicyDocument.Statement;
    expect(statement).toHaveLength(1);
    expect(statement[0].Action).toBe('execute-api:Invoke');
    const paths = statement[0].Resource.map((r: any) => r['Fn::Join'][1].at(-1));
    expect(paths).toEqual(['/GET/reviews', '/POST/reviews/destroy']);
    for (const r of statement[0].Resource) expect(JSON.stringify(r)).toMatch(/"Ref":"StatusChecksApiDeploymentStageprod[0-9A-F]+"/);
  });

  test('the review grants are refused when the API has no review routes', () => {
    const p = parts(exampleDdkJson());
    const role = new iam.Role(p.stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => p.statusChecks.grantReadReviews(role)).toThrow('StatusChecks Cicd/StatusChecks: grantReadReviews: pipeline myapp has no review deployments, so the API has no /reviews routes to grant; expected a plan with a review section. Fix: add "pipeline": {"review": {"environment": "<environment id>"}} to ddk.json, or do not grant review access');
    expect(() => p.statusChecks.grantDestroyReviews(role)).toThrow(/grantDestroyReviews: pipeline myapp has no review deployments/);
  });

  test('the review routes exist only with a review section (the methods of the example API are unchanged)', () => {
    const methods = (doc: any) => Template.fromStack(parts(doc).stack).findResources('AWS::ApiGateway::Method');
    expect(Object.keys(methods(exampleDdkJson()))).toHaveLength(4);
    expect(Object.keys(methods(reviewDoc('codepipeline-trunk')))).toHaveLength(6);
    Template.fromStack(parts(reviewDoc('codepipeline-trunk')).stack).hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'reviews' });
    Template.fromStack(parts(reviewDoc('codepipeline-trunk')).stack).hasResourceProperties('AWS::ApiGateway::Method', Match.objectLike({ HttpMethod: 'GET', RequestParameters: { 'method.request.querystring.pipeline': true } }));
  });
});
