import { consoleHost } from '../config/regions';
import { isObj, show, str } from '../input-values';
// types only: the CLI imports this module (renderChangeReport) and must not load fflate, which
// only the handler's bundle carries (the handler passes readNestedAssemblies as a port)
import type { AssemblySource, AssemblyStack, NestedAssembly, Template } from './cloud-assembly';
import {
  ChangeReport, isThrottling, ResourceChange, SAFETY_LIMITS, SafetyActionParameters, SafetyStage, SafetyTarget, StackChangeReport,
} from './shared';

/*
 * The change review's logic (issue 13): what a stage's deployments will change, from the
 * synthesized templates (the cloud assembly) and the deployed ones (GetTemplate through each
 * target's CDK lookup role). No SDK here: the handler (lambda/change-review) gives the ports.
 *
 * What counts as a change (a template diff, not a change set: it cannot know what intrinsic
 * functions resolve to, nor updates CloudFormation decides at deploy time):
 * - Resources: added, removed, modified (top-level Properties that differ, and the resource
 *   attributes Condition, DeletionPolicy, UpdateReplacePolicy, UpdatePolicy and CreationPolicy),
 *   replaced (the Type changed, or a changed property is one of the type's `createOnlyProperties`
 *   in its CloudFormation registry schema). A resource's `Metadata` (CDK's aws:cdk:path, asset
 *   paths) and `DependsOn` (ordering only) do not count, nor AWS::CDK::Metadata resources or
 *   CDK's CDKMetadataAvailable condition.
 * - Template sections: Outputs, Parameters, Conditions, Mappings, Rules and Transform, by entry.
 * - IAM: AWS::IAM::* resources, resource policies (bucket, queue, topic, Lambda permission …) and
 *   policy properties of any resource (Policies, ManagedPolicyArns, AssumeRolePolicyDocument,
 *   PolicyDocument, KeyPolicy …). Security groups: AWS::EC2::SecurityGroup* resources and the
 *   SecurityGroupIngress/SecurityGroupEgress properties.
 */

/** Resource attributes whose change is an update of the resource (besides Properties). */
const COUNTED_ATTRIBUTES = ['Condition', 'DeletionPolicy', 'UpdateReplacePolicy', 'UpdatePolicy', 'CreationPolicy'] as const;

/** Template sections compared besides Resources. */
const OTHER_SECTIONS = ['Parameters', 'Mappings', 'Conditions', 'Rules', 'Outputs', 'Transform'] as const;

const CDK_METADATA_TYPE = 'AWS::CDK::Metadata';
const CDK_METADATA_CONDITION = 'CDKMetadataAvailable';

/** Resource types that are resource policies (who may use another resource). */
export const RESOURCE_POLICY_TYPES: ReadonlySet<string> = new Set([
  'AWS::S3::BucketPolicy', 'AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy', 'AWS::Lambda::Permission',
  'AWS::Lambda::LayerVersionPermission', 'AWS::Events::EventBusPolicy', 'AWS::Logs::ResourcePolicy',
  'AWS::SecretsManager::ResourcePolicy', 'AWS::ECR::RegistryPolicy',
]);

/** Properties that hold IAM policies, whatever the resource. */
export const IAM_PROPERTIES: ReadonlySet<string> = new Set([
  'Policies', 'ManagedPolicyArns', 'AssumeRolePolicyDocument', 'PolicyDocument', 'KeyPolicy', 'PermissionsBoundary',
  'Policy', 'ResourcePolicy', 'AccessPolicies', 'RepositoryPolicyText',
]);

/** Properties that hold security-group rules. */
export const SECURITY_GROUP_PROPERTIES: ReadonlySet<string> = new Set(['SecurityGroupIngress', 'SecurityGroupEgress']);

/** What the review knows of a type's replacement behaviour (CloudFormation DescribeType). */
export type TypeSchema =
  | { readonly createOnlyProperties: readonly string[] }
  | { readonly unknown: string };

type Resource = Record<string, unknown>;

function resourcesOf(template: Template | undefined): Map<string, Resource> {
  const out = new Map<string, Resource>();
  const resources = template?.Resources;
  if (!isObj(resources)) return out;
  for (const [id, r] of Object.entries(resources)) {
    if (!isObj(r) || r.Type === CDK_METADATA_TYPE) continue;
    out.set(id, r);
  }
  return out;
}

/** JSON equality: object keys in any order, arrays in order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

function propertiesOf(r: Resource | undefined): Record<string, unknown> {
  return r && isObj(r.Properties) ? r.Properties : {};
}

/** Top-level properties and counted attributes that differ between two versions of a resource. */
export function changedProperties(before: Resource, after: Resource): string[] {
  const a = propertiesOf(before);
  const b = propertiesOf(after);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const changed = keys.filter((n) => !jsonEqual(a[n], b[n]));
  for (const attr of COUNTED_ATTRIBUTES) if (!jsonEqual(before[attr], after[attr])) changed.push(attr);
  return changed;
}

/**
 * The `createOnlyProperties` of a registry schema (DescribeType's `Schema`, a JSON string):
 * JSON pointers such as `/properties/BucketName` or `/properties/VpcConfig/SubnetIds`.
 *
 * @throws Error when the schema is not JSON
 */
export function createOnlyPropertiesOf(schema: string): string[] {
  const parsed = JSON.parse(schema) as unknown;
  if (!isObj(parsed)) throw new Error(`the schema is not a JSON object (got ${show(parsed)})`);
  const list = parsed.createOnlyProperties;
  return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : [];
}

/** The value at `segments` below `value` (`*` maps an array), as comparable JSON. */
function valueAt(value: unknown, segments: readonly string[]): unknown {
  if (segments.length === 0 || value === undefined) return value;
  const [head, ...rest] = segments;
  if (head === '*') return Array.isArray(value) ? value.map((v) => valueAt(v, rest)) : value;
  if (isObj(value)) return valueAt(value[head], rest);
  if (Array.isArray(value) && /^\d+$/.test(head)) return valueAt(value[Number(head)], rest);
  // an intrinsic function or a scalar where an object is expected: compare it whole
  return value;
}

/** The create-only pointers (as property paths, `BucketName`, `VpcConfig/SubnetIds`) that changed. */
export function changedCreateOnly(before: Resource, after: Resource, createOnly: readonly string[]): string[] {
  const a = propertiesOf(before);
  const b = propertiesOf(after);
  const changed: string[] = [];
  for (const pointer of createOnly) {
    const m = /^\/properties\/(.+)$/.exec(pointer);
    if (!m) continue;
    const segments = m[1].split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (!jsonEqual(valueAt(a, segments), valueAt(b, segments))) changed.push(segments.join('/'));
  }
  return changed;
}

function isIamType(type: string): boolean {
  return type.startsWith('AWS::IAM::') || RESOURCE_POLICY_TYPES.has(type);
}

function isSecurityGroupType(type: string): boolean {
  return type.startsWith('AWS::EC2::SecurityGroup');
}

/** Whether a change touches IAM: an IAM or resource-policy type, or IAM properties (named). */
export function isIamChange(type: string, properties: readonly string[]): boolean {
  return isIamType(type) || properties.some((p) => IAM_PROPERTIES.has(p));
}

/** Whether a change touches security groups. */
export function isSecurityGroupChange(type: string, properties: readonly string[]): boolean {
  return isSecurityGroupType(type) || properties.some((p) => SECURITY_GROUP_PROPERTIES.has(p));
}

function typeOf(r: Resource): string {
  return typeof r.Type === 'string' ? r.Type : '(no Type)';
}

/**
 * The resource types whose replacement behaviour the diff needs: types of resources present in
 * both templates, with the same type, whose properties differ.
 */
export function typesToDescribe(deployed: Template | undefined, synthesized: Template): string[] {
  const before = resourcesOf(deployed);
  const after = resourcesOf(synthesized);
  const types = new Set<string>();
  for (const [id, b] of after) {
    const a = before.get(id);
    if (!a || typeOf(a) !== typeOf(b)) continue;
    const a2 = propertiesOf(a);
    const b2 = propertiesOf(b);
    if (!jsonEqual(a2, b2)) types.add(typeOf(b));
  }
  return [...types].sort();
}

function flags(type: string, properties: readonly string[]): Pick<ResourceChange, 'iam' | 'securityGroup'> {
  return {
    ...(isIamChange(type, properties) ? { iam: true } : {}),
    ...(isSecurityGroupChange(type, properties) ? { securityGroup: true } : {}),
  };
}

/** The resource changes from `deployed` (undefined: not deployed) to `synthesized`. */
export function diffResources(
  deployed: Template | undefined, synthesized: Template, schemas: ReadonlyMap<string, TypeSchema>,
): ResourceChange[] {
  const before = resourcesOf(deployed);
  const after = resourcesOf(synthesized);
  const changes: ResourceChange[] = [];
  for (const [logicalId, b] of after) {
    const a = before.get(logicalId);
    const type = typeOf(b);
    if (!a) {
      changes.push({ logicalId, type, kind: 'add', ...flags(type, Object.keys(propertiesOf(b))) });
      continue;
    }
    const properties = changedProperties(a, b);
    if (typeOf(a) !== type) {
      changes.push({
        logicalId,
        type,
        kind: 'replace',
        properties,
        replacementReason: `the type changes from ${typeOf(a)} to ${type}`,
        ...flags(type, properties),
        ...(isIamType(typeOf(a)) ? { iam: true } : {}),
        ...(isSecurityGroupType(typeOf(a)) ? { securityGroup: true } : {}),
      });
      continue;
    }
    if (properties.length === 0) continue;
    const schema = schemas.get(type);
    const createOnly = schema && 'createOnlyProperties' in schema ? changedCreateOnly(a, b, schema.createOnlyProperties) : [];
    if (createOnly.length > 0) {
      changes.push({
        logicalId,
        type,
        kind: 'replace',
        properties,
        replacementReason: `create-only ${createOnly.length === 1 ? 'property' : 'properties'} ${createOnly.join(', ')} changed`,
        ...flags(type, properties),
      });
    } else {
      const onlyAttributes = properties.every((p) => (COUNTED_ATTRIBUTES as readonly string[]).includes(p));
      changes.push({
        logicalId,
        type,
        kind: 'modify',
        properties,
        ...(schema && 'unknown' in schema && !onlyAttributes ? { replacementReason: `replacement not known: ${schema.unknown}` } : {}),
        ...(schema === undefined && !onlyAttributes ? { replacementReason: `replacement not known: the schema of ${type} was not read` } : {}),
        ...flags(type, properties),
      });
    }
  }
  for (const [logicalId, a] of before) {
    if (after.has(logicalId)) continue;
    const type = typeOf(a);
    changes.push({ logicalId, type, kind: 'remove', ...flags(type, Object.keys(propertiesOf(a))) });
  }
  return changes.sort((x, y) => x.logicalId.localeCompare(y.logicalId));
}

function sectionOf(template: Template | undefined, section: string): Record<string, unknown> {
  const v = template?.[section];
  if (section === 'Transform') return v === undefined ? {} : { Transform: v };
  if (!isObj(v)) return {};
  if (section === 'Conditions') {
    const { [CDK_METADATA_CONDITION]: _cdk, ...rest } = v;
    return rest;
  }
  return v;
}

/** Template sections besides Resources that differ, as "Outputs: added A; changed B; removed C". */
export function diffSections(deployed: Template | undefined, synthesized: Template): string[] {
  const out: string[] = [];
  for (const section of OTHER_SECTIONS) {
    const a = sectionOf(deployed, section);
    const b = sectionOf(synthesized, section);
    const added = Object.keys(b).filter((k) => !(k in a)).sort();
    const removed = Object.keys(a).filter((k) => !(k in b)).sort();
    const changed = Object.keys(b).filter((k) => k in a && !jsonEqual(a[k], b[k])).sort();
    if (section === 'Transform') {
      if (added.length + removed.length + changed.length > 0) out.push('Transform changed');
      continue;
    }
    const parts = [
      ...(added.length ? [`added ${added.join(', ')}`] : []),
      ...(changed.length ? [`changed ${changed.join(', ')}`] : []),
      ...(removed.length ? [`removed ${removed.join(', ')}`] : []),
    ];
    if (parts.length) out.push(`${section}: ${parts.join('; ')}`);
  }
  return out;
}

/** One stack's report: `deployed` undefined when the stack does not exist yet. */
export function diffStack(
  target: string, stackName: string, deployed: Template | undefined, synthesized: Template, schemas: ReadonlyMap<string, TypeSchema>,
): StackChangeReport {
  const changes = diffResources(deployed, synthesized, schemas);
  const otherSections = diffSections(deployed, synthesized);
  const status = deployed === undefined ? 'new' : changes.length > 0 || otherSections.length > 0 ? 'changed' : 'unchanged';
  return { target, stackName, status, changes, ...(otherSections.length ? { otherSections } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Summary and report text

const SEE_REPORT = ' … see the report';

/**
 * CodePipeline's quota on the output variables of one action, all together ("Variable quotas",
 * Quotas in AWS CodePipeline): 122,880 bytes. The review's variables (a summary of at most
 * SAFETY_LIMITS.summaryLength characters and two links) stay far below it, so the handler does not
 * check it; a test does.
 */
export const OUTPUT_VARIABLES_BYTES = 122880;

/**
 * `text` cut to at most `max` characters at a clause boundary (". ", "; ", ", " or a space),
 * ending with "… see the report" when cut.
 */
export function fitSummary(text: string, max: number = SAFETY_LIMITS.summaryLength): string {
  if (text.length <= max) return text;
  const room = max - SEE_REPORT.length;
  const head = text.slice(0, room + 1);
  let cut = -1;
  for (const sep of ['. ', '; ', ', ', ' ']) {
    const at = head.lastIndexOf(sep);
    if (at > room / 2) { cut = at; break; }
  }
  const kept = (cut > 0 ? text.slice(0, cut) : text.slice(0, room)).replace(/[\s.;,:]+$/, '');
  return `${kept}${SEE_REPORT}`;
}

function plural(n: number, one: string, many: string = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function names(list: readonly string[], max: number = 4): string {
  const unique = [...new Set(list)];
  return unique.length <= max ? unique.join(', ') : `${unique.slice(0, max).join(', ')} +${unique.length - max} more`;
}

/** The counts of one target's stacks: "2 added, 1 replaced in 2 of 3 stacks (1 new)". */
function targetCounts(stacks: readonly StackChangeReport[]): string {
  const changes = stacks.flatMap((s) => s.changes);
  const count = (k: ResourceChange['kind']) => changes.filter((c) => c.kind === k).length;
  const parts = [
    [count('add'), 'added'], [count('modify'), 'modified'], [count('replace'), 'replaced'], [count('remove'), 'removed'],
  ].filter(([n]) => (n as number) > 0).map(([n, w]) => `${n} ${w}`);
  const touched = stacks.filter((s) => s.status !== 'unchanged').length;
  const fresh = stacks.filter((s) => s.status === 'new').length;
  const sections = stacks.some((s) => (s.otherSections ?? []).length > 0);
  const what = parts.length ? parts.join(', ') : sections ? 'template sections changed' : 'no resource changes';
  return `${what} in ${touched} of ${plural(stacks.length, 'stack')}${fresh ? ` (${fresh} new)` : ''}`;
}

/**
 * The approval's summary of a stage's stacks (at most `SAFETY_LIMITS.summaryLength`
 * characters): per target counts, then replacements, IAM and security-group changes, then other
 * template sections; "No changes in <n> stacks of <targets>" when nothing changes.
 *
 * @param targets the stage's target ids, in order (a target without stacks still counts)
 */
export function summarize(stacks: readonly StackChangeReport[], targets: readonly string[]): string {
  const ids = [...new Set([...targets, ...stacks.map((s) => s.target)])];
  const changed = stacks.filter((s) => s.status !== 'unchanged');
  if (changed.length === 0) {
    return fitSummary(`No changes in ${plural(stacks.length, 'stack')} of ${ids.join(', ')}`);
  }
  const sentences: string[] = [];
  const counts = ids.map((t) => {
    const own = stacks.filter((s) => s.target === t);
    return own.some((s) => s.status !== 'unchanged') ? `${t}: ${targetCounts(own)}` : `${t}: no changes (${plural(own.length, 'stack')})`;
  });
  sentences.push(counts.join('; '));
  const callOut = (label: string, pick: (c: ResourceChange) => boolean, label1: (c: ResourceChange) => string) => {
    const per = ids.map((t) => {
      const hits = stacks.filter((s) => s.target === t).flatMap((s) => s.changes).filter(pick);
      return hits.length ? `${ids.length > 1 ? `${t} ` : ''}${names(hits.map(label1))}` : undefined;
    }).filter((x): x is string => x !== undefined);
    if (per.length) sentences.push(`${label}: ${per.join('; ')}`);
  };
  callOut('REPLACES', (c) => c.kind === 'replace', (c) => c.logicalId);
  callOut('IAM', (c) => c.iam === true, (c) => c.logicalId);
  callOut('Security groups', (c) => c.securityGroup === true, (c) => c.logicalId);
  const sections = ids.map((t) => {
    // a new stack's sections are all new: only deployed stacks' section changes are news
    const own = stacks.filter((s) => s.target === t && s.status === 'changed').flatMap((s) => (s.otherSections ?? []).map((x) => x.split(':')[0]));
    return own.length ? `${ids.length > 1 ? `${t} ` : ''}${names(own)}` : undefined;
  }).filter((x): x is string => x !== undefined);
  if (sections.length) sentences.push(`Also changes ${sections.join('; ')}`);
  return fitSummary(sentences.join('. '));
}

const KIND_MARK: Record<ResourceChange['kind'], string> = { add: '+', modify: '~', replace: '!', remove: '-' };

/**
 * A change report as text for a terminal (`ddk-pipelines diff`): the summary, then per stack its
 * resource changes ("+" added, "~" modified, "!" replaced, "-" removed) and other sections.
 */
export function renderChangeReport(report: ChangeReport): string {
  const lines = [
    `Change review of ${report.pipeline} / ${report.stage} (execution ${report.executionId}, ${report.createdAt})`,
    report.summary,
  ];
  for (const stack of report.stacks) {
    lines.push('', `${stack.target} / ${stack.stackName}: ${stack.status === 'new' ? 'new stack' : stack.status}`);
    for (const c of stack.changes) {
      const tags = [...(c.iam ? ['IAM'] : []), ...(c.securityGroup ? ['security group'] : [])];
      const props = c.properties?.length ? `: ${c.properties.join(', ')}` : '';
      const reason = c.replacementReason ? ` (${c.kind === 'replace' ? 'replacement: ' : ''}${c.replacementReason})` : '';
      lines.push(`  ${KIND_MARK[c.kind]} ${c.logicalId} ${c.type}${props}${reason}${tags.length ? ` [${tags.join(', ')}]` : ''}`);
    }
    for (const s of stack.otherSections ?? []) lines.push(`  * ${s}`);
  }
  lines.push('', 'Legend: + added, ~ modified, ! replaced, - removed; replacement is read from each type\'s create-only properties (CloudFormation registry)');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// The review of one stage, over ports the handler gives

/** Reads one target's account through its lookup role (the handler's SDK adapter). */
export interface TargetReader {
  /** The deployed (Original) template in `region`, or undefined when the stack does not exist. */
  deployedTemplate(stackName: string, region: string): Promise<Template | undefined>;
  /** The registry schema (`Schema` JSON) of a resource type in `region`. */
  typeSchema(type: string, region: string): Promise<string>;
}

/**
 * The IAM actions of the change review: the function's own role, and what it calls through each
 * target's CDK lookup role (whose ReadOnlyAccess grants cloudformation:Get* and Describe*).
 * cloudformation:DescribeType and the codepipeline job actions take resource "*" only (IAM has no
 * resource type for them).
 */
export const CHANGE_REVIEW_IAM_ACTIONS = {
  /** On the artifact bucket's objects (read) and `<bucket>/ddk-change-reviews/*` (write), the artifact key, the lookup roles, the jobs. */
  function: ['s3:GetObject', 's3:PutObject', 'kms:Decrypt', 'kms:GenerateDataKey', 'sts:AssumeRole', 'codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult'],
  /** Through the lookup role. */
  lookupRole: ['cloudformation:GetTemplate', 'cloudformation:DescribeType'],
} as const;

/** What the review needs from outside. */
export interface ChangeReviewPorts {
  /** The nested assemblies `assemblies` of the zipped cloud assembly `zip` (cloud-assembly.ts; ranged reads in the handler). */
  readAssemblies(zip: AssemblySource, assemblies: readonly string[]): NestedAssembly[] | Promise<NestedAssembly[]>;
  /** A reader of `target` through its lookup role. */
  reader(target: SafetyTarget): Promise<TargetReader>;
  now(): Date;
}

/** A failure the review explains (what, where, how to fix). */
export class ChangeReviewError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChangeReviewError';
  }
}

/** The AWS error's name and message (SDK v3 errors carry `name`). */
function errorName(e: unknown): string {
  return isObj(e) && typeof e.name === 'string' ? e.name : 'Error';
}

/** Whether GetTemplate's error says the stack does not exist (ValidationError "… does not exist"). */
export function isStackMissing(e: unknown): boolean {
  return errorName(e) === 'ValidationError' && /does not exist/i.test(String((e as Error).message));
}

/** The message that fails the job when reading `target` was throttled. */
function throttledMessage(target: SafetyTarget, e: unknown, stackName?: string): string {
  const where = `target ${target.id} (${target.account}/${target.region})`;
  return `Change review throttled reading ${where}${stackName ? `, stack ${stackName}` : ''}: ${errorName(e)}: ${e instanceof Error ? e.message : String(e)}. Fix: retry the stage; if it persists, request a higher API quota in ${target.account}/${target.region}`;
}

/**
 * The message that fails the job when `step` for `target` failed: what, where, how to fix.
 *
 * @param cicdAccount the account the review runs in (the one `--trust` must name)
 */
export function failureMessage(step: 'assume' | 'template', target: SafetyTarget, e: unknown, cicdAccount: string | undefined, stackName?: string): string {
  const name = errorName(e);
  if (isThrottling(name)) return throttledMessage(target, e, stackName);
  const message = e instanceof Error ? e.message : String(e);
  const where = `target ${target.id} (${target.account}/${target.region})`;
  const trust = cicdAccount ?? '<the CICD account>';
  if (step === 'assume') {
    const fix = name === 'AccessDenied' || name === 'AccessDeniedException'
      ? `Fix: bootstrap ${target.account}/${target.region} with --trust ${trust} (npx cdk bootstrap aws://${target.account}/${target.region} --trust ${trust} --cloudformation-execution-policies <policy>), so that the CDK lookup role trusts the pipeline's account`
      : 'Fix: check that the target is bootstrapped with the modern CDK bootstrap template (its lookup role exists) and retry the stage';
    return `Change review cannot assume the lookup role ${target.lookupRoleArn} of ${where}: ${name}: ${message}. ${fix}`;
  }
  return `Change review cannot read the deployed template of stack ${stackName} in ${where} through ${target.lookupRoleArn}: ${name}: ${message}. `
    + 'Fix: the lookup role needs cloudformation:GetTemplate (the bootstrap template gives it ReadOnlyAccess); re-bootstrap the target, then retry the stage';
}

/** Everything a review needs of its job. */
export interface ChangeReviewInput {
  readonly parameters: SafetyActionParameters;
  readonly stage: SafetyStage;
  /** The synth artifact (the zipped cloud assembly): its bytes, or a reader of its byte ranges. */
  readonly assembly: AssemblySource;
  /** The CICD account (for the --trust fix). */
  readonly cicdAccount?: string;
}

async function stacksByTarget(input: ChangeReviewInput, ports: ChangeReviewPorts): Promise<Map<SafetyTarget, AssemblyStack[]>> {
  const missing = input.stage.targets.filter((t) => !str(t.assembly));
  if (missing.length > 0) {
    throw new ChangeReviewError(`Change review of stage ${input.parameters.stage}: targets ${missing.map((t) => t.id).join(', ')} have no nested assembly in DDK_SAFETY_STAGES; `
      + 'the construct writes it for every target. Fix: redeploy the pipeline stack with this version of ddk-pipelines');
  }
  let read;
  try {
    read = await ports.readAssemblies(input.assembly, [...new Set(input.stage.targets.map((t) => t.assembly!))]);
  } catch (e) {
    throw new ChangeReviewError(`Change review of stage ${input.parameters.stage} cannot read the synth artifact: ${(e as Error).message}`);
  }
  const byAssembly = new Map(read.map((a) => [a.assembly, a.stacks]));
  return new Map(input.stage.targets.map((t) => {
    const own = byAssembly.get(t.assembly!) ?? [];
    const foreign = own.filter((s) => s.account !== undefined && s.account !== t.account);
    if (foreign.length > 0) {
      throw new ChangeReviewError(`Change review of stage ${input.parameters.stage}: nested assembly ${t.assembly} of target ${t.id} (account ${t.account}) holds `
        + `${foreign.map((s) => `${s.stackName} (account ${s.account})`).join(', ')}, which the target's lookup role cannot read. `
        + 'Fix: give every stack of an environment\'s stage that environment\'s account');
    }
    return [t, own];
  }));
}

/**
 * Reviews one stage: reads each target's deployed templates and the schemas of the types whose
 * properties change (each type once), diffs, summarizes. Throws `ChangeReviewError` with the
 * message that fails the job.
 */
export async function reviewStage(input: ChangeReviewInput, ports: ChangeReviewPorts): Promise<ChangeReport> {
  const byTarget = await stacksByTarget(input, ports);
  const schemas = new Map<string, TypeSchema>();
  const stacks: StackChangeReport[] = [];
  for (const [target, own] of byTarget) {
    if (own.length === 0) continue;
    let reader: TargetReader;
    try {
      reader = await ports.reader(target);
    } catch (e) {
      throw new ChangeReviewError(failureMessage('assume', target, e, input.cicdAccount));
    }
    for (const stack of own) {
      let deployed: Template | undefined;
      const region = stack.region ?? target.region;
      try {
        deployed = await reader.deployedTemplate(stack.stackName, region);
      } catch (e) {
        throw new ChangeReviewError(failureMessage('template', target, e, input.cicdAccount, stack.stackName));
      }
      for (const type of typesToDescribe(deployed, stack.template)) {
        if (schemas.has(type)) continue;
        try {
          schemas.set(type, { createOnlyProperties: createOnlyPropertiesOf(await reader.typeSchema(type, region)) });
        } catch (e) {
          if (isThrottling(errorName(e))) throw new ChangeReviewError(throttledMessage(target, e));
          schemas.set(type, { unknown: `DescribeType ${type} failed (${errorName(e)}: ${(e as Error).message})` });
        }
      }
      stacks.push(diffStack(target.id, stack.stackName, deployed, stack.template, schemas));
    }
  }
  const p = input.parameters;
  return {
    pipeline: p.pipeline,
    stage: p.stage,
    executionId: p.executionId,
    createdAt: ports.now().toISOString(),
    stacks,
    summary: summarize(stacks, input.stage.targets.map((t) => t.id)),
  };
}

/** The STS session name of the review (1 to 64 of `[\w+=,.@-]`), naming pipeline and stage. */
export function sessionName(pipeline: string, stage: string): string {
  return `ddk-review-${pipeline}-${stage}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/** The S3 console link of an object. */
export function s3ConsoleUrl(bucket: string, key: string, region: string): string {
  return `https://${consoleHost(region)}/s3/object/${encodeURIComponent(bucket)}?region=${encodeURIComponent(region)}&bucketType=general&prefix=${encodeURIComponent(key)}`;
}
