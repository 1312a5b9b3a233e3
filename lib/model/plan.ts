import { basename, dirname, resolve } from 'path';
import type { AlarmSettings, ApprovalSettings, DdkConfig, EnvironmentConfig, SourceSettings, WindowSettings } from '../config/ddk-config';
import { ConfigIssue, DdkConfigError } from '../config/issues';
import { DEFAULT_REVIEW_TTL_HOURS, defaultApprovalComment } from '../config/schema';
import { releasePipelineName, servicePipelineName } from '../releases/shared';
import { REVIEW_ID_PATTERN, REVIEW_VARIABLES, reviewStackNamespace, reviewStackPrefix } from '../reviews/shared';
import { SAFETY_LIMITS } from '../safety/shared';
import { DEFAULT_TIME_ZONE } from '../safety/windows';

/** How the delivery system is built. */
export enum PipelineStrategy {
  /** aws-cdk-lib/pipelines, trunk-based and self-mutating. */
  CDK_PIPELINES = 'cdk-pipelines',
  /** aws-codepipeline, trunk-based, not self-mutating. */
  CODEPIPELINE_TRUNK = 'codepipeline-trunk',
  /** aws-codepipeline, one pipeline per branch/environment. */
  CODEPIPELINE_GITFLOW = 'codepipeline-gitflow',
}

/** CodePipeline execution mode. */
export enum PlanExecutionMode {
  /** Executions wait in a queue and run one at a time through each stage. */
  QUEUED = 'QUEUED',
  /** A newer execution replaces an older one waiting to enter a stage. */
  SUPERSEDED = 'SUPERSEDED',
  /** Executions run independently and in parallel. */
  PARALLEL = 'PARALLEL',
}

/** Where the pipeline's code comes from. */
export enum SourceKind {
  /** An AWS CodeCommit repository. */
  CODECOMMIT = 'codecommit',
  /** A repository reached through AWS CodeConnections (GitHub, GitLab, Bitbucket). */
  CONNECTION = 'connection',
}

/** The source of a plan. */
export interface PlanSource {
  /** Kind of source. */
  readonly kind: SourceKind;
  /** Repository name (CodeCommit) or `owner/name` (connection). */
  readonly repository: string;
  /** Branch that triggers the pipeline. */
  readonly branch: string;
  /** Whether the CodeCommit repository is created by the pipeline stack (false: imported by name). */
  readonly create: boolean;
  /**
   * CodeConnections connection ARN.
   *
   * @default - none (CodeCommit)
   */
  readonly connectionArn?: string;
}

/** A manual approval before a stage, with every default applied. */
export interface PlanApproval {
  /** Text shown to the approver. */
  readonly comment: string;
  /**
   * URL to review before approving.
   *
   * @default - none
   */
  readonly reviewUrl?: string;
  /** Email addresses notified when the approval waits (may be empty). */
  readonly notify: string[];
  /**
   * Minutes before the approval expires.
   *
   * @default - CodePipeline's default (7 days)
   */
  readonly timeoutMinutes?: number;
}

/** An environment a stage deploys to. */
export interface PlanTarget {
  /** Environment id. */
  readonly id: string;
  /** AWS account. */
  readonly account: string;
  /** AWS region. */
  readonly region: string;
  /** The environment's full configuration. */
  readonly environment: EnvironmentConfig;
}

/** One stage of the plan: environments deployed in parallel, guarded and followed by checks. */
export interface PlanStage {
  /** Stage name, unique in the plan. */
  readonly name: string;
  /** Environments deployed in parallel by this stage, in the order the stage lists them. */
  readonly targets: PlanTarget[];
  /**
   * Manual approval before the stage's deployments.
   *
   * @default - no approval
   */
  readonly approval?: PlanApproval;
  /** Status-check contexts that must be `success` before the stage deploys. */
  readonly requiredChecks: string[];
  /** Shell commands run after the stage's deployments. */
  readonly tests: string[];
  /** codepipeline-gitflow: the branch whose pushes run this stage's pipeline. */
  readonly branch: string;
  /** Whether a failed deployment rolls the stage back to its last successful execution. */
  readonly rollbackOnFailure: boolean;
  /** With services: whether releases (one revision per service) move through this stage as one unit. */
  readonly bracket: boolean;
  /**
   * Deployment windows: the stage's BeforeEntry condition lets an execution in only while all are
   * open (empty: any time).
   */
  readonly windows: PlanWindow[];
  /**
   * Alarms watched after the deployments and tests.
   *
   * @default - none watched
   */
  readonly alarms?: PlanAlarms;
  /** Whether a change review runs before the approval (the stage then has an approval). */
  readonly changeReview: boolean;
}

/** A deployment window of a stage. */
export interface PlanWindow {
  /** CodePipeline DeploymentWindow `Cron`. */
  readonly cron: string;
  /** CodePipeline DeploymentWindow `TimeZone` (UTC when ddk.json names none). */
  readonly timeZone: string;
}

/** The alarms of one target watched after a stage. */
export interface PlanTargetAlarms {
  /** The environment id. */
  readonly targetId: string;
  /** Alarm names in the target's account and region: the stage's `names` and the environment's `alarms`. */
  readonly alarms: string[];
}

/** A stage's alarm watch. */
export interface PlanAlarms {
  /** Minutes watched after the deployments and tests. */
  readonly soakMinutes: number;
  /** Per target with at least one alarm, in the stage's target order. */
  readonly targets: PlanTargetAlarms[];
  /** Alarms in the CICD account and region (CodePipeline's CloudWatchAlarm rule, OnSuccess). */
  readonly cicd: string[];
}

/** One service of a plan with release brackets. */
export interface PlanService {
  /** The service's name (`pipeline.services` key). */
  readonly name: string;
  /** The service's repository and branch. */
  readonly source: PlanSource;
  /** Commands that install, test and synthesize the service's app into cdk.out. */
  readonly synthCommands: string[];
}

/** A service's own pipeline. */
export interface ServicePipeline {
  /** The service. */
  readonly service: string;
  /** The pipeline's name, `<name>-<service>`. */
  readonly name: string;
}

/** How a plan with services is delivered: each service alone, then released together. */
export interface ReleasePlan {
  /** The stages each service goes through alone, in its own pipeline (may be empty). */
  readonly serviceStages: PlanStage[];
  /** The bracket stages: from the first on, releases move as one unit (never empty). */
  readonly bracketStages: PlanStage[];
  /** Each service's pipeline: `<name>-<service>`. */
  readonly servicePipelines: ServicePipeline[];
  /** The release pipeline: `<name>-release`. */
  readonly releasePipeline: string;
}

/** Where pipeline events are sent. */
export interface PlanNotifications {
  /** Addresses subscribed to a created, encrypted topic (empty with `topicArn`). */
  readonly emails: string[];
  /**
   * An existing topic to notify.
   *
   * @default - a topic is created
   */
  readonly topicArn?: string;
  /** Event short names, e.g. `execution-failed`. */
  readonly events: string[];
}

/** Review deployments: one per pull request, in the review environment. */
export interface PlanReview {
  /** The environment that hosts the review deployments. */
  readonly target: PlanTarget;
  /** Pull requests into these branches get a review deployment. */
  readonly branches: string[];
  /** Hours without an update after which a review deployment is removed; 0: never. */
  readonly ttlHours: number;
  /** Commands run after each review deployment (may be empty). */
  readonly tests: string[];
  /** Whether pull requests from forks deploy. */
  readonly allowForks: boolean;
  /**
   * The stack output whose value is the review URL.
   *
   * @default - a CloudFormation console link
   */
  readonly urlOutput?: string;
}

/** The review deployment a review build synthesizes (see `DeliveryPlanOptions.review`). */
export interface PlanReviewDeployment {
  /** The review id (`pr12`, `b-feature-x-1a2b3c`). */
  readonly id: string;
  /** Every stack name of the deployment starts with `<stackPrefix>-`. */
  readonly stackPrefix: string;
  /**
   * The commit deployed.
   *
   * @default - unknown
   */
  readonly commit?: string;
  /**
   * The pull request's source branch.
   *
   * @default - unknown
   */
  readonly branch?: string;
  /**
   * The pull request's id.
   *
   * @default - unknown (connection sources)
   */
  readonly pullRequest?: string;
}

/** Which review deployment to synthesize (the review build's `DDK_REVIEW_*` variables). */
export interface ReviewDeploymentOptions {
  /** The review id (`DDK_REVIEW_ID`). */
  readonly id: string;
  /**
   * The commit (`DDK_REVIEW_COMMIT`).
   *
   * @default - unknown
   */
  readonly commit?: string;
  /**
   * The source branch (`DDK_REVIEW_BRANCH`).
   *
   * @default - unknown
   */
  readonly branch?: string;
  /**
   * The pull request id (`DDK_REVIEW_PULL_REQUEST`).
   *
   * @default - unknown
   */
  readonly pullRequest?: string;
}

/** Options for building a plan. */
export interface DeliveryPlanOptions {
  /**
   * Pipeline name when ddk.json does not give one.
   *
   * @default - the `application`/`project` tag, else `recordedName`, else the name of the folder holding ddk.json
   */
  readonly defaultName?: string;
  /**
   * The name the pipeline was deployed under, as its builds receive it (`DDK_PIPELINE_NAME`,
   * see `DeliveryPlan.buildEnvironmentVariables`). It replaces only the folder-derived name:
   * inside CodeBuild the checkout folder is not the folder the pipeline was first deployed from,
   * and the pipeline's own synthesis must produce the same name (stack, repository, pipelines,
   * status-check keys) as the deployment that created it.
   *
   * @default - none: the folder's name is used when nothing else names the pipeline
   */
  readonly recordedName?: string;
  /**
   * Synthesize this review deployment too (set inside a review build; the default app reads
   * it from the `DDK_REVIEW_*` variables).
   *
   * @default - no review deployment
   */
  readonly review?: ReviewDeploymentOptions;
}

/** Where a plan's name came from. */
export enum PipelineNameSource {
  /** `pipeline.name` in ddk.json. */
  FILE = 'pipeline.name',
  /** `DeliveryPlanOptions.defaultName`. */
  OPTION = 'option',
  /** The `application`/`project` tag. */
  TAG = 'tag',
  /** `DeliveryPlanOptions.recordedName` (the `DDK_PIPELINE_NAME` the pipeline's builds get). */
  RECORDED = 'recorded',
  /** The name of the folder holding ddk.json. */
  FOLDER = 'folder',
}

/**
 * The environment variable that carries the pipeline's name into its own builds (see
 * `DeliveryPlanOptions.recordedName`). The default app and the CLI read it.
 */
export const PIPELINE_NAME_VARIABLE = 'DDK_PIPELINE_NAME';

/** Default commands that install and synthesize the project in the pipeline. */
const DEFAULT_SYNTH = ['npm ci', 'npm test', 'npx cdk synth'];
const DEFAULT_EVENTS = ['execution-failed', 'execution-succeeded', 'approval-needed'];
/** Pipeline artifacts are kept this long unless ddk.json says otherwise. */
const DEFAULT_ARTIFACT_RETENTION_DAYS = 90;

/**
 * The delivery plan: what gets deployed where, in which order, behind which gates.
 *
 * Built from a validated `DdkConfig` with every default applied; it imports nothing from
 * aws-cdk-lib, and every renderer (one per strategy) reads only the plan.
 */
export class DeliveryPlan {
  /**
   * Builds the plan of a configuration.
   *
   * @param config the validated ddk.json
   * @param options defaults that do not come from the file
   */
  public static fromConfig(config: DdkConfig, options: DeliveryPlanOptions = {}): DeliveryPlan {
    return new DeliveryPlan(config, options);
  }

  /**
   * The options the pipeline's own builds pass through environment variables: the recorded
   * name (`DDK_PIPELINE_NAME`) and, in a review build, the review deployment (`DDK_REVIEW_ID`,
   * `DDK_REVIEW_COMMIT`, `DDK_REVIEW_BRANCH`, `DDK_REVIEW_PULL_REQUEST`). Your own app passes
   * them on: `DeliveryPlan.fromConfig(config, DeliveryPlan.optionsFromEnvironment(process.env))`.
   *
   * @param env the environment variables (e.g. `process.env`; values that are not strings, or empty, count as unset)
   */
  public static optionsFromEnvironment(env: { [name: string]: any }): DeliveryPlanOptions {
    const value = (name: string): string | undefined => (typeof env[name] === 'string' && env[name] !== '' ? env[name] : undefined);
    const id = value(REVIEW_VARIABLES.ID);
    return {
      recordedName: value(PIPELINE_NAME_VARIABLE),
      review: id === undefined ? undefined : {
        id,
        commit: value(REVIEW_VARIABLES.COMMIT),
        branch: value(REVIEW_VARIABLES.BRANCH),
        pullRequest: value(REVIEW_VARIABLES.PULL_REQUEST),
      },
    };
  }

  /** Pipeline name. */
  public readonly name: string;
  /** Where the name came from; `FOLDER` names change with the checkout folder (the app warns). */
  public readonly nameSource: PipelineNameSource;
  /** Delivery strategy. */
  public readonly strategy: PipelineStrategy;
  /** Source repository and branch. */
  public readonly source: PlanSource;
  /** CodePipeline execution mode. */
  public readonly executionMode: PlanExecutionMode;
  /** Commands that install the project and synthesize it. */
  public readonly synthCommands: string[];
  /** Whether stacks deploy through CloudFormation change sets (prepare, execute). */
  public readonly useChangeSets: boolean;
  /** Days after which pipeline artifacts expire from the artifact and replication buckets. */
  public readonly artifactRetentionDays: number;
  /** Whether the status-check API sets the account's API Gateway CloudWatch Logs role. */
  public readonly apiGatewayCloudWatchRole: boolean;
  /**
   * Where pipeline events are sent.
   *
   * @default - no notifications
   */
  public readonly notifications?: PlanNotifications;
  /** The CICD environment that hosts the pipeline. */
  public readonly cicd: PlanTarget;
  /** Ordered stages. */
  public readonly stages: PlanStage[];
  /**
   * Review deployments per pull request.
   *
   * @default - none
   */
  public readonly review?: PlanReview;
  /** Services released in brackets (empty: one application, the pipeline's source). */
  public readonly services: PlanService[];
  /**
   * How the services are delivered and released (set when there are services).
   *
   * @default - none
   */
  public readonly releasePlan?: ReleasePlan;
  /**
   * The review deployment this synthesis builds (inside a review build only).
   *
   * @default - none
   */
  public readonly reviewDeployment?: PlanReviewDeployment;
  /** The configuration the plan was built from. */
  public readonly config: DdkConfig;

  private constructor(config: DdkConfig, options: DeliveryPlanOptions) {
    const p = config.pipeline ?? {};
    this.config = config;
    const tag = config.tags.application ?? config.tags.Application ?? config.tags.project ?? config.tags.Project;
    const [name, source]: [string, PipelineNameSource] =
      p.name !== undefined ? [p.name, PipelineNameSource.FILE]
        : options.defaultName !== undefined ? [options.defaultName, PipelineNameSource.OPTION]
          : tag !== undefined ? [validName(tag), PipelineNameSource.TAG]
            : options.recordedName ? [validName(options.recordedName), PipelineNameSource.RECORDED]
              : [validName(basename(dirname(resolve(config.file)))), PipelineNameSource.FOLDER];
    this.name = name;
    this.nameSource = source;
    this.strategy = (p.strategy ?? PipelineStrategy.CDK_PIPELINES) as PipelineStrategy;
    this.executionMode = (p.executionMode ?? PlanExecutionMode.SUPERSEDED) as PlanExecutionMode;
    this.synthCommands = [...(p.synth?.commands ?? DEFAULT_SYNTH)];
    this.useChangeSets = p.changeSets ?? true;
    this.artifactRetentionDays = p.artifactRetentionDays ?? DEFAULT_ARTIFACT_RETENTION_DAYS;
    this.apiGatewayCloudWatchRole = p.apiGatewayCloudWatchRole ?? true;
    // DDK: the cicd environment's notifications_topic_arn is the pipeline's existing topic
    const ddkTopic = config.cicd.notificationsTopicArn;
    if (p.notifications || ddkTopic) {
      this.notifications = {
        emails: [...(p.notifications?.emails ?? [])],
        topicArn: p.notifications?.topicArn ?? ddkTopic,
        events: [...(p.notifications?.events ?? DEFAULT_EVENTS)],
      };
    }
    const rollback = p.rollbackOnFailure ?? false;
    this.cicd = target(config.cicd);

    const cc = p.source?.codecommit;
    const conn = p.source?.connection;
    this.source = conn
      ? { kind: SourceKind.CONNECTION, repository: conn.repository, branch: conn.branch ?? 'main', create: false, connectionArn: conn.arn }
      : { kind: SourceKind.CODECOMMIT, repository: cc?.repository ?? this.name.replace(/[^\w.-]/g, '-'), branch: cc?.branch ?? 'main', create: cc?.create ?? true };

    const branchOf = (stageName: string, i: number, n: number, explicit?: string) => explicit ?? (i === n - 1 ? this.source.branch : stageName);
    if (p.stages) {
      this.stages = p.stages.map((s, i, all) => {
        const alarms = alarmsOf(s.environments.map(id => config.environment(id)), s.alarms);
        return {
          name: s.name,
          targets: s.environments.map(id => target(config.environment(id))),
          // DDK: an environment's manual_approvals: true asks for the approval its stage does not set
          approval: approval(s.approval ?? (s.environments.some(id => config.environment(id).manualApprovals === true) || undefined), s.name),
          requiredChecks: [...(s.requiredChecks ?? [])],
          tests: [...(s.tests ?? [])],
          branch: branchOf(s.name, i, all.length, s.branch),
          // an alarm watch rolls back: a stage that watches alarms rolls back unless it says otherwise (refused by validation)
          rollbackOnFailure: s.rollbackOnFailure ?? (alarms !== undefined || rollback),
          // every stage from the first one marked on is a bracket stage
          bracket: all.slice(0, i + 1).some(x => x.bracket === true),
          windows: windowsOf(s.window),
          alarms,
          changeReview: s.changeReview ?? false,
        };
      });
    } else {
      const targets = config.targets;
      this.stages = targets.map((env, i) => {
        const alarms = alarmsOf([env], undefined);
        return {
          name: env.id,
          targets: [target(env)],
          // DDK: manual_approvals (true or false) overrides the default of an approval before all but the first
          approval: approval(env.manualApprovals ?? i > 0, env.id),
          requiredChecks: [],
          tests: [],
          branch: branchOf(env.id, i, targets.length),
          rollbackOnFailure: alarms !== undefined || rollback,
          bracket: false,
          windows: [],
          alarms,
          changeReview: false,
        };
      });
    }
    if (p.review) {
      const r = p.review;
      this.review = {
        target: target(config.environment(r.environment)),
        branches: [...(r.branches ?? [this.source.branch])],
        ttlHours: r.ttlHours ?? DEFAULT_REVIEW_TTL_HOURS,
        tests: [...(r.tests ?? [])],
        allowForks: r.allowForks ?? false,
        urlOutput: r.urlOutput,
      };
      const issues = reviewNameIssues(config.file, this.name, config.targets.map(e => e.id));
      if (issues.length > 0) throw new DdkConfigError(config.file, issues);
    }
    this.services = Object.entries(p.services ?? {}).map(([service, svc]) => ({
      name: service,
      source: planSource(svc.source, service),
      synthCommands: [...(svc.synth?.commands ?? this.synthCommands)],
    }));
    if (this.services.length > 0) {
      const serviceStages = this.stages.filter(st => !st.bracket);
      const bracketStages = this.stages.filter(st => st.bracket);
      this.releasePlan = {
        serviceStages,
        bracketStages,
        servicePipelines: this.services.map(svc => ({ service: svc.name, name: servicePipelineName(this.name, svc.name) })),
        releasePipeline: releasePipelineName(this.name),
      };
      const issues = releaseNameIssues(config.file, this.name, this.services);
      if (issues.length > 0) throw new DdkConfigError(config.file, issues);
    }
    if (options.review) this.reviewDeployment = reviewDeployment(config.file, this.name, this.review, options.review);
    if (this.strategy === PipelineStrategy.CODEPIPELINE_GITFLOW) {
      const issues = [...branchIssues(config.file, this.stages), ...gitflowNameIssues(config.file, this.name, this.stages)];
      if (issues.length > 0) throw new DdkConfigError(config.file, issues);
    }
  }

  /**
   * Name of the CICD stack the app deploys: `<name>-pipeline`, with the characters a
   * CloudFormation stack name cannot hold (`.`, `@`, `_`) made `-`, and a leading `p-` when the
   * name does not start with a letter. The CLI looks the stack up by this name.
   */
  public get cicdStackName(): string {
    const base = this.name.replace(/[^A-Za-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
    return `${/^[A-Za-z]/.test(base) ? '' : 'p-'}${base}-pipeline`.slice(0, 128);
  }

  /**
   * Environment variables every build of the pipeline gets, so that the app synthesizes the
   * same plan inside CodeBuild as where it was deployed from: `DDK_PIPELINE_NAME` (the name).
   */
  public get buildEnvironmentVariables(): { [name: string]: string } {
    return { [PIPELINE_NAME_VARIABLE]: this.name };
  }

  /**
   * A warning when the name comes from the folder holding ddk.json, else undefined.
   */
  public get nameWarning(): string | undefined {
    if (this.nameSource !== PipelineNameSource.FOLDER) return undefined;
    return `${this.config.file}: pipeline.name is not set and there is no "application" or "project" tag: the pipeline is named "${this.name}" after the folder holding the file. `
      + `The pipeline's own builds keep this name (they get ${PIPELINE_NAME_VARIABLE}=${this.name}), but a clone in another folder would deploy a second pipeline. Fix: set "pipeline": {"name": "${this.name}"}`;
  }

  /**
   * The CodePipeline pipelines that run a plan stage: with codepipeline-gitflow the stage's own
   * pipeline `<name>-<stage>`; with services the release pipeline `<name>-release` for a bracket
   * stage, each service's pipeline `<name>-<service>` for a per-service stage; else the plan's
   * one pipeline `<name>`. Throws when the plan has no stage of that name.
   *
   * @param stageName the name of a stage of the plan
   * @returns the pipeline names (at least one), in service order
   */
  public pipelinesOfStage(stageName: string): string[] {
    const stage = this.stages.find(s => s.name === stageName);
    if (!stage) {
      throw new Error(`${this.config.file} has no stage "${stageName}"; its stages are ${this.stages.map(s => `"${s.name}"`).join(', ')}`);
    }
    if (this.strategy === PipelineStrategy.CODEPIPELINE_GITFLOW) return [`${this.name}-${stage.name}`]; // one pipeline per stage (see gitflowNameIssues)
    if (this.services.length > 0) {
      return stage.bracket ? [releasePipelineName(this.name)] : this.services.map(svc => servicePipelineName(this.name, svc.name));
    }
    return [this.name];
  }

  /** Every deployment target of the plan, stage by stage. */
  public get targets(): PlanTarget[] {
    return this.stages.flatMap(s => s.targets);
  }

  /** The distinct target accounts, in first-use order. */
  public get targetAccounts(): string[] {
    return [...new Set(this.targets.map(t => t.account))];
  }
}

/** CodePipeline's limit on a pipeline name. */
const PIPELINE_NAME_MAX = 100;

/**
 * Gitflow: each stage's pipeline is `<name>-<stage>`, which must fit CodePipeline's 100
 * characters. (A plan-level check: the name may come from a tag or the folder.)
 */
function gitflowNameIssues(file: string, name: string, stages: PlanStage[]): ConfigIssue[] {
  const tooLong = stages.filter(s => name.length + 1 + s.name.length > PIPELINE_NAME_MAX);
  if (tooLong.length === 0) return [];
  const room = PIPELINE_NAME_MAX - 1 - Math.max(...stages.map(s => s.name.length));
  return [{
    file,
    path: 'pipeline.name',
    value: JSON.stringify(name),
    problem: `with stage ${tooLong.map(s => `"${s.name}"`).join(', ')} makes a pipeline name longer than CodePipeline's ${PIPELINE_NAME_MAX} characters (codepipeline-gitflow names each stage's pipeline <name>-<stage>)`,
    expected: room > 0 ? `a pipeline name of at most ${room} characters with these stage names` : `stage names of at most ${PIPELINE_NAME_MAX - 2} characters`,
    fix: room > 0 ? 'shorten pipeline.name, or the stage names' : 'shorten the stage names',
  }];
}

/**
 * Review stacks are `<pipeline>-review-<id>-<stack>`; an environment's own stacks are
 * `<environment id>-<stack>`: an environment id in the review namespace could collide.
 */
function reviewNameIssues(file: string, name: string, environmentIds: string[]): ConfigIssue[] {
  const namespace = reviewStackNamespace(name);
  return environmentIds.filter(id => id.startsWith(namespace)).map(id => ({
    file,
    path: `environments.${id}`,
    value: JSON.stringify(id),
    problem: `starts with "${namespace}", the prefix of this pipeline's review stacks: its stacks could take a review deployment's names`,
    expected: `an environment id not starting with "${namespace}"`,
    fix: 'rename the environment',
  }));
}

/** The review deployment a review build asks for, checked: a review section and a valid id. */
function reviewDeployment(file: string, name: string, review: PlanReview | undefined, options: ReviewDeploymentOptions): PlanReviewDeployment {
  if (!review) {
    throw new DdkConfigError(file, [{
      file,
      path: 'pipeline.review',
      problem: `is not set, but a review deployment ("${options.id}") was asked for (DDK_REVIEW_ID is set)`,
      expected: 'a "review" section when review builds run',
      fix: 'add "pipeline": {"review": {"environment": "…"}} back, or unset DDK_REVIEW_ID',
    }]);
  }
  if (!REVIEW_ID_PATTERN.test(options.id)) {
    throw new Error(`DDK_REVIEW_ID: "${options.id}" is not a review id; expected lower-case letters, digits and "-", starting with a letter, at most 32 characters (e.g. "pr12"). Fix: let the review controller set it, or unset it`);
  }
  return {
    id: options.id,
    stackPrefix: reviewStackPrefix(name, options.id),
    commit: options.commit,
    branch: options.branch,
    pullRequest: options.pullRequest,
  };
}

/** A service's source: the pipeline source's shapes; a CodeCommit repository is imported unless `create`. */
function planSource(source: SourceSettings, service: string): PlanSource {
  const conn = source.connection;
  if (conn) return { kind: SourceKind.CONNECTION, repository: conn.repository, branch: conn.branch ?? 'main', create: false, connectionArn: conn.arn };
  const cc = source.codecommit;
  return { kind: SourceKind.CODECOMMIT, repository: cc?.repository ?? service, branch: cc?.branch ?? 'main', create: cc?.create ?? false };
}

/** Each service's pipeline `<name>-<service>` and the release pipeline `<name>-release` within CodePipeline's 100 characters. */
function releaseNameIssues(file: string, name: string, services: PlanService[]): ConfigIssue[] {
  const names = [releasePipelineName(name), ...services.map(svc => servicePipelineName(name, svc.name))];
  const tooLong = names.filter(n => n.length > PIPELINE_NAME_MAX);
  if (tooLong.length === 0) return [];
  const longest = Math.max(...services.map(svc => svc.name.length), 'release'.length);
  return [{
    file,
    path: 'pipeline.name',
    value: JSON.stringify(name),
    problem: `makes the pipeline name${tooLong.length > 1 ? 's' : ''} ${tooLong.map(n => `"${n}"`).join(', ')} longer than CodePipeline's ${PIPELINE_NAME_MAX} characters (each service has a pipeline <name>-<service>, releases run in <name>-release)`,
    expected: `a pipeline name of at most ${PIPELINE_NAME_MAX - 1 - longest} characters with these services`,
    fix: 'shorten pipeline.name, or the service names',
  }];
}

/** Gitflow: one pipeline per branch, so two stages cannot share a branch (defaults included). */
function branchIssues(file: string, stages: PlanStage[]): ConfigIssue[] {
  const seen = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  for (const s of stages) {
    const other = seen.get(s.branch);
    if (other !== undefined) {
      issues.push({
        file,
        path: 'pipeline.stages',
        problem: `stages "${other}" and "${s.name}" both run from branch "${s.branch}"`,
        expected: 'one branch per stage with the codepipeline-gitflow strategy',
        fix: 'set "branch" on one of them',
      });
    }
    seen.set(s.branch, s.name);
  }
  return issues;
}

function target(env: EnvironmentConfig): PlanTarget {
  return { id: env.id, account: env.account, region: env.region, environment: env };
}

function approval(a: boolean | ApprovalSettings | undefined, stage: string): PlanApproval | undefined {
  if (a === undefined || a === false) return undefined;
  const s: ApprovalSettings = a === true ? {} : a;
  return {
    comment: s.comment ?? defaultApprovalComment(stage),
    reviewUrl: s.reviewUrl,
    notify: [...(s.notify ?? [])],
    timeoutMinutes: s.timeoutMinutes,
  };
}

/** A tag's, a recorded or a folder's name made a valid pipeline name. */
function validName(raw: string): string {
  const name = raw.replace(/[^A-Za-z0-9.@_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100);
  return name === '' ? 'ddk-pipeline' : name;
}

function windowsOf(w: WindowSettings | WindowSettings[] | undefined): PlanWindow[] {
  const list = w === undefined ? [] : Array.isArray(w) ? w : [w];
  return list.map(x => ({ cron: x.cron.trim(), timeZone: x.timeZone ?? DEFAULT_TIME_ZONE }));
}

/** A stage's watch: its own `alarms` and its environments' `alarms`; undefined when it watches none. */
function alarmsOf(envs: EnvironmentConfig[], settings: AlarmSettings | undefined): PlanAlarms | undefined {
  const targets = envs
    .map(env => ({ targetId: env.id, alarms: [...new Set([...(settings?.names ?? []), ...env.alarms])] }))
    .filter(t => t.alarms.length > 0);
  const cicd = [...(settings?.cicd ?? [])];
  if (targets.length === 0 && cicd.length === 0) return undefined;
  return { soakMinutes: settings?.soakMinutes ?? SAFETY_LIMITS.defaultSoakMinutes, targets, cicd };
}
