/*
 * Deployment safety (issue 13): names, records and limits shared by the constructs, the handlers
 * (lambda/change-review, lambda/alarm-watch), the status-check API and the CLI. No aws-cdk-lib and
 * no SDK here: handlers and the CLI bundle this module.
 *
 * The order within a stage (README "Deployment safety"):
 *   1. BeforeEntry: the deployment windows (DeploymentWindow rules; the execution waits outside them)
 *   2. the status-check gate (Lambda action)
 *   3. the change review (Lambda action: what the deployments will change, read through each
 *      target's CDK lookup role; its summary and report link go into the approval)
 *   4. the manual approval
 *   5. the deployments
 *   6. the tests
 *   7. the alarm watch (Lambda action: the targets' alarms, read through their lookup roles, for the
 *      soak time; an alarm in ALARM fails the stage)
 *   8. OnSuccess: CodePipeline's CloudWatchAlarm rule over the CICD account's alarms (ROLLBACK);
 *      OnFailure: ROLLBACK (a failed deployment, test or alarm watch rolls the stage back)
 */

/** The bundled handler (lambda/<name>/index.ts) of the change review. */
export const CHANGE_REVIEW_HANDLER = 'change-review';
/** The bundled handler of the alarm watch. */
export const ALARM_WATCH_HANDLER = 'alarm-watch';

/** Action names in a stage. */
export const ACTION_NAMES = {
  changeReview: 'ChangeReview',
  alarmWatch: 'AlarmWatch',
} as const;

/**
 * The change review action's variables namespace in the stage of `stageName` (unique in a
 * pipeline: namespaces are pipeline-wide). The approval reads `#{<namespace>.Summary}` and
 * `#{<namespace>.ReportUrl}`. Stage names may hold ".", namespaces may not: it becomes "_".
 */
export function changeReviewNamespace(stageName: string): string {
  return `ChangeReview-${stageName.replace(/\./g, '_')}`.slice(0, 100);
}

/** The change review's output variables. */
export const CHANGE_REVIEW_VARIABLES = {
  /** A short summary (at most `SAFETY_LIMITS.summaryLength` characters) shown in the approval. */
  summary: 'Summary',
  /** The console link to the full report (the approval's review link). */
  reportUrl: 'ReportUrl',
  /** `s3://bucket/key` of the report (JSON, `ChangeReport`), read by `ddk-pipelines diff`. */
  reportUri: 'ReportUri',
} as const;

export const SAFETY_LIMITS = {
  /**
   * The summary's length. The approval's CustomData is a configuration value of at most 1,000
   * characters (CodePipeline's ManualApproval action reference); the stage's comment goes before it.
   */
  summaryLength: 400,
  /** Soak time of an alarm watch, in minutes: default, bounds. */
  defaultSoakMinutes: 10,
  minSoakMinutes: 1,
  /**
   * The alarm watch waits at most this long: CodePipeline fails a Lambda invoke action after 24
   * hours (as the status-check gate, it stops short of that).
   */
  maxSoakMinutes: 1410,
  /** CloudWatch alarm names: 1 to 255 characters. */
  alarmNameLength: 255,
  /** DescribeAlarms takes at most 100 names per call. */
  alarmNamesPerCall: 100,
} as const;

/**
 * What an approval with a change review shows before the summary (its CustomData): the comment,
 * then the stage's review URL (the approval's own link opens the report).
 */
export function changeReviewHead(comment: string, reviewUrl?: string): string {
  return reviewUrl === undefined ? comment : `${comment}\nReview: ${reviewUrl}`;
}

/**
 * The longest `changeReviewHead`: CodePipeline allows 1,000 characters per action configuration
 * value (ManualApproval's CustomData), and a newline and the summary follow the head.
 */
export const CHANGE_REVIEW_HEAD_LENGTH = 1000 - 1 - SAFETY_LIMITS.summaryLength;

/** Where the change review writes its reports in the artifact bucket. */
export const REPORT_PREFIX = 'ddk-change-reviews/';

/** The S3 key of one change report: `ddk-change-reviews/<pipeline>/<execution id>/<stage>.json`. */
export function reportKey(pipeline: string, executionId: string, stage: string): string {
  return `${REPORT_PREFIX}${pipeline}/${executionId}/${stage}.json`;
}

/**
 * The function environment of the change review and the alarm watch: `DDK_SAFETY_STAGES` holds
 * `SafetyStages` (one entry per plan stage with a change review or alarm watch), so the actions'
 * UserParameters carry only the stage's name (CodePipeline's 1,000 characters per value). Its
 * encoding (lookup roles by qualifier, `deflate:` when the JSON does not fit Lambda's 4 KB) is
 * lib/safety/settings.ts's: write and read it only there.
 */
export const SAFETY_STAGES_VARIABLE = 'DDK_SAFETY_STAGES';
/** The bucket the change review writes its reports to (the artifact bucket). */
export const REPORT_BUCKET_VARIABLE = 'DDK_REPORT_BUCKET';

/** One target environment of a stage, as the handlers read it. */
export interface SafetyTarget {
  /** The environment id (ddk.json). */
  readonly id: string;
  readonly account: string;
  readonly region: string;
  /**
   * The target's CDK lookup role (`cdk-<qualifier>-lookup-role-<account>-<region>`: ReadOnlyAccess,
   * trusting the accounts bootstrapped with --trust): the role both handlers read the target through.
   */
  readonly lookupRoleArn: string;
  /** The nested cloud assembly (`assembly-<…>`) that holds this target's stacks (change review). */
  readonly assembly?: string;
  /** Alarm names watched in this target (the stage's and the environment's own; alarm watch). */
  readonly alarms?: string[];
}

/** One stage's safety settings, as the handlers read them from `DDK_SAFETY_STAGES`. */
export interface SafetyStage {
  readonly targets: SafetyTarget[];
  /** Minutes the alarm watch watches after the deployments. */
  readonly soakMinutes?: number;
}

/** `DDK_SAFETY_STAGES`: by plan stage name. */
export type SafetyStages = Record<string, SafetyStage>;

/** The UserParameters of both actions. */
export interface SafetyActionParameters {
  /** The pipeline's name (the plan's). */
  readonly pipeline: string;
  /** The plan stage's name: its key in `DDK_SAFETY_STAGES`. */
  readonly stage: string;
  /** `#{codepipeline.PipelineExecutionId}`. */
  readonly executionId: string;
}

/** How a resource changes (CloudFormation's change-set actions, plus replacement). */
export type ResourceChangeKind = 'add' | 'modify' | 'replace' | 'remove';

/** One resource's change in a change report. */
export interface ResourceChange {
  readonly logicalId: string;
  readonly type: string;
  readonly kind: ResourceChangeKind;
  /** Top-level properties that differ (modify/replace). */
  readonly properties?: string[];
  /** Why `replace`: the type changed, or these create-only properties changed. */
  readonly replacementReason?: string;
  /** An IAM resource, or IAM properties (policies, roles) of another resource. */
  readonly iam?: boolean;
  /** A security group or its rules. */
  readonly securityGroup?: boolean;
}

/** What one stack of one target will change. */
export interface StackChangeReport {
  readonly target: string;
  readonly stackName: string;
  /** `new` when the stack is not deployed yet. */
  readonly status: 'new' | 'changed' | 'unchanged';
  readonly changes: ResourceChange[];
  /** Template-level differences outside Resources (Outputs, Parameters …), by section. */
  readonly otherSections?: string[];
}

/** The change review's full report of one stage of one execution. */
export interface ChangeReport {
  readonly pipeline: string;
  readonly stage: string;
  readonly executionId: string;
  /** ISO time the review ran. */
  readonly createdAt: string;
  readonly stacks: StackChangeReport[];
  /** The summary shown in the approval. */
  readonly summary: string;
}

/**
 * A recorded override of a stage condition (a deployment window): who, when, why. Kept in the
 * status-check table beside check overrides; `POST /conditions/override` writes it and calls
 * CodePipeline's OverrideStageCondition.
 */
export interface ConditionOverride {
  readonly pipeline: string;
  readonly stage: string;
  readonly executionId: string;
  /** `BEFORE_ENTRY` (the windows) or `ON_SUCCESS` (the CICD account's alarms). */
  readonly conditionType: 'BEFORE_ENTRY' | 'ON_SUCCESS';
  /** The caller's IAM ARN, as API Gateway gives it. */
  readonly by: string;
  readonly reason: string;
  /** ISO time. */
  readonly at: string;
}

/** The status-check API route that overrides a stage condition. */
export const CONDITION_OVERRIDE_ROUTE = '/conditions/override';

/** The CDK lookup role of an account and region: what both handlers assume. */
export function lookupRoleName(account: string, region: string, qualifier: string = 'hnb659fds'): string {
  return `cdk-${qualifier}-lookup-role-${account}-${region}`;
}

/** CodePipeline's pattern of a pipeline execution id (OverrideStageCondition's pipelineExecutionId). */
export const EXECUTION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** The longest reason a condition override keeps. */
export const CONDITION_OVERRIDE_REASON_LENGTH = 1000;

/**
 * The body of `POST /conditions/override` (status-check API, IAM-authorized): the caller is
 * recorded as `by`. The API refuses an empty reason, a stage without windows, and an execution
 * that is not waiting at the stage's BeforeEntry condition.
 */
export interface ConditionOverrideRequest {
  readonly pipeline: string;
  readonly stage: string;
  readonly executionId: string;
  /** Why the window is overridden (1 to 1,000 characters), kept with who and when. */
  readonly reason: string;
}

/** The SDK error names of throttling (a retry later may succeed), across STS, CloudWatch, CloudFormation and S3. */
const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestLimitExceeded', 'TooManyRequestsException',
  'RequestThrottled', 'RequestThrottledException', 'LimitExceededException', 'SlowDown',
]);

/** Whether an AWS SDK error name says the call was throttled (the change review and the alarm watch). */
export function isThrottling(name: string | undefined): boolean {
  return name !== undefined && THROTTLING_ERRORS.has(name);
}

/**
 * Whether a stage (a `PlanStage`; typed by shape, so this module imports nothing of the model) has
 * an alarm watch action: alarms in its targets' accounts.
 */
export function watchesTargetAlarms(stage: { readonly alarms?: { readonly targets: readonly unknown[] } }): boolean {
  return (stage.alarms?.targets.length ?? 0) > 0;
}
