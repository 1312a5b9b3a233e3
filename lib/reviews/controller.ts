import type { BuildStarter, JobResults, PullRequestCommenter } from './adapters';
import type { CheckAction, DecideContext, Decision, ReviewAction, ReviewInput } from './decide';
import { decide } from './decide';
import type { ControllerInput } from './events';
import { parseControllerInput } from './events';
import type { ReviewSettings } from './shared';
import { REVIEW_DETAIL_TYPES, reviewStackPrefix } from './shared';
import type { ReviewStack, ReviewStackSource } from './stacks';
import { reviewStacksByReview, reviewUrl, stacksConsoleUrl } from './stacks';
import type { ReviewStore, StoredReview } from './store';
import { publicRecord, ReviewConflictError } from './store';
import type { EventPublisher } from '../status-checks/events';
import { DETAIL_TYPES } from '../status-checks/shared';
import type { CheckRecord, StructuredLogger } from '../status-checks/shared';
import type { StatusCheckStore } from '../status-checks/store';

/*
 * The review controller's orchestration: input → record → decide → write (optimistic locking)
 * → actions, whose results (a build id, a StartBuild failure, the stacks read) are applied as
 * further inputs. Every dependency is injected; the handler (lambda/review-controller) builds
 * them from the environment.
 *
 * Failure handling: a conflicting write is re-read and decided again (up to 5 times); an action
 * that fails after its record was written is logged and not retried by the same input (the
 * sweep retries what can be retried: deletions, builds that never started); a CodePipeline job
 * is always answered, PutJobFailureResult when anything failed.
 */

/** What the controller needs. */
export interface ControllerDependencies {
  readonly settings: ReviewSettings;
  readonly reviews: ReviewStore;
  /** The status-check store (`review/deploy` and `review/tests` are recorded there). */
  readonly checks: StatusCheckStore;
  readonly events: EventPublisher;
  readonly builds: BuildStarter;
  /** CloudFormation in the review environment (through its CDK deploy role). */
  readonly stacks: ReviewStackSource;
  readonly comments: PullRequestCommenter;
  readonly jobs: JobResults;
  /** Who reports the checks (`reportedBy`): the controller's identity. */
  readonly reporter: string;
  /** The CICD account's region (the controller's and the build project's). */
  readonly region: string;
  readonly now: () => Date;
  readonly logger: StructuredLogger;
}

/** What one invocation did. */
export interface ControllerOutcome {
  /** The input, in words (`CodeCommit pullRequestCreated (pull request 12)`, `sweep`, …). */
  readonly input: string;
  /** What was decided, one line per decision (follow-ups included). */
  readonly summaries: string[];
}

/** Writes of one decision before giving up on conflicts. */
export const MAX_WRITE_ATTEMPTS = 5;
/** Follow-up inputs (build started, stacks read, …) one input may lead to. */
const MAX_FOLLOW_UP_DEPTH = 6;

/** Handles one invocation of the review controller. Throws only when a non-job input could not be processed (Lambda retries it). */
export async function runController(event: unknown, deps: ControllerDependencies): Promise<ControllerOutcome> {
  const parsed: ControllerInput = parseControllerInput(event, deps.settings);
  switch (parsed.kind) {
    case 'ignored':
      deps.logger.info('input ignored', { reason: parsed.reason });
      return { input: 'ignored', summaries: [parsed.reason] };
    case 'invalid':
      deps.logger.error('invalid input', { error: parsed.error, ...(parsed.jobId ? { jobId: parsed.jobId } : {}) });
      if (parsed.jobId !== undefined) await deps.jobs.fail(parsed.jobId, parsed.error);
      return { input: 'invalid', summaries: [parsed.error] };
    case 'job':
      return runJob(parsed, deps);
    case 'review':
      return { input: parsed.source, summaries: (await apply(parsed.input, deps)).summaries };
    case 'unattributed-build': {
      // the event did not carry the build's variables: the review is the one running this build
      const owner = (await deps.reviews.list(deps.settings.pipeline)).find(r => r.build?.id === parsed.buildId);
      if (owner === undefined) {
        deps.logger.error('invalid input', { error: parsed.unknown });
        return { input: 'invalid', summaries: [parsed.unknown] };
      }
      return { input: parsed.source, summaries: (await apply({ ...parsed.input, reviewId: owner.reviewId }, deps)).summaries };
    }
    case 'sweep':
      return sweep(deps);
  }
}

async function runJob(job: Extract<ControllerInput, { kind: 'job' }>, deps: ControllerDependencies): Promise<ControllerOutcome> {
  const input = `CodePipeline job ${job.jobId}`;
  try {
    if (job.ignore !== undefined || job.input === undefined) {
      const summary = job.ignore ?? 'nothing to do';
      deps.logger.info('job ignored', { jobId: job.jobId, reason: summary });
      await deps.jobs.succeed(job.jobId, summary);
      return { input, summaries: [summary] };
    }
    const result = await apply(job.input, deps);
    if (result.failure !== undefined) await deps.jobs.fail(job.jobId, result.failure);
    else await deps.jobs.succeed(job.jobId, result.summaries.join(' | '));
    return { input, summaries: result.summaries };
  } catch (e) {
    const message = `The review controller could not handle the job: ${(e as Error).message}. Fix: retry the action once the cause is fixed`;
    deps.logger.error('job failed', { jobId: job.jobId, error: (e as Error).stack ?? String(e) });
    await deps.jobs.fail(job.jobId, message);
    return { input, summaries: [message] };
  }
}

function context(deps: ControllerDependencies): DecideContext {
  return { settings: deps.settings, now: deps.now(), region: deps.region };
}

/** Applies an input to its review: read, decide, write (retrying conflicts), act, then the follow-ups. */
export async function apply(input: ReviewInput, deps: ControllerDependencies, depth = 0): Promise<{ summaries: string[]; failure?: string }> {
  const enriched = await enrich(input, deps);
  let current: StoredReview | undefined;
  let decision: Decision;
  for (let attempt = 1; ; attempt++) {
    current = await deps.reviews.get(deps.settings.pipeline, input.reviewId);
    decision = decide(current, enriched, context(deps));
    if (decision.next === undefined) break;
    try {
      await deps.reviews.put(decision.next);
      break;
    } catch (e) {
      if (!(e instanceof ReviewConflictError) || attempt >= MAX_WRITE_ATTEMPTS) throw e;
      deps.logger.info('review changed concurrently; deciding again', { reviewId: input.reviewId, input: input.kind, attempt });
    }
  }
  if (decision.next !== undefined || decision.actions.length > 0) {
    deps.logger.info('review decided', {
      reviewId: input.reviewId,
      input: input.kind,
      state: decision.next?.state ?? current?.state,
      version: decision.next?.version ?? current?.version,
      actions: decision.actions.map(a => a.kind),
      summary: decision.summary,
    });
  }
  if (decision.next !== undefined) await publish(deps, REVIEW_DETAIL_TYPES.CHANGED, publicRecord(decision.next));
  const followUps = await perform(decision.actions, input.reviewId, deps);
  const summaries = [decision.summary];
  let failure = decision.failure;
  for (const f of followUps) {
    if (depth >= MAX_FOLLOW_UP_DEPTH) {
      deps.logger.error('too many follow-up inputs; stopping', { reviewId: input.reviewId, input: f.kind });
      break;
    }
    const r = await apply(f, deps, depth + 1);
    summaries.push(...r.summaries);
    failure ??= r.failure;
  }
  return { summaries, ...(failure !== undefined ? { failure } : {}) };
}

/** A finished deployment's stacks and URL, read from the review environment. */
async function enrich(input: ReviewInput, deps: ControllerDependencies): Promise<ReviewInput> {
  if (input.kind !== 'build-finished' || input.outcome.deploy !== 'success') return input;
  const prefix = reviewStackPrefix(deps.settings.pipeline, input.reviewId);
  try {
    const stacks = reviewStacksByReview(await deps.stacks.list(), deps.settings.pipeline).get(input.reviewId) ?? [];
    const url = reviewUrl(stacks, deps.settings, prefix);
    return { ...input, stacks: stacks.map(s => s.name), url: url.url, ...(url.note ? { note: url.note } : {}) };
  } catch (e) {
    deps.logger.warn('stacks of a deployment could not be read', { reviewId: input.reviewId, error: (e as Error).message });
    return { ...input, url: stacksConsoleUrl(deps.settings.environment.region, prefix), note: `the review stacks could not be read: ${(e as Error).message}` };
  }
}

async function perform(actions: readonly ReviewAction[], reviewId: string, deps: ControllerDependencies): Promise<ReviewInput[]> {
  const followUps: ReviewInput[] = [];
  const pipeline = deps.settings.pipeline;
  for (const a of actions) {
    switch (a.kind) {
      case 'start-build':
        try {
          const { id } = await deps.builds.start(a.build);
          deps.logger.info('build started', { reviewId, commit: a.build.commit, buildId: id });
          followUps.push({ kind: 'build-started', reviewId, commit: a.build.commit, buildId: id });
        } catch (e) {
          const err = e as { name?: string; message?: string };
          deps.logger.error('StartBuild failed', { reviewId, project: a.build.projectName, error: err?.message ?? String(e) });
          followUps.push({ kind: 'build-start-failed', reviewId, commit: a.build.commit, message: `CodeBuild StartBuild of project "${a.build.projectName}" failed (${err?.name ?? 'Error'}: ${err?.message ?? String(e)})` });
        }
        break;
      case 'report':
        await reportCheck(a.check, deps);
        break;
      case 'comment':
        try {
          await deps.comments.comment(a.comment);
        } catch (e) {
          deps.logger.warn('pull request comment refused', { reviewId, pullRequest: a.comment.pullRequestId, error: `${(e as Error).name}: ${(e as Error).message}` });
        }
        break;
      case 'teardown':
        try {
          const stacks: ReviewStack[] = reviewStacksByReview(await deps.stacks.list(), pipeline).get(reviewId) ?? [];
          followUps.push({ kind: 'teardown', reviewId, stacks });
        } catch (e) {
          deps.logger.error('stacks could not be read for a teardown', { reviewId, error: (e as Error).message });
          followUps.push({ kind: 'teardown', reviewId, error: (e as Error).message });
        }
        break;
      case 'delete-stacks':
        for (const s of a.stacks) {
          try {
            await deps.stacks.delete(s, pipeline, reviewId);
            deps.logger.info('stack deletion started', { reviewId, stack: s.name, order: s.order });
          } catch (e) {
            deps.logger.error('stack deletion failed (the next sweep retries)', { reviewId, stack: s.name, error: (e as Error).message });
          }
        }
        break;
    }
  }
  return followUps;
}

/** Records a check as the status-check API does, and publishes "Status Check Reported". */
async function reportCheck(check: CheckAction, deps: ControllerDependencies): Promise<void> {
  try {
    const { record, replayed } = await deps.checks.recordCheck({
      pipeline: deps.settings.pipeline,
      revision: check.revision,
      context: check.context,
      state: check.state,
      description: check.description,
      ...(check.targetUrl !== undefined ? { targetUrl: check.targetUrl } : {}),
      clientRequestId: check.clientRequestId,
    }, deps.reporter, deps.now());
    const { bodyHash: _hash, ...shown }: CheckRecord = record;
    await publish(deps, DETAIL_TYPES.CHECK_REPORTED, { ...shown, replayed });
  } catch (e) {
    deps.logger.error('check could not be recorded', { context: check.context, revision: check.revision, state: check.state, error: (e as Error).message });
  }
}

async function publish(deps: ControllerDependencies, detailType: string, detail: object): Promise<void> {
  try {
    await deps.events.publish(detailType, detail);
  } catch (e) {
    deps.logger.error('event not published', { detailType, error: (e as Error).message });
  }
}

/**
 * The sweep: every live review gets a `sweep` input (TTL, stuck builds, teardown progress) with
 * its stacks from one DescribeStacks of the review environment; stacks of a review whose record
 * is missing or destroyed are removed (`orphan`).
 */
async function sweep(deps: ControllerDependencies): Promise<ControllerOutcome> {
  const pipeline = deps.settings.pipeline;
  const records = await deps.reviews.list(pipeline);
  let byReview: Map<string, ReviewStack[]> | undefined;
  try {
    byReview = reviewStacksByReview(await deps.stacks.list(), pipeline);
  } catch (e) {
    deps.logger.error('sweep: the review environment\'s stacks could not be read', { error: (e as Error).message });
  }
  const inputs: ReviewInput[] = [];
  for (const r of records) {
    const stacks = byReview?.get(r.reviewId);
    if (r.state === 'destroyed') {
      if (stacks !== undefined && stacks.length > 0) inputs.push({ kind: 'orphan', reviewId: r.reviewId, stacks });
    } else {
      inputs.push({ kind: 'sweep', reviewId: r.reviewId, ...(byReview !== undefined ? { stacks: stacks ?? [] } : {}) });
    }
  }
  const known = new Set(records.map(r => r.reviewId));
  for (const [reviewId, stacks] of byReview ?? []) {
    if (!known.has(reviewId)) inputs.push({ kind: 'orphan', reviewId, stacks });
  }
  const summaries: string[] = [];
  for (const input of inputs) {
    try {
      summaries.push(...(await apply(input, deps)).summaries);
    } catch (e) {
      deps.logger.error('sweep: a review could not be processed', { reviewId: input.reviewId, input: input.kind, error: (e as Error).message });
      summaries.push(`review ${input.reviewId}: ${(e as Error).message}`);
    }
  }
  deps.logger.info('sweep done', { reviews: records.length, inputs: inputs.length });
  return { input: 'sweep', summaries };
}
