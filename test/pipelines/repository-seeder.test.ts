import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { RepositorySeeder } from '../../lib/pipelines/repository-seeder';
import { CDK_CONTEXT } from '../helpers';

const ENV = { account: '111111111111', region: 'eu-west-1' };
const ACTIONS = ['codecommit:CreateBranch', 'codecommit:CreateCommit', 'codecommit:GetBranch', 'codecommit:GetRepository', 'codecommit:ListBranches']; // sorted, as aws-cdk-lib minimizes policies

function seededStack(withNag: boolean) {
  const app = new App({ context: CDK_CONTEXT });
  if (withNag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Cicd', { env: ENV });
  const repository = new codecommit.Repository(stack, 'Repository', { repositoryName: 'myapp' });
  const seeder = new RepositorySeeder(stack, 'Seeder', {
    repository,
    files: { 'ddk.json': '{"tags":{"application":"myapp"}}\n', 'README.md': '# myapp\n' },
    branches: ['dev', 'staging'],
  });
  return { app, stack, repository, seeder };
}

describe('RepositorySeeder', () => {
  // One synthesis with cdk-nag for the assertions below (synthesis with validation costs seconds).
  const { app, stack, repository, seeder } = seededStack(true);
  let cached: Template | undefined;
  const tpl = () => (cached ??= Template.fromStack(stack));

  test('synthesizes with zero unacknowledged cdk-nag findings and CloudFormation-validation errors', () => {
    expect(() => app.synth()).not.toThrow();
  });

  test('a custom resource with the repository, the files (sorted by path), the branches and the defaults', () => {
    tpl().resourceCountIs(RepositorySeeder.RESOURCE_TYPE, 1);
    tpl().hasResourceProperties(RepositorySeeder.RESOURCE_TYPE, {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SeederProviderframeworkonEvent'), 'Arn'] },
      repositoryName: { 'Fn::GetAtt': [stack.getLogicalId(repository.node.defaultChild as codecommit.CfnRepository), 'Name'] },
      files: [
        { path: 'README.md', content: '# myapp\n' },
        { path: 'ddk.json', content: '{"tags":{"application":"myapp"}}\n' },
      ],
      branches: ['dev', 'staging'],
      defaultBranch: 'main',
      commitMessage: 'Initial commit by ddk-pipelines',
      authorName: 'ddk-pipelines',
    });
  });

  test('deleting the stack runs the no-op Delete: the custom resource has no retain policy to hide behind, and the repository is not its child', () => {
    const [res] = Object.values(tpl().findResources(RepositorySeeder.RESOURCE_TYPE)) as any[];
    expect(res.DeletionPolicy).toBe('Delete');
    expect(seeder.node.findAll()).not.toContain(repository);
  });

  test('the seeding function: Node.js 22, the bundled handler, JSON logs into a log group with retention', () => {
    const fnId = stack.getLogicalId(seeder.handler.node.defaultChild as any);
    const fn = tpl().toJSON().Resources[fnId];
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Timeout: 300,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
    });
    const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref;
    expect(tpl().toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(365);
    // every function of the construct (seeding + provider framework) logs into a log group with retention
    const groups = tpl().findResources('AWS::Logs::LogGroup');
    expect(Object.keys(groups)).toHaveLength(2);
    for (const g of Object.values(groups) as any[]) expect(g.Properties.RetentionInDays).toBe(365);
    for (const f of Object.values(tpl().findResources('AWS::Lambda::Function')) as any[]) {
      expect(Object.keys(groups)).toContain(f.Properties.LoggingConfig.LogGroup.Ref);
    }
  });

  test('least privilege: the seeding role may call exactly the five CodeCommit actions, on this repository only', () => {
    const fn = tpl().toJSON().Resources[stack.getLogicalId(seeder.handler.node.defaultChild as any)];
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(tpl().findResources('AWS::IAM::Policy')) as any[];
    const mine = policies.filter(p => p.Properties.Roles.some((r: any) => r.Ref === roleId));
    expect(mine).toHaveLength(1);
    const statements: any[] = mine[0].Properties.PolicyDocument.Statement;
    const codecommitStatements = statements.filter(s => [s.Action].flat().some((a: string) => a.startsWith('codecommit:')));
    expect(codecommitStatements).toEqual([{
      Effect: 'Allow',
      Action: ACTIONS,
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(repository.node.defaultChild as codecommit.CfnRepository), 'Arn'] },
    }]);
    // the rest: writing its own log group, nothing else
    const others = statements.filter(s => !codecommitStatements.includes(s));
    expect(others.map(s => [s.Action].flat()).flat().sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    for (const s of others) expect(JSON.stringify(s.Resource)).toMatch(/SeederHandlerLogs/);
    // no managed policies (AWSLambdaBasicExecutionRole would grant logs on every log group)
    const role = tpl().toJSON().Resources[roleId];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(JSON.stringify(statements)).not.toMatch(/"\*"/);
  });

  test('the provider framework\'s role: invoke the seeding function, write its own log group; no managed policy', () => {
    const roles = tpl().findResources('AWS::IAM::Role');
    for (const r of Object.values(roles) as any[]) expect(r.Properties.ManagedPolicyArns).toBeUndefined();
    const fnArn = { 'Fn::GetAtt': [stack.getLogicalId(seeder.handler.node.defaultChild as any), 'Arn'] };
    tpl().hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^SeederProviderRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'lambda:InvokeFunction', Resource: [fnArn, { 'Fn::Join': ['', [fnArn, ':*']] }] }),
          Match.objectLike({ Action: 'lambda:GetFunction', Resource: fnArn }),
        ]),
      },
    });
  });

  test('an imported repository: the policy names its ARN', () => {
    const app2 = new App({ context: CDK_CONTEXT });
    const s = new Stack(app2, 'Imported', { env: ENV });
    new RepositorySeeder(s, 'Seeder', {
      repository: codecommit.Repository.fromRepositoryName(s, 'Repo', 'existing'),
      files: { 'README.md': 'x' },
      branches: [],
      defaultBranch: 'develop',
      logRetention: logs.RetentionDays.ONE_MONTH,
    });
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Effect: 'Allow',
          Action: ACTIONS,
          Resource: 'arn:aws:codecommit:eu-west-1:111111111111:existing',
        }]),
      },
    });
    t.hasResourceProperties(RepositorySeeder.RESOURCE_TYPE, { repositoryName: 'existing', defaultBranch: 'develop', branches: [] });
    t.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });
});

describe('RepositorySeeder props validation', () => {
  function seeder(props: Partial<ConstructorParameters<typeof RepositorySeeder>[2]>) {
    const s = new Stack(new App({ context: CDK_CONTEXT }), 'S', { env: ENV });
    return () => new RepositorySeeder(s, 'Seeder', {
      repository: codecommit.Repository.fromRepositoryName(s, 'Repo', 'r'),
      files: { 'README.md': 'x' },
      branches: ['dev'],
      ...props,
    });
  }

  test('every problem at once, naming the construct path, the prop and the value', () => {
    expect(seeder({ files: { '../escape': 'x', '/abs': 'y' }, branches: ['ok', 'has space'], defaultBranch: 'main.' }))
      .toThrow([
        'ddk-pipelines: invalid RepositorySeeder props (4 problems):',
        '  - RepositorySeeder S/Seeder: files: "../escape" has a "." or ".." segment; expected a relative path like "ddk.json" or "docs/README.md". Fix: rename the file',
        '  - RepositorySeeder S/Seeder: files: "/abs" is absolute; expected a relative path like "ddk.json" or "docs/README.md". Fix: rename the file',
        '  - RepositorySeeder S/Seeder: defaultBranch: "main." begins or ends with "/" or "."; expected a git branch name like "main" or "release/1.0". Fix: rename the branch',
        '  - RepositorySeeder S/Seeder: branches: "has space" contains a space, a control character or one of ? ^ * [ \\ ~ :; expected a git branch name like "main" or "release/1.0". Fix: rename the branch',
      ].join('\n'));
  });

  test('no files', () => {
    expect(seeder({ files: {} })).toThrow(/files is empty; expected at least one file/);
  });

  test('valid props construct', () => {
    expect(seeder({ branches: ['dev', 'release/1.0'] })).not.toThrow();
  });
});
