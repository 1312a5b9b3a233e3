import { runSimulation } from '@cloud-copilot/iam-simulate';
import { asArray, Resource, resourcesOf, Resolver } from './cfn';
import { Finding } from './findings';
import { policiesOf, rolePolicies } from './policies';
import type { StackTemplate } from './synthesize';

/*
 * Access simulation with @cloud-copilot/iam-simulate (IAM's policy evaluation logic: identity and
 * resource policies, same- and cross-account) over the policies of the synthesized templates:
 * - artifacts: a CDK Pipelines target's bootstrap deploy role is CodePipeline's cross-account
 *   action role, so it reads the input artifacts from the artifact bucket of its region and
 *   decrypts them with that region's key ("Create a pipeline in CodePipeline that uses resources
 *   from another AWS account"); the bucket policy and key policy must allow it (its own policy is
 *   assumed to allow), and must not allow a role of another account, another region's deploy role
 *   of the same account, or an unrelated role of the target account. With codepipeline-trunk and
 *   -gitflow the CICD account's deploy projects read the artifacts, and no target account does.
 * - deploy projects (codepipeline-trunk/-gitflow): each project's role may assume its stage's
 *   targets' CDK bootstrap roles (deploy, file publishing, lookup), which trust the CICD account
 *   (`cdk bootstrap --trust`), and no other stage's, no other account's, no other role.
 * - sources: the source action's role may use its connection, with the action prefix of the
 *   connection's ARN (IAM matches the action's service prefix against the resource's).
 * - access logs ("Enabling Amazon S3 server access logging"): S3 delivers a bucket's server access
 *   logs as the logging service principal, which the destination bucket's policy must allow to
 *   put objects under the log prefix (for that source bucket and account).
 * - review deployments (a plan with a review section): the review build may assume the review
 *   environment's CDK bootstrap roles and no other role, and read its source (GitPull on the
 *   CodeCommit repository, or the review pipelines' source artifacts and their key); the review
 *   controller may assume only the review environment's deploy role, start builds of the review
 *   project only, publish only status-check events, and comment on the repository's pull requests.
 */

/** A deployment target, as the access contracts need it. */
export interface AccessTarget {
  readonly id: string;
  readonly account: string;
  readonly region: string;
  /** CDK bootstrap qualifier. */
  readonly qualifier: string;
  /** The plan stage deploying it. */
  readonly stage: string;
}

/** The review deployments of a plan, as the access contracts need them. */
export interface AccessReview {
  /** The environment hosting the review deployments. */
  readonly target: Omit<AccessTarget, 'stage'>;
  /** The source kind; `repository` is the CodeCommit repository's name or the connection's owner/name. */
  readonly source: { readonly kind: 'codecommit' | 'connection'; readonly repository: string };
}

/** What the access contracts read: the templates, the CICD environment and the targets. */
export interface AccessInput {
  readonly strategy: string;
  readonly cicd: { readonly account: string; readonly region: string };
  readonly targets: AccessTarget[];
  readonly stacks: StackTemplate[];
  /**
   * The plan's review deployments.
   *
   * @default - none: no review cases
   */
  readonly review?: AccessReview;
}

/** One simulated request and its expected result. */
export interface AccessCase {
  readonly description: string;
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly resourceAccount: string;
  readonly expect: 'Allowed' | 'Denied';
  readonly identityPolicies: Array<{ name: string; policy: any }>;
  readonly resourcePolicy?: any;
  /**
   * Request context beyond the principal's ARN and account and TLS.
   *
   * @default - none
   */
  readonly context?: Record<string, string>;
}

/** The bootstrap role of a CDK environment. */
export function bootstrapRole(kind: string, account: string, region: string, qualifier: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:role/cdk-${qualifier}-${kind}-role-${account}-${region}`;
}

const ALLOW_ALL = { name: 'the role\'s own policy (assumed to allow)', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } };

/** Runs one case; returns a finding message when the result differs from the expectation. */
export async function simulate(c: AccessCase): Promise<string | undefined> {
  const principal: Record<string, string> = c.principal.startsWith('arn:') ? { 'aws:PrincipalArn': c.principal, 'aws:PrincipalAccount': c.principal.split(':')[4] } : {};
  const result = await runSimulation({
    request: {
      principal: c.principal,
      action: c.action,
      resource: { resource: c.resource, accountId: c.resourceAccount },
      contextVariables: { ...principal, 'aws:SecureTransport': 'true', ...c.context },
    },
    identityPolicies: c.identityPolicies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: c.resourcePolicy,
  }, {});
  if (result.resultType === 'error') {
    return `${c.description}: the simulation of ${c.action} on ${c.resource} was refused (${result.errors.message}); expected ${c.expect}`;
  }
  const allowed = result.overallResult === 'Allowed';
  if (allowed === (c.expect === 'Allowed')) return undefined;
  return `${c.description}: ${c.principal} ${allowed ? 'CAN' : 'cannot'} ${c.action} ${c.resource} (${result.overallResult}); expected ${c.expect}`;
}

interface Store {
  readonly region: string;
  readonly bucket: string;
  readonly bucketPolicy?: any;
  readonly keyArn?: string;
  readonly keyPolicy?: any;
  readonly pipelineName: string;
}

/** The artifact stores (bucket, key and their policies) of every pipeline of the output. */
export function artifactStores(input: AccessInput): Store[] {
  const resolvers = new Map(input.stacks.map(s => [s, new Resolver(s)]));
  const out: Store[] = [];
  for (const stack of input.stacks.filter(s => s.kind === 'cicd')) {
    const r = resolvers.get(stack)!;
    for (const p of resourcesOf(stack.template, 'AWS::CodePipeline::Pipeline')) {
      const stores = p.properties.ArtifactStores
        ? asArray<any>(p.properties.ArtifactStores).map(s => ({ region: s.Region, store: s.ArtifactStore }))
        : [{ region: stack.region, store: p.properties.ArtifactStore }];
      for (const { region, store } of stores) {
        const bucket = r.string(store?.Location);
        const keyRef = r.string(store?.EncryptionKey?.Id);
        if (!bucket) continue;
        const holder = input.stacks.find(s => s.region === region && resourcesOf(s.template, 'AWS::S3::Bucket').some(b => resolvers.get(s)!.physicalName(b.logicalId) === bucket));
        const hr = holder ? resolvers.get(holder)! : undefined;
        const bucketId = holder ? resourcesOf(holder.template, 'AWS::S3::Bucket').find(b => hr!.physicalName(b.logicalId) === bucket)!.logicalId : undefined;
        const bucketPolicy = holder ? policiesOf(holder.template).find(x => x.type === 'AWS::S3::BucketPolicy' && x.protects.includes(bucketId!)) : undefined;
        const key = holder && keyRef ? findKey(holder, hr!, keyRef) : undefined;
        out.push({
          region,
          bucket,
          bucketPolicy: bucketPolicy ? hr!.resolveLoosely(bucketPolicy.document) : undefined,
          keyArn: key?.arn ?? keyRef,
          keyPolicy: key ? hr!.resolveLoosely(key.policy) : undefined,
          pipelineName: r.string(p.properties.Name) ?? p.logicalId,
        });
      }
    }
  }
  return out;
}

/** The key a store's `EncryptionKey.Id` names (a key ARN or an alias ARN) in the stack holding it. */
function findKey(stack: StackTemplate, r: Resolver, keyRef: string): { arn: string; policy: any } | undefined {
  const keys = resourcesOf(stack.template, 'AWS::KMS::Key');
  const direct = keys.find(k => r.getAtt(k.logicalId, 'Arn') === keyRef);
  if (direct) return { arn: keyRef, policy: direct.properties.KeyPolicy };
  const alias = /:alias\/(.+)$/.exec(keyRef)?.[1];
  if (!alias) return undefined;
  const a = resourcesOf(stack.template, 'AWS::KMS::Alias').find(x => r.string(x.properties.AliasName) === `alias/${alias}`);
  const target = a?.properties.TargetKeyId;
  const keyId = target?.Ref ?? target?.['Fn::GetAtt']?.[0];
  const key = keys.find(k => k.logicalId === keyId);
  return key ? { arn: r.getAtt(key.logicalId, 'Arn')!, policy: key.properties.KeyPolicy } : undefined;
}

function unusedAccount(input: AccessInput): string {
  const used = new Set([input.cicd.account, ...input.targets.map(t => t.account)]);
  let n = 999999999999;
  while (used.has(String(n))) n--;
  return String(n);
}

function otherRegion(region: string, preferred: string[]): string {
  return [...preferred, 'ap-southeast-2', 'eu-central-1'].find(r => r !== region)!;
}

/** Who may and who may not read and decrypt the artifacts of each store. */
export function artifactCases(input: AccessInput): AccessCase[] {
  const cases: AccessCase[] = [];
  const cdkPipelines = input.strategy === 'cdk-pipelines';
  const stranger = unusedAccount(input);
  const qualifier = input.targets[0]?.qualifier ?? 'hnb659fds';
  for (const store of artifactStores(input)) {
    const object = `arn:aws:s3:::${store.bucket}/${store.pipelineName.slice(0, 20)}/Synth_Outp/Ab12Cd3`;
    const read = (description: string, principal: string, expect: 'Allowed' | 'Denied', identity = [ALLOW_ALL]) => {
      cases.push({ description: `${description} (s3:GetObject, ${store.region} artifacts)`, principal, action: 's3:GetObject', resource: object, resourceAccount: input.cicd.account, expect, identityPolicies: identity, resourcePolicy: store.bucketPolicy });
      if (store.keyArn) {
        cases.push({ description: `${description} (kms:Decrypt, ${store.region} artifact key)`, principal, action: 'kms:Decrypt', resource: store.keyArn, resourceAccount: input.cicd.account, expect, identityPolicies: identity, resourcePolicy: store.keyPolicy });
      }
    };
    const readers = input.targets.filter(t => cdkPipelines && t.region === store.region);
    for (const t of readers) read(`target ${t.id}'s deploy role reads its region's artifacts`, bootstrapRole('deploy', t.account, t.region, t.qualifier), 'Allowed');
    read('a deploy role of an account that is no target', bootstrapRole('deploy', stranger, store.region, qualifier), 'Denied');
    const seen = new Set<string>();
    for (const t of input.targets.filter(x => x.account !== input.cicd.account)) {
      if (seen.has(t.account)) continue;
      seen.add(t.account);
      const ownRegions = input.targets.filter(x => x.account === t.account).map(x => x.region);
      const elsewhere = otherRegion(store.region, ownRegions);
      read(`target account ${t.account}'s deploy role of another region (${elsewhere})`, bootstrapRole('deploy', t.account, elsewhere, t.qualifier), 'Denied');
      read(`an unrelated role of target account ${t.account}`, `arn:aws:iam::${t.account}:role/unrelated-application-role`, 'Denied');
      if (!cdkPipelines) read(`target ${t.id}'s deploy role (codepipeline strategies: the CICD account's deploy projects read the artifacts)`, bootstrapRole('deploy', t.account, t.region, t.qualifier), 'Denied');
    }
    if (!cdkPipelines && store.region === input.cicd.region) {
      for (const d of deployProjects(input)) read(`deploy project ${d.project} reads the cloud assembly`, d.principal, 'Allowed', d.identity);
    }
  }
  return cases;
}

interface DeployProject {
  readonly stack: StackTemplate;
  readonly project: string;
  /** The project role's ARN. */
  readonly principal: string;
  readonly identity: Array<{ name: string; policy: any }>;
  /** The environments its deploy actions deploy (their DDK_ENVIRONMENT). */
  readonly envIds: Set<string>;
}

/** The CodeBuild projects of the CICD stack that deploy environments, with their roles' policies. */
export function deployProjects(input: AccessInput): DeployProject[] {
  const out: DeployProject[] = [];
  for (const stack of input.stacks.filter(s => s.kind === 'cicd')) {
    const r = new Resolver(stack);
    const projects = new Map<string, Set<string>>();
    for (const p of resourcesOf(stack.template, 'AWS::CodePipeline::Pipeline')) {
      for (const stage of asArray<any>(p.properties.Stages)) {
        for (const a of asArray<any>(stage.Actions)) {
          if (a.ActionTypeId?.Provider !== 'CodeBuild') continue;
          let vars: any[] = [];
          try {
            vars = JSON.parse(r.string(a.Configuration?.EnvironmentVariables) ?? '[]');
          } catch {
            vars = [];
          }
          const env = vars.find(v => v.name === 'DDK_ENVIRONMENT')?.value;
          const project = a.Configuration?.ProjectName?.Ref;
          if (env === undefined || typeof project !== 'string') continue;
          projects.set(project, new Set([...(projects.get(project) ?? []), env]));
        }
      }
    }
    for (const [project, envIds] of projects) {
      const roleId = stack.template.Resources[project]?.Properties?.ServiceRole?.['Fn::GetAtt']?.[0];
      if (typeof roleId !== 'string') continue;
      out.push({ stack, project, principal: r.getAtt(roleId, 'Arn')!, identity: rolePolicies(stack, r, roleId), envIds });
    }
  }
  return out;
}

/** The deploy projects of the codepipeline strategies: each may assume only its stage's targets' bootstrap roles. */
export function deployRoleCases(input: AccessInput): AccessCase[] {
  if (input.strategy === 'cdk-pipelines') return [];
  const cases: AccessCase[] = [];
  const byId = new Map(input.targets.map(t => [t.id, t]));
  const stranger = unusedAccount(input);
  for (const { project, principal, identity, envIds } of deployProjects(input)) {
    const own = [...envIds].map(id => byId.get(id)).filter((t): t is AccessTarget => t !== undefined);
    const ownPairs = new Set(own.map(t => `${t.account}/${t.region}`));
    const trust = (account: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${input.cicd.account}:root` }, Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${account}:role/*` }] });
    const assume = (description: string, role: string, account: string, expect: 'Allowed' | 'Denied') =>
      cases.push({ description: `deploy project ${project}: ${description}`, principal, action: 'sts:AssumeRole', resource: role, resourceAccount: account, expect, identityPolicies: identity, resourcePolicy: trust(account) });
    for (const t of own) {
      for (const kind of ['deploy', 'file-publishing', 'lookup']) assume(`assumes target ${t.id}'s ${kind} role`, bootstrapRole(kind, t.account, t.region, t.qualifier), t.account, 'Allowed');
      assume(`a role of target account ${t.account} that is no bootstrap role`, `arn:aws:iam::${t.account}:role/Admin`, t.account, 'Denied');
      assume('the bootstrap role of an account that is no target', bootstrapRole('deploy', stranger, t.region, t.qualifier), stranger, 'Denied');
    }
    for (const t of input.targets.filter(x => !ownPairs.has(`${x.account}/${x.region}`))) {
      assume(`another stage's target ${t.id} (stage ${t.stage})`, bootstrapRole('deploy', t.account, t.region, t.qualifier), t.account, 'Denied');
    }
  }
  return cases;
}

/** Each connection source action's role may use its connection, with the ARN's own prefix. */
export function connectionCases(input: AccessInput): AccessCase[] {
  const cases: AccessCase[] = [];
  for (const stack of input.stacks.filter(s => s.kind === 'cicd')) {
    const r = new Resolver(stack);
    for (const p of resourcesOf(stack.template, 'AWS::CodePipeline::Pipeline')) {
      for (const stage of asArray<any>(p.properties.Stages)) {
        for (const a of asArray<any>(stage.Actions)) {
          if (a.ActionTypeId?.Provider !== 'CodeStarSourceConnection') continue;
          const connection = r.string(a.Configuration?.ConnectionArn);
          const roleRef = a.RoleArn ?? p.properties.RoleArn;
          const roleId = roleRef?.['Fn::GetAtt']?.[0];
          if (!connection || typeof roleId !== 'string') continue;
          const prefix = connection.split(':')[2];
          cases.push({
            description: `source action ${r.string(a.Name)} of pipeline ${r.string(p.properties.Name) ?? p.logicalId} uses its connection`,
            principal: r.getAtt(roleId, 'Arn')!,
            action: `${prefix}:UseConnection`,
            resource: connection,
            resourceAccount: connection.split(':')[4],
            expect: 'Allowed',
            identityPolicies: rolePolicies(stack, r, roleId),
          });
        }
      }
    }
  }
  return cases;
}

/** Every bucket that sends server access logs: S3's logging service can write them to its destination. */
export function accessLogCases(input: AccessInput): AccessCase[] {
  const cases: AccessCase[] = [];
  for (const stack of input.stacks) {
    const r = new Resolver(stack);
    const policies = policiesOf(stack.template).filter(p => p.type === 'AWS::S3::BucketPolicy');
    for (const b of resourcesOf(stack.template, 'AWS::S3::Bucket')) {
      const logging = b.properties.LoggingConfiguration;
      const destination = logging?.DestinationBucketName;
      if (!logging || destination === undefined) continue;
      const destinationId = destination.Ref;
      const destinationName = r.string(destination);
      if (!destinationName) continue;
      const policy = typeof destinationId === 'string' ? policies.find(p => p.protects.includes(destinationId)) : undefined;
      const source = r.getAtt(b.logicalId, 'Arn')!;
      cases.push({
        description: `${stack.displayName}: S3 delivers the server access logs of ${b.logicalId} to ${destinationId ?? destinationName}`,
        principal: 'logging.s3.amazonaws.com',
        action: 's3:PutObject',
        resource: `arn:${r.partition}:s3:::${destinationName}/${r.string(logging.LogFilePrefix) ?? ''}2026-04-09-12-00-00-0A1B2C3D4E5F6A7B`,
        resourceAccount: stack.account,
        expect: 'Allowed',
        identityPolicies: [],
        resourcePolicy: policy ? r.resolveLoosely(policy.document) : undefined,
        context: { 'aws:SourceArn': source, 'aws:SourceAccount': stack.account },
      });
    }
  }
  return cases;
}

/** The environment variable holding the review controller's settings (lib/reviews/shared.ts REVIEW_SETTINGS_ENV). */
const REVIEW_SETTINGS = 'DDK_REVIEW_SETTINGS';
/** A variable only the review build project has (REVIEW_VARIABLES.ASSEMBLY). */
const REVIEW_ASSEMBLY = 'DDK_REVIEW_ASSEMBLY';

/**
 * The review build and the review controller of the output: what each may and may not do.
 * `missing` names what a plan with a review section should have rendered and did not.
 */
export function reviewCases(input: AccessInput): { cases: AccessCase[]; missing: string[] } {
  const review = input.review;
  if (!review) return { cases: [], missing: [] };
  const cases: AccessCase[] = [];
  const missing: string[] = [];
  const t = review.target;
  const stranger = unusedAccount(input);
  const trust = (account: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${input.cicd.account}:root` }, Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${account}:role/*` }] });
  // deploy roles of the plan's other environments (another account or region than the review's)
  const others = new Map<string, AccessTarget>();
  for (const x of input.targets) if (x.account !== t.account || x.region !== t.region) others.set(`${x.account}/${x.region}`, x);
  for (const stack of input.stacks.filter(s => s.kind === 'cicd')) {
    const r = new Resolver(stack);
    const project = resourcesOf(stack.template, 'AWS::CodeBuild::Project')
      .find(p => asArray<any>(p.properties.Environment?.EnvironmentVariables).some(v => v?.Name === REVIEW_ASSEMBLY));
    const controller = resourcesOf(stack.template, 'AWS::Lambda::Function').find(f => f.properties.Environment?.Variables?.[REVIEW_SETTINGS] !== undefined);
    if (!project) missing.push(`${stack.displayName}: no review build project (a CodeBuild project with ${REVIEW_ASSEMBLY})`);
    if (!controller) missing.push(`${stack.displayName}: no review controller (a function with ${REVIEW_SETTINGS})`);
    if (!project || !controller) continue;
    const projectArn = r.getAtt(project.logicalId, 'Arn')!;
    const repositoryArn = `arn:${r.partition}:codecommit:${stack.region}:${stack.account}:${review.source.repository}`;
    const roleOf = (res: Resource, prop: any) => {
      const id = prop?.['Fn::GetAtt']?.[0];
      if (typeof id !== 'string') missing.push(`${stack.displayName}: ${res.logicalId} has no role of this template`);
      return typeof id === 'string' ? { principal: r.getAtt(id, 'Arn')!, identity: rolePolicies(stack, r, id) } : undefined;
    };

    const build = roleOf(project, project.properties.ServiceRole);
    if (build) {
      const may = (description: string, action: string, resource: string, account: string, expect: 'Allowed' | 'Denied', resourcePolicy?: any, context?: Record<string, string>) =>
        cases.push({ description: `review build ${project.logicalId}: ${description}`, principal: build.principal, action, resource, resourceAccount: account, expect, identityPolicies: build.identity, resourcePolicy, context });
      for (const kind of ['deploy', 'file-publishing', 'image-publishing', 'lookup']) {
        may(`assumes review environment ${t.id}'s ${kind} role`, 'sts:AssumeRole', bootstrapRole(kind, t.account, t.region, t.qualifier), t.account, 'Allowed', trust(t.account));
      }
      may(`a role of review account ${t.account} that is no bootstrap role`, 'sts:AssumeRole', `arn:aws:iam::${t.account}:role/Admin`, t.account, 'Denied', trust(t.account));
      may('the bootstrap role of an account that is no target', 'sts:AssumeRole', bootstrapRole('deploy', stranger, t.region, t.qualifier), stranger, 'Denied', trust(stranger));
      for (const x of others.values()) may(`environment ${x.id}'s deploy role (not the review environment)`, 'sts:AssumeRole', bootstrapRole('deploy', x.account, x.region, x.qualifier), x.account, 'Denied', trust(x.account));
      if (review.source.kind === 'codecommit') {
        may('pulls the pull request\'s commit', 'codecommit:GitPull', repositoryArn, stack.account, 'Allowed');
        may('pulls another repository', 'codecommit:GitPull', `${repositoryArn}-other`, stack.account, 'Denied');
      } else {
        const stores = artifactStores({ ...input, stacks: [stack] }).filter(s => /-review(-close)?$/.test(s.pipelineName));
        if (stores.length === 0) missing.push(`${stack.displayName}: no review pipelines (<pipeline>-review, <pipeline>-review-close) with an artifact store`);
        for (const store of stores) {
          may(`reads ${store.pipelineName}'s source artifact`, 's3:GetObject', `arn:aws:s3:::${store.bucket}/${store.pipelineName.slice(0, 20)}/Source/Ab12Cd3`, input.cicd.account, 'Allowed', store.bucketPolicy);
          if (store.keyArn) may(`decrypts ${store.pipelineName}'s source artifact`, 'kms:Decrypt', store.keyArn, input.cicd.account, 'Allowed', store.keyPolicy);
        }
      }
    }

    const fn = roleOf(controller, controller.properties.Role);
    if (fn) {
      const may = (description: string, action: string, resource: string, account: string, expect: 'Allowed' | 'Denied', resourcePolicy?: any, context?: Record<string, string>) =>
        cases.push({ description: `review controller ${controller.logicalId}: ${description}`, principal: fn.principal, action, resource, resourceAccount: account, expect, identityPolicies: fn.identity, resourcePolicy, context });
      may(`assumes review environment ${t.id}'s deploy role`, 'sts:AssumeRole', bootstrapRole('deploy', t.account, t.region, t.qualifier), t.account, 'Allowed', trust(t.account));
      for (const kind of ['file-publishing', 'lookup', 'cfn-exec']) {
        may(`review environment ${t.id}'s ${kind} role`, 'sts:AssumeRole', bootstrapRole(kind, t.account, t.region, t.qualifier), t.account, 'Denied', trust(t.account));
      }
      for (const x of others.values()) may(`environment ${x.id}'s deploy role (not the review environment)`, 'sts:AssumeRole', bootstrapRole('deploy', x.account, x.region, x.qualifier), x.account, 'Denied', trust(x.account));
      may('starts a review build', 'codebuild:StartBuild', projectArn, stack.account, 'Allowed');
      const other = resourcesOf(stack.template, 'AWS::CodeBuild::Project').find(p => p.logicalId !== project.logicalId);
      if (other) may(`starts a build of another project (${other.logicalId})`, 'codebuild:StartBuild', r.getAtt(other.logicalId, 'Arn')!, stack.account, 'Denied');
      const bus = r.string(controller.properties.Environment.Variables.STATUS_CHECKS_EVENT_BUS_NAME);
      if (bus?.startsWith('arn:')) {
        may('publishes status-check events', 'events:PutEvents', bus, stack.account, 'Allowed', undefined, { 'events:source': 'ddk-pipelines.status-checks' });
        may('publishes events of another source', 'events:PutEvents', bus, stack.account, 'Denied', undefined, { 'events:source': 'aws.codecommit' });
      }
      if (review.source.kind === 'codecommit') {
        may('comments on the repository\'s pull requests', 'codecommit:PostCommentForPullRequest', repositoryArn, stack.account, 'Allowed');
        may('comments on another repository', 'codecommit:PostCommentForPullRequest', `${repositoryArn}-other`, stack.account, 'Denied');
      }
    }
  }
  return { cases, missing };
}

/** Every access case of an output that does not come out as expected, as findings. */
export async function checkAccess(input: AccessInput): Promise<Finding[]> {
  const cicd = input.stacks.find(s => s.kind === 'cicd');
  const findings: Finding[] = [];
  const reviews = reviewCases(input);
  for (const m of reviews.missing) findings.push({ contract: 'access.reviews', stack: cicd?.displayName ?? '(output)', where: '(template)', message: m });
  const groups: Array<[string, AccessCase[]]> = [
    ['access.artifacts', artifactCases(input)],
    ['access.deploy-roles', deployRoleCases(input)],
    ['access.connection', connectionCases(input)],
    ['access.access-logs', accessLogCases(input)],
    ['access.reviews', reviews.cases],
  ];
  for (const [contract, cases] of groups) {
    for (const c of cases) {
      const problem = await simulate(c);
      if (problem) findings.push({ contract, stack: cicd?.displayName ?? '(output)', where: c.resource, message: problem });
    }
  }
  return findings;
}
