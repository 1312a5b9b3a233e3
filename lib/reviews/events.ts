import { isObj, jsonVariable, Obj, show, str } from '../input-values';
import type { BuildFinishedInput, BuildOutcome, RequestInput, ReviewInput } from './decide';
import type { ReviewDestroyRequest, ReviewSettings } from './shared';
import { CODECOMMIT_PULL_REQUEST_DETAIL_TYPES, REVIEW_DETAIL_TYPES, REVIEW_ID_PATTERN, REVIEW_SETTINGS_ENV, REVIEW_VARIABLES, reviewIdForBranch, reviewIdForPullRequest } from './shared';
import type { BuildSource } from './store';
import { EVENT_SOURCE, PATTERN_RE } from '../status-checks/shared';

/*
 * What reaches the review controller, parsed and validated (pure). It dispatches on the input's
 * shape:
 * - EventBridge "CodeCommit Pull Request State Change" (source aws.codecommit; the CodeCommit
 *   user guide's "Monitoring CodeCommit events in Amazon EventBridge": detail.event,
 *   pullRequestId, pullRequestStatus "Open"/"Closed", isMerged "True"/"False",
 *   sourceReference/destinationReference "refs/heads/<branch>", sourceCommit,
 *   destinationCommit, repositoryNames, title, author);
 * - a CodePipeline Lambda invoke job ({"CodePipeline.job": {id, data: {actionConfiguration:
 *   {configuration: {UserParameters}}, inputArtifacts: [{location: {s3Location}}]}}});
 * - EventBridge "CodeBuild Build State Change" (source aws.codebuild; the CodeBuild user guide's
 *   "Build notifications input format reference": detail.build-status, project-name, build-id,
 *   additional-information.phases[].phase-type/phase-status/phase-context,
 *   additional-information.environment.environment-variables[], logs.deep-link);
 * - EventBridge "Scheduled Event" (source aws.events): the sweep;
 * - "Review Destroy Requested" (source ddk-pipelines.status-checks).
 * Every problem names the field, the value, what was expected and the fix.
 */

/** The controller's input, parsed. */

export type ControllerInput =
  /** An input about one review (a pull-request event, a build, a destroy request). */
  | { readonly kind: 'review'; readonly input: ReviewInput; readonly source: string }
  /** A CodePipeline job: an input to apply, or a reason to answer success without one; always answered. */
  | { readonly kind: 'job'; readonly jobId: string; readonly input?: RequestInput | Extract<ReviewInput, { kind: 'close' }>; readonly ignore?: string }
  /**
   * A finished review build whose event does not carry DDK_REVIEW_ID: the controller finds the
   * review by its running build's id (`unknown` says why, when none has it).
   */
  | { readonly kind: 'unattributed-build'; readonly buildId: string; readonly source: string; readonly input: Omit<BuildFinishedInput, 'reviewId'>; readonly unknown: string }
  /** The scheduled sweep. */
  | { readonly kind: 'sweep'; readonly time?: string }
  /** Not for this controller (another branch, project, repository or pipeline; a build in progress). */
  | { readonly kind: 'ignored'; readonly reason: string }
  /** Malformed; `jobId` when it is a CodePipeline job (which must still be answered). */
  | { readonly kind: 'invalid'; readonly error: string; readonly jobId?: string };

/** The CodeCommit pull-request events the controller acts on. */
export const PULL_REQUEST_EVENTS = ['pullRequestCreated', 'pullRequestSourceBranchUpdated', 'pullRequestStatusChanged', 'pullRequestMergeStatusUpdated'] as const;

/** The Request and Close actions' UserParameters. */
export interface ReviewJobParameters {
  readonly operation: 'request' | 'close';
  /** `#{SourceVariables.BranchName}`, resolved: the pull request's source branch. */
  readonly branch: string;
  /** `#{SourceVariables.CommitId}`, resolved. */
  readonly commit: string;
  /** `#{SourceVariables.FullRepositoryName}`, resolved: `owner/name`. */
  readonly repository: string;
}

/** Parses whatever invoked the controller. */
export function parseControllerInput(event: unknown, settings: ReviewSettings): ControllerInput {
  if (!isObj(event)) {
    return { kind: 'invalid', error: `event: ${show(event)} is not an object; expected an EventBridge event or a CodePipeline job. Fix: invoke the review controller only through the rules and actions the construct creates` };
  }
  if (isObj(event['CodePipeline.job'])) return parseJob(event['CodePipeline.job'], settings);
  const source = event.source;
  const detailType = event['detail-type'];
  const detail = event.detail;
  // CodeCommit's documentation shows the merge event as "CodeCommit PullRequest State Change" and
  // the others as "CodeCommit Pull Request State Change": the rule matches both, and so do we
  if (source === 'aws.codecommit' && CODECOMMIT_PULL_REQUEST_DETAIL_TYPES.includes(String(detailType))) return parsePullRequestEvent(detail, settings);
  if (source === 'aws.codebuild' && detailType === 'CodeBuild Build State Change') return parseBuildEvent(detail, settings);
  if (source === 'aws.events' && detailType === 'Scheduled Event') return { kind: 'sweep', ...(typeof event.time === 'string' ? { time: event.time } : {}) };
  if (source === EVENT_SOURCE && detailType === REVIEW_DETAIL_TYPES.DESTROY_REQUESTED) return parseDestroyRequest(detail, settings);
  return {
    kind: 'invalid',
    error: `event: source ${show(source)} with detail-type ${show(detailType)} is not an input of the review controller; expected "CodeCommit Pull Request State Change" (aws.codecommit), "CodeBuild Build State Change" (aws.codebuild), "Scheduled Event" (aws.events), "${REVIEW_DETAIL_TYPES.DESTROY_REQUESTED}" (${EVENT_SOURCE}) or a CodePipeline job. Fix: narrow the EventBridge rule that targets the controller`,
  };
}

function branchOf(ref: unknown): string | undefined {
  const s = str(ref);
  if (s === undefined) return undefined;
  return s.startsWith('refs/heads/') ? s.slice('refs/heads/'.length) : s;
}

/** A "CodeCommit Pull Request State Change" event's detail. */
export function parsePullRequestEvent(detail: unknown, settings: ReviewSettings): ControllerInput {
  if (!isObj(detail)) return { kind: 'invalid', error: `detail: ${show(detail)} is not an object; expected the detail of a "CodeCommit Pull Request State Change" event` };
  const event = detail.event;
  if (typeof event !== 'string' || !(PULL_REQUEST_EVENTS as readonly string[]).includes(event)) {
    return { kind: 'ignored', reason: `CodeCommit event ${show(event)} is not one the controller acts on (${PULL_REQUEST_EVENTS.join(', ')})` };
  }
  if (settings.source.kind !== 'codecommit') {
    return { kind: 'ignored', reason: `pipeline "${settings.pipeline}" has a connection source; CodeCommit pull-request events do not concern it` };
  }
  const repositories = Array.isArray(detail.repositoryNames) ? detail.repositoryNames.filter((r): r is string => typeof r === 'string') : [];
  if (!repositories.includes(settings.source.repository)) {
    return { kind: 'ignored', reason: `pull request of repository ${show(repositories)}, not "${settings.source.repository}"` };
  }
  const destinationBranch = branchOf(detail.destinationReference);
  if (destinationBranch === undefined || !settings.branches.includes(destinationBranch)) {
    return { kind: 'ignored', reason: `pull request into ${show(detail.destinationReference)}; review deployments are for pull requests into ${settings.branches.map(b => `"${b}"`).join(', ')} (${settings.file}: pipeline.review.branches)` };
  }
  const issues: string[] = [];
  const pullRequestId = str(detail.pullRequestId);
  let reviewId: string | undefined;
  try {
    reviewId = reviewIdForPullRequest(pullRequestId ?? '');
  } catch {
    issues.push(`detail.pullRequestId: ${show(detail.pullRequestId)} is not CodeCommit's numeric pull request id; expected e.g. "12"`);
  }
  const sourceBranch = branchOf(detail.sourceReference);
  if (sourceBranch === undefined) issues.push(`detail.sourceReference: ${show(detail.sourceReference)} is missing; expected "refs/heads/<branch>"`);
  const status = detail.pullRequestStatus;
  if (status !== 'Open' && status !== 'Closed') issues.push(`detail.pullRequestStatus: ${show(status)} is not "Open" or "Closed"`);
  const merged = detail.isMerged === 'True' || detail.isMerged === true;

  const closing = (event === 'pullRequestStatusChanged' && status === 'Closed') || event === 'pullRequestMergeStatusUpdated';
  const sourceCommit = str(detail.sourceCommit);
  const destinationCommit = str(detail.destinationCommit);
  if (!closing) {
    if (sourceCommit === undefined || !PATTERN_RE.revision.test(sourceCommit)) issues.push(`detail.sourceCommit: ${show(detail.sourceCommit)} is not a commit id; expected the source branch's tip`);
    if (destinationCommit !== undefined && !PATTERN_RE.revision.test(destinationCommit)) issues.push(`detail.destinationCommit: ${show(detail.destinationCommit)} is not a commit id`);
  }
  if (issues.length > 0) {
    return { kind: 'invalid', error: `CodeCommit "${event}" event: ${issues.join(' | ')}. Fix: check the EventBridge rule's input (the controller expects the event unchanged)` };
  }
  const where = `CodeCommit ${event} (pull request ${pullRequestId})`;
  if (event === 'pullRequestMergeStatusUpdated') {
    if (!merged) return { kind: 'ignored', reason: `${where}: not merged` };
    return { kind: 'review', source: where, input: { kind: 'close', reviewId: reviewId!, reason: 'merged' } };
  }
  if (event === 'pullRequestStatusChanged' && status === 'Closed') {
    return { kind: 'review', source: where, input: { kind: 'close', reviewId: reviewId!, reason: merged ? 'merged' : 'closed' } };
  }
  if (status !== 'Open') return { kind: 'ignored', reason: `${where}: the pull request is ${status}` };
  const input: RequestInput = {
    kind: 'request',
    reviewId: reviewId!,
    commit: sourceCommit!,
    sourceBranch: sourceBranch!,
    destinationBranch,
    pullRequest: pullRequestId,
    ...(str(detail.title) ? { title: str(detail.title) } : {}),
    ...(str(detail.author) ? { author: str(detail.author) } : {}),
    ...(destinationCommit ? { destinationCommit } : {}),
    source: { type: 'codecommit', commit: sourceCommit! },
    via: 'pull-request-event',
    ...(event === 'pullRequestStatusChanged' ? { reopened: true } : {}),
  };
  return { kind: 'review', source: where, input };
}

/** The UserParameters of the review pipelines' Request and Close actions. */
export function parseJobParameters(text: unknown): { ok: true; value: ReviewJobParameters } | { ok: false; issues: string[] } {
  if (typeof text !== 'string' || text.trim() === '') {
    return { ok: false, issues: [`UserParameters: ${show(text)} is empty; expected {"operation": "request"|"close", "branch", "commit", "repository"}. Fix: render the action with the review construct`] };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, issues: [`UserParameters: is not JSON (${(e as Error).message}); expected {"operation", "branch", "commit", "repository"}. Fix: render the action with the review construct`] };
  }
  if (!isObj(v)) return { ok: false, issues: [`UserParameters: ${show(v)} is not a JSON object; expected {"operation", "branch", "commit", "repository"}`] };
  const issues: string[] = [];
  for (const k of Object.keys(v)) {
    if (!['operation', 'branch', 'commit', 'repository'].includes(k)) issues.push(`UserParameters.${k}: is not a known field; expected only "operation", "branch", "commit", "repository". Fix: remove "${k}"`);
  }
  if (v.operation !== 'request' && v.operation !== 'close') issues.push(`UserParameters.operation: ${show(v.operation)} is not "request" or "close". Fix: render the action with the review construct`);
  for (const k of ['branch', 'commit', 'repository'] as const) {
    const s = v[k];
    if (typeof s !== 'string' || s.trim() === '') {
      issues.push(`UserParameters.${k}: ${show(s)} is missing; expected the source action's ${k === 'branch' ? 'BranchName' : k === 'commit' ? 'CommitId' : 'FullRepositoryName'} variable, resolved`);
    } else if (/#\{/.test(s)) {
      issues.push(`UserParameters.${k}: ${show(s)} is an unresolved CodePipeline variable; expected its value. Fix: give the Source action the variables namespace the parameter names (e.g. "SourceVariables")`);
    } else if (k === 'commit' && !PATTERN_RE.revision.test(s)) {
      issues.push(`UserParameters.commit: ${show(s)} is not a commit id`);
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: { operation: v.operation as 'request' | 'close', branch: v.branch as string, commit: v.commit as string, repository: v.repository as string } };
}

/** A CodePipeline Lambda invoke job of the review pipelines. */
export function parseJob(job: Obj, settings: ReviewSettings): ControllerInput {
  const jobId = str(job.id);
  if (jobId === undefined) return { kind: 'invalid', error: `CodePipeline.job.id: ${show(job.id)} is missing; expected the job id CodePipeline sends` };
  const data = isObj(job.data) ? job.data : {};
  const action = isObj(data.actionConfiguration) ? data.actionConfiguration : {};
  const configuration = isObj(action.configuration) ? action.configuration : {};
  const parsed = parseJobParameters(configuration.UserParameters);
  if (!parsed.ok) return { kind: 'invalid', jobId, error: `The review action is misconfigured: ${parsed.issues.join(' | ')}` };
  const p = parsed.value;
  if (settings.branches.includes(p.branch)) {
    return {
      kind: 'job',
      jobId,
      ignore: `branch "${p.branch}" is one of the review branches (${settings.file}: pipeline.review.branches): this execution has no pull request (the pipeline's first run, or a manual start); nothing to ${p.operation === 'request' ? 'deploy' : 'remove'}`,
    };
  }
  const reviewId = reviewIdForBranch(p.branch);
  if (p.operation === 'close') return { kind: 'job', jobId, input: { kind: 'close', reviewId, reason: 'closed' } };
  let source: BuildSource;
  if (settings.source.kind === 'codecommit') {
    source = { type: 'codecommit', commit: p.commit };
  } else {
    const artifacts = Array.isArray(data.inputArtifacts) ? data.inputArtifacts : [];
    const first = artifacts.find(isObj);
    const s3 = first && isObj(first.location) && isObj(first.location.s3Location) ? first.location.s3Location : undefined;
    const bucket = s3 ? str(s3.bucketName) : undefined;
    const key = s3 ? str(s3.objectKey) : undefined;
    if (bucket === undefined || key === undefined) {
      return { kind: 'invalid', jobId, error: `CodePipeline.job.data.inputArtifacts[0].location.s3Location: ${show(first?.location)} has no bucketName and objectKey; expected the Source action's output artifact. Fix: give the Request action the Source output as its input` };
    }
    source = { type: 's3', bucket, key };
  }
  return {
    kind: 'job',
    jobId,
    input: { kind: 'request', reviewId, commit: p.commit, sourceBranch: p.branch, source, via: 'job', repository: p.repository },
  };
}

/** The failed phase's words: `BUILD FAILED (COMMAND_EXECUTION_ERROR: …)`. */
function phaseWords(p: Obj): string {
  const context = Array.isArray(p['phase-context']) ? p['phase-context'].filter((c): c is string => typeof c === 'string' && c.trim() !== '' && c !== ': ') : [];
  return `${String(p['phase-type'])} ${String(p['phase-status'])}${context.length > 0 ? ` (${context.join('; ')})` : ''}`;
}

/**
 * How a finished review build went, from its phases: the deployment runs in BUILD, the tests in
 * POST_BUILD (only when BUILD succeeded). A BUILD that did not succeed (or a failure before it)
 * is a failed deployment; a succeeded BUILD and a failure after it is failed tests.
 */
export function buildOutcome(status: string, phases: readonly Obj[]): BuildOutcome {
  if (status === 'SUCCEEDED') return { deploy: 'success', tests: 'success' };
  const build = phases.find(p => p['phase-type'] === 'BUILD');
  const failed = phases.find(p => typeof p['phase-status'] === 'string' && p['phase-status'] !== 'SUCCEEDED');
  if (build?.['phase-status'] === 'SUCCEEDED') {
    return { deploy: 'success', tests: 'failure', detail: failed ? phaseWords(failed) : `build ${status}` };
  }
  return { deploy: 'failure', tests: 'not-run', detail: failed ? phaseWords(failed) : `build ${status} before the BUILD phase ran` };
}

/** A "CodeBuild Build State Change" event's detail. */
export function parseBuildEvent(detail: unknown, settings: ReviewSettings): ControllerInput {
  if (!isObj(detail)) return { kind: 'invalid', error: `detail: ${show(detail)} is not an object; expected the detail of a "CodeBuild Build State Change" event` };
  const project = detail['project-name'];
  if (project !== settings.buildProject) return { kind: 'ignored', reason: `build of project ${show(project)}, not the review project "${settings.buildProject}"` };
  const status = detail['build-status'];
  if (typeof status !== 'string' || status === 'IN_PROGRESS') return { kind: 'ignored', reason: `build ${show(detail['build-id'])} is ${show(status)}, not finished` };
  const arn = str(detail['build-id']);
  if (arn === undefined) return { kind: 'invalid', error: `detail.build-id: ${show(detail['build-id'])} is missing; expected the build's ARN` };
  const buildId = arn.includes(':build/') ? arn.slice(arn.indexOf(':build/') + ':build/'.length) : arn;
  const info = isObj(detail['additional-information']) ? detail['additional-information'] : {};
  const environment = isObj(info.environment) ? info.environment : {};
  const variables = Array.isArray(environment['environment-variables']) ? environment['environment-variables'].filter(isObj) : [];
  const variable = (name: string) => str(variables.find(v => v.name === name)?.value);
  const reviewId = variable(REVIEW_VARIABLES.ID);
  if (reviewId !== undefined && !REVIEW_ID_PATTERN.test(reviewId)) {
    return { kind: 'invalid', error: `build ${buildId}: ${REVIEW_VARIABLES.ID} ${show(reviewId)} is not a review id; expected a build the review controller started. Fix: start review builds only through the controller (pull requests), not by hand` };
  }
  const phases = Array.isArray(info.phases) ? info.phases.filter(isObj) : [];
  const logs = isObj(info.logs) ? str(info.logs['deep-link']) : undefined;
  const commit = variable(REVIEW_VARIABLES.COMMIT);
  const input = {
    kind: 'build-finished' as const,
    buildId,
    ...(commit !== undefined ? { commit } : {}),
    outcome: buildOutcome(status, phases),
    ...(logs !== undefined && /^https:\/\/\S+$/.test(logs) ? { logsUrl: logs } : {}),
  };
  const source = `CodeBuild ${buildId} ${status}`;
  if (reviewId === undefined) {
    return {
      kind: 'unattributed-build',
      buildId,
      source,
      input,
      unknown: `build ${buildId}: additional-information.environment.environment-variables has no ${REVIEW_VARIABLES.ID}, and no review's running build has this id; expected a build the review controller started. Fix: start review builds only through the controller (pull requests), not by hand`,
    };
  }
  return { kind: 'review', source, input: { ...input, reviewId } };
}

/** A "Review Destroy Requested" event's detail (`ReviewDestroyRequest`). */
export function parseDestroyRequest(detail: unknown, settings: ReviewSettings): ControllerInput {
  if (!isObj(detail)) return { kind: 'invalid', error: `detail: ${show(detail)} is not an object; expected {"pipeline", "reviewId", "reason", "by"}` };
  const d = detail as Partial<Record<keyof ReviewDestroyRequest, unknown>>;
  if (d.pipeline !== settings.pipeline) return { kind: 'ignored', reason: `destroy request for pipeline ${show(d.pipeline)}, not "${settings.pipeline}"` };
  const issues: string[] = [];
  if (typeof d.reviewId !== 'string' || !REVIEW_ID_PATTERN.test(d.reviewId)) issues.push(`detail.reviewId: ${show(d.reviewId)} is not a review id (e.g. "pr12")`);
  if (str(d.reason) === undefined) issues.push(`detail.reason: ${show(d.reason)} is missing; expected why the deployment is destroyed`);
  if (str(d.by) === undefined) issues.push(`detail.by: ${show(d.by)} is missing; expected the requester's IAM principal ARN`);
  if (issues.length > 0) return { kind: 'invalid', error: `"${REVIEW_DETAIL_TYPES.DESTROY_REQUESTED}" event: ${issues.join(' | ')}. Fix: request destruction through POST /reviews/destroy` };
  return {
    kind: 'review',
    source: `destroy request by ${String(d.by)}`,
    input: { kind: 'destroy', reviewId: d.reviewId as string, by: d.by as string, reason: String(d.reason).trim() },
  };
}

/** Parses `REVIEW_SETTINGS_ENV` (JSON `ReviewSettings`); a missing or malformed value is a deployment defect. */
export function reviewSettings(env: NodeJS.ProcessEnv = process.env): ReviewSettings {
  const fix = 'Fix: deploy the controller through the review construct (it writes the settings from ddk.json)';
  const v = jsonVariable(env, REVIEW_SETTINGS_ENV, 'review settings', fix);
  const issues: string[] = [];
  const s = (isObj(v) ? v : {}) as Obj;
  if (!isObj(v)) issues.push(`is ${show(v)}, not an object`);
  for (const k of ['pipeline', 'file', 'buildProject'] as const) if (str(s[k]) === undefined) issues.push(`${k}: ${show(s[k])} is not a non-empty string`);
  const e = isObj(s.environment) ? s.environment : undefined;
  if (!e || str(e.id) === undefined || typeof e.account !== 'string' || !/^\d{12}$/.test(e.account) || str(e.region) === undefined || str(e.qualifier) === undefined) {
    issues.push(`environment: ${show(s.environment)} is not {"id", "account" (12 digits), "region", "qualifier"}`);
  }
  if (!Array.isArray(s.branches) || s.branches.length === 0 || s.branches.some(b => str(b) === undefined)) issues.push(`branches: ${show(s.branches)} is not a non-empty list of branch names`);
  if (typeof s.ttlHours !== 'number' || !Number.isInteger(s.ttlHours) || s.ttlHours < 0 || s.ttlHours > 8760) issues.push(`ttlHours: ${show(s.ttlHours)} is not a whole number from 0 to 8760`);
  if (typeof s.allowForks !== 'boolean') issues.push(`allowForks: ${show(s.allowForks)} is not true or false`);
  if (typeof s.tests !== 'boolean') issues.push(`tests: ${show(s.tests)} is not true or false`);
  if (s.urlOutput !== undefined && str(s.urlOutput) === undefined) issues.push(`urlOutput: ${show(s.urlOutput)} is not a non-empty string`);
  const src = isObj(s.source) ? s.source : undefined;
  if (!src || (src.kind !== 'codecommit' && src.kind !== 'connection') || str(src.repository) === undefined) issues.push(`source: ${show(s.source)} is not {"kind": "codecommit"|"connection", "repository"}`);
  if (issues.length > 0) throw new Error(`environment variable ${REVIEW_SETTINGS_ENV}: ${issues.join('; ')}. ${fix}`);
  return v as ReviewSettings;
}
