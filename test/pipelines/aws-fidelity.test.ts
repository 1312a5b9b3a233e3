import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import { CodePipelineDelivery, DdkConfig, DeliveryPipelineStack, DeliveryPlan, SampleApplication } from '../../lib';
import { connectionServicePrefix, grantConnectionUse } from '../../lib/pipelines/connections';
import { literalLength, pipelineLimitProblems } from '../../lib/pipelines/limits';
import { CDK_CLI_VERSION, NODE_MAJOR } from '../../lib/pipelines/versions';
import { CDK_CONTEXT, exampleDdkJson, render } from '../helpers';

/*
 * What issue 9's audit found against AWS's documented contracts, held per strategy on the
 * rendered templates: each test fails without its fix.
 */

const STRATEGIES = ['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'] as const;
const CONNECTION = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abcd-1234';
const LEGACY_CONNECTION = 'arn:aws:codestar-connections:eu-west-1:111111111111:connection/abcd-1234';

/** The example ddk.json with the strategy and, optionally, the source replaced. */
function example(strategy: string, source?: object): any {
  const doc = exampleDdkJson();
  doc.pipeline.strategy = strategy;
  if (source) doc.pipeline.source = source;
  if (strategy === 'codepipeline-gitflow') doc.pipeline.stages[0].branch = 'develop';
  return doc;
}

const rendered = new Map<string, ReturnType<typeof render>>();
function renderOnce(strategy: string): ReturnType<typeof render> {
  if (!rendered.has(strategy)) rendered.set(strategy, render(example(strategy)));
  return rendered.get(strategy)!;
}

/** Every template of the app: the CICD stack and, for CDK Pipelines, the replication stacks. */
function templatesOf(r: ReturnType<typeof render>): Template[] {
  return r.app.node.findAll().filter((c): c is Stack => Stack.isStack(c) && !c.node.path.includes('/Delivery/')).map(s => Template.fromStack(s));
}

function codeBuildProjects(t: Template): Array<[string, any]> {
  return Object.entries(t.findResources('AWS::CodeBuild::Project'));
}

describe.each(STRATEGIES)('%s: CodeBuild projects', strategy => {
  test(`every project pins Node.js ${NODE_MAJOR} on an image that offers it, logs to the encrypted, expiring build log group, and gets the pipeline name`, () => {
    const r = renderOnce(strategy);
    const projects = codeBuildProjects(r.template);
    expect(projects.length).toBeGreaterThanOrEqual(2);
    const logGroups = r.template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: `/ddk-pipelines/${r.plan.cicdStackName}/builds` } });
    expect(Object.keys(logGroups)).toHaveLength(1);
    const [logGroupId, logGroup] = Object.entries(logGroups)[0] as [string, any];
    expect(logGroup.Properties.RetentionInDays).toBeGreaterThanOrEqual(365);
    expect(logGroup.Properties.KmsKeyId).toBeDefined();
    for (const [id, project] of projects) {
      const spec = JSON.parse(project.Properties.Source.BuildSpec);
      const node = spec.phases?.install?.['runtime-versions']?.nodejs;
      expect({ id, node }).toEqual({ id, node: NODE_MAJOR });
      // Ubuntu standard:7.0 offers Node.js 18, 20 and 22 (CodeBuild "Available runtimes").
      expect({ id, image: project.Properties.Environment.Image }).toEqual({ id, image: 'aws/codebuild/standard:7.0' });
      expect({ id, logs: project.Properties.LogsConfig }).toEqual({ id, logs: { CloudWatchLogs: { GroupName: { Ref: logGroupId }, Status: 'ENABLED' } } });
    }
    // The builds that synthesize the app get the name the pipeline was deployed under.
    const synth = projects.filter(([, p]) => JSON.stringify(p.Properties.Source.BuildSpec).includes('synth'));
    expect(synth.length).toBeGreaterThanOrEqual(1);
    for (const [, p] of synth) {
      expect(p.Properties.Environment.EnvironmentVariables).toEqual(expect.arrayContaining([{ Name: 'DDK_PIPELINE_NAME', Type: 'PLAINTEXT', Value: 'myapp' }]));
    }
  });

  test('the build log group\'s key lets CloudWatch Logs use it for that group only', () => {
    const r = renderOnce(strategy);
    const keys = r.template.findResources('AWS::KMS::Key');
    const statements = Object.values(keys).flatMap((k: any) => k.Properties.KeyPolicy.Statement);
    const logs = statements.filter(s => s.Sid === 'BuildLogs');
    expect(logs).toHaveLength(1);
    expect(logs[0].Principal).toEqual({ Service: 'logs.eu-west-1.amazonaws.com' });
    expect(logs[0].Condition).toEqual({
      ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:eu-west-1:111111111111:log-group:/ddk-pipelines/${r.plan.cicdStackName}/builds` },
    });
  });
});

describe('CDK Pipelines: the CLI and the self-mutation role', () => {
  test(`self-mutation installs the pinned CLI ${CDK_CLI_VERSION}, not the newest`, () => {
    const { template } = renderOnce('cdk-pipelines');
    const specs = codeBuildProjects(template).map(([, p]) => p.Properties.Source.BuildSpec as string);
    const installs = specs.filter(s => s.includes('aws-cdk'));
    expect(installs.length).toBeGreaterThanOrEqual(1);
    for (const s of installs) {
      expect(s).toContain(`aws-cdk@${CDK_CLI_VERSION}`);
      expect(s).not.toContain('aws-cdk@2"');
    }
  });

  test('self-mutation reads only the CICD account\'s stacks and bootstrap buckets (no Resource *)', () => {
    const { template } = renderOnce('cdk-pipelines');
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.includes('SelfMutation'));
    expect(policies).toHaveLength(1);
    const statements: any[] = (policies[0][1] as any).Properties.PolicyDocument.Statement;
    const byAction = (a: string) => statements.filter(s => [s.Action].flat().includes(a));
    expect(byAction('cloudformation:DescribeStacks').map(s => s.Resource)).toEqual(['arn:aws:cloudformation:*:111111111111:stack/*']);
    expect(byAction('s3:ListBucket').map(s => s.Resource)).toEqual(['arn:aws:s3:::cdk-hnb659fds-assets-111111111111-*']);
    expect(statements.filter(s => s.Resource === '*')).toEqual([]);
  });
});

describe('CDK Pipelines: replication buckets in the targets\' other regions', () => {
  const replication = () => {
    const r = renderOnce('cdk-pipelines');
    const support = r.app.node.findAll().find((c): c is Stack => Stack.isStack(c) && c.artifactId.startsWith('cross-region-stack'));
    expect(support).toBeDefined();
    return Template.fromStack(support!);
  };

  test('are versioned, expire artifacts and old versions', () => {
    const buckets = Object.values(replication().findResources('AWS::S3::Bucket')).filter((b: any) => b.Properties.LoggingConfiguration);
    expect(buckets).toHaveLength(1);
    const p = (buckets[0] as any).Properties;
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({ ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' })]);
  });

  test('their access-log bucket lets the S3 logging service write, for that bucket and account only', () => {
    const t = replication();
    const [bucketId] = Object.entries(t.findResources('AWS::S3::Bucket')).find(([, b]: [string, any]) => b.Properties.LoggingConfiguration)!;
    const logsId = (t.findResources('AWS::S3::Bucket')[bucketId] as any).Properties.LoggingConfiguration.DestinationBucketName.Ref;
    const policy = Object.values(t.findResources('AWS::S3::BucketPolicy')).find((p: any) => p.Properties.Bucket.Ref === logsId) as any;
    const writes = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Principal?.Service === 'logging.s3.amazonaws.com');
    expect(writes).toHaveLength(1);
    expect(writes[0].Action).toBe('s3:PutObject');
    expect(writes[0].Condition).toEqual({
      ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } },
      StringEquals: { 'aws:SourceAccount': '111111111111' },
    });
    expect(JSON.stringify(writes[0].Resource)).toContain('/replication/*');
  });

  test('grant each region\'s bucket and key to that region\'s deploy roles only', () => {
    // GIVEN the example: prod-us in us-east-1 is served by the replication bucket; dev and prod-eu by the eu-west-1 bucket
    const r = renderOnce('cdk-pipelines');
    const all = [...templatesOf(r)];
    const principalArns = all.flatMap(t => [
      ...Object.values(t.findResources('AWS::S3::BucketPolicy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement),
      ...Object.values(t.findResources('AWS::KMS::Key')).flatMap((k: any) => k.Properties.KeyPolicy.Statement),
    ]).filter(s => String(s.Sid).startsWith('TargetAccountBootstrap')).map(s => JSON.stringify(s.Condition.ArnLike['aws:PrincipalArn']));
    expect(principalArns.length).toBeGreaterThanOrEqual(4);
    for (const arns of principalArns) expect(arns).toMatch(/role-\*-(eu-west-1|us-east-1)"/);
    expect(principalArns.filter(a => a.includes('us-east-1')).length).toBeGreaterThanOrEqual(2);
    expect(principalArns.some(a => a.includes('us-east-1') && a.includes('eu-west-1'))).toBe(false);
  });
});

describe('the artifact bucket', () => {
  test.each(STRATEGIES)('%s: the artifact key is retained like the bucket and build logs it encrypts', strategy => {
    const { template } = renderOnce(strategy);
    const policyOf = (type: string, match: (r: any) => boolean) =>
      Object.values(template.findResources(type)).filter(match).map((r: any) => r.DeletionPolicy);
    const kms = (r: any) => r.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm === 'aws:kms';
    expect(policyOf('AWS::S3::Bucket', kms)).toEqual(['RetainExceptOnCreate']);
    expect(policyOf('AWS::Logs::LogGroup', r => String(r.Properties.LogGroupName).endsWith('/builds'))).toEqual(['RetainExceptOnCreate']);
    expect(policyOf('AWS::KMS::Key', r => r.Properties.Description?.startsWith('Encrypts the pipeline artifacts'))).toEqual(['RetainExceptOnCreate']);
  });

  test.each(STRATEGIES)('%s: artifacts expire after artifactRetentionDays (default 90), old versions after 30 days', strategy => {
    const { template } = renderOnce(strategy);
    const buckets = Object.values(template.findResources('AWS::S3::Bucket')).filter((b: any) => b.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm === 'aws:kms');
    expect(buckets).toHaveLength(1);
    expect((buckets[0] as any).Properties.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({
      ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    })]);
  });

  test('artifactRetentionDays sets the expiration; a value outside 1..3650 is a config error', () => {
    const doc = example('codepipeline-trunk');
    doc.pipeline.artifactRetentionDays = 7;
    const { template } = render(doc);
    const rules = Object.values(template.findResources('AWS::S3::Bucket')).flatMap((b: any) => b.Properties.LifecycleConfiguration?.Rules ?? []);
    expect(rules).toEqual(expect.arrayContaining([
      expect.objectContaining({ ExpirationInDays: 7, NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
    ]));
    doc.pipeline.artifactRetentionDays = 0;
    expect(() => render(doc)).toThrow(/pipeline\.artifactRetentionDays: 0 is too short; expected a whole number of days from 1 to 3650/);
  });
});

describe('connection sources: the action prefix of the ARN given', () => {
  test('the prefix follows the ARN', () => {
    expect(connectionServicePrefix(CONNECTION)).toBe('codeconnections');
    expect(connectionServicePrefix(LEGACY_CONNECTION)).toBe('codestar-connections');
    expect(() => connectionServicePrefix('arn:aws:s3:::bucket')).toThrow(/neither a codeconnections nor a codestar-connections ARN/);
  });

  test.each(STRATEGIES)('%s: a codeconnections ARN is usable by the source action\'s role', strategy => {
    const { template } = render(example(strategy, { connection: { arn: CONNECTION, repository: 'team/app', branch: 'main' } }));
    const uses = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter(s => [s.Action].flat().includes('codeconnections:UseConnection'));
    expect(uses.length).toBeGreaterThanOrEqual(1);
    for (const s of uses) expect(s.Resource).toBe(CONNECTION);
  });

  test('a codestar-connections ARN keeps aws-cdk-lib\'s grant and gets no codeconnections one', () => {
    const { template } = render(example('codepipeline-trunk', { connection: { arn: LEGACY_CONNECTION, repository: 'team/app' } }));
    const actions = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement).flatMap(s => [s.Action].flat());
    expect(actions).toContain('codestar-connections:UseConnection');
    expect(actions).not.toContain('codeconnections:UseConnection');
  });

  test('grantConnectionUse fails clearly when it cannot find the action\'s role', () => {
    const stack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
    const pipeline = { node: stack.node, stages: [{ stageName: 'Source', actions: [{ actionProperties: { provider: 'CodeStarSourceConnection', actionName: 'Gone' } }] }] } as unknown as codepipeline.Pipeline;
    expect(() => grantConnectionUse(pipeline, CONNECTION)).toThrow('no role found for source action "Gone" to grant codeconnections:UseConnection');
  });
});

describe('CodePipeline limits on the rendered pipeline', () => {
  const action = (over: object = {}) => ({ Name: 'Deploy', RunOrder: 1, Configuration: { ProjectName: 'p' }, ...over });
  const pipeline = (actions: object[], stages = 1) => ({ Name: 'app', Stages: Array.from({ length: stages }, (_, i) => ({ Name: `s${i}`, Actions: actions })) });

  test('a pipeline within the limits has no problems', () => {
    expect(pipelineLimitProblems(pipeline([action()], 50), 'ddk.json')).toEqual([]);
  });

  test('a configuration value over 1,000 characters is named with its stage, action and the limit', () => {
    const problems = pipelineLimitProblems(pipeline([action({ Name: 'Gate', Configuration: { UserParameters: 'x'.repeat(1001) } })]), 'ddk.json');
    expect(problems).toEqual(['ddk.json: pipeline "app", stage "s0", action "Gate": configuration value UserParameters is at least 1001 characters, more than the 1000 CodePipeline allows per value. Fix: shorten what this stage renders into it in ddk.json (commands, names, contexts), or split the stage']);
  });

  test('references count only by their literal parts, so nothing is reported that may fit', () => {
    expect(literalLength({ 'Fn::Join': ['', ['abc', { Ref: 'X' }, 'de']] })).toBe(5);
    expect(literalLength({ 'Fn::Join': [',', ['a', 'b', 'c']] })).toBe(5);
    expect(literalLength({ 'Fn::Sub': 'arn:${AWS::Partition}:x' })).toBe(6);
    expect(literalLength({ Ref: 'X' })).toBe(0);
  });

  test('stage and action counts, names, keys, runOrder and artifact names', () => {
    const problems = pipelineLimitProblems({
      Name: 'app',
      Stages: [
        ...Array.from({ length: 50 }, (_, i) => ({ Name: `s${i}`, Actions: [action()] })),
        { Name: 'bad stage', Actions: Array.from({ length: 51 }, (_, i) => action({ Name: `a${i}` })) },
        { Name: 'ok', Actions: [action({ Name: 'x'.repeat(101), RunOrder: 1000, Configuration: { ['k'.repeat(51)]: 'v' }, OutputArtifacts: [{ Name: 'has.dot' }] })] },
      ],
    }, 'ddk.json');
    expect(problems.join('\n')).toContain('52 stages, more than the 50 a pipeline allows');
    expect(problems.join('\n')).toContain('the stage name "bad stage" is not 1 to 100 letters');
    expect(problems.join('\n')).toContain('51 actions, more than the 50 a stage allows');
    expect(problems.join('\n')).toContain(`the action name "${'x'.repeat(101)}" is not 1 to 100`);
    expect(problems.join('\n')).toContain('runOrder 1000 is outside 1 to 999');
    expect(problems.join('\n')).toContain('is longer than 50 characters');
    expect(problems.join('\n')).toContain('artifact name "has.dot" is not 1 to 100 letters, digits, _ and -');
  });

  test('the check runs on the rendered pipeline at synth and stops it with the problem', () => {
    // GIVEN a rendered pipeline to which an action with an over-long configuration value is added
    const app = new App({ context: CDK_CONTEXT });
    const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(example('codepipeline-trunk'), 'ddk.json'));
    const stack = new DeliveryPipelineStack(app, plan.cicdStackName, { plan, application: new SampleApplication() });
    (stack.delivery as CodePipelineDelivery).pipelines[0].addStage({
      stageName: 'Extra',
      actions: [new cpa.ManualApprovalAction({ actionName: 'Check', additionalInformation: 'x'.repeat(1001) })],
    });
    // THEN synthesis fails, naming the value and the limit
    expect(() => app.synth()).toThrow(/pipeline "myapp", stage "Extra", action "Check": configuration value CustomData is at least 1001 characters, more than the 1000/);
  });

  test.each(STRATEGIES)('%s: the example renders within every limit (the check runs at synth)', strategy => {
    const r = renderOnce(strategy);
    const problems = r.template.findResources('AWS::CodePipeline::Pipeline');
    for (const p of Object.values(problems) as any[]) expect(pipelineLimitProblems(p.Properties, 'ddk.json')).toEqual([]);
  });
});

describe('the sample application', () => {
  test('its access-log bucket is configured like the CICD stack\'s (private, SSL-only, logs expire after a year)', () => {
    const r = renderOnce('codepipeline-trunk');
    const logBucketOf = (t: Template) => {
      const buckets = t.findResources('AWS::S3::Bucket');
      const logged = Object.values(buckets).find((b: any) => b.Properties.LoggingConfiguration) as any;
      return (buckets[logged.Properties.LoggingConfiguration.DestinationBucketName.Ref] as any).Properties;
    };
    const sample = r.stack.delivery.applicationStages.dev.node.findAll().find((c): c is Stack => Stack.isStack(c))!;
    const cicdLogs = logBucketOf(r.template);
    expect(cicdLogs.LifecycleConfiguration).toEqual({ Rules: [{ ExpirationInDays: 365, NoncurrentVersionExpiration: { NoncurrentDays: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }] });
    expect(cicdLogs.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(logBucketOf(Template.fromStack(sample))).toEqual(cicdLogs);
  });
});

describe('SNS', () => {
  test('a 100-character stage name with approval emails still makes a valid topic display name (at most 100 characters)', () => {
    const doc = example('codepipeline-trunk');
    const name = 'p'.repeat(100);
    doc.pipeline.stages[1].name = name;
    const { template } = render(doc);
    const names = Object.values(template.findResources('AWS::SNS::Topic')).map((t: any) => t.Properties.DisplayName).filter(Boolean);
    expect(names).toEqual([`Approval needed: ${name}`.slice(0, 100)]);
  });
});
