import { notWaiting, PipelineConditions } from './condition-overrides';
import { decide, overrideEligibility, requiredContexts } from './decision';
import type { EventPublisher } from './events';
import { commitComment, CommentPoster } from './propagate';
import {
  parseCheckReport, parseChecksQuery, parseConditionOverrideRequest, parseJsonObject, parseOverrideRequest, parseReleaseQuery, parseReleasesQuery,
  parseRequirementsRequest, parseReviewDestroyRequest, parseReviewsQuery, Parsed,
} from './requests';
import type { CheckRecord, PipelineSettings, RequirementsChangedDetail, StageSettings, StructuredLogger } from './shared';
import { DETAIL_TYPES, windowPipelinesOf } from './shared';
import { DeclaredContextError, IdempotencyConflictError, StatusCheckStore, StoreUnavailableError } from './store';
import { publicRelease, ReleaseStore, releaseStoreFor } from '../releases/store';
import { REVIEW_DETAIL_TYPES } from '../reviews/shared';
import type { ReviewDestroyRequest } from '../reviews/shared';
import { publicRecord, ReviewStore, reviewStoreFor } from '../reviews/store';
import { CONDITION_OVERRIDE_ROUTE } from '../safety/shared';

/*
 * The status-check API's logic, independent of API Gateway's event shape: the handler
 * (lambda/status-checks-api) maps the proxy event to an `ApiRequest` and the `ApiResponse` back.
 */

/** A request, as the handler hands it over. */
export interface ApiRequest {
  readonly method: string;
  /** The API Gateway resource template, e.g. `/requirements/{pipeline}/{stage}`. */
  readonly resource: string;
  readonly pathParameters?: Record<string, string | undefined> | null;
  readonly query?: Record<string, string | undefined> | null;
  readonly body?: string | null;
  /** The caller's IAM principal ARN from the request context (SigV4); never from the body. */
  readonly principal?: string;
}

/** A response: status code and JSON body. */
export interface ApiResponse {
  readonly statusCode: number;
  readonly body: Record<string, unknown>;
}

/** What the API needs. */
export interface ApiDependencies {
  readonly store: StatusCheckStore;
  readonly events: EventPublisher;
  readonly comments: CommentPoster;
  readonly settings: PipelineSettings;
  readonly now: () => Date;
  readonly logger: StructuredLogger;
  /**
   * Review records (`GET /reviews`, `POST /reviews/destroy`).
   * @default - a store on the status-check store's table with the SDK's default client
   */
  readonly reviews?: ReviewStore;
  /**
   * Releases and candidates (`GET /releases`, `GET /releases/{id}`, `GET /releases/candidates`).
   * @default - a store on the status-check store's table with the SDK's default client
   */
  readonly releases?: ReleaseStore;
  /**
   * CodePipeline's stage conditions (`POST /conditions/override`: GetPipelineState,
   * OverrideStageCondition).
   * @default - none: the route answers 500 (a deployment defect)
   */
  readonly conditions?: PipelineConditions;
}

/** An error answered with a status code. */
class HttpError extends Error {
  constructor(
    public readonly statusCode: number,
    message: string,
    public readonly issues: string[] = [],
    public readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Answers one request. */
export async function handleApiRequest(req: ApiRequest, deps: ApiDependencies): Promise<ApiResponse> {
  const route = `${req.method.toUpperCase()} ${req.resource}`;
  try {
    const principal = req.principal?.trim();
    if (!principal) {
      throw new HttpError(403, 'requestContext.identity.userArn: the request carries no IAM principal ARN; expected a SigV4-signed request (the API uses IAM authorization). Fix: sign the request with AWS credentials (e.g. awscurl or the AWS SDK) through the API Gateway endpoint');
    }
    switch (route) {
      case 'POST /checks': return await reportCheck(req, principal, deps);
      case 'GET /checks': return await readChecks(req, deps);
      case 'PUT /requirements/{pipeline}/{stage}': return await changeRequirements(req, principal, deps);
      case 'POST /overrides': return await override(req, principal, deps);
      case 'GET /reviews': return await readReviews(req, deps);
      case 'POST /reviews/destroy': return await destroyReview(req, principal, deps);
      case 'GET /releases': return await readReleases(req, deps);
      case 'GET /releases/candidates': return await readCandidates(req, deps);
      case 'GET /releases/{id}': return await readRelease(req, deps);
      case `POST ${CONDITION_OVERRIDE_ROUTE}`: return await overrideCondition(req, principal, deps);
      default:
        throw new HttpError(404, `${route}: no such operation; expected POST /checks, GET /checks, PUT /requirements/{pipeline}/{stage}, POST /overrides, GET /reviews, POST /reviews/destroy, GET /releases, GET /releases/{id}, GET /releases/candidates or POST ${CONDITION_OVERRIDE_ROUTE}`);
    }
  } catch (e) {
    if (e instanceof HttpError) {
      if (e.statusCode >= 500) deps.logger.error(e.message, { route });
      else deps.logger.info('request refused', { route, statusCode: e.statusCode, reason: e.message });
      return { statusCode: e.statusCode, body: { message: e.message, ...(e.issues.length > 0 ? { issues: e.issues } : {}), ...e.extra } };
    }
    if (e instanceof StoreUnavailableError) {
      deps.logger.error('store unavailable', { route, error: e.message });
      return { statusCode: 503, body: { message: `${e.message}. Fix: retry later; with the same clientRequestId a retried report is recorded once` } };
    }
    if (e instanceof IdempotencyConflictError || e instanceof DeclaredContextError) {
      return { statusCode: 409, body: { message: e.message } };
    }
    deps.logger.error('unexpected error', { route, error: (e as Error).stack ?? String(e) });
    return { statusCode: 500, body: { message: `internal error: ${(e as Error).message}` } };
  }
}

function valid<T>(p: Parsed<T>): T {
  if (!p.ok) throw new HttpError(400, p.issues.length === 1 ? p.issues[0] : `${p.issues.length} problems: ${p.issues.join(' | ')}`, p.issues);
  return p.value;
}

function knownPipeline(settings: PipelineSettings, field: string, pipeline: string): void {
  if (pipeline !== settings.pipeline) {
    throw new HttpError(404, `${field}: "${pipeline}" is not a pipeline this API serves; expected "${settings.pipeline}". Fix: send the report to the status-check API of pipeline "${pipeline}" or correct the name`);
  }
}

function knownStage(settings: PipelineSettings, field: string, stage: string): StageSettings {
  const s = settings.stages.find(x => x.name === stage);
  if (!s) {
    const names = settings.stages.map(x => `"${x.name}"`).join(', ');
    throw new HttpError(404, `${field}: "${stage}" is not a stage of pipeline "${settings.pipeline}"; expected one of ${names}. Fix: use a stage name from ${settings.file} (pipeline.stages[].name)`);
  }
  return s;
}

async function publish(deps: ApiDependencies, detailType: string, detail: object, recorded: Record<string, unknown>): Promise<void> {
  try {
    await deps.events.publish(detailType, detail);
  } catch (e) {
    throw new HttpError(502, `recorded, but the "${detailType}" event could not be published (${(e as Error).message}). Fix: retry the same request (a report with the same clientRequestId, or the same override, is not recorded twice and its event is published again)`, [], recorded);
  }
}

/** A record as the API shows it (without internal fields). */
function shown(r: CheckRecord): Omit<CheckRecord, 'bodyHash'> {
  const { bodyHash: _hash, ...rest } = r;
  return rest;
}

async function reportCheck(req: ApiRequest, principal: string, deps: ApiDependencies): Promise<ApiResponse> {
  const report = valid(parseCheckReport(valid(parseJsonObject(req.body))));
  knownPipeline(deps.settings, 'body.pipeline', report.pipeline);
  if (report.stage !== undefined) knownStage(deps.settings, 'body.stage', report.stage);

  const { record, replayed } = await deps.store.recordCheck(report, principal, deps.now());
  deps.logger.info('check recorded', { pipeline: record.pipeline, revision: record.revision, context: record.context, state: record.state, sequence: record.sequence, replayed, reportedBy: principal });

  let propagation: Record<string, unknown> | undefined;
  if (report.propagate) {
    const repository = deps.settings.repository;
    if (repository === undefined) {
      propagation = { posted: false, reason: `pipeline "${deps.settings.pipeline}" has no CodeCommit source; propagate only comments on CodeCommit commits` };
    } else {
      try {
        await deps.comments.postCommitComment(repository, record.revision, commitComment(record), record.id);
        propagation = { posted: true, repository };
      } catch (e) {
        deps.logger.warn('propagation failed', { repository, revision: record.revision, error: (e as Error).message });
        propagation = { posted: false, repository, reason: `CodeCommit refused the comment (${(e as Error).name}: ${(e as Error).message})` };
      }
    }
  }
  const body = { check: shown(record), replayed, ...(propagation ? { propagation } : {}) };
  await publish(deps, DETAIL_TYPES.CHECK_REPORTED, { ...shown(record), replayed }, body);
  return { statusCode: replayed ? 200 : 201, body };
}

async function readChecks(req: ApiRequest, deps: ApiDependencies): Promise<ApiResponse> {
  const q = valid(parseChecksQuery(req.query));
  knownPipeline(deps.settings, 'query.pipeline', q.pipeline);
  const stage = q.stage !== undefined ? knownStage(deps.settings, 'query.stage', q.stage) : undefined;
  const checks = await deps.store.latestChecks(q.pipeline, q.revision);
  const history = await deps.store.history(q.pipeline, q.revision);
  const body: Record<string, unknown> = { pipeline: q.pipeline, revision: q.revision, checks: checks.map(shown), history: history.map(shown) };
  if (stage) {
    const changes = await deps.store.requirementChanges(q.pipeline, stage.name);
    const d = decide({ stage: stage.name, revision: q.revision, declared: stage.requiredChecks, changes, checks, overrides: [] });
    body.gate = {
      stage: stage.name,
      required: d.required,
      verdict: d.verdict,
      summary: d.summary,
      contexts: d.outcomes.map(o => ({ context: o.context, status: o.status, ...(o.report ? { sequence: o.report.sequence } : {}) })),
      note: 'decided for the revision without overrides or timeout; the gate of an execution also applies its overrides and timeout',
    };
  }
  return { statusCode: 200, body };
}

async function changeRequirements(req: ApiRequest, principal: string, deps: ApiDependencies): Promise<ApiResponse> {
  const r = valid(parseRequirementsRequest(req.pathParameters, valid(parseJsonObject(req.body))));
  knownPipeline(deps.settings, 'path.pipeline', r.pipeline);
  const stage = knownStage(deps.settings, 'path.stage', r.stage);
  if (stage.requiredChecks.length === 0) {
    throw new HttpError(409, `path.stage: stage "${stage.name}" has no status-check gate (its ddk.json stage declares no requiredChecks), so contexts required at run time would never be checked; expected a stage with requiredChecks. Fix: add "requiredChecks" to pipeline.stages[${stage.index}] in ${deps.settings.file} and push`);
  }
  const result = await deps.store.changeRequirements({
    pipeline: r.pipeline,
    stage: stage.name,
    declared: stage.requiredChecks,
    add: r.add,
    remove: r.remove,
    by: principal,
    now: deps.now(),
    location: `${deps.settings.file}: pipeline.stages[${stage.index}].requiredChecks`,
  });
  const required = requiredContexts(stage.requiredChecks, result.current);
  deps.logger.info('requirements changed', { pipeline: r.pipeline, stage: stage.name, changes: result.changes.length, by: principal });
  const body = {
    pipeline: r.pipeline, stage: stage.name, declared: stage.requiredChecks, required, changes: result.changes, unchanged: result.unchanged,
  };
  if (result.changes.length > 0) {
    const detail: RequirementsChangedDetail = { pipeline: r.pipeline, stage: stage.name, changes: result.changes, required };
    await publish(deps, DETAIL_TYPES.REQUIREMENTS_CHANGED, detail, body);
  }
  return { statusCode: 200, body };
}

async function override(req: ApiRequest, principal: string, deps: ApiDependencies): Promise<ApiResponse> {
  const o = valid(parseOverrideRequest(valid(parseJsonObject(req.body))));
  knownPipeline(deps.settings, 'body.pipeline', o.pipeline);
  const stage = knownStage(deps.settings, 'body.stage', o.stage);
  const state = await deps.store.gateState(o.pipeline, stage.name, o.execution);
  if (!state.gate) {
    throw new HttpError(404, `body.execution: no gate of stage "${stage.name}" has run for execution "${o.execution}" of pipeline "${o.pipeline}"; expected an execution waiting at that stage's gate. Fix: check the execution id (aws codepipeline list-pipeline-executions --pipeline-name ${o.pipeline}) and override once the gate waits`);
  }
  const gate = state.gate;
  const [changes, checks] = await Promise.all([
    deps.store.requirementChanges(o.pipeline, stage.name),
    deps.store.latestChecks(o.pipeline, gate.revision),
  ]);
  const eligibility = overrideEligibility({
    stage: stage.name, revision: gate.revision, declared: gate.declared, changes, checks, overrides: state.overrides,
  });
  if (!eligibility.allowed) {
    // a retry of an override already recorded (same principal and reason) answers with it
    const mine = state.overrides.find(x => x.by === principal && x.reason === o.reason);
    if (mine) {
      const replay = { override: mine, replayed: true };
      await publish(deps, DETAIL_TYPES.OVERRIDE_RECORDED, mine, replay);
      return { statusCode: 200, body: replay };
    }
    throw new HttpError(409, `override refused for execution "${o.execution}" at stage "${stage.name}" (revision ${gate.revision}): ${eligibility.reason}`);
  }
  const { record, replayed } = await deps.store.recordOverride({
    pipeline: o.pipeline,
    stage: stage.name,
    execution: o.execution,
    revision: gate.revision,
    contexts: eligibility.contexts,
    reason: o.reason,
    by: principal,
  }, deps.now());
  deps.logger.info('override recorded', { pipeline: o.pipeline, stage: stage.name, execution: o.execution, contexts: record.contexts, by: principal, replayed });
  const body = { override: record, replayed };
  await publish(deps, DETAIL_TYPES.OVERRIDE_RECORDED, record, body);
  return { statusCode: replayed ? 200 : 201, body };
}

/**
 * `POST /conditions/override`: lets an execution waiting for a stage's deployment windows in.
 * Refuses (400) an invalid body, an unknown pipeline or stage and a stage without windows; 409
 * when the execution does not wait at the stage's BeforeEntry condition. Records who (the
 * caller's IAM principal), why and when BEFORE calling OverrideStageCondition (BEFORE_ENTRY), so
 * no override happens unrecorded; answers 200 with the record. A retry (same principal and
 * reason) after the override went through answers the first record.
 */
async function overrideCondition(req: ApiRequest, principal: string, deps: ApiDependencies): Promise<ApiResponse> {
  const o = valid(parseConditionOverrideRequest(valid(parseJsonObject(req.body))));
  const settings = deps.settings;
  const stage = settings.stages.find(x => x.name === o.stage);
  const windowed = settings.stages.filter(x => windowPipelinesOf(x).length > 0).map(x => `"${x.name}"`).join(', ') || 'none';
  if (!stage) {
    throw new HttpError(400, `body.stage: "${o.stage}" is not a stage of pipeline "${settings.pipeline}"; expected a stage with deployment windows (${windowed}). Fix: use a stage name from ${settings.file} (pipeline.stages[].name)`, [`body.stage: "${o.stage}" is not a stage of pipeline "${settings.pipeline}"`]);
  }
  const pipelines = windowPipelinesOf(stage);
  if (pipelines.length === 0) {
    throw new HttpError(400, `body.stage: stage "${stage.name}" has no deployment window (${settings.file}: pipeline.stages[${stage.index}].window is not set), so nothing holds an execution at its entry; expected a stage with windows (${windowed}). Fix: override only a stage whose window holds the execution`, [`body.stage: stage "${stage.name}" has no deployment window`]);
  }
  // the plan's pipeline, (codepipeline-gitflow) the stage's own pipeline <name>-<stage>, (services)
  // the release pipeline or one of the services' pipelines; the plan's name stands for the
  // stage's pipeline only when there is exactly one
  const pipeline = pipelines.includes(o.pipeline) ? o.pipeline
    : pipelines.length === 1 && o.pipeline === settings.pipeline ? pipelines[0] : undefined;
  if (pipeline === undefined) {
    if (pipelines.length > 1) {
      const names = pipelines.map(n => `"${n}"`).join(', ');
      throw new HttpError(400, `body.pipeline: "${o.pipeline}" is not a pipeline of stage "${stage.name}"; the stage runs in each service's pipeline (${names}), so the request must name the one whose execution waits. Fix: send "pipeline" as one of ${names} (ddk-pipelines window override --stage ${stage.name} --pipeline <one of them>)`, [`body.pipeline: "${o.pipeline}" is not one of ${names}`]);
    }
    const names = [...new Set([settings.pipeline, pipelines[0]])].map(n => `"${n}"`).join(' or ');
    throw new HttpError(400, `body.pipeline: "${o.pipeline}" is not the pipeline of stage "${stage.name}" this API serves; expected ${names}. Fix: send the override to the status-check API of pipeline "${o.pipeline}", or correct the name`, [`body.pipeline: "${o.pipeline}" is not ${names}`]);
  }
  const conditions = deps.conditions;
  if (!conditions) throw new HttpError(500, `${CONDITION_OVERRIDE_ROUTE}: the API has no CodePipeline client (ApiDependencies.conditions); a deployment defect. Fix: deploy the API function through the StatusChecks construct`);
  const request = { pipeline, stage: stage.name, executionId: o.executionId, conditionType: 'BEFORE_ENTRY' as const, by: principal, reason: o.reason };

  const state = await codePipelineCall('GetPipelineState', pipeline, () => conditions.entryState(pipeline, stage.name));
  if (!state) {
    throw new HttpError(409, `pipeline "${pipeline}" has no stage "${stage.name}" in CodePipeline; expected the deployed pipeline of ${settings.file}. Fix: deploy the CICD stack (the pipeline updates itself on the next push)`);
  }
  const why = notWaiting(state, o.executionId);
  if (why !== undefined) {
    // a retry after the override went through: the execution has entered the stage
    const mine = await deps.store.conditionOverride(settings.pipeline, request);
    if (mine) return { statusCode: 200, body: { override: mine, replayed: true } };
    throw new HttpError(409, `execution "${o.executionId}" does not wait for the window of stage "${stage.name}" in pipeline "${pipeline}": ${why}. Nothing was recorded. Fix: see ddk-pipelines status (or aws codepipeline get-pipeline-state --name ${pipeline}) for the execution waiting at the stage's entry`);
  }
  const { record, replayed } = await deps.store.recordConditionOverride(settings.pipeline, request, deps.now());
  deps.logger.info('condition override recorded', { pipeline, stage: stage.name, execution: o.executionId, by: principal, replayed });
  try {
    await conditions.overrideBeforeEntry(pipeline, stage.name, o.executionId);
  } catch (e) {
    const err = e as { name?: string; message?: string; $fault?: string };
    deps.logger.error('OverrideStageCondition failed', { pipeline, stage: stage.name, execution: o.executionId, error: `${err.name}: ${err.message}` });
    const status = err.$fault === 'client' ? 409 : 502;
    throw new HttpError(status, `recorded, but CodePipeline's OverrideStageCondition refused the override of stage "${stage.name}" in pipeline "${pipeline}" for execution "${o.executionId}" (${err.name}: ${err.message}); the record stays as an attempt. Fix: check the execution still waits at the stage's entry (ddk-pipelines status) and retry (the same reason does not record twice)`, [], { override: record });
  }
  // published once CodePipeline took the override: the event stream says what happened, not what was tried
  await publish(deps, DETAIL_TYPES.CONDITION_OVERRIDDEN, record, { override: record });
  return { statusCode: 200, body: { override: record, replayed } };
}

/** A CodePipeline read; its failure answers 502 naming the call. */
async function codePipelineCall<T>(call: string, pipeline: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    const err = e as { name?: string; message?: string };
    if (err.name === 'PipelineNotFoundException') {
      throw new HttpError(409, `pipeline "${pipeline}" does not exist in CodePipeline (${call}: ${err.message}); expected the deployed pipeline. Fix: deploy the CICD stack`);
    }
    throw new HttpError(502, `CodePipeline ${call} of pipeline "${pipeline}" failed (${err.name}: ${err.message}); nothing was recorded. Fix: retry later`);
  }
}

function reviewsOf(deps: ApiDependencies): ReviewStore {
  return deps.reviews ?? reviewStoreFor(deps.store.tableName);
}

async function readReviews(req: ApiRequest, deps: ApiDependencies): Promise<ApiResponse> {
  const q = valid(parseReviewsQuery(req.query));
  knownPipeline(deps.settings, 'query.pipeline', q.pipeline);
  const reviews = await reviewsOf(deps).list(q.pipeline);
  return { statusCode: 200, body: { pipeline: q.pipeline, reviews: reviews.map(publicRecord) } };
}

async function destroyReview(req: ApiRequest, principal: string, deps: ApiDependencies): Promise<ApiResponse> {
  const r = valid(parseReviewDestroyRequest(valid(parseJsonObject(req.body))));
  knownPipeline(deps.settings, 'body.pipeline', r.pipeline);
  const store = reviewsOf(deps);
  const review = await store.get(r.pipeline, r.reviewId);
  if (!review) {
    const existing = await store.list(r.pipeline);
    const ids = existing.map(x => `"${x.reviewId}" (${x.state})`).join(', ');
    throw new HttpError(404, `body.reviewId: "${r.reviewId}" is not a review deployment of pipeline "${r.pipeline}"; expected ${existing.length === 0 ? 'an id, but the pipeline has no review deployments' : `one of ${ids}`}. Fix: pick an id from GET /reviews?pipeline=${r.pipeline} (ddk-pipelines reviews)`, [], { reviewIds: existing.map(x => x.reviewId) });
  }
  const request: ReviewDestroyRequest = { pipeline: r.pipeline, reviewId: r.reviewId, reason: r.reason, by: principal };
  const body = { review: publicRecord(review), request };
  try {
    await deps.events.publish(REVIEW_DETAIL_TYPES.DESTROY_REQUESTED, request);
  } catch (e) {
    throw new HttpError(502, `the "${REVIEW_DETAIL_TYPES.DESTROY_REQUESTED}" event could not be published (${(e as Error).message}); nothing was destroyed. Fix: retry the request`);
  }
  deps.logger.info('review destroy requested', { pipeline: r.pipeline, reviewId: r.reviewId, state: review.state, by: principal });
  return { statusCode: 202, body };
}

function releasesOf(deps: ApiDependencies): ReleaseStore {
  return deps.releases ?? releaseStoreFor(deps.store.tableName);
}

async function readReleases(req: ApiRequest, deps: ApiDependencies): Promise<ApiResponse> {
  const q = valid(parseReleasesQuery(req.query));
  knownPipeline(deps.settings, 'query.pipeline', q.pipeline);
  const releases = await releasesOf(deps).list(q.pipeline);
  return { statusCode: 200, body: { pipeline: q.pipeline, releases: releases.map(publicRelease) } };
}

async function readRelease(req: ApiRequest, deps: ApiDependencies): Promise<ApiResponse> {
  const q = valid(parseReleaseQuery(req.pathParameters, req.query));
  knownPipeline(deps.settings, 'query.pipeline', q.pipeline);
  const store = releasesOf(deps);
  const release = await store.get(q.pipeline, q.releaseId);
  if (!release) {
    const existing = await store.list(q.pipeline);
    const ids = existing.map(x => `"${x.releaseId}" (${x.state})`).join(', ');
    throw new HttpError(404, `path.id: "${q.releaseId}" is not a release of pipeline "${q.pipeline}"; expected ${existing.length === 0 ? 'an id, but the pipeline has no releases yet' : `one of ${ids}`}. Fix: pick an id from GET /releases?pipeline=${q.pipeline} (ddk-pipelines release list)`, [], { releaseIds: existing.map(x => x.releaseId) });
  }
  const events = await store.events(q.pipeline, q.releaseId);
  return { statusCode: 200, body: { pipeline: q.pipeline, release: publicRelease(release), events } };
}

async function readCandidates(req: ApiRequest, deps: ApiDependencies): Promise<ApiResponse> {
  const q = valid(parseReleasesQuery(req.query));
  knownPipeline(deps.settings, 'query.pipeline', q.pipeline);
  const candidates = await releasesOf(deps).candidates(q.pipeline);
  return { statusCode: 200, body: { pipeline: q.pipeline, candidates } };
}
