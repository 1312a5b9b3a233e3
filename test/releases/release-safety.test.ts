import { App, Stack } from 'aws-cdk-lib';
import { fooDocument } from './fixtures';
import { ArtifactStore, BuildLogs, CodePipelineDelivery, DdkConfig, DeliveryPlan, ReleaseDelivery, StatusChecks } from '../../lib';
import { pipelineLimitProblems } from '../../lib/pipelines/limits';
import { readSafetyStages } from '../../lib/safety/settings';
import { SAFETY_STAGES_VARIABLE } from '../../lib/safety/shared';
import { ENV } from '../../lib/status-checks/shared';
import { checkAccess } from '../contracts/access';
import { accessInputOf } from '../contracts/check-all';
import { checkIamActionsAndConditions } from '../contracts/contracts/iam';
import { checkSafetyAccess, checkStageConditions } from '../contracts/contracts/stage-conditions';
import { CDK_CONTEXT, render, SynthesizedWithNag, synthWithNag } from '../helpers';

/*
 * Deployment safety with release brackets (issue 13 on issue 12's foo story): a window on dev (a
 * per-service stage, so in each service's pipeline) and on hardening (a bracket stage, in the
 * release pipeline); alarms on dev (the stage's names in dev's account) and on production (the
 * environment's own alarm, and a CICD-account alarm as an OnSuccess rule). Synthesized as `cdk
 * synth` does (cdk-nag AwsSolutions and CloudFormation validation: a finding fails synthesis).
 */

const BERLIN = { cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' };
const SERVICE_PIPELINES = ['foo-foobar-frontend', 'foo-foobar-backend'];

function guardedFoo(): any {
  const doc = fooDocument();
  doc.environments.production.alarms = ['api-5xx'];
  const [dev, hardening, production] = doc.pipeline.stages;
  dev.window = BERLIN;
  dev.alarms = { names: ['latency-p99'], soakMinutes: 10 };
  hardening.window = BERLIN;
  production.alarms = { cicd: ['release-canary'], soakMinutes: 20 };
  return doc;
}

const resourcesOfType = (json: any, type: string) => Object.entries<any>(json.Resources).filter(([, r]) => r.Type === type);
const pipelinesByName = (json: any): Record<string, any> => Object.fromEntries(resourcesOfType(json, 'AWS::CodePipeline::Pipeline').map(([, p]) => [p.Properties.Name, p.Properties]));
const stageOf = (p: any, name: string) => p.Stages.find((s: any) => s.Name === name);
const logicalId = (json: any, type: string, pattern: RegExp) => {
  const found = resourcesOfType(json, type).map(([id]) => id).filter(id => pattern.test(id));
  expect(found).toHaveLength(1);
  return found[0];
};
/** Every statement of the policies attached to the role whose logical id is `roleId`. */
const statementsOfRole = (json: any, roleId: string): any[] => resourcesOfType(json, 'AWS::IAM::Policy')
  .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
  .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
const windowRule = (stage: string) => ({
  Name: `${stage}-Window-1`,
  RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'DeploymentWindow', Version: '1' },
  Configuration: { Cron: BERLIN.cron, TimeZone: BERLIN.timeZone },
});

describe('windows and alarms with release brackets', () => {
  let s: SynthesizedWithNag;
  beforeAll(() => {
    s = synthWithNag(guardedFoo());
  }, 180_000);
  const alarmWatchFunction = () => logicalId(s.json, 'AWS::Lambda::Function', /SafetyAlarmWatchFunction[0-9A-F]{8}$/);

  test('cdk-nag AwsSolutions and CloudFormation validation pass; the delivery makes an alarm watch only (no change review) and hands it to the releases', () => {
    const delivery = s.stack.delivery as CodePipelineDelivery;
    expect(delivery.safety).toBeDefined();
    expect(delivery.safety!.alarmWatchFunction).toBeDefined();
    expect(delivery.safety!.changeReviewFunction).toBeUndefined();
    expect(resourcesOfType(s.json, 'AWS::Lambda::Function').map(([id]) => id).filter(id => /ChangeReview/.test(id))).toEqual([]);
  });

  test('each service\'s pipeline: dev enters only inside its window, its deployment then the AlarmWatch, rolled back on failure', () => {
    const all = pipelinesByName(s.json);
    for (const name of SERVICE_PIPELINES) {
      const dev = stageOf(all[name], 'dev');
      expect(dev.BeforeEntry).toEqual({ Conditions: [{ Result: 'FAIL', Rules: [windowRule('dev')] }] });
      expect(dev.Actions.map((a: any) => [a.Name, a.RunOrder, a.ActionTypeId.Provider])).toEqual([['Deploy-dev', 1, 'CodeBuild'], ['AlarmWatch', 2, 'Lambda']]);
      const watch = dev.Actions[1];
      expect(watch.Configuration.FunctionName).toEqual({ Ref: alarmWatchFunction() });
      expect(JSON.parse(watch.Configuration.UserParameters)).toEqual({ pipeline: 'foo', stage: 'dev', executionId: '#{codepipeline.PipelineExecutionId}' });
      // dev watches only its account's alarms: no OnSuccess rule; an alarm fails the watch, and the stage rolls back
      expect(dev.OnSuccess).toBeUndefined();
      expect(dev.OnFailure).toEqual({ Result: 'ROLLBACK' });
      // nothing else of the service's pipeline is conditioned
      for (const other of all[name].Stages.filter((st: any) => st.Name !== 'dev')) expect([other.BeforeEntry, other.OnSuccess]).toEqual([undefined, undefined]);
    }
  });

  test('the release pipeline: hardening behind its window; production\'s one AlarmWatch after both services\' deployments, its CICD alarm an OnSuccess rollback', () => {
    const release = pipelinesByName(s.json)['foo-release'];
    const hardening = stageOf(release, 'hardening');
    expect(hardening.BeforeEntry).toEqual({ Conditions: [{ Result: 'FAIL', Rules: [windowRule('hardening')] }] });
    expect(hardening.Actions.map((a: any) => a.Name)).not.toContain('AlarmWatch');
    expect([hardening.OnSuccess, hardening.OnFailure]).toEqual([undefined, undefined]);
    const production = stageOf(release, 'production');
    expect(production.BeforeEntry).toBeUndefined();
    expect(production.Actions.map((a: any) => [a.Name, a.RunOrder])).toEqual([
      ['Deploy-foobar-frontend-production', 1], ['Deploy-foobar-backend-production', 1], ['AlarmWatch', 2],
    ]);
    expect(JSON.parse(production.Actions[2].Configuration.UserParameters)).toEqual({ pipeline: 'foo', stage: 'production', executionId: '#{codepipeline.PipelineExecutionId}' });
    expect(production.OnSuccess).toEqual({
      Conditions: [{
        Result: 'ROLLBACK',
        Rules: [{
          Name: 'production-Alarm-1',
          RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'CloudWatchAlarm', Version: '1' },
          Configuration: { AlarmName: 'release-canary', AlarmStates: 'ALARM', WaitTime: '20' },
        }],
      }],
    });
    expect(production.OnFailure).toEqual({ Result: 'ROLLBACK' });
  });

  test('the release pipeline\'s role reads exactly the CICD alarm; the services\' pipelines read none', () => {
    const roleOf = (name: string) => {
      const [[id]] = resourcesOfType(s.json, 'AWS::CodePipeline::Pipeline').filter(([, p]) => p.Properties.Name === name);
      return s.json.Resources[id].Properties.RoleArn['Fn::GetAtt'][0];
    };
    const describeAlarms = (name: string) => statementsOfRole(s.json, roleOf(name)).filter(st => [st.Action].flat().includes('cloudwatch:DescribeAlarms'));
    expect(describeAlarms('foo-release')).toEqual([{
      Effect: 'Allow',
      Action: 'cloudwatch:DescribeAlarms',
      Resource: 'arn:aws:cloudwatch:eu-west-1:111111111111:alarm:release-canary',
    }]);
    for (const name of SERVICE_PIPELINES) expect(describeAlarms(name)).toEqual([]);
  });

  test('the alarm watch\'s settings: dev\'s and production\'s targets with their alarms and soak times; it may assume exactly their lookup roles', () => {
    const fn = s.json.Resources[alarmWatchFunction()].Properties;
    const stages = readSafetyStages({ [SAFETY_STAGES_VARIABLE]: fn.Environment.Variables[SAFETY_STAGES_VARIABLE], AWS_REGION: 'eu-west-1' });
    expect(Object.keys(stages)).toEqual(['dev', 'production']);
    expect(stages.dev).toMatchObject({ soakMinutes: 10, targets: [{ id: 'dev', account: '222222222222', alarms: ['latency-p99'] }] });
    expect(stages.production).toMatchObject({ soakMinutes: 20, targets: [{ id: 'production', account: '444444444444', alarms: ['api-5xx'] }] });
    const assume = statementsOfRole(s.json, fn.Role['Fn::GetAtt'][0]).filter(st => st.Sid === 'AssumeLookupRoles');
    expect(JSON.stringify(assume)).toContain('cdk-hnb659fds-lookup-role-222222222222-eu-west-1');
    expect(JSON.stringify(assume)).toContain('cdk-hnb659fds-lookup-role-444444444444-eu-west-1');
    expect(JSON.stringify(assume)).not.toContain('333333333333');
  });

  test('window overrides: the API knows each pipeline holding a windowed stage and may override exactly those stages', () => {
    const api = logicalId(s.json, 'AWS::Lambda::Function', /StatusChecksApiFunction[0-9A-F]{8}$/);
    const props = s.json.Resources[api].Properties;
    const settings = JSON.parse(props.Environment.Variables[ENV.PIPELINE_SETTINGS]);
    expect(settings.stages).toEqual([
      { name: 'dev', index: 0, requiredChecks: [], windowPipelines: SERVICE_PIPELINES },
      { name: 'hardening', index: 1, requiredChecks: ['perf/e2e'], windowPipeline: 'foo-release' },
      { name: 'production', index: 2, requiredChecks: [] },
    ]);
    const statements = statementsOfRole(s.json, props.Role['Fn::GetAtt'][0]);
    // the stack's account and region are known: the ARNs are literal (the policy's resources sorted)
    const arns = (rests: string[]) => rests.map(rest => `arn:aws:codepipeline:eu-west-1:111111111111:${rest}`).sort();
    expect(statements.find(st => st.Sid === 'ReadWindowedPipelines').Resource).toEqual(arns([...SERVICE_PIPELINES, 'foo-release']));
    expect(statements.find(st => st.Sid === 'OverrideWindows').Resource).toEqual(arns([...SERVICE_PIPELINES.map(p => `${p}/dev`), 'foo-release/hardening']));
  });

  test('every pipeline within CodePipeline\'s limits; the stage conditions, IAM and access contracts hold', async () => {
    const all = pipelinesByName(s.json);
    expect(Object.keys(all)).toEqual([...SERVICE_PIPELINES, 'foo-release']);
    for (const p of Object.values(all)) expect(pipelineLimitProblems(p, 'ddk.json')).toEqual([]);
    expect(checkStageConditions(s.output)).toEqual([]);
    expect(await checkSafetyAccess(s.output)).toEqual([]);
    expect(await checkIamActionsAndConditions(s.output)).toEqual([]);
    expect(await checkAccess(accessInputOf({ plan: s.plan, stacks: [s.output] }))).toEqual([]);
  }, 60_000);
});

test('a per-service stage split past 50 actions keeps its window on the first part and the AlarmWatch on the last', () => {
  const doc = guardedFoo();
  const envs = Object.fromEntries(Array.from({ length: 55 }, (_, i) => [`dev${i}`, { account: '222222222222', region: 'eu-west-1' }]));
  Object.assign(doc.environments, envs);
  doc.pipeline.stages[0].environments = Object.keys(envs);
  const json = render(doc).template.toJSON();
  const p = pipelinesByName(json)['foo-foobar-frontend'];
  expect(p.Stages.map((st: any) => st.Name)).toEqual(['Source', 'Build', 'dev', 'dev-2', 'Candidate']);
  const [first, second] = [stageOf(p, 'dev'), stageOf(p, 'dev-2')];
  expect(first.BeforeEntry.Conditions[0].Rules.map((r: any) => r.Name)).toEqual(['dev-Window-1']);
  expect(second.BeforeEntry).toBeUndefined();
  expect(first.Actions.map((a: any) => a.Name)).not.toContain('AlarmWatch');
  expect(second.Actions[second.Actions.length - 1]).toMatchObject({ Name: 'AlarmWatch', RunOrder: 2 });
  for (const p2 of Object.values(pipelinesByName(json))) expect(pipelineLimitProblems(p2, 'ddk.json')).toEqual([]);
}, 120_000);

test('ReleaseDelivery on its own refuses a plan whose stages watch alarms without a DeploymentSafety, naming the stages and the fix', () => {
  const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(guardedFoo(), 'ddk.json'));
  const stack = new Stack(new App({ context: CDK_CONTEXT }), 'Cicd', { env: { account: '111111111111', region: 'eu-west-1' } });
  const artifacts = new ArtifactStore(stack, 'Artifacts');
  const buildLogs = new BuildLogs(stack, 'BuildLogs', { key: artifacts.key, name: 'Cicd' });
  const statusChecks = new StatusChecks(stack, 'StatusChecks', { plan });
  expect(() => new ReleaseDelivery(stack, 'Releases', { plan, artifacts, buildLogs, statusChecks }))
    .toThrow('ReleaseDelivery Cicd/Releases: stages "dev", "production" of pipeline foo watch alarms of their environments, but props.safety is not set; expected a DeploymentSafety made for this plan. Fix: pass safety (CodePipelineDelivery does)');
});
