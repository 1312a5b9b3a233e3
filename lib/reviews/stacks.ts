// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with the SDK, into dist/lambda; the library entry point never loads it
import { CloudFormationClient, DeleteStackCommand, DescribeStacksCommand, Stack } from '@aws-sdk/client-cloudformation';
// eslint-disable-next-line import/no-extraneous-dependencies -- as above
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { ReviewSettings } from './shared';
import { REVIEW_ID_PATTERN, REVIEW_TAGS, reviewStackNamespace, reviewStackPrefix } from './shared';
import { consoleHost, partitionOf } from '../config/regions';

/*
 * The stacks of review deployments in the review environment: which stacks belong to a review
 * (pure), which to delete next (pure), the review's URL (pure), and the CloudFormation adapter
 * that reads and deletes them through the environment's CDK deploy role.
 *
 * Deletion safety: a stack is a review stack of (pipeline, review) only if it carries
 * REVIEW_TAGS.PIPELINE = pipeline AND REVIEW_TAGS.REVIEW = review id AND its name starts with
 * `reviewStackPrefix(pipeline, review) + "-"`. `planTeardown` re-checks this whatever it is
 * given, and the adapter checks it again before every DeleteStack.
 */

/** A stack as DescribeStacks describes it (the parts the controller reads). */
export interface StackDescription {
  readonly name: string;
  /** CloudFormation's StackStatus, e.g. `CREATE_COMPLETE`, `DELETE_IN_PROGRESS`. */
  readonly status: string;
  /** CloudFormation's StackStatusReason, if any (why a deletion failed, …). */
  readonly statusReason?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly outputs: Readonly<Record<string, string>>;
}

/** A stack of one review deployment. */
export interface ReviewStack extends StackDescription {
  readonly reviewId: string;
  /** REVIEW_TAGS.ORDER (dependency depth; deleted highest first); 0 when the tag is missing or not a number. */
  readonly order: number;
}

/** What to do next to remove a review deployment's stacks. */
export interface TeardownPlan {
  /** Stacks to DeleteStack now: the highest order left, unless one of that order is still busy. */
  readonly delete: ReviewStack[];
  /** Stacks still being deleted (or created/updated): wait for them. */
  readonly busy: ReviewStack[];
  /** Every review stack left (not DELETE_COMPLETE), highest order first. */
  readonly remaining: ReviewStack[];
}

/** Whether `stack` is a stack of review `reviewId` of `pipeline` (both tags and the name prefix). */
export function isReviewStackOf(stack: StackDescription, pipeline: string, reviewId: string): boolean {
  if (!REVIEW_ID_PATTERN.test(reviewId)) return false;
  return stack.tags[REVIEW_TAGS.PIPELINE] === pipeline
    && stack.tags[REVIEW_TAGS.REVIEW] === reviewId
    && typeof stack.name === 'string'
    && stack.name.startsWith(`${reviewStackPrefix(pipeline, reviewId)}-`);
}

/** The order tag of a stack (0 when missing or not a whole number ≥ 0). */
export function stackOrder(stack: StackDescription): number {
  const raw = stack.tags[REVIEW_TAGS.ORDER];
  return raw !== undefined && /^\d{1,6}$/.test(raw) ? Number(raw) : 0;
}

/** The review stacks of `pipeline` among `stacks`, by review id (deleted stacks left out). */
export function reviewStacksByReview(stacks: readonly StackDescription[], pipeline: string): Map<string, ReviewStack[]> {
  const namespace = reviewStackNamespace(pipeline);
  const out = new Map<string, ReviewStack[]>();
  for (const s of stacks) {
    const reviewId = s.tags[REVIEW_TAGS.REVIEW];
    if (reviewId === undefined || s.status === 'DELETE_COMPLETE' || !s.name.startsWith(namespace)) continue;
    if (!isReviewStackOf(s, pipeline, reviewId)) continue;
    const list = out.get(reviewId) ?? [];
    list.push({ ...s, reviewId, order: stackOrder(s) });
    out.set(reviewId, list);
  }
  for (const list of out.values()) list.sort(byOrderThenName);
  return out;
}

const byOrderThenName = (a: ReviewStack, b: ReviewStack) => b.order - a.order || a.name.localeCompare(b.name);

/** Statuses in which a stack must not be deleted yet (an operation is running). */
function isBusy(status: string): boolean {
  return status.endsWith('_IN_PROGRESS') && status !== 'REVIEW_IN_PROGRESS';
}

/**
 * What to delete next for review `reviewId` of `pipeline`. Stacks that are not that review's
 * (a tag or the name prefix missing) are never in the plan, whatever `stacks` holds. The
 * highest order goes first; a lower order only when no higher one remains. Stacks of the highest
 * order are independent of each other (a dependency has a lower depth), so they go together.
 */
export function planTeardown(stacks: readonly StackDescription[], pipeline: string, reviewId: string): TeardownPlan {
  const remaining = stacks
    .filter(s => s.status !== 'DELETE_COMPLETE' && isReviewStackOf(s, pipeline, reviewId))
    .map(s => ({ ...s, reviewId, order: stackOrder(s) }))
    .sort(byOrderThenName);
  if (remaining.length === 0) return { delete: [], busy: [], remaining };
  const top = remaining[0].order;
  const highest = remaining.filter(s => s.order === top);
  const busy = remaining.filter(s => isBusy(s.status));
  return { delete: highest.filter(s => !isBusy(s.status)), busy, remaining };
}

/** The CloudFormation console's stack list, filtered on a review's stack prefix. */
export function stacksConsoleUrl(region: string, stackPrefix: string): string {
  return `https://${consoleHost(region)}/cloudformation/home?region=${region}#/stacks?filteringText=${encodeURIComponent(stackPrefix)}&filteringStatus=active&viewNested=true`;
}

/** The CodeBuild console's page of a build (`project:uuid` or its ARN). */
export function buildConsoleUrl(region: string, buildId: string): string {
  const id = buildId.includes(':build/') ? buildId.slice(buildId.indexOf(':build/') + ':build/'.length) : buildId;
  const project = id.split(':')[0];
  return `https://${consoleHost(region)}/codesuite/codebuild/projects/${encodeURIComponent(project)}/build/${encodeURIComponent(id)}/?region=${region}`;
}

/** Where to look at a review deployment, and how that was found. */
export interface ReviewUrl {
  readonly url: string;
  /** Set when `urlOutput` was configured but no stack has that output (the console link is used). */
  readonly note?: string;
}

/**
 * The review URL: the value of the `urlOutput` output (the first stack, highest order first, that
 * has it as an http(s) URL), else the CloudFormation console filtered on the review's prefix.
 */
export function reviewUrl(stacks: readonly ReviewStack[], settings: Pick<ReviewSettings, 'urlOutput' | 'environment'>, stackPrefix: string): ReviewUrl {
  const fallback = stacksConsoleUrl(settings.environment.region, stackPrefix);
  if (settings.urlOutput === undefined) return { url: fallback };
  for (const s of [...stacks].sort(byOrderThenName)) {
    const v = s.outputs[settings.urlOutput];
    if (v !== undefined && /^https?:\/\/\S+$/.test(v) && v.length <= 2048) return { url: v };
  }
  return { url: fallback, note: `no review stack has an output "${settings.urlOutput}" holding an http(s) URL (pipeline.review.urlOutput); linked the CloudFormation console instead` };
}

/** The CDK bootstrap deploy role of an environment. */
export function deployRoleArn(environment: ReviewSettings['environment']): string {
  const { account, region, qualifier } = environment;
  return `arn:${partitionOf(region)}:iam::${account}:role/cdk-${qualifier}-deploy-role-${account}-${region}`;
}

/** Reads and deletes review stacks in the review environment. */
export interface ReviewStackSource {
  /** Every stack of the environment (DescribeStacks, all pages). */
  list(): Promise<StackDescription[]>;
  /** Deletes a review stack; refuses (throws) a stack that is not a review stack of `pipeline` and `reviewId`. */
  delete(stack: StackDescription, pipeline: string, reviewId: string): Promise<void>;
}

/** A review stack could not be read or deleted. */
export class ReviewStacksError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReviewStacksError';
  }
}

/**
 * CloudFormation in the review environment, through the environment's CDK bootstrap deploy role
 * (`cdk-<qualifier>-deploy-role-<account>-<region>`): it trusts the CICD account when the
 * environment was bootstrapped with `--trust`, and allows cloudformation:DeleteStack and, through
 * AWSCloudFormationReadOnlyAccess, DescribeStacks and ListStacks (aws-cdk-cli's bootstrap template).
 */
export class DeployRoleStacks implements ReviewStackSource {
  public readonly roleArn: string;
  private readonly client: CloudFormationClient;

  /**
   * @param client a client with the role's credentials; by default one that assumes the deploy
   * role (STS AssumeRole with the SDK's own credentials) in the environment's region
   */
  constructor(private readonly settings: ReviewSettings, client?: CloudFormationClient) {
    this.roleArn = deployRoleArn(settings.environment);
    const region = settings.environment.region;
    this.client = client ?? new CloudFormationClient({ region, credentials: deployRoleCredentials(settings) });
  }

  public async list(): Promise<StackDescription[]> {
    const out: StackDescription[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('DescribeStacks', () => this.client.send(new DescribeStacksCommand({ NextToken: token })));
      out.push(...(page.Stacks ?? []).map(describe));
      token = page.NextToken;
    } while (token);
    return out;
  }

  public async delete(stack: StackDescription, pipeline: string, reviewId: string): Promise<void> {
    if (!isReviewStackOf(stack, pipeline, reviewId)) {
      throw new ReviewStacksError(`refusing to delete stack "${stack.name}": it is not a review stack of review "${reviewId}" of pipeline "${pipeline}" (expected tags ${REVIEW_TAGS.PIPELINE}=${pipeline} and ${REVIEW_TAGS.REVIEW}=${reviewId} and a name starting with "${reviewStackPrefix(pipeline, reviewId)}-")`);
    }
    await this.call(`DeleteStack ${stack.name}`, () => this.client.send(new DeleteStackCommand({ StackName: stack.name })));
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const err = e as { name?: string; message?: string };
      const env = this.settings.environment;
      throw new ReviewStacksError(`CloudFormation ${operation} in the review environment "${env.id}" (${env.account}/${env.region}) through ${this.roleArn} failed (${err?.name ?? 'Error'}: ${err?.message ?? String(e)}). Fix: bootstrap ${env.account}/${env.region} with qualifier "${env.qualifier}" trusting the CICD account (cdk bootstrap --trust <CICD account>), and check that the controller's role may sts:AssumeRole this role`);
    }
  }
}

/**
 * Credentials of the review environment's deploy role: STS AssumeRole (15 minutes, renewed by
 * the SDK when they expire) with the SDK's own credentials, in the environment's region.
 */
export function deployRoleCredentials(settings: ReviewSettings) {
  return fromTemporaryCredentials({
    params: { RoleArn: deployRoleArn(settings.environment), RoleSessionName: sessionName(settings.pipeline), DurationSeconds: 900 },
    clientConfig: { region: settings.environment.region },
  });
}

/** A RoleSessionName (2 to 64 of `[\w+=,.@-]`) naming the pipeline. */
export function sessionName(pipeline: string): string {
  return `ddk-review-${pipeline}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

function describe(s: Stack): StackDescription {
  return {
    name: s.StackName ?? '',
    status: s.StackStatus ?? 'UNKNOWN',
    ...(s.StackStatusReason ? { statusReason: s.StackStatusReason } : {}),
    tags: Object.fromEntries((s.Tags ?? []).filter(t => t.Key !== undefined).map(t => [t.Key!, t.Value ?? ''])),
    outputs: Object.fromEntries((s.Outputs ?? []).filter(o => o.OutputKey !== undefined).map(o => [o.OutputKey!, o.OutputValue ?? ''])),
  };
}
