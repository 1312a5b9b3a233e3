/* eslint-disable import/no-extraneous-dependencies -- the CLI is bundled into dist/cli by esbuild; the library never loads this module */
import { randomUUID } from 'crypto';
import { CodePipelineClient, SourceRevisionType, StartPipelineExecutionCommand, StartPipelineExecutionInput } from '@aws-sdk/client-codepipeline';
/* eslint-enable import/no-extraneous-dependencies */
import { callerIdentity } from './caller-identity';
import { ApiOptions, apiFor, colourState } from './checks';
import { CliError, columns, Io, pad, printJson, Style } from './io';
import { aws, colourStatus, PipelineContext } from './pipeline-ops';
import { commandTarget, CommandTarget, optionalPlan } from './project';
import { age } from './reviews';
import { CheckRecord, segment, StatusCheckApi } from './status-check-api';
import { didYouMean } from '../config/issues';
import type { DeliveryPlan } from '../model';
import {
  newReleaseId,
  RELEASE_BY_VARIABLE,
  RELEASE_DETAIL_TYPES,
  RELEASE_ID_PATTERN,
  RELEASE_ID_VARIABLE,
  ReleaseCandidate,
  ReleaseEventRecord,
  ReleaseMember,
  ReleaseRecord,
  releasePipelineName,
  servicePipelineName,
  serviceSourceActionName,
} from '../releases/shared';

/*
 * `release start|list|status|events`: releases of a pipeline of services (release brackets).
 * `start` pins one exact commit per service and starts the release pipeline (`<name>-release`)
 * with CodePipeline V2's source-revision overrides; the others read the release records through
 * the status-check API (SigV4-signed, as the checks and reviews commands):
 * `GET /releases/candidates?pipeline=` → {candidates}, `GET /releases?pipeline=` → {releases},
 * `GET /releases/{id}?pipeline=` → {release, events}.
 */

/** Options every release command takes. */
export interface ReleaseOptions extends ApiOptions {}

/** Options of `release start`. */
export interface ReleaseStartOptions extends ReleaseOptions {
  /**
   * `<service>=<commit>` pairs (`--service`, repeatable).
   *
   * @default - every service takes its latest candidate
   */
  readonly service?: string[];
  /**
   * Print what would be started; CodePipeline is not called.
   *
   * @default false
   */
  readonly dryRun?: boolean;
}

/**
 * StartPipelineExecution's documented limits: `sourceRevisions` holds at most 50 overrides, a
 * pipeline variable's value 1 to 1000 characters, `clientRequestToken` 1 to 128 of
 * `[a-zA-Z0-9-]` (CodePipeline API Reference: StartPipelineExecution, SourceRevisionOverride,
 * PipelineVariable).
 */
export const START_LIMITS = { sourceRevisions: 50, variableValue: 1000, clientRequestToken: /^[a-zA-Z0-9-]{1,128}$/ } as const;

/** A full Git commit id: 40 hex characters (SHA-1), or 64 (SHA-256 repositories). */
const FULL_COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/** A member of a release to start, and where its revision came from. */
export interface PlannedMember extends ReleaseMember {
  /** `given`: a `--service` pair; `candidate`: the service's latest candidate. */
  readonly from: 'given' | 'candidate';
  /** The candidate, when the revision is one. */
  readonly candidate?: ReleaseCandidate;
}

type ReleaseTarget = CommandTarget<ReleaseOptions>;

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The services of a plan (`pipeline.services`), in ddk.json's order; empty for a pipeline without services. */
export function planServiceNames(plan: DeliveryPlan): string[] {
  return plan.services.map(s => s.name);
}

/** The error for a pipeline without services. */
function noServices(target: { pipeline: string; file: string }, command: string): CliError {
  return new CliError(`${command}: ${target.file} has no pipeline.services, so ${target.pipeline} has no releases: a release pins one commit per service `
    + 'and moves them through the bracket stages together. Fix: add "services": {"<name>": {"source": {…}}} to "pipeline" in '
    + `${target.file}, mark the first stage they are released together from with "bracket": true, and deploy the pipeline (README: Release brackets)`, 2);
}

/**
 * The `--service <service>=<commit>` pairs, checked against the plan's services: every problem
 * (a malformed pair, an unknown service, a commit that is not a full commit id, a service given
 * two commits) in one usage error.
 */
export function parseServiceArgs(args: readonly string[], services: readonly string[], file: string): Map<string, string> {
  const given = new Map<string, string>();
  const problems: string[] = [];
  const known = services.map(s => `"${s}"`).join(', ');
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const name = eq < 0 ? '' : arg.slice(0, eq).trim();
    const commit = eq < 0 ? '' : arg.slice(eq + 1).trim();
    if (name === '' || commit === '') {
      problems.push(`--service "${arg}": expected <service>=<commit>, e.g. --service ${services[0] ?? 'backend'}=<the commit's 40 hex characters>`);
      continue;
    }
    if (!services.includes(name)) {
      problems.push(`--service ${arg}: ${file} has no service "${name}"${didYouMean(name, services)}; its services (pipeline.services) are ${known}`);
      continue;
    }
    if (!FULL_COMMIT.test(commit)) {
      problems.push(`--service ${arg}: "${commit}" is not a full commit id; expected the 40 hex characters of a Git commit `
        + `(a release pins exact revisions; \`git rev-parse ${commit}\` in the repository of ${name} prints it)`);
      continue;
    }
    const previous = given.get(name);
    if (previous !== undefined && previous !== commit.toLowerCase()) {
      problems.push(`--service ${name} is given twice, ${previous} and ${commit}; a release has one revision per service`);
      continue;
    }
    given.set(name, commit.toLowerCase());
  }
  if (problems.length === 1) throw new CliError(`${problems[0]}. Fix: correct --service`, 2);
  if (problems.length > 1) throw new CliError(`${problems.length} problems with --service:\n${problems.map(p => `  - ${p}`).join('\n')}\nFix: correct them`, 2);
  return given;
}

/** The newest candidate of each service (by `recordedAt`), ignoring entries without a service and a revision. */
export function latestCandidates(candidates: readonly unknown[]): Map<string, ReleaseCandidate> {
  const out = new Map<string, ReleaseCandidate>();
  for (const c of candidates) {
    if (!isRecord(c) || typeof c.service !== 'string' || typeof c.revision !== 'string' || c.revision === '') continue;
    const candidate = c as unknown as ReleaseCandidate;
    const seen = out.get(candidate.service);
    if (seen === undefined || String(candidate.recordedAt ?? '') > String(seen.recordedAt ?? '')) out.set(candidate.service, candidate);
  }
  return out;
}

/**
 * The members of a release: every service at its given commit, else at its latest candidate.
 *
 * @throws CliError naming every service with neither, and how to give one
 */
export function resolveMembers(
  pipeline: string, services: readonly string[], given: Map<string, string>, candidates: Map<string, ReleaseCandidate>,
): PlannedMember[] {
  const missing = services.filter(s => !given.has(s) && !candidates.has(s));
  if (missing.length > 0) {
    const which = missing.map(s => `${s} (no revision has passed its pipeline ${servicePipelineName(pipeline, s)} yet)`).join(', ');
    throw new CliError(`no revision for ${missing.length === 1 ? 'service' : 'services'} ${which}: a service left out of --service takes its latest candidate, `
      + 'a revision that passed its last per-service stage (recorded in the Candidate stage of its pipeline). '
      + `Fix: pass ${missing.map(s => `--service ${s}=<commit>`).join(' ')}, or start the release when ${missing.length === 1 ? 'its pipeline has' : 'their pipelines have'} passed a revision`);
  }
  return services.map(service => {
    const commit = given.get(service);
    if (commit !== undefined) return { service, revision: commit, from: 'given' as const };
    const candidate = candidates.get(service)!;
    return { service, revision: candidate.revision, from: 'candidate' as const, candidate };
  });
}

/**
 * The StartPipelineExecution request of a release: a COMMIT_ID override of every service's
 * source action, the ReleaseId and ReleaseStartedBy variables, and the release id as the
 * client request token.
 *
 * @throws CliError when the request would exceed StartPipelineExecution's documented limits
 */
export function startRequest(
  releasePipeline: string, members: readonly ReleaseMember[], releaseId: string, startedBy: string,
): StartPipelineExecutionInput {
  if (members.length > START_LIMITS.sourceRevisions) {
    throw new CliError(`a release of ${members.length} services needs ${members.length} source revision overrides; StartPipelineExecution takes at most `
      + `${START_LIMITS.sourceRevisions}. Fix: split the services into pipelines of at most ${START_LIMITS.sourceRevisions}`);
  }
  if (startedBy.length > START_LIMITS.variableValue) {
    throw new CliError(`the caller's ARN has ${startedBy.length} characters; the ${RELEASE_BY_VARIABLE} variable takes at most ${START_LIMITS.variableValue}. `
      + 'Fix: start the release with a principal of a shorter ARN (a role session)');
  }
  if (!START_LIMITS.clientRequestToken.test(releaseId)) {
    throw new CliError(`release id "${releaseId}" cannot be a client request token ([a-zA-Z0-9-], 1 to 128 characters)`);
  }
  return {
    name: releasePipeline,
    sourceRevisions: members.map(m => ({
      actionName: serviceSourceActionName(m.service),
      revisionType: SourceRevisionType.COMMIT_ID,
      revisionValue: m.revision,
    })),
    variables: [{ name: RELEASE_ID_VARIABLE, value: releaseId }, { name: RELEASE_BY_VARIABLE, value: startedBy }],
    clientRequestToken: releaseId,
  };
}

/**
 * The error of a request to a /releases route, with a hint when API Gateway's answer says the
 * route does not exist (an API deployed before releases answers 403 "Missing Authentication
 * Token" for routes it does not have).
 */
function routeHint(e: unknown, target: ReleaseTarget): unknown {
  if (!CliError.isCliError(e) || !/answered 403 .*Missing Authentication Token/.test(e.message)) return e;
  return new CliError(`${e.message}. API Gateway answers this for a route the deployed API does not have: the API of ${target.pipeline} may predate releases. `
    + `Fix: deploy the pipeline stack of ${target.file} with this version of ddk-pipelines (its API serves /releases)`, e.exitCode);
}

/** A JSON answer's list field, or an error saying what was expected. */
function listField(r: unknown, field: string, route: string): unknown[] {
  const list = isRecord(r) ? r[field] : undefined;
  if (!Array.isArray(list)) {
    throw new CliError(`status-check API: ${route} answered without a "${field}" list (${JSON.stringify(r ?? null).slice(0, 200)}); expected {"${field}": [...]}. `
      + 'Fix: deploy the pipeline stack of this version of ddk-pipelines (its API serves /releases)');
  }
  return list;
}

/** `GET /releases/candidates?pipeline=`: the services' candidates. */
export async function fetchCandidates(api: StatusCheckApi, pipeline: string): Promise<unknown[]> {
  return listField(await api.send({ method: 'GET', path: '/releases/candidates', query: { pipeline } }), 'candidates', 'GET /releases/candidates');
}

/** `GET /releases?pipeline=`: the releases of a pipeline. */
export async function fetchReleases(api: StatusCheckApi, pipeline: string): Promise<ReleaseRecord[]> {
  return listField(await api.send({ method: 'GET', path: '/releases', query: { pipeline } }), 'releases', 'GET /releases') as ReleaseRecord[];
}

/** `GET /releases/{id}?pipeline=`: a release and its events. */
export async function fetchRelease(
  api: StatusCheckApi, pipeline: string, releaseId: string,
): Promise<{ release: ReleaseRecord; events: ReleaseEventRecord[] }> {
  const r = await api.send({ method: 'GET', path: `/releases/${segment(releaseId)}`, query: { pipeline } });
  if (!isRecord(r) || !isRecord(r.release)) {
    throw new CliError(`status-check API: GET /releases/${releaseId} answered without a "release" (${JSON.stringify(r ?? null).slice(0, 200)}); expected {"release": {...}, "events": [...]}. `
      + 'Fix: deploy the pipeline stack of this version of ddk-pipelines (its API serves /releases)');
  }
  return { release: r.release as unknown as ReleaseRecord, events: Array.isArray(r.events) ? r.events as ReleaseEventRecord[] : [] };
}

/** Starts the release pipeline, with a clear line for each error StartPipelineExecution documents. */
async function startExecution(ctx: PipelineContext, region: string, io: Io, input: StartPipelineExecutionInput, file: string): Promise<string> {
  const r = await aws(io, ctx, 'starting the release', async () => {
    try {
      return await ctx.client.send(new StartPipelineExecutionCommand(input));
    } catch (e: any) {
      const name: string = e?.name ?? '';
      const message: string = e?.message ?? String(e);
      if (name === 'PipelineNotFoundException') {
        throw new CliError(`the release pipeline ${ctx.pipeline} does not exist in ${region} with the current credentials. `
          + `Fix: deploy the pipeline stack of ${file} (${ctx.plan?.cicdStackName ?? '<pipeline>-pipeline'}) with its pipeline.services, or check --region and that the credentials are for the CICD account`);
      }
      if (name === 'ValidationException') {
        throw new CliError(`StartPipelineExecution of ${ctx.pipeline} refused the release: ${message}. The deployed release pipeline needs a source action `
          + `${serviceSourceActionName('<service>')} for every service of ${file}, and each commit must exist in its service's repository. `
          + 'Fix: deploy the pipeline stack after changing pipeline.services, and check the commits (`ddk-pipelines release start --dry-run` prints them)');
      }
      if (name === 'ConflictException') {
        throw new CliError(`${ctx.pipeline} is busy (ConflictException: ${message}). Fix: run the command again in a moment`);
      }
      if (name === 'ConcurrentPipelineExecutionsLimitExceededException') {
        throw new CliError(`${ctx.pipeline} runs as many executions as it may (${message}). Fix: wait for a release to finish (\`ddk-pipelines release list\`), then start again`);
      }
      throw e;
    }
  });
  if (r.pipelineExecutionId === undefined) throw new CliError(`StartPipelineExecution of ${ctx.pipeline} answered without an execution id`);
  return r.pipelineExecutionId;
}

const short = (commit: string | undefined) => (commit ? commit.slice(0, 7) : '-');

/** A member as people name it: `service@3f2c1d0`. */
export function memberLabel(m: Pick<ReleaseMember, 'service' | 'revision'>): string {
  return `${m.service}@${short(m.revision)}`;
}

/**
 * A principal as people read it: the role and session of an assumed role
 * (`ReleaseManager/alice`), the user name of an IAM user, else the ARN as it is.
 */
export function principalLabel(arn: string | undefined): string {
  if (arn === undefined || arn === '') return '-';
  const assumed = /^arn:[^:]+:sts::\d{12}:assumed-role\/(.+)$/.exec(arn);
  if (assumed) return assumed[1];
  const user = /^arn:[^:]+:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (user) return user[1];
  if (/^arn:[^:]+:iam::\d{12}:root$/.test(arn)) return 'root';
  return arn;
}

/** Colours a release state: succeeded green, failed red, started yellow, stopped and superseded dim. */
export function colourReleaseState(state: string, s: Style): string {
  if (state === 'succeeded') return s.green(state);
  if (state === 'failed') return s.red(state);
  if (state === 'started') return s.yellow(state);
  if (state === 'stopped' || state === 'superseded') return s.dim(state);
  return state;
}

/** The stage a release is in (the last one in progress), else the last one it reached, with its status. */
export function currentStage(r: Pick<ReleaseRecord, 'stages'>): string {
  const stages = Array.isArray(r.stages) ? r.stages : [];
  const at = [...stages].reverse().find(st => st.status === 'InProgress') ?? stages[stages.length - 1];
  return at === undefined ? '-' : `${at.stage} (${at.status})`;
}

/** An ISO time without its milliseconds. */
const time = (iso: string | undefined) => (iso === undefined ? '-' : String(iso).replace(/\.\d{3}Z$/, 'Z'));

/** The table of releases (newest first). */
export function renderReleases(releases: readonly ReleaseRecord[], s: Style, now: number): string[] {
  const header = ['RELEASE', 'STATE', 'MEMBERS', 'STAGE', 'BY', 'AGE'].map(h => s.dim(h));
  const rows = releases.map(r => [
    String(r.releaseId ?? '-'),
    colourReleaseState(String(r.state ?? '-'), s),
    (Array.isArray(r.members) ? r.members : []).map(memberLabel).join(', ') || '-',
    currentStage(r),
    principalLabel(r.startedBy),
    age(r.startedAt, now),
  ]);
  return columns([header, ...rows]);
}

const newestFirst = (a: ReleaseRecord, b: ReleaseRecord) => String(b.startedAt ?? '').localeCompare(String(a.startedAt ?? ''));

/** Events in time order (events of one instant keep the API's order). */
export function inTimeOrder(events: readonly ReleaseEventRecord[]): ReleaseEventRecord[] {
  return events.map((e, i) => ({ e, i }))
    .sort((a, b) => String(a.e.at ?? '').localeCompare(String(b.e.at ?? '')) || a.i - b.i)
    .map(x => x.e);
}

/** One line about an event's detail: the members of a start, the stage (and its result), the outcome. */
export function eventSummary(e: ReleaseEventRecord): string {
  const d = isRecord(e.detail) ? e.detail : {};
  const outcome = [d.state, d.result, d.status].find(v => typeof v === 'string') as string | undefined;
  if (e.detailType === RELEASE_DETAIL_TYPES.STARTED) {
    const members = Array.isArray(d.members) ? (d.members as ReleaseMember[]).filter(isRecord).map(memberLabel).join(', ') : '';
    return members === '' ? '' : `members ${members}`;
  }
  const stage = e.stage ?? (typeof d.stage === 'string' ? d.stage : undefined);
  return [stage !== undefined ? `stage ${stage}` : '', outcome ?? ''].filter(x => x !== '').join(': ');
}

/** Colours an event's type: a finished release by its outcome, started and promoted green. */
function colourEvent(e: ReleaseEventRecord, label: string, s: Style): string {
  const d = isRecord(e.detail) ? e.detail : {};
  if (e.detailType === RELEASE_DETAIL_TYPES.FINISHED) return d.state === 'succeeded' ? s.green(label) : s.red(label);
  if (e.detailType === RELEASE_DETAIL_TYPES.PROMOTED) return s.green(label);
  return label;
}

/** The event stream of a release, one line per event: time, type, summary. */
export function renderEvents(events: readonly ReleaseEventRecord[], s: Style): string[] {
  const width = Math.max(0, ...events.map(e => String(e.detailType ?? '').length));
  return events.map(e => {
    const type = String(e.detailType ?? '-');
    return `${s.dim(time(e.at))}  ${colourEvent(e, type, s)}${' '.repeat(width - type.length)}  ${eventSummary(e)}`.trimEnd();
  });
}

/** What `release status` shows besides the release record. */
export interface ReleaseStatusContext {
  /** The plan's bracket stages in order, with their required checks (those not reached yet are listed as NotRun). */
  readonly bracketStages: ReadonlyArray<{ readonly name: string; readonly requiredChecks: readonly string[] }>;
  /** The checks reported against the release id (`GET /checks?revision=<release id>`): the bracket stages' gates read them. */
  readonly checks?: readonly CheckRecord[];
  /** Why the checks could not be read. */
  readonly checksError?: string;
}

/**
 * The gate of a stage: its required checks (from ddk.json) with their state for the release,
 * `not reported` when none is, then other checks reported for the release in that stage.
 */
export function gateLine(stage: string, ctx: ReleaseStatusContext, s: Style): string | undefined {
  const required = ctx.bracketStages.find(b => b.name === stage)?.requiredChecks ?? [];
  const checks = ctx.checks ?? [];
  const unscoped = (c: CheckRecord) => c.stage === undefined || c.stage === null || c.stage === '';
  const items = required.map(context => {
    const hit = checks.find(c => c.context === context && c.stage === stage) ?? checks.find(c => c.context === context && unscoped(c));
    return `${context} ${hit ? colourState(String(hit.state), s) : s.yellow('not reported')} (required)`;
  });
  for (const c of checks) {
    if (c.stage === stage && !required.includes(String(c.context))) items.push(`${c.context} ${colourState(String(c.state), s)}`);
  }
  return items.length > 0 ? `gate: ${items.join(', ')}` : undefined;
}

const ICON: Record<string, string> = { Succeeded: '✔', Failed: '✖', Stopped: '✖', InProgress: '●', NotRun: '○' };

/** `release status`: the release, who started it, its members, each stage with its status, times, gate and events. */
export function renderReleaseStatus(
  release: ReleaseRecord, events: readonly ReleaseEventRecord[], ctx: ReleaseStatusContext, s: Style, now: number,
): string {
  const lines = [`release ${s.bold(release.releaseId)} of ${release.pipeline}: ${colourReleaseState(String(release.state), s)}`];
  lines.push(`  started  ${time(release.startedAt)} (${age(release.startedAt, now)} ago) by ${release.startedBy ?? '-'}`);
  if (release.state !== 'started') lines.push(`  finished ${time(release.updatedAt)} (${release.state})`);
  lines.push(`  execution ${release.execution ?? '-'} of ${releasePipelineName(release.pipeline)}`);
  lines.push('members');
  const members = Array.isArray(release.members) ? release.members : [];
  const nameWidth = Math.max(0, ...members.map(m => m.service.length));
  for (const m of members) lines.push(`  ${m.service.padEnd(nameWidth)}  ${m.revision}`);
  lines.push('stages');
  const stages = Array.isArray(release.stages) ? release.stages : [];
  const reached = new Set(stages.map(st => st.stage));
  const pending = release.state === 'started' ? ctx.bracketStages.map(b => b.name).filter(n => !reached.has(n)) : [];
  const width = Math.max(0, ...stages.map(st => st.stage.length), ...pending.map(n => n.length));
  const statusWidth = Math.max(0, ...stages.map(st => String(st.status ?? '-').length));
  const ordered = inTimeOrder(events);
  for (const st of stages) {
    const status = String(st.status ?? '-');
    const span = st.endedAt !== undefined
      ? `${time(st.startedAt)} → ${time(st.endedAt)}${st.startedAt !== undefined ? ` (${age(st.startedAt, Date.parse(st.endedAt))})` : ''}`
      : st.startedAt !== undefined ? `since ${time(st.startedAt)}` : '';
    lines.push(`  ${colourStatus(ICON[status] ?? '•', s)} ${st.stage.padEnd(width)}  ${pad(colourStatus(status, s), statusWidth)}${span !== '' ? `  ${s.dim(span)}` : ''}`.trimEnd());
    const gate = gateLine(st.stage, ctx, s);
    if (gate !== undefined) lines.push(`      ${gate}`);
    const steps = ordered.filter(e => e.stage === st.stage
      && e.detailType !== RELEASE_DETAIL_TYPES.STARTED && e.detailType !== RELEASE_DETAIL_TYPES.FINISHED);
    for (const e of steps) {
      const word = e.detailType === RELEASE_DETAIL_TYPES.DEPLOYED ? 'deployed' : e.detailType === RELEASE_DETAIL_TYPES.TESTED ? 'tested'
        : e.detailType === RELEASE_DETAIL_TYPES.PROMOTED ? 'promoted' : e.detailType;
      const d = isRecord(e.detail) ? e.detail : {};
      const outcome = [d.result, d.status].find(v => typeof v === 'string');
      lines.push(`      ${word} ${time(e.at)}${outcome !== undefined ? `: ${outcome}` : ''}`);
    }
  }
  for (const name of pending) {
    lines.push(`  ${s.dim(ICON.NotRun)} ${name.padEnd(width)}  ${s.dim('NotRun')}`);
    const gate = gateLine(name, ctx, s);
    if (gate !== undefined) lines.push(`      ${gate}`);
  }
  if (ctx.checksError !== undefined) lines.push(`  ${s.dim(`(the release's checks are unavailable: ${ctx.checksError})`)}`);
  return `${lines.join('\n')}\n`;
}

/** Checks a release id given on the command line. */
export function checkReleaseId(id: string): string {
  const trimmed = id.trim();
  if (!RELEASE_ID_PATTERN.test(trimmed)) {
    throw new CliError(`"${id}" is not a release id; expected r-<yyyymmdd>-<hhmmss>-<4 hex>, e.g. r-20261129-143000-1a2b. Fix: pass an id \`ddk-pipelines release list\` shows`, 2);
  }
  return trimmed;
}

/**
 * The error for a release the API does not know (404), naming the latest ones. When they cannot
 * be read (the 404 is about the pipeline, say), the API's own answer is the error.
 */
async function notFound(e: CliError, api: StatusCheckApi, pipeline: string, releaseId: string): Promise<CliError> {
  let existing: ReleaseRecord[];
  try {
    existing = await fetchReleases(api, pipeline);
  } catch {
    return e;
  }
  const what = `no release ${releaseId} of ${pipeline} (GET /releases/${releaseId} answered 404)`;
  if (existing.length === 0) return new CliError(`${what}; ${pipeline} has no releases yet. Fix: check --pipeline, or start one with \`ddk-pipelines release start\``);
  const latest = [...existing].sort(newestFirst).slice(0, 5).map(r => `${r.releaseId} (${r.state})`).join(', ');
  return new CliError(`${what}; the latest releases of ${pipeline}: ${latest}${existing.length > 5 ? ', …' : ''}. Fix: pass one of these (\`ddk-pipelines release list\` shows all)`);
}

/** Reads one release, with the errors of a missing route and of an unknown id explained. */
async function readRelease(id: string, file: string | undefined, options: ReleaseOptions, io: Io) {
  const releaseId = checkReleaseId(id);
  const target = commandTarget(file, options, io.cwd);
  const api = await apiFor(target.options, io);
  try {
    const r = await io.progress(`reading release ${releaseId}`, () => fetchRelease(api, target.pipeline, releaseId));
    return { target, releaseId, api, ...r };
  } catch (e) {
    if (CliError.isCliError(e) && / answered 404 /.test(e.message)) throw await notFound(e, api, target.pipeline, releaseId);
    throw routeHint(e, target);
  }
}

/**
 * `release start [ddk.json] [--service <service>=<commit> …]`: pins one commit per service (the
 * given one, else the service's latest candidate) and starts the release pipeline with them.
 */
export async function releaseStartCommand(
  file: string | undefined, options: ReleaseStartOptions, io: Io, now: () => Date = () => new Date(),
): Promise<number> {
  const target = commandTarget(file, options, io.cwd);
  const { pipeline, plan } = target;
  if (plan === undefined) {
    throw new CliError(`release start reads the services of ${pipeline} from its ddk.json, and ${target.file} ${existsNote(target, io)}. `
      + `Fix: pass the ddk.json of ${pipeline} (\`ddk-pipelines release start path/to/ddk.json\`), or leave out --pipeline`, 2);
  }
  const services = planServiceNames(plan);
  if (services.length === 0) throw noServices(target, 'release start');
  const given = parseServiceArgs(options.service ?? [], services, target.file);
  const region = options.region ?? plan.cicd.region;
  let candidates = new Map<string, ReleaseCandidate>();
  if (services.some(s => !given.has(s))) {
    const api = await apiFor(target.options, io);
    try {
      candidates = latestCandidates(await io.progress('reading release candidates', () => fetchCandidates(api, pipeline)));
    } catch (e) {
      throw routeHint(e, target);
    }
  }
  const members = resolveMembers(pipeline, services, given, candidates);
  const caller = await io.progress('reading who you are (STS GetCallerIdentity)', () => callerIdentity({ region, env: io.env }));
  const releaseId = newReleaseId(now(), `${caller.arn}|${members.map(memberLabel).join(',')}|${randomUUID()}`);
  const releasePipeline = releasePipelineName(pipeline);
  const request = startRequest(releasePipeline, members, releaseId, caller.arn);
  const ctx: PipelineContext = { pipeline: releasePipeline, checksPipeline: pipeline, plan, client: new CodePipelineClient({ region }) };
  const execution = options.dryRun ? undefined : await startExecution(ctx, region, io, request, target.file);
  const result = {
    releaseId,
    pipeline,
    releasePipeline,
    region,
    dryRun: options.dryRun === true,
    ...(execution !== undefined ? { execution } : {}),
    startedBy: caller.arn,
    members,
    request,
  };
  if (options.json) {
    printJson(io, result);
    return 0;
  }
  const s = io.style;
  io.out(options.dryRun
    ? `dry run: would start release ${s.bold(releaseId)} of ${pipeline} (pipeline ${releasePipeline} in ${region}; CodePipeline not called, a real start gets a new id)\n`
    : `started release ${s.bold(releaseId)} of ${pipeline}: pipeline ${releasePipeline} in ${region}, execution ${execution}\n`);
  io.out(`${renderMembers(members, pipeline, s, now().getTime()).join('\n')}\n`);
  io.out(`${options.dryRun ? 'would be started by' : 'started by'} ${caller.arn}\n`);
  if (options.dryRun) {
    io.out(`StartPipelineExecution ${releasePipeline}\n`
      + `  sourceRevisions: ${request.sourceRevisions!.map(r => `${r.actionName}=${r.revisionType}:${r.revisionValue}`).join(', ')}\n`
      + `  variables: ${request.variables!.map(v => `${v.name}=${v.value}`).join(', ')}\n`
      + `  clientRequestToken: ${request.clientRequestToken}\n`);
  } else {
    io.out(`follow it: ddk-pipelines release status ${releaseId}; ddk-pipelines release events ${releaseId}\n`);
  }
  return 0;
}

/** The members of a release to start, with where each revision came from. */
export function renderMembers(members: readonly PlannedMember[], pipeline: string, s: Style, now: number): string[] {
  const rows = members.map(m => [
    `  ${m.service}`,
    m.revision,
    m.from === 'given' ? s.dim('--service') : s.dim(`latest candidate: passed ${servicePipelineName(pipeline, m.service)}`
      + `${m.candidate?.execution ? ` in execution ${m.candidate.execution}` : ''}${m.candidate?.recordedAt ? `, ${age(m.candidate.recordedAt, now)} ago` : ''}`),
  ]);
  return ['members', ...columns(rows)];
}

function existsNote(target: ReleaseTarget, io: Io): string {
  const plan = optionalPlan({ config: target.options.config }, io.cwd, false);
  return plan === undefined ? 'is not there' : `describes pipeline ${plan.name}, not ${target.pipeline}`;
}

/** `release list [ddk.json]`: the releases of a pipeline, newest first. */
export async function releaseListCommand(file: string | undefined, options: ReleaseOptions, io: Io, now: () => number = Date.now): Promise<number> {
  const target = commandTarget(file, options, io.cwd);
  const { pipeline, plan } = target;
  if (plan !== undefined && planServiceNames(plan).length === 0) throw noServices(target, 'release list');
  const api = await apiFor(target.options, io);
  let releases: ReleaseRecord[];
  try {
    releases = await io.progress('reading releases', () => fetchReleases(api, pipeline));
  } catch (e) {
    throw routeHint(e, target);
  }
  releases = [...releases].sort(newestFirst);
  if (options.json) {
    printJson(io, { pipeline, releases });
    return 0;
  }
  if (releases.length === 0) {
    io.out(`no releases of ${pipeline} yet: start one with \`ddk-pipelines release start\`\n`);
    return 0;
  }
  const running = releases.filter(r => r.state === 'started').length;
  io.out(`releases of ${io.style.bold(pipeline)} (${releases.length}, ${running} running)\n${renderReleases(releases, io.style, now()).join('\n')}\n`);
  io.out('details: ddk-pipelines release status <release>; events: ddk-pipelines release events <release>\n');
  return 0;
}

/**
 * `release status <id> [ddk.json]`: a release's members, stages (status, times, gate, events) and
 * who started it. The gates are the bracket stages' required checks, reported against the release
 * id (`GET /checks?revision=<release id>`); a failure to read them is shown, not fatal.
 */
export async function releaseStatusCommand(
  id: string, file: string | undefined, options: ReleaseOptions, io: Io, now: () => number = Date.now,
): Promise<number> {
  const { target, releaseId, api, release, events } = await readRelease(id, file, options, io);
  let checks: CheckRecord[] | undefined;
  let checksError: string | undefined;
  try {
    checks = (await io.progress('reading the release\'s checks', () => api.listChecks(target.pipeline, releaseId))).checks;
  } catch (e: any) {
    checksError = e?.message ?? String(e);
  }
  if (options.json) {
    printJson(io, { release, events: inTimeOrder(events), checks: checks ?? null, ...(checksError !== undefined ? { checksError } : {}) });
    return 0;
  }
  const bracketStages = target.plan?.releasePlan?.bracketStages.map(st => ({ name: st.name, requiredChecks: st.requiredChecks })) ?? [];
  io.out(renderReleaseStatus(release, events, { bracketStages, checks, checksError }, io.style, now()));
  return 0;
}

/** `release events <id> [ddk.json]`: the event stream of a release, in time order. */
export async function releaseEventsCommand(id: string, file: string | undefined, options: ReleaseOptions, io: Io): Promise<number> {
  const { target, releaseId, events } = await readRelease(id, file, options, io);
  const ordered = inTimeOrder(events);
  if (options.json) {
    printJson(io, { pipeline: target.pipeline, releaseId, events: ordered });
    return 0;
  }
  if (ordered.length === 0) {
    io.out(`release ${releaseId} of ${target.pipeline} has no events yet\n`);
    return 0;
  }
  io.out(`events of release ${io.style.bold(releaseId)} of ${target.pipeline}\n${renderEvents(ordered, io.style).join('\n')}\n`);
  return 0;
}
