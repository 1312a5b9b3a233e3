import { AccessInput, AccessReview, AccessTarget, bootstrapRole, checkAccess, reviewCases, simulate } from './access';
import type { StackTemplate } from './synthesize';

/*
 * The access simulation (IAM's evaluation logic, @cloud-copilot/iam-simulate) on tiny templates
 * shaped like the pipelines' own: it passes the policies that grant what they should and finds
 * the ones that grant too much or too little.
 */

const CICD = { account: '111111111111', region: 'eu-west-1' };
const dev: AccessTarget = { id: 'dev', account: '222222222222', region: 'eu-west-1', qualifier: 'hnb659fds', stage: 'dev' };
const prod: AccessTarget = { id: 'prod', account: '333333333333', region: 'eu-west-1', qualifier: 'hnb659fds', stage: 'prod' };

const cicdStack = (resources: Record<string, any>): StackTemplate =>
  ({ stackName: 'app-pipeline', displayName: 'app-pipeline', kind: 'cicd', ...CICD, template: { Resources: resources }, bytes: 0, templateFile: '' });
const doc = (...Statement: any[]) => ({ Version: '2012-10-17', Statement });

/** A CDK Pipelines-like artifact store whose grants to the targets' deploy roles match `deployRolePattern`. */
function artifacts(deployRolePattern: string): Record<string, any> {
  const grant = (Action: string[], Resource: any) => ({
    Effect: 'Allow',
    Principal: { AWS: ['arn:aws:iam::222222222222:root', 'arn:aws:iam::333333333333:root'] },
    Action,
    Resource,
    Condition: { ArnLike: { 'aws:PrincipalArn': [deployRolePattern] } },
  });
  const bucketArn = { 'Fn::GetAtt': ['Bucket', 'Arn'] };
  return {
    Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: doc({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:*', Resource: '*' }, grant(['kms:Decrypt', 'kms:DescribeKey'], '*')) } },
    Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
    BucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'Bucket' },
        PolicyDocument: doc(
          { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
          grant(['s3:GetObject*', 's3:GetBucket*', 's3:List*'], [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }]),
        ),
      },
    },
    Pipeline: {
      Type: 'AWS::CodePipeline::Pipeline',
      Properties: { Name: 'app', ArtifactStore: { Type: 'S3', Location: { Ref: 'Bucket' }, EncryptionKey: { Id: { 'Fn::GetAtt': ['Key', 'Arn'] }, Type: 'KMS' } }, Stages: [] },
    },
  };
}

const input = (strategy: string, resources: Record<string, any>, targets = [dev, prod]): AccessInput =>
  ({ strategy, cicd: CICD, targets, stacks: [cicdStack(resources)] });

describe('artifacts', () => {
  test('grants scoped to each target\'s region: the deploy roles read and decrypt, nobody else', async () => {
    expect(await checkAccess(input('cdk-pipelines', artifacts('arn:aws:iam::*:role/cdk-hnb659fds-deploy-role-*-eu-west-1')))).toEqual([]);
  });

  test('grants that match every region let another region\'s deploy role read (issue 9 item 13)', async () => {
    const findings = await checkAccess(input('cdk-pipelines', artifacts('arn:aws:iam::*:role/cdk-hnb659fds-deploy-role-*')));
    expect(findings.map(f => f.contract)).toEqual(Array(4).fill('access.artifacts'));
    expect(findings[0].message).toMatch(/deploy role of another region \(ap-southeast-2\).*CAN s3:GetObject/);
  });

  test('grants to the wrong role name leave the targets unable to read', async () => {
    const findings = await checkAccess(input('cdk-pipelines', artifacts('arn:aws:iam::*:role/cdk-hnb659fds-cfn-exec-role-*')));
    expect(findings.map(f => f.message).join('\n')).toMatch(/target dev's deploy role reads its region's artifacts.*cannot s3:GetObject[\s\S]*cannot kms:Decrypt/);
  });
});

describe('deploy projects', () => {
  const project = (resources: string[]) => ({
    Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'sts:AssumeRole' }) } },
    RolePolicy: { Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: resources }) } },
    Project: { Type: 'AWS::CodeBuild::Project', Properties: { ServiceRole: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
    Pipeline: {
      Type: 'AWS::CodePipeline::Pipeline',
      Properties: {
        Name: 'app',
        Stages: [{
          Name: 'dev',
          Actions: [{ Name: 'Deploy-dev', ActionTypeId: { Provider: 'CodeBuild' }, Configuration: { ProjectName: { Ref: 'Project' }, EnvironmentVariables: JSON.stringify([{ name: 'DDK_ENVIRONMENT', value: 'dev', type: 'PLAINTEXT' }]) } }],
        }],
      },
    },
  });

  test('a role that may assume its stage\'s bootstrap roles only passes', async () => {
    expect(await checkAccess(input('codepipeline-trunk', project(['arn:aws:iam::222222222222:role/cdk-hnb659fds-*-role-222222222222-eu-west-1'])))).toEqual([]);
  });

  test('a role that may assume any role of the targets\' accounts is found', async () => {
    const findings = await checkAccess(input('codepipeline-trunk', project(['arn:aws:iam::222222222222:role/*', 'arn:aws:iam::333333333333:role/*'])));
    expect(findings.map(f => f.message).join('\n')).toMatch(/no bootstrap role: .* CAN sts:AssumeRole[\s\S]*another stage's target prod .* CAN sts:AssumeRole/);
  });
});

describe('connection sources', () => {
  const source = (arn: string, action: string) => ({
    Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'sts:AssumeRole' }) } },
    RolePolicy: { Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: doc({ Effect: 'Allow', Action: action, Resource: arn }) } },
    Pipeline: {
      Type: 'AWS::CodePipeline::Pipeline',
      Properties: {
        Name: 'app',
        Stages: [{ Name: 'Source', Actions: [{ Name: 'GitHub', RoleArn: { 'Fn::GetAtt': ['Role', 'Arn'] }, ActionTypeId: { Provider: 'CodeStarSourceConnection' }, Configuration: { ConnectionArn: arn } }] }],
      },
    },
  });
  const codestar = 'arn:aws:codestar-connections:eu-west-1:111111111111:connection/11111111-2222-3333-4444-555555555555';
  const codeconnections = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/11111111-2222-3333-4444-555555555555';

  test('the action prefix of the connection\'s ARN passes', async () => {
    expect(await checkAccess(input('codepipeline-trunk', source(codestar, 'codestar-connections:UseConnection')))).toEqual([]);
    expect(await checkAccess(input('codepipeline-trunk', source(codeconnections, 'codeconnections:UseConnection')))).toEqual([]);
  });

  test('codestar-connections:UseConnection on a codeconnections ARN is found (issue 9 item 3)', async () => {
    const findings = await checkAccess(input('codepipeline-trunk', source(codeconnections, 'codestar-connections:UseConnection')));
    expect(findings.map(f => f.contract)).toEqual(['access.connection']);
    expect(findings[0].message).toMatch(/cannot codeconnections:UseConnection/);
  });
});

describe('server access logs', () => {
  const logged = (destinationPolicy: any[]) => ({
    Logs: { Type: 'AWS::S3::Bucket', Properties: {} },
    LogsPolicy: { Type: 'AWS::S3::BucketPolicy', Properties: { Bucket: { Ref: 'Logs' }, PolicyDocument: doc(...destinationPolicy) } },
    Data: { Type: 'AWS::S3::Bucket', Properties: { LoggingConfiguration: { DestinationBucketName: { Ref: 'Logs' }, LogFilePrefix: 'data/' } } },
  });
  const logsArn = { 'Fn::GetAtt': ['Logs', 'Arn'] };
  const tlsOnly = { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:*', Resource: [logsArn, { 'Fn::Join': ['', [logsArn, '/*']] }], Condition: { Bool: { 'aws:SecureTransport': 'false' } } };

  test('a destination whose policy lets S3\'s logging service write the prefix passes', async () => {
    const delivery = {
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [logsArn, '/data/*']] },
      Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': ['Data', 'Arn'] } }, StringEquals: { 'aws:SourceAccount': '111111111111' } },
    };
    expect(await checkAccess(input('cdk-pipelines', logged([tlsOnly, delivery]), []))).toEqual([]);
  });

  test('a destination that does not let it write is found (issue 9 item 7)', async () => {
    const findings = await checkAccess(input('cdk-pipelines', logged([tlsOnly]), []));
    expect(findings.map(f => f.contract)).toEqual(['access.access-logs']);
    expect(findings[0].message).toMatch(/logging.s3.amazonaws.com cannot s3:PutObject .*\/data\/2026/);
  });
});

describe('review deployments', () => {
  // GIVEN a review build and a review controller shaped like ReviewEnvironments' (CodeCommit source, review environment dev)
  const review: AccessReview = { target: { id: 'dev', account: '222222222222', region: 'eu-west-1', qualifier: 'hnb659fds' }, source: { kind: 'codecommit', repository: 'app' } };
  const repo = 'arn:aws:codecommit:eu-west-1:111111111111:app';
  const role = (service: string) => ({ Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }) } });
  const policy = (roleId: string, ...statements: any[]) => ({ Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: roleId }], PolicyDocument: doc(...statements) } });
  const reviewTemplate = (build: any[], controller: any[]) => ({
    BuildRole: role('codebuild.amazonaws.com'),
    BuildPolicy: policy('BuildRole', ...build),
    Build: { Type: 'AWS::CodeBuild::Project', Properties: { ServiceRole: { 'Fn::GetAtt': ['BuildRole', 'Arn'] }, Environment: { EnvironmentVariables: [{ Name: 'DDK_REVIEW_ASSEMBLY', Value: 'assembly-x' }] } } },
    OtherBuild: { Type: 'AWS::CodeBuild::Project', Properties: { ServiceRole: { 'Fn::GetAtt': ['BuildRole', 'Arn'] } } },
    ControllerRole: role('lambda.amazonaws.com'),
    ControllerPolicy: policy('ControllerRole', ...controller),
    Controller: {
      Type: 'AWS::Lambda::Function',
      Properties: { Role: { 'Fn::GetAtt': ['ControllerRole', 'Arn'] }, Environment: { Variables: { DDK_REVIEW_SETTINGS: '{}', STATUS_CHECKS_EVENT_BUS_NAME: 'arn:aws:events:eu-west-1:111111111111:event-bus/default' } } },
    },
  });
  const build = (assume: string) => [
    { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: assume },
    { Effect: 'Allow', Action: 'codecommit:GitPull', Resource: repo },
  ];
  const controller = (assume: string, events: any = { 'ForAllValues:StringEquals': { 'events:source': ['ddk-pipelines.status-checks'] }, 'Null': { 'events:source': 'false' } }) => [
    { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: assume },
    { Effect: 'Allow', Action: ['codebuild:StartBuild', 'codebuild:BatchGetProjects'], Resource: { 'Fn::GetAtt': ['Build', 'Arn'] } },
    { Effect: 'Allow', Action: 'events:PutEvents', Resource: 'arn:aws:events:eu-west-1:111111111111:event-bus/default', ...(events ? { Condition: events } : {}) },
    { Effect: 'Allow', Action: 'codecommit:PostCommentForPullRequest', Resource: repo },
  ];
  const scoped = 'arn:aws:iam::222222222222:role/cdk-hnb659fds-*-role-222222222222-eu-west-1';
  const deployRole = bootstrapRole('deploy', '222222222222', 'eu-west-1', 'hnb659fds');
  const withReview = (resources: Record<string, any>): AccessInput => ({ ...input('codepipeline-trunk', resources), review });

  test('least-privilege roles pass, and the cases are there to pass', async () => {
    const i = withReview(reviewTemplate(build(scoped), controller(deployRole)));
    expect(await checkAccess(i)).toEqual([]);
    const { cases, missing } = reviewCases(i);
    expect(missing).toEqual([]);
    // build: 4 bootstrap roles, Admin, a stranger, prod's deploy role, 2 repositories; controller: 1 + 3 + prod + 2 builds + 2 events + 2 comments
    expect(cases.length).toBe(9 + 11);
  });

  test('a review build that may assume any role of the review account, and a controller that may assume every bootstrap role, are found', async () => {
    const findings = await checkAccess(withReview(reviewTemplate(build('arn:aws:iam::222222222222:role/*'), controller(scoped))));
    expect(findings.map(f => f.contract)).toEqual(Array(findings.length).fill('access.reviews'));
    const text = findings.map(f => f.message).join('\n');
    expect(text).toMatch(/review build Build: a role of review account 222222222222 that is no bootstrap role: .* CAN sts:AssumeRole/);
    expect(text).toMatch(/review controller Controller: review environment dev's file-publishing role: .* CAN sts:AssumeRole/);
  });

  test('a controller that may publish any source\'s events is found', async () => {
    const findings = await checkAccess(withReview(reviewTemplate(build(scoped), controller(deployRole, false))));
    expect(findings.map(f => f.message)).toEqual([expect.stringMatching(/publishes events of another source: .* CAN events:PutEvents/)]);
  });

  test('a plan with a review section whose template has no review build or controller is found', async () => {
    const findings = await checkAccess(withReview({}));
    expect(findings.map(f => f.message)).toEqual([expect.stringMatching(/no review build project/), expect.stringMatching(/no review controller/)]);
  });
});

test('a simulation IAM refuses is reported, not taken for a denial', async () => {
  const problem = await simulate({
    description: 'mismatched prefix',
    principal: 'arn:aws:iam::111111111111:role/r',
    action: 'codestar-connections:UseConnection',
    resource: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/x',
    resourceAccount: '111111111111',
    expect: 'Denied',
    identityPolicies: [],
  });
  expect(problem).toMatch(/was refused/);
  expect(bootstrapRole('deploy', '222222222222', 'us-east-1', 'q1')).toBe('arn:aws:iam::222222222222:role/cdk-q1-deploy-role-222222222222-us-east-1');
});
