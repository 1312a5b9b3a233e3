import { isObj, show, str } from '../input-values';
import { SAFETY_LIMITS, SAFETY_STAGES_VARIABLE, SafetyActionParameters, SafetyStage, SafetyStages, SafetyTarget } from './shared';
import { CODEPIPELINE_TEXT_LIMITS, fit } from '../status-checks/gate';

/*
 * The alarm watch (README "Deployment safety", step 7): a CodePipeline Lambda invoke action after
 * a stage's deployments and tests. Each invocation reads the targets' alarms (through their CDK
 * lookup roles) and decides; while the soak time runs it answers PutJobSuccessResult with a
 * continuation token (CodePipeline invokes it again), as the status-check gate does. An alarm in
 * ALARM, an alarm that went to ALARM during the watch, or a watched alarm that does not exist
 * fails the job, and the stage's OnFailure ROLLBACK rolls the stage back.
 *
 * This module holds the decision (pure) and the run over two interfaces (AlarmReader, WatchJobs);
 * lib/safety/alarm-reader.ts implements them with the SDK, lambda/alarm-watch is the handler.
 *
 * What one watch sees:
 * - the clock starts at the first invocation (the token carries it), i.e. after the tests;
 * - ALARM now → fail; INSUFFICIENT_DATA → not a failure, the watch goes on (a new alarm or a
 *   metric without data yet is INSUFFICIENT_DATA; the summary names such alarms at the end);
 * - an alarm that went to ALARM and back to OK between two invocations: an alarm not in ALARM
 *   whose state changed since the watch started has its StateUpdate history read
 *   (DescribeAlarmHistory from the watch's start): any transition to ALARM fails the watch;
 * - not caught: an alarm that went to ALARM and back before the first invocation (during the
 *   deployments), and alarms whose history CloudWatch no longer holds.
 */

/** The state values of a CloudWatch alarm (DescribeAlarms StateValue). */
export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** One alarm as the watch read it. */
export interface AlarmReading {
  readonly name: string;
  readonly type: 'MetricAlarm' | 'CompositeAlarm';
  readonly state: AlarmStateValue | string;
  readonly reason: string;
  /** ISO time of the last change of the state value (StateTransitionedTimestamp, else StateUpdatedTimestamp). */
  readonly since?: string;
  /** A transition to ALARM during the watch while the alarm is not in ALARM now (from its history). */
  readonly alarmedDuringWatch?: AlarmEpisode;
}

/** A transition to ALARM recorded in an alarm's history. */
export interface AlarmEpisode {
  /** ISO time of the transition. */
  readonly at: string;
  readonly reason: string;
}

/** What reading one target gave. */
export type TargetReading =
  | { readonly kind: 'read'; readonly target: SafetyTarget; readonly alarms: readonly AlarmReading[] }
  /** Access refused: assuming the lookup role, or reading the alarms with it. */
  | { readonly kind: 'denied'; readonly target: SafetyTarget; readonly step: 'assume-role' | 'read-alarms'; readonly message: string }
  /** Throttling, a service error, the network: worth another try at the next invocation. */
  | { readonly kind: 'transient'; readonly target: SafetyTarget; readonly message: string };

/** Reads a target's alarms. Never throws: errors are classified in the reading. */
export interface AlarmReader {
  /**
   * @param names the alarm names (any number: the reader pages by SAFETY_LIMITS.alarmNamesPerCall)
   * @param watchStartedAt the watch's start: transitions since then are looked up in the history
   * @param sessionName the role session name (at most 64 characters)
   */
  read(target: SafetyTarget, names: readonly string[], watchStartedAt: Date, sessionName: string): Promise<TargetReading>;
}

/** CodePipeline's job answers. */
export interface WatchJobs {
  succeed(jobId: string, summary: string): Promise<void>;
  continueLater(jobId: string, continuationToken: string, summary: string, percentComplete: number): Promise<void>;
  fail(jobId: string, message: string, externalExecutionId?: string): Promise<void>;
}

/** Logging, structured. */
export interface WatchLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** What the run needs. */
export interface AlarmWatchDependencies {
  /** `DDK_SAFETY_STAGES`. */
  readonly stages: SafetyStages;
  /** The CICD account (the function's), named in the fix of a refused AssumeRole. */
  readonly cicdAccount?: string;
  readonly reader: AlarmReader;
  readonly jobs: WatchJobs;
  readonly now: () => Date;
  readonly logger: WatchLogger;
}

/**
 * How long the watch keeps going while a target cannot be read (throttling, service errors), in
 * minutes since the last invocation that read every target (or since the start): then it fails.
 * The SDK retries each call too (3 attempts).
 */
export const TRANSIENT_ERROR_MINUTES = 15;

/** The watch's decision. */
export type WatchDecision =
  | { readonly kind: 'success'; readonly summary: string }
  | { readonly kind: 'continue'; readonly summary: string; readonly percentComplete: number }
  | { readonly kind: 'failure'; readonly message: string };

/** What the decision reads. */
export interface WatchInput {
  readonly stage: string;
  readonly soakMinutes: number;
  /** Minutes since the watch started. */
  readonly elapsedMinutes: number;
  /** Minutes since the last invocation that read every target (or since the start). */
  readonly unreadMinutes: number;
  /** The alarm names watched per target id (what was asked). */
  readonly watched: readonly WatchedTarget[];
  readonly readings: readonly TargetReading[];
  /** The CICD account, for the AssumeRole fix. @default - "the CICD account" */
  readonly cicdAccount?: string;
}

/** A target and the alarms the watch asked for. */
export interface WatchedTarget {
  readonly target: SafetyTarget;
  readonly names: readonly string[];
}

/** `<env> (<account>/<region>)`. */
export function where(t: SafetyTarget): string {
  return `${t.id} (${t.account}/${t.region})`;
}

/**
 * Decides one invocation, in this order:
 * - alarms in ALARM now, alarms that went to ALARM during the watch, watched alarms that do not
 *   exist, refused access → failure (all of them named; the stage rolls back);
 * - a target that could not be read: continue, and fail once TRANSIENT_ERROR_MINUTES passed
 *   without a complete reading (the soak never ends on an incomplete reading);
 * - the soak time elapsed → success, with a summary;
 * - else continue.
 */
export function decideWatch(input: WatchInput): WatchDecision {
  const problems: string[] = [];
  const transient: string[] = [];
  const insufficient: string[] = [];
  let count = 0;
  for (const w of input.watched) {
    const r = input.readings.find(x => x.target.id === w.target.id);
    if (!r) {
      transient.push(`${where(w.target)}: no reading`);
      continue;
    }
    if (r.kind === 'denied') {
      problems.push(r.step === 'assume-role'
        ? `cannot assume the lookup role ${w.target.lookupRoleArn} of ${where(w.target)}: ${r.message}. Fix: bootstrap ${w.target.account}/${w.target.region} with \`cdk bootstrap --trust ${input.cicdAccount ?? '<the CICD account>'}\` (the lookup role trusts the --trust and --trust-for-lookup accounts)`
        : `cannot read the alarms of ${where(w.target)} through ${w.target.lookupRoleArn}: ${r.message}. ${/AccessDenied/.test(r.message)
          ? 'Fix: give the lookup role cloudwatch:DescribeAlarms and cloudwatch:DescribeAlarmHistory (the CDK bootstrap\'s lookup role has ReadOnlyAccess, which does)'
          : 'Fix: see the alarm-watch function\'s logs, then retry the stage'}`);
      continue;
    }
    if (r.kind === 'transient') {
      transient.push(`${where(w.target)}: ${r.message}`);
      continue;
    }
    for (const a of r.alarms) {
      if (a.state === 'ALARM') {
        problems.push(`alarm ${a.name} in ${where(w.target)} is in ALARM since ${a.since ?? 'an unknown time'}: ${a.reason}`);
      } else if (a.alarmedDuringWatch) {
        problems.push(`alarm ${a.name} in ${where(w.target)} went to ALARM at ${a.alarmedDuringWatch.at} during the watch (${a.alarmedDuringWatch.reason}) and is ${a.state} now`);
      } else if (a.state === 'INSUFFICIENT_DATA') {
        insufficient.push(`${a.name} (${w.target.id})`);
      }
    }
    const found = new Set(r.alarms.map(a => a.name));
    const missing = w.names.filter(n => !found.has(n));
    if (missing.length > 0) {
      problems.push(`${missing.length === 1 ? 'alarm' : 'alarms'} ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist in ${where(w.target)} (neither a metric nor a composite alarm). Fix: create ${missing.length === 1 ? 'it' : 'them'} in ${w.target.account}/${w.target.region}, or correct the alarm names in ddk.json (a watch that watches nothing would pass every deployment)`);
    }
    count += w.names.length;
  }
  const head = `Alarm watch of stage "${input.stage}"`;
  if (problems.length > 0) {
    return { kind: 'failure', message: fit(`${head}: ${problems.join('; ')}; the stage rolls back.`, CODEPIPELINE_TEXT_LIMITS.failureMessage) };
  }
  const minutes = Math.floor(input.elapsedMinutes);
  if (transient.length > 0) {
    if (input.unreadMinutes >= TRANSIENT_ERROR_MINUTES) {
      return { kind: 'failure', message: fit(`${head}: the alarms could not be read for ${Math.floor(input.unreadMinutes)} minutes: ${transient.join('; ')}. Fix: see the alarm-watch function's logs, then retry the stage`, CODEPIPELINE_TEXT_LIMITS.failureMessage) };
    }
    return { kind: 'continue', percentComplete: percent(input), summary: fit(`${head}: ${minutes} of ${input.soakMinutes} minutes; could not read ${transient.join('; ')}; trying again (gives up after ${TRANSIENT_ERROR_MINUTES} minutes without a reading).`, CODEPIPELINE_TEXT_LIMITS.summary) };
  }
  const environments = input.watched.length;
  const noData = insufficient.length > 0 ? ` ${insufficient.length} had insufficient data: ${insufficient.join(', ')}.` : '';
  if (input.elapsedMinutes >= input.soakMinutes) {
    return { kind: 'success', summary: fit(`${head}: ${plural(count, 'alarm')} in ${plural(environments, 'environment')} (${input.watched.map(w => w.target.id).join(', ')}) stayed out of ALARM for ${input.soakMinutes} minutes.${noData}`, CODEPIPELINE_TEXT_LIMITS.summary) };
  }
  return { kind: 'continue', percentComplete: percent(input), summary: fit(`${head}: ${minutes} of ${input.soakMinutes} minutes, ${plural(count, 'alarm')} in ${plural(environments, 'environment')}, none in ALARM.${noData}`, CODEPIPELINE_TEXT_LIMITS.summary) };
}

function percent(input: WatchInput): number {
  return Math.max(0, Math.min(99, Math.floor((100 * input.elapsedMinutes) / input.soakMinutes)));
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** The continuation token: when the watch started, and when it last read every target. */
export interface WatchToken {
  readonly v: 1;
  readonly startedAt: string;
  readonly readAt: string;
}

/** The token of a previous invocation; undefined when absent or unreadable (the watch starts again). */
export function parseWatchToken(token: string | undefined): WatchToken | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const t = JSON.parse(token) as unknown;
    if (isObj(t) && t.v === 1 && typeof t.startedAt === 'string' && typeof t.readAt === 'string'
      && !Number.isNaN(Date.parse(t.startedAt)) && !Number.isNaN(Date.parse(t.readAt))) {
      return { v: 1, startedAt: t.startedAt, readAt: t.readAt };
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** The action's UserParameters, or what is wrong with them. */
export function parseSafetyParameters(raw: string | undefined): { ok: true; value: SafetyActionParameters } | { ok: false; issues: string[] } {
  let v: unknown;
  try {
    v = JSON.parse(raw ?? '');
  } catch {
    return { ok: false, issues: [`UserParameters: ${show(raw ?? '')} is not JSON; expected {"pipeline", "stage", "executionId"}`] };
  }
  if (!isObj(v)) return { ok: false, issues: [`UserParameters: ${show(v)} is not an object; expected {"pipeline", "stage", "executionId"}`] };
  const issues: string[] = [];
  for (const k of ['pipeline', 'stage', 'executionId'] as const) {
    if (str(v[k]) === undefined) issues.push(`UserParameters.${k}: ${show(v[k])} is not a non-empty string`);
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, value: { pipeline: v.pipeline as string, stage: v.stage as string, executionId: v.executionId as string } };
}

/** The role session name of a watch: `ddk-alarm-watch-<stage>`, STS's characters, at most 64. */
export function watchSessionName(stage: string): string {
  return `ddk-alarm-watch-${stage}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}

/** The parts of a CodePipeline job event the watch reads. */
interface Job {
  readonly id: string;
  readonly userParameters?: string;
  readonly continuationToken?: string;
}

function jobOf(event: unknown): Job | undefined {
  const job = isObj(event) ? event['CodePipeline.job'] : undefined;
  if (!isObj(job) || typeof job.id !== 'string') return undefined;
  const data = isObj(job.data) ? job.data : {};
  const action = isObj(data.actionConfiguration) && isObj(data.actionConfiguration.configuration) ? data.actionConfiguration.configuration : {};
  return {
    id: job.id,
    userParameters: typeof action.UserParameters === 'string' ? action.UserParameters : undefined,
    continuationToken: typeof data.continuationToken === 'string' ? data.continuationToken : undefined,
  };
}

/** What one run did (the handler logs it). */
export interface AlarmWatchOutcome {
  readonly input: string;
  readonly summaries: string[];
  readonly decision?: WatchDecision;
}

/**
 * One invocation of the alarm watch: reads the stage's targets, decides and answers the job.
 * A misconfigured action (UserParameters, a stage missing from DDK_SAFETY_STAGES, a stage that
 * watches no alarm) fails the job. Throws only on an event that is not a CodePipeline job.
 */
export async function runAlarmWatch(event: unknown, deps: AlarmWatchDependencies): Promise<AlarmWatchOutcome> {
  const job = jobOf(event);
  if (!job) throw new Error(`the alarm watch is a CodePipeline Lambda invoke action; received ${show(event)}, not a CodePipeline job`);
  const input = `CodePipeline job ${job.id}`;
  const misconfigured = async (issues: string[]): Promise<AlarmWatchOutcome> => {
    const message = fit(`The alarm watch is misconfigured: ${issues.join(' | ')}`, CODEPIPELINE_TEXT_LIMITS.failureMessage);
    deps.logger.error('alarm watch misconfigured', { jobId: job.id, issues });
    await deps.jobs.fail(job.id, message);
    return { input, summaries: [message], decision: { kind: 'failure', message } };
  };
  const parsed = parseSafetyParameters(job.userParameters);
  if (!parsed.ok) return misconfigured(parsed.issues);
  const p = parsed.value;
  const stage: SafetyStage | undefined = Object.prototype.hasOwnProperty.call(deps.stages, p.stage) ? deps.stages[p.stage] : undefined;
  if (!stage) {
    return misconfigured([`UserParameters.stage: "${p.stage}" is not in ${SAFETY_STAGES_VARIABLE}; expected one of ${Object.keys(deps.stages).map(s => `"${s}"`).join(', ') || '(none)'}. Fix: deploy the CICD stack (the function reads the stages' alarms from its environment)`]);
  }
  const watched: WatchedTarget[] = stage.targets
    .map(target => ({ target, names: [...new Set(target.alarms ?? [])] }))
    .filter(w => w.names.length > 0);
  if (watched.length === 0) {
    return misconfigured([`stage "${p.stage}" watches no alarm in ${SAFETY_STAGES_VARIABLE} (no target has alarms). Fix: name the alarms in ddk.json (stage or environment "alarms"), or render the stage without an alarm watch`]);
  }

  const now = deps.now();
  const token = parseWatchToken(job.continuationToken);
  if (job.continuationToken && !token) deps.logger.warn('unreadable continuation token; the watch starts again now', { jobId: job.id, token: job.continuationToken.slice(0, 200) });
  const startedAt = token ? new Date(token.startedAt) : now;
  const lastRead = token ? new Date(token.readAt) : startedAt;
  const session = watchSessionName(p.stage);
  const readings = await Promise.all(watched.map(w => deps.reader.read(w.target, w.names, startedAt, session)));
  const complete = readings.every(r => r.kind === 'read');
  const decision = decideWatch({
    stage: p.stage,
    soakMinutes: stage.soakMinutes ?? SAFETY_LIMITS.defaultSoakMinutes,
    elapsedMinutes: (now.getTime() - startedAt.getTime()) / 60_000,
    unreadMinutes: complete ? 0 : (now.getTime() - lastRead.getTime()) / 60_000,
    watched,
    readings,
    cicdAccount: deps.cicdAccount,
  });
  deps.logger.info('alarm watch decided', {
    jobId: job.id,
    pipeline: p.pipeline,
    stage: p.stage,
    execution: p.executionId,
    decision: decision.kind,
    unread: readings.flatMap(r => (r.kind === 'read' ? [] : [{ target: r.target.id, kind: r.kind, message: r.message }])),
  });
  switch (decision.kind) {
    case 'success':
      await deps.jobs.succeed(job.id, decision.summary);
      return { input, summaries: [decision.summary], decision };
    case 'continue': {
      const next: WatchToken = { v: 1, startedAt: startedAt.toISOString(), readAt: (complete ? now : lastRead).toISOString() };
      await deps.jobs.continueLater(job.id, JSON.stringify(next), decision.summary, decision.percentComplete);
      return { input, summaries: [decision.summary], decision };
    }
    case 'failure':
      await deps.jobs.fail(job.id, decision.message);
      return { input, summaries: [decision.message], decision };
  }
}
