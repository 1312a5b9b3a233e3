import type { CheckRecord, CheckState, OverrideRecord, RequirementChange, Verdict } from './shared';

/*
 * The gate's decision, as pure functions: no I/O, no clock (the caller passes elapsed time).
 * The gate handler and the override API both decide with these, so they cannot disagree.
 */

/** What the gate knows about one execution at one stage. */
export interface DecisionInput {
  /** The stage the gate guards. */
  readonly stage: string;
  /** The source revision the execution carries. */
  readonly revision: string;
  /** Contexts ddk.json requires for the stage. */
  readonly declared: readonly string[];
  /** The current run-time requirement of each context changed at run time (one per context). */
  readonly changes: readonly RequirementChange[];
  /** The latest reports for the revision, per context and scope (other stages' scoped reports may be among them). */
  readonly checks: readonly CheckRecord[];
  /** Overrides recorded for this execution and stage. */
  readonly overrides: readonly OverrideRecord[];
  /** Minutes since the gate first ran for this execution. @default 0 */
  readonly elapsedMinutes?: number;
  /** Minutes the gate waits before failing. @default - never times out */
  readonly timeoutMinutes?: number;
}

/** A required context's status: its latest applicable report's state, or `missing`. */
export type ContextStatus = CheckState | 'missing';

/** One required context as the gate sees it. */
export interface ContextOutcome {
  readonly context: string;
  readonly status: ContextStatus;
  /** The report that decided the status. */
  readonly report?: CheckRecord;
  /** The override covering the context, when its status is `error` and one exists. */
  readonly override?: OverrideRecord;
}

/** The gate's decision. */
export interface Decision {
  readonly verdict: Verdict;
  /** One paragraph for people: CodePipeline shows it on the action. */
  readonly summary: string;
  /** The required contexts, ddk.json's first. */
  readonly required: string[];
  readonly outcomes: ContextOutcome[];
  /** The gate gave up waiting (the verdict is then `FAIL`). */
  readonly timedOut: boolean;
}

/** Whether an override may be recorded now, and for which contexts. */
export interface OverrideEligibility {
  readonly allowed: boolean;
  /** The contexts in `error` that no override covers yet (what a new override covers). */
  readonly contexts: string[];
  /** Why not, when not allowed. */
  readonly reason?: string;
}

/**
 * The required contexts of a stage: ddk.json's, plus run-time additions, minus run-time removals.
 * A removal never applies to a context ddk.json declares: ddk.json wins.
 */
export function requiredContexts(declared: readonly string[], changes: readonly RequirementChange[]): string[] {
  const out = [...new Set(declared)];
  const latest = new Map<string, RequirementChange>();
  for (const c of changes) {
    const prev = latest.get(c.context);
    if (!prev || prev.at <= c.at) latest.set(c.context, c);
  }
  const added = [...latest.values()].filter(c => c.action === 'add' && !out.includes(c.context));
  added.sort((a, b) => a.at.localeCompare(b.at) || a.context.localeCompare(b.context));
  return [...out, ...added.map(c => c.context)];
}

/**
 * The report that counts for `context` at `stage`: the latest (highest sequence) among the
 * reports scoped to that stage and the unscoped ones. Reports scoped to other stages never count.
 */
export function applicableReport(checks: readonly CheckRecord[], context: string, stage: string): CheckRecord | undefined {
  let best: CheckRecord | undefined;
  for (const c of checks) {
    if (c.context !== context) continue;
    if (c.stage !== undefined && c.stage !== stage) continue;
    if (!best || c.sequence > best.sequence) best = c;
  }
  return best;
}

/** The status of every required context. */
export function outcomes(input: DecisionInput): ContextOutcome[] {
  return requiredContexts(input.declared, input.changes).map(context => {
    const report = applicableReport(input.checks, context, input.stage);
    const status: ContextStatus = report?.state ?? 'missing';
    const override = status === 'error' ? input.overrides.find(o => o.contexts.includes(context)) : undefined;
    return { context, status, report, override };
  });
}

/**
 * Decides the gate:
 * - any required context `failure` → FAIL, naming the failing contexts and their target URLs;
 * - else any `pending` or not yet reported → WAIT (FAIL once the timeout has passed);
 * - else any `error` no override covers → WAIT_FOR_OVERRIDE (FAIL once the timeout has passed);
 * - else (all `success`, or `error` covered by an override) → PASS.
 *
 * An override therefore never skips a `pending` or `failure` context.
 */
export function decide(input: DecisionInput): Decision {
  const all = outcomes(input);
  const required = all.map(o => o.context);
  const where = `Stage "${input.stage}", revision ${shortRevision(input.revision)}`;
  const timedOut = input.timeoutMinutes !== undefined && (input.elapsedMinutes ?? 0) >= input.timeoutMinutes;
  const failed = all.filter(o => o.status === 'failure');
  const waiting = all.filter(o => o.status === 'pending' || o.status === 'missing');
  const errors = all.filter(o => o.status === 'error' && !o.override);
  const overridden = all.filter(o => o.status === 'error' && o.override);

  if (failed.length > 0) {
    return {
      verdict: 'FAIL',
      required,
      outcomes: all,
      timedOut: false,
      summary: `${where}: ${count(failed.length, 'required check')} failed: ${failed.map(describe).join('; ')}.`,
    };
  }
  if (waiting.length > 0 || errors.length > 0) {
    const then = errors.length > 0 ? ` ${waiting.length > 0 ? 'After that, ' : ''}${errors.map(describe).join('; ')} ${errors.length === 1 ? 'is' : 'are'} in error and need${errors.length === 1 ? 's' : ''} an override (POST /overrides).` : '';
    if (timedOut) {
      const what = waiting.length > 0 ? `waiting for ${waiting.map(describe).join('; ')}.${then}` : `waiting for an override of ${errors.map(describe).join('; ')}.`;
      return {
        verdict: 'FAIL',
        required,
        outcomes: all,
        timedOut: true,
        summary: `${where}: timed out after ${input.timeoutMinutes} minutes ${what} Fix: report the checks (or override the errors) and retry the stage.`,
      };
    }
    if (waiting.length > 0) {
      return {
        verdict: 'WAIT',
        required,
        outcomes: all,
        timedOut: false,
        summary: `${where}: waiting for ${waiting.length} of ${count(required.length, 'required check')}: ${waiting.map(describe).join('; ')}.${then}`,
      };
    }
    return {
      verdict: 'WAIT_FOR_OVERRIDE',
      required,
      outcomes: all,
      timedOut: false,
      summary: `${where}: ${errors.map(describe).join('; ')} ${errors.length === 1 ? 'is' : 'are'} in error; the stage waits for an override (POST /overrides with the pipeline, stage, execution and a reason).`,
    };
  }
  if (required.length === 0) {
    return { verdict: 'PASS', required, outcomes: all, timedOut: false, summary: `${where}: no status checks are required.` };
  }
  const passed = all.filter(o => o.status === 'success').map(o => o.context);
  const parts = [`${where}: all ${count(required.length, 'required check')} passed`];
  if (passed.length > 0) parts.push(`: ${passed.join(', ')}`);
  parts.push('.');
  for (const o of overridden) {
    parts.push(` ${o.context} (error) overridden by ${o.override!.by} at ${o.override!.at}: "${o.override!.reason}".`);
  }
  return { verdict: 'PASS', required, outcomes: all, timedOut: false, summary: parts.join('') };
}

/**
 * Whether a human may override now: only when every required context is `success` or `error`
 * and at least one `error` is not yet overridden. Refused while any is `pending`, not reported
 * or `failure`.
 */
export function overrideEligibility(input: DecisionInput): OverrideEligibility {
  const all = outcomes(input);
  const blocking = all.filter(o => o.status === 'failure' || o.status === 'pending' || o.status === 'missing');
  if (blocking.length > 0) {
    return {
      allowed: false,
      contexts: [],
      reason: `an override only covers contexts in error, and ${blocking.map(describe).join('; ')} ${blocking.length === 1 ? 'is' : 'are'} not: wait until ${blocking.length === 1 ? 'it reports' : 'they report'} success or error (a failure cannot be overridden: fix it and report success)`,
    };
  }
  const errors = all.filter(o => o.status === 'error' && !o.override).map(o => o.context);
  if (errors.length === 0) {
    const covered = all.filter(o => o.override).map(o => o.context);
    return {
      allowed: false,
      contexts: [],
      reason: covered.length > 0
        ? `nothing to override: ${covered.join(', ')} ${covered.length === 1 ? 'is' : 'are'} already overridden and no other required context is in error`
        : 'nothing to override: no required context is in error',
    };
  }
  return { allowed: true, contexts: errors };
}

/** `ci/a (failure: 3 tests failed, https://…)` */
function describe(o: ContextOutcome): string {
  if (o.status === 'missing') return `${o.context} (not reported yet)`;
  const details = [o.report?.description, o.report?.targetUrl].filter((x): x is string => !!x);
  return `${o.context} (${o.status}${details.length > 0 ? `: ${details.join(', ')}` : ''})`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A 40-hex commit id shortened to 12 characters; anything else unchanged. */
export function shortRevision(revision: string): string {
  return /^[0-9a-f]{40}$/i.test(revision) ? revision.slice(0, 12) : revision;
}
