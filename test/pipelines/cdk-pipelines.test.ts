import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { SampleDataStack } from '../../lib';
import { actionsOf, environments, exampleDdkJson, pipelineOf, render, SEED_DDK_JSON, stageNames } from '../helpers';

const PSEUDO_PARAMETER = /AWS::(Partition|Region|AccountId|URLSuffix)/;

describe('CDK Pipelines renderer, example ddk.json', () => {
  // One synthesis shared by the assertions below (synthesis with validation costs seconds).
  const { template, stack } = render(exampleDdkJson());

  test('pipeline type V2, execution mode from the plan, self-mutating', () => {
    const p = pipelineOf(template);
    expect(p.PipelineType).toBe('V2');
    expect(p.ExecutionMode).toBe('SUPERSEDED');
    expect(p.Name).toBe('myapp');
    expect(actionsOf(template, 'UpdatePipeline').map((a: any) => a.Name)).toEqual(['SelfMutate']);
  });

  test('stages in plan order after source, build and self-mutation', () => {
    expect(stageNames(template)).toEqual(['Source', 'Build', 'UpdatePipeline', 'development', 'production']);
  });

  test('the approval comes before the production deployments, which run in parallel, then the tests', () => {
    const actions = actionsOf(template, 'production');
    const approve = actions.find((a: any) => a.ActionTypeId.Category === 'Approval');
    expect(approve).toBeDefined();
    expect(approve.Configuration.CustomData).toBe('Check the dev deployment first');
    const deploys = actions.filter((a: any) => a.ActionTypeId.Category === 'Deploy');
    expect(deploys.map((a: any) => a.Name).sort()).toEqual([
      'prod-eu.DataPipeline.Deploy', 'prod-eu.DataPipeline.Prepare', 'prod-us.DataPipeline.Deploy', 'prod-us.DataPipeline.Prepare',
    ].sort());
    const prepares = deploys.filter((a: any) => a.Name.endsWith('.Prepare'));
    // parallel: both environments prepare in the same run order, after the approval
    expect(new Set(prepares.map((a: any) => a.RunOrder)).size).toBe(1);
    expect(prepares[0].RunOrder).toBeGreaterThan(approve.RunOrder);
    const tests = actions.find((a: any) => a.Name === 'Tests');
    expect(tests.RunOrder).toBeGreaterThan(Math.max(...deploys.map((a: any) => a.RunOrder)));
    // prod-us deploys in its own region
    expect(deploys.find((a: any) => a.Name === 'prod-us.DataPipeline.Deploy').Region).toBe('us-east-1');
  });

  test('no approval before the first stage', () => {
    expect(actionsOf(template, 'development').some((a: any) => a.ActionTypeId.Category === 'Approval')).toBe(false);
  });

  test('approval notifications go to an encrypted, SSL-only topic', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'release-managers@example.com' });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const approve = actionsOf(template, 'production').find((a: any) => a.ActionTypeId.Category === 'Approval');
    expect(approve.Configuration.NotificationArn).toBeDefined();
  });

  test('artifacts: KMS key with rotation, SSL-only versioned bucket with public access blocked', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const bucket = Object.values(template.findResources('AWS::S3::Bucket', {
      Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } })] } },
    }));
    expect(bucket).toHaveLength(1);
    // kept on deletion, deleted when the deployment that creates it fails (a new try can then succeed)
    expect((bucket[0] as any).DeletionPolicy).toBe('RetainExceptOnCreate');
    template.hasResource('AWS::CodeCommit::Repository', { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    expect((bucket[0] as any).Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.anyValue() === undefined ? undefined : expect.objectContaining({ LogFilePrefix: 'artifacts/' }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('cross-account access is one statement per role kind, limited to the target accounts\' bootstrap roles', () => {
    const policies = template.findResources('AWS::S3::BucketPolicy');
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const crossAccount = statements.filter((s: any) => s.Sid?.startsWith('TargetAccountBootstrap'));
    expect(crossAccount).toHaveLength(1);
    // fixed account principals (S3 Block Public Access accepts them), narrowed to the bootstrap roles
    expect(crossAccount[0].Principal.AWS).toEqual(['222222222222', '333333333333'].map(a => `arn:aws:iam::${a}:root`));
    expect(JSON.stringify(crossAccount[0].Condition.ArnLike)).toContain('cdk-hnb659fds-deploy-role-*');
    // no per-role statement remains
    expect(JSON.stringify(statements)).not.toMatch(/role\/cdk-hnb659fds-deploy-role-2222/);
  });

  test('the CICD stack folds its pseudo parameters: the cross-account role ARNs are strings', () => {
    expect(JSON.stringify(template.toJSON().Resources)).not.toMatch(PSEUDO_PARAMETER);
    const roles = pipelineOf(template).Stages.flatMap((s: any) => s.Actions).map((a: any) => a.RoleArn).filter(Boolean);
    expect(roles).toContain('arn:aws:iam::222222222222:role/cdk-hnb659fds-deploy-role-222222222222-eu-west-1');
    // only the roles created in this stack stay references
    expect(roles.filter((r: unknown) => typeof r !== 'string').every((r: any) => r['Fn::GetAtt'] !== undefined)).toBe(true);
  });

  test('foldPseudoParameters: false keeps aws-cdk-lib\'s intrinsics, in a larger template with the same resources', () => {
    const kept = render(exampleDdkJson(), undefined, { foldPseudoParameters: false }).template.toJSON();
    expect(JSON.stringify(kept.Resources)).toMatch(PSEUDO_PARAMETER);
    expect(JSON.stringify(template.toJSON()).length).toBeLessThan(JSON.stringify(kept).length);
    expect(Object.keys(template.toJSON().Resources)).toEqual(Object.keys(kept.Resources));
  });

  test('the artifact key policy is compacted the same way: one statement for the targets\' deploy roles', () => {
    const keys = Object.entries(template.findResources('AWS::KMS::Key')).filter(([id]) => id.startsWith('DeliveryArtifactsKey'));
    expect(keys).toHaveLength(1);
    const statements = (keys[0][1] as any).Properties.KeyPolicy.Statement;
    const crossAccount = statements.filter((st: any) => JSON.stringify(st.Principal).match(/22222|33333/));
    expect(crossAccount).toEqual([expect.objectContaining({
      Sid: 'TargetAccountBootstrapDeployRoles',
      Principal: { AWS: ['arn:aws:iam::222222222222:root', 'arn:aws:iam::333333333333:root'] },
      Condition: { ArnLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/cdk-hnb659fds-deploy-role-*-eu-west-1'] } },
    })]);
  });

  test('the pipeline role uses KMS only on the artifact key and the CICD account\'s keys in the replication regions', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('DeliveryCodePipelineRoleDefaultPolicy'));
    expect(policies).toHaveLength(1);
    const kms = (policies[0][1] as any).Properties.PolicyDocument.Statement.filter((st: any) => JSON.stringify(st.Action).includes('kms:'));
    expect(kms).toHaveLength(1);
    expect(kms[0].Resource).not.toContain('*');
    expect(kms[0].Resource).toContainEqual('arn:aws:kms:us-east-1:111111111111:key/*');
  });

  test('the CodeCommit repository is created and is the source', () => {
    template.hasResourceProperties('AWS::CodeCommit::Repository', { RepositoryName: 'myapp' });
    expect(actionsOf(template, 'Source')[0].ActionTypeId.Provider).toBe('CodeCommit');
    expect(actionsOf(template, 'Source')[0].Configuration.BranchName).toBe('main');
  });

  test('one application stage per environment, in its account and region', () => {
    const stages = stack.delivery.applicationStages;
    expect(Object.keys(stages)).toEqual(['dev', 'prod-eu', 'prod-us']);
    expect(stages['prod-us'].account).toBe('444444444444');
    expect(stages['prod-us'].region).toBe('us-east-1');
  });
});

describe('the seed\'s data.all ddk.json', () => {
  const { template, stack } = render(SEED_DDK_JSON);
  const bucketOf = (env: string) => {
    const data = stack.delivery.applicationStages[env].node.findAll().find(c => c instanceof SampleDataStack) as Stack;
    const buckets = Template.fromStack(data).findResources('AWS::S3::Bucket');
    return Object.entries(buckets).find(([id]) => id.startsWith('ddkbucket'))![1] as any;
  };

  test('defaults: one stage per environment in file order, approval before prod only', () => {
    expect(stageNames(template)).toEqual(['Source', 'Build', 'UpdatePipeline', 'dev', 'prod']);
    expect(actionsOf(template, 'prod').some((a: any) => a.ActionTypeId.Category === 'Approval')).toBe(true);
    expect(actionsOf(template, 'dev').some((a: any) => a.ActionTypeId.Category === 'Approval')).toBe(false);
  });

  test('resources become valid props: dev unversioned and deleted, prod versioned and retained', () => {
    const dev = bucketOf('dev');
    expect(dev.DeletionPolicy).toBe('Delete');
    expect(dev.Properties.VersioningConfiguration).toBeUndefined();
    expect(dev.Properties).not.toHaveProperty('removal_policy');
    expect(dev.Properties).not.toHaveProperty('versioned');
    const prod = bucketOf('prod');
    expect(prod.DeletionPolicy).toBe('Retain');
    expect(prod.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });
});

describe('rendering choices', () => {
  test('adding an environment to ddk.json adds its deployment', () => {
    const before = exampleDdkJson();
    const after = exampleDdkJson();
    after.environments.qa = { account: '555555555555', region: 'eu-west-1' };
    after.pipeline.stages.splice(1, 0, { name: 'qa', environments: ['qa'], approval: true });
    expect(stageNames(render(before).template)).not.toContain('qa');
    const t = render(after).template;
    expect(stageNames(t)).toEqual(['Source', 'Build', 'UpdatePipeline', 'development', 'qa', 'production']);
    const deploy = actionsOf(t, 'qa').find((a: any) => a.Name.endsWith('DataPipeline.Deploy'));
    expect(deploy.Configuration.StackName).toBe('qa-DataPipeline');
    expect(JSON.stringify(deploy.RoleArn)).toContain('555555555555');
  });

  test('a CodeConnections source, an imported repository, queued mode, approval link and timeout', () => {
    const doc = exampleDdkJson();
    doc.pipeline.source = { connection: { arn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abcd-1234', repository: 'acme/myapp', branch: 'trunk' } };
    doc.pipeline.executionMode = 'QUEUED';
    doc.pipeline.stages[1].approval = { reviewUrl: 'https://example.com/review', timeoutMinutes: 60 };
    const { template } = render(doc);
    const source = actionsOf(template, 'Source')[0];
    expect(source.ActionTypeId.Provider).toBe('CodeStarSourceConnection');
    expect(source.Configuration).toMatchObject({ ConnectionArn: 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abcd-1234', FullRepositoryId: 'acme/myapp', BranchName: 'trunk' });
    expect(pipelineOf(template).ExecutionMode).toBe('QUEUED');
    const approve = actionsOf(template, 'production').find((a: any) => a.ActionTypeId.Category === 'Approval');
    expect(approve.Configuration.ExternalEntityLink).toBe('https://example.com/review');
    expect(approve.TimeoutInMinutes).toBe(60);
    template.resourceCountIs('AWS::CodeCommit::Repository', 0);
  });

  test('an existing CodeCommit repository is imported, not created', () => {
    const doc = exampleDdkJson();
    doc.pipeline.source = { codecommit: { repository: 'legacy', create: false } };
    const { template } = render(doc);
    template.resourceCountIs('AWS::CodeCommit::Repository', 0);
    expect(actionsOf(template, 'Source')[0].Configuration.RepositoryName).toBe('legacy');
  });

  test('a stage with more deployments than a CodePipeline stage holds is split, approval first, tests last', () => {
    const envs = environments(30);
    const doc = {
      environments: envs,
      pipeline: { stages: [{ name: 'fleet', environments: Object.keys(envs).filter(e => e !== 'cicd'), approval: true, tests: ['echo ok'] }] },
    };
    const { template } = render(doc);
    expect(stageNames(template)).toEqual(['Source', 'Build', 'UpdatePipeline', 'fleet', 'fleet-2']);
    for (const stage of ['fleet', 'fleet-2']) expect(actionsOf(template, stage).length).toBeLessThanOrEqual(50);
    expect(actionsOf(template, 'fleet')[0].ActionTypeId.Category).toBe('Approval');
    expect(actionsOf(template, 'fleet-2').some((a: any) => a.ActionTypeId.Category === 'Approval')).toBe(false);
    expect(actionsOf(template, 'fleet-2').some((a: any) => a.Name === 'Tests')).toBe(true);
    expect(actionsOf(template, 'fleet').some((a: any) => a.Name === 'Tests')).toBe(false);
    const deployed = [...actionsOf(template, 'fleet'), ...actionsOf(template, 'fleet-2')].filter((a: any) => a.Name.endsWith('.Deploy'));
    expect(deployed).toHaveLength(30);
  });

  test('a split stage skips a name another plan stage has', () => {
    // GIVEN 26 environments in "fleet" (52 actions: split in two) and a plan stage named "fleet-2"
    const envs = environments(27);
    const ids = Object.keys(envs).filter(e => e !== 'cicd');
    const doc = { environments: envs, pipeline: { stages: [{ name: 'fleet', environments: ids.slice(0, 26) }, { name: 'fleet-2', environments: ids.slice(26) }] } };
    // THEN the second part of "fleet" is "fleet-3"
    expect(stageNames(render(doc).template)).toEqual(['Source', 'Build', 'UpdatePipeline', 'fleet', 'fleet-3', 'fleet-2']);
  });

  test('a stage holding one environment is named after the stage, even when another stage has that environment\'s name', () => {
    // GIVEN stage "test" deploys only "dev", and the next stage is called "dev"
    const envs = environments(3);
    envs.dev = envs.env1;
    delete (envs as any).env1;
    const doc = { environments: envs, pipeline: { stages: [{ name: 'test', environments: ['dev'] }, { name: 'dev', environments: ['env2', 'env3'] }] } };
    const { template } = render(doc);
    expect(stageNames(template)).toEqual(['Source', 'Build', 'UpdatePipeline', 'test', 'dev']);
    expect(actionsOf(template, 'test').find((a: any) => a.Name === 'Deploy').Configuration.StackName).toBe('dev-DataPipeline');
  });

  test('splitting counts the status-check gate too: no CodePipeline stage exceeds 50 actions', () => {
    // GIVEN 60 environments deployed directly (one action each) behind a gate and an approval
    const envs = environments(60);
    const doc = {
      environments: envs,
      pipeline: {
        changeSets: false,
        stages: [{ name: 'fleet', environments: Object.keys(envs).filter(e => e !== 'cicd'), approval: true, requiredChecks: ['ci/integration'] }],
      },
    };
    const { template } = render(doc);
    // THEN the gate and the approval open the first part, and every part fits
    expect(actionsOf(template, 'fleet').slice(0, 2).map((a: any) => a.ActionTypeId.Category)).toEqual(['Invoke', 'Approval']);
    for (const stage of stageNames(template).filter(n => n.startsWith('fleet'))) expect(actionsOf(template, stage).length).toBeLessThanOrEqual(50);
  });

  test('more stages than CodePipeline allows is a clear error naming the limit and the fix', () => {
    const envs = environments(48);
    expect(() => render({ environments: envs })).toThrow(/51 CodePipeline stages .*more than the 50 stages a pipeline allows\. Fix: put environments that may deploy together into one stage/);
  });

  test('resources no construct used are reported with a suggestion', () => {
    const doc: any = structuredClone(SEED_DDK_JSON);
    doc.environments.dev.resources['ddk-bukcet'] = { versioned: true };
    const { stack } = render(doc);
    const data = stack.delivery.applicationStages.dev.node.findAll().find(c => c instanceof SampleDataStack) as Stack;
    Annotations.fromStack(data).hasWarning('*', Match.stringLikeRegexp('resources\\["ddk-bukcet"\\] was not used by any construct \\(did you mean "ddk-bucket"\\?\\)'));
    expect(Annotations.fromStack(data).findWarning('*', Match.stringLikeRegexp('"ddk-bucket"\\] was not used'))).toHaveLength(0);
  });

  test('tags: the file\'s and each environment\'s on its application stacks, the cicd environment\'s on the CICD stack; a custom bootstrap qualifier reaches the stage', () => {
    const doc: any = structuredClone(SEED_DDK_JSON);
    doc.tags = { application: 'data' };
    doc.environments.dev.tags = { team: 'blue' };
    doc.environments.cicd.tags = { owner: 'platform' };
    doc.environments.prod.bootstrap = { qualifier: 'prodq' };
    const { stack, template: cicd } = render(doc);
    const tagsOf = (t: Template, type: string) => (Object.values(t.findResources(type))[0] as any).Properties.Tags;
    const data = (env: string) =>
      Template.fromStack(stack.delivery.applicationStages[env].node.findAll().find(c => c instanceof SampleDataStack) as Stack);
    expect(tagsOf(data('dev'), 'AWS::S3::Bucket')).toEqual(expect.arrayContaining([{ Key: 'application', Value: 'data' }, { Key: 'team', Value: 'blue' }]));
    expect(tagsOf(data('prod'), 'AWS::S3::Bucket')).not.toContainEqual({ Key: 'team', Value: 'blue' });
    expect(tagsOf(cicd, 'AWS::CodePipeline::Pipeline')).toContainEqual({ Key: 'owner', Value: 'platform' });
    expect(stack.delivery.applicationStages.prod.node.tryGetContext('@aws-cdk/core:bootstrapQualifier')).toBe('prodq');
  });

  test('DDK resource-type keys set CloudFormation properties on every resource of that type', () => {
    const doc: any = structuredClone(SEED_DDK_JSON);
    doc.environments.dev.resources['AWS::S3::Bucket'] = { ObjectLockEnabled: false };
    const { stack } = render(doc);
    const data = stack.delivery.applicationStages.dev.node.findAll().find(c => c instanceof SampleDataStack) as Stack;
    const buckets = Object.values(Template.fromStack(data).findResources('AWS::S3::Bucket')) as any[];
    expect(buckets.length).toBe(2);
    for (const b of buckets) expect(b.Properties.ObjectLockEnabled).toBe(false);
  });
});

describe('change sets', () => {
  test('"changeSets": false deploys each stack with one action instead of prepare + execute', () => {
    const withSets = render(exampleDdkJson()).template;
    const doc = exampleDdkJson();
    doc.pipeline.changeSets = false;
    const direct = render(doc).template;
    const names = (t: any) => actionsOf(t, 'production').map((a: any) => a.Name).filter((n: string) => n.includes('DataPipeline'));
    expect(names(withSets)).toHaveLength(4);
    expect(names(direct)).toEqual(['prod-eu.DataPipeline.Deploy', 'prod-us.DataPipeline.Deploy']);
    expect(actionsOf(direct, 'production').find((a: any) => a.Name === 'prod-eu.DataPipeline.Deploy').Configuration.ActionMode).toBe('CREATE_UPDATE');
  });
});
