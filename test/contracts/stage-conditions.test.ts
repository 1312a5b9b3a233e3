import { checkSafetyAccess, checkStageConditions } from './contracts/stage-conditions';
import type { StackTemplate } from './synthesize';

/*
 * The stage-condition contract finds what CodePipeline documents it refuses, and the safety
 * access contract finds a pipeline role that cannot read its alarm rules' alarms and a function
 * that may assume more than its targets' lookup roles. (The rendered templates pass them in
 * hand-picked.test.ts and generated.test.ts.)
 */

const WINDOW = { Category: 'Rule', Owner: 'AWS', Provider: 'DeploymentWindow', Version: '1' };
const ALARM = { Category: 'Rule', Owner: 'AWS', Provider: 'CloudWatchAlarm', Version: '1' };

function stack(stages: any[], extra: Record<string, any> = {}, props: Record<string, any> = {}): StackTemplate {
  return {
    stackName: 's',
    displayName: 's',
    kind: 'cicd',
    account: '111111111111',
    region: 'eu-west-1',
    bytes: 0,
    templateFile: 't',
    template: {
      Resources: {
        Pipeline: { Type: 'AWS::CodePipeline::Pipeline', Properties: { PipelineType: 'V2', RoleArn: { 'Fn::GetAtt': ['PipelineRole', 'Arn'] }, Stages: stages, ...props } },
        PipelineRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
        ...extra,
      },
    },
  } as StackTemplate;
}
const contracts = (s: StackTemplate) => checkStageConditions(s).map(f => `${f.contract}: ${f.message}`);

describe('stage-condition contract', () => {
  test('a window and an alarm rule as rendered pass', () => {
    const s = stack([{
      Name: 'prod',
      BeforeEntry: { Conditions: [{ Result: 'FAIL', Rules: [{ Name: 'prod-Window-1', RuleTypeId: WINDOW, Configuration: { Cron: '* * 9-16 ? * MON-FRI', TimeZone: 'UTC' } }] }] },
      OnSuccess: { Conditions: [{ Result: 'ROLLBACK', Rules: [{ Name: 'prod-Alarm-1', RuleTypeId: ALARM, Configuration: { AlarmName: 'a', AlarmStates: 'ALARM', WaitTime: '10' } }] }] },
      OnFailure: { Result: 'ROLLBACK' },
    }]);
    expect(contracts(s)).toEqual([]);
  });

  test('unknown keys, a missing required key, bad values, an unknown rule type', () => {
    const s = stack([{
      Name: 'prod',
      BeforeEntry: {
        Conditions: [{
          Result: 'FAIL',
          Rules: [
            { Name: 'a', RuleTypeId: WINDOW, Configuration: { cron: '* * 9 ? * *' } },
            { Name: 'b', RuleTypeId: WINDOW, Configuration: { Cron: '0 9 * * MON' } },
            { Name: 'c', RuleTypeId: { ...WINDOW, Version: '2' }, Configuration: { Cron: '* * * ? * *' } },
          ],
        }],
      },
      OnSuccess: { Conditions: [{ Result: 'ROLLBACK', Rules: [{ Name: 'd', RuleTypeId: ALARM, Configuration: { AlarmName: 'x', AlarmStates: 'RED', WaitTime: '0' } }] }] },
    }]);
    expect(contracts(s)).toEqual([
      'codepipeline.rule-configuration: Rule/AWS/DeploymentWindow/1 requires Cron',
      'codepipeline.rule-configuration: Rule/AWS/DeploymentWindow/1 documents no configuration key cron',
      'codepipeline.rule-configuration: Cron "0 9 * * MON" is not six fields and an optional year with seconds "*"',
      'codepipeline.rule-type: Rule/AWS/DeploymentWindow/2 is not a rule type this contract knows; add its documented configuration to RULE_CONTRACTS',
      'codepipeline.rule-configuration: AlarmStates "RED" is not of ALARM, OK, INSUFFICIENT_DATA',
      'codepipeline.rule-configuration: WaitTime "0" is not a whole number of minutes',
    ]);
  });

  test('results per condition kind, V2, PARALLEL, rule counts and unique names', () => {
    const rule = (name: string) => ({ Name: name, RuleTypeId: WINDOW, Configuration: { Cron: '* * * ? * *' } });
    const s = stack([
      { Name: 'a', BeforeEntry: { Conditions: [{ Result: 'ROLLBACK', Rules: [rule('r1'), rule('r2'), rule('r3'), rule('r4'), rule('r5'), rule('r6')] }] } },
      { Name: 'b', OnSuccess: { Conditions: [{ Result: 'ROLLBACK', Rules: [rule('r1')] }] } },
    ], {}, { PipelineType: 'V1', ExecutionMode: 'PARALLEL' });
    expect(contracts(s)).toEqual([
      'codepipeline.stage-conditions: BeforeEntry needs pipeline type V2',
      'codepipeline.stage-conditions: result "ROLLBACK" is not one of FAIL, SKIP for BeforeEntry',
      'codepipeline.stage-conditions: ROLLBACK is not available in PARALLEL execution mode',
      'codepipeline.rule-count: 6 rules; CodePipeline allows 1 to 5',
      'codepipeline.stage-conditions: OnSuccess needs pipeline type V2',
      'codepipeline.stage-conditions: ROLLBACK is not available in PARALLEL execution mode',
      'codepipeline.rule-name: rule name "r1" is used twice in the pipeline',
    ]);
  });
});

describe('safety access contract', () => {
  const onSuccess = (alarm: string) => [{ Name: 'prod', OnSuccess: { Conditions: [{ Result: 'ROLLBACK', Rules: [{ Name: 'x', RuleTypeId: ALARM, Configuration: { AlarmName: alarm } }] }] } }];
  const rolePolicy = (statement: any) => ({
    Type: 'AWS::IAM::Policy',
    Properties: { PolicyName: 'p', Roles: [{ Ref: 'PipelineRole' }], PolicyDocument: { Version: '2012-10-17', Statement: [statement] } },
  });

  test('a pipeline role allowed exactly its rules\' alarms passes; one missing it, or allowed every alarm, is found', async () => {
    const exact = rolePolicy({ Effect: 'Allow', Action: 'cloudwatch:DescribeAlarms', Resource: 'arn:aws:cloudwatch:eu-west-1:111111111111:alarm:health' });
    expect(await checkSafetyAccess(stack(onSuccess('health'), { P: exact }))).toEqual([]);
    const missing = await checkSafetyAccess(stack(onSuccess('health'), {}));
    expect(missing.map(f => f.message)).toEqual([expect.stringMatching(/reads alarm health .*cannot cloudwatch:DescribeAlarms.*expected Allowed/)]);
    const every = rolePolicy({ Effect: 'Allow', Action: 'cloudwatch:DescribeAlarms', Resource: '*' });
    expect((await checkSafetyAccess(stack(onSuccess('health'), { P: every }))).map(f => f.message))
      .toEqual([expect.stringMatching(/reads alarm an-alarm-no-rule-watches .*CAN cloudwatch:DescribeAlarms.*expected Denied/)]);
  });

  test('a safety function that may assume any role of its target account is found', async () => {
    const stages = { prod: { targets: [{ id: 'p', account: '333333333333', region: 'eu-west-1', lookupRoleArn: 'arn:aws:iam::333333333333:role/cdk-hnb659fds-lookup-role-333333333333-eu-west-1' }] } };
    const fn = (resource: string) => ({
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] }, Environment: { Variables: { DDK_SAFETY_STAGES: JSON.stringify(stages) } } } },
      FnRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
      FnPolicy: { Type: 'AWS::IAM::Policy', Properties: { PolicyName: 'f', Roles: [{ Ref: 'FnRole' }], PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: resource }] } } },
    });
    expect(await checkSafetyAccess(stack([], fn(stages.prod.targets[0].lookupRoleArn)))).toEqual([]);
    const wide = await checkSafetyAccess(stack([], fn('arn:aws:iam::333333333333:role/*')));
    expect(wide.map(f => f.contract)).toEqual(['access.safety-lookup-roles', 'access.safety-lookup-roles']);
    expect(wide.map(f => f.message)).toEqual([
      expect.stringMatching(/deploy role \(not read-only\).*CAN sts:AssumeRole/),
      expect.stringMatching(/another role of target account 333333333333.*CAN sts:AssumeRole/),
    ]);
  });
});
