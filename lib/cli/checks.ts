import { existsSync } from 'fs';
import { resolve } from 'path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CliError, columns, Io, printJson, Style } from './io';
import { DEFAULT_FILE, optionalPlan, pipelineName, PipelineTargetOptions } from './project';
import { API_ENDPOINT_ENV, CHECK_STATES, CheckRecord, CheckState, ChecksResponse, hasApiRegion, resolveEndpoint, resolveSigningRegion, StatusCheckApi } from './status-check-api';
import { CONTEXT_PATTERN, NAME_PATTERN } from '../config/schema';
import type { DeliveryPlan } from '../model';
import { API_ENDPOINT_OUTPUT, PATTERNS } from '../status-checks/shared';

/** Options every status-check API command takes. */
export interface ApiOptions extends PipelineTargetOptions {
  /** API base URL; default: DDK_PIPELINES_API, else the CICD stack's output. */
  readonly endpoint?: string;
  /** The CICD stack whose output names the API; default: the app's stack, `DeliveryPlan.cicdStackName` (`<pipeline name>-pipeline`). */
  readonly stack?: string;
  /** Region to sign for. */
  readonly region?: string;
  readonly json?: boolean;
}

/**
 * The API client for a command's options (endpoint, signing region, default credential chain).
 * The endpoint is `--endpoint`, else DDK_PIPELINES_API, else the `StatusChecksApiEndpoint` output of
 * the deployed CICD stack (`--stack`, default `<pipeline name>-pipeline`, in the cicd region).
 */
export async function apiFor(options: ApiOptions, io: Io, cloudFormation?: CloudFormationClient): Promise<StatusCheckApi> {
  const given = options.endpoint ?? io.env[API_ENDPOINT_ENV];
  // ddk.json is read at most once here, and only when the endpoint or the region needs it
  let plan: DeliveryPlan | undefined | null = null;
  const planOnce = () => (plan === null ? (plan = optionalPlan(options, io.cwd, false)) : plan);
  const endpoint = given !== undefined && given.trim() !== ''
    ? resolveEndpoint(options.endpoint, io.env)
    : await endpointFromStack(options, io, cloudFormation, planOnce());
  const fallbackRegion = options.region || hasApiRegion(endpoint) ? undefined : planOnce()?.cicd.region;
  const region = resolveSigningRegion(endpoint, options.region, io.env, fallbackRegion);
  return new StatusCheckApi({ endpoint: endpoint.toString(), region });
}

/** The API URL from the deployed CICD stack's outputs. */
export async function endpointFromStack(
  options: ApiOptions, io: Io, client?: CloudFormationClient, plan = optionalPlan(options, io.cwd, false),
): Promise<URL> {
  const stack = options.stack ?? plan?.cicdStackName;
  const region = options.region ?? plan?.cicd.region;
  if (stack === undefined || region === undefined) {
    const file = options.config ?? DEFAULT_FILE;
    const why = stack !== undefined ? `no --region for the stack ${stack}`
      : existsSync(resolve(io.cwd, file)) ? `${file} is not valid (see \`ddk-pipelines validate\`), so the CICD stack is unknown`
        : 'no ddk.json to find the CICD stack from';
    throw new CliError(`no status-check API endpoint: ${why}. Fix: pass --endpoint <url>, set ${API_ENDPOINT_ENV}, or pass --stack and --region`, 2);
  }
  const cfn = client ?? new CloudFormationClient({ region });
  let value: string | undefined;
  try {
    const r = await cfn.send(new DescribeStacksCommand({ StackName: stack }));
    value = r.Stacks?.[0]?.Outputs?.find(o => o.OutputKey === API_ENDPOINT_OUTPUT)?.OutputValue;
  } catch (e: any) {
    throw new CliError(`cannot read the outputs of stack ${stack} in ${region} (${e?.name ?? 'Error'}: ${e?.message ?? e}). Fix: check your AWS credentials and region, or pass --endpoint <url>`, 1);
  }
  if (value === undefined) {
    throw new CliError(`stack ${stack} in ${region} has no output ${API_ENDPOINT_OUTPUT} (the API exists only when a stage has requiredChecks or the pipeline has a review section or services). Fix: add requiredChecks to a stage, pipeline.review or pipeline.services, and deploy; or pass --endpoint <url>`, 1);
  }
  return resolveEndpoint(value, {});
}

/** Colours a check state: success green, failure/error red, pending yellow. */
export function colourState(state: string, s: Style): string {
  if (state === 'success') return s.green(state);
  if (state === 'failure' || state === 'error') return s.red(state);
  if (state === 'pending') return s.yellow(state);
  return state;
}

function requireText(value: string | undefined, flag: string, what: string): string {
  if (value === undefined || value.trim() === '') throw new CliError(`${flag} is required: ${what}`, 2);
  return value;
}

/** Checks a status-check context (`system/name`). */
export function checkContext(context: string, flag = '--context'): string {
  if (!CONTEXT_PATTERN.test(context)) {
    throw new CliError(`${flag}: "${context}" is not a status-check context; expected "system/name" such as "ci/integration" (letters, digits, . _ - and /). Fix: name the check as system/name`, 2);
  }
  return context;
}

function checkStage(stage: string | undefined): string {
  const s = requireText(stage, '--stage', 'the name of the pipeline stage');
  if (!NAME_PATTERN.test(s)) throw new CliError(`--stage: "${s}" is not a stage name; expected letters, digits and . @ _ - (1 to 100 characters)`, 2);
  return s;
}

/** Options of `checks report`. */
export interface ReportOptions extends ApiOptions {
  readonly revision?: string;
  readonly context?: string;
  readonly state?: string;
  readonly targetUrl?: string;
  readonly description?: string;
  readonly stage?: string;
  readonly propagate?: boolean;
  /**
   * Sent as `clientRequestId`: the API records a report with the same id from the same principal
   * once, so re-running a CI job that passes its job id does not report twice.
   * @default - none: every run records a report
   */
  readonly clientRequestId?: string;
}

/** `checks report`: records the state of one check for one revision. */
export async function reportCommand(options: ReportOptions, io: Io): Promise<number> {
  const pipeline = pipelineName(options, io.cwd);
  const revision = requireText(options.revision, '--revision', 'the source commit id the check is about');
  const context = checkContext(requireText(options.context, '--context', 'the check\'s context, e.g. ci/integration'));
  const state = requireText(options.state, '--state', `one of ${CHECK_STATES.join(', ')}`);
  if (!(CHECK_STATES as readonly string[]).includes(state)) {
    throw new CliError(`--state: "${state}" is not a check state; expected one of ${CHECK_STATES.join(', ')}`, 2);
  }
  if (options.targetUrl !== undefined && !/^https?:\/\/\S+$/.test(options.targetUrl)) {
    throw new CliError(`--target-url: "${options.targetUrl}" is not an http(s) URL. Fix: pass the link to the check's details, e.g. https://ci.example.com/build/42`, 2);
  }
  const stage = options.stage === undefined ? undefined : checkStage(options.stage);
  const requestId = options.clientRequestId;
  if (requestId !== undefined && !new RegExp(PATTERNS.clientRequestId).test(requestId)) {
    throw new CliError(`--client-request-id: "${requestId}" is not a request id; expected letters, digits and . _ : - (1 to 128 characters). Fix: pass e.g. your CI job id, the same on every retry of this report`, 2);
  }
  const api = await apiFor(options, io);
  const body = {
    pipeline,
    revision,
    context,
    state: state as CheckState,
    ...(options.targetUrl !== undefined ? { targetUrl: options.targetUrl } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(stage !== undefined ? { stage } : {}),
    ...(options.propagate ? { propagate: true } : {}),
    ...(requestId !== undefined ? { clientRequestId: requestId } : {}),
  };
  const response = await io.progress(`reporting ${context}=${state}`, () => api.reportCheck(body));
  if (options.json) {printJson(io, response ?? body);} else {
    const replayed = (response as { replayed?: unknown } | undefined)?.replayed === true;
    const what = `${io.style.bold(context)}: ${colourState(state, io.style)} for ${pipeline} @ ${revision}${stage ? ` (stage ${stage})` : ''}`;
    io.out(replayed ? `already recorded ${what} (same --client-request-id; nothing new)\n` : `recorded ${what}\n`);
  }
  return 0;
}

/** Options of `checks list`. */
export interface ListOptions extends ApiOptions {
  readonly revision?: string;
  readonly history?: boolean;
}

/** Renders checks as a table: context, state, stage, description, link. */
export function renderChecks(checks: CheckRecord[], s: Style, withTime = false): string[] {
  const header = ['CONTEXT', 'STATE', 'STAGE', ...(withTime ? ['WHEN', 'BY'] : []), 'DESCRIPTION', 'LINK'].map(h => s.dim(h));
  const rows = checks.map(c => [
    String(c.context ?? ''),
    colourState(String(c.state ?? ''), s),
    String(c.stage ?? '-'),
    ...(withTime ? [String(c.updatedAt ?? c.reportedAt ?? c.at ?? c.timestamp ?? '-'), String(c.reportedBy ?? c.by ?? c.principal ?? '-')] : []),
    String(c.description ?? ''),
    String(c.targetUrl ?? ''),
  ]);
  return columns([header, ...rows]);
}

/** `checks list`: the latest check per context of a revision (and the history with --history). */
export async function listCommand(options: ListOptions, io: Io): Promise<number> {
  const pipeline = pipelineName(options, io.cwd);
  const revision = requireText(options.revision, '--revision', 'the source commit id');
  const api = await apiFor(options, io);
  const r: ChecksResponse = await io.progress('reading checks', () => api.listChecks(pipeline, revision));
  if (options.json) {
    printJson(io, r);
    return 0;
  }
  if (r.checks.length === 0) {
    io.out(`no checks reported for ${pipeline} @ ${revision}\n`);
  } else {
    io.out(`checks of ${io.style.bold(pipeline)} @ ${revision}\n${renderChecks(r.checks, io.style).join('\n')}\n`);
  }
  if (options.history) {
    io.out(`\nhistory (${r.history.length} report${r.history.length === 1 ? '' : 's'})\n`);
    if (r.history.length > 0) io.out(`${renderChecks(r.history, io.style, true).join('\n')}\n`);
  }
  return 0;
}

/** Options of `checks require` and `checks unrequire`. */
export interface RequirementOptions extends ApiOptions {
  readonly stage?: string;
}

/** `checks require|unrequire`: adds or removes required contexts of a stage at run time. */
export async function requirementCommand(mode: 'add' | 'remove', contexts: string[], options: RequirementOptions, io: Io): Promise<number> {
  const pipeline = pipelineName(options, io.cwd);
  const stage = checkStage(options.stage);
  if (contexts.length === 0) throw new CliError('name at least one context, e.g. ci/integration', 2);
  contexts.forEach(c => checkContext(c, 'context'));
  const api = await apiFor(options, io);
  const response: any = await io.progress('changing required checks', () => api.changeRequirements(pipeline, stage, { [mode]: contexts }));
  if (options.json) {
    printJson(io, response ?? { [mode]: contexts });
    return 0;
  }
  io.out(`${mode === 'add' ? 'required' : 'no longer required'} in ${pipeline}/${stage}: ${contexts.join(', ')}\n`);
  const now = [response?.required, response?.requiredChecks, response?.contexts].find(Array.isArray);
  if (now) io.out(`required checks of ${pipeline}/${stage} now: ${now.length > 0 ? now.join(', ') : '(none)'}\n`);
  return 0;
}

/** Options of `override`. */
export interface OverrideOptions extends ApiOptions {
  readonly stage?: string;
  readonly execution?: string;
  readonly reason?: string;
}

/** `override`: records a human override that lets a gate waiting on an `error` check pass. */
export async function overrideCommand(options: OverrideOptions, io: Io): Promise<number> {
  const pipeline = pipelineName(options, io.cwd);
  const stage = checkStage(options.stage);
  const execution = requireText(options.execution, '--execution', 'the pipeline execution id the gate waits for (see `ddk-pipelines status`)');
  const reason = requireText(options.reason, '--reason', 'why the error may be overridden (kept with who and when)');
  const api = await apiFor(options, io);
  const response = await io.progress('recording the override', () => api.override({ pipeline, stage, execution, reason }));
  if (options.json) printJson(io, response ?? { pipeline, stage, execution, reason });
  else io.out(`override recorded for ${pipeline}/${stage}, execution ${execution}: "${reason}"\n`);
  return 0;
}
