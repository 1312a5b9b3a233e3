import { createHash } from 'node:crypto';
import { CfnWaitConditionHandle, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DeploymentSafety, IApplicationFactory } from '../../lib';
import { changeReviewApproval } from '../../lib/pipelines/shared';
import { COMPRESSED_PREFIX, readSafetyStages } from '../../lib/safety/settings';
import { CHANGE_REVIEW_VARIABLES, REPORT_BUCKET_VARIABLE, SAFETY_STAGES_VARIABLE } from '../../lib/safety/shared';
import { environments, exampleDdkJson, render, synthWithNag } from '../helpers';

/*
 * Deployment safety as rendered (issue 13): in each strategy, the stage's actions in their order
 * (gate → ChangeReview → approval → deploy → tests → AlarmWatch), its conditions (BeforeEntry
 * DeploymentWindow rules, OnSuccess CloudWatchAlarm rules, OnFailure ROLLBACK), the approval that
 * shows the review, the two functions' environments and every IAM statement they get, and the
 * pipeline role's permission for the alarm rules. Synthesized as `cdk synth` does it: cdk-nag's
 * AwsSolutions pack and aws-cdk-lib's validation must report nothing.
 */

const STRATEGIES = ['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'];
const COMMENT = 'Check the dev deployment first';

/** The example ddk.json with production reviewed, windowed and watched. */
function safeDoc(strategy: string): any {
  const doc = exampleDdkJson();
  doc.pipeline.strategy = strategy;
  if (strategy === 'codepipeline-gitflow') for (const s of doc.pipeline.stages) s.branch = s.name === 'production' ? 'main' : 'develop';
  doc.environments['prod-eu'].alarms = ['prod-eu-5xx'];
  const prod = doc.pipeline.stages[1];
  prod.window = [{ cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' }, { cron: '* * * ? * * 2027' }];
  prod.alarms = { names: ['api-errors'], cicd: ['pipeline-health', 'canary-failures'], soakMinutes: 15 };
  prod.changeReview = true;
  return doc;
}

function pipelinesOf(json: any): any[] {
  return Object.values<any>(json.Resources).filter(r => r.Type === 'AWS::CodePipeline::Pipeline').map(r => r.Properties);
}

function stageOf(json: any, name: string): any {
  const stage = pipelinesOf(json).flatMap(p => p.Stages).find((s: any) => s.Name === name);
  if (!stage) throw new Error(`no stage ${name}`);
  return stage;
}

/** The action names of a stage in run order, with their run orders. */
function runOrders(stage: any): Array<[string, number]> {
  return stage.Actions.map((a: any) => [a.Name, a.RunOrder ?? 1] as [string, number]).sort((a: [string, number], b: [string, number]) => a[1] - b[1]);
}

function resourceOfType(json: any, type: string, idPart: string): [string, any] {
  const found = Object.entries<any>(json.Resources).filter(([id, r]) => r.Type === type && id.includes(idPart));
  expect(found).toHaveLength(1);
  return found[0];
}

/** The statements of the policy attached to the role whose logical id contains `rolePart`. */
function statementsOfRole(json: any, rolePart: string): any[] {
  const [roleId] = resourceOfType(json, 'AWS::IAM::Role', rolePart);
  return Object.values<any>(json.Resources)
    .filter(r => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId))
    .flatMap(r => r.Properties.PolicyDocument.Statement);
}

const WINDOW_RULES = [
  {
    Name: 'production-Window-1',
    RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'DeploymentWindow', Version: '1' },
    Configuration: { Cron: '* * 9-16 ? * MON-FRI', TimeZone: 'Europe/Berlin' },
  },
  {
    Name: 'production-Window-2',
    RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'DeploymentWindow', Version: '1' },
    // no time zone in ddk.json: UTC, as CodePipeline assumes, written out
    Configuration: { Cron: '* * * ? * * 2027', TimeZone: 'UTC' },
  },
];
const ALARM_RULES = ['pipeline-health', 'canary-failures'].map((name, i) => ({
  Name: `production-Alarm-${i + 1}`,
  RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'CloudWatchAlarm', Version: '1' },
  Configuration: { AlarmName: name, AlarmStates: 'ALARM', WaitTime: '15' },
}));

describe.each(STRATEGIES)('%s: a reviewed, windowed and watched stage', strategy => {
  const { json } = synthWithNag(safeDoc(strategy));
  const prod = stageOf(json, 'production');

  test('the stage runs gate → ChangeReview → approval → deployments → tests → AlarmWatch', () => {
    const order = runOrders(prod);
    const orderOf = (name: string) => order.find(([n]) => n === name)![1];
    expect(order[0]).toEqual(['StatusChecks', 1]);
    expect(orderOf('ChangeReview')).toBe(2);
    expect(orderOf('Approve')).toBe(3);
    const deploys = order.filter(([n]) => n !== 'StatusChecks' && n !== 'ChangeReview' && n !== 'Approve' && n !== 'Tests' && n !== 'AlarmWatch');
    expect(deploys.length).toBeGreaterThanOrEqual(2);
    expect(Math.min(...deploys.map(([, o]) => o))).toBe(4);
    expect(orderOf('Tests')).toBe(Math.max(...deploys.map(([, o]) => o)) + 1);
    expect(order[order.length - 1]).toEqual(['AlarmWatch', orderOf('Tests') + 1]);
  });

  test('BeforeEntry: one DeploymentWindow rule per window (FAIL); OnSuccess: one CloudWatchAlarm rule per CICD alarm (ROLLBACK); OnFailure ROLLBACK', () => {
    expect(prod.BeforeEntry).toEqual({ Conditions: [{ Result: 'FAIL', Rules: WINDOW_RULES }] });
    expect(prod.OnSuccess).toEqual({ Conditions: [{ Result: 'ROLLBACK', Rules: ALARM_RULES }] });
    expect(prod.OnFailure).toEqual({ Result: 'ROLLBACK' });
  });

  test('a stage without windows, alarms or review has no conditions nor safety actions', () => {
    const dev = stageOf(json, 'development');
    expect(dev.BeforeEntry).toBeUndefined();
    expect(dev.OnSuccess).toBeUndefined();
    expect(dev.OnFailure).toBeUndefined();
    expect(dev.Actions.map((a: any) => a.Name)).not.toEqual(expect.arrayContaining(['ChangeReview']));
    expect(dev.Actions.map((a: any) => a.Name)).not.toEqual(expect.arrayContaining(['AlarmWatch']));
  });

  test('the change review reads the synth artifact, declares namespace ChangeReview-production, and the approval shows its summary and links its report', () => {
    const review = prod.Actions.find((a: any) => a.Name === 'ChangeReview');
    expect(review.ActionTypeId).toEqual({ Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda', Version: '1' });
    expect(review.Namespace).toBe('ChangeReview-production');
    expect(JSON.parse(review.Configuration.UserParameters)).toEqual({ pipeline: 'myapp', stage: 'production', executionId: '#{codepipeline.PipelineExecutionId}' });
    expect(review.Configuration.FunctionName).toEqual({ Ref: resourceOfType(json, 'AWS::Lambda::Function', 'SafetyChangeReviewFunction')[0] });
    // the input is the artifact the synth (Build) stage outputs: the cloud assembly
    const build = pipelinesOf(json).flatMap(p => p.Stages).find((s: any) => s.Name === 'Build');
    expect(review.InputArtifacts).toEqual(build.Actions[0].OutputArtifacts);
    const approve = prod.Actions.find((a: any) => a.Name === 'Approve');
    expect(approve.Configuration.CustomData).toBe(`${COMMENT}\n#{ChangeReview-production.${CHANGE_REVIEW_VARIABLES.summary}}`);
    expect(approve.Configuration.ExternalEntityLink).toBe(`#{ChangeReview-production.${CHANGE_REVIEW_VARIABLES.reportUrl}}`);
  });

  test('the alarm watch names the pipeline, stage and execution', () => {
    const watch = prod.Actions.find((a: any) => a.Name === 'AlarmWatch');
    expect(watch.ActionTypeId).toEqual({ Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda', Version: '1' });
    expect(watch.InputArtifacts).toBeUndefined();
    expect(watch.Namespace).toBeUndefined();
    expect(JSON.parse(watch.Configuration.UserParameters)).toEqual({ pipeline: 'myapp', stage: 'production', executionId: '#{codepipeline.PipelineExecutionId}' });
    expect(watch.Configuration.FunctionName).toEqual({ Ref: resourceOfType(json, 'AWS::Lambda::Function', 'SafetyAlarmWatchFunction')[0] });
  });

  test('each function reads exactly its stages\' settings from DDK_SAFETY_STAGES (Node.js 22)', () => {
    const [, review] = resourceOfType(json, 'AWS::Lambda::Function', 'SafetyChangeReviewFunction');
    const [, watch] = resourceOfType(json, 'AWS::Lambda::Function', 'SafetyAlarmWatchFunction');
    expect(review.Properties.Runtime).toBe('nodejs22.x');
    expect(watch.Properties.Runtime).toBe('nodejs22.x');
    const bucketId = resourceOfType(json, 'AWS::S3::Bucket', 'ArtifactsBucket')[0];
    expect(Object.keys(review.Properties.Environment.Variables).sort()).toEqual([REPORT_BUCKET_VARIABLE, SAFETY_STAGES_VARIABLE, 'NODE_OPTIONS'].sort());
    expect(review.Properties.Environment.Variables[REPORT_BUCKET_VARIABLE]).toEqual({ Ref: bucketId });
    expect(JSON.parse(review.Properties.Environment.Variables[SAFETY_STAGES_VARIABLE])).toEqual({
      production: {
        targets: [
          // the default-qualifier lookup roles are derived by the reader (lib/safety/settings.ts)
          { id: 'prod-eu', account: '333333333333', region: 'eu-west-1', assembly: 'assembly-myapp-pipeline-Delivery-prod-eu' },
          { id: 'prod-us', account: '444444444444', region: 'us-east-1', assembly: 'assembly-myapp-pipeline-Delivery-prod-us' },
        ],
      },
    });
    expect(Object.keys(watch.Properties.Environment.Variables).sort()).toEqual([SAFETY_STAGES_VARIABLE, 'NODE_OPTIONS'].sort());
    expect(JSON.parse(watch.Properties.Environment.Variables[SAFETY_STAGES_VARIABLE])).toEqual({
      production: {
        targets: [
          { id: 'prod-eu', account: '333333333333', region: 'eu-west-1', alarms: ['api-errors', 'prod-eu-5xx'] },
          { id: 'prod-us', account: '444444444444', region: 'us-east-1', alarms: ['api-errors'] },
        ],
        soakMinutes: 15,
      },
    });
  });

  test('the change review reads the artifact by byte ranges, never whole: 384 MB (its worst case held), 5 minutes', () => {
    const [, review] = resourceOfType(json, 'AWS::Lambda::Function', 'SafetyChangeReviewFunction');
    expect([review.Properties.MemorySize, review.Properties.Timeout]).toEqual([384, 300]);
  });

  test('the change review\'s role: its log group, the lookup roles, the assembly, its reports, the key through S3, and the job results', () => {
    const bucketId = resourceOfType(json, 'AWS::S3::Bucket', 'ArtifactsBucket')[0];
    const keyId = resourceOfType(json, 'AWS::KMS::Key', 'ArtifactsKey')[0];
    const logsId = resourceOfType(json, 'AWS::Logs::LogGroup', 'SafetyChangeReviewLogs')[0];
    expect(statementsOfRole(json, 'SafetyChangeReviewRole')).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logsId, 'Arn'] } },
      {
        Sid: 'AssumeLookupRoles',
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Resource: ['arn:aws:iam::333333333333:role/cdk-hnb659fds-lookup-role-333333333333-eu-west-1', 'arn:aws:iam::444444444444:role/cdk-hnb659fds-lookup-role-444444444444-us-east-1'],
      },
      { Sid: 'ReadCloudAssembly', Action: 's3:GetObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] } },
      { Sid: 'WriteChangeReports', Action: 's3:PutObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/ddk-change-reviews/*']] } },
      {
        Sid: 'ArtifactKeyThroughS3',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      },
      { Action: ['codepipeline:PutJobFailureResult', 'codepipeline:PutJobSuccessResult'], Effect: 'Allow', Resource: '*' },
    ]);
  });

  test('the alarm watch\'s role: its log group, the lookup roles of the watched targets, and the job results', () => {
    const logsId = resourceOfType(json, 'AWS::Logs::LogGroup', 'SafetyAlarmWatchLogs')[0];
    expect(statementsOfRole(json, 'SafetyAlarmWatchRole')).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logsId, 'Arn'] } },
      {
        Sid: 'AssumeLookupRoles',
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Resource: ['arn:aws:iam::333333333333:role/cdk-hnb659fds-lookup-role-333333333333-eu-west-1', 'arn:aws:iam::444444444444:role/cdk-hnb659fds-lookup-role-444444444444-us-east-1'],
      },
      { Action: ['codepipeline:PutJobFailureResult', 'codepipeline:PutJobSuccessResult'], Effect: 'Allow', Resource: '*' },
    ]);
  });

  test('the action role may invoke exactly the two functions', () => {
    const statements = statementsOfRole(json, 'SafetyActionRole');
    const review = resourceOfType(json, 'AWS::Lambda::Function', 'SafetyChangeReviewFunction')[0];
    const watch = resourceOfType(json, 'AWS::Lambda::Function', 'SafetyAlarmWatchFunction')[0];
    const invoked = statements.filter(s => [s.Action].flat().includes('lambda:InvokeFunction')).flatMap(s => [s.Resource].flat());
    expect(invoked).toEqual(expect.arrayContaining([{ 'Fn::GetAtt': [review, 'Arn'] }, { 'Fn::GetAtt': [watch, 'Arn'] }]));
    for (const r of invoked) expect(JSON.stringify(r)).toMatch(new RegExp(`${review}|${watch}`));
  });

  test('the pipeline role may read exactly the CICD account\'s watched alarms (the OnSuccess rules run as the pipeline role)', () => {
    const pipelineRoles = Object.values<any>(json.Resources).filter(r => r.Type === 'AWS::CodePipeline::Pipeline').map(r => r.Properties.RoleArn['Fn::GetAtt'][0]);
    const statements = Object.values<any>(json.Resources)
      .filter(r => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => pipelineRoles.includes(x.Ref)))
      .flatMap(r => r.Properties.PolicyDocument.Statement);
    const describe = statements.filter(s => [s.Action].flat().includes('cloudwatch:DescribeAlarms'));
    expect(describe).toEqual([{
      Action: 'cloudwatch:DescribeAlarms',
      Effect: 'Allow',
      // aws-cdk-lib's policy minimization sorts the resources
      Resource: ['arn:aws:cloudwatch:eu-west-1:111111111111:alarm:canary-failures', 'arn:aws:cloudwatch:eu-west-1:111111111111:alarm:pipeline-health'],
    }]);
  });

  test('the functions log to their own groups, encrypted with the artifact key, whose policy lets CloudWatch Logs use it for exactly those groups', () => {
    const keyId = resourceOfType(json, 'AWS::KMS::Key', 'ArtifactsKey')[0];
    for (const [part, name] of [['SafetyChangeReviewLogs', 'change-review'], ['SafetyAlarmWatchLogs', 'alarm-watch']]) {
      const [, group] = resourceOfType(json, 'AWS::Logs::LogGroup', part);
      expect(group.Properties).toEqual({
        LogGroupName: `/ddk-pipelines/myapp-pipeline/${name}`, KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, RetentionInDays: 365, Tags: [{ Key: 'application', Value: 'myapp' }],
      });
    }
    const keyPolicy = json.Resources[keyId].Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'DeploymentSafetyLogs');
    expect(keyPolicy.Condition).toEqual({
      ArnEquals: {
        'kms:EncryptionContext:aws:logs:arn': [
          'arn:aws:logs:eu-west-1:111111111111:log-group:/ddk-pipelines/myapp-pipeline/change-review',
          'arn:aws:logs:eu-west-1:111111111111:log-group:/ddk-pipelines/myapp-pipeline/alarm-watch',
        ],
      },
    });
    expect(keyPolicy.Principal).toEqual({ Service: 'logs.eu-west-1.amazonaws.com' });
  });
});

describe('which parts a plan gets', () => {
  test('windows only: no safety functions, but the status-check API (window overrides) and a BeforeEntry condition', () => {
    const doc = exampleDdkJson();
    delete doc.pipeline.stages[1].requiredChecks;
    doc.pipeline.stages[1].window = { cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' };
    const { stack, template } = render(doc);
    expect((stack.delivery as any).safety).toBeUndefined();
    expect((stack.delivery as any).statusChecks).toBeDefined();
    expect(Object.keys(template.findResources('AWS::Lambda::Function')).filter(id => id.includes('Safety'))).toEqual([]);
    const prod = stageOf(template.toJSON(), 'production');
    expect(prod.BeforeEntry.Conditions[0].Rules).toHaveLength(1);
  });

  test('CICD-account alarms only: OnSuccess rules and the pipeline role\'s DescribeAlarms, no alarm watch function', () => {
    const doc = exampleDdkJson();
    doc.pipeline.strategy = 'codepipeline-trunk';
    doc.pipeline.stages[1].alarms = { cicd: ['pipeline-health'] };
    const { stack, template } = render(doc);
    expect((stack.delivery as any).safety).toBeUndefined();
    const prod = stageOf(template.toJSON(), 'production');
    expect(prod.OnSuccess.Conditions[0].Rules[0].Configuration).toEqual({ AlarmName: 'pipeline-health', AlarmStates: 'ALARM', WaitTime: '10' });
    expect(prod.Actions.map((a: any) => a.Name)).not.toContain('AlarmWatch');
  });

  test('a change review only: the change review function, no alarm watch function', () => {
    const doc = exampleDdkJson();
    doc.pipeline.strategy = 'codepipeline-trunk';
    doc.pipeline.stages[1].changeReview = true;
    const { stack } = render(doc);
    const safety: DeploymentSafety = (stack.delivery as any).safety;
    expect(safety.changeReviewFunction).toBeDefined();
    expect(safety.alarmWatchFunction).toBeUndefined();
  });

  test('a stage\'s review URL moves into the approval\'s text when the review link is the change report', () => {
    const doc = exampleDdkJson();
    doc.pipeline.strategy = 'codepipeline-trunk';
    doc.pipeline.stages[1].approval.reviewUrl = 'https://wiki.example.com/release-checklist';
    doc.pipeline.stages[1].changeReview = true;
    const approve = stageOf(render(doc).template.toJSON(), 'production').Actions.find((a: any) => a.Name === 'Approve');
    expect(approve.Configuration.CustomData).toBe(`${COMMENT}\nReview: https://wiki.example.com/release-checklist\n#{ChangeReview-production.Summary}`);
    expect(approve.Configuration.ExternalEntityLink).toBe('#{ChangeReview-production.ReportUrl}');
  });

  test('without a change review the approval keeps its comment and review URL', () => {
    const doc = exampleDdkJson();
    doc.pipeline.strategy = 'codepipeline-trunk';
    doc.pipeline.stages[1].approval.reviewUrl = 'https://wiki.example.com/release-checklist';
    const approve = stageOf(render(doc).template.toJSON(), 'production').Actions.find((a: any) => a.Name === 'Approve');
    expect(approve.Configuration.CustomData).toBe(COMMENT);
    expect(approve.Configuration.ExternalEntityLink).toBe('https://wiki.example.com/release-checklist');
  });

  test('a custom bootstrap qualifier names the lookup role', () => {
    const doc = exampleDdkJson();
    doc.pipeline.strategy = 'codepipeline-trunk';
    doc.environments['prod-us'].bootstrap = { qualifier: 'team7' };
    doc.pipeline.stages[1].changeReview = true;
    const json = render(doc).template.toJSON();
    const [, fn] = resourceOfType(json, 'AWS::Lambda::Function', 'SafetyChangeReviewFunction');
    const value = fn.Properties.Environment.Variables[SAFETY_STAGES_VARIABLE];
    // THEN the setting names the qualifier (only where it is not the default) and the reader derives the role from it
    expect(JSON.parse(value).production.targets.map((t: any) => t.qualifier)).toEqual([undefined, 'team7']);
    const stages = readSafetyStages({ [SAFETY_STAGES_VARIABLE]: value, AWS_REGION: 'eu-west-1' });
    expect(stages.production.targets.map(t => t.lookupRoleArn)).toEqual([
      'arn:aws:iam::333333333333:role/cdk-hnb659fds-lookup-role-333333333333-eu-west-1',
      'arn:aws:iam::444444444444:role/cdk-team7-lookup-role-444444444444-us-east-1',
    ]);
    // AND the function may assume exactly those roles
    expect(statementsOfRole(json, 'SafetyChangeReviewRole').find((st: any) => st.Sid === 'AssumeLookupRoles').Resource).toEqual(stages.production.targets.map(t => t.lookupRoleArn));
  });
});

describe('split stages', () => {
  /**
   * One stage of `n` targets with windows, CICD alarms and tests; `reviewAndWatch` adds the change
   * review and the targets' alarms (whose settings must fit the functions' 4 KB environment).
   */
  function bigStage(strategy: string, n: number, reviewAndWatch: boolean): any {
    const envs: any = environments(n);
    if (reviewAndWatch) for (const id of Object.keys(envs)) if (id !== 'cicd') envs[id].alarms = [`${id}-5xx`];
    return {
      environments: envs,
      pipeline: {
        name: 'big',
        strategy,
        source: { codecommit: { repository: 'big', branch: 'main', create: true } },
        stages: [{
          name: 'wide',
          environments: Object.keys(envs).filter(id => id !== 'cicd'),
          approval: { comment: 'Go?' },
          ...(reviewAndWatch ? { changeReview: true } : {}),
          tests: ['npm run smoke'],
          window: { cron: '* * 9-16 ? * MON-FRI' },
          alarms: { cicd: ['pipeline-health'] },
        }],
      },
    };
  }

  /** An application of `stacks` stacks per environment (CDK Pipelines: two actions per stack with change sets). */
  class ManyStacks implements IApplicationFactory {
    constructor(private readonly stacks: number) {}
    public createApplication(stage: Stage): void {
      for (let i = 0; i < this.stacks; i++) new CfnWaitConditionHandle(new Stack(stage, `Part${i}`), 'Handle');
    }
  }

  function checkParts(json: any, reviewAndWatch: boolean): void {
    const parts = pipelinesOf(json)[0].Stages.filter((s: any) => s.Name === 'wide' || s.Name.startsWith('wide-'));
    expect(parts.map((s: any) => s.Name)).toEqual(['wide', 'wide-2']);
    const [first, last] = parts;
    for (const p of parts) expect(p.Actions.length).toBeLessThanOrEqual(50);
    expect(first.BeforeEntry.Conditions[0].Rules.map((r: any) => r.Name)).toEqual(['wide-Window-1']);
    expect(last.BeforeEntry).toBeUndefined();
    expect(first.OnSuccess).toBeUndefined();
    expect(last.OnSuccess.Conditions[0].Rules.map((r: any) => r.Name)).toEqual(['wide-Alarm-1']);
    for (const p of parts) expect(p.OnFailure).toEqual({ Result: 'ROLLBACK' });
    const names = (s: any) => s.Actions.map((a: any) => a.Name);
    expect(names(first)).toContain('Approve');
    expect(names(last)).toContain('Tests');
    if (reviewAndWatch) {
      expect(names(first)).toContain('ChangeReview');
      expect(names(first)).not.toContain('AlarmWatch');
      expect(names(last)).toContain('AlarmWatch');
      expect(names(last)).not.toContain('ChangeReview');
    }
  }

  test('codepipeline-trunk: windows open the first part, OnSuccess closes the last, each part within 50 actions', () => {
    // GIVEN 49 targets (one deploy action each): with the approval and tests they do not fit one stage
    checkParts(render(bigStage('codepipeline-trunk', 49, false)).template.toJSON(), false);
  });

  test('cdk-pipelines: windows and change review open the first part, alarm watch and OnSuccess close the last, each part within 50 actions', () => {
    // GIVEN 9 targets of 3 stacks (6 actions each with change sets) and 4 actions of overhead: 58 > 50
    checkParts(render(bigStage('cdk-pipelines', 9, true), new ManyStacks(3)).template.toJSON(), true);
  });

  test('100 targets of 2 alarms each fit both functions\' 4 KB (compressed, in random accounts), and the reader gives each target the role the function may assume', () => {
    // GIVEN one stage of 100 targets in pseudo-random accounts (deflate gets no help from them), 2 alarms each
    const doc = bigStage('codepipeline-trunk', 100, true);
    doc.pipeline.stages[0].alarms.names = ['api-errors'];
    Object.keys(doc.environments).forEach(id => doc.environments[id].account = String(BigInt(`0x${createHash('sha256').update(id).digest('hex').slice(0, 12)}`) % 900000000000n + 100000000000n));
    const json = render(doc).template.toJSON();
    for (const [fnPart, rolePart] of [['SafetyChangeReviewFunction', 'SafetyChangeReviewRole'], ['SafetyAlarmWatchFunction', 'SafetyAlarmWatchRole']]) {
      const vars = resourceOfType(json, 'AWS::Lambda::Function', fnPart)[1].Properties.Environment.Variables;
      // THEN the value is compressed and all variables (the bucket name at its longest, 63) fit 4 KB
      expect(vars[SAFETY_STAGES_VARIABLE].startsWith(COMPRESSED_PREFIX)).toBe(true);
      const bytes = Object.entries<any>(vars).reduce((n, [k, v]) => n + k.length + (typeof v === 'string' ? Buffer.byteLength(v) : 63), 0);
      expect(bytes).toBeLessThanOrEqual(2600);
      // AND the reader gives back every target with the lookup role the function's role may assume
      const stages = readSafetyStages({ [SAFETY_STAGES_VARIABLE]: vars[SAFETY_STAGES_VARIABLE], AWS_REGION: 'eu-west-1' });
      expect(stages.wide.targets).toHaveLength(100);
      if (fnPart === 'SafetyAlarmWatchFunction') expect(stages.wide.targets[6].alarms).toEqual(['api-errors', 'env7-5xx']);
      const assumable = statementsOfRole(json, rolePart).find((st: any) => st.Sid === 'AssumeLookupRoles').Resource;
      expect(stages.wide.targets.map(t => t.lookupRoleArn).sort()).toEqual([...assumable].sort());
    }
  });

  test('the new actions count: 48 deployment actions fit one stage with an approval, but not with a change review and an alarm watch too', () => {
    const doc = bigStage('cdk-pipelines', 8, true);
    // GIVEN 8 targets of 3 stacks (48 actions) and an approval only: 49 actions, one stage
    delete doc.pipeline.stages[0].changeReview;
    delete doc.pipeline.stages[0].tests;
    for (const id of Object.keys(doc.environments)) delete doc.environments[id].alarms;
    const one = pipelinesOf(render(doc, new ManyStacks(3)).template.toJSON())[0].Stages.filter((s: any) => s.Name.startsWith('wide'));
    expect(one).toHaveLength(1);
    // WHEN the change review is added: 50 actions would still fit, but the watch makes 51
    doc.pipeline.stages[0].changeReview = true;
    doc.environments.env1.alarms = ['env1-5xx'];
    const two = pipelinesOf(render(doc, new ManyStacks(3)).template.toJSON())[0].Stages.filter((s: any) => s.Name.startsWith('wide'));
    expect(two).toHaveLength(2);
  });
});

describe('errors', () => {
  test('settings over Lambda\'s 4 KB environment even compressed are refused at synth, naming the stage, the targets and the fix', () => {
    // GIVEN alarm names deflate cannot shrink much (hex digests): 2 targets of 40 names of 240 characters (the same names in both: deflate stores them once)
    const doc = exampleDdkJson();
    doc.pipeline.strategy = 'codepipeline-trunk';
    doc.pipeline.stages[1].alarms = { names: Array.from({ length: 40 }, (_, i) => Array.from({ length: 4 }, (_x, j) => createHash('sha256').update(`${i}-${j}`).digest('hex')).join('').slice(0, 240)) };
    expect(() => render(doc)).toThrow(/the alarm watch's settings \("production": 2 targets with their alarm names\) take \d+ bytes of the alarm watch function's environment compressed \(deflate:, base64; \d+ bytes as JSON\), more than the 4047 bytes left of the 4096 bytes \(4 KB\) Lambda allows.*Fix: shorten environment ids and alarm names, or watch fewer alarms \(a composite alarm per environment\), or give fewer of the 2 targets an alarm watch in ddk.json/);
  });

  test('a stage whose name has "." gets a namespace with "_" (CodePipeline namespaces have no "."); one that then coincides is refused', () => {
    const doc = exampleDdkJson();
    doc.pipeline.strategy = 'codepipeline-trunk';
    doc.pipeline.stages[1].name = 'prod.eu';
    doc.pipeline.stages[1].changeReview = true;
    const template = Template.fromStack(render(doc).stack);
    const pipeline = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0] as any;
    const stage = pipeline.Properties.Stages.find((s: any) => s.Name === 'prod.eu');
    expect(stage.Actions.find((a: any) => a.Name === 'ChangeReview').Namespace).toBe('ChangeReview-prod_eu');
    expect(stage.Actions.find((a: any) => a.Name === 'Approve').Configuration.CustomData).toContain('#{ChangeReview-prod_eu.Summary}');
    doc.pipeline.stages.splice(1, 0, { name: 'prod_eu', environments: ['dev-2'], approval: true, changeReview: true });
    doc.environments['dev-2'] = { account: '555555555555', region: 'eu-west-1' };
    expect(() => render(doc)).toThrow(/pipeline.stages "prod.eu": changeReview: the change review's variable namespace "ChangeReview-prod_eu" is also stage "prod_eu"'s.*Fix: rename one of the two stages/);
  });

  test('a comment and review URL that leave no room for the summary are refused (validation first; the construct guards plans built by hand)', () => {
    const doc = exampleDdkJson();
    doc.pipeline.strategy = 'codepipeline-trunk';
    doc.pipeline.stages[1].approval = { comment: 'c'.repeat(500), reviewUrl: `https://example.com/${'p'.repeat(100)}` };
    doc.pipeline.stages[1].changeReview = true;
    expect(() => render(doc)).toThrow(/pipeline\.stages\[1\]\.approval: "629 characters of comment and review URL" leaves no room for the change summary/);
    const approval = { comment: 'c'.repeat(500), reviewUrl: `https://example.com/${'p'.repeat(100)}`, notify: [] };
    expect(() => changeReviewApproval(approval, 'ChangeReview-production')).toThrow(/approval: the comment and the review URL take 629 characters in the approval's CustomData; with the change summary \(up to 400\) that is more than the 1000.*Fix: shorten.* to 599 characters together/);
  });

  test('asking for the review or watch of a stage that has none is refused', () => {
    const doc = exampleDdkJson();
    doc.pipeline.strategy = 'codepipeline-trunk';
    doc.pipeline.stages[1].changeReview = true;
    const { stack, plan } = render(doc);
    const safety: DeploymentSafety = (stack.delivery as any).safety;
    expect(() => safety.alarmWatchAction(plan.stages[1], 9)).toThrow(/alarmWatchAction: stage "production" has no alarms of its environments.*expected one of none/);
    expect(() => safety.changeReviewStep(plan.stages[0], undefined as any)).toThrow(/changeReviewStep: stage "development" has no changeReview.*expected one of "production"/);
  });
});

test('DeploymentSafety.isNeeded: a change review or target alarms, not windows or CICD alarms alone', () => {
  const doc = exampleDdkJson();
  const base = render(doc).plan;
  expect(DeploymentSafety.isNeeded(base)).toBe(false);
  doc.pipeline.stages[1].window = { cron: '* * 9-16 ? * MON-FRI' };
  doc.pipeline.stages[1].alarms = { cicd: ['x'] };
  expect(DeploymentSafety.isNeeded(render(doc).plan)).toBe(false);
  doc.environments.dev.alarms = ['dev-5xx'];
  expect(DeploymentSafety.isNeeded(render(doc).plan)).toBe(true);
});
