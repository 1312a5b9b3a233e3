import { show } from '../input-values';
import { CHECK_STATES, CheckReport, CheckState, GateParameters, isGateTimeoutMinutes, LIMITS, PATTERN_RE, withoutUndefined } from './shared';
import { RELEASE_ID_PATTERN } from '../releases/shared';
import { REVIEW_ID_PATTERN } from '../reviews/shared';
import { CONDITION_OVERRIDE_REASON_LENGTH, EXECUTION_ID_PATTERN } from '../safety/shared';
import type { ConditionOverrideRequest } from '../safety/shared';

/*
 * Parsing and validation of what reaches the handlers: API request bodies and query strings,
 * and the gate action's UserParameters. Pure; every problem is reported, each naming the field,
 * the value received, what was expected and the fix.
 */

/** A parse result: the value, or every problem found. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly issues: string[] };

/** `POST /overrides` body. */
export interface OverrideRequest {
  readonly pipeline: string;
  readonly stage: string;
  readonly execution: string;
  readonly reason: string;
}

/** `PUT /requirements/{pipeline}/{stage}` path and body. */
export interface RequirementsRequest {
  readonly pipeline: string;
  readonly stage: string;
  readonly add: string[];
  readonly remove: string[];
}

/** `GET /checks` query. */
export interface ChecksQuery {
  readonly pipeline: string;
  readonly revision: string;
  /** Also decide the stage's gate for the revision (without overrides). */
  readonly stage?: string;
}

/** `GET /reviews` query. */
export interface ReviewsQuery {
  readonly pipeline: string;
}

/** `GET /releases` and `GET /releases/candidates` query. */
export interface ReleasesQuery {
  readonly pipeline: string;
}

/** `GET /releases/{id}` path and query. */
export interface ReleaseQuery {
  readonly pipeline: string;
  readonly releaseId: string;
}

/** `POST /reviews/destroy` body (the requester is the caller's IAM principal, never a body field). */
export interface ReviewDestroyBody {
  readonly pipeline: string;
  readonly reviewId: string;
  readonly reason: string;
}

/** Fields the server sets; a body that carries them is refused, never trusted. */
const SERVER_FIELDS: Record<string, string> = {
  reportedBy: 'the reporter is the request\'s IAM principal (SigV4 signature), never a body field',
  by: 'the author is the request\'s IAM principal (SigV4 signature), never a body field',
  reportedAt: 'the server records the time',
  at: 'the server records the time',
  sequence: 'the server orders reports',
  id: 'the server assigns ids (send clientRequestId to make retries idempotent)',
  conditionType: 'POST /conditions/override overrides the BEFORE_ENTRY condition (the deployment windows), nothing else',
};

class Issues {
  public readonly list: string[] = [];
  public add(path: string, value: unknown, problem: string, expected: string, fix: string): void {
    const shown = value === undefined ? '' : `${show(value)} `;
    this.list.push(`${path}: ${shown}${problem}; expected ${expected}. Fix: ${fix}`);
  }
}

function kind_(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** Parses a JSON object body. */
export function parseJsonObject(text: string | null | undefined, where = 'body'): Parsed<Record<string, unknown>> {
  if (text === null || text === undefined || text.trim() === '') {
    return { ok: false, issues: [`${where}: is empty; expected a JSON object. Fix: send a JSON body with Content-Type: application/json`] };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, issues: [`${where}: is not valid JSON (${(e as Error).message}); expected a JSON object. Fix: send a JSON object, e.g. {"pipeline": "myapp", ...}`] };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { ok: false, issues: [`${where}: is ${kind_(v)}; expected a JSON object. Fix: send a JSON object, e.g. {"pipeline": "myapp", ...}`] };
  }
  return { ok: true, value: v as Record<string, unknown> };
}

function unknownFields(issues: Issues, where: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (allowed.includes(k)) continue;
    const why = SERVER_FIELDS[k];
    if (why) issues.add(`${where}.${k}`, undefined, 'is set by the server', `no "${k}" in the body (${why})`, `remove "${k}"`);
    else issues.add(`${where}.${k}`, undefined, 'is not a known field', `only ${allowed.map(a => `"${a}"`).join(', ')}`, `remove "${k}" or correct its spelling`);
  }
}

type FieldSpec = { pattern?: RegExp; maxLength?: number; expected: string; fix: string };

const NAME: FieldSpec = { pattern: PATTERN_RE.name, expected: 'letters, digits and . @ _ - (1 to 100 characters)', fix: 'use the name from ddk.json' };
const SPECS: Record<string, FieldSpec> = {
  pipeline: { ...NAME, fix: 'use the pipeline name from ddk.json (pipeline.name)' },
  stage: { ...NAME, fix: 'use a stage name from ddk.json (pipeline.stages[].name)' },
  revision: { pattern: PATTERN_RE.revision, expected: 'a source revision such as a 40-character commit id (letters, digits and . _ : / @ + = -, at most 256)', fix: 'send the commit id the pipeline execution carries' },
  context: { pattern: PATTERN_RE.context, maxLength: LIMITS.context, expected: `a "system/name" context such as "ci/integration" (at most ${LIMITS.context} characters)`, fix: 'name the check as system/name' },
  execution: { pattern: PATTERN_RE.execution, expected: 'a CodePipeline execution id (letters, digits and -)', fix: 'copy the execution id from the pipeline (e.g. aws codepipeline list-pipeline-executions)' },
  executionId: { pattern: PATTERN_RE.execution, expected: 'a CodePipeline execution id (letters, digits and -)', fix: 'render the action with GateStep (it passes #{codepipeline.PipelineExecutionId})' },
  clientRequestId: { pattern: PATTERN_RE.clientRequestId, expected: 'letters, digits and . _ : - (1 to 128 characters)', fix: 'send an id that is unique per report and the same on retries' },
  targetUrl: { pattern: PATTERN_RE.url, maxLength: LIMITS.targetUrl, expected: `an http(s) URL of at most ${LIMITS.targetUrl} characters`, fix: 'link to the check\'s build or report page' },
  description: { maxLength: LIMITS.description, expected: `a text of at most ${LIMITS.description} characters`, fix: 'shorten the description' },
  reason: { maxLength: LIMITS.reason, expected: `a non-empty text of at most ${LIMITS.reason} characters`, fix: 'say why (for an override: why the error may be ignored; for a destroy: why the deployment goes)' },
  releaseId: { pattern: RELEASE_ID_PATTERN, expected: 'a release id such as "r-20261129-143000-1a2b"', fix: 'use an id that GET /releases lists (ddk-pipelines release list)' },
  reviewId: { pattern: REVIEW_ID_PATTERN, expected: 'a review id: lower-case letters, digits and -, starting with a letter, at most 32 characters (e.g. "pr12")', fix: 'use an id that GET /reviews lists (ddk-pipelines reviews)' },
};

function str(
  issues: Issues, where: string, obj: Record<string, unknown>, field: string, required: boolean, spec: FieldSpec = SPECS[field],
): string | undefined {
  return checkString(issues, `${where}.${field}`, obj[field], field, required, spec);
}

/** Checks one string against the spec of `kind` (a key of SPECS, unless `spec` is given), reporting under `path`. */
function checkString(issues: Issues, path: string, v: unknown, kind: string, required: boolean, spec: FieldSpec = SPECS[kind]): string | undefined {
  if (v === undefined || v === null) {
    if (required) issues.add(path, undefined, 'is missing', spec.expected, `add "${kind}"`);
    return undefined;
  }
  if (typeof v !== 'string') {
    issues.add(path, v, `is ${kind_(v)}`, `a string: ${spec.expected}`, `send "${kind}" as a string`);
    return undefined;
  }
  if (v.trim() === '') {
    issues.add(path, v, 'is empty', spec.expected, spec.fix);
    return undefined;
  }
  const tooLong = spec.maxLength !== undefined && v.length > spec.maxLength;
  if (tooLong || (spec.pattern && !spec.pattern.test(v))) {
    issues.add(path, v, tooLong ? `is too long (${v.length} characters)` : `is not a valid ${kind}`, spec.expected, spec.fix);
    return undefined;
  }
  return v;
}

function contexts(issues: Issues, path: string, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    issues.add(path, v, `is ${kind_(v)}`, 'a list of "system/name" contexts', `write ${path.split('.').pop()} as ["ci/integration"]`);
    return [];
  }
  const out: string[] = [];
  v.forEach((c, i) => {
    const s = checkString(issues, `${path}[${i}]`, c, 'context', true);
    if (s !== undefined) out.push(s);
  });
  return out;
}

/** Validates a `POST /checks` body. */
export function parseCheckReport(obj: Record<string, unknown>): Parsed<CheckReport> {
  const issues = new Issues();
  const where = 'body';
  unknownFields(issues, where, obj, ['pipeline', 'revision', 'context', 'state', 'targetUrl', 'description', 'stage', 'propagate', 'clientRequestId']);
  const pipeline = str(issues, where, obj, 'pipeline', true);
  const revision = str(issues, where, obj, 'revision', true);
  const context = str(issues, where, obj, 'context', true);
  const state = obj.state;
  if (state === undefined || state === null) {
    issues.add('body.state', undefined, 'is missing', `one of ${CHECK_STATES.map(s => `"${s}"`).join(', ')}`, 'add "state"');
  } else if (typeof state !== 'string' || !(CHECK_STATES as readonly string[]).includes(state)) {
    issues.add('body.state', state, 'is not a check state', `one of ${CHECK_STATES.map(s => `"${s}"`).join(', ')}`, 'send one of them ("error" means the check could not run and waits for an override)');
  }
  const targetUrl = str(issues, where, obj, 'targetUrl', false);
  const description = str(issues, where, obj, 'description', false);
  const stage = str(issues, where, obj, 'stage', false);
  const clientRequestId = str(issues, where, obj, 'clientRequestId', false);
  const propagate = obj.propagate;
  if (propagate !== undefined && typeof propagate !== 'boolean') {
    issues.add('body.propagate', propagate, `is ${kind_(propagate)}`, 'true or false', 'send "propagate": true to comment on the commit');
  }
  if (issues.list.length > 0) return { ok: false, issues: issues.list };
  return {
    ok: true,
    value: withoutUndefined({
      pipeline: pipeline!,
      revision: revision!,
      context: context!,
      state: state as CheckState,
      targetUrl,
      description,
      stage,
      clientRequestId,
      propagate: propagate as boolean | undefined,
    }),
  };
}

/** Validates a `PUT /requirements/{pipeline}/{stage}` request. */
export function parseRequirementsRequest(
  path: Record<string, string | undefined> | null | undefined,
  obj: Record<string, unknown>,
): Parsed<RequirementsRequest> {
  const issues = new Issues();
  const p = path ?? {};
  const pipeline = str(issues, 'path', p, 'pipeline', true);
  const stage = str(issues, 'path', p, 'stage', true);
  unknownFields(issues, 'body', obj, ['add', 'remove']);
  const before = issues.list.length;
  const add = contexts(issues, 'body.add', obj.add);
  const remove = contexts(issues, 'body.remove', obj.remove);
  if (issues.list.length === before) {
    if (add.length + remove.length === 0) {
      issues.add('body', obj, 'changes nothing', 'at least one context in "add" or "remove"', 'send {"add": ["ci/integration"]} or {"remove": ["ci/integration"]}');
    } else if (add.length + remove.length > LIMITS.contextsPerChange) {
      issues.add('body', undefined, `names ${add.length + remove.length} contexts`, `at most ${LIMITS.contextsPerChange} per request`, 'split the change into several requests');
    }
    for (const c of add.filter(x => remove.includes(x))) {
      issues.add('body', c, 'is both in "add" and in "remove"', 'each context in one list', `keep "${c}" in one of the two lists`);
    }
  }
  if (issues.list.length > 0) return { ok: false, issues: issues.list };
  return { ok: true, value: { pipeline: pipeline!, stage: stage!, add: [...new Set(add)], remove: [...new Set(remove)] } };
}

/** Validates a `POST /overrides` body. */
export function parseOverrideRequest(obj: Record<string, unknown>): Parsed<OverrideRequest> {
  const issues = new Issues();
  unknownFields(issues, 'body', obj, ['pipeline', 'stage', 'execution', 'reason']);
  const pipeline = str(issues, 'body', obj, 'pipeline', true);
  const stage = str(issues, 'body', obj, 'stage', true);
  const execution = str(issues, 'body', obj, 'execution', true);
  const reason = str(issues, 'body', obj, 'reason', true);
  if (issues.list.length > 0) return { ok: false, issues: issues.list };
  return { ok: true, value: { pipeline: pipeline!, stage: stage!, execution: execution!, reason: reason!.trim() } };
}

export { CONDITION_OVERRIDE_REASON_LENGTH };

/** `POST /conditions/override` fields whose rules differ from the other routes'. */
const CONDITION_SPECS: Record<'executionId' | 'reason', FieldSpec> = {
  // OverrideStageCondition's pipelineExecutionId pattern
  executionId: {
    pattern: EXECUTION_ID_PATTERN,
    expected: 'a CodePipeline pipeline execution id (8-4-4-4-12 lower-case hex digits)',
    fix: 'copy the id of the execution waiting for the window (ddk-pipelines status, or aws codepipeline get-pipeline-state)',
  },
  reason: {
    maxLength: CONDITION_OVERRIDE_REASON_LENGTH,
    expected: `a non-empty text of at most ${CONDITION_OVERRIDE_REASON_LENGTH} characters`,
    fix: 'say why the window is overridden (it is kept with who and when)',
  },
};

/** Validates a `POST /conditions/override` body (the caller, `by`, is the request's IAM principal). */
export function parseConditionOverrideRequest(obj: Record<string, unknown>): Parsed<ConditionOverrideRequest> {
  const issues = new Issues();
  unknownFields(issues, 'body', obj, ['pipeline', 'stage', 'executionId', 'reason']);
  const pipeline = str(issues, 'body', obj, 'pipeline', true);
  const stage = str(issues, 'body', obj, 'stage', true);
  const executionId = str(issues, 'body', obj, 'executionId', true, CONDITION_SPECS.executionId);
  const reason = str(issues, 'body', obj, 'reason', true, CONDITION_SPECS.reason);
  if (issues.list.length > 0) return { ok: false, issues: issues.list };
  return { ok: true, value: { pipeline: pipeline!, stage: stage!, executionId: executionId!, reason: reason!.trim() } };
}

/** Validates a `GET /checks` query string. */
export function parseChecksQuery(query: Record<string, string | undefined> | null | undefined): Parsed<ChecksQuery> {
  const issues = new Issues();
  const q = query ?? {};
  unknownFields(issues, 'query', q, ['pipeline', 'revision', 'stage']);
  const pipeline = str(issues, 'query', q, 'pipeline', true);
  const revision = str(issues, 'query', q, 'revision', true);
  const stage = str(issues, 'query', q, 'stage', false);
  if (issues.list.length > 0) return { ok: false, issues: issues.list };
  return { ok: true, value: withoutUndefined({ pipeline: pipeline!, revision: revision!, stage }) };
}

/** Validates the gate action's UserParameters (JSON text). */
export function parseGateParameters(text: string | undefined): Parsed<GateParameters> {
  const parsed = parseJsonObject(text, 'UserParameters');
  if (!parsed.ok) return parsed;
  const obj = parsed.value;
  const issues = new Issues();
  const where = 'UserParameters';
  unknownFields(issues, where, obj, ['pipeline', 'stage', 'revision', 'executionId', 'timeoutMinutes']);
  const pipeline = str(issues, where, obj, 'pipeline', true);
  const stage = str(issues, where, obj, 'stage', true);
  const revision = str(issues, where, obj, 'revision', true);
  const executionId = str(issues, where, obj, 'executionId', true);
  const t = obj.timeoutMinutes;
  if (!isGateTimeoutMinutes(t)) {
    issues.add(`${where}.timeoutMinutes`, t, t === undefined ? 'is missing' : 'is not a whole number of minutes in range', `an integer from 1 to ${LIMITS.maxGateTimeoutMinutes}`, 'render the action with GateStep and a valid timeout');
  }
  if (issues.list.length > 0) {
    // a CodePipeline variable that did not resolve is the likeliest cause: say so
    const unresolved = ['revision', 'executionId'].filter(k => typeof obj[k] === 'string' && /#\{/.test(obj[k] as string));
    const hint = unresolved.map(k => `UserParameters.${k}: ${show(obj[k])} is an unresolved CodePipeline variable; expected its value. Fix: give the source action a variables namespace (GateStep's revision must come from the pipeline's source, e.g. source.sourceAttribute('CommitId'))`);
    return { ok: false, issues: [...hint, ...issues.list.filter(l => !unresolved.some(k => l.startsWith(`${where}.${k}:`)))] };
  }
  return {
    ok: true,
    value: { pipeline: pipeline!, stage: stage!, revision: revision!, executionId: executionId!, timeoutMinutes: t as number },
  };
}

/** Validates a `GET /reviews` query string. */
export function parseReviewsQuery(query: Record<string, string | undefined> | null | undefined): Parsed<ReviewsQuery> {
  const issues = new Issues();
  const q = query ?? {};
  unknownFields(issues, 'query', q, ['pipeline']);
  const pipeline = str(issues, 'query', q, 'pipeline', true);
  if (issues.list.length > 0) return { ok: false, issues: issues.list };
  return { ok: true, value: { pipeline: pipeline! } };
}

/** Validates a `POST /reviews/destroy` body. */
export function parseReviewDestroyRequest(obj: Record<string, unknown>): Parsed<ReviewDestroyBody> {
  const issues = new Issues();
  unknownFields(issues, 'body', obj, ['pipeline', 'reviewId', 'reason']);
  const pipeline = str(issues, 'body', obj, 'pipeline', true);
  const reviewId = str(issues, 'body', obj, 'reviewId', true);
  const reason = str(issues, 'body', obj, 'reason', true);
  if (issues.list.length > 0) return { ok: false, issues: issues.list };
  return { ok: true, value: { pipeline: pipeline!, reviewId: reviewId!, reason: reason!.trim() } };
}

/** Validates a `GET /releases` or `GET /releases/candidates` query string. */
export function parseReleasesQuery(query: Record<string, string | undefined> | null | undefined): Parsed<ReleasesQuery> {
  const issues = new Issues();
  const q = query ?? {};
  unknownFields(issues, 'query', q, ['pipeline']);
  const pipeline = str(issues, 'query', q, 'pipeline', true);
  if (issues.list.length > 0) return { ok: false, issues: issues.list };
  return { ok: true, value: { pipeline: pipeline! } };
}

/** Validates a `GET /releases/{id}` request (the id in the path, the pipeline in the query string). */
export function parseReleaseQuery(
  path: Record<string, string | undefined> | null | undefined,
  query: Record<string, string | undefined> | null | undefined,
): Parsed<ReleaseQuery> {
  const issues = new Issues();
  const q = query ?? {};
  unknownFields(issues, 'query', q, ['pipeline']);
  const pipeline = str(issues, 'query', q, 'pipeline', true);
  const releaseId = checkString(issues, 'path.id', (path ?? {}).id, 'releaseId', true);
  if (issues.list.length > 0) return { ok: false, issues: issues.list };
  return { ok: true, value: { pipeline: pipeline!, releaseId: releaseId! } };
}
