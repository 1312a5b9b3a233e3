import { decide, Decision } from './decision';
import type { EventPublisher } from './events';
import { parseGateParameters } from './requests';
import type { GateDecidedDetail, GateParameters, GateRecord, PipelineSettings, StageSettings, StructuredLogger } from './shared';
import { DETAIL_TYPES } from './shared';
import { StatusCheckStore } from './store';

/*
 * The status-check gate's logic, independent of CodePipeline's API: the handler
 * (lambda/status-checks-gate) hands over the job and turns the outcome into
 * PutJobSuccessResult (with a continuation token while waiting) or PutJobFailureResult.
 */

/** The parts of a CodePipeline job the gate reads. */
export interface GateJob {
  readonly id: string;
  /** The action's UserParameters (JSON `GateParameters`). */
  readonly userParameters?: string;
  /** The token of the previous invocation when CodePipeline re-invokes a waiting gate. */
  readonly continuationToken?: string;
}

/** What to tell CodePipeline. */
export type GateOutcome =
  | { readonly kind: 'success'; readonly summary: string }
  | { readonly kind: 'continue'; readonly summary: string; readonly continuationToken: string; readonly percentComplete: number }
  | { readonly kind: 'failure'; readonly message: string };

/** What the gate needs. */
export interface GateDependencies {
  /** The pipeline and its stages' required contexts (`ENV.PIPELINE_SETTINGS`). */
  readonly settings: PipelineSettings;
  readonly store: StatusCheckStore;
  readonly events: EventPublisher;
  readonly now: () => Date;
  readonly logger: StructuredLogger;
}

/** The continuation token: when the gate started waiting for this execution. */
interface Token {
  readonly v: 1;
  readonly startedAt: string;
}

/** CodePipeline's limits on what the gate sends back. */
export const CODEPIPELINE_TEXT_LIMITS = { summary: 2048, failureMessage: 5000, continuationToken: 2048 } as const;

/**
 * Decides the gate for one job. Never throws: a misconfigured action, or a store that cannot
 * be read or written, fails the job (fail closed).
 */
export async function runGate(job: GateJob, deps: GateDependencies): Promise<{ outcome: GateOutcome; decision?: Decision }> {
  const parsed = parseGateParameters(job.userParameters);
  if (!parsed.ok) {
    deps.logger.error('gate misconfigured', { jobId: job.id, issues: parsed.issues });
    return { outcome: { kind: 'failure', message: fit(`The status-check gate is misconfigured: ${parsed.issues.join(' | ')}`, CODEPIPELINE_TEXT_LIMITS.failureMessage) } };
  }
  const p = parsed.value;
  const stage = stageOf(p, deps.settings);
  if (typeof stage === 'string') {
    deps.logger.error('gate misconfigured', { jobId: job.id, issues: [stage] });
    return { outcome: { kind: 'failure', message: fit(`The status-check gate is misconfigured: ${stage}`, CODEPIPELINE_TEXT_LIMITS.failureMessage) } };
  }
  const declared = stage.requiredChecks;
  const now = deps.now();
  const startedAt = tokenStart(job.continuationToken, deps.logger) ?? now;

  try {
    const [changes, checks, state] = await Promise.all([
      deps.store.requirementChanges(p.pipeline, p.stage),
      deps.store.latestChecks(p.pipeline, p.revision),
      deps.store.gateState(p.pipeline, p.stage, p.executionId),
    ]);
    const decision = decide({
      stage: p.stage,
      revision: p.revision,
      declared,
      changes,
      checks,
      overrides: state.overrides,
      elapsedMinutes: (now.getTime() - startedAt.getTime()) / 60_000,
      timeoutMinutes: p.timeoutMinutes,
    });
    const record: GateRecord = {
      pipeline: p.pipeline,
      stage: p.stage,
      execution: p.executionId,
      revision: p.revision,
      declared,
      startedAt: startedAt.toISOString(),
      decidedAt: now.toISOString(),
      verdict: decision.verdict,
      summary: decision.summary,
    };
    await deps.store.putGate(record, now);
    deps.logger.info('gate decided', { jobId: job.id, pipeline: p.pipeline, stage: p.stage, execution: p.executionId, revision: p.revision, verdict: decision.verdict });

    const previous = state.gate;
    if (!previous || previous.verdict !== record.verdict || previous.summary !== record.summary) {
      const detail: GateDecidedDetail = { ...record, required: decision.required, ...(previous ? { previousVerdict: previous.verdict } : {}) };
      try {
        await deps.events.publish(DETAIL_TYPES.GATE_DECIDED, detail);
      } catch (e) {
        // the decision stands; the event stream misses one change (logged for alarms)
        deps.logger.error('gate decision event not published', { jobId: job.id, error: (e as Error).message });
      }
    }
    return { outcome: outcomeOf(decision, startedAt), decision };
  } catch (e) {
    deps.logger.error('gate failed closed', { jobId: job.id, error: (e as Error).message });
    return {
      outcome: {
        kind: 'failure',
        message: fit(`Status-check gate of stage "${p.stage}" failed closed: ${(e as Error).message}. The stage does not deploy when its checks cannot be read. Fix: restore access to the table (see the gate function's logs), then retry the stage`, CODEPIPELINE_TEXT_LIMITS.failureMessage),
      },
    };
  }
}

/** The stage the action guards, from the settings; or why it is not there. */
function stageOf(p: GateParameters, settings: PipelineSettings): StageSettings | string {
  if (p.pipeline !== settings.pipeline) {
    return `UserParameters.pipeline: "${p.pipeline}" is not the pipeline this gate serves; expected "${settings.pipeline}". Fix: render the gate with the StatusChecks construct of pipeline "${p.pipeline}" (StatusChecks.gateStep or gateAction)`;
  }
  const stage = settings.stages.find(s => s.name === p.stage);
  if (!stage) {
    return `UserParameters.stage: "${p.stage}" is not a stage of pipeline "${settings.pipeline}"; expected one of ${settings.stages.map(s => `"${s.name}"`).join(', ')}. Fix: render the gate for a stage of ${settings.file} with StatusChecks.gateStep or gateAction, and deploy the CICD stack (the gate function reads the stages' requiredChecks from its environment)`;
  }
  return stage;
}

function outcomeOf(d: Decision, startedAt: Date): GateOutcome {
  switch (d.verdict) {
    case 'PASS': return { kind: 'success', summary: fit(d.summary, CODEPIPELINE_TEXT_LIMITS.summary) };
    case 'FAIL': return { kind: 'failure', message: fit(d.summary, CODEPIPELINE_TEXT_LIMITS.failureMessage) };
    default: {
      const done = d.outcomes.filter(o => o.status === 'success' || (o.status === 'error' && o.override)).length;
      const token: Token = { v: 1, startedAt: startedAt.toISOString() };
      return {
        kind: 'continue',
        summary: fit(d.summary, CODEPIPELINE_TEXT_LIMITS.summary),
        continuationToken: JSON.stringify(token),
        percentComplete: d.required.length === 0 ? 0 : Math.floor((100 * done) / d.required.length),
      };
    }
  }
}

function tokenStart(token: string | undefined, logger: StructuredLogger): Date | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const t = JSON.parse(token) as Token;
    const d = new Date(t.startedAt);
    if (t.v === 1 && !Number.isNaN(d.getTime())) return d;
  } catch {
    // fall through
  }
  logger.warn('unreadable continuation token; the timeout restarts now', { token: token.slice(0, 200) });
  return undefined;
}

/** Cuts a text to CodePipeline's limit, marking the cut. */
export function fit(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
