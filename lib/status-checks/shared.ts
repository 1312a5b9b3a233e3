/*
 * Status checks: the one module shared by the constructs (lib/status-checks/status-checks.ts,
 * gate-step.ts) and the Lambda handlers (lambda/status-checks-*). Environment-variable names,
 * record shapes, the EventBridge source and detail-types, the table's key design and the input
 * patterns live here and only here. No aws-cdk-lib and no AWS SDK import: the construct library
 * loads this module at synth time, the handlers at run time.
 */

/** Logical id of the CICD stack output holding the status-check API's URL. */
export const API_ENDPOINT_OUTPUT = 'StatusChecksApiEndpoint';

/** The states a check reports. */
export const CHECK_STATES = ['pending', 'success', 'failure', 'error'] as const;
/** A check's state: `pending` (running), `success`, `failure` (stage fails), `error` (needs an override). */
export type CheckState = typeof CHECK_STATES[number];

/** Environment variables the construct sets and the handlers read. */
export const ENV = {
  /** Name of the DynamoDB table (both functions). */
  TABLE_NAME: 'STATUS_CHECKS_TABLE_NAME',
  /** Name or ARN of the EventBridge bus events go to (both functions). */
  EVENT_BUS_NAME: 'STATUS_CHECKS_EVENT_BUS_NAME',
  /**
   * JSON `PipelineSettings`: the pipeline, its stages and ddk.json's required contexts (both
   * functions: the gate reads a stage's required contexts here, not from its action's UserParameters).
   */
  PIPELINE_SETTINGS: 'STATUS_CHECKS_PIPELINE_SETTINGS',
  /** Days a check, a gate record or an override is kept (DynamoDB TTL; both functions). */
  RETENTION_DAYS: 'STATUS_CHECKS_RETENTION_DAYS',
} as const;

/** `source` of every event the status checks publish. */
export const EVENT_SOURCE = 'ddk-pipelines.status-checks';

/** `detail-type` of each event, naming what happened. */
export const DETAIL_TYPES = {
  /** A check report was recorded (detail: `CheckRecord` plus `replayed`). */
  CHECK_REPORTED: 'Status Check Reported',
  /** Required contexts of a stage changed at run time (detail: `RequirementsChangedDetail`). */
  REQUIREMENTS_CHANGED: 'Required Checks Changed',
  /** A human overrode contexts in `error` for one execution (detail: `OverrideRecord`). */
  OVERRIDE_RECORDED: 'Gate Override Recorded',
  /** A gate's verdict for an execution changed (detail: `GateDecidedDetail`). */
  GATE_DECIDED: 'Gate Decided',
  /** A human let an execution into a stage outside its deployment windows (detail: `ConditionOverride`). */
  CONDITION_OVERRIDDEN: 'Stage Condition Overridden',
} as const;

/** Input patterns (ECMAScript syntax) the handlers validate requests with; `name` and `context` are ddk.json's. */
export const PATTERNS = {
  /** A pipeline or stage name (CodePipeline's pattern; the same as ddk.json's). */
  name: '^[A-Za-z0-9.@_-]{1,100}$',
  /** A status-check context `system/name` (the same as ddk.json's `requiredChecks`). */
  context: '^[A-Za-z0-9._-]+/[A-Za-z0-9._/-]+$',
  /** A source revision: a commit id, an S3 version id, … */
  revision: '^[A-Za-z0-9._:/@+=-]{1,256}$',
  /** A CodePipeline execution id. */
  execution: '^[A-Za-z0-9-]{1,128}$',
  /** A client request id (idempotency key of a report). */
  clientRequestId: '^[A-Za-z0-9._:-]{1,128}$',
  /** A target URL. */
  url: '^https?://\\S+$',
} as const;

/** Length limits of free-text and list fields. */
export const LIMITS = {
  /** Characters of a context. */
  context: 255,
  /** Characters of a check's description. */
  description: 1024,
  /** Characters of a target URL. */
  targetUrl: 2048,
  /** Characters of an override's reason. */
  reason: 1024,
  /** Contexts in one requirements change (`add` + `remove`). */
  contextsPerChange: 20,
  /** Minutes a gate may wait: CodePipeline fails a Lambda invoke action after 24 hours, the gate reports its own timeout before that. */
  maxGateTimeoutMinutes: 1410,
  /** Bytes Lambda allows for all environment variables of a function, names and values together (4 KB). */
  environmentBytes: 4096,
} as const;

/** `PATTERNS`, compiled. */
export const PATTERN_RE = Object.fromEntries(Object.entries(PATTERNS).map(([k, v]) => [k, new RegExp(v)])) as Record<keyof typeof PATTERNS, RegExp>;

/** Whether `minutes` is a gate timeout CodePipeline allows: whole minutes from 1 to `LIMITS.maxGateTimeoutMinutes`. */
export function isGateTimeoutMinutes(minutes: unknown): minutes is number {
  return typeof minutes === 'number' && Number.isInteger(minutes) && minutes >= 1 && minutes <= LIMITS.maxGateTimeoutMinutes;
}

/** `o` without its undefined fields (DynamoDB and JSON bodies keep no undefined). */
export function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A check report, as a reporter sends it (`POST /checks`). */
export interface CheckReport {
  readonly pipeline: string;
  /** The source commit the execution carries. */
  readonly revision: string;
  /** `system/name`, e.g. `ci/integration`. */
  readonly context: string;
  readonly state: CheckState;
  readonly targetUrl?: string;
  readonly description?: string;
  /** Scopes the report to one stage: it only counts for that stage's gate. */
  readonly stage?: string;
  /** Post the result upstream (a comment on the CodeCommit commit). */
  readonly propagate?: boolean;
  /** Makes a retry idempotent: the same reporter, body and id record one report. */
  readonly clientRequestId?: string;
}

/** A recorded report: what was reported (all but `propagate`), by whom, when, in which order. */
export interface CheckRecord extends Omit<CheckReport, 'propagate'> {
  /** Unique id of the report (derived from reporter and `clientRequestId` when one was given). */
  readonly id: string;
  /** Order of arrival per (pipeline, revision, context), allocated atomically by the store. */
  readonly sequence: number;
  /** IAM principal (ARN) of the reporter, from the request's signature. */
  readonly reportedBy: string;
  /** ISO-8601 time the report was recorded. */
  readonly reportedAt: string;
  /** Hash of the reported fields, to tell a retry from a different report with the same id. */
  readonly bodyHash: string;
}

/** A run-time change of one required context of a stage. */
export interface RequirementChange {
  readonly pipeline: string;
  readonly stage: string;
  readonly context: string;
  /** `add` makes the context required; `remove` undoes an earlier `add`. */
  readonly action: 'add' | 'remove';
  /** IAM principal (ARN) that made the change. */
  readonly by: string;
  /** ISO-8601 time of the change. */
  readonly at: string;
}

/** A human override of contexts in `error`, for one execution at one stage. */
export interface OverrideRecord {
  readonly id: string;
  readonly pipeline: string;
  readonly stage: string;
  readonly execution: string;
  readonly revision: string;
  /** The contexts in `error` when the override was recorded: only they are overridden. */
  readonly contexts: string[];
  readonly reason: string;
  /** IAM principal (ARN) that overrode. */
  readonly by: string;
  /** ISO-8601 time of the override. */
  readonly at: string;
}

/** A gate's verdict. */
export type Verdict = 'PASS' | 'FAIL' | 'WAIT' | 'WAIT_FOR_OVERRIDE';

/** What the gate last saw for an execution (the override API reads the revision from it). */
export interface GateRecord {
  readonly pipeline: string;
  readonly stage: string;
  readonly execution: string;
  readonly revision: string;
  /** Contexts ddk.json requires for the stage (from the action's UserParameters). */
  readonly declared: string[];
  /** ISO-8601 time of the gate's first invocation for this execution. */
  readonly startedAt: string;
  /** ISO-8601 time of this decision. */
  readonly decidedAt: string;
  readonly verdict: Verdict;
  readonly summary: string;
}

/** Detail of a `Required Checks Changed` event. */
export interface RequirementsChangedDetail {
  readonly pipeline: string;
  readonly stage: string;
  readonly changes: RequirementChange[];
  /** The stage's required contexts after the change. */
  readonly required: string[];
}

/** Detail of a `Gate Decided` event. */
export interface GateDecidedDetail extends GateRecord {
  readonly required: string[];
  /** The previous verdict for this execution and stage, if any. */
  readonly previousVerdict?: Verdict;
}

/** One plan stage, as the API needs to know it. */
export interface StageSettings {
  readonly name: string;
  /** Index in ddk.json's `pipeline.stages` (for error messages). */
  readonly index: number;
  /** Contexts ddk.json requires; a stage with none has no gate. */
  readonly requiredChecks: string[];
  /**
   * The CodePipeline pipeline whose stage of this name has the stage's deployment windows (its
   * BeforeEntry condition): the plan's pipeline, or `<pipeline>-<stage>` with codepipeline-gitflow;
   * with services the release pipeline `<pipeline>-release` (a bracket stage) or the one service's
   * pipeline `<pipeline>-<service>` (a per-service stage). Only on a stage with windows in exactly
   * one pipeline (`POST /conditions/override` overrides nothing else).
   */
  readonly windowPipeline?: string;
  /**
   * With services, the pipelines of a per-service stage with windows when there are several: each
   * service's `<pipeline>-<service>` (the stage runs in each); `windowPipeline` is then not set.
   * Added for release brackets (issue 13); a stage has at most one of the two.
   */
  readonly windowPipelines?: string[];
}

/** The CodePipeline pipelines holding a stage's deployment windows (`windowPipeline` or `windowPipelines`); empty without windows. */
export function windowPipelinesOf(stage: StageSettings): string[] {
  if (stage.windowPipelines !== undefined) return [...stage.windowPipelines];
  return stage.windowPipeline !== undefined ? [stage.windowPipeline] : [];
}

/** The pipeline the API serves (`ENV.PIPELINE_SETTINGS`, JSON). */
export interface PipelineSettings {
  readonly pipeline: string;
  /** The ddk.json the plan came from (for error messages). */
  readonly file: string;
  /** CodeCommit repository name when the source is CodeCommit (enables `propagate`). */
  readonly repository?: string;
  readonly stages: StageSettings[];
}

/** A structured logger (the handlers adapt Powertools' Logger to it; tests record). */
export interface StructuredLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/**
 * The gate action's UserParameters (JSON). The stage's required contexts are not among them: the
 * gate reads them from `ENV.PIPELINE_SETTINGS`, so the action's configuration stays within
 * CodePipeline's 1,000 characters per value however many contexts a stage requires.
 */
export interface GateParameters {
  readonly pipeline: string;
  readonly stage: string;
  /** `#{<source namespace>.CommitId}`, resolved by CodePipeline. */
  readonly revision: string;
  /** `#{codepipeline.PipelineExecutionId}`, resolved by CodePipeline. */
  readonly executionId: string;
  readonly timeoutMinutes: number;
}

/** Attribute names of the table's keys and TTL. */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLive: 'expiresAt',
} as const;

/**
 * The table's key design (one table, string keys `pk`/`sk`, no index):
 *
 * | item | pk | sk |
 * |---|---|---|
 * | latest report per context and scope | `CHECKS#<pipeline>#<revision>` | `LATEST#<context>#<stage or empty>` |
 * | every report (history) | `CHECKS#<pipeline>#<revision>` | `HISTORY#<context>#<report id>` |
 * | sequence counter per context | `CHECKS#<pipeline>#<revision>` | `SEQUENCE#<context>` |
 * | run-time requirement per context | `REQUIREMENTS#<pipeline>#<stage>` | `CONTEXT#<context>` |
 * | requirement change history | `REQUIREMENTS#<pipeline>#<stage>` | `HISTORY#<time>#<id>` |
 * | gate state of an execution | `GATE#<pipeline>#<stage>#<execution>` | `GATE` |
 * | overrides of an execution | `GATE#<pipeline>#<stage>#<execution>` | `OVERRIDE#<id>` |
 * | condition overrides of an execution (windows) | `GATE#<pipeline>#<stage>#<execution>` | `CONDITION#<condition type>#<id>` |
 *
 * Names, contexts and revisions cannot contain `#` (see `PATTERNS`), so keys never collide.
 */
export const KEYS = {
  checks: (pipeline: string, revision: string) => `CHECKS#${pipeline}#${revision}`,
  latest: (context: string, stage?: string) => `LATEST#${context}#${stage ?? ''}`,
  latestPrefix: 'LATEST#',
  history: (context: string, id: string) => `HISTORY#${context}#${id}`,
  historyPrefix: (context?: string) => (context === undefined ? 'HISTORY#' : `HISTORY#${context}#`),
  sequence: (context: string) => `SEQUENCE#${context}`,
  requirements: (pipeline: string, stage: string) => `REQUIREMENTS#${pipeline}#${stage}`,
  requirement: (context: string) => `CONTEXT#${context}`,
  requirementPrefix: 'CONTEXT#',
  requirementHistory: (at: string, id: string) => `HISTORY#${at}#${id}`,
  gate: (pipeline: string, stage: string, execution: string) => `GATE#${pipeline}#${stage}#${execution}`,
  gateState: 'GATE',
  override: (id: string) => `OVERRIDE#${id}`,
  overridePrefix: 'OVERRIDE#',
  conditionOverride: (conditionType: string, id: string) => `CONDITION#${conditionType}#${id}`,
} as const;

/** The table definition as a DynamoDB `CreateTable` input (what tests create in dynalite). */
export interface TableDefinition {
  readonly TableName: string;
  readonly AttributeDefinitions: Array<{ AttributeName: string; AttributeType: 'S' }>;
  readonly KeySchema: Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
  readonly BillingMode: 'PAY_PER_REQUEST';
}

/** `CreateTable` input with the construct's key schema (the construct builds its table from `TABLE_KEYS` too). */
export function tableDefinition(tableName: string): TableDefinition {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  };
}

/** Reads a variable the construct sets; a missing one is a deployment defect, reported as such. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const v = env[name];
  if (v === undefined || v === '') {
    throw new Error(`environment variable ${name} is not set; expected the value the StatusChecks construct sets. Fix: deploy the function through the StatusChecks construct (or set ${name})`);
  }
  return v;
}

/** Days a record is kept, from `ENV.RETENTION_DAYS` (default 365). */
export function retentionDays(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[ENV.RETENTION_DAYS];
  if (raw === undefined || raw === '') return 365;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`environment variable ${ENV.RETENTION_DAYS}: "${raw}" is not a whole number of days; expected an integer ≥ 1. Fix: set the construct's retention prop`);
  }
  return n;
}

/** Parses `ENV.PIPELINE_SETTINGS`. */
export function pipelineSettings(env: NodeJS.ProcessEnv = process.env): PipelineSettings {
  const raw = requireEnv(ENV.PIPELINE_SETTINGS, env);
  let v: PipelineSettings;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new Error(`environment variable ${ENV.PIPELINE_SETTINGS} is not JSON (${(e as Error).message}); expected the settings the StatusChecks construct writes. Fix: redeploy the construct`);
  }
  if (typeof v?.pipeline !== 'string' || !Array.isArray(v.stages)) {
    throw new Error(`environment variable ${ENV.PIPELINE_SETTINGS}: ${raw.slice(0, 200)} lacks "pipeline" or "stages"; expected {"pipeline", "file", "stages": [...]}. Fix: redeploy the construct`);
  }
  const bad = v.stages.findIndex(s => typeof s?.name !== 'string' || !Array.isArray(s.requiredChecks) || s.requiredChecks.some(c => typeof c !== 'string'));
  if (bad >= 0) {
    throw new Error(`environment variable ${ENV.PIPELINE_SETTINGS}: stages[${bad}] is ${JSON.stringify(v.stages[bad]).slice(0, 200)}; expected {"name", "index", "requiredChecks": [contexts]}. Fix: redeploy the construct`);
  }
  return v;
}
