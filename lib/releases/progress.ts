import type { PipelineChange } from './events';
import type { ReleaseMember, ReleaseSettings, ReleaseStageProgress, ReleaseState } from './shared';
import {
  newReleaseId, RELEASE_BY_VARIABLE, RELEASE_DEPLOY_ACTION_PREFIX, RELEASE_DETAIL_TYPES, RELEASE_ID_PATTERN, RELEASE_ID_VARIABLE,
  RELEASE_TESTS_ACTION, serviceSourceActionName, serviceSourceArtifactName,
} from './shared';
import type { PendingReleaseEvent, PipelineLayout, ReleaseFact, ReleaseFacts, StoredRelease } from './store';

/*
 * A release's progress (pure): from the release pipeline's state changes and what
 * GetPipelineExecution says about the execution, which release events to publish and how the
 * release record changes.
 *
 * - Facts: the newest state per execution, stage and action, ordered by (attempt, event time,
 *   terminal after started), so that events arriving late or twice change nothing.
 * - Release Started: once every service's revision is known (artifactRevisions named
 *   `Source-<service>`, or ListPipelineExecutions' sourceRevisions of the action
 *   `Source-<service>`), or as soon as any later release event is due (then with
 *   `missingMembers`).
 * - Per bracket stage: Deployed when its deploy actions (`Deploy-…`) succeeded, Tested when its
 *   `Tests` action succeeded (at once when the stage has none), Promoted when the stage
 *   succeeded and it is not the last bracket stage. Stages run one after another, so any
 *   change of a later stage (or a succeeded execution) means the stage succeeded; a Tests
 *   action that started means the deploy actions before it succeeded.
 * - Release Finished on the execution's terminal state (SUCCEEDED → succeeded, FAILED → failed,
 *   STOPPED or CANCELED → stopped, SUPERSEDED → superseded), from the event or from
 *   GetPipelineExecution's status, whichever says so first. A stage retry (a higher attempt)
 *   resumes the release; it finishes again, once per attempt and outcome.
 * Each event is decided once (its key is kept in `published`) and put in the record's outbox,
 * which the controller records and publishes.
 */

/** GetPipelineExecution's `pipelineExecution`, as the SDK returns it (only what is read). */
export interface ExecutionDescription {
  readonly pipelineExecutionId?: string;
  readonly pipelineVersion?: number;
  readonly status?: string;
  readonly artifactRevisions?: ReadonlyArray<{ readonly name?: string; readonly revisionId?: string }>;
  readonly variables?: ReadonlyArray<{ readonly name?: string; readonly resolvedValue?: string }>;
  readonly trigger?: { readonly triggerType?: string; readonly triggerDetail?: string };
  readonly executionType?: string;
  readonly rollbackMetadata?: { readonly rollbackTargetPipelineExecutionId?: string };
}

/** ListPipelineExecutions' `sourceRevisions` of one execution. */
export type SourceRevisions = ReadonlyArray<{ readonly actionName?: string; readonly revisionId?: string }>;

/** What the release function takes from GetPipelineExecution. */
export interface ExecutionSnapshot {
  readonly execution: string;
  /** InProgress, Succeeded, Failed, Stopped, Stopping, Superseded, Cancelled. */
  readonly status: string;
  readonly pipelineVersion?: number;
  /** The ReleaseId variable when it is a release id (`RELEASE_ID_PATTERN`). */
  readonly releaseId?: string;
  /** The ReleaseId variable as resolved, when it is not a release id. */
  readonly invalidReleaseId?: string;
  /** Who started it: the StartPipelineExecution caller (trigger), else the ReleaseStartedBy variable. */
  readonly startedBy?: string;
  /** A rollback execution (executionType ROLLBACK) and the execution it returns to. */
  readonly rollback?: { readonly target?: string };
  /** service → revision, for the services whose source revision is known. */
  readonly revisions: Readonly<Record<string, string>>;
}

/** Reads GetPipelineExecution's answer (and, when given, ListPipelineExecutions' sourceRevisions). */
export function readExecution(
  description: ExecutionDescription,
  settings: ReleaseSettings,
  sourceRevisions: SourceRevisions = [],
): ExecutionSnapshot {
  const variable = (name: string) => {
    const v = description.variables?.find(x => x.name === name)?.resolvedValue;
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  const revisions: Record<string, string> = {};
  for (const service of settings.services) {
    const artifact = description.artifactRevisions?.find(a => a.name === serviceSourceArtifactName(service))?.revisionId;
    const source = sourceRevisions.find(s => s.actionName === serviceSourceActionName(service))?.revisionId;
    const revision = artifact ?? source;
    if (typeof revision === 'string' && revision.trim() !== '') revisions[service] = revision;
  }
  const id = variable(RELEASE_ID_VARIABLE);
  const trigger = description.trigger;
  // the trigger's detail is the caller CodePipeline authenticated; the variable is what the caller wrote
  const caller = trigger?.triggerType === 'StartPipelineExecution' && /^arn:aws[a-z-]*:/.test(trigger.triggerDetail ?? '') ? trigger.triggerDetail : undefined;
  const startedBy = caller ?? variable(RELEASE_BY_VARIABLE) ?? (trigger?.triggerDetail ? `${trigger.triggerType ?? 'trigger'}: ${trigger.triggerDetail}` : undefined);
  return {
    execution: description.pipelineExecutionId ?? '',
    status: description.status ?? 'InProgress',
    ...(description.pipelineVersion !== undefined ? { pipelineVersion: description.pipelineVersion } : {}),
    ...(id !== undefined && RELEASE_ID_PATTERN.test(id) ? { releaseId: id } : {}),
    ...(id !== undefined && !RELEASE_ID_PATTERN.test(id) ? { invalidReleaseId: id } : {}),
    ...(startedBy !== undefined ? { startedBy } : {}),
    ...(description.executionType === 'ROLLBACK' ? { rollback: { target: description.rollbackMetadata?.rollbackTargetPipelineExecutionId } } : {}),
    revisions,
  };
}

/** GetPipeline's `pipeline` (only what is read). */
export interface PipelineDeclaration {
  readonly version?: number;
  readonly stages?: ReadonlyArray<{ readonly name?: string; readonly actions?: ReadonlyArray<{ readonly name?: string }> }>;
}

/** The stages and actions of the release pipeline, in order. */
export function readLayout(declaration: PipelineDeclaration): PipelineLayout {
  return {
    ...(declaration.version !== undefined ? { pipelineVersion: declaration.version } : {}),
    stages: (declaration.stages ?? []).filter(s => typeof s.name === 'string').map(s => ({
      name: s.name!,
      actions: (s.actions ?? []).map(a => a.name).filter((n): n is string => typeof n === 'string'),
    })),
  };
}

/**
 * The id of a release whose execution carries no release id (started outside `release start`,
 * e.g. the pipeline's first run when it is created): derived from the execution and its start.
 */
export function derivedReleaseId(execution: string, startedAt: string): string {
  return newReleaseId(new Date(startedAt), execution);
}

/** What progress() reads. */
export interface ProgressInput {
  readonly releaseId: string;
  /** The state change being handled (none: only the snapshot is applied). */
  readonly change?: PipelineChange;
  readonly snapshot: ExecutionSnapshot;
  readonly layout: PipelineLayout;
  /** Why the release id is not the ReleaseId variable (kept on a new record). */
  readonly note?: string;
}

/** The settings and the clock. */
export interface ProgressContext {
  readonly settings: ReleaseSettings;
  readonly now: Date;
}

/** What progress() decided. */
export interface Progress {
  /** The record to write (version + 1), or none when nothing changed. */
  readonly next?: StoredRelease;
  /** The release events decided now (also in `next.outbox`). */
  readonly events: PendingReleaseEvent[];
  readonly summary: string;
}

const TERMINAL_EVENT_STATES: Record<string, ReleaseState> = {
  SUCCEEDED: 'succeeded', FAILED: 'failed', STOPPED: 'stopped', CANCELED: 'stopped', SUPERSEDED: 'superseded',
};
const TERMINAL_STATUSES: Record<string, ReleaseState> = {
  Succeeded: 'succeeded', Failed: 'failed', Stopped: 'stopped', Cancelled: 'stopped', Superseded: 'superseded',
};
/** CodePipeline's stage status (StageExecution.status) for a stage event's state. */
const STAGE_STATUS: Record<string, string> = {
  STARTED: 'InProgress', RESUMED: 'InProgress', SUCCEEDED: 'Succeeded', FAILED: 'Failed', STOPPING: 'Stopping', STOPPED: 'Stopped', CANCELED: 'Cancelled',
};
const STARTING = new Set(['STARTED', 'RESUMED']);

function rank(state: string): number {
  if (STARTING.has(state)) return 0;
  return state === 'STOPPING' ? 1 : 2;
}

/** Whether `a` is a later state than `b`: a higher attempt, then a later time, then terminal after started. */
export function isLater(a: ReleaseFact, b: ReleaseFact): boolean {
  if (a.attempt !== b.attempt) return a.attempt > b.attempt;
  if (a.at !== b.at) return a.at > b.at;
  return rank(a.state) > rank(b.state);
}

/** `fact` merged into what was known: the later state wins; a STARTED keeps the earliest start. */
export function mergeFact(known: ReleaseFact | undefined, fact: ReleaseFact): ReleaseFact {
  const start = fact.state === 'STARTED' ? fact.at : undefined;
  const startedAt = [known?.startedAt, start].filter((x): x is string => x !== undefined).sort()[0];
  const winner = known === undefined || isLater(fact, known) ? fact : known;
  return { ...winner, ...(startedAt !== undefined ? { startedAt } : {}) };
}

function withChange(facts: ReleaseFacts, change: PipelineChange): ReleaseFacts {
  const fact: ReleaseFact = {
    state: change.state,
    at: change.time,
    attempt: change.attempt,
    ...(change.summary !== undefined ? { summary: change.summary } : {}),
  };
  if (change.level === 'pipeline') return { ...facts, pipeline: mergeFact(facts.pipeline, fact) };
  if (change.level === 'stage') return { ...facts, stages: { ...facts.stages, [change.stage!]: mergeFact(facts.stages[change.stage!], fact) } };
  const key = `${change.stage}/${change.action}`;
  return { ...facts, actions: { ...facts.actions, [key]: mergeFact(facts.actions[key], fact) } };
}

function maxAttempt(facts: ReleaseFacts): number {
  const attempts = [facts.pipeline, ...Object.values(facts.stages), ...Object.values(facts.actions)].map(f => f?.attempt ?? 1);
  return Math.max(1, ...attempts);
}

/**
 * The release's state: terminal when GetPipelineExecution or the newest execution event says so
 * (an event of an earlier attempt than the stages' newest was followed by a retry).
 */
export function releaseState(facts: ReleaseFacts, status: string): ReleaseState {
  const fromStatus = TERMINAL_STATUSES[status];
  if (fromStatus !== undefined) return fromStatus;
  const p = facts.pipeline;
  if (p !== undefined && TERMINAL_EVENT_STATES[p.state] !== undefined && p.attempt >= maxAttempt(facts)) return TERMINAL_EVENT_STATES[p.state];
  return 'started';
}

function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
}

/** Applies a state change and the execution's snapshot to a release. */
export function progress(current: StoredRelease | undefined, input: ProgressInput, ctx: ProgressContext): Progress {
  const { settings } = ctx;
  const { change, snapshot } = input;
  const now = ctx.now.toISOString();
  if (current !== undefined && current.execution !== snapshot.execution) {
    throw new Error(`release "${current.releaseId}" belongs to execution ${current.execution}, not ${snapshot.execution}; expected the execution the release id was claimed for`);
  }
  const base: StoredRelease = current ?? {
    pipeline: settings.pipeline,
    releaseId: input.releaseId,
    execution: snapshot.execution,
    members: [],
    state: 'started',
    startedAt: change?.startTime ?? change?.time ?? now,
    updatedAt: now,
    stages: [],
    version: 0,
    releasePipeline: settings.releasePipeline,
    facts: { stages: {}, actions: {} },
    layout: input.layout,
    published: [],
    outbox: [],
    eventCount: 0,
    missing: [...settings.services],
    ...(input.note !== undefined ? { note: input.note } : {}),
  };

  const facts = change ? withChange(base.facts, change) : base.facts;
  const startedAt = change?.level === 'pipeline' && change.startTime !== undefined
    ? change.startTime
    : [base.startedAt, change?.time].filter((x): x is string => x !== undefined).sort()[0];
  // members are pinned: a known member never changes
  const members: ReleaseMember[] = [];
  for (const service of settings.services) {
    const known = base.members.find(m => m.service === service);
    const revision = known?.revision ?? snapshot.revisions[service];
    if (revision !== undefined) members.push({ service, revision });
  }
  const missing = settings.services.filter(s => !members.some(m => m.service === s));
  const startedBy = base.startedBy ?? snapshot.startedBy ?? change?.trigger?.detail;
  const layout = base.layout.stages.length > 0 ? base.layout : input.layout;
  const state = releaseState(facts, snapshot.status);

  // stages run one after another: a later stage's change, or a succeeded execution, means a stage succeeded
  const order = layout.stages.map(s => s.name);
  for (const s of [...Object.keys(facts.stages), ...Object.keys(facts.actions).map(k => k.slice(0, k.indexOf('/')))]) {
    if (!order.includes(s)) order.push(s);
  }
  const touched = (stage: string) => facts.stages[stage] !== undefined || Object.keys(facts.actions).some(k => k.startsWith(`${stage}/`));
  const succeeded = (stage: string): boolean => {
    if (state === 'succeeded' || facts.stages[stage]?.state === 'SUCCEEDED') return true;
    const i = order.indexOf(stage);
    return i >= 0 && order.slice(i + 1).some(touched);
  };

  // the release events now due, in order
  const due: Array<{ key: string; detailType: string; stage?: string; extra: Record<string, unknown> }> = [];
  const attempt = maxAttempt(facts);
  const finishedKey = `finished:${state}:${attempt}`;
  const announced = state !== 'started' && base.published.includes(finishedKey);
  if (!announced) {
    settings.bracketStages.forEach((stage, i) => {
      const actions = layout.stages.find(s => s.name === stage)?.actions;
      const deployActions = (actions ?? []).filter(a => a.startsWith(RELEASE_DEPLOY_ACTION_PREFIX));
      // without the stage's layout, whether it has tests is unknown: Tested waits for the stage to succeed
      const hasTests = actions === undefined ? undefined : actions.includes(RELEASE_TESTS_ACTION);
      const tests = facts.actions[`${stage}/${RELEASE_TESTS_ACTION}`];
      const deployed = succeeded(stage) || tests !== undefined
        || (deployActions.length > 0 && deployActions.every(a => facts.actions[`${stage}/${a}`]?.state === 'SUCCEEDED'));
      const tested = deployed && (hasTests === false || tests?.state === 'SUCCEEDED' || succeeded(stage));
      const last = i === settings.bracketStages.length - 1;
      if (deployed) due.push({ key: `deployed:${stage}`, detailType: RELEASE_DETAIL_TYPES.DEPLOYED, stage, extra: { deployActions } });
      if (tested) due.push({ key: `tested:${stage}`, detailType: RELEASE_DETAIL_TYPES.TESTED, stage, extra: { tests: hasTests === false ? 'none' : 'succeeded' } });
      if (!last && succeeded(stage)) due.push({ key: `promoted:${stage}`, detailType: RELEASE_DETAIL_TYPES.PROMOTED, stage, extra: { nextStage: settings.bracketStages[i + 1] } });
    });
  }
  if (state !== 'started') due.push({ key: finishedKey, detailType: RELEASE_DETAIL_TYPES.FINISHED, extra: { outcome: state, executionStatus: snapshot.status } });
  const fresh = due.filter(d => !base.published.includes(d.key));
  if (!base.published.includes('started') && (fresh.length > 0 || missing.length === 0)) {
    fresh.unshift({ key: 'started', detailType: RELEASE_DETAIL_TYPES.STARTED, extra: { startedAt } });
  }

  const stages: ReleaseStageProgress[] = order.filter(s => touched(s) || succeeded(s)).map(stage => {
    const f = facts.stages[stage];
    const status = succeeded(stage) ? 'Succeeded' : f ? STAGE_STATUS[f.state] ?? f.state : 'InProgress';
    const ended = f && !STARTING.has(f.state) && f.state !== 'STOPPING';
    return { stage, status, ...(f?.startedAt ? { startedAt: f.startedAt } : {}), ...(ended ? { endedAt: f.at } : {}) };
  });

  let lastAt = base.lastEventAt;
  const at = change?.time ?? now;
  const events: PendingReleaseEvent[] = fresh.map((d, i) => {
    const when = lastAt !== undefined && lastAt > at ? lastAt : at;
    lastAt = when;
    const finished = d.detailType === RELEASE_DETAIL_TYPES.FINISHED;
    return {
      n: base.eventCount + i + 1,
      releaseId: base.releaseId,
      detailType: d.detailType,
      ...(d.stage !== undefined ? { stage: d.stage } : {}),
      at: when,
      detail: {
        releaseId: base.releaseId,
        pipeline: settings.pipeline,
        releasePipeline: settings.releasePipeline,
        execution: base.execution,
        members,
        ...(missing.length > 0 ? { missingMembers: missing } : {}),
        ...(d.stage !== undefined ? { stage: d.stage } : {}),
        state: finished ? state : 'started',
        ...(startedBy !== undefined ? { startedBy } : {}),
        at: when,
        ...d.extra,
      },
    };
  });

  const candidate: StoredRelease = {
    ...base,
    members,
    missing,
    state,
    startedAt,
    ...(startedBy !== undefined ? { startedBy } : {}),
    stages,
    facts,
    layout,
    published: [...base.published, ...fresh.map(d => d.key)],
    outbox: [...base.outbox, ...events],
    eventCount: base.eventCount + events.length,
    ...(lastAt !== undefined ? { lastEventAt: lastAt } : {}),
  };
  const strip = (r: StoredRelease) => stable({ ...r, updatedAt: undefined, version: undefined });
  const where = `release ${base.releaseId} (execution ${base.execution})`;
  if (current !== undefined && strip(candidate) === strip(current)) {
    return { events: [], summary: `${where}: nothing new` };
  }
  const next: StoredRelease = { ...candidate, updatedAt: now, version: base.version + 1 };
  const what = events.length === 0 ? 'recorded' : `decided ${events.map(e => `${e.detailType}${e.stage ? ` (${e.stage})` : ''}`).join(', ')}`;
  return { next, events, summary: `${where}: ${what}; ${state}${missing.length > 0 ? `, revisions of ${missing.join(', ')} not known yet` : ''}` };
}
