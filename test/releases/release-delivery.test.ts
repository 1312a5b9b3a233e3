import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FOO_CONNECTION_ARN, fooDocument } from './fixtures';
import {
  ArtifactStore, BuildLogs, CodePipelineDelivery, DdkConfig, DeliveryPipelineStack, DeliveryPlan, ReleaseDelivery, SampleApplication, ServiceStages,
  StatusChecks,
} from '../../lib';
import { pipelineLimitProblems } from '../../lib/pipelines/limits';
import { CDK_CLI_VERSION } from '../../lib/pipelines/versions';
import { releaseSettings } from '../../lib/releases/events';
import { RELEASE_SETTINGS_ENV } from '../../lib/releases/shared';
import { ENV } from '../../lib/status-checks/shared';
import { checkAccess } from '../contracts/access';
import { accessInputOf } from '../contracts/check-all';
import { checkEventRules } from '../contracts/contracts/events';
import { checkIamActionsAndConditions } from '../contracts/contracts/iam';
import { CDK_CONTEXT, environments, exampleDdkJson, render, SynthesizedWithNag, synthWithNag } from '../helpers';

/*
 * Release brackets rendered (ReleaseDelivery, codepipeline-trunk with pipeline.services): the foo
 * story of issue 12 — foobar-frontend (CodeCommit) and foobar-backend (a connection), each
 * deployed alone to dev by its own pipeline, released together through hardening (a bracket
 * stage with a performance test and a required check) and automatically on to production.
 * Synthesized as `cdk synth` does (cdk.json's context with CloudFormation validation, cdk-nag's
 * AwsSolutions pack: a finding fails synthesis), every IAM statement exact.
 */

type Synthesized = SynthesizedWithNag;

const resourcesOfType = (json: any, type: string) => Object.entries<any>(json.Resources).filter(([, r]) => r.Type === type);
const logicalId = (json: any, type: string, pattern: RegExp) => {
  const found = resourcesOfType(json, type).map(([id]) => id).filter(id => pattern.test(id));
  expect(found).toHaveLength(1);
  return found[0];
};
const pipelinesByName = (json: any): Record<string, any> => Object.fromEntries(resourcesOfType(json, 'AWS::CodePipeline::Pipeline').map(([, p]) => [p.Properties.Name, p.Properties]));
const stageOf = (p: any, name: string) => p.Stages.find((s: any) => s.Name === name);
const actionsOf = (p: any, name: string): any[] => stageOf(p, name).Actions;
const variablesOf = (action: any) => Object.fromEntries(JSON.parse(action.Configuration.EnvironmentVariables).map((v: any) => [v.name, v.value]));
const buildSpecOf = (json: any, project: string) => JSON.parse(json.Resources[project].Properties.Source.BuildSpec);
const projectVariables = (json: any, project: string) =>
  Object.fromEntries(json.Resources[project].Properties.Environment.EnvironmentVariables.map((v: any) => [v.Name, v.Value]));
/** The statements of the default policy of the role whose logical id matches. */
function statementsOf(json: any, role: RegExp): any[] {
  const mine = resourcesOfType(json, 'AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: any) => role.test(r.Ref)));
  expect(mine).toHaveLength(1);
  return mine[0][1].Properties.PolicyDocument.Statement;
}
/** Whether an event matches a pattern of literal values (EventBridge: a field matches when its value is one of the listed). */
function matches(pattern: any, event: any): boolean {
  return Object.entries<any>(pattern).every(([k, v]) => (Array.isArray(v) ? v.includes(event?.[k]) : matches(v, event?.[k] ?? {})));
}
/** A CodePipeline state-change event as "Monitoring CodePipeline events" shows them. */
function codePipelineEvent(detailType: string, pipeline: string, detail: Record<string, unknown> = {}) {
  return {
    'version': '0',
    'id': '01234567-EXAMPLE',
    'detail-type': detailType,
    'source': 'aws.codepipeline',
    'account': '111111111111',
    'time': '2030-11-29T14:30:00Z',
    'region': 'eu-west-1',
    'resources': [`arn:aws:codepipeline:eu-west-1:111111111111:${pipeline}`],
    'detail': { pipeline, 'execution-id': '12345678-1234-5678-abcd-12345678abcd', 'state': 'STARTED', 'version': 1, ...detail },
  };
}

const SERVICES = ['foobar-frontend', 'foobar-backend'];
const SAMPLE_RELEASE_ID = 'r-20301129-143000-1a2b';

describe('the foo story', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthWithNag(fooDocument());
  }, 180_000);
  const ids = () => ({
    fn: logicalId(s.json, 'AWS::Lambda::Function', /ReleasesReleaseFunction[0-9A-F]{8}$/),
    fnLogs: logicalId(s.json, 'AWS::Logs::LogGroup', /ReleasesReleaseFunctionLogs/),
    table: logicalId(s.json, 'AWS::DynamoDB::Table', /StatusChecksTable/),
    checksKey: logicalId(s.json, 'AWS::KMS::Key', /StatusChecksKey/),
    synth: (service: string) => logicalId(s.json, 'AWS::CodeBuild::Project', new RegExp(`ReleasesSynth${service.replace(/-/g, '')}[0-9A-F]{8}$`)),
    deploy: (stage: string) => logicalId(s.json, 'AWS::CodeBuild::Project', new RegExp(`ReleasesDeploy${stage}[0-9A-F]{8}$`)),
    tests: (stage: string) => logicalId(s.json, 'AWS::CodeBuild::Project', new RegExp(`ReleasesTests${stage}[0-9A-F]{8}$`)),
  });

  test('cdk-nag AwsSolutions and CloudFormation validation pass (synthesis throws on a finding); CodePipelineDelivery renders a ReleaseDelivery instead of its one pipeline', () => {
    const delivery = s.stack.delivery as CodePipelineDelivery;
    expect(delivery.releases).toBeInstanceOf(ReleaseDelivery);
    expect(delivery.pipelines).toEqual(delivery.releases!.pipelines);
    expect(Object.keys(delivery.releases!.servicePipelines)).toEqual(SERVICES);
    // no application of its own in the CICD app: no repository of the plan, no application stages, no build of its own
    expect(delivery.repository).toBeUndefined();
    expect(delivery.applicationStages).toEqual({});
    expect(resourcesOfType(s.json, 'AWS::CodeBuild::Project').map(([id]) => id).filter(id => /^DeliveryBuild/.test(id))).toEqual([]);
  });

  test('three V2 pipelines: one per service, then the release pipeline, in the plan\'s execution mode', () => {
    const all = pipelinesByName(s.json);
    expect(Object.keys(all)).toEqual(['foo-foobar-frontend', 'foo-foobar-backend', 'foo-release']);
    for (const p of Object.values(all)) expect([p.PipelineType, p.ExecutionMode]).toEqual(['V2', 'SUPERSEDED']);
    for (const p of Object.values(all)) expect(pipelineLimitProblems(p, 'ddk.json')).toEqual([]);
  });

  test('each service\'s pipeline: its source, its build, dev alone, then Candidate', () => {
    const all = pipelinesByName(s.json);
    for (const service of SERVICES) {
      const p = all[`foo-${service}`];
      expect(p.Stages.map((st: any) => st.Name)).toEqual(['Source', 'Build', 'dev', 'Candidate']);
      const synth = actionsOf(p, 'Build')[0];
      expect([synth.Name, synth.Configuration.ProjectName, synth.InputArtifacts, synth.OutputArtifacts]).toEqual(['Synth', { Ref: ids().synth(service) }, [{ Name: 'Source' }], [{ Name: 'Assembly' }]]);
      // dev: no gate (no required checks), no approval: the service's assembly of dev, with the pinned CLI's deploy project
      const dev = actionsOf(p, 'dev');
      expect(dev.map((a: any) => [a.Name, a.RunOrder, a.ActionTypeId.Provider])).toEqual([['Deploy-dev', 1, 'CodeBuild']]);
      expect(dev[0].InputArtifacts).toEqual([{ Name: 'Assembly' }]);
      expect(dev[0].Configuration.ProjectName).toEqual({ Ref: ids().deploy('dev') });
      expect(variablesOf(dev[0])).toEqual({ DDK_ENVIRONMENT: 'dev', DDK_ASSEMBLY: 'assembly-dev', DDK_SERVICE: service });
    }
  });

  test('a push to a service\'s branch starts only its own pipeline: CodeCommit events on main, the connection\'s push trigger on trunk', () => {
    const all = pipelinesByName(s.json);
    const frontend = all['foo-foobar-frontend'];
    expect(actionsOf(frontend, 'Source')[0].Configuration).toEqual({ RepositoryName: 'foobar-frontend', BranchName: 'main', PollForSourceChanges: false });
    expect(frontend.Triggers).toBeUndefined();
    const rules = resourcesOfType(s.json, 'AWS::Events::Rule').map(([, r]) => r.Properties).filter(r => r.EventPattern.source[0] === 'aws.codecommit');
    expect(rules).toHaveLength(1);
    expect(rules[0].EventPattern).toEqual({
      'source': ['aws.codecommit'],
      'resources': ['arn:aws:codecommit:eu-west-1:111111111111:foobar-frontend'],
      'detail-type': ['CodeCommit Repository State Change'],
      'detail': { event: ['referenceCreated', 'referenceUpdated'], referenceName: ['main'] },
    });
    // the rule starts the frontend's pipeline, never the release pipeline
    expect(JSON.stringify(rules[0].Targets)).toContain(logicalId(s.json, 'AWS::CodePipeline::Pipeline', /ReleasesPipelinefoobarfrontend/));
    expect(JSON.stringify(rules[0].Targets)).not.toContain('ReleasesReleasePipeline');
    const backend = all['foo-foobar-backend'];
    expect(actionsOf(backend, 'Source')[0].Configuration).toEqual({ ConnectionArn: FOO_CONNECTION_ARN, FullRepositoryId: 'acme/foobar-backend', BranchName: 'trunk', DetectChanges: true });
    expect(backend.Triggers).toEqual([{ ProviderType: 'CodeStarSourceConnection', GitConfiguration: { SourceActionName: 'Source', Push: [{ Branches: { Includes: ['trunk'] } }] } }]);
    // an existing CodeCommit repository is imported: none is created
    expect(resourcesOfType(s.json, 'AWS::CodeCommit::Repository')).toEqual([]);
  });

  test('Candidate: the release function records the commit the service\'s pipeline built and deployed to dev', () => {
    const all = pipelinesByName(s.json);
    for (const service of SERVICES) {
      const p = all[`foo-${service}`];
      const namespace = actionsOf(p, 'Source')[0].Namespace;
      const [candidate] = actionsOf(p, 'Candidate');
      expect(candidate.ActionTypeId).toMatchObject({ Category: 'Invoke', Provider: 'Lambda' });
      expect(candidate.Configuration.FunctionName).toEqual({ Ref: ids().fn });
      expect(JSON.parse(candidate.Configuration.UserParameters)).toEqual({
        operation: 'candidate', service, revision: `#{${namespace}.CommitId}`, execution: '#{codepipeline.PipelineExecutionId}',
      });
      expect(candidate.RoleArn).toEqual({ 'Fn::GetAtt': [logicalId(s.json, 'AWS::IAM::Role', /ReleasesCandidateActionRole/), 'Arn'] });
    }
  });

  test('a service build: its synth commands with DDK_SERVICE and DDK_ENVIRONMENTS (the environments it deploys to, and cicd); its cdk.out is the artifact', () => {
    for (const service of SERVICES) {
      const project = ids().synth(service);
      const spec = buildSpecOf(s.json, project);
      const commands = spec.phases.build.commands;
      expect(commands.slice(1, -1)).toEqual(service === 'foobar-backend' ? ['npm ci', 'npx cdk synth'] : ['npm ci', 'npm test', 'npx cdk synth']);
      expect(spec.artifacts).toEqual({ 'base-directory': 'cdk.out', 'files': ['**/*'] });
      expect(spec.phases.install).toEqual({ 'runtime-versions': { nodejs: 22 } });
      const variables = projectVariables(s.json, project);
      expect(Object.keys(variables)).toEqual(['DDK_PIPELINE_NAME', 'DDK_SERVICE', 'DDK_ENVIRONMENTS']);
      expect([variables.DDK_PIPELINE_NAME, variables.DDK_SERVICE]).toEqual(['foo', service]);
      expect(JSON.parse(variables.DDK_ENVIRONMENTS)).toEqual(fooDocument().environments);
      expect(s.json.Resources[project].Properties.Environment.ComputeType).toBe('BUILD_GENERAL1_MEDIUM');
    }
  });

  test('what a service build sets is what ServiceStages reads: every DDK_ASSEMBLY a deploy action names is a nested assembly of the service\'s app', () => {
    const variables = projectVariables(s.json, ids().synth('foobar-backend'));
    const app = new App();
    const stages = new ServiceStages(app, 'Service', { application: new SampleApplication(), env: variables });
    const assemblies = stages.stages.map(st => st.artifactId);
    const named = Object.values(pipelinesByName(s.json)).flatMap(p => p.Stages.flatMap((st: any) => st.Actions))
      .filter((a: any) => a.Name.startsWith('Deploy-')).map((a: any) => variablesOf(a).DDK_ASSEMBLY);
    expect([...new Set(named)].sort()).toEqual(['assembly-dev', 'assembly-hardening', 'assembly-production']);
    expect(assemblies.sort()).toEqual([...new Set(named)].sort());
    expect(stages.stages.map(st => st.stageName)).toEqual(['foobar-backend-dev', 'foobar-backend-hardening', 'foobar-backend-production']);
  });

  test('the release pipeline: variables ReleaseId and ReleaseStartedBy, no trigger and no change detection, a source action per service', () => {
    const p = pipelinesByName(s.json)['foo-release'];
    expect(p.Variables).toEqual([
      { Name: 'ReleaseId', DefaultValue: 'manual', Description: 'The release id; set by ddk-pipelines release start' },
      { Name: 'ReleaseStartedBy', DefaultValue: 'unknown', Description: 'Who started the release (IAM principal ARN); set by ddk-pipelines release start' },
    ]);
    expect(p.Triggers).toBeUndefined();
    expect(p.Stages.map((st: any) => st.Name)).toEqual(['Source', 'Build', 'hardening', 'production']);
    const sources = actionsOf(p, 'Source');
    expect(sources.map((a: any) => [a.Name, a.OutputArtifacts])).toEqual(SERVICES.map(x => [`Source-${x}`, [{ Name: `Source-${x}` }]]));
    // started only by StartPipelineExecution: CodeCommit neither polled nor watched by a rule, the connection not watched
    expect(sources[0].Configuration).toEqual({ RepositoryName: 'foobar-frontend', BranchName: 'main', PollForSourceChanges: false });
    expect(sources[1].Configuration).toEqual({ ConnectionArn: FOO_CONNECTION_ARN, FullRepositoryId: 'acme/foobar-backend', BranchName: 'trunk', DetectChanges: false });
  });

  test('the release pipeline builds each service with its own synth project, in parallel, with the release id', () => {
    const p = pipelinesByName(s.json)['foo-release'];
    expect(actionsOf(p, 'Build').map((a: any) => [a.Name, a.RunOrder, a.Configuration.ProjectName, a.InputArtifacts, a.OutputArtifacts, variablesOf(a)])).toEqual(SERVICES.map(x => [
      `Build-${x}`, 1, { Ref: ids().synth(x) }, [{ Name: `Source-${x}` }], [{ Name: `Assembly-${x}` }], { DDK_RELEASE_ID: '#{variables.ReleaseId}' },
    ]));
  });

  test('hardening: the gate on the release id, every service into every environment in parallel, then the performance test once', () => {
    const p = pipelinesByName(s.json)['foo-release'];
    const actions = actionsOf(p, 'hardening');
    expect(actions.map((a: any) => [a.Name, a.RunOrder, a.ActionTypeId.Provider])).toEqual([
      ['StatusChecks', 1, 'Lambda'],
      ['Deploy-foobar-frontend-hardening', 2, 'CodeBuild'],
      ['Deploy-foobar-backend-hardening', 2, 'CodeBuild'],
      ['Tests', 3, 'CodeBuild'],
    ]);
    expect(JSON.parse(actions[0].Configuration.UserParameters)).toEqual({
      pipeline: 'foo', stage: 'hardening', revision: '#{variables.ReleaseId}', executionId: '#{codepipeline.PipelineExecutionId}', timeoutMinutes: 60,
    });
    SERVICES.forEach((x, i) => {
      expect(actions[i + 1].InputArtifacts).toEqual([{ Name: `Assembly-${x}` }]);
      expect(actions[i + 1].Configuration.ProjectName).toEqual({ Ref: ids().deploy('hardening') });
      expect(variablesOf(actions[i + 1])).toEqual({ DDK_ENVIRONMENT: 'hardening', DDK_ASSEMBLY: 'assembly-hardening', DDK_SERVICE: x });
    });
    expect(actions[3].InputArtifacts).toEqual([{ Name: 'Source-foobar-frontend' }]);
    expect(variablesOf(actions[3])).toEqual({ DDK_RELEASE_ID: '#{variables.ReleaseId}' });
    expect(buildSpecOf(s.json, ids().tests('hardening')).phases.build.commands).toEqual(['npm run perf']);
    expect(actions.filter((a: any) => a.Name === 'Tests')).toHaveLength(1);
  });

  test('production follows automatically: no approval, no gate, both services deployed once hardening passed', () => {
    const p = pipelinesByName(s.json)['foo-release'];
    expect(actionsOf(p, 'production').map((a: any) => [a.Name, a.RunOrder])).toEqual([['Deploy-foobar-frontend-production', 1], ['Deploy-foobar-backend-production', 1]]);
    expect(p.DisableInboundStageTransitions).toBeUndefined();
    expect(stageOf(p, 'hardening').OnFailure).toBeUndefined();
  });

  test('the deploy projects: the pinned CLI\'s cdk deploy of one nested assembly; each may assume only its stage\'s targets\' bootstrap roles', () => {
    for (const [stage, account] of [['dev', '222222222222'], ['hardening', '333333333333'], ['production', '444444444444']]) {
      const project = ids().deploy(stage);
      expect(buildSpecOf(s.json, project).phases.build.commands).toEqual([
        'echo "Deploying environment $DDK_ENVIRONMENT from $DDK_ASSEMBLY"',
        `npx --yes aws-cdk@${CDK_CLI_VERSION} deploy --app "$DDK_ASSEMBLY" --all --require-approval never --ci --progress events`,
      ]);
      const role = s.json.Resources[project].Properties.ServiceRole['Fn::GetAtt'][0];
      const assume = statementsOf(s.json, new RegExp(`^${role}$`)).filter(st => st.Action === 'sts:AssumeRole');
      expect(assume).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${account}:role/cdk-hnb659fds-*-role-${account}-eu-west-1` }]);
    }
  });

  test('the release function: Node.js 22 on ARM, its own role and encrypted log group, the status-check variables and the release settings', () => {
    const i = ids();
    const f = s.json.Resources[i.fn].Properties;
    expect([f.Runtime, f.Architectures, f.Handler, f.Timeout, f.MemorySize]).toEqual(['nodejs22.x', ['arm64'], 'index.handler', 60, 256]);
    expect(f.LoggingConfig).toEqual({ LogGroup: { Ref: i.fnLogs } });
    expect(s.json.Resources[i.fnLogs].Properties).toEqual(expect.objectContaining({ KmsKeyId: { 'Fn::GetAtt': [i.checksKey, 'Arn'] }, RetentionInDays: 365 }));
    expect(Object.keys(f.Environment.Variables).sort()).toEqual([ENV.EVENT_BUS_NAME, ENV.RETENTION_DAYS, ENV.TABLE_NAME, 'NODE_OPTIONS', RELEASE_SETTINGS_ENV].sort());
    expect(f.Environment.Variables[ENV.TABLE_NAME]).toEqual({ Ref: i.table });
    expect(f.Environment.Variables[ENV.EVENT_BUS_NAME]).toBe('arn:aws:events:eu-west-1:111111111111:event-bus/default');
    const settings = { pipeline: 'foo', releasePipeline: 'foo-release', services: SERVICES, bracketStages: ['hardening', 'production'] };
    expect(JSON.parse(f.Environment.Variables[RELEASE_SETTINGS_ENV])).toEqual(settings);
    // the function's own parser accepts them
    expect(releaseSettings({ [RELEASE_SETTINGS_ENV]: f.Environment.Variables[RELEASE_SETTINGS_ENV] })).toEqual(settings);
  });

  test('least privilege: the release function touches the table\'s items, the key through DynamoDB, its events, the release pipeline, and answers jobs', () => {
    const i = ids();
    expect(statementsOf(s.json, /ReleasesReleaseFunctionRole/)).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [i.fnLogs, 'Arn'] } },
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], Resource: { 'Fn::GetAtt': [i.table, 'Arn'] } },
      {
        Sid: 'TableKeyThroughDynamoDB',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [i.checksKey, 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
      },
      {
        Sid: 'PublishReleaseEvents',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: 'arn:aws:events:eu-west-1:111111111111:event-bus/default',
        Condition: { 'ForAllValues:StringEquals': { 'events:source': ['ddk-pipelines.status-checks'] }, 'Null': { 'events:source': 'false' } },
      },
      {
        Sid: 'ReadReleasePipeline',
        Effect: 'Allow',
        Action: ['codepipeline:GetPipeline', 'codepipeline:GetPipelineExecution', 'codepipeline:ListPipelineExecutions'],
        Resource: 'arn:aws:codepipeline:eu-west-1:111111111111:foo-release',
      },
      // aws-cdk-lib's LambdaInvokeAction, once for both Candidate actions: jobs have no resource ARN
      { Effect: 'Allow', Action: ['codepipeline:PutJobFailureResult', 'codepipeline:PutJobSuccessResult'], Resource: '*' },
    ]);
    expect(statementsOf(s.json, /ReleasesCandidateActionRole/)).toEqual([
      { Effect: 'Allow', Action: 'lambda:ListFunctions', Resource: '*' },
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [{ 'Fn::GetAtt': [i.fn, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [i.fn, 'Arn'] }, ':*']] }] },
    ]);
  });

  test('the release pipeline\'s source actions: the CodeCommit one pulls its repository, the connection one uses its connection (with the ARN\'s own prefix)', () => {
    const frontend = statementsOf(s.json, /ReleasesReleasePipelineSourceSourcefoobarfrontendCodePipelineActionRole/);
    expect(frontend.find(st => JSON.stringify(st.Action).includes('codecommit'))).toEqual({
      Effect: 'Allow',
      Action: ['codecommit:CancelUploadArchive', 'codecommit:GetBranch', 'codecommit:GetCommit', 'codecommit:GetUploadArchiveStatus', 'codecommit:UploadArchive'],
      Resource: 'arn:aws:codecommit:eu-west-1:111111111111:foobar-frontend',
    });
    expect(statementsOf(s.json, /ReleasesReleasePipelineSourceSourcefoobarbackendCodePipelineActionRole/)[0]).toEqual({
      Effect: 'Allow', Action: ['codeconnections:UseConnection', 'codestar-connections:UseConnection'], Resource: FOO_CONNECTION_ARN,
    });
  });

  test('the release pipeline\'s pipeline, stage and action state changes, and nothing else, reach the release function', () => {
    const rule = s.json.Resources[logicalId(s.json, 'AWS::Events::Rule', /ReleasesReleaseEventsRule/)].Properties;
    expect(rule.EventPattern).toEqual({
      'source': ['aws.codepipeline'],
      'detail-type': ['CodePipeline Pipeline Execution State Change', 'CodePipeline Stage Execution State Change', 'CodePipeline Action Execution State Change'],
      'detail': { pipeline: ['foo-release'] },
    });
    expect(rule.Targets).toEqual([{ Arn: { 'Fn::GetAtt': [ids().fn, 'Arn'] }, Id: 'Target0' }]);
    expect(rule.EventBusName).toBeUndefined();
    for (const detailType of ReleaseDelivery.CODEPIPELINE_DETAIL_TYPES) {
      expect(matches(rule.EventPattern, codePipelineEvent(detailType, 'foo-release', { stage: 'hardening', action: 'Tests' }))).toBe(true);
      expect(matches(rule.EventPattern, codePipelineEvent(detailType, 'foo-foobar-frontend'))).toBe(false);
    }
    expect(matches(rule.EventPattern, { ...codePipelineEvent('CodePipeline Pipeline Execution State Change', 'foo-release'), source: 'aws.codebuild' })).toBe(false);
  });

  test('the status-check API serves the releases (each route needs the pipeline) and the candidates; the API function reads them', () => {
    const resources = resourcesOfType(s.json, 'AWS::ApiGateway::Resource');
    const path = (id: string): string => {
      const r = s.json.Resources[id].Properties;
      const parent = r.ParentId['Fn::GetAtt'] ? '' : path(r.ParentId.Ref);
      return `${parent}/${r.PathPart}`;
    };
    const methods = resourcesOfType(s.json, 'AWS::ApiGateway::Method').map(([, m]) => m.Properties)
      .filter(m => m.ResourceId?.Ref && path(m.ResourceId.Ref).startsWith('/releases'))
      .map(m => [m.HttpMethod, path(m.ResourceId.Ref), m.AuthorizationType, m.RequestParameters]);
    expect(resources.length).toBeGreaterThan(0);
    expect(methods).toEqual([
      ['GET', '/releases', 'AWS_IAM', { 'method.request.querystring.pipeline': true }],
      ['GET', '/releases/candidates', 'AWS_IAM', { 'method.request.querystring.pipeline': true }],
      ['GET', '/releases/{id}', 'AWS_IAM', { 'method.request.querystring.pipeline': true, 'method.request.path.id': true }],
    ]);
    const response = resourcesOfType(s.json, 'AWS::ApiGateway::GatewayResponse')[0][1].Properties.ResponseTemplates['application/json'];
    expect(response).toContain('GET /releases, GET /releases/{id} and GET /releases/candidates need pipeline');
    expect(JSON.parse(response.replace('$context.error.messageString', '"m"'))).toEqual(expect.objectContaining({ message: 'm' }));
    // with services, no repository is the plan's: reports are never propagated as comments
    const api = statementsOf(s.json, /StatusChecksApiFunctionRole/);
    expect(JSON.stringify(api)).not.toContain('codecommit');
    expect((s.stack.delivery as CodePipelineDelivery).statusChecks!.releaseRoutes).toBe(true);
  });

  test('every IAM action and condition key exists, the rules name what the services send, the access simulation passes', async () => {
    expect(await checkIamActionsAndConditions(s.output)).toEqual([]);
    expect(checkEventRules(s.output)).toEqual([]);
    expect(await checkAccess(accessInputOf({ plan: s.plan, stacks: [s.output] }))).toEqual([]);
  }, 60_000);

  describe('the build commands, run by bash as CodeBuild runs them', () => {
    const commandsOf = () => buildSpecOf(s.json, ids().synth('foobar-frontend')).phases.build.commands as string[];
    const run = (command: string, env: Record<string, string>, cwd = tmpdir()) => spawnSync('bash', ['-c', command], { env: { PATH: process.env.PATH, ...env }, cwd, encoding: 'utf-8' });

    test('in the release pipeline, a build whose ReleaseId is not a release id fails before anything is built: CodePipeline\'s start on creation and a console "Release change" deploy nothing', () => {
      const guard = commandsOf()[0];
      const manual = run(guard, { DDK_RELEASE_ID: 'manual' });
      expect(manual.status).toBe(1);
      expect(manual.stdout).toContain('foo-release deploys only releases started by ddk-pipelines release start');
      expect(manual.stdout).toContain('ReleaseId "manual"');
      expect(run(guard, { DDK_RELEASE_ID: 'r-2030' }).status).toBe(1);
      expect(run(guard, { DDK_RELEASE_ID: `${SAMPLE_RELEASE_ID}x` }).status).toBe(1);
      expect(run(guard, { DDK_RELEASE_ID: SAMPLE_RELEASE_ID }).status).toBe(0);
      // in the service's own pipeline the variable is not set: the build goes on
      expect(run(guard, {}).status).toBe(0);
    });

    test('after the synth commands, a missing nested assembly of an environment fails the build, naming it and ServiceStages', () => {
      const check = commandsOf().at(-1)!;
      const dir = mkdtempSync(join(tmpdir(), 'service-build-'));
      try {
        for (const env of ['dev', 'hardening', 'production']) mkdirSync(join(dir, 'cdk.out', `assembly-${env}`), { recursive: true });
        expect(run(check, {}, dir).status).toBe(0);
        rmSync(join(dir, 'cdk.out', 'assembly-hardening'), { recursive: true });
        const missing = run(check, {}, dir);
        expect(missing.status).toBe(1);
        expect(missing.stdout).toContain('cdk.out/assembly-hardening is missing: the app of service foobar-frontend did not synthesize environment hardening. Fix: build the service\'s app with ServiceStages');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

test('the nag setup of these tests finds what it should (a control: an unlogged bucket fails synthesis, nothing of the releases does)', () => {
  const app = new App({ context: CDK_CONTEXT, outdir: mkdtempSync(join(tmpdir(), 'release-delivery-control-')) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(fooDocument(), 'ddk.json'));
  const stack = new DeliveryPipelineStack(app, plan.cicdStackName, { plan, application: new SampleApplication() });
  new s3.Bucket(stack, 'Unlogged', { enforceSSL: true });
  let message = '';
  try {
    app.synth();
  } catch (e: any) {
    message = String(e.message);
  }
  expect(message).toMatch(/AwsSolutions-S1/);
  expect(message).not.toMatch(/Releases/);
}, 120_000);

describe('variants', () => {
  const CONNECTION_2 = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/99999999-4e5f-6789-abcd-ef0123456789';
  let json: any;
  beforeAll(() => {
    // GIVEN the foo story with: a created frontend repository, a third service on another
    // connection, rollback on failure, an approval before production, notifications, QUEUED,
    // a gated dev with an approval and smoke tests, an environment no stage deploys
    const doc = fooDocument();
    doc.environments.sandbox = { account: '555555555555', region: 'eu-west-1' };
    Object.assign(doc.pipeline.stages[0], { requiredChecks: ['ci/unit'], approval: true, tests: ['npm run smoke'] });
    doc.pipeline.services['foobar-frontend'].source.codecommit.create = true;
    doc.pipeline.services['foobar-api'] = { source: { connection: { arn: CONNECTION_2, repository: 'acme/foobar-api' } } };
    doc.pipeline.rollbackOnFailure = true;
    doc.pipeline.executionMode = 'QUEUED';
    doc.pipeline.stages[2].approval = { comment: 'Ship foo?', notify: ['release@example.com'] };
    doc.pipeline.notifications = { emails: ['ops@example.com'] };
    json = render(doc).template.toJSON();
  }, 120_000);

  test('an approval asked for before production stops the release there; rollbackOnFailure rolls each stage back', () => {
    const all = pipelinesByName(json);
    const release = all['foo-release'];
    expect(actionsOf(release, 'production').map((a: any) => [a.Name, a.RunOrder])).toEqual([
      ['Approve', 1], ...['foobar-frontend', 'foobar-backend', 'foobar-api'].map(x => [`Deploy-${x}-production`, 2]),
    ]);
    expect(actionsOf(release, 'production')[0].Configuration).toEqual(expect.objectContaining({ CustomData: 'Ship foo?', NotificationArn: expect.anything() }));
    for (const name of ['hardening', 'production']) expect(stageOf(release, name).OnFailure).toEqual({ Result: 'ROLLBACK' });
    expect(stageOf(all['foo-foobar-api'], 'dev').OnFailure).toEqual({ Result: 'ROLLBACK' });
    for (const p of Object.values(all)) expect(p.ExecutionMode).toBe('QUEUED');
  });

  test('a gated per-service stage: the gate on the service\'s own commit, the approval, the deployment, then the tests in the service\'s checkout', () => {
    const all = pipelinesByName(json);
    for (const service of ['foobar-frontend', 'foobar-backend', 'foobar-api']) {
      const p = all[`foo-${service}`];
      const namespace = actionsOf(p, 'Source')[0].Namespace;
      const dev = actionsOf(p, 'dev');
      expect(dev.map((a: any) => [a.Name, a.RunOrder, a.ActionTypeId.Category])).toEqual([['StatusChecks', 1, 'Invoke'], ['Approve', 2, 'Approval'], ['Deploy-dev', 3, 'Build'], ['Tests', 4, 'Build']]);
      expect(JSON.parse(dev[0].Configuration.UserParameters)).toEqual(expect.objectContaining({ pipeline: 'foo', stage: 'dev', revision: `#{${namespace}.CommitId}` }));
      expect(dev[3].InputArtifacts).toEqual([{ Name: 'Source' }]);
      expect(variablesOf(dev[3])).toEqual({ DDK_SERVICE: service });
    }
  });

  test('DDK_ENVIRONMENTS holds only the environments the stages deploy, and cicd', () => {
    const synth = resourcesOfType(json, 'AWS::CodeBuild::Project').find(([id]) => /ReleasesSynthfoobarapi/.test(id))!;
    const value = JSON.parse(projectVariables(json, synth[0]).DDK_ENVIRONMENTS);
    expect(Object.keys(value)).toEqual(['cicd', 'dev', 'hardening', 'production']);
  });

  test('a created repository is retained and never seeded; every pipeline notifies', () => {
    const repos = resourcesOfType(json, 'AWS::CodeCommit::Repository');
    expect(repos.map(([, r]) => [r.Properties.RepositoryName, r.DeletionPolicy, r.UpdateReplacePolicy])).toEqual([['foobar-frontend', 'RetainExceptOnCreate', 'Retain']]);
    expect(resourcesOfType(json, 'Custom::DdkRepositorySeed')).toEqual([]);
    const sources = resourcesOfType(json, 'AWS::CodeStarNotifications::NotificationRule').map(([, r]) => JSON.stringify(r.Properties.Resource));
    expect(sources).toHaveLength(4);
    for (const [id] of resourcesOfType(json, 'AWS::CodePipeline::Pipeline')) expect(sources.filter(x => x.includes(id))).toHaveLength(1);
  });

  test('each release source action may use only its own service\'s connection', () => {
    const backend = statementsOf(json, /ReleasesReleasePipelineSourceSourcefoobarbackendCodePipelineActionRole/);
    const api = statementsOf(json, /ReleasesReleasePipelineSourceSourcefoobarapiCodePipelineActionRole/);
    expect(backend[0].Resource).toBe(FOO_CONNECTION_ARN);
    expect(api[0].Resource).toBe(CONNECTION_2);
    expect(JSON.stringify(backend)).not.toContain(CONNECTION_2);
    expect(JSON.stringify(api)).not.toContain(FOO_CONNECTION_ARN);
  });
});

test('a per-service stage with more environments than a CodePipeline stage holds is split in each service\'s pipeline', () => {
  const envs = environments(52);
  const ids = Object.keys(envs).filter(e => e !== 'cicd');
  const doc = fooDocument();
  doc.environments = envs;
  doc.pipeline.stages = [{ name: 'dev', environments: ids.slice(0, 51) }, { name: 'hardening', environments: [ids[51]], bracket: true }];
  const all = pipelinesByName(render(doc).template.toJSON());
  expect(all['foo-foobar-frontend'].Stages.map((st: any) => st.Name)).toEqual(['Source', 'Build', 'dev', 'dev-2', 'Candidate']);
  expect(actionsOf(all['foo-foobar-frontend'], 'dev')).toHaveLength(50);
  for (const p of Object.values(all)) expect(pipelineLimitProblems(p, 'ddk.json')).toEqual([]);
}, 120_000);

describe('limits and mistakes, refused with the file, the value and the fix', () => {
  test('a bracket stage whose services × environments do not fit one CodePipeline stage', () => {
    const envs = environments(18);
    const doc = fooDocument();
    doc.environments = envs;
    doc.pipeline.services['foobar-api'] = { source: { codecommit: { repository: 'foobar-api' } } };
    const ids = Object.keys(envs).filter(e => e !== 'cicd');
    doc.pipeline.stages = [{ name: 'dev', environments: ['env1'] }, { name: 'hardening', environments: ids.slice(1), bracket: true, tests: ['npm run perf'] }];
    expect(() => render(doc)).toThrow('ddk.json: pipeline.stages[1] "hardening": a bracket stage deploys every service into every one of its environments in one CodePipeline stage: 3 services × 17 environments = 51 deploy actions, plus 1 for the gate, approval and tests, more than the 50 actions a CodePipeline stage allows. Fix: split the stage\'s environments over consecutive bracket stages');
  });

  test('a deploy action name over CodePipeline\'s 100 characters', () => {
    const doc = fooDocument();
    const long = `e${'x'.repeat(63)}`;
    doc.environments[long] = { account: '555555555555', region: 'eu-west-1' };
    doc.pipeline.services = { [`s${'v'.repeat(39)}`]: { source: { codecommit: { repository: 'long' } } } };
    doc.pipeline.name = 'f';
    doc.pipeline.stages[2].environments = [long];
    expect(() => render(doc)).toThrow(`ddk.json: pipeline.stages[2] "production": the action "Deploy-s${'v'.repeat(39)}-${long}" (service s${'v'.repeat(39)}, environment ${long}) is longer than CodePipeline's 100 characters. Fix: shorten the service name or the environment id`);
  });

  test('more bracket stages than the release pipeline holds', () => {
    const envs = environments(50);
    const ids = Object.keys(envs).filter(e => e !== 'cicd');
    const doc = fooDocument();
    doc.environments = envs;
    doc.pipeline.stages = ids.map((id, i) => ({ name: `s${i}`, environments: [id], ...(i === 1 ? { bracket: true } : {}) }));
    expect(() => render(doc)).toThrow('ddk.json: pipeline.stages: the release pipeline "foo-release" would have 51 stages (Source, Build and 49 bracket stages), more than the 50 a pipeline allows. Fix: put environments that are released together into one bracket stage');
  });

  test('more services than a Source or Build stage holds', () => {
    const doc = fooDocument();
    doc.pipeline.services = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`s${i}`, { source: { codecommit: { repository: `r${i}` } } }]));
    expect(() => render(doc)).toThrow('ddk.json: pipeline.services: 51 services; the release pipeline\'s Source and Build stages hold one action per service, at most the 50 actions a CodePipeline stage allows. Fix: declare at most 50 services');
  });

  test('environments too large for one CodeBuild environment variable', () => {
    const doc = fooDocument();
    doc.environments.dev.resources = { Bucket: { description: 'd'.repeat(4100) } };
    expect(() => render(doc)).toThrow(/^ddk\.json: environments: the environments the services deploy to take \d+ characters as DDK_ENVIRONMENTS, more than the 4096 CodeBuild accepts for one environment variable \("EnvironmentVariable should be at most 4096 characters"\)\. Fix: shorten what these environments write in ddk\.json/);
  });

  test('release settings too large for the release function\'s 4 KB environment', () => {
    // GIVEN 50 services with 40-character names and 20 bracket stages with 100-character names
    const envs = environments(21);
    const doc = fooDocument();
    doc.environments = envs;
    doc.pipeline.services = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`s${String(i).padStart(2, '0')}${'v'.repeat(37)}`, { source: { codecommit: { repository: `r${i}` } } }]));
    doc.pipeline.name = 'f';
    doc.pipeline.stages = Object.keys(envs).filter(e => e !== 'cicd').map((id, i) => ({ name: `${i}`.padEnd(100, 'n'), environments: [id], ...(i === 1 ? { bracket: true } : {}) }));
    expect(() => render(doc)).toThrow(/^ddk\.json: pipeline\.services: the release settings \(pipelines, services and bracket stages\) take \d+ bytes in the release function's environment, more than the \d+ bytes left of the 4096 bytes \(4 KB\) Lambda allows for a function's environment variables\. Fix: shorten the service and stage names, or declare fewer services$/);
  });
});

describe('the constructs on their own', () => {
  function parts(doc: any) {
    const app = new App({ context: CDK_CONTEXT });
    const stack = new Stack(app, 'Cicd', { env: { account: '111111111111', region: 'eu-west-1' } });
    const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, 'ddk.json'));
    const artifacts = new ArtifactStore(stack, 'Artifacts');
    const buildLogs = new BuildLogs(stack, 'BuildLogs', { key: artifacts.key, name: 'Cicd' });
    const statusChecks = new StatusChecks(stack, 'StatusChecks', { plan });
    return { stack, plan, artifacts, buildLogs, statusChecks };
  }

  test('ReleaseDelivery refuses a plan without services', () => {
    const p = parts(exampleDdkJson());
    expect(() => new ReleaseDelivery(p.stack, 'Releases', p))
      .toThrow('ReleaseDelivery Cicd/Releases: the plan of pipeline myapp has no services; expected a codepipeline-trunk plan with services (plan.releasePlan). Fix: declare "pipeline": {"strategy": "codepipeline-trunk", "services": {…}} in ddk.json, or do not create ReleaseDelivery');
  });

  test('grantReadReleases: execute-api:Invoke on exactly GET /releases and GET /releases/* of the deployed stage; refused without services', () => {
    const p = parts(fooDocument());
    const role = new iam.Role(p.stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    p.statusChecks.grantReadReleases(role);
    const policy = (Object.values(Template.fromStack(p.stack).findResources('AWS::IAM::Policy')) as any[]).find(x => x.Properties.Roles[0].Ref.startsWith('Reader'));
    const statement = policy.Properties.PolicyDocument.Statement;
    expect(statement).toHaveLength(1);
    expect(statement[0].Action).toBe('execute-api:Invoke');
    expect(statement[0].Resource.map((r: any) => r['Fn::Join'][1].at(-1))).toEqual(['/GET/releases', '/GET/releases/*']);
    const none = parts(exampleDdkJson());
    expect(none.statusChecks.releaseRoutes).toBe(false);
    expect(() => none.statusChecks.grantReadReleases(role)).toThrow('StatusChecks Cicd/StatusChecks: grantReadReleases: pipeline myapp has no services, so the API has no /releases routes to grant; expected a plan with services. Fix: declare "pipeline": {"services": {…}} in ddk.json, or do not grant release access');
    expect(JSON.stringify(Template.fromStack(none.stack).toJSON())).not.toContain('"releases"');
  });

  test('with services the status checks exist even when no stage requires a check: releases and candidates are recorded and served through them', () => {
    const doc = fooDocument();
    delete doc.pipeline.stages[1].requiredChecks;
    const { stack, template } = render(doc);
    const delivery = stack.delivery as CodePipelineDelivery;
    expect(delivery.statusChecks).toBeInstanceOf(StatusChecks);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    // no gate anywhere: hardening starts with its deployments
    expect(actionsOf(pipelinesByName(template.toJSON())['foo-release'], 'hardening')[0].Name).toBe('Deploy-foobar-frontend-hardening');
  }, 60_000);

  test('a ddk.json without services: no ReleaseDelivery, one pipeline as before', () => {
    const doc = exampleDdkJson();
    doc.pipeline.strategy = 'codepipeline-trunk';
    const { stack, template } = render(doc);
    expect((stack.delivery as CodePipelineDelivery).releases).toBeUndefined();
    expect(Object.keys(pipelinesByName(template.toJSON()))).toEqual(['myapp']);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/Releases|ReleaseFunction/);
  });
});

describe('CloudFormation\'s 500 resources per stack', () => {
  test('too many services for one CICD stack: the error names the services as the cause', () => {
    // GIVEN the foo story with 30 CodeCommit services (each has a pipeline, roles and projects of its own)
    const doc = fooDocument();
    doc.pipeline.services = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`svc-${i}`, { source: { codecommit: { repository: `svc-${i}` } } }]));
    const app = new App({ context: { ...CDK_CONTEXT, '@aws-cdk/core:validateAgainstDefaultRules': false } });
    const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, 'ddk.json'));
    new DeliveryPipelineStack(app, plan.cicdStackName, { plan, application: new SampleApplication() });
    // THEN synthesis stops with the limit, the count and the services named in the fix
    expect(() => app.synth()).toThrow(/more than the 500 a CloudFormation stack allows\. Fix: use fewer stages and services \(each service has a pipeline of its own; 30 now\)/);
  });
});
