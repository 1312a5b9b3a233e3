import { IAspect, Stack } from 'aws-cdk-lib';
import type { CfnPolicy } from 'aws-cdk-lib/aws-iam';
import { CfnKey } from 'aws-cdk-lib/aws-kms';
import { CfnBucketPolicy } from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';

/**
 * The CDK bootstrap roles a cross-account deployment uses: `cdk-<qualifier>-<kind>-role-<account>-<region>`.
 */
const BOOTSTRAP_ROLE = /:iam::(\d{12}):role\/cdk-([a-z0-9]+)-(deploy|cfn-exec|file-publishing|image-publishing)-role-\d{12}-([a-z0-9-]+)$/;

interface Collected {
  readonly actions: Set<string>;
  readonly resources: Map<string, unknown>;
  readonly accounts: Set<string>;
  /** `<qualifier>@<region>` of the roles. */
  readonly roleSuffixes: Set<string>;
}

/**
 * Keeps the artifact bucket and key policies of a pipeline at a size that does not grow
 * with the number of target environments.
 *
 * CodePipeline grants every cross-account action role (the target accounts' CDK bootstrap
 * roles) access with one statement per role, in the bucket policy and in the key policy;
 * S3 caps bucket policies at 20 KB and KMS key policies at 32 KB, which plain CDK Pipelines
 * crosses near 58 target accounts. This aspect replaces those statements with one statement
 * per role kind (deploy, cfn-exec), with the same actions and resources, whose principals are
 * the target accounts (fixed principals, so S3 Block Public Access accepts the policy) narrowed
 * by condition to their CDK bootstrap roles (`aws:PrincipalArn`): the policy grows by one
 * ~35-byte account ARN per distinct target account instead of ~340 bytes per environment.
 */
export class CompactCrossAccountGrants implements IAspect {
  constructor(private readonly trustedAccounts: ReadonlySet<string>) {}

  public visit(node: IConstruct): void {
    if (node instanceof CfnBucketPolicy) {
      const doc = Stack.of(node).resolve(node.policyDocument);
      const compacted = this.compact(doc);
      if (compacted) node.policyDocument = compacted;
    } else if (node instanceof CfnKey) {
      const doc = Stack.of(node).resolve(node.keyPolicy);
      const compacted = this.compact(doc);
      if (compacted) node.keyPolicy = compacted;
    }
  }

  /** The compacted document, or undefined when nothing in it is a per-role cross-account grant. */
  private compact(doc: any): any | undefined {
    if (!doc || !Array.isArray(doc.Statement)) return undefined;
    const byKind = new Map<string, Collected>();
    const kept: any[] = [];
    for (const st of doc.Statement) {
      const roles = bootstrapRoles(st, this.trustedAccounts);
      if (!roles || st.Effect !== 'Allow' || st.Condition || st.NotAction || st.NotResource) {
        kept.push(st);
        continue;
      }
      for (const role of roles) {
        const c = byKind.get(role.kind) ?? { actions: new Set(), resources: new Map(), accounts: new Set(), roleSuffixes: new Set() };
        byKind.set(role.kind, c);
        for (const a of asArray(st.Action)) c.actions.add(a);
        for (const r of asArray(st.Resource)) c.resources.set(JSON.stringify(r), r);
        c.accounts.add(role.account);
        c.roleSuffixes.add(`${role.qualifier}@${role.region}`);
      }
    }
    if (byKind.size === 0) return undefined;
    for (const [kind, c] of [...byKind.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const resources = [...c.resources.values()];
      kept.push({
        Sid: `TargetAccountBootstrap${kind === 'deploy' ? 'Deploy' : kind === 'cfn-exec' ? 'CfnExec' : kind.replace(/-(\w)/g, (_, x: string) => x.toUpperCase())}Roles`,
        Effect: 'Allow',
        // Fixed account principals (a policy S3 Block Public Access accepts), narrowed by the
        // condition to those accounts' CDK bootstrap roles of this kind, in the regions whose
        // roles the statements granted (a bucket serves the targets of its own region only).
        Principal: { AWS: [...c.accounts].sort().map(a => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::${a}:root` })) },
        Action: [...c.actions].sort(),
        Resource: resources.length === 1 ? resources[0] : resources,
        Condition: {
          ArnLike: {
            'aws:PrincipalArn': [...c.roleSuffixes].sort().map(qr => {
              const [q, region] = qr.split('@');
              return { 'Fn::Sub': `arn:\${AWS::Partition}:iam::*:role/cdk-${q}-${kind}-role-*-${region}` };
            }),
          },
        },
      });
    }
    return { ...doc, Statement: kept };
  }
}

/** A CDK bootstrap role named in a statement. */
interface BootstrapRole { readonly account: string; readonly qualifier: string; readonly kind: string; readonly region: string }

/** The bootstrap roles a statement's principals are, when all of them are bootstrap roles of trusted accounts. */
function bootstrapRoles(st: any, trusted: ReadonlySet<string>): BootstrapRole[] | undefined {
  const aws = st?.Principal?.AWS;
  if (aws === undefined || Object.keys(st.Principal).length !== 1) return undefined;
  const out = [];
  for (const p of asArray(aws)) {
    const m = BOOTSTRAP_ROLE.exec(flatten(p));
    if (!m || !trusted.has(m[1])) return undefined;
    out.push({ account: m[1], qualifier: m[2], kind: m[3], region: m[4] });
  }
  return out.length > 0 ? out : undefined;
}

/** Renders an ARN that may be an `Fn::Join` with `AWS::Partition` as a plain string. */
function flatten(v: any): string {
  if (typeof v === 'string') return v;
  if (v && Array.isArray(v['Fn::Join'])) return v['Fn::Join'][1].map((x: any) => (typeof x === 'string' ? x : 'aws')).join(v['Fn::Join'][0]);
  return '';
}

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}


/**
 * aws-cdk-lib grants the pipeline role KMS use on `Resource: *` for the replication keys of the
 * targets' other regions (it references those keys by alias from another stack, so it cannot name
 * them). This aspect narrows that `*` to the keys of the CICD account in exactly those regions
 * (`arn:…:kms:<region>:<account>:key/*`), where the replication keys live.
 */
export class ScopeReplicationKeyGrants implements IAspect {
  constructor(private readonly policy: CfnPolicy, private readonly account: string, private readonly regions: string[]) {}

  public visit(node: IConstruct): void {
    if (node !== this.policy || this.regions.length === 0) return;
    const doc = Stack.of(node).resolve(this.policy.policyDocument);
    let changed = false;
    for (const st of doc.Statement ?? []) {
      const actions = asArray<string>(st.Action);
      const resources = asArray<unknown>(st.Resource);
      if (st.Effect !== 'Allow' || !resources.includes('*') || !actions.every(a => a.startsWith('kms:'))) continue;
      st.Resource = [
        ...resources.filter(r => r !== '*'),
        ...this.regions.map(r => ({ 'Fn::Sub': `arn:\${AWS::Partition}:kms:${r}:${this.account}:key/*` })),
      ];
      changed = true;
    }
    if (changed) this.policy.policyDocument = doc;
  }
}

/**
 * CDK Pipelines gives the self-mutation project `cloudformation:DescribeStacks` and
 * `s3:ListBucket` on `*`. Both support resource-level permissions, so this aspect narrows them
 * to what `cdk deploy` of the pipeline stack reads with the project's own credentials: stacks of
 * the CICD account (the pipeline stack and its replication stacks, in any region) and the CICD
 * account's CDK bootstrap buckets (`cdk-<qualifier>-assets-<account>-<region>`).
 */
export class ScopeSelfMutationGrants implements IAspect {
  constructor(private readonly policy: CfnPolicy, private readonly account: string, private readonly qualifier: string) {}

  public visit(node: IConstruct): void {
    if (node !== this.policy) return;
    const doc = Stack.of(node).resolve(this.policy.policyDocument);
    const narrowed: Record<string, unknown> = {
      'cloudformation:DescribeStacks': { 'Fn::Sub': `arn:\${AWS::Partition}:cloudformation:*:${this.account}:stack/*` },
      's3:ListBucket': { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::cdk-${this.qualifier}-assets-${this.account}-*` },
    };
    let changed = false;
    const statements: any[] = [];
    for (const st of doc.Statement ?? []) {
      const actions = asArray<string>(st.Action);
      // aws-cdk-lib may have merged the two statements into one (same resource `*`): split it.
      if (st.Effect !== 'Allow' || st.Resource !== '*' || st.Condition || !actions.every(a => a in narrowed)) {
        statements.push(st);
        continue;
      }
      for (const action of actions) statements.push({ ...st, Action: action, Resource: narrowed[action] });
      changed = true;
    }
    if (changed) this.policy.policyDocument = { ...doc, Statement: statements };
  }
}
