import { asArray, resourcesOf, Resolver } from './cfn';
import type { StackTemplate } from './synthesize';

/** What a policy document is attached to. */
export type PolicyKind =
  /** Attached to IAM roles (AWS::IAM::Policy, a role's inline Policies, AWS::IAM::ManagedPolicy). */
  | 'identity'
  /** A role's trust policy (AssumeRolePolicyDocument). */
  | 'trust'
  /** A resource-based policy (key, bucket, topic, queue, function permission, event bus, API). */
  | 'resource';

/** A policy document found in a template, unresolved. */
export interface FoundPolicy {
  readonly kind: PolicyKind;
  /** The CloudFormation type of the resource declaring it. */
  readonly type: string;
  readonly logicalId: string;
  /** Property path of the document in the resource, for messages. */
  readonly path: string;
  /** The document (or, for AWS::Lambda::Permission, a statement made of its properties). */
  readonly document: any;
  /** Identity policies: logical ids of the roles they are attached to in this template. */
  readonly roles: string[];
  /** Identity policies: whether it is a managed policy (else inline). */
  readonly managed: boolean;
  /** Resource policies: the logical ids of the resources it protects, when in this template. */
  readonly protects: string[];
}

function refsOf(v: any): string[] {
  return asArray<any>(v).map(x => (x && typeof x === 'object' && typeof x.Ref === 'string' ? x.Ref : undefined)).filter((x): x is string => x !== undefined);
}

/** Every policy document a template declares. */
export function policiesOf(template: any): FoundPolicy[] {
  const out: FoundPolicy[] = [];
  const push = (p: Omit<FoundPolicy, 'roles' | 'managed' | 'protects'> & Partial<FoundPolicy>) =>
    out.push({ roles: [], managed: false, protects: [], ...p });
  for (const r of resourcesOf(template)) {
    const p = r.properties;
    switch (r.type) {
      case 'AWS::IAM::Policy':
        push({ kind: 'identity', type: r.type, logicalId: r.logicalId, path: 'PolicyDocument', document: p.PolicyDocument, roles: refsOf(p.Roles) });
        break;
      case 'AWS::IAM::ManagedPolicy':
        push({ kind: 'identity', type: r.type, logicalId: r.logicalId, path: 'PolicyDocument', document: p.PolicyDocument, roles: refsOf(p.Roles), managed: true });
        break;
      case 'AWS::IAM::Role':
        push({ kind: 'trust', type: r.type, logicalId: r.logicalId, path: 'AssumeRolePolicyDocument', document: p.AssumeRolePolicyDocument });
        asArray<any>(p.Policies).forEach((pol, i) =>
          push({ kind: 'identity', type: r.type, logicalId: r.logicalId, path: `Policies[${i}].PolicyDocument`, document: pol.PolicyDocument, roles: [r.logicalId] }));
        break;
      case 'AWS::KMS::Key':
        if (p.KeyPolicy) push({ kind: 'resource', type: r.type, logicalId: r.logicalId, path: 'KeyPolicy', document: p.KeyPolicy, protects: [r.logicalId] });
        break;
      case 'AWS::S3::BucketPolicy':
        push({ kind: 'resource', type: r.type, logicalId: r.logicalId, path: 'PolicyDocument', document: p.PolicyDocument, protects: refsOf(p.Bucket) });
        break;
      case 'AWS::SNS::TopicPolicy':
        push({ kind: 'resource', type: r.type, logicalId: r.logicalId, path: 'PolicyDocument', document: p.PolicyDocument, protects: refsOf(p.Topics) });
        break;
      case 'AWS::SNS::TopicInlinePolicy':
        push({ kind: 'resource', type: r.type, logicalId: r.logicalId, path: 'PolicyDocument', document: p.PolicyDocument, protects: refsOf(p.TopicArn) });
        break;
      case 'AWS::SQS::QueuePolicy':
        push({ kind: 'resource', type: r.type, logicalId: r.logicalId, path: 'PolicyDocument', document: p.PolicyDocument, protects: refsOf(p.Queues) });
        break;
      case 'AWS::Events::EventBusPolicy':
        if (p.Statement) push({ kind: 'resource', type: r.type, logicalId: r.logicalId, path: 'Statement', document: { Version: '2012-10-17', Statement: [p.Statement] } });
        break;
      case 'AWS::ApiGateway::RestApi':
        if (p.Policy) push({ kind: 'resource', type: r.type, logicalId: r.logicalId, path: 'Policy', document: p.Policy, protects: [r.logicalId] });
        break;
      case 'AWS::Lambda::Permission':
        push({
          kind: 'resource',
          type: r.type,
          logicalId: r.logicalId,
          path: 'Action',
          document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: p.Action, Resource: p.FunctionName }] },
          protects: refsOf(p.FunctionName),
        });
        break;
      case 'AWS::Logs::ResourcePolicy':
        push({ kind: 'resource', type: r.type, logicalId: r.logicalId, path: 'PolicyDocument', document: typeof p.PolicyDocument === 'string' ? JSON.parse(p.PolicyDocument) : p.PolicyDocument });
        break;
      case 'AWS::DynamoDB::Table':
        if (p.ResourcePolicy?.PolicyDocument) push({ kind: 'resource', type: r.type, logicalId: r.logicalId, path: 'ResourcePolicy.PolicyDocument', document: p.ResourcePolicy.PolicyDocument, protects: [r.logicalId] });
        break;
      case 'AWS::SecretsManager::ResourcePolicy':
        push({ kind: 'resource', type: r.type, logicalId: r.logicalId, path: 'ResourcePolicy', document: p.ResourcePolicy });
        break;
      case 'AWS::ECR::Repository':
        if (p.RepositoryPolicyText) push({ kind: 'resource', type: r.type, logicalId: r.logicalId, path: 'RepositoryPolicyText', document: p.RepositoryPolicyText, protects: [r.logicalId] });
        break;
      default:
        break;
    }
  }
  return out;
}

/** The statements of a document, as an array. */
export function statementsOf(document: any): any[] {
  return asArray<any>(document?.Statement);
}

/** A policy document with its intrinsics resolved as far as the stack's values allow. */
export function resolvedDocument(resolver: Resolver, document: any): any {
  return resolver.resolveLoosely(document);
}

/** The identity policies (inline and managed) attached to a role of a stack, resolved. */
export function rolePolicies(stack: Pick<StackTemplate, 'template'>, resolver: Resolver, roleLogicalId: string): Array<{ name: string; policy: any }> {
  return policiesOf(stack.template)
    .filter(p => p.kind === 'identity' && p.roles.includes(roleLogicalId))
    .map(p => ({ name: `${p.logicalId}.${p.path}`, policy: resolver.resolveLoosely(p.document) }));
}
