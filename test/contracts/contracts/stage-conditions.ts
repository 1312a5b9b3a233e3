import { readSafetyStages } from '../../../lib/safety/settings';
import { simulate } from '../access';
import { asArray, resourcesOf, Resolver } from '../cfn';
import { Finding, FindingSink, show } from '../findings';
import { rolePolicies } from '../policies';
import type { StackTemplate } from '../synthesize';

/*
 * CodePipeline's documented contract for stage conditions and the deployment-safety resources:
 * - API reference: BeforeEntryConditions / SuccessConditions / FailureConditions hold exactly one
 *   Condition; Condition.rules 1 to 5; Condition.result one of ROLLBACK, FAIL, RETRY, SKIP, and per
 *   kind ("Configure conditions for a stage"): Entry FAIL or SKIP, On Success ROLLBACK, On Failure
 *   ROLLBACK (or RETRY with a retry configuration); RuleDeclaration.name 1 to 100 of [A-Za-z0-9.@_-]
 *   (unique in the pipeline: aws-cdk-lib's Rule), configuration ≤ 200 entries, keys 1–50, values
 *   1–10,000 characters, region 4–30 characters; conditions need pipeline type V2, and a rollback
 *   is not available in PARALLEL mode.
 * - rule reference: `DeploymentWindow` (category Rule, owner AWS, version 1): Cron required, six
 *   fields and an optional year, seconds "*"; TimeZone optional. `CloudWatchAlarm` (version 1):
 *   AlarmName required; AlarmStates of ALARM, OK, INSUFFICIENT_DATA; WaitTime in minutes.
 * - access (IAM policy evaluation, iam-simulate): a rule without RoleArn runs as the pipeline's
 *   role, which must be allowed cloudwatch:DescribeAlarms on each watched alarm (and on no other);
 *   the change review and alarm watch functions (Lambda invoke actions) may assume exactly their
 *   stages' targets' CDK lookup roles (DDK_SAFETY_STAGES), no other role.
 */

export const STAGE_CONDITIONS = {
  conditions: 1,
  rulesMin: 1,
  rulesMax: 5,
  ruleNameMax: 100,
  configurationEntriesMax: 200,
  configurationKeyMax: 50,
  configurationValueMax: 10000,
  regionMin: 4,
  regionMax: 30,
} as const;

const RESULTS: Record<string, string[]> = { BeforeEntry: ['FAIL', 'SKIP'], OnSuccess: ['ROLLBACK'], OnFailure: ['ROLLBACK', 'RETRY'] };
const RULE_NAME = /^[A-Za-z0-9.@_-]{1,100}$/;
const ALARM_STATES = ['ALARM', 'OK', 'INSUFFICIENT_DATA'];

interface RuleContract {
  readonly required: string[];
  readonly allowed: string[];
  readonly values?: (config: Record<string, string>) => string[];
}

/** The rule types the contract knows, by `Category/Owner/Provider/Version`. */
export const RULE_CONTRACTS: Record<string, RuleContract> = {
  'Rule/AWS/DeploymentWindow/1': {
    required: ['Cron'],
    allowed: ['Cron', 'TimeZone'],
    values: c => {
      if (c.Cron === undefined) return [];
      const fields = String(c.Cron ?? '').trim().split(/\s+/);
      return fields.length < 6 || fields.length > 7 || fields[0] !== '*' ? [`Cron ${show(c.Cron)} is not six fields and an optional year with seconds "*"`] : [];
    },
  },
  'Rule/AWS/CloudWatchAlarm/1': {
    required: ['AlarmName'],
    allowed: ['AlarmName', 'AlarmStates', 'WaitTime'],
    values: c => [
      ...(c.AlarmStates !== undefined && !String(c.AlarmStates).split(',').every(s => ALARM_STATES.includes(s.trim())) ? [`AlarmStates ${show(c.AlarmStates)} is not of ${ALARM_STATES.join(', ')}`] : []),
      ...(c.WaitTime !== undefined && !/^[1-9]\d*$/.test(String(c.WaitTime)) ? [`WaitTime ${show(c.WaitTime)} is not a whole number of minutes`] : []),
    ],
  },
};

type Input = Pick<StackTemplate, 'displayName' | 'stackName' | 'account' | 'region' | 'template'>;

/** Every stage condition of every pipeline of a template, held against CodePipeline's contract. */
export function checkStageConditions(stack: Input): Finding[] {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  for (const p of resourcesOf(stack.template, 'AWS::CodePipeline::Pipeline')) {
    const add = (contract: string, where: string, message: string) => sink.add(`codepipeline.${contract}`, `${p.logicalId}.${where}`, message);
    const type = p.properties.PipelineType ?? 'V1';
    const mode = p.properties.ExecutionMode ?? 'SUPERSEDED';
    const names = new Set<string>();
    asArray<any>(p.properties.Stages).forEach((stage, si) => {
      for (const kind of Object.keys(RESULTS)) {
        const declared = stage[kind];
        if (declared === undefined) continue;
        const at = `Stages[${si}].${kind}`;
        if (type !== 'V2') add('stage-conditions', at, `${kind} needs pipeline type V2`);
        const conditions = asArray<any>(declared.Conditions);
        const results = [declared.Result, ...conditions.map(c => c.Result)].filter(r => r !== undefined);
        for (const r of results) if (!RESULTS[kind].includes(r)) add('stage-conditions', at, `result ${show(r)} is not one of ${RESULTS[kind].join(', ')} for ${kind}`);
        if (results.includes('ROLLBACK') && mode === 'PARALLEL') add('stage-conditions', at, 'ROLLBACK is not available in PARALLEL execution mode');
        if (kind !== 'OnFailure' && conditions.length !== STAGE_CONDITIONS.conditions) add('stage-conditions', at, `${conditions.length} conditions; CodePipeline takes exactly ${STAGE_CONDITIONS.conditions}`);
        if (kind === 'OnFailure' && conditions.length > STAGE_CONDITIONS.conditions) add('stage-conditions', at, `${conditions.length} conditions; at most ${STAGE_CONDITIONS.conditions}`);
        conditions.forEach((condition, ci) => {
          const rules = asArray<any>(condition.Rules);
          if (rules.length < STAGE_CONDITIONS.rulesMin || rules.length > STAGE_CONDITIONS.rulesMax) {
            add('rule-count', `${at}.Conditions[${ci}]`, `${rules.length} rules; CodePipeline allows ${STAGE_CONDITIONS.rulesMin} to ${STAGE_CONDITIONS.rulesMax}`);
          }
          rules.forEach((rule, ri) => checkRule(rule, `${at}.Conditions[${ci}].Rules[${ri}]`, names, resolver, add));
        });
      }
    });
  }
  return sink.findings;
}

function checkRule(rule: any, where: string, names: Set<string>, resolver: Resolver, add: (c: string, w: string, m: string) => void): void {
  const name = resolver.string(rule.Name);
  if (name === undefined || !RULE_NAME.test(name)) add('rule-name', `${where}.Name`, `rule name ${show(name ?? rule.Name)} is not 1–100 characters of A-Z a-z 0-9 . @ - _`);
  else if (names.has(name)) add('rule-name', `${where}.Name`, `rule name "${name}" is used twice in the pipeline`);
  if (name) names.add(name);
  const t = rule.RuleTypeId ?? {};
  const key = `${t.Category}/${t.Owner}/${t.Provider}/${t.Version}`;
  const contract = RULE_CONTRACTS[key];
  const text = (v: unknown) => resolver.string(v) ?? JSON.stringify(resolver.resolveLoosely(v));
  const config: Record<string, string> = Object.fromEntries(Object.entries(rule.Configuration ?? {}).map(([k, v]) => [k, text(v)]));
  if (!contract) {
    add('rule-type', `${where}.RuleTypeId`, `${key} is not a rule type this contract knows; add its documented configuration to RULE_CONTRACTS`);
  } else {
    for (const k of contract.required) if (config[k] === undefined) add('rule-configuration', `${where}.Configuration`, `${key} requires ${k}`);
    for (const k of Object.keys(config)) if (!contract.allowed.includes(k)) add('rule-configuration', `${where}.Configuration.${k}`, `${key} documents no configuration key ${k}`);
    for (const m of contract.values?.(config) ?? []) add('rule-configuration', `${where}.Configuration`, m);
  }
  const entries = Object.entries(config);
  if (entries.length > STAGE_CONDITIONS.configurationEntriesMax) add('rule-configuration', `${where}.Configuration`, `${entries.length} entries; at most ${STAGE_CONDITIONS.configurationEntriesMax}`);
  for (const [k, v] of entries) {
    if (k.length < 1 || k.length > STAGE_CONDITIONS.configurationKeyMax) add('rule-configuration', `${where}.Configuration.${k}`, `key of ${k.length} characters; 1 to ${STAGE_CONDITIONS.configurationKeyMax}`);
    if (v.length < 1 || v.length > STAGE_CONDITIONS.configurationValueMax) add('rule-configuration', `${where}.Configuration.${k}`, `value of ${v.length} characters; 1 to ${STAGE_CONDITIONS.configurationValueMax}`);
  }
  const region = rule.Region === undefined ? undefined : String(rule.Region);
  if (region !== undefined && (region.length < STAGE_CONDITIONS.regionMin || region.length > STAGE_CONDITIONS.regionMax)) {
    add('rule-region', `${where}.Region`, `region ${show(rule.Region)} is not ${STAGE_CONDITIONS.regionMin}–${STAGE_CONDITIONS.regionMax} characters`);
  }
}

/**
 * Access: each pipeline's role may read exactly its CloudWatchAlarm rules' alarms (in the
 * pipeline's account and region), and each deployment-safety function may assume exactly its
 * stages' targets' lookup roles.
 */
export async function checkSafetyAccess(stack: Input): Promise<Finding[]> {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  const partition = resolver.partition;
  for (const p of resourcesOf(stack.template, 'AWS::CodePipeline::Pipeline')) {
    const alarms = asArray<any>(p.properties.Stages)
      .flatMap(s => asArray<any>(s.OnSuccess?.Conditions).flatMap(c => asArray<any>(c.Rules)))
      .filter(r => r.RuleTypeId?.Provider === 'CloudWatchAlarm' && r.Region === undefined)
      .map(r => String(r.Configuration?.AlarmName));
    if (alarms.length === 0) continue;
    const roleId = p.properties.RoleArn?.['Fn::GetAtt']?.[0];
    const identity = rolePolicies(stack, resolver, roleId);
    const principal = `arn:${partition}:iam::${stack.account}:role/${roleId}`;
    const arn = (name: string) => `arn:${partition}:cloudwatch:${stack.region}:${stack.account}:alarm:${name}`;
    for (const [alarm, expect] of [...alarms.map(a => [a, 'Allowed'] as const), ['an-alarm-no-rule-watches', 'Denied'] as const]) {
      const problem = await simulate({
        description: `pipeline ${p.logicalId}'s role reads alarm ${alarm} (CloudWatchAlarm rule)`,
        principal,
        action: 'cloudwatch:DescribeAlarms',
        resource: arn(alarm),
        resourceAccount: stack.account,
        expect,
        identityPolicies: identity,
      });
      if (problem) sink.add('access.stage-condition-alarms', p.logicalId, problem);
    }
  }
  for (const fn of resourcesOf(stack.template, 'AWS::Lambda::Function')) {
    const raw = fn.properties.Environment?.Variables?.DDK_SAFETY_STAGES;
    if (raw === undefined) continue;
    // read as the functions read it (compressed or not; lookup roles derived in the stack's region's partition)
    const value = resolver.string(raw) ?? JSON.stringify(resolver.resolveLoosely(raw));
    const stages = readSafetyStages({ DDK_SAFETY_STAGES: value, AWS_REGION: stack.region });
    const roleId = fn.properties.Role?.['Fn::GetAtt']?.[0];
    const identity = rolePolicies(stack, resolver, roleId);
    const principal = `arn:${partition}:iam::${stack.account}:role/${roleId}`;
    const targets = Object.values(stages).flatMap(s => s.targets);
    const trust = (account: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:${partition}:iam::${stack.account}:root` }, Action: 'sts:AssumeRole', Resource: `arn:${partition}:iam::${account}:role/*` }] });
    const cases: Array<[string, string, string, 'Allowed' | 'Denied']> = [];
    for (const t of targets) {
      cases.push([`assumes target ${t.id}'s lookup role`, t.lookupRoleArn, t.account, 'Allowed']);
      cases.push([`target ${t.id}'s deploy role (not read-only)`, String(t.lookupRoleArn).replace('-lookup-role-', '-deploy-role-'), t.account, 'Denied']);
      cases.push([`another role of target account ${t.account}`, `arn:${partition}:iam::${t.account}:role/Admin`, t.account, 'Denied']);
    }
    for (const [description, role, account, expect] of cases) {
      const problem = await simulate({
        description: `function ${fn.logicalId}: ${description}`,
        principal,
        action: 'sts:AssumeRole',
        resource: role,
        resourceAccount: account,
        expect,
        identityPolicies: identity,
        resourcePolicy: trust(account),
      });
      if (problem) sink.add('access.safety-lookup-roles', fn.logicalId, problem);
    }
  }
  return sink.findings;
}
