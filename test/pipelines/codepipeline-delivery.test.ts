import { Match, Template } from 'aws-cdk-lib/assertions';
import { CodePipelineDelivery } from '../../lib';
import { environments, exampleDdkJson, render, SEED_DDK_JSON } from '../helpers';

/** Every CodePipeline of a template, by name. */
function pipelines(template: Template): Record<string, any> {
  const out: Record<string, any> = {};
  for (const r of Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as any[]) out[r.Properties.Name] = r.Properties;
  return out;
}
const stageNames = (p: any) => p.Stages.map((s: any) => s.Name);
const stage = (p: any, name: string) => p.Stages.find((s: any) => s.Name === name);
const withStrategy = (strategy: string, extra: object = {}) => {
  const doc = exampleDdkJson();
  doc.pipeline = { ...doc.pipeline, strategy, ...extra };
  return doc;
};

describe('codepipeline-trunk', () => {
  const { template, stack } = render(withStrategy('codepipeline-trunk'));
  const p = pipelines(template).myapp;

  test('one V2 pipeline: source, one build, then the plan stages in order', () => {
    expect(Object.keys(pipelines(template))).toEqual(['myapp']);
    expect(p.PipelineType).toBe('V2');
    expect(p.ExecutionMode).toBe('SUPERSEDED');
    expect(stageNames(p)).toEqual(['Source', 'Build', 'development', 'production']);
  });

  test('the build installs, runs the unit tests and synthesizes once into the assembly every stage deploys', () => {
    const build = stage(p, 'Build').Actions[0];
    expect(build.OutputArtifacts).toEqual([{ Name: 'Assembly' }]);
    const spec = JSON.parse(Object.values(template.findResources('AWS::CodeBuild::Project', { Properties: { Description: Match.stringLikeRegexp('install, unit tests and synthesis') } }))
      .map((r: any) => r.Properties.Source.BuildSpec)[0]);
    expect(spec.phases.build.commands).toEqual(['npm ci', 'npm test', 'npx cdk synth']);
    expect(spec.artifacts['base-directory']).toBe('cdk.out');
    for (const name of ['development', 'production']) {
      for (const a of stage(p, name).Actions.filter((x: any) => x.Name.startsWith('Deploy-'))) expect(a.InputArtifacts).toEqual([{ Name: 'Assembly' }]);
    }
  });

  test('production: status-check gate, approval, then both environments in parallel from their own nested assembly, then tests', () => {
    const actions = stage(p, 'production').Actions;
    expect(actions.map((a: any) => [a.Name, a.RunOrder])).toEqual([['StatusChecks', 1], ['Approve', 2], ['Deploy-prod-eu', 3], ['Deploy-prod-us', 3], ['Tests', 4]]);
    expect(actions[0].ActionTypeId).toMatchObject({ Category: 'Invoke', Provider: 'Lambda' });
    expect(JSON.stringify(actions[0].Configuration.UserParameters)).toContain('\\"stage\\":\\"production\\"');
    expect(JSON.stringify(actions[0].Configuration.UserParameters)).toContain('#{Source_Source_NS.CommitId}'.replace('Source_Source_NS', (stage(p, 'Source').Actions[0].Namespace)));
    expect(stage(p, 'development').Actions.some((a: any) => a.ActionTypeId.Category === 'Invoke')).toBe(false);
    const env = JSON.parse(actions[2].Configuration.EnvironmentVariables);
    expect(env).toEqual(expect.arrayContaining([
      { name: 'DDK_ENVIRONMENT', type: 'PLAINTEXT', value: 'prod-eu' },
      { name: 'DDK_ASSEMBLY', type: 'PLAINTEXT', value: stack.delivery.applicationStages['prod-eu'].artifactId },
    ]));
    expect(actions[1].Configuration.NotificationArn).toBeDefined();
    expect(actions[4].InputArtifacts).toEqual([{ Name: 'Source' }]);
  });

  test('a stage\'s deploy role may assume only that stage\'s targets\' bootstrap roles', () => {
    const prodPolicy = Object.values(template.findResources('AWS::IAM::Policy')).map((r: any) => JSON.stringify(r.Properties.PolicyDocument))
      .find(d => d.includes('cdk-hnb659fds-*-role-333333333333-eu-west-1'))!;
    expect(prodPolicy).toContain(':iam::333333333333:role/cdk-hnb659fds-*-role-333333333333-eu-west-1');
    expect(prodPolicy).toContain(':iam::444444444444:role/cdk-hnb659fds-*-role-444444444444-us-east-1');
    expect(prodPolicy).not.toContain('222222222222');
    expect(prodPolicy).not.toMatch(/role\/\*|iam::\*/);
  });

  test('the artifact store is KMS-encrypted with rotation, SSL-only, versioned, public access blocked', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } })] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('adding an environment and a stage to ddk.json adds the stage when the CICD stack is deployed again', () => {
    const doc = withStrategy('codepipeline-trunk');
    doc.environments.qa = { account: '555555555555', region: 'eu-west-1' };
    doc.pipeline.stages.splice(1, 0, { name: 'qa', environments: ['qa'], approval: true });
    const q = pipelines(render(doc).template).myapp;
    expect(stageNames(q)).toEqual(['Source', 'Build', 'development', 'qa', 'production']);
    expect(stage(q, 'qa').Actions.map((a: any) => a.Name)).toEqual(['Approve', 'Deploy-qa']);
  });

  test('the delivery is a CodePipelineDelivery', () => {
    expect(stack.delivery).toBeInstanceOf(CodePipelineDelivery);
  });
});

describe('codepipeline-gitflow', () => {
  const { template } = render(withStrategy('codepipeline-gitflow'));
  const all = pipelines(template);

  test('one pipeline per plan stage, each on its own branch, deploying only that stage', () => {
    expect(Object.keys(all).sort()).toEqual(['myapp-development', 'myapp-production']);
    expect(stage(all['myapp-development'], 'Source').Actions[0].Configuration.BranchName).toBe('development');
    expect(stage(all['myapp-production'], 'Source').Actions[0].Configuration.BranchName).toBe('main');
    expect(stageNames(all['myapp-development'])).toEqual(['Source', 'Build', 'development']);
    expect(stageNames(all['myapp-production'])).toEqual(['Source', 'Build', 'production']);
    expect(stage(all['myapp-production'], 'production').Actions.map((a: any) => a.ActionTypeId.Category)).toEqual(['Invoke', 'Approval', 'Build', 'Build', 'Build']);
  });

  test('the created repository is retained and seeded with ddk.json, a README and the Gitflow branches', () => {
    template.hasResource('AWS::CodeCommit::Repository', { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    const seed = Object.values(template.findResources('Custom::DdkRepositorySeed')) as any[];
    expect(seed).toHaveLength(1);
    const props = JSON.stringify(seed[0].Properties);
    expect(props).toContain('development');
    expect(props).toContain('ddk.json');
    expect(props).toContain('README.md');
    expect(props).toContain('444444444444'); // the ddk.json content itself
  });

  test('an imported repository or a connection source is never seeded', () => {
    const imported = render(withStrategy('codepipeline-gitflow', { source: { codecommit: { repository: 'legacy', create: false } } })).template;
    imported.resourceCountIs('Custom::DdkRepositorySeed', 0);
    const connection = render(withStrategy('codepipeline-gitflow', {
      source: { connection: { arn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abcd', repository: 'acme/app' } },
    })).template;
    connection.resourceCountIs('Custom::DdkRepositorySeed', 0);
  });

  test('CodeCommit change detection on each branch', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')).map((r: any) => r.Properties.EventPattern.detail.referenceName);
    expect(rules.sort()).toEqual([['development'], ['main']]);
  });

  test('with a CodeConnections source, V2 triggers filter pushes on the branch', () => {
    const t = render(withStrategy('codepipeline-gitflow', {
      source: { connection: { arn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abcd', repository: 'acme/app' } },
    })).template;
    const dev = pipelines(t)['myapp-development'];
    expect(dev.Triggers).toEqual([{
      ProviderType: 'CodeStarSourceConnection',
      GitConfiguration: { SourceActionName: 'Source', Push: [{ Branches: { Includes: ['development'] } }] },
    }]);
  });
});

describe('limits', () => {
  test('Gitflow with more pipelines than one CloudFormation stack holds is a clear error naming the limit and the fix', () => {
    const envs = environments(40);
    expect(() => render({ environments: envs, pipeline: { strategy: 'codepipeline-gitflow' } }))
      .toThrow(/the CICD stack .* has \d+ resources, more than the 500 a CloudFormation stack allows\. Fix: use fewer stages \(codepipeline-gitflow creates one pipeline per stage/);
  });

  test('trunk with more stages than a pipeline holds is refused before anything is built', () => {
    expect(() => render({ environments: environments(49), pipeline: { strategy: 'codepipeline-trunk' } }))
      .toThrow(/at least 51 CodePipeline stages .* more than the 50 stages a pipeline allows\. Fix: put environments that may deploy together into one stage/);
  });

  test('trunk splits a stage with more environments than a CodePipeline stage holds', () => {
    const envs = environments(60);
    const ids = Object.keys(envs).filter(e => e !== 'cicd');
    const doc = { environments: envs, pipeline: { name: 'fleet-app', strategy: 'codepipeline-trunk', stages: [{ name: 'fleet', environments: ids, approval: true }] } };
    const p = pipelines(render(doc).template)['fleet-app'];
    expect(stageNames(p)).toEqual(['Source', 'Build', 'fleet', 'fleet-2']);
    expect(stage(p, 'fleet').Actions).toHaveLength(50);
    expect(stage(p, 'fleet').Actions[0].Name).toBe('Approve');
    expect(stage(p, 'fleet-2').Actions).toHaveLength(11);
  });

  test('trunk: a split stage skips a name another plan stage has', () => {
    // GIVEN 51 environments in "fleet" (one more than a CodePipeline stage holds) and a stage "fleet-2"
    const envs = environments(52);
    const ids = Object.keys(envs).filter(e => e !== 'cicd');
    const stages = [{ name: 'fleet', environments: ids.slice(0, 51) }, { name: 'fleet-2', environments: ids.slice(51) }];
    const p = pipelines(render({ environments: envs, pipeline: { name: 'fleet-app', strategy: 'codepipeline-trunk', stages } }).template)['fleet-app'];
    expect(stageNames(p)).toEqual(['Source', 'Build', 'fleet', 'fleet-3', 'fleet-2']);
  });
});

describe('across strategies', () => {
  test.each(['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'])('%s: the status-check gate precedes the approval and the deployments of each gated stage', strategy => {
    const { template } = render(withStrategy(strategy));
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasOutput('StatusChecksApiEndpoint', {});
    const prod = Object.values(pipelines(template)).map(x => stage(x, 'production')).find(Boolean);
    const order = prod.Actions.map((a: any) => [a.ActionTypeId.Category, a.RunOrder]);
    const gate = order.find(([c]: any) => c === 'Invoke')[1];
    const approval = order.find(([c]: any) => c === 'Approval')[1];
    const deploys = order.filter(([c, _]: any, i: number) => (c === 'Deploy' || (c === 'Build' && prod.Actions[i].Name.startsWith('Deploy-')))).map(([, r]: any) => r);
    expect(gate).toBeLessThan(approval);
    expect(Math.min(...deploys)).toBeGreaterThan(approval);
  });

  test('no required checks, no status-check resources', () => {
    const doc = exampleDdkJson();
    delete doc.pipeline.stages[1].requiredChecks;
    render(doc).template.resourceCountIs('AWS::DynamoDB::Table', 0);
  });

  test.each(['cdk-pipelines', 'codepipeline-trunk'])('%s: rollbackOnFailure rolls failed stages back (V2 OnFailure)', strategy => {
    const doc = withStrategy(strategy, { rollbackOnFailure: true });
    doc.pipeline.stages[0].rollbackOnFailure = false;
    const p = Object.values(pipelines(render(doc).template))[0];
    expect(stage(p, 'production').OnFailure).toEqual({ Result: 'ROLLBACK' });
    expect(stage(p, 'development').OnFailure).toBeUndefined();
  });

  test.each(['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'])('%s: notifications go to an encrypted topic through a CodeStar notification rule', strategy => {
    const { template } = render(withStrategy(strategy, { notifications: { emails: ['ops@example.com'], events: ['execution-failed', 'approval-needed'] } }));
    const rules = Object.values(template.findResources('AWS::CodeStarNotifications::NotificationRule')) as any[];
    expect(rules.length).toBe(Object.keys(pipelines(template)).length);
    expect(rules[0].Properties.EventTypeIds).toEqual(['codepipeline-pipeline-pipeline-execution-failed', 'codepipeline-pipeline-manual-approval-needed']);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const topics = Object.values(template.findResources('AWS::SNS::Topic')) as any[];
    for (const t of topics) expect(t.Properties.KmsMasterKeyId).toBeDefined();
  });

  test('an existing notification topic is used as is', () => {
    const { template } = render(withStrategy('codepipeline-trunk', { notifications: { topicArn: 'arn:aws:sns:eu-west-1:111111111111:ops' } }));
    template.hasResourceProperties('AWS::CodeStarNotifications::NotificationRule', { Targets: [{ TargetType: 'SNS', TargetAddress: 'arn:aws:sns:eu-west-1:111111111111:ops' }] });
  });

  test.each(['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'])('%s renders the seed\'s data.all ddk.json', strategy => {
    const { template } = render({ ...SEED_DDK_JSON, pipeline: { strategy } });
    const names = Object.values(pipelines(template)).flatMap(stageNames);
    expect(names).toEqual(expect.arrayContaining(['dev', 'prod']));
  });
});
