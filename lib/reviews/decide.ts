import { createHash } from 'crypto';
import type { CloseReason, ReviewSettings, ReviewState } from './shared';
import { REVIEW_DEPLOY_CONTEXT, REVIEW_TAGS, REVIEW_TESTS_CONTEXT, REVIEW_VARIABLES, reviewStackPrefix } from './shared';
import type { ReviewStack } from './stacks';
import { buildConsoleUrl, planTeardown } from './stacks';
import type { BuildSource, StoredReview } from './store';
import { LIMITS, withoutUndefined } from '../status-checks/shared';
import type { CheckState } from '../status-checks/shared';

/*
 * The review controller's state machine: what a review deployment becomes on an input, and what
 * to do about it. Pure: no I/O, no clock (the time is given), no SDK. The controller
 * (lib/reviews/controller.ts) reads the record, calls `decide`, writes the next record with
 * optimistic locking (`version`) and performs the actions; what the actions return (a build id,
 * a failure, the stacks read) comes back as further inputs.
 *
 *   request ──► queued (build pending) ──build-started──► deploying ──build-finished──► deployed | failed
 *                  ▲                                          │ request: requestedCommit = newest
 *                  └──────── newest requested commit ◄────────┘ (built next; intermediate commits skipped)
 *   close | destroy | TTL ──► destroying ──teardown (highest order first, each sweep)──► destroyed
 *   (a running build is waited for; a request during the teardown deploys once it completes)
 *   fork (connection source, allowForks false) ──► refused
 */

/** `build.id` while StartBuild has been asked for but has not answered (the record is written first). */
export const PENDING_BUILD_ID = 'pending';

/** Minutes after which a build still pending (the controller stopped between its write and StartBuild) is asked for again. */
export const PENDING_BUILD_RETRY_MINUTES = 15;

/** Hours after which a build that never reported is considered lost (CodeBuild's longest build timeout is 36 hours). */
export const LOST_BUILD_HOURS = 37;

/** A pull request (or its source branch) asks for a deployment of a commit. */
export interface RequestInput {
  readonly kind: 'request';
  readonly reviewId: string;
  readonly commit: string;
  readonly sourceBranch: string;
  readonly destinationBranch?: string;
  readonly pullRequest?: string;
  readonly title?: string;
  readonly author?: string;
  readonly destinationCommit?: string;
  readonly source: BuildSource;
  /**
   * Where the request came from: a CodeCommit pull-request event, or the review pipeline's
   * Request action (a connection source; retrying the action rebuilds a failed commit).
   */
  readonly via: 'pull-request-event' | 'job';
  /** The pull request was reopened (CodeCommit): a closed review deploys again. */
  readonly reopened?: boolean;
  /** The repository the pull request's source comes from (connection sources: `owner/name`). */
  readonly repository?: string;
}

/** The inputs of the state machine. */
export type ReviewInput =
  | RequestInput
  /** The pull request was closed or merged. */
  | { readonly kind: 'close'; readonly reviewId: string; readonly reason: 'closed' | 'merged' }
  /** Someone asked to destroy the deployment (`POST /reviews/destroy`). */
  | { readonly kind: 'destroy'; readonly reviewId: string; readonly by: string; readonly reason: string }
  /** StartBuild answered. */
  | { readonly kind: 'build-started'; readonly reviewId: string; readonly commit: string; readonly buildId: string }
  /** StartBuild failed. */
  | { readonly kind: 'build-start-failed'; readonly reviewId: string; readonly commit: string; readonly message: string }
  /** A review build finished (CodeBuild Build State Change), with the stacks read after a deployment. */
  | BuildFinishedInput
  /** The review's stacks, read for a teardown (or why they could not be read). */
  | { readonly kind: 'teardown'; readonly reviewId: string; readonly stacks?: readonly ReviewStack[]; readonly error?: string }
  /** The periodic sweep: TTL, stuck builds, teardown progress (with the stacks when they could be read). */
  | { readonly kind: 'sweep'; readonly reviewId: string; readonly stacks?: readonly ReviewStack[] }
  /** The sweep found stacks of this review while its record is missing or destroyed. */
  | { readonly kind: 'orphan'; readonly reviewId: string; readonly stacks: readonly ReviewStack[] };

/** How a build went, from its phases. */
export interface BuildOutcome {
  /** The deployment (the BUILD phase) succeeded. */
  readonly deploy: 'success' | 'failure';
  /** The tests (POST_BUILD) succeeded, failed, or did not run (the deployment failed). */
  readonly tests: 'success' | 'failure' | 'not-run';
  /** What failed, in words (phase, status, CodeBuild's phase context). */
  readonly detail?: string;
}

/** A review build finished. */
export interface BuildFinishedInput {
  readonly kind: 'build-finished';
  readonly reviewId: string;
  /** `project:uuid`. */
  readonly buildId: string;
  /** DDK_REVIEW_COMMIT of the build, when the event carries it. */
  readonly commit?: string;
  readonly outcome: BuildOutcome;
  /** The build's CloudWatch Logs deep link. */
  readonly logsUrl?: string;
  /** The review's stack names after a deployment, when they could be read. */
  readonly stacks?: string[];
  /** The review URL after a deployment. */
  readonly url?: string;
  /** Why the stacks or the URL could not be read. */
  readonly note?: string;
}

/** A review build to start. */
export interface BuildRequest {
  readonly projectName: string;
  readonly reviewId: string;
  readonly commit: string;
  readonly source: BuildSource;
  /** DDK_REVIEW_ID, _COMMIT, _BRANCH and (CodeCommit) _PULL_REQUEST. */
  readonly environmentVariables: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  /** StartBuild's idempotencyToken (the same write asks for the same build). */
  readonly idempotencyToken: string;
}

/** A status check to record and publish. */
export interface CheckAction {
  readonly context: string;
  readonly state: CheckState;
  readonly revision: string;
  readonly description: string;
  readonly targetUrl?: string;
  /** The report's clientRequestId (a retry of the same report records nothing new). */
  readonly clientRequestId: string;
}

/** A comment on a CodeCommit pull request. */
export interface CommentAction {
  readonly repository: string;
  readonly pullRequestId: string;
  readonly beforeCommitId: string;
  readonly afterCommitId: string;
  readonly content: string;
  /** PostCommentForPullRequest's clientRequestToken. */
  readonly token: string;
}

/** What the controller does after writing. */
export type ReviewAction =
  | { readonly kind: 'start-build'; readonly build: BuildRequest }
  | { readonly kind: 'report'; readonly check: CheckAction }
  | { readonly kind: 'comment'; readonly comment: CommentAction }
  /** Read the review's stacks and apply a `teardown` input. */
  | { readonly kind: 'teardown' }
  /** DeleteStack each (all review stacks of this review, by `planTeardown`). */
  | { readonly kind: 'delete-stacks'; readonly stacks: ReviewStack[] };

/** What `decide` returns. */
export interface Decision {
  /** The record to write (version + 1), or none when nothing changes. */
  readonly next?: StoredReview;
  readonly actions: ReviewAction[];
  /** What happened and why, in one line (logs, CodePipeline job summaries). */
  readonly summary: string;
  /** The request was refused (a fork). */
  readonly refused?: boolean;
  /** The input could not be served (a refusal, a build that could not start): a CodePipeline job fails with this. */
  readonly failure?: string;
}

/** What `decide` needs besides the record and the input. */
export interface DecideContext {
  readonly settings: ReviewSettings;
  readonly now: Date;
  /** The region of the CICD account (the build project's), for console links. */
  readonly region: string;
}

/** The next state of review deployment `current` on `input`, and what to do. */
export function decide(current: StoredReview | undefined, input: ReviewInput, ctx: DecideContext): Decision {
  switch (input.kind) {
    case 'request': return request(current, input, ctx);
    case 'close': return close(current, input.reason, undefined, `pull request ${input.reason}`, ctx);
    case 'destroy': return close(current, 'by-hand', input.by, `destroyed by hand by ${input.by}: ${input.reason}`, ctx);
    case 'build-started': return buildStarted(current, input, ctx);
    case 'build-start-failed': return buildStartFailed(current, input, ctx);
    case 'build-finished': return buildFinished(current, input, ctx);
    case 'teardown': return teardown(current, input.stacks, input.error, ctx);
    case 'sweep': return sweep(current, input.stacks, ctx);
    case 'orphan': return orphan(current, input, ctx);
  }
}

function nothing(summary: string): Decision {
  return { actions: [], summary };
}

/** The next version of a record (every write increments `version` and sets `updatedAt`). */
function write(current: StoredReview | undefined, fields: Partial<StoredReview> & Pick<StoredReview, 'state'>, ctx: DecideContext, base?: Partial<StoredReview>): StoredReview {
  const at = ctx.now.toISOString();
  const version = (current?.version ?? 0) + 1;
  const merged = { ...(current ?? {}), ...(base ?? {}), ...fields, updatedAt: at, createdAt: current?.createdAt ?? at, version };
  return withoutUndefined(merged as StoredReview);
}

function shortCommit(commit: string): string {
  return /^[0-9a-f]{40}$/i.test(commit) ? commit.slice(0, 7) : commit;
}

function token(...parts: Array<string | number | undefined>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

function fit(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function closedForGood(r: StoredReview): boolean {
  return r.closeReason === 'closed' || r.closeReason === 'merged';
}

/** Why a request is refused (a fork of a connection source without allowForks), if it is. */
export function forkRefusal(input: RequestInput, settings: ReviewSettings): string | undefined {
  if (input.via !== 'job' || settings.source.kind !== 'connection' || settings.allowForks) return undefined;
  const expected = settings.source.repository;
  if (input.repository === undefined || input.repository.toLowerCase() !== expected.toLowerCase()) {
    return `pull request from ${input.repository === undefined ? 'an unknown repository' : `"${input.repository}"`}, not "${expected}": pull requests from forks do not deploy (${settings.file}: pipeline.review.allowForks is false). Fix: push the branch to ${expected}, or set pipeline.review.allowForks to true if you trust every fork's code with the review environment's deploy role`;
  }
  return undefined;
}

function request(current: StoredReview | undefined, i: RequestInput, ctx: DecideContext): Decision {
  const { settings } = ctx;
  const identity: Partial<StoredReview> = {
    pipeline: settings.pipeline,
    reviewId: i.reviewId,
    stackPrefix: reviewStackPrefix(settings.pipeline, i.reviewId),
    sourceBranch: i.sourceBranch,
    destinationBranch: i.destinationBranch ?? current?.destinationBranch,
    pullRequest: i.pullRequest ?? current?.pullRequest,
    title: i.title ?? current?.title,
    author: i.author ?? current?.author,
    destinationCommit: i.destinationCommit ?? current?.destinationCommit,
  };
  const sameCommit = current !== undefined && current.requestedCommit === i.commit;

  if (current && (current.state === 'destroyed' || current.state === 'destroying') && closedForGood(current) && !i.reopened && i.via === 'pull-request-event') {
    return nothing(`review ${i.reviewId}: the pull request was ${current.closeReason}; ignoring a late request for ${shortCommit(i.commit)} (only a reopen deploys it again)`);
  }

  const refusal = forkRefusal(i, settings);
  if (refusal !== undefined) {
    if (current?.state === 'refused' && sameCommit) return { ...nothing(`review ${i.reviewId}: refused again: ${refusal}`), refused: true, failure: refusal };
    if (current && current.state !== 'destroyed' && current.state !== 'refused') {
      // a deployment exists: keep it until it closes, refuse the new commit
      const next = write(current, { state: current.state, requestedCommit: current.requestedCommit, message: `commit ${shortCommit(i.commit)} refused: ${refusal}` }, ctx);
      return { next, actions: [report(REVIEW_DEPLOY_CONTEXT, 'failure', i.commit, `refused: ${refusal}`, undefined)], summary: `review ${i.reviewId}: ${refusal}`, refused: true, failure: refusal };
    }
    const next = write(current, { state: 'refused', requestedCommit: i.commit, requestedSource: undefined, build: undefined, message: refusal, closeReason: undefined, closedBy: undefined }, ctx, identity);
    return { next, actions: [report(REVIEW_DEPLOY_CONTEXT, 'failure', i.commit, `refused: ${refusal}`, undefined)], summary: `review ${i.reviewId}: ${refusal}`, refused: true, failure: refusal };
  }

  if (current === undefined || current.state === 'destroyed' || current.state === 'refused') {
    // a new life: nothing of a removed deployment carries over
    const fresh = { deployedCommit: undefined, stacks: undefined, url: undefined, closeReason: undefined, closedBy: undefined, message: undefined };
    return startBuild(current, { ...identity, ...fresh, requestedCommit: i.commit, requestedSource: i.source }, ctx,
      `review ${i.reviewId}: deploying ${shortCommit(i.commit)} of ${i.sourceBranch}`);
  }

  switch (current.state) {
    case 'destroying': {
      if (sameCommit && current.closeReason === undefined) return nothing(`review ${i.reviewId}: ${shortCommit(i.commit)} deploys once the teardown completes`);
      const next = write(current, {
        ...identity,
        state: 'destroying',
        requestedCommit: i.commit,
        requestedSource: i.source,
        closeReason: undefined,
        closedBy: undefined,
        message: `${i.reopened ? 'reopened' : 'updated'} during the teardown: ${shortCommit(i.commit)} deploys once the teardown completes`,
      }, ctx);
      return { next, actions: [], summary: `review ${i.reviewId}: ${next.message}` };
    }
    case 'queued':
    case 'deploying': {
      if (current.build === undefined) break; // not building: start one below
      if (sameCommit) return nothing(`review ${i.reviewId}: ${shortCommit(i.commit)} is already requested (build ${current.build.id})`);
      if (current.build.commit === i.commit) {
        const next = write(current, { ...identity, state: current.state, requestedCommit: i.commit, requestedSource: i.source }, ctx);
        return { next, actions: [], summary: `review ${i.reviewId}: ${shortCommit(i.commit)} is being built (build ${current.build.id})` };
      }
      const next = write(current, { ...identity, state: current.state, requestedCommit: i.commit, requestedSource: i.source }, ctx);
      return { next, actions: [], summary: `review ${i.reviewId}: ${shortCommit(i.commit)} deploys when build ${current.build.id} (${shortCommit(current.build.commit)}) finishes; the newest commit wins` };
    }
    case 'deployed':
    case 'failed': {
      const retry = current.state === 'failed' && i.via === 'job';
      if (sameCommit && !retry && !i.reopened) {
        return nothing(`review ${i.reviewId}: ${shortCommit(i.commit)} was already ${current.state === 'deployed' ? 'deployed' : 'built (and failed; push a fix, or retry the Request action)'}`);
      }
      break;
    }
  }
  return startBuild(current, { ...identity, requestedCommit: i.commit, requestedSource: i.source, message: undefined }, ctx,
    `review ${i.reviewId}: deploying ${shortCommit(i.commit)} of ${i.sourceBranch}`);
}

/** Writes the record with a pending build of `requestedCommit` and asks for StartBuild. */
function startBuild(current: StoredReview | undefined, fields: Partial<StoredReview>, ctx: DecideContext, summary: string): Decision {
  const merged = { ...(current ?? {}), ...fields } as StoredReview;
  const commit = merged.requestedCommit;
  const source = merged.requestedSource ?? { type: 'codecommit', commit };
  const next = write(current, { ...fields, state: 'queued', build: { id: PENDING_BUILD_ID, commit, startedAt: ctx.now.toISOString() } }, ctx);
  const variables = [
    { name: REVIEW_VARIABLES.ID, value: next.reviewId },
    { name: REVIEW_VARIABLES.COMMIT, value: commit },
    { name: REVIEW_VARIABLES.BRANCH, value: next.sourceBranch },
    ...(next.pullRequest !== undefined ? [{ name: REVIEW_VARIABLES.PULL_REQUEST, value: next.pullRequest }] : []),
  ];
  const build: BuildRequest = {
    projectName: ctx.settings.buildProject,
    reviewId: next.reviewId,
    commit,
    source,
    environmentVariables: variables,
    idempotencyToken: token(next.pipeline, next.reviewId, commit, next.version),
  };
  return { next, actions: [{ kind: 'start-build', build }], summary };
}

function pendingFor(current: StoredReview | undefined, commit: string): current is StoredReview & { build: NonNullable<StoredReview['build']> } {
  return current?.build !== undefined && current.build.id === PENDING_BUILD_ID && current.build.commit === commit;
}

function buildStarted(current: StoredReview | undefined, i: { reviewId: string; commit: string; buildId: string }, ctx: DecideContext): Decision {
  if (!pendingFor(current, i.commit)) return nothing(`review ${i.reviewId}: build ${i.buildId} of ${shortCommit(i.commit)} started, but the record no longer waits for it`);
  const state: ReviewState = current.state === 'destroying' ? 'destroying' : 'deploying';
  const next = write(current, { state, build: { ...current.build, id: i.buildId } }, ctx);
  const url = buildConsoleUrl(ctx.region, i.buildId);
  const env = ctx.settings.environment;
  const description = `deploying ${shortCommit(i.commit)} to environment ${env.id} (${env.account}/${env.region}) as ${next.stackPrefix}-*`;
  const actions: ReviewAction[] = [report(REVIEW_DEPLOY_CONTEXT, 'pending', i.commit, description, url)];
  if (ctx.settings.tests) actions.push(report(REVIEW_TESTS_CONTEXT, 'pending', i.commit, `waiting for the deployment of ${shortCommit(i.commit)}`, url));
  actions.push(...comment(next, ctx, i.commit, `⏳ **${REVIEW_DEPLOY_CONTEXT}**: ${description}.\n\nBuild: ${url}`, `started:${i.buildId}`));
  return { next, actions, summary: `review ${i.reviewId}: build ${i.buildId} started for ${shortCommit(i.commit)}` };
}

function buildStartFailed(current: StoredReview | undefined, i: { reviewId: string; commit: string; message: string }, ctx: DecideContext): Decision {
  if (!pendingFor(current, i.commit)) return nothing(`review ${i.reviewId}: StartBuild for ${shortCommit(i.commit)} failed, but the record no longer waits for it`);
  const message = `the review build of ${shortCommit(i.commit)} could not be started: ${i.message}`;
  if (current.state === 'destroying') {
    const next = write(current, { state: 'destroying', build: undefined }, ctx);
    return { next, actions: [{ kind: 'teardown' }], summary: `review ${i.reviewId}: ${message}; tearing down` };
  }
  const next = write(current, { state: 'failed', build: undefined, message }, ctx);
  const actions: ReviewAction[] = [report(REVIEW_DEPLOY_CONTEXT, 'failure', i.commit, message, undefined)];
  actions.push(...comment(next, ctx, i.commit, `❌ **${REVIEW_DEPLOY_CONTEXT}**: ${message}`, `start-failed:${next.version}`));
  return { next, actions, summary: `review ${i.reviewId}: ${message}`, failure: message };
}

function buildFinished(current: StoredReview | undefined, i: BuildFinishedInput, ctx: DecideContext): Decision {
  const b = current?.build;
  const matches = b !== undefined && (b.id === i.buildId || (b.id === PENDING_BUILD_ID && i.commit !== undefined && b.commit === i.commit));
  if (!current || !matches) {
    return nothing(`review ${i.reviewId}: build ${i.buildId} finished, but it is not the review's current build (${b ? b.id : 'none'}); ignored`);
  }
  const commit = i.commit ?? b!.commit;
  const buildUrl = buildConsoleUrl(ctx.region, i.buildId);
  const logs = i.logsUrl ?? buildUrl;
  const actions: ReviewAction[] = [];
  const deployed = i.outcome.deploy === 'success';
  let fields: Partial<StoredReview>;
  let line: string;
  if (deployed) {
    const url = i.url;
    fields = { deployedCommit: commit, ...(i.stacks !== undefined ? { stacks: i.stacks } : {}), ...(url !== undefined ? { url } : {}) };
    const testsNote = i.outcome.tests === 'failure' ? `; tests failed (${i.outcome.detail ?? 'POST_BUILD failed'})` : '';
    fields = { ...fields, message: i.outcome.tests === 'failure' ? `deployed, but the tests failed: ${i.outcome.detail ?? 'POST_BUILD failed'}` : i.note };
    actions.push(report(REVIEW_DEPLOY_CONTEXT, 'success', commit, `deployed ${shortCommit(commit)} to environment ${ctx.settings.environment.id}${i.stacks ? ` (${i.stacks.length} stack${i.stacks.length === 1 ? '' : 's'})` : ''}`, url ?? buildUrl));
    line = `✅ **${REVIEW_DEPLOY_CONTEXT}**: ${shortCommit(commit)} deployed${url ? ` — ${url}` : ''}${i.stacks && i.stacks.length > 0 ? `\n\nStacks: ${i.stacks.join(', ')}` : ''}${testsNote}`;
  } else {
    const why = i.outcome.detail ?? 'the build failed';
    fields = { message: `deployment of ${shortCommit(commit)} failed: ${why}` };
    actions.push(report(REVIEW_DEPLOY_CONTEXT, 'failure', commit, `deployment of ${shortCommit(commit)} failed: ${why}`, logs));
    line = `❌ **${REVIEW_DEPLOY_CONTEXT}**: deployment of ${shortCommit(commit)} failed: ${why}\n\nLogs: ${logs}`;
  }
  if (ctx.settings.tests) {
    const t = i.outcome.tests;
    const state: CheckState = t === 'success' ? 'success' : 'failure';
    const text = t === 'success' ? `tests passed against ${shortCommit(commit)}` : t === 'failure' ? `tests failed against ${shortCommit(commit)}: ${i.outcome.detail ?? 'POST_BUILD failed'}` : `not run: the deployment of ${shortCommit(commit)} failed`;
    actions.push(report(REVIEW_TESTS_CONTEXT, state, commit, text, logs));
  }

  if (current.state === 'destroying') {
    const next = write(current, { ...fields, state: 'destroying', build: undefined }, ctx);
    actions.push(...comment(next, ctx, commit, `${line}\n\nThe review deployment is being removed (${current.closeReason ?? 'closed'}).`, `finished:${i.buildId}`));
    actions.push({ kind: 'teardown' });
    return { next, actions, summary: `review ${i.reviewId}: build ${i.buildId} finished (${i.outcome.deploy}); tearing down` };
  }
  actions.push(...comment({ ...current, ...fields } as StoredReview, ctx, commit, line, `finished:${i.buildId}`));
  if (current.requestedCommit !== commit) {
    const started = startBuild(current, { ...fields }, ctx, `review ${i.reviewId}: build ${i.buildId} finished (${i.outcome.deploy}); deploying the newest commit ${shortCommit(current.requestedCommit)}`);
    return { ...started, actions: [...actions, ...started.actions] };
  }
  const next = write(current, { ...fields, state: deployed ? 'deployed' : 'failed', build: undefined }, ctx);
  return { next, actions, summary: `review ${i.reviewId}: build ${i.buildId} of ${shortCommit(commit)}: ${deployed ? 'deployed' : 'failed'}${i.outcome.tests === 'failure' ? ' (tests failed)' : ''}` };
}

function close(current: StoredReview | undefined, reason: CloseReason, by: string | undefined, message: string, ctx: DecideContext): Decision {
  if (current === undefined) return nothing(`no review deployment to remove (${message})`);
  if (current.state === 'destroyed' && reason !== 'by-hand') return nothing(`review ${current.reviewId}: already removed (${current.closeReason ?? 'closed'}); ${message}`);
  if (current.state === 'destroying' && current.closeReason === reason && current.closedBy === by) {
    return nothing(`review ${current.reviewId}: already being removed (${reason})`);
  }
  const next = write(current, { state: 'destroying', closeReason: reason, closedBy: by, message }, ctx);
  if (current.build !== undefined) {
    return { next: { ...next, message: `${message}; the teardown starts when build ${current.build.id} finishes` }, actions: [], summary: `review ${current.reviewId}: ${message}; waiting for build ${current.build.id}` };
  }
  return { next, actions: [{ kind: 'teardown' }], summary: `review ${current.reviewId}: ${message}; tearing down` };
}

function teardown(
  current: StoredReview | undefined,
  stacks: readonly ReviewStack[] | undefined,
  error: string | undefined,
  ctx: DecideContext,
): Decision {
  if (current === undefined || current.state !== 'destroying') return nothing(`review ${current?.reviewId ?? '?'}: not being removed (${current?.state ?? 'no record'}); teardown skipped`);
  if (current.build !== undefined) return nothing(`review ${current.reviewId}: the teardown waits for build ${current.build.id}`);
  if (stacks === undefined) {
    const message = `the teardown could not read the stacks (retried by the next sweep): ${error ?? 'unknown error'}`;
    if (current.message === message) return nothing(`review ${current.reviewId}: ${message}`);
    return { next: write(current, { state: 'destroying', message }, ctx), actions: [], summary: `review ${current.reviewId}: ${message}` };
  }
  const plan = planTeardown(stacks, ctx.settings.pipeline, current.reviewId);
  if (plan.remaining.length === 0) {
    if (current.closeReason === undefined) {
      // reopened or updated during the teardown: deploy the requested commit now
      return startBuild(current, { stacks: [], url: undefined, message: undefined }, ctx,
        `review ${current.reviewId}: teardown complete; deploying ${shortCommit(current.requestedCommit)} requested during it`);
    }
    const next = write(current, { state: 'destroyed', stacks: [], url: undefined, build: undefined, message: `removed (${current.closeReason}${current.closedBy ? ` by ${current.closedBy}` : ''})` }, ctx);
    const actions = comment(next, ctx, next.deployedCommit ?? next.requestedCommit, `🗑️ The review deployment of this pull request was removed (${current.closeReason}).`, `destroyed:${next.version}`);
    return { next, actions, summary: `review ${current.reviewId}: all stacks deleted; destroyed` };
  }
  const names = plan.remaining.map(s => s.name);
  const failed = plan.remaining.filter(s => s.status === 'DELETE_FAILED');
  const parts = [
    plan.delete.length > 0 ? `deleting ${plan.delete.map(s => s.name).join(', ')} (order ${plan.delete[0].order})` : undefined,
    plan.busy.length > 0 ? `waiting for ${plan.busy.map(s => `${s.name} (${s.status})`).join(', ')}` : undefined,
    failed.length > 0 ? `retrying after DELETE_FAILED: ${failed.map(s => `${s.name}${s.statusReason ? ` (${s.statusReason})` : ''}`).join('; ')}` : undefined,
    `${names.length} stack${names.length === 1 ? '' : 's'} left`,
  ].filter((p): p is string => p !== undefined);
  const message = fit(`${current.closeReason ? `${current.closeReason}: ` : ''}${parts.join('; ')}`, 2000);
  const unchanged = current.message === message && JSON.stringify(current.stacks ?? []) === JSON.stringify(names);
  const actions: ReviewAction[] = plan.delete.length > 0 ? [{ kind: 'delete-stacks', stacks: plan.delete }] : [];
  return {
    ...(unchanged ? {} : { next: write(current, { state: 'destroying', stacks: names, message }, ctx) }),
    actions,
    summary: `review ${current.reviewId}: ${message}`,
  };
}

function sweep(current: StoredReview | undefined, stacks: readonly ReviewStack[] | undefined, ctx: DecideContext): Decision {
  if (current === undefined || current.state === 'destroyed') return nothing('sweep: nothing to do');
  const now = ctx.now.getTime();
  const b = current.build;
  if (b !== undefined) {
    const age = now - Date.parse(b.startedAt);
    if (b.id === PENDING_BUILD_ID && age > PENDING_BUILD_RETRY_MINUTES * 60_000) {
      if (current.state === 'destroying') {
        return { next: write(current, { state: 'destroying', build: undefined }, ctx), actions: [{ kind: 'teardown' }], summary: `review ${current.reviewId}: dropped a build that never started; tearing down` };
      }
      return startBuild(current, {}, ctx, `review ${current.reviewId}: StartBuild for ${shortCommit(b.commit)} never answered (${Math.round(age / 60_000)} minutes); asking again`);
    }
    if (b.id !== PENDING_BUILD_ID && age > LOST_BUILD_HOURS * 3_600_000) {
      const message = `build ${b.id} reported no result in ${LOST_BUILD_HOURS} hours; considered lost`;
      if (current.state === 'destroying') {
        return { next: write(current, { state: 'destroying', build: undefined, message }, ctx), actions: [{ kind: 'teardown' }], summary: `review ${current.reviewId}: ${message}; tearing down` };
      }
      const next = write(current, { state: 'failed', build: undefined, message }, ctx);
      return { next, actions: [report(REVIEW_DEPLOY_CONTEXT, 'failure', b.commit, message, buildConsoleUrl(ctx.region, b.id))], summary: `review ${current.reviewId}: ${message}` };
    }
  }
  const ttl = ctx.settings.ttlHours;
  if (ttl > 0 && current.state !== 'destroying' && now - Date.parse(current.updatedAt) > ttl * 3_600_000) {
    return close(current, 'expired', undefined, `expired: not updated for ${ttl} hours (since ${current.updatedAt}; pipeline.review.ttlHours)`, ctx);
  }
  if (current.state === 'destroying' && b === undefined) {
    return stacks === undefined ? { actions: [{ kind: 'teardown' }], summary: `review ${current.reviewId}: teardown in progress` } : teardown(current, stacks, undefined, ctx);
  }
  return nothing(`review ${current.reviewId}: ${current.state}; nothing to do`);
}

function orphan(current: StoredReview | undefined, i: { reviewId: string; stacks: readonly ReviewStack[] }, ctx: DecideContext): Decision {
  const names = i.stacks.map(s => s.name);
  if (current !== undefined && current.state !== 'destroyed') return nothing(`review ${i.reviewId}: live (${current.state}); its stacks are not orphans`);
  const message = current === undefined
    ? `found by the sweep: ${names.length} stack${names.length === 1 ? '' : 's'} of review ${i.reviewId} with no record (${names.join(', ')}); removing them`
    : `found by the sweep: stacks left behind after the removal (${names.join(', ')}); removing them`;
  const commit = i.stacks.map(s => s.tags[REVIEW_TAGS.COMMIT]).find(c => c !== undefined && c !== '') ?? 'unknown';
  const next = write(current, {
    state: 'destroying',
    closeReason: current?.closeReason ?? 'expired',
    message: fit(message, 2000),
    stacks: names,
  }, ctx, current === undefined ? {
    pipeline: ctx.settings.pipeline,
    reviewId: i.reviewId,
    stackPrefix: reviewStackPrefix(ctx.settings.pipeline, i.reviewId),
    sourceBranch: '(unknown)',
    requestedCommit: commit,
  } : {});
  const d = teardown(next, i.stacks, undefined, ctx);
  // one write: the teardown's first step, under the sweep's finding
  return { next: d.next ? { ...d.next, version: next.version, message: next.message } : next, actions: d.actions, summary: `review ${i.reviewId}: ${message}` };
}

function report(context: string, state: CheckState, revision: string, description: string, targetUrl: string | undefined): ReviewAction {
  const text = fit(description, LIMITS.description);
  const url = targetUrl !== undefined && targetUrl.length <= LIMITS.targetUrl ? targetUrl : undefined;
  return {
    kind: 'report',
    check: withoutUndefined({
      context,
      state,
      revision,
      description: text,
      targetUrl: url,
      clientRequestId: `review-${token(context, state, revision, text, url)}`,
    }),
  };
}

/** A comment on the pull request, when the review is a CodeCommit pull request whose destination commit is known. */
function comment(r: StoredReview, ctx: DecideContext, commit: string, content: string, key: string): ReviewAction[] {
  if (ctx.settings.source.kind !== 'codecommit' || r.pullRequest === undefined || r.destinationCommit === undefined) return [];
  return [{
    kind: 'comment',
    comment: {
      repository: ctx.settings.source.repository,
      pullRequestId: r.pullRequest,
      beforeCommitId: r.destinationCommit,
      afterCommitId: commit,
      content: fit(`${content}\n\n(ddk-pipelines review deployment ${r.reviewId} of pipeline ${r.pipeline})`, 10_000),
      token: token(r.pipeline, r.reviewId, key),
    },
  }];
}
