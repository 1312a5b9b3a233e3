/* eslint-disable import/no-extraneous-dependencies -- the CLI is bundled into dist/cli by esbuild; the library never loads this module */
import { CodePipelineClient, GetPipelineStateCommand, StageState } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
/* eslint-enable import/no-extraneous-dependencies */
import { apiFor, ApiOptions } from './checks';
import { CliError, Io, printJson } from './io';
import { aws, findStage, PipelineContext } from './pipeline-ops';
import { optionalPlan, PipelineTargetOptions } from './project';
import { ChangeReviewRun, findChangeReview, pipelineOfPlan, waitingExecution, waitsAtEntry, windowReport, WindowReport } from './safety-status';
import { didYouMean } from '../config/issues';
import { DeliveryPlan, PlanStage } from '../model';
import { renderChangeReport } from '../safety/change-review';
import { ACTION_NAMES, CHANGE_REVIEW_VARIABLES, ChangeReport, CONDITION_OVERRIDE_REASON_LENGTH, ConditionOverrideRequest, EXECUTION_ID_PATTERN, REPORT_PREFIX } from '../safety/shared';
import { describeWindow } from '../safety/windows';

/*
 * Deployment-safety commands (issue 13): `diff` prints a stage's change report, `window override`
 * lets the execution waiting for a stage's deployment window in, `window status` says whether the
 * windows are open (offline). Stages and pipelines are found through the plan of ddk.json.
 */

/** Options of the deployment-safety commands. */
export interface SafetyOptions extends PipelineTargetOptions {
  /** The plan stage the command is about. */
  readonly stage?: string;
  /** Region of the pipeline; default: the CICD region of ddk.json. */
  readonly region?: string;
  readonly json?: boolean;
}

/** The plan stage of `--stage`, or a usage error naming the stages. */
function planStage(plan: DeliveryPlan, stage: string | undefined): PlanStage {
  if (stage === undefined || stage.trim() === '') throw new CliError('--stage is required: the name of a stage of ddk.json', 2);
  const found = plan.stages.find(s => s.name === stage);
  if (!found) {
    const names = plan.stages.map(s => s.name);
    throw new CliError(`--stage: ${plan.config.file} has no stage "${stage}"${didYouMean(stage, names)}; its stages are ${names.map(n => `"${n}"`).join(', ')}. Fix: pass one of them`, 2);
  }
  return found;
}

/** The plan these commands need (they read the stage's windows and change review from it). */
function requirePlan(options: PipelineTargetOptions, io: Io, what: string): DeliveryPlan {
  const plan = optionalPlan(options, io.cwd, true);
  if (!plan) throw new CliError(`${what} reads the stage from ddk.json. Fix: run in the folder of ddk.json, or pass --config <file>`, 2);
  if (options.pipeline !== undefined && !pipelineOfPlan(plan, options.pipeline)) {
    throw new CliError(`--pipeline: "${options.pipeline}" is not a pipeline of ${plan.config.file} (pipeline "${plan.name}"). Fix: pass --config <the ddk.json of that pipeline>, or leave out --pipeline`, 2);
  }
  return plan;
}

/**
 * The CodePipeline pipeline that runs a plan stage (one of `plan.pipelinesOfStage`): `--pipeline`
 * when it runs the stage, else the stage's one pipeline (with services a per-service stage needs
 * `--pipeline`: it runs in each service's pipeline).
 */
export function stagePipeline(plan: DeliveryPlan, stage: PlanStage, given?: string): string {
  const holding = plan.pipelinesOfStage(stage.name);
  const perService = plan.releasePlan !== undefined && !stage.bracket;
  if (given !== undefined) {
    // --pipeline must be one that runs the stage (with Gitflow the stage's own, with services the release pipeline or each service's)
    if (!holding.includes(given)) {
      const where = perService ? `stage "${stage.name}" runs in each service's own pipeline (${holding.join(', ')})`
        : stage.bracket && plan.releasePlan ? `bracket stage "${stage.name}" runs in the release pipeline ${holding[0]}`
          : `stage "${stage.name}" runs in the pipeline ${holding[0]}`;
      throw new CliError(`--pipeline: "${given}" does not run stage "${stage.name}": ${where}. Fix: ${perService ? 'pass --pipeline <one of them>' : 'leave out --pipeline'}`, 2);
    }
    return given;
  }
  if (perService) {
    throw new CliError(`stage "${stage.name}" runs in each service's own pipeline (${holding.join(', ')}). Fix: pass --pipeline <one of them>`, 2);
  }
  return holding[0];
}

/** The pipeline context of a stage: its pipeline, a client in the CICD region. */
function stageContext(plan: DeliveryPlan, stage: PlanStage, options: SafetyOptions): PipelineContext {
  const pipeline = stagePipeline(plan, stage, options.pipeline);
  const region = options.region ?? plan.cicd.region;
  return { pipeline, checksPipeline: plan.name, plan, client: new CodePipelineClient({ region }) };
}

/** The state of one stage in GetPipelineState, or an error naming the stages the pipeline has. */
async function stageState(io: Io, ctx: PipelineContext, stage: string): Promise<StageState> {
  const state = await aws(io, ctx, 'reading the pipeline state', () => ctx.client.send(new GetPipelineStateCommand({ name: ctx.pipeline })));
  return findStage(state, ctx.pipeline, stage);
}

/** CodePipeline's pipeline execution ids (OverrideStageCondition's pattern). */

function checkExecution(execution: string | undefined): string | undefined {
  if (execution === undefined) return undefined;
  if (!EXECUTION_ID_PATTERN.test(execution)) {
    throw new CliError(`--execution: "${execution}" is not a pipeline execution id; expected a UUID such as 3137f7cb-7cf7-4c2b-9c3e-1b1e5f1c0f6e (see \`ddk-pipelines executions\`)`, 2);
  }
  return execution;
}

// ---------------------------------------------------------------------------------------------
// diff

/** Options of `diff`. */
export interface DiffOptions extends SafetyOptions {
  /** The execution whose change review to print; default: the stage's latest. */
  readonly execution?: string;
}

/** `s3://bucket/key` split, or undefined. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { bucket: m[1], key: m[2] } : undefined;
}

/** The change review's run: of `--execution`, else of the stage's latest execution, else the newest. */
async function changeReviewRun(io: Io, ctx: PipelineContext, stage: PlanStage, execution: string | undefined): Promise<ChangeReviewRun> {
  let run: ChangeReviewRun | undefined;
  let latest: string | undefined;
  if (execution !== undefined) {
    run = await aws(io, ctx, 'finding the change review', () => findChangeReview(ctx.client, ctx.pipeline, stage.name, execution));
  } else {
    latest = (await stageState(io, ctx, stage.name)).latestExecution?.pipelineExecutionId;
    run = await aws(io, ctx, 'finding the change review', async () =>
      (latest !== undefined ? await findChangeReview(ctx.client, ctx.pipeline, stage.name, latest) : undefined)
        ?? findChangeReview(ctx.client, ctx.pipeline, stage.name));
  }
  if (!run) {
    const which = execution !== undefined ? `in execution ${execution}` : 'yet';
    throw new CliError(`no change review has run in stage "${stage.name}" of ${ctx.pipeline} ${which}: it runs when an execution enters the stage (after its windows and gate), `
      + `and CodePipeline keeps action executions for 12 months. Fix: ${execution !== undefined ? 'pass an execution that reached the stage (see `ddk-pipelines executions`)' : 'wait until an execution reaches the stage (see `ddk-pipelines status`)'}`);
  }
  if (run.reportUri === undefined) {
    const state = run.status ?? 'unknown';
    throw new CliError(state === 'InProgress'
      ? `the change review of stage "${stage.name}" (execution ${run.execution}) is still running. Fix: run the command again in a minute`
      : `the change review of stage "${stage.name}" (execution ${run.execution}) ended ${state} without a report (no ${CHANGE_REVIEW_VARIABLES.reportUri} variable). Fix: see why in \`ddk-pipelines status\` or the ${ACTION_NAMES.changeReview} action's details in the console`);
  }
  return run;
}

/** Reads the report from S3 with the caller's credentials; every failure explained. */
async function readReport(io: Io, plan: DeliveryPlan, run: ChangeReviewRun, region: string, s3: S3Client): Promise<ChangeReport> {
  const uri = run.reportUri!;
  const where = parseS3Uri(uri);
  if (!where) throw new CliError(`the change review gave "${uri}" as its ReportUri, which is not s3://bucket/key. Fix: redeploy the pipeline (its change review is older than this CLI)`);
  let text: string;
  try {
    const r = await io.progress(`reading ${uri}`, () => s3.send(new GetObjectCommand({ Bucket: where.bucket, Key: where.key })));
    text = r.Body ? await r.Body.transformToString('utf-8') : '';
  } catch (e: any) {
    const name: string = e?.name ?? e?.Code ?? 'Error';
    const retention = `pipeline artifacts, change reports included, expire after ${plan.artifactRetentionDays} days (pipeline.artifactRetentionDays)`;
    if (name === 'NoSuchKey' || (e?.$metadata?.httpStatusCode === 404 && name !== 'NoSuchBucket')) {
      throw new CliError(`the change report ${uri} (execution ${run.execution}${run.startTime ? `, reviewed ${run.startTime.toISOString()}` : ''}) no longer exists: ${retention}. `
        + 'Fix: run the stage again for a new review, or raise pipeline.artifactRetentionDays');
    }
    if (name === 'NoSuchBucket') {
      throw new CliError(`the bucket of the change report ${uri} does not exist (the pipeline's artifact bucket was deleted or replaced). Fix: run the stage again for a new review`);
    }
    if (name === 'AccessDenied' || name === 'Forbidden' || e?.$metadata?.httpStatusCode === 403 || /kms/i.test(e?.message ?? '')) {
      throw new CliError(`AccessDenied reading the change report ${uri} (region ${region}): ${e?.message ?? name}. Your credentials need s3:GetObject on arn:aws:s3:::${where.bucket}/${REPORT_PREFIX}* `
        + `and kms:Decrypt on the artifact bucket's KMS key (the pipeline's artifact key). Without s3:ListBucket on the bucket, S3 also answers AccessDenied for a report that no longer exists (${retention}). `
        + 'Fix: use credentials of the CICD account with these permissions');
    }
    throw new CliError(`cannot read the change report ${uri}: ${name}: ${e?.message ?? e}`);
  }
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch {
    throw new CliError(`the change report ${uri} is not JSON. Fix: run the stage again for a new review`);
  }
  const r = report as Partial<ChangeReport> | null;
  if (r === null || typeof r !== 'object' || !Array.isArray(r.stacks) || typeof r.summary !== 'string') {
    throw new CliError(`the change report ${uri} is not a change report (expected "summary" and "stacks"). Fix: run the stage again for a new review`);
  }
  return r as ChangeReport;
}

/** `diff --stage <name>`: the change review's full report of a stage (its latest, or of an execution). */
export async function diffCommand(options: DiffOptions, io: Io, s3?: S3Client): Promise<number> {
  const execution = checkExecution(options.execution);
  const plan = requirePlan(options, io, 'diff');
  const stage = planStage(plan, options.stage);
  if (!stage.changeReview) {
    const index = plan.stages.indexOf(stage);
    throw new CliError(`stage "${stage.name}" has no change review (${plan.config.file}: pipeline.stages[${index}].changeReview is not set), so there is no report to show. `
      + `Fix: add "changeReview": true to the stage in ${plan.config.file} (it then needs an approval) and deploy`, 2);
  }
  const ctx = stageContext(plan, stage, options);
  const run = await changeReviewRun(io, ctx, stage, execution);
  const region = options.region ?? plan.cicd.region;
  const report = await readReport(io, plan, run, region, s3 ?? new S3Client({ region }));
  if (options.json) printJson(io, report);
  else io.out(`${renderChangeReport(report)}\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// window override, window status

/** Options of `window override`. */
export interface WindowOverrideOptions extends SafetyOptions, Pick<ApiOptions, 'endpoint' | 'stack'> {
  readonly reason?: string;
  /** The execution waiting; default: the one GetPipelineState shows waiting at the stage. */
  readonly execution?: string;
}

/** The longest reason the API records (ConditionOverrideRequest). */

/** The stage of `--stage` with windows, or an error that says there is nothing to override. */
function windowedStage(plan: DeliveryPlan, stageName: string | undefined): PlanStage {
  const stage = planStage(plan, stageName);
  if (stage.windows.length === 0) {
    const windowed = plan.stages.filter(s => s.windows.length > 0).map(s => `"${s.name}"`);
    throw new CliError(`stage "${stage.name}" has no deployment window (${plan.config.file}: pipeline.stages[${plan.stages.indexOf(stage)}].window is not set): nothing to override. `
      + `Fix: ${windowed.length > 0 ? `pass a stage with windows (${windowed.join(', ')})` : `add "window": {"cron": "…", "timeZone": "…"} to a stage in ${plan.config.file}`}`, 2);
  }
  return stage;
}

/**
 * `window override --stage <name> --reason "…"`: lets the execution waiting for the stage's
 * deployment windows in (status-check API POST /conditions/override: recorded, then
 * CodePipeline OverrideStageCondition BEFORE_ENTRY).
 */
export async function windowOverrideCommand(options: WindowOverrideOptions, io: Io, now: () => Date = () => new Date()): Promise<number> {
  const reason = options.reason?.trim() ?? '';
  if (reason === '') throw new CliError('--reason is required: why the window is overridden (kept with who and when)', 2);
  if (reason.length > CONDITION_OVERRIDE_REASON_LENGTH) throw new CliError(`--reason: ${reason.length} characters; the override keeps at most ${CONDITION_OVERRIDE_REASON_LENGTH}. Fix: shorten it`, 2);
  let execution = checkExecution(options.execution);
  const plan = requirePlan(options, io, 'window override');
  const stage = windowedStage(plan, options.stage);
  const ctx = stageContext(plan, stage, options);
  if (execution === undefined) {
    const st = await stageState(io, ctx, stage.name);
    if (!waitsAtEntry(st)) {
      const report = windowReport(stage, now());
      throw new CliError(`nothing waits for the window of stage "${stage.name}" in ${ctx.pipeline} (its entry condition is ${st.beforeEntryConditionState?.latestExecution?.status ?? 'not running'}; `
        + `the window${stage.windows.length > 1 ? 's are' : ' is'} ${report.openNow ? 'open' : 'closed'} now). Fix: see \`ddk-pipelines status\`; pass --execution <id> to name the execution yourself`);
    }
    execution = waitingExecution(st);
    if (execution === undefined) throw new CliError(`stage "${stage.name}" waits at its entry condition, but GetPipelineState names no execution. Fix: pass --execution <id> (see \`ddk-pipelines executions\`)`);
  }
  const api = await apiFor({ ...options, pipeline: plan.name }, io);
  const request: ConditionOverrideRequest = { pipeline: ctx.pipeline, stage: stage.name, executionId: execution, reason };
  const response = await io.progress('overriding the window', () => api.overrideCondition(request));
  if (options.json) {
    printJson(io, response ?? request);
  } else {
    io.out(`window of ${ctx.pipeline}/${stage.name} overridden for execution ${execution}: "${reason}" `
      + `(recorded with who and when; ${stage.windows.map(describeWindow).join(', ')} no longer holds this execution)\n`);
  }
  return 0;
}

/** Options of `window status`. */
export interface WindowStatusOptions {
  readonly config?: string;
  readonly stage?: string;
  readonly json?: boolean;
}

/** `window status [--stage <name>]`: whether each stage's windows are open now, and when that changes (offline). */
export function windowStatusCommand(options: WindowStatusOptions, io: Io, now: () => Date = () => new Date()): number {
  const plan = requirePlan({ config: options.config }, io, 'window status');
  const stages = options.stage !== undefined ? [windowedStage(plan, options.stage)] : plan.stages.filter(s => s.windows.length > 0);
  const at = now();
  const reports: WindowReport[] = stages.map(s => windowReport(s, at));
  if (options.json) {
    printJson(io, { at: at.toISOString(), stages: reports });
    return 0;
  }
  if (reports.length === 0) {
    io.out(`no stage of ${plan.config.file} has a deployment window: every stage may be entered at any time\n`);
    return 0;
  }
  const s = io.style;
  for (const r of reports) {
    const state = r.openNow
      ? `${s.green('open')}${r.closesAt ? `, closes at ${r.closesAt} (in ${r.closesIn})` : ', for the next 7 days at least'}`
      : `${s.yellow('closed')}${r.opensAt ? `, opens at ${r.opensAt} (in ${r.opensIn})` : ', does not open in the next 400 days'}`;
    io.out(`${s.bold(r.stage)}  ${r.windows.join(' and ')}: ${state}\n`);
  }
  return 0;
}
