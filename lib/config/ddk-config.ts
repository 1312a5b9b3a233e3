import { readFileSync } from 'fs';
import { parse, ParseError, ParseErrorCode, printParseErrorCode } from 'jsonc-parser';
import { ConfigIssue, DdkConfigError, didYouMean, formatIssue, jsonPath } from './issues';
import { CFN_TYPE, convertResource } from './prop-keys';
import type { RawDdkFile, RawEnvironment } from './schema';
import { CICD_ENVIRONMENT_ID, validateDocument } from './validate';

/** A manual approval as written in `ddk.json`. */
export interface ApprovalSettings {
  /**
   * Text shown to the approver.
   *
   * @default - a text naming the stage
   */
  readonly comment?: string;
  /**
   * URL the approver should review before approving.
   *
   * @default - none
   */
  readonly reviewUrl?: string;
  /**
   * Email addresses notified through an encrypted SNS topic when the approval waits.
   *
   * @default - nobody is notified
   */
  readonly notify?: string[];
  /**
   * Minutes before an unanswered approval expires (5 to 86400).
   *
   * @default - CodePipeline's default of 7 days
   */
  readonly timeoutMinutes?: number;
}

/** A stage as written in the `pipeline.stages` section of `ddk.json`. */
export interface StageSettings {
  /** Stage name, unique in the pipeline. */
  readonly name: string;
  /** Ids of the environments deployed by this stage, in parallel. */
  readonly environments: string[];
  /**
   * Manual approval before the stage deploys: `true`, or its settings.
   *
   * @default false
   */
  readonly approval?: boolean | ApprovalSettings;
  /**
   * Status-check contexts (`system/name`) that must be `success` before the stage deploys.
   *
   * @default - none
   */
  readonly requiredChecks?: string[];
  /**
   * Shell commands run after the stage's deployments.
   *
   * @default - none
   */
  readonly tests?: string[];
  /**
   * codepipeline-gitflow: the branch whose pushes run this stage's pipeline.
   *
   * @default - the source branch (main) for the last stage, the stage name otherwise
   */
  readonly branch?: string;
  /**
   * Roll the stage back to its last successful execution when its deployment fails.
   *
   * @default - the pipeline's `rollbackOnFailure`
   */
  readonly rollbackOnFailure?: boolean;
  /**
   * With `pipeline.services`: this stage and every later one are bracket stages (releases move
   * through them as one unit).
   *
   * @default false
   */
  readonly bracket?: boolean;
  /**
   * Deployment windows: an execution enters the stage only while every window is open, and waits
   * otherwise (CodePipeline DeploymentWindow rules in the stage's BeforeEntry condition).
   *
   * @default - no window: the stage may deploy at any time
   */
  readonly window?: WindowSettings | WindowSettings[];
  /**
   * Alarms watched after the stage's deployments and tests; one in ALARM rolls the stage back.
   *
   * @default - no alarms watched
   */
  readonly alarms?: AlarmSettings;
  /**
   * Before the approval, compute what the stage's deployments will change in each environment and
   * show it in the approval (summary and report link). Needs an approval.
   *
   * @default false
   */
  readonly changeReview?: boolean;
}

/** A deployment window of a stage, as written in `ddk.json`. */
export interface WindowSettings {
  /**
   * CodePipeline DeploymentWindow expression: "seconds minutes hours day-of-month month
   * day-of-week [year]", seconds `*`; the window is the minutes it matches.
   */
  readonly cron: string;
  /**
   * IANA time zone (`Europe/Berlin`), `UTC`, or `UTC+HH:MM`.
   *
   * @default "UTC"
   */
  readonly timeZone?: string;
}

/** The alarms a stage watches, as written in `ddk.json`. */
export interface AlarmSettings {
  /**
   * Alarms watched in each of the stage's environments (their account and region).
   *
   * @default - only the environments' own `alarms`
   */
  readonly names?: string[];
  /**
   * Alarms in the CICD account and region, watched by CodePipeline's CloudWatchAlarm rule once the stage succeeded.
   *
   * @default - none
   */
  readonly cicd?: string[];
  /**
   * Minutes the alarms are watched.
   *
   * @default 10
   */
  readonly soakMinutes?: number;
}

/** The `pipeline.notifications` section. */
export interface NotificationSettings {
  /**
   * Addresses subscribed to the created, encrypted notification topic.
   *
   * @default - none
   */
  readonly emails?: string[];
  /**
   * An existing SNS topic to notify instead of a created one.
   *
   * @default - a topic is created
   */
  readonly topicArn?: string;
  /**
   * Events notified, by short name (`execution-failed`, `stage-failed`, `approval-needed`, …).
   *
   * @default ["execution-failed", "execution-succeeded", "approval-needed"]
   */
  readonly events?: string[];
}

/** A CodeCommit source as written in `ddk.json`. */
export interface CodeCommitSettings {
  /** Repository name. */
  readonly repository: string;
  /**
   * Branch that triggers the pipeline.
   *
   * @default "main"
   */
  readonly branch?: string;
  /**
   * Create the repository (true) or import an existing one by name (false).
   *
   * @default true
   */
  readonly create?: boolean;
}

/** A CodeConnections (GitHub, GitLab, Bitbucket) source as written in `ddk.json`. */
export interface ConnectionSettings {
  /** ARN of the CodeConnections connection. */
  readonly arn: string;
  /** Repository as `owner/name`. */
  readonly repository: string;
  /**
   * Branch that triggers the pipeline.
   *
   * @default "main"
   */
  readonly branch?: string;
}

/** The `pipeline.source` section: exactly one of its fields is set. */
export interface SourceSettings {
  /**
   * A CodeCommit repository.
   *
   * @default - not a CodeCommit source
   */
  readonly codecommit?: CodeCommitSettings;
  /**
   * A CodeConnections repository.
   *
   * @default - not a connection source
   */
  readonly connection?: ConnectionSettings;
}

/** The `pipeline.synth` section. */
export interface SynthSettings {
  /**
   * Commands that install the project, run its unit tests and synthesize the app into `cdk.out`.
   *
   * @default ["npm ci", "npm test", "npx cdk synth"]
   */
  readonly commands?: string[];
}

/** The `pipeline.review` section: a review deployment per pull request. */
export interface ReviewSettings {
  /** The environment (an id of `environments`, not `cicd`) that hosts the review deployments. */
  readonly environment: string;
  /**
   * Pull requests into these branches get a review deployment.
   *
   * @default - the pipeline's source branch
   */
  readonly branches?: string[];
  /**
   * Hours without an update after which a review deployment is removed even if its pull
   * request stays open; 0 turns the sweep off.
   *
   * @default 72
   */
  readonly ttlHours?: number;
  /**
   * Commands run after each review deployment (reported as the check `review/tests`).
   *
   * @default - none
   */
  readonly tests?: string[];
  /**
   * The stack output (CfnOutput id) whose value is the review URL.
   *
   * @default - a CloudFormation console link to the review's stacks
   */
  readonly urlOutput?: string;
  /**
   * Deploy pull requests from forks too.
   *
   * @default false
   */
  readonly allowForks?: boolean;
}

/** One service of `pipeline.services`. */
export interface ServiceSettings {
  /** The service's repository (exactly one of its fields). */
  readonly source: SourceSettings;
  /**
   * How the service's app is synthesized.
   *
   * @default - the pipeline's synth commands
   */
  readonly synth?: SynthSettings;
}

/** The `pipeline` section of `ddk.json`, as written (defaults are applied by the plan). */
export interface PipelineSettings {
  /**
   * Pipeline name.
   *
   * @default - from the `application`/`project` tag, else the folder of ddk.json
   */
  readonly name?: string;
  /**
   * Delivery strategy: `cdk-pipelines`, `codepipeline-trunk` or `codepipeline-gitflow`.
   *
   * @default "cdk-pipelines"
   */
  readonly strategy?: string;
  /**
   * Where the code comes from.
   *
   * @default - a created CodeCommit repository named after the pipeline, branch main
   */
  readonly source?: SourceSettings;
  /**
   * CodePipeline execution mode: `QUEUED`, `SUPERSEDED` or `PARALLEL`.
   *
   * @default "SUPERSEDED"
   */
  readonly executionMode?: string;
  /**
   * Deploy each stack through a CloudFormation change set (prepare, then execute) or directly.
   *
   * Direct deployment halves the pipeline's actions, which matters near CodePipeline's limits
   * and for synthesis time of very large pipelines.
   *
   * @default true
   */
  readonly changeSets?: boolean;
  /**
   * Roll a stage back to its last successful execution when its deployment fails.
   *
   * @default false
   */
  readonly rollbackOnFailure?: boolean;
  /**
   * Days after which pipeline artifacts expire (CodePipeline writes a new set per execution).
   *
   * @default 90
   */
  readonly artifactRetentionDays?: number;
  /**
   * Whether deploying the status-check API sets the account's API Gateway CloudWatch Logs role
   * (an account-wide, per-region setting); `false` when the account already has one, which would
   * otherwise be replaced.
   *
   * @default true
   */
  readonly apiGatewayCloudWatchRole?: boolean;
  /**
   * Pipeline, stage and approval events sent to SNS.
   *
   * @default - no notifications
   */
  readonly notifications?: NotificationSettings;
  /**
   * How the app is synthesized in the pipeline.
   *
   * @default - npm ci, npx cdk synth
   */
  readonly synth?: SynthSettings;
  /**
   * A review deployment per pull request.
   *
   * @default - no review deployments
   */
  readonly review?: ReviewSettings;
  /**
   * Release brackets: services, each with its own repository, released together from the first
   * bracket stage on.
   *
   * @default - one application, the pipeline's source
   */
  readonly services?: { [name: string]: ServiceSettings };
  /**
   * Ordered stages.
   *
   * @default - one stage per environment in file order, approval before all but the first
   */
  readonly stages?: StageSettings[];
}

/**
 * One environment of `ddk.json`: an AWS account and region with its settings.
 *
 * Every attribute, DDK ones (`props`, `manual_approvals`, `bootstrap`, …) and a project's own
 * keys included, is kept as written and readable with `attribute()`; `manualApprovals`,
 * `notificationsTopicArn` and `bootstrapQualifier` read the ones the plan uses.
 */
export class EnvironmentConfig {
  /** Environment id, the key in `environments`. */
  public readonly id: string;
  /** AWS account id. */
  public readonly account: string;
  /** AWS region. */
  public readonly region: string;
  /** Tags for this environment: the file's top-level tags overlaid with the environment's own. */
  public readonly tags: { [key: string]: string };
  /** Environment variables as written (secrets are references). */
  public readonly envVars: { [key: string]: any };
  /** The `resources` section as written: construct id (or CloudFormation type) → props. */
  public readonly resources: { [id: string]: { [key: string]: any } };
  /** Whether this is the CICD environment that hosts the pipeline. */
  public readonly isCicd: boolean;
  private readonly raw: { [key: string]: any };

  /** @internal */
  constructor(id: string, raw: RawEnvironment, topTags: { [key: string]: string }) {
    this.id = id;
    this.account = raw.account;
    this.region = raw.region;
    this.tags = { ...topTags, ...(raw.tags ?? {}) };
    this.envVars = { ...(raw.env_vars ?? {}) };
    this.resources = { ...(raw.resources ?? {}) };
    this.isCicd = id === CICD_ENVIRONMENT_ID;
    this.raw = raw;
  }

  /**
   * The CDK bootstrap qualifier of this environment (`bootstrap.qualifier`).
   *
   * @default - undefined: the CDK default qualifier
   */
  public get bootstrapQualifier(): string | undefined {
    return this.raw.bootstrap?.qualifier;
  }

  /**
   * The DDK's `manual_approvals`: `true` puts a manual approval before the stage that deploys
   * this environment, `false` leaves it out of the default plan (see `DeliveryPlan`).
   *
   * @default - undefined: the plan's default applies
   */
  public get manualApprovals(): boolean | undefined {
    return this.raw.manual_approvals;
  }

  /**
   * Alarms of this environment (`alarms`), watched after every stage that deploys it.
   *
   * @default - none
   */
  public get alarms(): string[] {
    return [...(this.raw.alarms ?? [])];
  }

  /**
   * The DDK's `notifications_topic_arn`: on the `cicd` environment, the existing SNS topic the
   * pipeline's events go to (as `pipeline.notifications.topicArn` would).
   *
   * @default - undefined: no topic named here
   */
  public get notificationsTopicArn(): string | undefined {
    return this.raw.notifications_topic_arn;
  }

  /**
   * Any attribute of the environment exactly as written in `ddk.json` (e.g. `props`, `manual_approvals`).
   *
   * @param key the attribute name
   * @returns the value, or undefined when absent
   */
  public attribute(key: string): any {
    return this.raw[key];
  }

  /**
   * The props written under `resources.<id>`, keys in camelCase at every depth
   * (`point_in_time_recovery_specification: {point_in_time_recovery_enabled}` →
   * `pointInTimeRecoverySpecification: {pointInTimeRecoveryEnabled}`), except the keys of maps of
   * names you choose (`tags`, a function's `environment`); values are returned as written.
   * PascalCase top-level keys are CloudFormation properties, not props: they are left out.
   * For a CloudFormation type id (`AWS::S3::Bucket`) the entry is returned as written.
   *
   * @param constructId id of the construct the props are for
   * @returns the props, or undefined when the environment has none for that id
   */
  public resourceProps(constructId: string): { [key: string]: any } | undefined {
    const props = this.resources[constructId];
    if (props === undefined) return undefined;
    if (CFN_TYPE.test(constructId)) return { ...props };
    return convertResource(props, 'camel', ['environments', this.id, 'resources', constructId]).props;
  }
}

/**
 * A validated `ddk.json`: the environment map, tags, and the optional `pipeline` section.
 *
 * Reads existing AWS DDK files unchanged. Every problem of a file is reported together,
 * each with file, JSON path, value, expectation and fix.
 */
export class DdkConfig {
  /**
   * Reads and validates a `ddk.json` file.
   *
   * @param path path of the file
   * @throws an error listing every problem of the file
   */
  public static fromFile(path: string): DdkConfig {
    let text: string;
    try {
      text = readFileSync(path, 'utf-8');
    } catch (e: any) {
      throw new DdkConfigError(path, [{
        file: path,
        path: '',
        problem: `cannot be read (${e?.code ?? e?.message ?? e})`,
        expected: 'a readable ddk.json file',
        fix: 'create the file, or give the path of an existing one (`cdk synth -c ddkConfig=<path>`, `ddk-pipelines validate <path>`)',
      }]);
    }
    return DdkConfig.parse(text, path);
  }

  /**
   * Parses and validates the text of a `ddk.json` file.
   *
   * @param text the file's content
   * @param file the name used in messages
   * @throws an error listing every problem of the file
   */
  public static parse(text: string, file: string): DdkConfig {
    return DdkConfig.load(parseJson(text, file), file, text);
  }

  /**
   * Validates an already parsed `ddk.json` document.
   *
   * @param doc the parsed document
   * @param file the name used in messages
   * @throws an error listing every problem of the document
   */
  public static fromObject(doc: any, file: string): DdkConfig {
    return DdkConfig.load(doc, file, `${JSON.stringify(doc, undefined, 2)}\n`);
  }


  /**
   * Every problem of a document, without throwing.
   *
   * @param text the file's content
   * @param file the name used in messages
   */
  public static check(text: string, file: string): ConfigIssue[] {
    try {
      return validateDocument(file, parseJson(text, file)).issues;
    } catch (e) {
      if (DdkConfigError.isDdkConfigError(e)) return e.issues;
      throw e;
    }
  }

  /** Renders an issue as one line. */
  public static formatIssue(issue: ConfigIssue): string {
    return formatIssue(issue);
  }

  private static load(doc: unknown, file: string, text: string): DdkConfig {
    const { issues, warnings } = validateDocument(file, doc);
    if (issues.length > 0) throw new DdkConfigError(file, issues);
    return new DdkConfig(file, doc as RawDdkFile, warnings, text);
  }

  /** The file the configuration was read from. */
  public readonly file: string;
  /** Top-level tags. */
  public readonly tags: { [key: string]: string };
  /** All environments in file order, `cicd` included. */
  public readonly environments: EnvironmentConfig[];
  /** The CICD environment that hosts the pipeline. */
  public readonly cicd: EnvironmentConfig;
  /**
   * The `pipeline` section as written.
   *
   * @default - absent: every default applies
   */
  public readonly pipeline?: PipelineSettings;
  /** Non-fatal findings: keys the library does not use, environments in no stage. */
  public readonly warnings: string[];
  /** The document's text (as read, or as JSON when built from an object); seeds a created repository. */
  public readonly text: string;
  private readonly raw: { [key: string]: any };

  private constructor(file: string, raw: RawDdkFile, warnings: string[], text: string) {
    this.file = file;
    this.text = text;
    this.raw = raw;
    this.tags = { ...(raw.tags ?? {}) };
    this.environments = Object.entries(raw.environments).map(([id, env]) => new EnvironmentConfig(id, env, this.tags));
    this.cicd = this.environments.find(e => e.isCicd)!;
    this.pipeline = raw.pipeline as PipelineSettings | undefined;
    this.warnings = warnings;
  }

  /** The environments that can be deployed to (all but `cicd`), in file order. */
  public get targets(): EnvironmentConfig[] {
    return this.environments.filter(e => !e.isCicd);
  }

  /**
   * One environment by id.
   *
   * @param id the environment id
   * @throws when there is no such environment (the message suggests the closest id)
   */
  public environment(id: string): EnvironmentConfig {
    const env = this.environments.find(e => e.id === id);
    if (!env) {
      const ids = this.environments.map(e => e.id);
      throw new Error(`${this.file}: ${jsonPath(['environments', id])}: no such environment${didYouMean(id, ids)}; the file defines ${ids.map(i => `"${i}"`).join(', ')}. Fix: add it to "environments" or use an existing id`);
    }
    return env;
  }

  /**
   * Any top-level attribute exactly as written in `ddk.json`.
   *
   * @param key the attribute name
   */
  public attribute(key: string): any {
    return this.raw[key];
  }
}

export { camelCase } from './prop-keys';

function parseJson(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const errors: ParseError[] = [];
  const value = parse(body, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length === 0) return value;
  // Positions only (never the text around them: it may hold a secret).
  // The first error only: the ones after it are usually its echoes.
  throw new DdkConfigError(file, errors.slice(0, 1).map(e => {
    const before = body.slice(0, e.offset);
    const line = before.split('\n').length;
    const column = e.offset - before.lastIndexOf('\n');
    return {
      file,
      path: '',
      problem: `is not valid JSON at line ${line}, column ${column} (${describeParseError(e.error)})`,
      expected: 'one JSON object (strings in double quotes, no comments, no trailing commas)',
      fix: `correct the syntax at line ${line}, column ${column}`,
    };
  }));
}

function describeParseError(code: ParseErrorCode): string {
  return printParseErrorCode(code).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
