import { z } from 'zod';
import { closest } from './issues';
import { AWS_REGIONS } from './regions';
import { SAFETY_LIMITS } from '../safety/shared';

const SOAK_MIN = SAFETY_LIMITS.minSoakMinutes;
const SOAK_MAX = SAFETY_LIMITS.maxSoakMinutes;
const SOAK_DEFAULT = SAFETY_LIMITS.defaultSoakMinutes;

/*
 * The one source of truth for the shape of ddk.json: zod validates with it and the shipped
 * JSON Schema (ddk.schema.json) is generated from it. Error texts are encoded as
 * {problem, expected, fix} so the loader can render every issue the same way.
 */

/** Encodes the parts of an error message; decoded by the loader. */
export function rule(problem: string, expected: string, fix: string): string {
  return JSON.stringify({ problem, expected, fix });
}

const typeRule = (expected: string, fix: string) => (iss: { input: unknown }) =>
  iss.input === undefined
    ? rule('is missing', expected, fix)
    : rule(`is ${describeType(iss.input)}`, expected, fix);

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

const ACCOUNT_EXPECTED = 'a 12-digit AWS account id as a string, e.g. "111111111111"';
export const AccountSchema = z
  .string({ error: typeRule(ACCOUNT_EXPECTED, 'write the account id as a quoted string of 12 digits') })
  .regex(/^\d{12}$/, {
    error: iss => rule(
      `is not a 12-digit AWS account id (it has ${String(iss.input).length} characters)`,
      ACCOUNT_EXPECTED,
      'copy the account id from the AWS console account menu; keep leading zeros and quote it',
    ),
  })
  .meta({ description: 'AWS account id (12 digits).' });

export const RegionSchema = z
  .string({ error: typeRule('an AWS region such as "eu-west-1"', 'write the region code as a string') })
  .meta({ description: 'AWS region code, e.g. eu-west-1.', examples: [...AWS_REGIONS] });

const TagsSchema = z
  .record(
    z.string().min(1).max(128),
    z.string({ error: typeRule('a string tag value of at most 256 characters', 'quote the tag value') }).max(256, {
      error: rule('is longer than 256 characters', 'a tag value of at most 256 characters', 'shorten the tag value'),
    }),
    { error: typeRule('an object of tag name → string value', 'write tags as {"name": "value"}') },
  )
  .meta({ description: 'Tags applied to every resource (top level) or to one environment\'s resources (merged over the top-level tags).' });

const ReferenceSchema = z.union([
  z.strictObject({
    ssm: z.string().regex(/^\/[\w.\-/]+$/, {
      error: rule('is not an SSM parameter name', 'a parameter name starting with "/", e.g. "/myapp/prod/db-password"', 'write the full parameter name'),
    }).meta({ description: 'SSM parameter name, starting with /.' }),
  }),
  z.strictObject({
    secretsManager: z.string().regex(/^arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, {
      error: rule('is not a Secrets Manager secret ARN', '"arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME"', 'copy the secret ARN from the Secrets Manager console'),
    }).meta({ description: 'Secrets Manager secret ARN.' }),
  }),
], {
  error: rule('is not a valid reference', '{"ssm": "/parameter/name"} or {"secretsManager": "arn:aws:secretsmanager:…"}', 'use one of the two reference forms'),
});

const EnvVarValueSchema = z.union([z.string(), z.number(), z.boolean(), ReferenceSchema], {
  error: rule('is not a valid environment variable value', 'a string, number, boolean, {"ssm": "/path"} or {"secretsManager": "arn…"}', 'use a scalar, or a reference for secrets'),
});

export const REMOVAL_POLICIES = ['destroy', 'retain', 'snapshot', 'retain_on_update_or_delete'] as const;

const ResourcePropsSchema = z.looseObject({
  removal_policy: z.string().refine(v => (REMOVAL_POLICIES as readonly string[]).includes(v.toLowerCase()), {
    error: rule('is not a removal policy', `one of ${REMOVAL_POLICIES.map(p => `"${p}"`).join(', ')}`, 'use "destroy" for disposable environments and "retain" for production'),
  }).optional(),
}, { error: typeRule('an object of construct props, e.g. {"versioned": true}', 'write the props as a JSON object') })
  .meta({ description: 'Props for the construct with this id (snake_case or camelCase), or CloudFormation property overrides when the key is a resource type such as AWS::S3::Bucket.' });

/** An AWS CLI profile name as `bootstrap.profile` and `--profile <env>=<profile>` accept it. */
export const PROFILE_PATTERN = /^[A-Za-z0-9_.@+,:/-]{1,128}$/;
const PROFILE_EXPECTED = 'the name of a profile in your AWS config, e.g. "dev-admin" (letters, digits and _ . @ + , : / -, at most 128 characters)';

const BootstrapSchema = z.looseObject({
  qualifier: z.string().regex(/^[A-Za-z0-9]{1,10}$/, {
    error: rule('is not a CDK bootstrap qualifier', 'up to 10 letters or digits, e.g. "hnb659fds"', 'use the --qualifier given to cdk bootstrap'),
  }).optional(),
  profile: z.string({ error: typeRule(PROFILE_EXPECTED, 'write the profile name as a string, e.g. "dev-admin"') }).regex(PROFILE_PATTERN, {
    error: rule('is not an AWS profile name', PROFILE_EXPECTED, 'write the name as `aws configure list-profiles` prints it'),
  }).optional().meta({ description: 'The AWS profile (in ~/.aws/config) whose credentials reach this environment\'s account: `ddk-pipelines bootstrap` runs this environment\'s `cdk bootstrap` with `--profile <it>`. Default: the current credentials.' }),
}).meta({ description: 'CDK bootstrap settings of this environment (qualifier, profile …).' });

/** CloudWatch alarm names: 1 to 255 characters; no commas (CodePipeline's alarm rule lists names comma-separated). */
export const ALARM_NAME_PATTERN = /^[^,\x00-\x1f]{1,255}$/;
const AlarmNameSchema = z.string({ error: typeRule('a CloudWatch alarm name', 'write the alarm\'s name as a string') }).regex(ALARM_NAME_PATTERN, {
  error: rule('is not a CloudWatch alarm name', 'the name of an alarm (1 to 255 characters, no commas)', 'copy the name from the CloudWatch console'),
});
const AlarmNamesSchema = z.array(AlarmNameSchema, { error: typeRule('a list of alarm names', 'write ["api-5xx"]') });

export const EnvironmentSchema = z.looseObject({
  account: AccountSchema,
  region: RegionSchema,
  tags: TagsSchema.optional(),
  resources: z.record(z.string(), ResourcePropsSchema, { error: typeRule('an object of construct id → props', 'write resources as {"construct-id": {"prop": value}}') }).optional(),
  env_vars: z.record(z.string(), EnvVarValueSchema, { error: typeRule('an object of name → value', 'write env_vars as {"NAME": "value"}') }).optional()
    .meta({ description: 'Environment variables for the application; secrets must be {"ssm": …} or {"secretsManager": …} references.' }),
  bootstrap: BootstrapSchema.optional(),
  props: z.record(z.string(), z.unknown()).optional().meta({ description: 'DDK: free-form properties, readable through the API.' }),
  manual_approvals: z.boolean({ error: typeRule('true or false', 'write true or false without quotes') }).optional().meta({ description: 'DDK: whether a manual approval precedes this environment.' }),
  notifications_topic_arn: z.string().optional().meta({ description: 'DDK: SNS topic ARN for notifications.' }),
  alarms: AlarmNamesSchema.optional().meta({ description: 'Alarms of this environment (its account and region) watched after every stage that deploys it, like the stage\'s alarms.names.' }),
}, { error: typeRule('an object with "account" and "region"', 'write the environment as {"account": "…", "region": "…"}') })
  .meta({ description: 'One AWS account and region. The environment with id "cicd" hosts the pipeline.' });

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The text an approval shows when ddk.json gives it no comment. */
export function defaultApprovalComment(stage: string): string {
  return `Approve the deployment of stage ${stage}`;
}

const ApprovalSchema = z.union([
  z.boolean(),
  z.strictObject({
    comment: z.string().min(1, { error: rule('is empty', 'a text for the approver (1 to 512 characters)', 'write what to check, or remove "comment" for the default text') })
      .max(512).optional().meta({ description: 'Shown to the approver (CodePipeline refuses an empty configuration value).' }),
    reviewUrl: z.url({ error: rule('is not a URL', 'an https:// URL for the reviewer to open', 'write a full URL including https://') }).optional(),
    notify: z.array(z.string().regex(EMAIL, { error: rule('is not an email address', 'an email address such as "team@example.com"', 'fix the address') }), {
      error: typeRule('a list of email addresses', 'write ["team@example.com"]'),
    }).optional().meta({ description: 'Email addresses notified (through an encrypted SNS topic) when approval is needed.' }),
    timeoutMinutes: z.number({ error: rule('is not a number', 'a whole number of minutes from 5 to 86400', 'write the minutes without quotes') })
      .int({ error: rule('is not a whole number', 'a whole number of minutes from 5 to 86400', 'round it to whole minutes') })
      .min(5, { error: rule('is less than CodePipeline\'s minimum of 5 minutes', 'a whole number of minutes from 5 to 86400', 'use at least 5') })
      .max(86400, { error: rule('is more than CodePipeline\'s maximum of 86400 minutes (60 days)', 'a whole number of minutes from 5 to 86400', 'use at most 86400') })
      .optional().meta({ description: 'Minutes before the approval expires (5 to 86400).' }),
  }),
], {
  error: rule('is not a valid approval', 'true, false, or {"comment"?, "reviewUrl"?, "notify"?: [emails], "timeoutMinutes"?}', 'use true for a plain approval'),
}).meta({ description: 'A manual approval before the stage deploys.' });

export const BRANCH_PATTERN = /^(?!\/|.*\/\/|.*\.\.|.*\/$|.*\.lock$)[A-Za-z0-9._\/-]{1,200}$/;
export const NAME_PATTERN = /^[A-Za-z0-9.@_-]{1,100}$/;
export const CONTEXT_PATTERN = /^[A-Za-z0-9._-]+\/[A-Za-z0-9._/-]+$/;
/** The longest context the status-check API accepts in a report (lib/status-checks LIMITS.context). */
export const CONTEXT_MAX_LENGTH = 255;

const WindowSchema = z.strictObject({
  cron: z.string({ error: typeRule('a cron expression such as "* * 9-16 ? * MON-FRI"', 'add "cron": "* * 9-16 ? * MON-FRI"') })
    .meta({ description: 'CodePipeline DeploymentWindow expression: "seconds(*) minutes hours day-of-month month day-of-week [year]"; the window is the minutes it matches, e.g. "* * 9-16 ? * MON-FRI".' }),
  timeZone: z.string({ error: typeRule('a time zone such as "Europe/Berlin"', 'write the zone as a string') }).optional()
    .meta({ description: 'IANA time zone (Region/City), "UTC" or "UTC+HH:MM". Default: UTC.' }),
}, { error: typeRule('a window {"cron": "…", "timeZone": "…"}', 'write {"cron": "* * 9-16 ? * MON-FRI", "timeZone": "Europe/Berlin"}') });

const SoakSchema = z.number({ error: rule('is not a number of minutes', `a whole number of minutes from ${SOAK_MIN} to ${SOAK_MAX}`, 'write a number without quotes, e.g. 15') })
  .int({ error: rule('is not a whole number of minutes', `a whole number of minutes from ${SOAK_MIN} to ${SOAK_MAX}`, 'round it, e.g. 15') })
  .min(SOAK_MIN, { error: rule('is too short', `a whole number of minutes from ${SOAK_MIN} to ${SOAK_MAX}`, `use at least ${SOAK_MIN}`) })
  .max(SOAK_MAX, { error: rule('is longer than the alarm watch can wait (CodePipeline fails a Lambda action after 24 hours)', `a whole number of minutes from ${SOAK_MIN} to ${SOAK_MAX}`, `use at most ${SOAK_MAX}`) });

const AlarmsSchema = z.strictObject({
  names: AlarmNamesSchema.optional()
    .meta({ description: 'Alarms watched in each of the stage\'s environments (their account and region) for soakMinutes after the deployments and tests; one in ALARM fails the stage, which then rolls back.' }),
  cicd: AlarmNamesSchema.optional()
    .meta({ description: 'Alarms in the CICD account and region (for example over metrics shared with it), watched by CodePipeline\'s own CloudWatchAlarm rule after the stage succeeded; one in ALARM rolls the stage back.' }),
  soakMinutes: SoakSchema.optional().meta({ description: `Minutes the alarms are watched. Default: ${SOAK_DEFAULT}.` }),
}, { error: typeRule('an object such as {"names": ["api-5xx"], "soakMinutes": 15}', 'write the alarms as {"names": [...], "soakMinutes": 15}') });

const StageSchema = z.strictObject({
  name: z.string({ error: typeRule('a stage name', 'give the stage a "name"') }).regex(NAME_PATTERN, {
    error: rule('is not a valid stage name', 'letters, digits and . @ _ - (1 to 100 characters)', 'rename the stage'),
  }),
  environments: z.array(z.string(), { error: typeRule('a list of environment ids', 'write ["dev"]') }),
  approval: ApprovalSchema.optional(),
  requiredChecks: z.array(z.string().regex(CONTEXT_PATTERN, {
    error: rule('is not a status-check context', 'a "system/name" context such as "ci/integration"', 'name the check as system/name'),
  }).max(CONTEXT_MAX_LENGTH, {
    // the status-check API accepts no report for a longer context: the gate could never pass
    error: rule(`is longer than the ${CONTEXT_MAX_LENGTH} characters a reported context may have`, `a "system/name" context of at most ${CONTEXT_MAX_LENGTH} characters`, 'shorten the context'),
  }), { error: typeRule('a list of status-check contexts', 'write ["ci/integration"]') }).optional()
    .meta({ description: 'Status-check contexts that must report success before the stage deploys.' }),
  tests: z.array(z.string().min(1, { error: rule('is an empty command', 'a shell command such as "npm run smoke"', 'remove the empty entry') }),
    { error: typeRule('a list of shell commands', 'write ["npm run smoke"]') }).optional()
    .meta({ description: 'Shell commands run after the stage\'s deployments.' }),
  branch: z.string().regex(BRANCH_PATTERN, {
    error: rule('is not a valid branch name', 'a git branch name such as "develop" or "release/1.2"', 'rename the branch'),
  }).optional().meta({ description: 'codepipeline-gitflow: the branch whose pushes run this stage\'s pipeline. Default: main for the last stage, the stage name otherwise.' }),
  rollbackOnFailure: z.boolean({ error: rule('is not true or false', 'true or false', 'write true or false without quotes') }).optional()
    .meta({ description: 'Roll the stage back to the last successful execution when its deployment fails (not in PARALLEL mode). Default: the pipeline\'s setting.' }),
  bracket: z.boolean({ error: rule('is not true or false', 'true or false', 'write true or false without quotes') }).optional()
    .meta({ description: 'With pipeline.services: from this stage on, releases (one exact revision per service) move through the stages as one unit. Every later stage is a bracket stage too.' }),
  window: z.union([WindowSchema, z.array(WindowSchema)], { error: typeRule('a window {"cron", "timeZone"} or a list of them', 'write {"cron": "* * 9-16 ? * MON-FRI", "timeZone": "Europe/Berlin"}') }).optional()
    .meta({ description: 'Deployment windows: an execution enters the stage only while every window is open (CodePipeline DeploymentWindow rules, at most 5), and waits otherwise.' }),
  alarms: AlarmsSchema.optional()
    .meta({ description: 'Alarms watched after the stage\'s deployments and tests; one in ALARM rolls the stage back (not in PARALLEL mode).' }),
  changeReview: z.boolean({ error: rule('is not true or false', 'true or false', 'write true or false without quotes') }).optional()
    .meta({ description: 'Before the stage\'s approval, compute what its deployments will change in each environment (read through the CDK lookup roles) and show the summary and a link to the full report in the approval. Default: false.' }),
}, { error: typeRule('a stage object {"name", "environments"}', 'write {"name": "dev", "environments": ["dev"]}') });

const CodeCommitSourceSchema = z.strictObject({
  repository: z.string().regex(/^[\w.-]{1,100}$/, { error: rule('is not a CodeCommit repository name', 'letters, digits, . _ - (1 to 100 characters)', 'rename the repository') }),
  branch: z.string().min(1).optional().meta({ description: 'Default: main.' }),
  create: z.boolean().optional().meta({ description: 'Create the repository (true, default) or import an existing one by name (false).' }),
});

const ConnectionSourceSchema = z.strictObject({
  arn: z.string().regex(/^arn:aws[\w-]*:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection\/[\w-]+$/, {
    error: rule('is not a CodeConnections connection ARN', '"arn:aws:codeconnections:REGION:ACCOUNT:connection/ID"', 'copy the ARN from Developer Tools → Settings → Connections'),
  }),
  repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, { error: rule('is not an owner/repository name', '"owner/repository"', 'write the repository as owner/name') }),
  branch: z.string().min(1).optional().meta({ description: 'Default: main.' }),
});

/** Notification events, by their short names (the CodePipeline event id without its prefix). */
export const NOTIFICATION_EVENTS = [
  'execution-started', 'execution-succeeded', 'execution-failed', 'execution-canceled', 'execution-resumed', 'execution-superseded',
  'stage-started', 'stage-succeeded', 'stage-failed', 'stage-canceled', 'stage-resumed',
  'action-started', 'action-succeeded', 'action-failed', 'action-canceled',
  'approval-needed', 'approval-succeeded', 'approval-failed',
] as const;

/**
 * The message of an enum: its values, and as the fix the value nearest to what was written
 * (`codepipeline-trunc` → `"codepipeline-trunk"`), else `fallback` when nothing is close.
 */
const enumRule = (problem: string, values: readonly string[], fallback: string) => (iss: { input: unknown }) => {
  const near = typeof iss.input === 'string' ? closest(iss.input, values) : undefined;
  return rule(problem, values.map(v => `"${v}"`).join(', '), near === undefined ? fallback : `use "${near}"`);
};

export const STRATEGIES = ['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'] as const;
export const EXECUTION_MODES = ['QUEUED', 'SUPERSEDED', 'PARALLEL'] as const;

const ServiceSchema = z.strictObject({
  source: z.strictObject({
    codecommit: CodeCommitSourceSchema.optional(),
    connection: ConnectionSourceSchema.optional(),
  }, { error: typeRule('{"codecommit": {…}} or {"connection": {…}}', 'give the service its repository: {"source": {"codecommit": {"repository": "…"}}}') })
    .meta({ description: 'The service\'s repository: exactly one of codecommit or connection.' }),
  synth: z.strictObject({
    commands: z.array(z.string().min(1)).min(1).optional().meta({ description: 'Commands that install, test and synthesize the service\'s app into cdk.out. Default: the pipeline\'s synth commands.' }),
  }).optional(),
}, { error: typeRule('a service object {"source": {…}}', 'write {"source": {"codecommit": {"repository": "…"}}}') })
  .meta({ description: 'One service: its own repository and CDK app, delivered alone through the stages before the first bracket stage.' });

// service names are checked with the cross-field rules (validate.ts), which name the key
const ServicesSchema = z.record(z.string(), ServiceSchema, { error: typeRule('an object of service name → {"source": {…}}', 'write "services": {"backend": {"source": {…}}}') })
  .meta({ description: 'Release brackets: several services, each with its own repository, delivered alone to the stages before the first bracket stage and released together from it on (codepipeline-trunk).' });

/** Review deployments are removed after this many hours without an update unless ddk.json says otherwise. */
export const DEFAULT_REVIEW_TTL_HOURS = 72;
/** The longest `review.ttlHours` (a year). */
export const MAX_REVIEW_TTL_HOURS = 8760;
const TTL_EXPECTED = `a whole number of hours from 0 (no sweep) to ${MAX_REVIEW_TTL_HOURS}`;
/** A CloudFormation output's logical id (what `review.urlOutput` names). */
export const OUTPUT_ID_PATTERN = /^[A-Za-z0-9]{1,255}$/;

const ReviewSchema = z.strictObject({
  environment: z.string({ error: typeRule('the id of the environment that hosts review deployments, e.g. "dev"', 'add "environment": "<an id from environments>"') })
    .meta({ description: 'The environment (an id of "environments", not "cicd") whose account and region host the review deployments; a dedicated one or a stage\'s.' }),
  branches: z.array(z.string().regex(BRANCH_PATTERN, {
    error: rule('is not a valid branch name', 'a git branch name such as "main"', 'write the branch pull requests are opened into'),
  }), { error: typeRule('a list of branch names', 'write ["main"]') }).min(1, {
    error: rule('is empty: no pull request would get a review deployment', 'at least one branch, e.g. ["main"]', 'list the branches pull requests go into, or remove "branches" for the source branch'),
  }).optional().meta({ description: 'Pull requests into these (destination) branches get a review deployment. Default: the pipeline\'s source branch.' }),
  ttlHours: z.number({ error: rule('is not a number of hours', TTL_EXPECTED, 'write a number without quotes, e.g. 72') })
    .int({ error: rule('is not a whole number of hours', TTL_EXPECTED, 'round it, e.g. 72') })
    .min(0, { error: rule('is negative', TTL_EXPECTED, 'use 0 to turn the sweep off') })
    .max(MAX_REVIEW_TTL_HOURS, { error: rule('is more than a year', TTL_EXPECTED, `use at most ${MAX_REVIEW_TTL_HOURS}`) })
    .optional().meta({ description: `Hours without an update after which a review deployment is removed even if its pull request stays open (0: never). Default: ${DEFAULT_REVIEW_TTL_HOURS}.` }),
  tests: z.array(z.string().min(1, { error: rule('is an empty command', 'a shell command such as "npm run e2e"', 'remove the empty entry') }),
    { error: typeRule('a list of shell commands', 'write ["npm run e2e"]') }).optional()
    .meta({ description: 'Shell commands run after each review deployment (they report the check review/tests; DDK_REVIEW_OUTPUTS names the stack outputs file).' }),
  urlOutput: z.string().regex(OUTPUT_ID_PATTERN, {
    error: rule('is not a stack output name', 'the logical id of a CfnOutput, letters and digits (e.g. "ReviewUrl")', 'write the output\'s id as your stack declares it'),
  }).optional().meta({ description: 'The stack output (CfnOutput id) whose value is the review URL reported with review/deploy. Default: a CloudFormation console link to the review\'s stacks.' }),
  allowForks: z.boolean({ error: rule('is not true or false', 'true or false', 'write true or false without quotes') }).optional()
    .meta({ description: 'Deploy pull requests from forks too (their code then runs with the review environment\'s deploy roles). Default: false.' }),
}, { error: typeRule('an object such as {"environment": "dev"}', 'write the review section as an object') })
  .meta({ description: 'A review deployment per pull request: built and deployed on its own into the review environment, reported as the check review/deploy, removed when the pull request closes.' });

export const PipelineSchema = z.strictObject({
  name: z.string().regex(NAME_PATTERN, { error: rule('is not a valid pipeline name', 'letters, digits and . @ _ - (1 to 100 characters)', 'rename the pipeline') }).optional(),
  strategy: z.enum(STRATEGIES, { error: enumRule('is not a strategy', STRATEGIES, 'use "cdk-pipelines"') }).optional(),
  source: z.strictObject({
    codecommit: CodeCommitSourceSchema.optional(),
    connection: ConnectionSourceSchema.optional(),
  }).optional().meta({ description: 'Exactly one of codecommit or connection. Default: a created CodeCommit repository named after the pipeline.' }),
  executionMode: z.enum(EXECUTION_MODES, { error: enumRule('is not an execution mode', EXECUTION_MODES, 'use "SUPERSEDED" (default)') }).optional(),
  changeSets: z.boolean({ error: rule('is not true or false', 'true or false', 'write true or false without quotes') }).optional()
    .meta({ description: 'Deploy each stack through a CloudFormation change set (two actions: prepare, execute) or directly (one action). Default: true.' }),
  rollbackOnFailure: z.boolean({ error: rule('is not true or false', 'true or false', 'write true or false without quotes') }).optional()
    .meta({ description: 'Roll a stage back to its last successful execution when its deployment fails (not in PARALLEL mode). Default: false.' }),
  artifactRetentionDays: z.number({ error: rule('is not a number of days', 'a whole number of days from 1 to 3650', 'write a number without quotes, e.g. 90') })
    .int({ error: rule('is not a whole number of days', 'a whole number of days from 1 to 3650', 'round it, e.g. 90') })
    .min(1, { error: rule('is too short', 'a whole number of days from 1 to 3650', 'keep artifacts at least a day') })
    .max(3650, { error: rule('is too long', 'a whole number of days from 1 to 3650', 'use at most 3650 (ten years)') })
    .optional()
    .meta({ description: 'Days after which pipeline artifacts (source and build outputs, one set per execution) expire from the artifact and replication buckets; a stage cannot be rolled back to an execution whose artifacts expired. Default: 90.' }),
  apiGatewayCloudWatchRole: z.boolean({ error: rule('is not true or false', 'true or false', 'write true or false without quotes') }).optional()
    .meta({ description: 'Whether deploying the status-check API sets the account\'s API Gateway CloudWatch Logs role (one per account and region, replacing any set before). Set false when the account already has one. Default: true.' }),
  notifications: z.strictObject({
    emails: z.array(z.string().regex(EMAIL, { error: rule('is not an email address', 'an email address such as "team@example.com"', 'fix the address') })).optional()
      .meta({ description: 'Addresses subscribed to the pipeline\'s notification topic.' }),
    topicArn: z.string().regex(/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/, {
      error: rule('is not an SNS topic ARN', '"arn:aws:sns:REGION:ACCOUNT:NAME"', 'copy the topic ARN from the SNS console'),
    }).optional().meta({ description: 'An existing SNS topic to notify instead of a created one.' }),
    events: z.array(z.enum(NOTIFICATION_EVENTS, {
      error: rule('is not a notification event', NOTIFICATION_EVENTS.map(e => `"${e}"`).join(', '), 'use one of the listed events'),
    })).min(1).optional().meta({ description: 'Events notified. Default: execution-failed, execution-succeeded, approval-needed.' }),
  }).optional().meta({ description: 'Pipeline, stage and approval events sent to an encrypted SNS topic (CodeStar notification rule).' }),
  synth: z.strictObject({
    commands: z.array(z.string().min(1)).min(1).optional().meta({ description: 'Commands that install, test and synthesize the app into cdk.out. Default: ["npm ci", "npm test", "npx cdk synth"].' }),
  }).optional(),
  review: ReviewSchema.optional(),
  services: ServicesSchema.optional(),
  stages: z.array(StageSchema, { error: typeRule('a list of stages', 'write [{"name": "dev", "environments": ["dev"]}]') }).optional()
    .meta({ description: 'Ordered stages; the environments of one stage deploy in parallel. Default: one stage per environment in file order, approvals before all but the first.' }),
}, { error: typeRule('an object', 'write the pipeline section as an object') })
  .meta({ description: 'ddk-pipelines settings (strict: unknown keys are errors).' });

export const DdkFileSchema = z.looseObject({
  $schema: z.string().optional(),
  tags: TagsSchema.optional(),
  environments: z.record(z.string(), EnvironmentSchema, {
    error: typeRule('an object of environment id → {"account", "region"}', 'add "environments": {"cicd": {…}, "dev": {…}}'),
  }),
  pipeline: PipelineSchema.optional(),
}, { error: typeRule('a JSON object', 'the file must contain one JSON object') })
  .meta({ title: 'ddk.json', description: 'Environment map and delivery pipeline of a ddk-pipelines (AWS DDK compatible) project.' });

export type RawDdkFile = z.infer<typeof DdkFileSchema>;
export type RawEnvironment = z.infer<typeof EnvironmentSchema>;

/** Keys of an environment that the DDK or this library knows; anything else is warned about. */
export const KNOWN_ENVIRONMENT_KEYS = new Set(Object.keys(EnvironmentSchema.shape).concat(['prefix', 'execute_security_lint']));
/** Top-level keys that the DDK or this library knows. */
export const KNOWN_TOP_LEVEL_KEYS = new Set(Object.keys(DdkFileSchema.shape).concat(['bootstrap', 'account', 'region']));

/** The JSON Schema of ddk.json, generated from the zod schema. */
export function ddkJsonSchema(): object {
  return z.toJSONSchema(DdkFileSchema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
}
