import { Resolver } from './cfn';
import { checkGatewayResponses, substitute, templateProblems } from './contracts/apigateway';
import { checkTemplateQuotas, CLOUDFORMATION } from './contracts/cloudformation';
import { checkCodeBuild, cliPinProblem, pinnedNodeMajor } from './contracts/codebuild';
import { checkCodePipeline } from './contracts/codepipeline';
import { checkEventRules, EVENT_PATTERN_MAX, scheduleProblem } from './contracts/events';
import { actionProblem, checkIamActionsAndConditions, checkPolicySizes, conditionKeyProblem, isConditionOperator } from './contracts/iam';
import { checkLambda, checkServiceProperties } from './contracts/services';
import { checkStatusCheckGates } from './contracts/status-checks';
import type { Finding } from './findings';

/*
 * Each contract on a tiny template that breaks it (so it cannot silently pass) and on one that
 * keeps it (so it does not cry wolf). The templates are what CloudFormation receives: plain JSON.
 */

const ENV = { account: '111111111111', region: 'eu-west-1' };
const stack = (resources: Record<string, any>, extra: Record<string, any> = {}) =>
  ({ displayName: 'Test', stackName: 'test-stack', ...ENV, template: { Resources: resources, ...extra } });
const contracts = (findings: Finding[]) => findings.map(f => f.contract);
const messages = (findings: Finding[]) => findings.map(f => f.message).join('\n');

describe('resolver', () => {
  const r = new Resolver(stack({
    Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
    Named: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'my-bucket' } },
    Repo: { Type: 'AWS::CodeCommit::Repository', Properties: { RepositoryName: 'repo' } },
  }));

  test('folds Ref, GetAtt, Join and Sub with the stack\'s values', () => {
    expect(r.resolve({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Named', 'Arn'] }, '/*']] })).toBe('arn:aws:s3:::my-bucket/*');
    expect(r.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' })).toBe('arn:aws:iam::111111111111:root');
    expect(r.resolve({ 'Fn::GetAtt': ['Repo', 'Name'] })).toBe('repo');
    // a generated bucket name: lower case, within S3's 63 characters, stable
    const name = r.ref('Bucket')!;
    expect(name).toMatch(/^[a-z0-9.-]{3,63}$/);
    expect(r.ref('Bucket')).toBe(name);
  });

  test('leaves what it cannot know unresolved, and estimates it loosely', () => {
    expect(r.resolve({ 'Fn::ImportValue': 'x' })).toBeUndefined();
    expect(r.resolveLoosely({ a: { 'Fn::ImportValue': 'x' } }).a).toMatch(/^UNRESOLVED-/);
  });
});

describe('CodePipeline contract', () => {
  const source = { Name: 'Source', ActionTypeId: { Category: 'Source', Owner: 'AWS', Provider: 'CodeCommit', Version: '1' }, Configuration: { RepositoryName: 'r', BranchName: 'main' }, OutputArtifacts: [{ Name: 'Src' }], Namespace: 'SourceVariables' };
  const build = (extra: any = {}) => ({ Name: 'Build', ActionTypeId: { Category: 'Build', Owner: 'AWS', Provider: 'CodeBuild', Version: '1' }, Configuration: { ProjectName: 'p' }, InputArtifacts: [{ Name: 'Src' }], ...extra });
  const pipeline = (stages: any[], props: any = {}) => stack({
    P: { Type: 'AWS::CodePipeline::Pipeline', Properties: { Name: 'my-pipeline', PipelineType: 'V2', ArtifactStore: { Type: 'S3', Location: 'b' }, Stages: stages, ...props } },
  });

  test('a well-formed pipeline passes', () => {
    expect(checkCodePipeline(pipeline([{ Name: 'Source', Actions: [source] }, { Name: 'Build', Actions: [build()] }]))).toEqual([]);
  });

  test('a configuration value over 1,000 characters fails (issue 9 item 4)', () => {
    const gate = { Name: 'Gate', ActionTypeId: { Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda', Version: '1' }, Configuration: { FunctionName: 'f', UserParameters: 'x'.repeat(1001) } };
    const f = checkCodePipeline(pipeline([{ Name: 'Source', Actions: [source] }, { Name: 'Gate', Actions: [gate] }]));
    expect(contracts(f)).toEqual(['codepipeline.configuration-value-length']);
    expect(messages(f)).toContain('1001 characters; CodePipeline allows 1 to 1000');
  });

  test('an empty configuration value fails (CodePipeline requires at least one character)', () => {
    const approval = { Name: 'Approve', ActionTypeId: { Category: 'Approval', Owner: 'AWS', Provider: 'Manual', Version: '1' }, Configuration: { CustomData: '' } };
    expect(contracts(checkCodePipeline(pipeline([{ Name: 'Source', Actions: [source] }, { Name: 'A', Actions: [approval] }])))).toEqual(['codepipeline.configuration-value-length']);
  });

  test('stage and action counts, names and run orders are held to the quotas', () => {
    const many = Array.from({ length: 51 }, (_, i) => build({ Name: `B${i}` }));
    const f = checkCodePipeline(pipeline([
      { Name: 'Source', Actions: [source] },
      { Name: 'Build', Actions: many },
      { Name: 'bad name', Actions: [build({ Name: 'x'.repeat(101), RunOrder: 1000 })] },
    ]));
    expect(new Set(contracts(f))).toEqual(new Set(['codepipeline.actions-per-stage', 'codepipeline.name', 'codepipeline.run-order']));
    expect(contracts(checkCodePipeline(pipeline([{ Name: 'Source', Actions: [source] }])))).toEqual(['codepipeline.stage-count']);
  });

  test('required configuration, artifact counts and artifact flow per action type', () => {
    const f = checkCodePipeline(pipeline([
      { Name: 'Source', Actions: [{ ...source, Configuration: { RepositoryName: 'r' } }] },
      { Name: 'Build', Actions: [build({ Configuration: {}, InputArtifacts: [{ Name: 'Missing' }] })] },
    ]));
    expect(messages(f)).toContain('requires the configuration property BranchName');
    expect(messages(f)).toContain('requires the configuration property ProjectName');
    expect(messages(f)).toContain('input artifact "Missing" is not the output of an earlier action');
    const noInput = checkCodePipeline(pipeline([{ Name: 'Source', Actions: [source] }, { Name: 'Build', Actions: [build({ InputArtifacts: [] })] }]));
    expect(contracts(noInput)).toEqual(['codepipeline.artifact-count']);
  });

  test('CloudFormation actions need the properties their mode requires', () => {
    const cfn = { Name: 'Deploy', ActionTypeId: { Category: 'Deploy', Owner: 'AWS', Provider: 'CloudFormation', Version: '1' }, Configuration: { ActionMode: 'CHANGE_SET_REPLACE', StackName: 's' }, InputArtifacts: [{ Name: 'Src' }] };
    const f = checkCodePipeline(pipeline([{ Name: 'Source', Actions: [source] }, { Name: 'Deploy', Actions: [cfn] }]));
    expect(messages(f)).toMatch(/ChangeSetName[\s\S]*TemplatePath[\s\S]*RoleArn/);
  });

  test('an unknown action type fails until its documented contract is added', () => {
    const odd = { Name: 'X', ActionTypeId: { Category: 'Deploy', Owner: 'AWS', Provider: 'ECS', Version: '1' }, Configuration: { ClusterName: 'c' }, InputArtifacts: [{ Name: 'Src' }] };
    expect(contracts(checkCodePipeline(pipeline([{ Name: 'Source', Actions: [source] }, { Name: 'D', Actions: [odd] }])))).toEqual(['codepipeline.action-type']);
  });

  test('variables must name a namespace an earlier action declares', () => {
    const use = (ns: string) => ({ Name: 'Gate', ActionTypeId: { Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda', Version: '1' }, Configuration: { FunctionName: 'f', UserParameters: `{"r":"#{${ns}.CommitId}","e":"#{codepipeline.PipelineExecutionId}"}` } });
    expect(checkCodePipeline(pipeline([{ Name: 'Source', Actions: [source] }, { Name: 'G', Actions: [use('SourceVariables')] }]))).toEqual([]);
    expect(contracts(checkCodePipeline(pipeline([{ Name: 'Source', Actions: [source] }, { Name: 'G', Actions: [use('Typo')] }])))).toEqual(['codepipeline.variables']);
  });

  test('V2 triggers: only for a CodeStarSourceConnection source action of the pipeline, within the filter limits', () => {
    const conn = { Name: 'GitHub', ActionTypeId: { Category: 'Source', Owner: 'AWS', Provider: 'CodeStarSourceConnection', Version: '1' }, Configuration: { ConnectionArn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/x', FullRepositoryId: 'o/r', BranchName: 'main' }, OutputArtifacts: [{ Name: 'Src' }] };
    const stages = [{ Name: 'Source', Actions: [conn] }, { Name: 'Build', Actions: [build()] }];
    const good = { Triggers: [{ ProviderType: 'CodeStarSourceConnection', GitConfiguration: { SourceActionName: 'GitHub', Push: [{ Branches: { Includes: ['main'] } }] } }] };
    expect(checkCodePipeline(pipeline(stages, good))).toEqual([]);
    const bad = { Triggers: [{ ProviderType: 'CodeStarSourceConnection', GitConfiguration: { SourceActionName: 'Nope', Push: [{ Branches: { Includes: Array.from({ length: 9 }, (_, i) => `b${i}`) } }] } }] };
    expect(messages(checkCodePipeline(pipeline(stages, bad)))).toMatch(/"Nope" is not a CodeStarSourceConnection source action[\s\S]*9 patterns; 1 to 8/);
    expect(contracts(checkCodePipeline(pipeline(stages, { ...good, PipelineType: 'V1' })))).toContain('codepipeline.triggers');
  });

  test('pull request triggers: 1 to 3 of the events OPEN, UPDATED, CLOSED (GitPullRequestFilter)', () => {
    const conn = { Name: 'Source', ActionTypeId: { Category: 'Source', Owner: 'AWS', Provider: 'CodeStarSourceConnection', Version: '1' }, Configuration: { ConnectionArn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/x', FullRepositoryId: 'o/r', BranchName: 'main' }, OutputArtifacts: [{ Name: 'Src' }] };
    const stages = [{ Name: 'Source', Actions: [conn] }, { Name: 'Build', Actions: [build()] }];
    const trigger = (events: any) => ({ Triggers: [{ ProviderType: 'CodeStarSourceConnection', GitConfiguration: { SourceActionName: 'Source', PullRequest: [{ Branches: { Includes: ['main'] }, Events: events }] } }] });
    expect(checkCodePipeline(pipeline(stages, trigger(['OPEN', 'UPDATED'])))).toEqual([]);
    expect(messages(checkCodePipeline(pipeline(stages, trigger(['OPEN', 'MERGED']))))).toContain('"MERGED" is not a pull request event (OPEN, UPDATED, CLOSED)');
    expect(contracts(checkCodePipeline(pipeline(stages, trigger([]))))).toEqual(['codepipeline.triggers']);
  });

  test('cross-Region actions need an artifact store in their Region', () => {
    const f = checkCodePipeline(pipeline([{ Name: 'Source', Actions: [source] }, { Name: 'Build', Actions: [build({ Region: 'us-east-1' })] }]));
    expect(contracts(f)).toEqual(['codepipeline.artifact-store']);
  });

  test('rollback on failure is not available in PARALLEL mode', () => {
    const f = checkCodePipeline(pipeline([{ Name: 'Source', Actions: [source] }, { Name: 'Build', Actions: [build()], OnFailure: { Result: 'ROLLBACK' } }], { ExecutionMode: 'PARALLEL' }));
    expect(contracts(f)).toEqual(['codepipeline.stage-conditions']);
  });
});

describe('EventBridge contract', () => {
  const rule = (props: any) => stack({ R: { Type: 'AWS::Events::Rule', Properties: props } });
  const pullRequests = (detail: any, detailType = ['CodeCommit Pull Request State Change']) => rule({
    EventPattern: { 'source': ['aws.codecommit'], 'detail-type': detailType, 'resources': ['arn:aws:codecommit:eu-west-1:111111111111:app'], detail },
  });

  test('patterns that name what CodeCommit and CodeBuild send pass', () => {
    expect(checkEventRules(pullRequests({ event: ['pullRequestCreated', 'pullRequestMergeStatusUpdated'], destinationReference: ['refs/heads/main'] }))).toEqual([]);
    expect(checkEventRules(rule({
      EventPattern: { 'source': ['aws.codebuild'], 'detail-type': ['CodeBuild Build State Change'], 'detail': { 'project-name': [{ Ref: 'P' }], 'build-status': ['SUCCEEDED', 'TIMED_OUT'] } },
    }))).toEqual([]);
    expect(checkEventRules(rule({ EventPattern: { 'source': ['aws.codecommit'], 'detail-type': ['CodeCommit Repository State Change'], 'detail': { event: ['referenceCreated'], referenceName: ['main'] } } }))).toEqual([]);
    // sources the contract does not know are left alone
    expect(checkEventRules(rule({ EventPattern: { 'source': ['ddk-pipelines.status-checks'], 'detail-type': ['Review Destroy Requested'], 'detail': { pipeline: ['app'] } } }))).toEqual([]);
  });

  test('a field, a value or a detail-type the service never sends matches nothing, and is found', () => {
    const f = checkEventRules(pullRequests({ event: ['pullRequestOpened'], destinationBranch: ['main'], destinationReference: ['main'] }));
    expect(contracts(f)).toEqual(['events.detail-values', 'events.detail-fields', 'events.detail-values']);
    expect(messages(f)).toMatch(/"pullRequestOpened" is not a value aws\.codecommit sends in detail\.event[\s\S]*no detail field "destinationBranch"[\s\S]*"main" does not look like/);
    expect(contracts(checkEventRules(pullRequests({}, ['CodeCommit Pull Request Changed'])))).toEqual(['events.detail-type']);
    const build = checkEventRules(rule({ EventPattern: { 'source': ['aws.codebuild'], 'detail-type': ['CodeBuild Build State Change'], 'detail': { 'build-status': ['SUCCESS'] } } }));
    expect(messages(build)).toContain('"SUCCESS" is not a value aws.codebuild sends in detail.build-status');
    expect(contracts(checkEventRules(rule({ EventPattern: { source: ['aws.codebuild'], detailType: ['x'] } })))).toEqual(['events.pattern-fields']);
  });

  test(`a pattern over EventBridge's ${EVENT_PATTERN_MAX} characters is found`, () => {
    const branches = Array.from({ length: 60 }, (_, i) => `refs/heads/feature/a-rather-long-branch-name-${i}`);
    expect(contracts(checkEventRules(pullRequests({ destinationReference: branches })))).toEqual(['events.pattern-size']);
  });

  test('schedule expressions: rate with a positive value and a unit that agrees with it, or cron with six fields', () => {
    expect(scheduleProblem('rate(15 minutes)')).toBeUndefined();
    expect(scheduleProblem('rate(1 hour)')).toBeUndefined();
    expect(scheduleProblem('cron(0/15 * * * ? *)')).toBeUndefined();
    expect(scheduleProblem('rate(1 minutes)')).toMatch(/singular exactly when the value is 1/);
    expect(scheduleProblem('rate(15 minute)')).toMatch(/singular exactly when the value is 1/);
    expect(scheduleProblem('rate(0 minutes)')).toMatch(/positive whole number/);
    expect(scheduleProblem('cron(0/15 * * * ?)')).toMatch(/six fields/);
    expect(scheduleProblem('every 15 minutes')).toMatch(/neither rate/);
    expect(contracts(checkEventRules(rule({ ScheduleExpression: 'rate(5 minute)' })))).toEqual(['events.schedule']);
  });
});

describe('IAM contract', () => {
  test('actions and wildcards must exist in the Service Authorization Reference', async () => {
    expect(await actionProblem('s3:GetObject')).toBeUndefined();
    expect(await actionProblem('s3:GetObject*')).toBeUndefined();
    expect(await actionProblem('codeconnections:UseConnection')).toBeUndefined();
    expect(await actionProblem('s3:GetObjekt')).toBe('is not a s3 action');
    expect(await actionProblem('s3:Fly*')).toBe('matches no s3 action');
    expect(await actionProblem('nosuchservice:Do')).toMatch(/service prefix "nosuchservice"/);
  });

  test('condition keys and operators must exist', async () => {
    expect(await conditionKeyProblem('aws:PrincipalArn')).toBeUndefined();
    expect(await conditionKeyProblem('kms:EncryptionContext:aws:logs:arn')).toBeUndefined();
    expect(await conditionKeyProblem('aws:PrincipleArn')).toBeDefined();
    expect(isConditionOperator('ForAnyValue:StringLikeIfExists')).toBe(true);
    expect(isConditionOperator('StringMatches')).toBe(false);
  });

  test('every policy of a template is read: inline, role, key and bucket policies', async () => {
    const doc = (Action: any, Condition?: any) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource: '*', ...(Condition ? { Condition } : {}) }] });
    const f = await checkIamActionsAndConditions(stack({
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: doc('sts:AssumeRole'), Policies: [{ PolicyName: 'p', PolicyDocument: doc('s3:Nope') }] } },
      Policy: { Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: doc('codestar-connections:UseConnection'), Roles: [{ Ref: 'Role' }] } },
      Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: doc('kms:Decrypt', { StringEquals: { 'kms:ViaServic': 's3.eu-west-1.amazonaws.com' } }) } },
      BucketPolicy: { Type: 'AWS::S3::BucketPolicy', Properties: { Bucket: 'b', PolicyDocument: doc(['s3:GetObject*', 'sqs:Fly*']) } },
    }));
    expect(f.map(x => `${x.contract} ${x.message}`)).toEqual([
      'iam.action-exists "s3:Nope" is not a s3 action',
      'iam.condition-key-exists "kms:ViaServic" is neither a global condition key nor a key of its service',
      'iam.action-exists "sqs:Fly*" matches no sqs action',
    ]);
  });

  test('policy sizes: a role\'s inline policies together, managed policies, key and bucket policies', () => {
    const big = (n: number) => ({ Version: '2012-10-17', Statement: Array.from({ length: n }, (_, i) => ({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::bucket-${i}-${'x'.repeat(40)}/*` })) });
    const f = checkPolicySizes(stack({
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: big(1), Policies: [{ PolicyName: 'a', PolicyDocument: big(60) }] } },
      Extra: { Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: big(60), Roles: [{ Ref: 'Role' }] } },
      Managed: { Type: 'AWS::IAM::ManagedPolicy', Properties: { PolicyDocument: big(70) } },
      Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: big(300) } },
      BucketPolicy: { Type: 'AWS::S3::BucketPolicy', Properties: { Bucket: 'b', PolicyDocument: big(200) } },
    }));
    expect(contracts(f).sort()).toEqual(['iam.policy-size', 'iam.policy-size', 'kms.key-policy-size', 's3.bucket-policy-size']);
    expect(messages(f)).toMatch(/inline policies of the role total \d+ characters; IAM allows 10240/);
    expect(checkPolicySizes(stack({ Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: big(1), Policies: [{ PolicyName: 'a', PolicyDocument: big(40) }] } } }))).toEqual([]);
  });
});

describe('CloudFormation template quotas', () => {
  test('resources, logical ids and size', () => {
    const resources = Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`R${i}`, { Type: 'AWS::SNS::Topic' }]));
    expect(contracts(checkTemplateQuotas(stack(resources)))).toEqual(['cloudformation.template-quota']);
    expect(contracts(checkTemplateQuotas(stack({ 'bad-id': { Type: 'AWS::SNS::Topic' } })))).toEqual(['cloudformation.logical-id']);
    expect(contracts(checkTemplateQuotas({ ...stack({}), bytes: CLOUDFORMATION.templateBytesFromS3 + 1 }))).toEqual(['cloudformation.template-size']);
    expect(checkTemplateQuotas(stack({ Ok: { Type: 'AWS::SNS::Topic' } }))).toEqual([]);
  });
});

describe('CodeBuild contract', () => {
  const project = (spec: any, extra: any = {}) => stack({
    Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 365 } },
    Project: {
      Type: 'AWS::CodeBuild::Project',
      Properties: {
        Environment: { Image: 'aws/codebuild/standard:7.0' },
        Source: { Type: 'CODEPIPELINE', BuildSpec: typeof spec === 'string' ? spec : JSON.stringify(spec) },
        LogsConfig: { CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: 'Logs' } } },
        ...extra,
      },
    },
  });
  const pinned = (v: any) => ({ version: '0.2', phases: { install: { 'runtime-versions': { nodejs: v } }, build: { commands: ['npm test'] } } });

  test('a pinned Node.js 22 on an image offering it, with retained logs, passes', () => {
    expect(checkCodeBuild(project(pinned(22)))).toEqual([]);
    expect(checkCodeBuild(project(pinned('22.x')))).toEqual([]);
  });

  test('no pin, an old pin, or an image without the version fails (issue 9 item 1)', () => {
    expect(messages(checkCodeBuild(project({ version: '0.2', phases: { build: { commands: ['npm test'] } } })))).toMatch(/pins no Node.js version/);
    expect(messages(checkCodeBuild(project(pinned(18))))).toMatch(/pins Node.js 18; the project needs 22/);
    expect(contracts(checkCodeBuild(project(pinned(22), { Environment: { Image: 'aws/codebuild/standard:5.0' } })))).toEqual(['codebuild.image']);
    expect(pinnedNodeMajor('latest')).toBeUndefined();
  });

  test('logs must go to a log group with a retention (issue 9 item 12)', () => {
    expect(contracts(checkCodeBuild(project(pinned(22), { LogsConfig: undefined })))).toEqual(['codebuild.logs']);
    const noRetention = project(pinned(22));
    delete noRetention.template.Resources.Logs.Properties.RetentionInDays;
    expect(messages(checkCodeBuild(noRetention))).toMatch(/has no RetentionInDays/);
  });

  test('the AWS CDK CLI is installed at an exact version (issue 9 item 10)', () => {
    const withCommands = (commands: string[]) => ({ ...pinned(22), phases: { ...pinned(22).phases, build: { commands } } });
    expect(checkCodeBuild(project(withCommands(['npx --yes aws-cdk@2.1148.1 deploy --all', 'npm ci'])))).toEqual([]);
    expect(messages(checkCodeBuild(project(withCommands(['npm install -g aws-cdk@2']))))).toMatch(/version "2", not an exact version/);
    expect(messages(checkCodeBuild(project(withCommands(['npm install -g aws-cdk']))))).toMatch(/without a version/);
    expect(cliPinProblem('cdk -a . deploy my-pipeline --require-approval=never')).toBeUndefined();
  });

  test('a buildspec this contract cannot read fails rather than passing unread', () => {
    expect(contracts(checkCodeBuild(project('buildspec.yml')))).toEqual(['codebuild.buildspec']);
    expect(contracts(checkCodeBuild(project('version: 0.2\nphases:\n  build: {}\n')))).toEqual(['codebuild.buildspec']);
  });
});

describe('API Gateway gateway responses', () => {
  test('simple substitutions that give JSON pass', () => {
    expect(templateProblems('application/json', '{"message": $context.error.messageString, "id": "$context.requestId"}')).toEqual([]);
    expect(substitute('{"m": $context.error.messageString}')).toBe('{"m": "Invalid request body"}');
  });

  test('VTL, $util and bodies that are not JSON fail (issue 9 item 5)', () => {
    expect(templateProblems('application/json', '{"message": "$util.escapeJavaScript($context.error.validationErrorString)"}').join('\n')).toMatch(/calls "\$util.escapeJavaScript/);
    expect(templateProblems('application/json', '#set($x = 1){"a": 1}').join('\n')).toMatch(/VTL directive/);
    // the validator's message holds double quotes: unescaped inside a JSON string it breaks the body
    expect(templateProblems('application/json', '{"message": "$context.error.validationErrorString"}').join('\n')).toMatch(/is not JSON once realistic values are substituted/);
  });

  test('reads the templates of AWS::ApiGateway::GatewayResponse resources', () => {
    const f = checkGatewayResponses(stack({ R: { Type: 'AWS::ApiGateway::GatewayResponse', Properties: { ResponseType: 'BAD_REQUEST_BODY', ResponseTemplates: { 'application/json': '{"message": $input.body}' } } } }));
    expect(contracts(f)).toEqual(['apigateway.gateway-response', 'apigateway.gateway-response']);
  });
});

describe('Lambda and other services', () => {
  test('deprecated runtimes and oversized environments fail', () => {
    const fn = (Runtime: string, Variables: any = {}) => stack({ F: { Type: 'AWS::Lambda::Function', Properties: { Runtime, Environment: { Variables } } } });
    expect(checkLambda(fn('nodejs22.x'))).toEqual([]);
    expect(checkLambda(fn('nodejs24.x'))).toEqual([]);
    expect(messages(checkLambda(fn('nodejs20.x')))).toMatch(/nodejs20.x is deprecated/);
    expect(contracts(checkLambda(fn('nodejs22.x', { BIG: 'x'.repeat(4100) })))).toEqual(['lambda.environment-size']);
  });

  test('log retention values, SNS display names, notification events, lifecycle rules', () => {
    const f = checkServiceProperties(stack({
      L: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 42 } },
      T: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: `Approval needed: ${'s'.repeat(100)}` } },
      N: { Type: 'AWS::CodeStarNotifications::NotificationRule', Properties: { Name: 'n', EventTypeIds: ['codepipeline-pipeline-pipeline-execution-failed', 'codepipeline-pipeline-pipeline-execution-exploded'] } },
      B: { Type: 'AWS::S3::Bucket', Properties: { LifecycleConfiguration: { Rules: [{ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } }] } } },
    }));
    expect(contracts(f)).toEqual(['logs.retention', 'sns.display-name', 'notifications.event-type', 's3.lifecycle']);
  });
});

describe('status-check gates can be reported through the API', () => {
  const api = (contexts: string[], where: 'parameters' | 'environment', model = true) => stack({
    Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'checks' } },
    ...(model ? { Model: { Type: 'AWS::ApiGateway::Model', Properties: { Name: 'CheckReport', Schema: { properties: { context: { type: 'string', pattern: '^[a-z]+/[a-z]+$' } } } } } } : {}),
    ...(where === 'environment'
      ? { Fn: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { SETTINGS: JSON.stringify({ pipeline: 'p', stages: [{ name: 'prod', requiredChecks: contexts }] }) } } } } }
      : {
        P: {
          Type: 'AWS::CodePipeline::Pipeline',
          Properties: { Stages: [{ Name: 'prod', Actions: [{ Name: 'Gate', ActionTypeId: { Provider: 'Lambda' }, Configuration: { UserParameters: JSON.stringify({ pipeline: 'p', stage: 'prod', requiredChecks: contexts }) } }] }] },
        },
      }),
  });

  test.each(['parameters', 'environment'] as const)('a context longer than the API function accepts fails (%s)', where => {
    expect(checkStatusCheckGates(api(['ci/integration'], where, false))).toEqual([]);
    const f = checkStatusCheckGates(api([`ci/${'x'.repeat(300)}`], where, false));
    expect(contracts(f)).toEqual(['status-checks.reportable']);
    expect(messages(f)).toMatch(/is 303 characters, more than the 255 allowed \(the API function's validation\)/);
  });

  test('a context the API\'s request model rejects fails', () => {
    expect(messages(checkStatusCheckGates(api(['ci/Integration-2'], 'parameters')))).toMatch(/does not match \^\[a-z\]\+\/\[a-z\]\+\$ \(the API's request model\)/);
  });
});
