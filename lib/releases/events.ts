import { isObj, jsonVariable, Obj, show, str } from '../input-values';
import type { ReleaseSettings } from './shared';
import { CANDIDATE_OPERATION, RELEASE_DEPLOY_ACTION_PREFIX, RELEASE_SETTINGS_ENV, RELEASE_TESTS_ACTION, SERVICE_NAME_PATTERN } from './shared';
import { PATTERN_RE } from '../status-checks/shared';

/*
 * What reaches the release function (lambda/release-events), parsed and validated (pure):
 * - a CodePipeline Lambda invoke job of a service pipeline's Candidate action
 *   ({"CodePipeline.job": {id, data: {actionConfiguration: {configuration: {UserParameters}}}}},
 *   the CodePipeline user guide's "AWS Lambda invoke action reference"; UserParameters is
 *   `CandidateParameters` as JSON);
 * - EventBridge "CodePipeline Pipeline Execution State Change", "CodePipeline Stage Execution
 *   State Change" and "CodePipeline Action Execution State Change" (source aws.codepipeline; the
 *   CodePipeline user guide's "Monitoring CodePipeline events": detail.pipeline, execution-id,
 *   start-time, state, pipeline-execution-attempt, and stage, action, type,
 *   execution-result.external-execution-summary, execution-trigger.trigger-type/trigger-detail
 *   where the level has them) of the release pipeline.
 * CodePipeline delivers these events at least once and in no guaranteed order: the parsed
 * change keeps the event's time and attempt so that progress.ts can order them.
 * Every problem names the field, the value, what was expected and the fix.
 */

/** The detail-types of CodePipeline's state-change events, by level. */
export const CODEPIPELINE_DETAIL_TYPES = {
  pipeline: 'CodePipeline Pipeline Execution State Change',
  stage: 'CodePipeline Stage Execution State Change',
  action: 'CodePipeline Action Execution State Change',
} as const;

/** The level of a CodePipeline state change. */
export type ChangeLevel = keyof typeof CODEPIPELINE_DETAIL_TYPES;

/** The states CodePipeline documents per level ("Monitoring CodePipeline events", Detail types). */
export const CODEPIPELINE_STATES: Record<ChangeLevel, readonly string[]> = {
  pipeline: ['CANCELED', 'FAILED', 'RESUMED', 'STARTED', 'STOPPED', 'STOPPING', 'SUCCEEDED', 'SUPERSEDED'],
  stage: ['CANCELED', 'FAILED', 'RESUMED', 'STARTED', 'STOPPED', 'STOPPING', 'SUCCEEDED'],
  action: ['ABANDONED', 'CANCELED', 'FAILED', 'STARTED', 'SUCCEEDED'],
};

/** One state change of the release pipeline, as progress.ts reads it. */
export interface PipelineChange {
  readonly level: ChangeLevel;
  /** The release pipeline's execution id (`detail.execution-id`). */
  readonly execution: string;
  /** `detail.state`, e.g. STARTED, SUCCEEDED, FAILED. */
  readonly state: string;
  /** The event's `time`, as ISO-8601 with milliseconds. */
  readonly time: string;
  /** `detail.pipeline-execution-attempt` (1 when absent): a stage retry raises it. */
  readonly attempt: number;
  /** `detail.start-time` (pipeline level: the execution's start). */
  readonly startTime?: string;
  /** Stage and action levels. */
  readonly stage?: string;
  /** Action level. */
  readonly action?: string;
  /** Action level: `detail.execution-result.external-execution-summary`. */
  readonly summary?: string;
  /** Pipeline level: `detail.execution-trigger` (`trigger-type`, `trigger-detail`). */
  readonly trigger?: { readonly type?: string; readonly detail?: string };
}

/** A candidate, as the Candidate action reports it. */
export interface CandidateInput {
  readonly service: string;
  readonly revision: string;
  /** The service pipeline's execution. */
  readonly execution: string;
}

/** The release function's input, parsed. */
export type ReleaseInput =
  /** A Candidate job: always answered (PutJobSuccessResult / PutJobFailureResult). */
  | { readonly kind: 'candidate'; readonly jobId: string; readonly candidate: CandidateInput }
  /** A state change of the release pipeline. */
  | { readonly kind: 'change'; readonly change: PipelineChange; readonly source: string }
  /** Not for this function (another pipeline, an action that is neither a deploy nor the tests, …). */
  | { readonly kind: 'ignored'; readonly reason: string }
  /** Malformed; `jobId` when it is a CodePipeline job (which must still be answered). */
  | { readonly kind: 'invalid'; readonly error: string; readonly jobId?: string };

function isoTime(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** Parses whatever invoked the release function. */
export function parseReleaseInput(event: unknown, settings: ReleaseSettings): ReleaseInput {
  if (!isObj(event)) {
    return { kind: 'invalid', error: `event: ${show(event)} is not an object; expected a CodePipeline job or a CodePipeline state-change event. Fix: invoke the release function only through the Candidate actions and the rule the release construct creates` };
  }
  if (isObj(event['CodePipeline.job'])) return parseCandidateJob(event['CodePipeline.job'], settings);
  const detailType = event['detail-type'];
  const level = (Object.keys(CODEPIPELINE_DETAIL_TYPES) as ChangeLevel[]).find(l => CODEPIPELINE_DETAIL_TYPES[l] === detailType);
  if (event.source !== 'aws.codepipeline' || level === undefined) {
    return {
      kind: 'invalid',
      error: `event: source ${show(event.source)} with detail-type ${show(detailType)} is not an input of the release function; expected "${Object.values(CODEPIPELINE_DETAIL_TYPES).join('", "')}" (aws.codepipeline) or a CodePipeline job. Fix: narrow the EventBridge rule that targets the release function`,
    };
  }
  return parseStateChange(level, event, settings);
}

/** A CodePipeline state-change event (any level) of the release pipeline. */
export function parseStateChange(level: ChangeLevel, event: Obj, settings: ReleaseSettings): ReleaseInput {
  const detail = event.detail;
  if (!isObj(detail)) return { kind: 'invalid', error: `detail: ${show(detail)} is not an object; expected the detail of a "${CODEPIPELINE_DETAIL_TYPES[level]}" event` };
  if (detail.pipeline !== settings.releasePipeline) {
    return { kind: 'ignored', reason: `event of pipeline ${show(detail.pipeline)}, not the release pipeline "${settings.releasePipeline}"` };
  }
  const issues: string[] = [];
  const execution = str(detail['execution-id']);
  if (execution === undefined || !PATTERN_RE.execution.test(execution)) issues.push(`detail.execution-id: ${show(detail['execution-id'])} is not a CodePipeline execution id`);
  const state = detail.state;
  if (typeof state !== 'string' || !CODEPIPELINE_STATES[level].includes(state)) {
    issues.push(`detail.state: ${show(state)} is not a ${level} state CodePipeline documents (${CODEPIPELINE_STATES[level].join(', ')})`);
  }
  const time = isoTime(event.time);
  if (time === undefined) issues.push(`time: ${show(event.time)} is not an ISO-8601 time`);
  const rawAttempt = detail['pipeline-execution-attempt'];
  if (rawAttempt !== undefined && (typeof rawAttempt !== 'number' || !Number.isFinite(rawAttempt) || rawAttempt < 0)) {
    issues.push(`detail.pipeline-execution-attempt: ${show(rawAttempt)} is not a number ≥ 0`);
  }
  const stage = str(detail.stage);
  if (level !== 'pipeline' && stage === undefined) issues.push(`detail.stage: ${show(detail.stage)} is missing; expected the stage's name`);
  const action = str(detail.action);
  if (level === 'action' && action === undefined) issues.push(`detail.action: ${show(detail.action)} is missing; expected the action's name`);
  if (issues.length > 0) {
    return { kind: 'invalid', error: `"${CODEPIPELINE_DETAIL_TYPES[level]}" event: ${issues.join(' | ')}. Fix: check the EventBridge rule's input (the release function expects the event unchanged)` };
  }
  if (level === 'action') {
    if (!settings.bracketStages.includes(stage!)) return { kind: 'ignored', reason: `action "${action}" of stage "${stage}", not a bracket stage (${settings.bracketStages.join(', ')})` };
    if (!action!.startsWith(RELEASE_DEPLOY_ACTION_PREFIX) && action !== RELEASE_TESTS_ACTION) {
      return { kind: 'ignored', reason: `action "${action}" of stage "${stage}" is neither a deploy action ("${RELEASE_DEPLOY_ACTION_PREFIX}…") nor "${RELEASE_TESTS_ACTION}"` };
    }
  }
  // the processed form of the documentation shows 0.0; an attempt is at least the first
  const attempt = typeof rawAttempt === 'number' ? Math.max(1, Math.floor(rawAttempt)) : 1;
  const result = isObj(detail['execution-result']) ? detail['execution-result'] : {};
  const trigger = isObj(detail['execution-trigger']) ? detail['execution-trigger'] : undefined;
  const startTime = level === 'pipeline' ? isoTime(detail['start-time']) : undefined;
  const change: PipelineChange = {
    level,
    execution: execution!,
    state: state as string,
    time: time!,
    attempt,
    ...(startTime !== undefined ? { startTime } : {}),
    ...(level !== 'pipeline' ? { stage } : {}),
    ...(level === 'action' ? { action } : {}),
    ...(str(result['external-execution-summary']) !== undefined ? { summary: str(result['external-execution-summary']) } : {}),
    ...(trigger !== undefined ? {
      trigger: {
        ...(str(trigger['trigger-type']) !== undefined ? { type: str(trigger['trigger-type']) } : {}),
        ...(str(trigger['trigger-detail']) !== undefined ? { detail: str(trigger['trigger-detail']) } : {}),
      },
    } : {}),
  };
  const where = level === 'pipeline' ? '' : level === 'stage' ? ` stage ${stage}` : ` action ${stage}/${action}`;
  return { kind: 'change', change, source: `${settings.releasePipeline} ${execution}${where} ${state}` };
}

/** A parsed Candidate action's UserParameters, or every problem found. */
export type ParsedCandidate = { readonly ok: true; readonly value: CandidateInput } | { readonly ok: false; readonly issues: string[] };

/** The Candidate action's UserParameters (`CandidateParameters` as JSON). */
export function parseCandidateParameters(text: unknown, settings: ReleaseSettings): ParsedCandidate {
  const expected = '{"operation": "candidate", "service", "revision", "execution"}';
  const fix = 'Fix: render the Candidate action with the release construct';
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, issues: [`UserParameters: ${show(text)} is empty; expected ${expected}. ${fix}`] };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, issues: [`UserParameters: is not JSON (${(e as Error).message}); expected ${expected}. ${fix}`] };
  }
  if (!isObj(v)) return { ok: false, issues: [`UserParameters: ${show(v)} is not a JSON object; expected ${expected}. ${fix}`] };
  const issues: string[] = [];
  for (const k of Object.keys(v)) {
    if (!['operation', 'service', 'revision', 'execution'].includes(k)) issues.push(`UserParameters.${k}: is not a known field; expected only "operation", "service", "revision", "execution". Fix: remove "${k}"`);
  }
  if (v.operation !== CANDIDATE_OPERATION) issues.push(`UserParameters.operation: ${show(v.operation)} is not "${CANDIDATE_OPERATION}". ${fix}`);
  const service = v.service;
  if (typeof service !== 'string' || !SERVICE_NAME_PATTERN.test(service)) {
    issues.push(`UserParameters.service: ${show(service)} is not a service name (lower-case letters, digits and -, starting with a letter). ${fix}`);
  } else if (!settings.services.includes(service)) {
    issues.push(`UserParameters.service: "${service}" is not a service of pipeline "${settings.pipeline}"; expected one of ${settings.services.map(s => `"${s}"`).join(', ')}. Fix: deploy the release construct again after changing pipeline.services`);
  }
  for (const [k, pattern, what] of [['revision', PATTERN_RE.revision, 'a commit id'], ['execution', PATTERN_RE.execution, 'a CodePipeline execution id']] as const) {
    const s = v[k];
    if (typeof s !== 'string' || s.trim() === '') {
      issues.push(`UserParameters.${k}: ${show(s)} is missing; expected ${what}. ${fix}`);
    } else if (/#\{/.test(s)) {
      issues.push(`UserParameters.${k}: ${show(s)} is an unresolved CodePipeline variable; expected its value. Fix: give the service's Source action the variables namespace the parameter names`);
    } else if (!pattern.test(s)) {
      issues.push(`UserParameters.${k}: ${show(s)} is not ${what}`);
    }
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: { service: service as string, revision: v.revision as string, execution: v.execution as string } };
}

/** A CodePipeline Lambda invoke job of a service pipeline's Candidate action. */
export function parseCandidateJob(job: Obj, settings: ReleaseSettings): ReleaseInput {
  const jobId = str(job.id);
  if (jobId === undefined) return { kind: 'invalid', error: `CodePipeline.job.id: ${show(job.id)} is missing; expected the job id CodePipeline sends` };
  const data = isObj(job.data) ? job.data : {};
  const action = isObj(data.actionConfiguration) ? data.actionConfiguration : {};
  const configuration = isObj(action.configuration) ? action.configuration : {};
  const parsed = parseCandidateParameters(configuration.UserParameters, settings);
  if (!parsed.ok) return { kind: 'invalid', jobId, error: `The Candidate action is misconfigured: ${parsed.issues.join(' | ')}` };
  return { kind: 'candidate', jobId, candidate: parsed.value };
}

/** Parses `RELEASE_SETTINGS_ENV` (JSON `ReleaseSettings`); a missing or malformed value is a deployment defect. */
export function releaseSettings(env: NodeJS.ProcessEnv = process.env): ReleaseSettings {
  const fix = 'Fix: deploy the release function through the release construct (it writes the settings from ddk.json)';
  const v = jsonVariable(env, RELEASE_SETTINGS_ENV, 'release settings', fix);
  const issues: string[] = [];
  const s = (isObj(v) ? v : {}) as Obj;
  if (!isObj(v)) issues.push(`is ${show(v)}, not an object`);
  for (const k of ['pipeline', 'releasePipeline'] as const) {
    if (typeof s[k] !== 'string' || !PATTERN_RE.name.test(s[k] as string)) issues.push(`${k}: ${show(s[k])} is not a pipeline name (letters, digits and . @ _ -, 1 to 100)`);
  }
  if (!Array.isArray(s.services) || s.services.length === 0 || s.services.some(x => typeof x !== 'string' || !SERVICE_NAME_PATTERN.test(x))) {
    issues.push(`services: ${show(s.services)} is not a non-empty list of service names`);
  }
  if (!Array.isArray(s.bracketStages) || s.bracketStages.length === 0 || s.bracketStages.some(x => typeof x !== 'string' || !PATTERN_RE.name.test(x))) {
    issues.push(`bracketStages: ${show(s.bracketStages)} is not a non-empty list of stage names`);
  }
  if (issues.length > 0) throw new Error(`environment variable ${RELEASE_SETTINGS_ENV}: ${issues.join('; ')}. ${fix}`);
  return v as ReleaseSettings;
}
