import type { ReleasePipelineReader } from './codepipeline-reader';
import type { CandidateInput, PipelineChange, ReleaseInput } from './events';
import { parseReleaseInput } from './events';
import type { ExecutionSnapshot, Progress } from './progress';
import { derivedReleaseId, progress, readExecution } from './progress';
import type { ReleaseCandidate, ReleaseSettings } from './shared';
import { RELEASE_DETAIL_TYPES } from './shared';
import type { ReleaseStore, StoredRelease } from './store';
import { ReleaseConflictError } from './store';
import type { JobResults } from '../reviews/adapters';
import type { EventPublisher } from '../status-checks/events';
import type { StructuredLogger } from '../status-checks/shared';

/*
 * The release function's orchestration. Every dependency is injected; the handler
 * (lambda/release-events) builds them from the environment.
 *
 * - A Candidate job: record the service's latest candidate, publish "Release Candidate
 *   Recorded", and always answer the job (PutJobFailureResult when anything failed: a retry of
 *   the action records the same candidate again).
 * - A state change of the release pipeline: read the execution (GetPipelineExecution; the
 *   pipeline's layout once per release; ListPipelineExecutions' sourceRevisions while a
 *   member's revision is unknown), find its release (the execution index; the ReleaseId
 *   variable, or an id derived from the execution when it has none), decide with progress()
 *   and write the record (optimistic locking: re-read and decide again on a conflict), then
 *   deliver the record's outbox: each event is recorded (RELEASE_KEYS.event) and published,
 *   and only then removed from the outbox. A failed delivery is left in the outbox for the next
 *   invocation of the release (the function throws, so Lambda retries the event).
 */

/** What the release function needs. */
export interface ReleaseDependencies {
  readonly settings: ReleaseSettings;
  readonly releases: ReleaseStore;
  readonly events: EventPublisher;
  readonly pipeline: ReleasePipelineReader;
  readonly jobs: JobResults;
  readonly now: () => Date;
  readonly logger: StructuredLogger;
}

/** What one invocation did. */
export interface ReleaseOutcome {
  /** The input, in words (`foo-release <execution> stage hardening SUCCEEDED`, `CodePipeline job <id>`, …). */
  readonly input: string;
  readonly summaries: string[];
}

/**
 * Writes of one decision (or one outbox clean-up) before giving up on conflicts (the invocation
 * then fails and Lambda retries the event). Parallel actions (a deploy per service and
 * environment) change one release at the same moment: each retry waits a random 0–50 ms more.
 */
export const MAX_WRITE_ATTEMPTS = 8;

function backoff(attempt: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, Math.floor(Math.random() * 50 * attempt)));
}

/** Handles one invocation. Throws when a state change could not be processed or its events not delivered (Lambda retries it). */
export async function runReleaseFunction(event: unknown, deps: ReleaseDependencies): Promise<ReleaseOutcome> {
  const parsed: ReleaseInput = parseReleaseInput(event, deps.settings);
  switch (parsed.kind) {
    case 'ignored':
      deps.logger.info('input ignored', { reason: parsed.reason });
      return { input: 'ignored', summaries: [parsed.reason] };
    case 'invalid':
      deps.logger.error('invalid input', { error: parsed.error, ...(parsed.jobId ? { jobId: parsed.jobId } : {}) });
      if (parsed.jobId !== undefined) await deps.jobs.fail(parsed.jobId, parsed.error);
      return { input: 'invalid', summaries: [parsed.error] };
    case 'candidate':
      return recordCandidate(parsed.jobId, parsed.candidate, deps);
    case 'change':
      return { input: parsed.source, summaries: await applyChange(parsed.change, deps) };
  }
}

async function recordCandidate(jobId: string, input: CandidateInput, deps: ReleaseDependencies): Promise<ReleaseOutcome> {
  const where = `CodePipeline job ${jobId}`;
  const pipeline = deps.settings.pipeline;
  const candidate: ReleaseCandidate = { ...input, recordedAt: deps.now().toISOString() };
  const short = `${candidate.service}@${candidate.revision.slice(0, 12)}`;
  let summary: string;
  try {
    const result = await deps.releases.recordCandidate(pipeline, candidate);
    if (!result.recorded) {
      summary = `${short} not recorded: ${result.current.service}@${result.current.revision.slice(0, 12)} (execution ${result.current.execution}) was recorded later, at ${result.current.recordedAt}, and stays the candidate`;
      deps.logger.info('candidate superseded', { service: candidate.service, revision: candidate.revision, current: result.current.revision });
      await deps.jobs.succeed(jobId, summary);
      return { input: where, summaries: [summary] };
    }
    summary = `${short} is the candidate of "${candidate.service}" for the next release of ${pipeline}${result.previous && result.previous.revision !== candidate.revision ? ` (was ${result.previous.revision.slice(0, 12)})` : ''}`;
    deps.logger.info('candidate recorded', { service: candidate.service, revision: candidate.revision, execution: candidate.execution, previous: result.previous?.revision });
  } catch (e) {
    const message = `The release function could not record candidate ${short}: ${(e as Error).message}. Fix: retry the Candidate action once the cause is fixed`;
    deps.logger.error('candidate not recorded', { jobId, error: (e as Error).stack ?? String(e) });
    await deps.jobs.fail(jobId, message);
    return { input: where, summaries: [message] };
  }
  try {
    await deps.events.publish(RELEASE_DETAIL_TYPES.CANDIDATE, { pipeline, ...candidate, state: 'recorded' });
  } catch (e) {
    const message = `${summary}; but the "${RELEASE_DETAIL_TYPES.CANDIDATE}" event could not be published (${(e as Error).message}). Fix: retry the Candidate action (it records the same candidate again and publishes the event)`;
    deps.logger.error('event not published', { detailType: RELEASE_DETAIL_TYPES.CANDIDATE, error: (e as Error).message });
    await deps.jobs.fail(jobId, message);
    return { input: where, summaries: [message] };
  }
  await deps.jobs.succeed(jobId, summary);
  return { input: where, summaries: [summary] };
}

/** Applies one state change of the release pipeline to its release, then delivers the release's pending events. */
export async function applyChange(change: PipelineChange, deps: ReleaseDependencies): Promise<string[]> {
  const { settings, logger } = deps;
  const description = await deps.pipeline.execution(change.execution);
  if (description === undefined) {
    const reason = `execution ${change.execution} of "${settings.releasePipeline}" is unknown to CodePipeline (GetPipelineExecution: PipelineExecutionNotFoundException); nothing recorded`;
    logger.warn('unknown execution', { execution: change.execution });
    return [reason];
  }
  let snapshot = readExecution({ pipelineExecutionId: change.execution, ...description }, settings);
  if (snapshot.rollback !== undefined) {
    // a stage rollback re-deploys the release of the target execution: it is not a release of its own
    const reason = `execution ${change.execution} is a rollback (to execution ${snapshot.rollback.target ?? 'unknown'}): it returns a stage to an earlier release and is not recorded as a release`;
    logger.info('rollback execution ignored', { execution: change.execution, target: snapshot.rollback.target });
    return [reason];
  }
  if (snapshot.releaseId === undefined && await deps.releases.releaseOfExecution(settings.pipeline, change.execution) === undefined) {
    // the run CodePipeline starts when it creates the pipeline, or a console "Release change":
    // no release id, and the release build stops before building anything (ReleaseDelivery)
    const reason = `execution ${change.execution} of "${settings.releasePipeline}" has no release id (ReleaseId ${snapshot.invalidReleaseId === undefined ? 'unset' : `"${snapshot.invalidReleaseId}"`}): it was not started by \`ddk-pipelines release start\` and is not a release; nothing recorded`;
    logger.info('execution without a release id ignored', { execution: change.execution, releaseId: snapshot.invalidReleaseId });
    return [reason];
  }
  const { releaseId, note } = await resolveRelease(change, snapshot, deps);
  let current = await deps.releases.get(settings.pipeline, releaseId);
  if (current !== undefined && current.execution !== change.execution) {
    const reason = `release id "${releaseId}" belongs to execution ${current.execution}; execution ${change.execution} claimed it at the same time and is not recorded. Fix: start each release with its own id (ddk-pipelines release start)`;
    logger.error('release id claimed by two executions', { releaseId, execution: change.execution, owner: current.execution });
    return [reason];
  }
  if (Object.keys(snapshot.revisions).length < settings.services.length && (current?.missing.length ?? settings.services.length) > 0) {
    const sources = await deps.pipeline.sourceRevisions(change.execution);
    snapshot = readExecution({ pipelineExecutionId: change.execution, ...description }, settings, sources);
  }
  const layout = current !== undefined && current.layout.stages.length > 0 ? current.layout : await deps.pipeline.layout(snapshot.pipelineVersion);

  let decided: Progress;
  for (let attempt = 1; ; attempt++) {
    decided = progress(current, { releaseId, change, snapshot, layout, ...(note !== undefined ? { note } : {}) }, { settings, now: deps.now() });
    if (decided.next === undefined) break;
    try {
      await deps.releases.put(decided.next);
      current = decided.next;
      break;
    } catch (e) {
      if (!(e instanceof ReleaseConflictError) || attempt >= MAX_WRITE_ATTEMPTS) throw e;
      logger.info('release changed concurrently; deciding again', { releaseId, attempt });
      await backoff(attempt);
      current = await deps.releases.get(settings.pipeline, releaseId);
    }
  }
  logger.info('release decided', { releaseId, execution: change.execution, state: current?.state, version: current?.version, events: decided.events.map(e => e.detailType), summary: decided.summary });
  const summaries = [decided.summary];
  if (current !== undefined && current.outbox.length > 0) summaries.push(await deliver(current, deps));
  return summaries;
}

/** The release an execution belongs to, and why its id is not the ReleaseId variable when it is not. */
interface ResolvedRelease {
  readonly releaseId: string;
  readonly note?: string;
}

async function resolveRelease(change: PipelineChange, snapshot: ExecutionSnapshot, deps: ReleaseDependencies): Promise<ResolvedRelease> {
  const pipeline = deps.settings.pipeline;
  const known = await deps.releases.releaseOfExecution(pipeline, change.execution);
  if (known !== undefined) return { releaseId: known };
  let releaseId = snapshot.releaseId;
  let note: string | undefined;
  const derived = () => derivedReleaseId(change.execution, change.startTime ?? change.time);
  if (releaseId === undefined) {
    releaseId = derived();
    note = snapshot.invalidReleaseId !== undefined
      ? `the execution's ReleaseId variable "${snapshot.invalidReleaseId}" is not a release id: the id is derived from the execution`
      : 'the execution has no ReleaseId variable (started outside `ddk-pipelines release start`, e.g. the pipeline\'s first run): the id is derived from the execution';
  } else {
    const owner = await deps.releases.get(pipeline, releaseId);
    if (owner !== undefined && owner.execution !== change.execution) {
      note = `the execution's ReleaseId "${releaseId}" already names the release of execution ${owner.execution}: the id is derived from the execution`;
      releaseId = derived();
    }
  }
  const claimed = await deps.releases.claimExecution(pipeline, change.execution, releaseId, deps.now());
  return claimed === releaseId ? { releaseId, ...(note !== undefined ? { note } : {}) } : { releaseId: claimed };
}

/** Records and publishes the release's pending events in order, then removes the delivered ones from the outbox. */
async function deliver(release: StoredRelease, deps: ReleaseDependencies): Promise<string> {
  const pipeline = deps.settings.pipeline;
  const delivered = new Set<number>();
  let failure: Error | undefined;
  for (const e of [...release.outbox].sort((a, b) => a.n - b.n)) {
    try {
      await deps.releases.putEvent(pipeline, e);
      await deps.events.publish(e.detailType, e.detail);
      delivered.add(e.n);
    } catch (err) {
      failure = err as Error;
      deps.logger.error('release event not delivered; it stays in the outbox', { releaseId: release.releaseId, detailType: e.detailType, n: e.n, error: failure.message });
      break;
    }
  }
  if (delivered.size > 0) {
    let current: StoredRelease | undefined = release;
    for (let attempt = 1; current !== undefined; attempt++) {
      const remaining = current.outbox.filter(e => !delivered.has(e.n));
      if (remaining.length === current.outbox.length) break;
      try {
        await deps.releases.put({ ...current, outbox: remaining, version: current.version + 1 });
        break;
      } catch (e) {
        if (!(e instanceof ReleaseConflictError) || attempt >= MAX_WRITE_ATTEMPTS) throw e;
        await backoff(attempt);
        current = await deps.releases.get(pipeline, release.releaseId);
      }
    }
  }
  if (failure !== undefined) {
    throw new Error(`release ${release.releaseId}: ${delivered.size} of ${release.outbox.length} pending event(s) delivered; the rest stay in the outbox (${failure.message})`);
  }
  return `delivered ${delivered.size} event(s)`;
}
