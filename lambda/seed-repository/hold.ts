/*
 * The first-execution hold (`Custom::DdkHoldSeedExecution`), served by the seeding function: on
 * Create, stops the executions of the new pipelines that build the seed commit, so that a new
 * user's first deployment does not end with failed executions. The decisions are
 * FirstExecutionHold's; this module makes the calls.
 *
 * It never fails the deployment: the pipelines work either way (the seed's execution would only
 * fail). Errors are logged and reported in the response's Data.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import {
  CodePipelineClient,
  CodePipelineClientConfig,
  ListPipelineExecutionsCommand,
  StopPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  ExecutionListing,
  FirstExecutionHold,
  HOLD_PAGE_SIZE,
  HoldDecisionKind,
  HoldResponseData,
  HoldSpec,
  NotHeldReason,
  PipelineHoldOutcome,
} from '../../lib/pipelines/first-execution-hold';

/** What the provider framework expects back from onEvent for the hold. */
export interface HoldResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: HoldResponseData;
}

/** What the hold needs from its environment (replaced in tests). */
export interface HoldContext {
  readonly client: CodePipelineClient;
  readonly logger: Logger;
  /** Waits `seconds`. */
  readonly sleep: (seconds: number) => Promise<void>;
  /** The current time, in milliseconds. */
  readonly now: () => number;
}

/** A CodePipeline client with `maxAttempts` and the SDK's standard retries (throttling, transient errors). */
export function createPipelineClient(maxAttempts: number, config: CodePipelineClientConfig = {}): CodePipelineClient {
  return new CodePipelineClient({ maxAttempts, retryMode: 'standard', ...config });
}

/** Handles one event of the hold's custom resource. */
export async function holdFirstExecutions(event: CloudFormationCustomResourceEvent, ctx: HoldContext): Promise<HoldResponse> {
  const { logger } = ctx;
  if (event.RequestType !== 'Create') {
    // Only a pipeline created with the seed gets an execution of the seed commit.
    logger.info(`${event.RequestType}: nothing to do; the hold acts only when it is created with the pipelines`);
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const spec = FirstExecutionHold.parseProperties(event.ResourceProperties);
  const physicalId = `ddk-hold-${spec.seedCommitId || 'unseeded'}`;
  if (spec.seedCommitId === '') {
    logger.info('The repository had commits before the seeding: no seed commit, nothing to hold', { pipelineNames: spec.pipelineNames });
    return { PhysicalResourceId: physicalId, Data: FirstExecutionHold.responseData([]) };
  }
  logger.appendKeys({ seedCommitId: spec.seedCommitId });
  const outcomes = await hold(spec, ctx);
  for (const o of outcomes) {
    if (o.notHeld !== undefined) logger.warn('Nothing held for this pipeline; it runs as CodePipeline started it', { ...o });
    else logger.info('Held', { ...o });
  }
  return { PhysicalResourceId: physicalId, Data: FirstExecutionHold.responseData(outcomes) };
}

/** Mutable progress on one pipeline. */
interface Progress {
  readonly pipelineName: string;
  readonly stopped: string[];
  readonly ended: { pipelineExecutionId: string; status: string }[];
  done: boolean;
  notHeld?: NotHeldReason;
  lastError?: string;
}

/** Looks at every pipeline, every HOLD_POLL_SECONDS, until each is decided or the time is up. */
async function hold(spec: HoldSpec, ctx: HoldContext): Promise<PipelineHoldOutcome[]> {
  const progress: Progress[] = spec.pipelineNames.map(pipelineName => ({ pipelineName, stopped: [], ended: [], done: false }));
  const start = ctx.now();
  for (let round = 1; ; round++) {
    await Promise.all(progress.filter(p => !p.done).map(p => look(p, spec.seedCommitId, ctx)));
    const pending = progress.filter(p => !p.done);
    if (pending.length === 0) break;
    const wait = FirstExecutionHold.nextWait((ctx.now() - start) / 1000);
    if (wait === undefined) {
      for (const p of pending) p.notHeld = p.lastError !== undefined ? NotHeldReason.ERROR : NotHeldReason.NOT_FOUND;
      break;
    }
    ctx.logger.debug('No execution of the seed commit yet; looking again', { round, pending: pending.map(p => p.pipelineName), waitSeconds: wait });
    await ctx.sleep(wait);
  }
  return progress.map(({ done: _done, ...outcome }) => outcome);
}

/** One look at one pipeline: list, decide, stop. Errors leave the pipeline pending for the next look. */
async function look(p: Progress, seedCommitId: string, ctx: HoldContext): Promise<void> {
  let listing: ExecutionListing;
  try {
    listing = await list(ctx.client, p.pipelineName);
  } catch (err) {
    // e.g. AccessDenied while IAM applies the role's new policy: looked at again next round
    p.lastError = message(err);
    ctx.logger.warn('ListPipelineExecutions failed; trying again', { pipelineName: p.pipelineName, error: p.lastError });
    return;
  }
  p.lastError = undefined;
  const decision = FirstExecutionHold.decide(seedCommitId, listing);
  ctx.logger.debug('Decision', { pipelineName: p.pipelineName, kind: decision.kind, executions: decision.executions });
  switch (decision.kind) {
    case HoldDecisionKind.WAIT:
      return;
    case HoldDecisionKind.ENDED:
      p.ended.push(...decision.executions.map(e => ({ pipelineExecutionId: e.pipelineExecutionId, status: e.status })));
      p.done = true;
      return;
    case HoldDecisionKind.OTHER_REVISION:
      p.notHeld = NotHeldReason.OTHER_REVISION;
      p.done = true;
      return;
    case HoldDecisionKind.NOT_NEW:
      p.notHeld = NotHeldReason.NOT_NEW;
      p.done = true;
      return;
    case HoldDecisionKind.STOP: {
      let failed = false;
      // CodePipeline may list an execution stopped a moment ago as InProgress still
      for (const e of decision.executions.filter(x => !p.stopped.includes(x.pipelineExecutionId))) {
        failed = !(await stop(p, e.pipelineExecutionId, seedCommitId, ctx)) || failed;
      }
      // a failed stop is tried again next round (the others are Stopping by then: left alone)
      p.done = !failed;
      return;
    }
  }
}

/** Stops one execution; whether it is settled (stopped, or no longer stoppable). */
async function stop(p: Progress, pipelineExecutionId: string, seedCommitId: string, ctx: HoldContext): Promise<boolean> {
  try {
    await ctx.client.send(new StopPipelineExecutionCommand({
      pipelineName: p.pipelineName,
      pipelineExecutionId,
      abandon: true,
      reason: FirstExecutionHold.reason(seedCommitId),
    }));
    p.stopped.push(pipelineExecutionId);
    ctx.logger.info('Stopped the execution of the seed commit', { pipelineName: p.pipelineName, pipelineExecutionId });
    return true;
  } catch (err) {
    if (isServiceError(err, 'PipelineExecutionNotStoppableException')) {
      // it ended between the listing and the stop: left as it ended
      p.ended.push({ pipelineExecutionId, status: 'NotStoppable' });
      ctx.logger.info('The execution could no longer be stopped; left as it is', { pipelineName: p.pipelineName, pipelineExecutionId, error: message(err) });
      return true;
    }
    if (isServiceError(err, 'DuplicatedStopRequestException')) {
      p.ended.push({ pipelineExecutionId, status: 'Stopping' });
      ctx.logger.info('The execution is being stopped already', { pipelineName: p.pipelineName, pipelineExecutionId });
      return true;
    }
    p.lastError = message(err);
    ctx.logger.warn('StopPipelineExecution failed; trying again', { pipelineName: p.pipelineName, pipelineExecutionId, error: p.lastError });
    return false;
  }
}

/** The newest HOLD_PAGE_SIZE executions of a pipeline. */
async function list(client: CodePipelineClient, pipelineName: string): Promise<ExecutionListing> {
  const out = await client.send(new ListPipelineExecutionsCommand({ pipelineName, maxResults: HOLD_PAGE_SIZE }));
  return {
    executions: (out.pipelineExecutionSummaries ?? []).map(s => ({
      pipelineExecutionId: s.pipelineExecutionId ?? '',
      status: s.status ?? '',
      sourceRevisionIds: (s.sourceRevisions ?? []).map(r => r.revisionId ?? '').filter(id => id !== ''),
      triggerType: s.trigger?.triggerType,
    })).filter(e => e.pipelineExecutionId !== ''),
    more: out.nextToken !== undefined && out.nextToken !== '',
  };
}

function message(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Whether `err` is the service error `name` (by name: the bundled SDK's classes are not the ones a test imports). */
export function isServiceError(err: unknown, name: string): boolean {
  return err instanceof Error && err.name === name;
}
