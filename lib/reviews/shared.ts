import { createHash } from 'crypto';

/*
 * Review environments: the one module shared by the model, the constructs, the CLI and the
 * review controller handler (lambda/review-controller). Names, variables, tags, record shapes
 * and the naming rule live here and only here. No aws-cdk-lib and no AWS SDK import.
 */

/** Variables a review build gets; the app reads them to synthesize the review deployment. */
export const REVIEW_VARIABLES = {
  /** The review deployment's id (`pr12`, or `<branch>-<hash>` for a connection source). */
  ID: 'DDK_REVIEW_ID',
  /** The commit being deployed. */
  COMMIT: 'DDK_REVIEW_COMMIT',
  /** The pull request's source branch. */
  BRANCH: 'DDK_REVIEW_BRANCH',
  /** The pull request's id (CodeCommit only; connection sources do not give it). */
  PULL_REQUEST: 'DDK_REVIEW_PULL_REQUEST',
  /** The nested cloud assembly (under cdk.out) holding the review deployment's stacks. */
  ASSEMBLY: 'DDK_REVIEW_ASSEMBLY',
  /** Path of the `cdk deploy --outputs-file` JSON, for the review tests. */
  OUTPUTS: 'DDK_REVIEW_OUTPUTS',
} as const;

/** Environment variable of the review controller holding its JSON `ReviewSettings`. */
export const REVIEW_SETTINGS_ENV = 'DDK_REVIEW_SETTINGS';

/** The status-check context of a review deployment (pending → success/failure). */
export const REVIEW_DEPLOY_CONTEXT = 'review/deploy';
/** The status-check context of the tests run after a review deployment. */
export const REVIEW_TESTS_CONTEXT = 'review/tests';

/**
 * Stack tags of every review stack. Deletion touches only stacks carrying both the pipeline's
 * and the review's tag, whose name also starts with the review's stack prefix.
 */
export const REVIEW_TAGS = {
  PIPELINE: 'ddk-pipelines:pipeline',
  REVIEW: 'ddk-pipelines:review',
  COMMIT: 'ddk-pipelines:commit',
  /** Dependency depth of the stack in its review deployment: deleted highest first. */
  ORDER: 'ddk-pipelines:review-order',
} as const;

/** `detail-type`s of review events (published with the status checks' `source`). */
export const REVIEW_DETAIL_TYPES = {
  /** A review deployment changed state (detail: `ReviewRecord`). */
  CHANGED: 'Review Deployment Changed',
  /** Someone asked to destroy a review deployment (detail: `ReviewDestroyRequest`). */
  DESTROY_REQUESTED: 'Review Destroy Requested',
} as const;

/**
 * The detail-types of CodeCommit's pull-request events: its documentation shows the merge event
 * as "CodeCommit PullRequest State Change" and the others as "CodeCommit Pull Request State Change".
 */
export const CODECOMMIT_PULL_REQUEST_DETAIL_TYPES: readonly string[] = ['CodeCommit Pull Request State Change', 'CodeCommit PullRequest State Change'];

/** The lifecycle of a review deployment. */
export const REVIEW_STATES = ['queued', 'deploying', 'deployed', 'failed', 'destroying', 'destroyed', 'refused'] as const;
/** A review deployment's state. */
export type ReviewState = typeof REVIEW_STATES[number];

/** Why a review deployment was (or is being) destroyed. */
export type CloseReason = 'closed' | 'merged' | 'expired' | 'by-hand';

/** What the review controller knows of its pipeline (JSON in `DDK_REVIEW_SETTINGS`). */
export interface ReviewSettings {
  /** The pipeline's name. */
  readonly pipeline: string;
  /** ddk.json's file name, for messages. */
  readonly file: string;
  /** The environment that hosts review deployments. */
  readonly environment: { readonly id: string; readonly account: string; readonly region: string; readonly qualifier: string };
  /** Pull requests into these branches get a review deployment. */
  readonly branches: string[];
  /** Hours without an update after which a review deployment is removed; 0: never. */
  readonly ttlHours: number;
  /** Whether pull requests from forks deploy. */
  readonly allowForks: boolean;
  /** The stack output whose value is the review URL, if any. */
  readonly urlOutput?: string;
  /** Whether the review build runs tests after deploying (reports `review/tests`). */
  readonly tests: boolean;
  /** The source: kind and repository (`name` for CodeCommit, `owner/name` for a connection). */
  readonly source: { readonly kind: 'codecommit' | 'connection'; readonly repository: string };
  /** Name of the CodeBuild project that deploys review deployments. */
  readonly buildProject: string;
}

/** One review deployment, as the controller records it. */
export interface ReviewRecord {
  readonly pipeline: string;
  /** `reviewIdForPullRequest` or `reviewIdForBranch`. */
  readonly reviewId: string;
  /** The pull request's id (CodeCommit). */
  readonly pullRequest?: string;
  readonly title?: string;
  readonly author?: string;
  readonly sourceBranch: string;
  readonly destinationBranch?: string;
  /** `reviewStackPrefix(pipeline, reviewId)`: every stack name of the deployment starts with it. */
  readonly stackPrefix: string;
  readonly state: ReviewState;
  /** The newest commit asked for (the one the next build deploys). */
  readonly requestedCommit: string;
  /** The commit last deployed successfully. */
  readonly deployedCommit?: string;
  /** The build running now, if any. */
  readonly build?: { readonly id: string; readonly commit: string; readonly startedAt: string };
  /** Stack names as last seen in the review environment. */
  readonly stacks?: string[];
  /** Where to look at the deployment (the `urlOutput` value, else the CloudFormation console). */
  readonly url?: string;
  readonly closeReason?: CloseReason;
  /** Who destroyed it by hand (IAM principal ARN). */
  readonly closedBy?: string;
  /** The last failure or refusal, in words. */
  readonly message?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Optimistic-locking version, incremented on every write. */
  readonly version: number;
}

/** A request to destroy a review deployment by hand (`POST /reviews/destroy`, `reviews destroy`). */
export interface ReviewDestroyRequest {
  readonly pipeline: string;
  readonly reviewId: string;
  readonly reason: string;
  /** IAM principal ARN of the requester. */
  readonly by: string;
}

/**
 * The table's review items (in the status-check table):
 *
 * | item | pk | sk |
 * |---|---|---|
 * | a review deployment | `REVIEWS#<pipeline>` | `REVIEW#<reviewId>` |
 */
export const REVIEW_KEYS = {
  reviews: (pipeline: string) => `REVIEWS#${pipeline}`,
  review: (reviewId: string) => `REVIEW#${reviewId}`,
  reviewPrefix: 'REVIEW#',
} as const;

/** A review id: lower-case letters, digits and `-`, starting with a letter, at most 32 characters. */
export const REVIEW_ID_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** The review id of a CodeCommit pull request: `pr<id>`. */
export function reviewIdForPullRequest(pullRequestId: string): string {
  if (!/^\d{1,30}$/.test(pullRequestId)) {
    throw new Error(`pull request id "${pullRequestId}" is not a number; expected CodeCommit's numeric pull request id, e.g. "12"`);
  }
  return `pr${pullRequestId}`;
}

/**
 * The review id of a pull request known only by its source branch (a connection source:
 * CodePipeline's pull-request trigger gives the execution the branch, not the number):
 * `b-<branch, lower-cased, other characters as "-", at most 20>-<6 hex of the branch's SHA-256>`.
 * The hash keeps `feature/x` and `feature-x` apart.
 */
export function reviewIdForBranch(branch: string): string {
  const slug = branch.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 20).replace(/-+$/, '');
  const hash = createHash('sha256').update(branch).digest('hex').slice(0, 6);
  return slug === '' ? `b-${hash}` : `b-${slug}-${hash}`;
}

/** Room the stack prefix leaves in CloudFormation's 128 characters for `-<stack id>`. */
export const STACK_NAME_MAX = 128;
const PIPELINE_SLUG_MAX = 40;

/**
 * The stack-name prefix of a review deployment: `<pipeline>-review-<reviewId>` (the pipeline's
 * name made a valid stack name, at most 40 characters, a hash added when shortened). Review
 * stacks are `<prefix>-<stack id>`; two reviews never share a prefix, and no environment's own
 * stack starts with `<pipeline>-review-` (ddk.json's validation refuses such environment ids).
 */
export function reviewStackPrefix(pipeline: string, reviewId: string): string {
  if (!REVIEW_ID_PATTERN.test(reviewId)) {
    throw new Error(`review id "${reviewId}" is not valid; expected lower-case letters, digits and "-", starting with a letter, at most 32 characters (e.g. "pr12")`);
  }
  return `${pipelineSlug(pipeline)}-review-${reviewId}`;
}

/** The first part of every review stack name of a pipeline: `<pipeline slug>-review-`. */
export function reviewStackNamespace(pipeline: string): string {
  return `${pipelineSlug(pipeline)}-review-`;
}

function pipelineSlug(pipeline: string): string {
  let slug = pipeline.replace(/[^A-Za-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  if (!/^[A-Za-z]/.test(slug)) slug = `p-${slug}`.replace(/-$/, '');
  if (slug.length > PIPELINE_SLUG_MAX) {
    const hash = createHash('sha256').update(pipeline).digest('hex').slice(0, 6);
    slug = `${slug.slice(0, PIPELINE_SLUG_MAX - 7).replace(/-+$/, '')}-${hash}`;
  }
  return slug;
}
