/* eslint-disable import/no-extraneous-dependencies -- the CLI is bundled into dist/cli by esbuild; the library never loads this module */
import {
  ActionState,
  CodePipelineClient,
  ExecutionType,
  GetPipelineCommand,
  GetPipelineExecutionCommand,
  GetPipelineStateCommand,
  GetPipelineStateOutput,
  ListPipelineExecutionsCommand,
  PipelineExecutionSummary,
  PutApprovalResultCommand,
  RollbackStageCommand,
  StageState,
} from '@aws-sdk/client-codepipeline';
/* eslint-enable import/no-extraneous-dependencies */
import { didYouMean } from '../config/issues';
import { DeliveryPlan, PipelineStrategy } from '../model';
import { ApiOptions, apiFor, colourState } from './checks';
import { CliError, columns, Io, printJson, Style } from './io';
import { optionalPlan, PipelineTargetOptions } from './project';
import { AlarmWatchStatus, alarmWatchText, ChangeReviewStatus, EntryWait, entryWaitText, findChangeReview, pipelineOfPlan, pipelineSafety, planStageFor } from './safety-status';
import { API_ENDPOINT_ENV, credentialsError } from './status-check-api';
import { ACTION_NAMES } from '../safety/shared';

/*
 * Day-2 commands on a deployed pipeline through the CodePipeline API: status (and why a stage
 * waits), executions, approve/reject, rollback.
 */

/** Options every CodePipeline command takes. */
export interface PipelineOptions extends PipelineTargetOptions {
  /** Region of the pipeline; default: the CICD region of ddk.json, else the AWS SDK's. */
  readonly region?: string;
  readonly json?: boolean;
  /** The stage a command is about (approve, reject, rollback): with Gitflow it picks the pipeline. */
  readonly stage?: string;
}

/** The pipeline a command works on, its client, and the plan of ddk.json when there is one. */
export interface PipelineContext {
  readonly pipeline: string;
  /**
   * The name the status-check API keeps this pipeline's checks under: the plan's name for the
   * plan's own pipeline and for each Gitflow pipeline `<name>-<stage>`, else `pipeline`.
   */
  readonly checksPipeline: string;
  readonly client: CodePipelineClient;
  readonly plan?: DeliveryPlan;
}

/**
 * The pipeline (`--pipeline`, else the plan's name from ddk.json) and a CodePipeline client in
 * its region (`--region`, else the CICD region of ddk.json, else the SDK's default chain).
 */
export function pipelineContext(options: PipelineOptions, io: Io): PipelineContext {
  if (options.pipeline !== undefined && options.pipeline.trim() === '') throw new CliError('--pipeline is empty. Fix: pass the pipeline name', 2);
  const plan = optionalPlan(options, io.cwd, options.pipeline === undefined);
  const pipeline = options.pipeline ?? defaultPipeline(plan!, options.stage);
  const region = options.region ?? plan?.cicd.region;
  const ofPlan = plan !== undefined && (pipeline === plan.name
    || (plan.strategy === PipelineStrategy.CODEPIPELINE_GITFLOW && plan.stages.some(s => plan.pipelinesOfStage(s.name).includes(pipeline))));
  return { pipeline, checksPipeline: ofPlan ? plan.name : pipeline, plan, client: new CodePipelineClient(region ? { region } : {}) };
}

/**
 * The CodePipeline a command works on when no --pipeline is given: the plan's one pipeline, or
 * with Gitflow (one pipeline per stage, `<name>-<stage>`) the pipeline of --stage.
 */
function defaultPipeline(plan: DeliveryPlan, stage: string | undefined): string {
  if (plan.strategy !== PipelineStrategy.CODEPIPELINE_GITFLOW) return plan.name;
  const names = plan.stages.map(s => s.name);
  const pipelines = names.flatMap(n => plan.pipelinesOfStage(n)).map(p => `"${p}"`).join(', ');
  if (stage === undefined) {
    throw new CliError(`${plan.config.file} uses codepipeline-gitflow: one pipeline per stage (${pipelines}). Fix: pass --pipeline <one of them>`, 2);
  }
  if (!names.includes(stage)) {
    throw new CliError(`--stage: ${plan.config.file} has no stage "${stage}"${didYouMean(stage, names)}; its stages are ${names.map(n => `"${n}"`).join(', ')}. Fix: pass one of them, or --pipeline`, 2);
  }
  return plan.pipelinesOfStage(stage)[0];
}

/** Runs one AWS call with a spinner and turns SDK errors into one clear line. */
export async function aws<T>(io: Io, ctx: PipelineContext, label: string, call: () => Promise<T>): Promise<T> {
  try {
    return await io.progress(label, call);
  } catch (e: any) {
    if (CliError.isCliError(e)) throw e;
    let region = '?';
    try {
      region = await ctx.client.config.region();
    } catch {
      throw new CliError('no AWS region: pass --region <region>, set AWS_REGION, or run where ddk.json names the CICD region', 2);
    }
    const name: string = e?.name ?? 'Error';
    if (name === 'PipelineNotFoundException') {
      throw new CliError(`pipeline "${ctx.pipeline}" not found in ${region} with the current credentials. Fix: check --pipeline and --region, and that the credentials are for the CICD account`);
    }
    if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException' || name === 'ExpiredTokenException') {
      throw new CliError(`${label}: ${name}: ${e?.message ?? ''}. Fix: use credentials for the CICD account that may call CodePipeline on "${ctx.pipeline}"`);
    }
    const mapped = credentialsError(e);
    if (CliError.isCliError(mapped)) throw mapped;
    throw new CliError(`${label}: ${name}: ${e?.message ?? e}`);
  }
}

/** Why a stage does not move on. */
export interface Blocker {
  /** `approval`: a manual approval waits; `gate`: a status-check gate waits; `failed`: an action failed; `transition`: the inbound transition is disabled. */
  readonly kind: 'approval' | 'gate' | 'failed' | 'transition';
  /** The action concerned (approval, gate, failed action). */
  readonly action?: string;
  /** The action's latest summary or error, or the transition's disabled reason. */
  readonly summary?: string;
  /** A link to the details. */
  readonly url?: string;
  /** When the action last changed. */
  readonly since?: string;
}

/** One action of a stage. */
export interface ActionStatus {
  readonly name: string;
  readonly category?: string;
  readonly status: string;
  readonly summary?: string;
  readonly url?: string;
}

/** A stage of a pipeline: the execution in it, its state, and why it waits or failed. */
export interface StageStatus {
  readonly name: string;
  /** The state of the stage's latest execution, or `NotRun`. */
  readonly state: string;
  /** The pipeline execution in (or last through) the stage. */
  readonly execution?: string;
  /** An execution waiting to enter the stage. */
  readonly inbound?: string;
  readonly actions: ActionStatus[];
  readonly blockers: Blocker[];
  /** Status checks of the waiting execution's revision, when the status-check API was asked. */
  readonly checks?: Array<{ context: string; state: string; required: boolean; targetUrl?: string; description?: string }>;
  /** Why the checks could not be read. */
  readonly checksError?: string;
  /** An execution waiting at the stage's BeforeEntry condition (its deployment windows). */
  readonly entryCondition?: EntryWait;
  /** The change review of the approval waiting in the stage (stages with changeReview). */
  readonly changeReview?: ChangeReviewStatus;
  /** The AlarmWatch action in progress: the targets' alarms watched for the soak time. */
  readonly alarmWatch?: AlarmWatchStatus;
  /** The OnSuccess condition in progress: CodePipeline's CloudWatchAlarm rule over the CICD account's alarms. */
  readonly successCondition?: AlarmWatchStatus;
}

/** The state of a whole pipeline. */
export interface PipelineStatus {
  readonly pipeline: string;
  readonly version?: number;
  readonly stages: StageStatus[];
}

const GATE_NAME = /gate|check/i;
/** Lambda actions of deployment safety: running, never gates. */
const SAFETY_ACTIONS: readonly string[] = [ACTION_NAMES.changeReview, ACTION_NAMES.alarmWatch];

/** Whether an action is a manual approval waiting for an answer (only those carry a token). */
function waitingApproval(a: ActionState, category?: string): boolean {
  return a.latestExecution?.status === 'InProgress' && (a.latestExecution.token !== undefined || category === 'Approval');
}

/**
 * The status of each stage from GetPipelineState (and the action categories from GetPipeline,
 * when available): for a blocked stage, which approval or gate waits, which action failed, or
 * that the transition into it is disabled.
 */
export function stageStatuses(state: GetPipelineStateOutput, categories: Map<string, string> = new Map()): StageStatus[] {
  return (state.stageStates ?? []).map((st: StageState) => {
    const name = st.stageName ?? '?';
    const actions: ActionStatus[] = (st.actionStates ?? []).map(a => ({
      name: a.actionName ?? '?',
      category: categories.get(`${name}/${a.actionName}`),
      status: a.latestExecution?.status ?? 'NotRun',
      summary: a.latestExecution?.errorDetails?.message ?? a.latestExecution?.summary,
      url: a.latestExecution?.externalExecutionUrl ?? a.entityUrl,
    }));
    const blockers: Blocker[] = [];
    if (st.inboundTransitionState?.enabled === false) {
      blockers.push({ kind: 'transition', summary: st.inboundTransitionState.disabledReason ?? 'disabled', since: iso(st.inboundTransitionState.lastChangedAt) });
    }
    for (const a of st.actionStates ?? []) {
      const category = categories.get(`${name}/${a.actionName}`);
      const ex = a.latestExecution;
      if (!ex) continue;
      if (waitingApproval(a, category)) {
        blockers.push({ kind: 'approval', action: a.actionName, summary: ex.summary, url: a.entityUrl, since: iso(ex.lastStatusChange) });
      } else if (ex.status === 'InProgress' && !SAFETY_ACTIONS.includes(a.actionName ?? '')
        && (category === 'Invoke' || (category === undefined && GATE_NAME.test(a.actionName ?? '')))) {
        blockers.push({ kind: 'gate', action: a.actionName, summary: ex.summary, url: ex.externalExecutionUrl, since: iso(ex.lastStatusChange) });
      } else if (ex.status === 'Failed' && st.latestExecution?.status === 'Failed') {
        blockers.push({ kind: 'failed', action: a.actionName, summary: ex.errorDetails?.message ?? ex.summary, url: ex.externalExecutionUrl, since: iso(ex.lastStatusChange) });
      }
    }
    return {
      name,
      state: st.latestExecution?.status ?? 'NotRun',
      execution: st.latestExecution?.pipelineExecutionId,
      inbound: st.inboundExecution?.pipelineExecutionId,
      actions,
      blockers,
    };
  });
}

function iso(d: Date | undefined): string | undefined {
  return d instanceof Date ? d.toISOString() : undefined;
}

/** Colours a CodePipeline status. */
export function colourStatus(status: string, s: Style): string {
  if (status === 'Succeeded') return s.green(status);
  if (status === 'Failed' || status === 'Cancelled' || status === 'Stopped') return s.red(status);
  if (status === 'InProgress' || status === 'Stopping') return s.yellow(status);
  return s.dim(status);
}

const ICON: Record<string, string> = { Succeeded: '✔', Failed: '✖', InProgress: '●', NotRun: '○' };

/** Renders a pipeline's status for people. */
export function renderStatus(status: PipelineStatus, s: Style): string {
  const lines = [`pipeline ${s.bold(status.pipeline)}${status.version !== undefined ? s.dim(` (version ${status.version})`) : ''}`];
  const width = Math.max(...status.stages.map(st => st.name.length), 5);
  for (const st of status.stages) {
    const icon = ICON[st.state] ?? '•';
    lines.push(`  ${colourStatus(icon, s)} ${st.name.padEnd(width)}  ${colourStatus(st.state, s)}${st.execution ? `  ${s.dim(`execution ${st.execution}`)}` : ''}`);
    if (st.entryCondition) {
      const e = st.entryCondition;
      lines.push(`      ${s.yellow(entryWaitText(e))}${e.execution ? s.dim(` (execution ${e.execution})`) : ''}`);
      if (e.windows.length > 0) lines.push(`        ${s.dim(`override: ddk-pipelines window override --stage ${st.name} --reason "…"`)}`);
    }
    const watched = (name: string) => name === ACTION_NAMES.alarmWatch && st.alarmWatch !== undefined;
    for (const a of st.actions.filter(x => x.status === 'InProgress' && !st.blockers.some(b => b.action === x.name) && !watched(x.name))) {
      lines.push(`      running: ${a.name}${a.summary ? ` — ${a.summary}` : ''}`);
    }
    if (st.alarmWatch) lines.push(`      ${s.yellow(alarmWatchText(st.alarmWatch, ''))}  ${s.dim(`(${ACTION_NAMES.alarmWatch}: an alarm in ALARM rolls the stage back)`)}`);
    if (st.successCondition) lines.push(`      ${s.yellow(alarmWatchText(st.successCondition, 'CICD '))}  ${s.dim('(OnSuccess condition: an alarm in ALARM rolls the stage back)')}`);
    for (const b of st.blockers) {
      const since = b.since ? s.dim(` since ${b.since}`) : '';
      if (b.kind === 'approval') {
        lines.push(`      ${s.yellow('waiting for approval')}: ${b.action}${since}${b.summary ? ` — ${b.summary}` : ''}`);
        if (st.changeReview) {
          const c = st.changeReview;
          lines.push(c.summary !== undefined
            ? `        change review: ${c.summary}`
            : `        ${s.dim(`change review: ${c.error ?? 'no summary'}`)}`);
          lines.push(`        ${s.dim(`full report: ddk-pipelines diff --stage ${st.name}`)}`);
        }
        lines.push(`        ${s.dim(`answer: ddk-pipelines approve|reject --pipeline ${status.pipeline} --stage ${st.name} [--reason …]`)}`);
      } else if (b.kind === 'gate') {
        lines.push(`      ${s.yellow('waiting on gate')}: ${b.action}${since}${b.summary ? ` — ${b.summary}` : ''}${b.url ? ` ${b.url}` : ''}`);
      } else if (b.kind === 'failed') {
        lines.push(`      ${s.red('failed')}: ${b.action}${b.summary ? ` — ${b.summary}` : ''}${b.url ? ` ${b.url}` : ''}`);
      } else {
        lines.push(`      ${s.yellow('transition disabled')}: ${b.summary}${since}`);
      }
    }
    for (const c of st.checks ?? []) {
      if (c.state === 'success') continue;
      lines.push(`        ${c.required ? 'required ' : ''}check ${s.bold(c.context)}: ${colourState(c.state, s)}${c.description ? ` — ${c.description}` : ''}${c.targetUrl ? ` ${c.targetUrl}` : ''}`);
    }
    if (st.checksError) lines.push(`        ${s.dim(`(checks unavailable: ${st.checksError})`)}`);
    if (st.inbound) lines.push(`      ${s.dim(`next in: execution ${st.inbound}`)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Options of `status`. */
export interface StatusOptions extends PipelineOptions, Pick<ApiOptions, 'endpoint'> {}

/** Action categories by `stage/action`, from GetPipeline (empty when it cannot be read). */
async function actionCategories(ctx: PipelineContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  try {
    const p = await ctx.client.send(new GetPipelineCommand({ name: ctx.pipeline }));
    for (const st of p.pipeline?.stages ?? []) {
      for (const a of st.actions ?? []) {
        if (a.actionTypeId?.category) out.set(`${st.name}/${a.name}`, a.actionTypeId.category);
      }
    }
  } catch {
    // Categories only sharpen the report (approval vs gate); names and tokens still tell.
  }
  return out;
}

/**
 * Reads the status checks of the revision a waiting gate holds, and marks the stage's required
 * contexts from ddk.json (contexts not reported yet show as `not reported`).
 */
async function gateChecks(ctx: PipelineContext, stage: StageStatus, options: StatusOptions, io: Io): Promise<StageStatus> {
  try {
    const api = await apiFor({ ...options, pipeline: ctx.checksPipeline }, io);
    const ex = await ctx.client.send(new GetPipelineExecutionCommand({ pipelineName: ctx.pipeline, pipelineExecutionId: stage.execution! }));
    const revision = ex.pipelineExecution?.artifactRevisions?.[0]?.revisionId;
    if (!revision) return { ...stage, checksError: 'the execution carries no source revision' };
    const r = await api.listChecks(ctx.checksPipeline, revision);
    const required = new Set(ctx.plan?.name === ctx.checksPipeline ? ctx.plan.stages.find(p => p.name === stage.name)?.requiredChecks ?? [] : []);
    const relevant = r.checks.filter(c => c.stage === undefined || c.stage === null || c.stage === stage.name);
    const checks = relevant.map(c => ({
      context: String(c.context),
      state: String(c.state),
      required: required.has(String(c.context)),
      ...(c.targetUrl ? { targetUrl: String(c.targetUrl) } : {}),
      ...(c.description ? { description: String(c.description) } : {}),
    }));
    for (const ctxName of required) {
      if (!checks.some(c => c.context === ctxName)) checks.push({ context: ctxName, state: 'not reported', required: true });
    }
    return { ...stage, checks };
  } catch (e: any) {
    return { ...stage, checksError: e?.message ?? String(e) };
  }
}

/**
 * The change review's summary for each stage whose approval waits and whose plan stage has
 * `changeReview` (the ChangeReview action's output variables in the stage's execution).
 */
async function changeReviews(ctx: PipelineContext, plan: DeliveryPlan | undefined, stages: StageStatus[]): Promise<StageStatus[]> {
  return Promise.all(stages.map(async st => {
    if (!st.blockers.some(b => b.kind === 'approval') || !planStageFor(plan, st.name)?.changeReview || !st.execution) return st;
    try {
      const run = await findChangeReview(ctx.client, ctx.pipeline, st.name, st.execution);
      const changeReview: ChangeReviewStatus = run === undefined
        ? { error: `no ${ACTION_NAMES.changeReview} ran in execution ${st.execution}` }
        : { ...(run.summary !== undefined ? { summary: run.summary } : { error: `${ACTION_NAMES.changeReview} gave no Summary (status ${run.status ?? '?'})` }), ...(run.reportUri ? { reportUri: run.reportUri } : {}) };
      return { ...st, changeReview };
    } catch (e: any) {
      return { ...st, changeReview: { error: `cannot read the change review (${e?.name ?? 'Error'}: ${e?.message ?? e}; needs codepipeline:ListActionExecutions)` } };
    }
  }));
}

/** `status`: each stage with the execution in it, its state, and why a blocked one waits. */
export async function statusCommand(options: StatusOptions, io: Io, now: () => Date = () => new Date()): Promise<number> {
  const ctx = pipelineContext(options, io);
  const [state, categories] = await aws(io, ctx, 'reading the pipeline state', () => Promise.all([
    ctx.client.send(new GetPipelineStateCommand({ name: ctx.pipeline })),
    actionCategories(ctx),
  ]));
  // deployment safety: windows, alarm watches and change reviews, from the plan of this pipeline
  const plan = pipelineOfPlan(ctx.plan, ctx.pipeline) ? ctx.plan : undefined;
  const safety = pipelineSafety(state, plan, now());
  let stages = stageStatuses(state, categories).map(st => ({ ...st, ...safety.get(st.name) }));
  if (stages.some(st => st.blockers.some(b => b.kind === 'approval') && planStageFor(plan, st.name)?.changeReview)) {
    stages = await io.progress('reading change reviews', () => changeReviews(ctx, plan, stages));
  }
  const apiKnown = options.endpoint !== undefined || (io.env[API_ENDPOINT_ENV] ?? '') !== '';
  if (apiKnown) {
    stages = await io.progress('reading status checks', () => Promise.all(stages.map(st =>
      st.blockers.some(b => b.kind === 'gate') && st.execution ? gateChecks(ctx, st, options, io) : Promise.resolve(st))));
  }
  const status: PipelineStatus = { pipeline: state.pipelineName ?? ctx.pipeline, version: state.pipelineVersion, stages };
  if (options.json) printJson(io, status);
  else io.out(renderStatus(status, io.style));
  return 0;
}

/** Options of `executions`. */
export interface ExecutionsOptions extends PipelineOptions {
  /** How many executions, newest first (default 10). */
  readonly limit?: string | number;
}

/** Parses `--limit`. */
export function parseLimit(value: string | number | undefined, fallback = 10): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new CliError(`--limit: "${value}" is not a whole number from 1 to 1000`, 2);
  return n;
}

/** `executions`: the latest executions, newest first. */
export async function executionsCommand(options: ExecutionsOptions, io: Io): Promise<number> {
  const limit = parseLimit(options.limit);
  const ctx = pipelineContext(options, io);
  const summaries: PipelineExecutionSummary[] = await aws(io, ctx, 'listing executions', async () => {
    const out: PipelineExecutionSummary[] = [];
    let nextToken: string | undefined;
    do {
      const page = await ctx.client.send(new ListPipelineExecutionsCommand({
        pipelineName: ctx.pipeline,
        maxResults: Math.min(100, limit - out.length),
        nextToken,
      }));
      out.push(...(page.pipelineExecutionSummaries ?? []));
      nextToken = page.nextToken;
    } while (nextToken && out.length < limit);
    return out.slice(0, limit);
  });
  const rows = summaries.map(e => ({
    execution: e.pipelineExecutionId,
    status: e.status,
    type: e.executionType,
    started: iso(e.startTime),
    updated: iso(e.lastUpdateTime),
    trigger: e.trigger?.triggerType,
    revision: e.sourceRevisions?.[0]?.revisionId,
    revisionSummary: e.sourceRevisions?.[0]?.revisionSummary,
    statusSummary: e.statusSummary,
  }));
  if (options.json) {
    printJson(io, { pipeline: ctx.pipeline, executions: rows });
    return 0;
  }
  if (rows.length === 0) {
    io.out(`pipeline ${ctx.pipeline} has no executions\n`);
    return 0;
  }
  const s = io.style;
  const table = [
    ['EXECUTION', 'STATUS', 'STARTED', 'TRIGGER', 'REVISION'].map(h => s.dim(h)),
    ...rows.map(r => [
      r.execution ?? '?',
      colourStatus(r.status ?? '?', s) + (r.type === 'ROLLBACK' ? s.dim(' (rollback)') : ''),
      r.started ?? '-',
      r.trigger ?? '-',
      `${(r.revision ?? '-').slice(0, 12)}${r.revisionSummary ? ` ${firstLine(r.revisionSummary)}` : ''}`,
    ]),
  ];
  io.out(`${columns(table).join('\n')}\n`);
  return 0;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0];
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/** The state of one stage, or an error naming the stages there are. */
export function findStage(state: GetPipelineStateOutput, pipeline: string, stage: string): StageState {
  const st = (state.stageStates ?? []).find(x => x.stageName === stage);
  if (!st) {
    const names = (state.stageStates ?? []).map(x => x.stageName ?? '?');
    throw new CliError(`pipeline "${pipeline}" has no stage "${stage}"${didYouMean(stage, names)}; its stages are ${names.map(n => `"${n}"`).join(', ')}. `
      + 'Fix: correct --stage, or, if ddk.json has the stage, deploy the CICD stack (the deployed pipeline does not have it yet)', 2);
  }
  return st;
}

/** Options of `approve` and `reject`. */
export interface ApprovalOptions extends PipelineOptions {
  readonly stage?: string;
  readonly reason?: string;
  /** The approval action, when a stage has more than one waiting. */
  readonly action?: string;
}

/** `approve` / `reject`: answers the approval waiting in a stage. */
export async function approvalCommand(decision: 'Approved' | 'Rejected', options: ApprovalOptions, io: Io): Promise<number> {
  if (options.stage === undefined || options.stage.trim() === '') throw new CliError('--stage is required: the stage whose approval to answer', 2);
  const ctx = pipelineContext(options, io);
  const state = await aws(io, ctx, 'reading the pipeline state', () => ctx.client.send(new GetPipelineStateCommand({ name: ctx.pipeline })));
  const st = findStage(state, ctx.pipeline, options.stage);
  let waiting = (st.actionStates ?? []).filter(a => waitingApproval(a) && a.latestExecution?.token);
  if (options.action !== undefined) waiting = waiting.filter(a => a.actionName === options.action);
  if (waiting.length === 0) {
    const which = options.action !== undefined ? `no approval "${options.action}"` : 'no approval';
    throw new CliError(`${which} is waiting in stage "${options.stage}" of ${ctx.pipeline} (stage state: ${st.latestExecution?.status ?? 'NotRun'}). Fix: see \`ddk-pipelines status\``);
  }
  if (waiting.length > 1) {
    throw new CliError(`${waiting.length} approvals wait in stage "${options.stage}": ${waiting.map(a => a.actionName).join(', ')}. Fix: pass --action <name>`, 2);
  }
  const action = waiting[0];
  const summary = options.reason ?? `${decision} with the ddk-pipelines CLI`;
  await aws(io, ctx, decision === 'Approved' ? 'approving' : 'rejecting', () => ctx.client.send(new PutApprovalResultCommand({
    pipelineName: ctx.pipeline,
    stageName: options.stage,
    actionName: action.actionName,
    token: action.latestExecution!.token,
    result: { status: decision, summary },
  })));
  const result = {
    pipeline: ctx.pipeline,
    stage: options.stage,
    action: action.actionName,
    execution: st.latestExecution?.pipelineExecutionId,
    decision,
    summary,
  };
  if (options.json) printJson(io, result);
  else io.out(`${decision === 'Approved' ? io.style.green('approved') : io.style.red('rejected')} ${action.actionName} in ${ctx.pipeline}/${options.stage}${result.execution ? ` (execution ${result.execution})` : ''}: ${summary}\n`);
  return 0;
}

/** Options of `rollback`. */
export interface RollbackOptions extends PipelineOptions {
  readonly stage?: string;
  /** The execution to roll back to; default: the last successful execution of the stage. */
  readonly to?: string;
}

/**
 * Whether CodePipeline accepts an execution as a RollbackStage target: only STANDARD executions
 * (a rollback execution cannot be rolled back to). Executions listed without a type predate
 * stage rollback and are standard.
 */
export function isRollbackTarget(e: Pick<PipelineExecutionSummary, 'executionType'>): boolean {
  return e.executionType === undefined || e.executionType === ExecutionType.STANDARD;
}

/**
 * The execution to roll a stage back to: the newest STANDARD execution that succeeded in the
 * stage, other than the one the stage holds now. Rollback executions (an automatic rollback on
 * failure, an earlier `rollback`) also succeed in the stage but are never targets.
 */
export async function lastSuccessfulExecution(ctx: PipelineContext, stage: string, current: string | undefined): Promise<string | undefined> {
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await ctx.client.send(new ListPipelineExecutionsCommand({
      pipelineName: ctx.pipeline,
      filter: { succeededInStage: { stageName: stage } },
      maxResults: 50,
      nextToken,
    }));
    const hit = (page.pipelineExecutionSummaries ?? [])
      .find(e => e.pipelineExecutionId !== undefined && e.pipelineExecutionId !== current && isRollbackTarget(e));
    if (hit) return hit.pipelineExecutionId;
    nextToken = page.nextToken;
  } while (nextToken && ++pages < 20);
  return undefined;
}

/**
 * Refuses a `--to` that CodePipeline would refuse: a rollback execution. The error names the
 * standard execution that rollback restored, which is the target the user most likely meant.
 */
async function checkTarget(ctx: PipelineContext, io: Io, target: string): Promise<void> {
  const r = await aws(io, ctx, `reading execution ${target}`, () => ctx.client.send(new GetPipelineExecutionCommand({
    pipelineName: ctx.pipeline,
    pipelineExecutionId: target,
  })));
  const ex = r?.pipelineExecution;
  if (ex === undefined || isRollbackTarget(ex)) return;
  const restored = ex.rollbackMetadata?.rollbackTargetPipelineExecutionId;
  throw new CliError(`--to: execution ${target} is a rollback execution (type ${ex.executionType}); CodePipeline rolls back only to STANDARD executions. `
    + `Fix: pass ${restored ? `--to ${restored} (the execution it restored)` : 'a standard execution'}, or leave out --to for the last successful one (see \`ddk-pipelines executions\`)`, 2);
}

/** `rollback`: CodePipeline RollbackStage to `--to`, else the last successful execution of the stage. */
export async function rollbackCommand(options: RollbackOptions, io: Io): Promise<number> {
  if (options.stage === undefined || options.stage.trim() === '') throw new CliError('--stage is required: the stage to roll back', 2);
  const stage = options.stage;
  const ctx = pipelineContext(options, io);
  const state = await aws(io, ctx, 'reading the pipeline state', () => ctx.client.send(new GetPipelineStateCommand({ name: ctx.pipeline })));
  const st = findStage(state, ctx.pipeline, stage);
  const current = st.latestExecution?.pipelineExecutionId;
  const target = options.to ?? await aws(io, ctx, 'finding the last successful execution', () => lastSuccessfulExecution(ctx, stage, current));
  if (!target) {
    throw new CliError(`stage "${stage}" of ${ctx.pipeline} has no earlier successful standard (non-rollback) execution to roll back to. Fix: pass --to <execution> (see \`ddk-pipelines executions\`)`);
  }
  if (target === current && options.to !== undefined) {
    throw new CliError(`stage "${stage}" already holds execution ${target}. Fix: pass an earlier execution with --to`, 2);
  }
  if (options.to !== undefined) await checkTarget(ctx, io, target);
  const r = await aws(io, ctx, `rolling back ${stage}`, () => ctx.client.send(new RollbackStageCommand({
    pipelineName: ctx.pipeline,
    stageName: stage,
    targetPipelineExecutionId: target,
  })));
  const result = { pipeline: ctx.pipeline, stage, from: current, to: target, rollbackExecution: r.pipelineExecutionId };
  if (options.json) printJson(io, result);
  else io.out(`rolling back ${ctx.pipeline}/${stage} to execution ${target}${current ? ` (from ${current})` : ''}: rollback execution ${r.pipelineExecutionId ?? '?'} started\n`);
  return 0;
}
