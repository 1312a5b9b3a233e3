/* eslint-disable import/no-extraneous-dependencies -- the CLI is bundled into dist/cli by esbuild; the library never loads this module */
import { ActionExecutionDetail, CodePipelineClient, GetPipelineStateOutput, ListActionExecutionsCommand, StageConditionState, StageState } from '@aws-sdk/client-codepipeline';
/* eslint-enable import/no-extraneous-dependencies */
import { DeliveryPlan, PlanStage } from '../model';
import { ACTION_NAMES, CHANGE_REVIEW_VARIABLES } from '../safety/shared';
import { DeploymentWindow, describeWindow, nextClosing, nextOpening, windowsOpen } from '../safety/windows';

/*
 * What `status` says about deployment safety, from GetPipelineState and the plan: an execution
 * waiting at a stage's BeforeEntry condition (the deployment windows: when they open), an alarm
 * watch in progress (how many alarms, until when), the OnSuccess CloudWatchAlarm condition in
 * progress. Pure (the clock is a parameter), except `findChangeReview`, which reads the change
 * review's action executions (ListActionExecutions).
 */

/** An execution waiting at a stage's entry condition. */
export interface EntryWait {
  /** The execution waiting (the stage's, else the inbound one). */
  readonly execution?: string;
  /** The windows, as `"<cron>" (<zone>)` (empty when the plan does not describe the stage). */
  readonly windows: string[];
  /** Whether every window is open now (CodePipeline lets the execution in at its next check). */
  readonly openNow: boolean;
  /** When all windows open together next: ISO time with the first window's offset. */
  readonly opensAt?: string;
  /** How long until then, e.g. `14h 0m`. */
  readonly opensIn?: string;
  /** The condition's or its rules' summary, as CodePipeline gives it. */
  readonly summary?: string;
}

/** An alarm watch in progress: the AlarmWatch action, or the OnSuccess CloudWatchAlarm condition. */
export interface AlarmWatchStatus {
  /** How many alarms are watched (the plan's; 0 when the plan does not describe the stage). */
  readonly alarms: number;
  /** When the watch ends: when it started plus the soak time (ISO, UTC). */
  readonly until?: string;
  /** How long until then. */
  readonly untilIn?: string;
  /** CodePipeline's summary of the action or condition. */
  readonly summary?: string;
}

/** The change review of a waiting approval. */
export interface ChangeReviewStatus {
  /** The change review's Summary output variable. */
  readonly summary?: string;
  /** Its ReportUri output variable (`s3://bucket/key`). */
  readonly reportUri?: string;
  /** Why the summary could not be read. */
  readonly error?: string;
}

/** The deployment-safety state of one stage of GetPipelineState. */
export interface StageSafety {
  /** Waiting at the BeforeEntry condition. */
  readonly entryCondition?: EntryWait;
  /** The AlarmWatch action in progress. */
  readonly alarmWatch?: AlarmWatchStatus;
  /** The OnSuccess condition (the CICD account's alarms) in progress. */
  readonly successCondition?: AlarmWatchStatus;
}

const MINUTE = 60_000;

/** `2d 3h`, `14h 5m`, `5m`, `less than a minute`. */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / MINUTE);
  if (minutes < 1) return 'less than a minute';
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m`;
}

const OFFSET_ZONE = /^UTC([+-]\d{2}:\d{2})$/;

/**
 * `at` as an ISO time in a window's time zone, with its offset: `2026-03-02T09:00:00+01:00`
 * (an IANA zone, `UTC`, or a fixed offset `UTC+02:00`).
 */
export function localIso(at: Date, timeZone: string): string {
  const fixed = OFFSET_ZONE.exec(timeZone);
  if (fixed) {
    const sign = fixed[1][0] === '-' ? -1 : 1;
    const [h, m] = fixed[1].slice(1).split(':').map(Number);
    const shifted = new Date(at.getTime() + sign * (h * 60 + m) * MINUTE);
    return `${shifted.toISOString().slice(0, 19)}${fixed[1]}`;
  }
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, timeZoneName: 'longOffset', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: string) => parts.find(p => p.type === type)?.value ?? '';
  const zone = part('timeZoneName').replace(/^GMT/, '');
  return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}:${part('second')}${zone === '' ? '+00:00' : zone}`;
}

/** When the windows open next, seen from `now`. */
export function windowOpening(windows: DeploymentWindow[], now: Date): Pick<EntryWait, 'openNow' | 'opensAt' | 'opensIn'> {
  if (windows.length === 0) return { openNow: true };
  if (windowsOpen(windows, now)) return { openNow: true };
  const next = nextOpening(windows, now);
  if (!next) return { openNow: false };
  return { openNow: false, opensAt: localIso(next, windows[0].timeZone), opensIn: formatDuration(next.getTime() - now.getTime()) };
}

/** Whether the windows are open now, and the next opening or closing (`window status`). */
export interface WindowReport {
  readonly stage: string;
  readonly windows: string[];
  readonly openNow: boolean;
  /** When closed: the next opening. */
  readonly opensAt?: string;
  readonly opensIn?: string;
  /** When open: the first minute at which a window is closed. */
  readonly closesAt?: string;
  readonly closesIn?: string;
}

/** The state of a stage's windows at `now` (pure: `window status`). */
export function windowReport(stage: PlanStage, now: Date): WindowReport {
  const windows = stage.windows;
  const base = { stage: stage.name, windows: windows.map(describeWindow) };
  const opening = windowOpening(windows, now);
  if (!opening.openNow) return { ...base, ...opening };
  const closing = nextClosing(windows, now);
  return {
    ...base,
    openNow: true,
    ...(closing ? { closesAt: localIso(closing, windows[0].timeZone), closesIn: formatDuration(closing.getTime() - now.getTime()) } : {}),
  };
}

/** `"…" (Europe/Berlin)` or `"…" (…) and "…" (…)`. */
function windowList(windows: string[]): string {
  return windows.length <= 1 ? windows.join('') : `${windows.slice(0, -1).join(', ')} and ${windows[windows.length - 1]}`;
}

/** The line `status` prints for an execution waiting at a stage's entry condition. */
export function entryWaitText(w: EntryWait): string {
  const summary = w.summary ? ` — ${w.summary}` : '';
  if (w.windows.length === 0) return `waiting at its entry condition${summary}`;
  const which = `waiting for window${w.windows.length > 1 ? 's' : ''} ${windowList(w.windows)}`;
  if (w.openNow) return `${which}: open now, CodePipeline lets the execution in at its next check${summary}`;
  if (w.opensAt === undefined) return `${which}: they do not open together in the next 400 days${summary}`;
  return `${which}, opens at ${w.opensAt} (in ${w.opensIn})${summary}`;
}

/** The line `status` prints for an alarm watch in progress. */
export function alarmWatchText(w: AlarmWatchStatus, what: string): string {
  const alarms = w.alarms > 0 ? `${w.alarms} ${what}alarm${w.alarms === 1 ? '' : 's'}` : `the ${what}alarms`;
  const until = w.until ? ` until ${w.until} (in ${w.untilIn})` : '';
  return `watching ${alarms}${until}${w.summary ? ` — ${w.summary}` : ''}`;
}

/**
 * The plan stage a CodePipeline stage belongs to: the stage of that name, or the stage a large
 * one was split from (`<name>-2`, … when that name is no plan stage itself).
 */
export function planStageFor(plan: DeliveryPlan | undefined, stageName: string): PlanStage | undefined {
  if (!plan) return undefined;
  const exact = plan.stages.find(s => s.name === stageName);
  if (exact) return exact;
  const m = /^(.*)-(\d+)$/.exec(stageName);
  return m ? plan.stages.find(s => s.name === m[1]) : undefined;
}

/** Whether a pipeline is one of the plan's: its own, a Gitflow stage's, a service's or the release pipeline. */
export function pipelineOfPlan(plan: DeliveryPlan | undefined, pipeline: string): boolean {
  if (!plan) return false;
  if (pipeline === plan.name) return true;
  if (plan.stages.some(s => plan.pipelinesOfStage(s.name).includes(pipeline))) return true;
  // a service's pipeline is the plan's even when it runs no stage (every stage a bracket stage)
  return plan.releasePlan?.servicePipelines.some(p => p.name === pipeline) ?? false;
}

function inProgress(c: StageConditionState | undefined): boolean {
  return c?.latestExecution?.status === 'InProgress';
}

/** The summaries CodePipeline gives for a condition and its rules, deduplicated. */
function conditionSummary(c: StageConditionState | undefined): string | undefined {
  const texts = [
    c?.latestExecution?.summary,
    ...(c?.conditionStates ?? []).flatMap(cs => [cs.latestExecution?.summary, ...(cs.ruleStates ?? []).map(r => r.latestExecution?.summary)]),
  ].filter((t): t is string => typeof t === 'string' && t.trim() !== '');
  return texts.length > 0 ? [...new Set(texts)].join('; ') : undefined;
}

/** When a condition's run started: its conditions' last status change (the earliest). */
function conditionStart(c: StageConditionState | undefined): Date | undefined {
  const times = (c?.conditionStates ?? []).map(cs => cs.latestExecution?.lastStatusChange).filter((d): d is Date => d instanceof Date);
  return times.length > 0 ? new Date(Math.min(...times.map(d => d.getTime()))) : undefined;
}

function watchUntil(start: Date | undefined, soakMinutes: number | undefined, now: Date): Pick<AlarmWatchStatus, 'until' | 'untilIn'> {
  if (!start || soakMinutes === undefined) return {};
  const end = new Date(start.getTime() + soakMinutes * MINUTE);
  return { until: end.toISOString(), untilIn: formatDuration(end.getTime() - now.getTime()) };
}

/**
 * The execution waiting at a stage's entry condition: the stage's own execution while it is in
 * progress (the entry condition runs as part of the stage's execution), else the inbound one.
 */
export function waitingExecution(st: StageState): string | undefined {
  return st.latestExecution?.status === 'InProgress' ? st.latestExecution.pipelineExecutionId : st.inboundExecution?.pipelineExecutionId ?? st.latestExecution?.pipelineExecutionId;
}

/** Whether an execution waits at a stage's BeforeEntry condition. */
export function waitsAtEntry(st: StageState): boolean {
  return inProgress(st.beforeEntryConditionState);
}

/** The deployment-safety state of one stage (the plan's stage, when known). */
export function stageSafety(st: StageState, stage: PlanStage | undefined, now: Date): StageSafety {
  const out: { -readonly [K in keyof StageSafety]: StageSafety[K] } = {};
  if (waitsAtEntry(st)) {
    const windows = stage?.windows ?? [];
    out.entryCondition = {
      execution: waitingExecution(st),
      windows: windows.map(describeWindow),
      ...(windows.length > 0 ? windowOpening(windows, now) : { openNow: false }),
      ...(conditionSummary(st.beforeEntryConditionState) ? { summary: conditionSummary(st.beforeEntryConditionState) } : {}),
    };
  }
  const watch = (st.actionStates ?? []).find(a => a.actionName === ACTION_NAMES.alarmWatch && a.latestExecution?.status === 'InProgress');
  if (watch) {
    const alarms = stage?.alarms?.targets.reduce((n, t) => n + t.alarms.length, 0) ?? 0;
    out.alarmWatch = {
      alarms,
      ...watchUntil(watch.latestExecution?.lastStatusChange, stage?.alarms?.soakMinutes, now),
      ...(watch.latestExecution?.summary ? { summary: watch.latestExecution.summary } : {}),
    };
  }
  if (inProgress(st.onSuccessConditionState)) {
    out.successCondition = {
      alarms: stage?.alarms?.cicd.length ?? 0,
      ...watchUntil(conditionStart(st.onSuccessConditionState), stage?.alarms?.soakMinutes, now),
      ...(conditionSummary(st.onSuccessConditionState) ? { summary: conditionSummary(st.onSuccessConditionState) } : {}),
    };
  }
  return out;
}

/** The deployment-safety state of every stage, by stage name. */
export function pipelineSafety(state: GetPipelineStateOutput, plan: DeliveryPlan | undefined, now: Date): Map<string, StageSafety> {
  return new Map((state.stageStates ?? []).map(st => [st.stageName ?? '?', stageSafety(st, planStageFor(plan, st.stageName ?? '?'), now)]));
}

/** A change review's run: its execution and output variables. */
export interface ChangeReviewRun {
  readonly execution: string;
  readonly status?: string;
  readonly startTime?: Date;
  /** The Summary output variable. */
  readonly summary?: string;
  /** The ReportUri output variable (`s3://bucket/key`). */
  readonly reportUri?: string;
  /** The ReportUrl output variable (the console link). */
  readonly reportUrl?: string;
}

/** CodePipeline returns at most 100 action executions per page. */
const PAGE = 100;

function runOf(d: ActionExecutionDetail): ChangeReviewRun {
  const vars = d.output?.outputVariables ?? {};
  return {
    execution: d.pipelineExecutionId ?? '?',
    status: d.status,
    startTime: d.startTime,
    ...(vars[CHANGE_REVIEW_VARIABLES.summary] !== undefined ? { summary: vars[CHANGE_REVIEW_VARIABLES.summary] } : {}),
    ...(vars[CHANGE_REVIEW_VARIABLES.reportUri] !== undefined ? { reportUri: vars[CHANGE_REVIEW_VARIABLES.reportUri] } : {}),
    ...(vars[CHANGE_REVIEW_VARIABLES.reportUrl] !== undefined ? { reportUrl: vars[CHANGE_REVIEW_VARIABLES.reportUrl] } : {}),
  };
}

/**
 * The ChangeReview action's run in a stage: of `execution` when given (ListActionExecutions
 * filtered by pipelineExecutionId), else the newest within the latest `maxPages` pages of the
 * pipeline's action executions (CodePipeline keeps them 12 months). Undefined when none ran.
 */
export async function findChangeReview(
  client: CodePipelineClient, pipeline: string, stage: string, execution?: string, maxPages = 10,
): Promise<ChangeReviewRun | undefined> {
  const runs: ActionExecutionDetail[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await client.send(new ListActionExecutionsCommand({
      pipelineName: pipeline,
      ...(execution !== undefined ? { filter: { pipelineExecutionId: execution } } : {}),
      maxResults: PAGE,
      nextToken,
    }));
    runs.push(...(page.actionExecutionDetails ?? []).filter(d => d.actionName === ACTION_NAMES.changeReview && d.stageName === stage));
    nextToken = page.nextToken;
    // without an execution: the newest run is on the first pages; stop at the first page with one
    if (execution === undefined && runs.length > 0) break;
  } while (nextToken && ++pages < maxPages);
  if (runs.length === 0) return undefined;
  const newest = [...runs].sort((a, b) => (b.startTime?.getTime() ?? 0) - (a.startTime?.getTime() ?? 0))[0];
  return runOf(newest);
}
