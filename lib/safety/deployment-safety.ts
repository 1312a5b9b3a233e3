import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CodePipelineActionFactoryResult, FileSet, ICodePipelineActionFactory, ProduceActionOptions, Step } from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { COMPRESSED_PREFIX, DEFAULT_QUALIFIER, encodeSafetyStages, lookupRoleArn, SafetyStageSettings, SafetyTargetSetting } from './settings';
import {
  ACTION_NAMES, ALARM_WATCH_HANDLER, CHANGE_REVIEW_HANDLER, changeReviewNamespace, REPORT_BUCKET_VARIABLE, REPORT_PREFIX,
  SAFETY_STAGES_VARIABLE, SafetyActionParameters,
} from './shared';
import { watchesTargetAlarms } from './stage-conditions';
import { bundledFunction } from '../lambda-assets';
import type { DeliveryPlan, PlanStage, PlanTarget } from '../model/plan';
import type { ArtifactStore } from '../pipelines/artifact-store';

/** Bytes Lambda allows for all of a function's environment variables (names and values). */
const ENVIRONMENT_BYTES = 4096;
/** An S3 bucket name has at most 63 characters. */
const LONGEST_BUCKET_NAME = 63;
const NODE_OPTIONS = '--enable-source-maps';

/** Props of a `DeploymentSafety`. */
export interface DeploymentSafetyProps {
  /** The delivery plan: its stages' change reviews and alarm watches. */
  readonly plan: DeliveryPlan;
  /**
   * The pipelines' artifact bucket and key: the change review reads the cloud assembly there and
   * writes its reports under `ddk-change-reviews/`.
   */
  readonly artifacts: ArtifactStore;
  /**
   * Where each target's nested cloud assembly lies inside the synth artifact (the `cdk.out`
   * directory): the `artifactId` of the target's `ApplicationStage`, by environment id.
   */
  readonly assemblies: { [environmentId: string]: string };
  /**
   * Retention of the functions' logs.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Deployment safety of a delivery plan (issue 13, README "Deployment safety"): the functions of
 * the stages' change reviews and alarm watches, and the pipeline actions that run them.
 *
 * - `ChangeReviewFunction` (only when a stage has `changeReview`): a CodePipeline Lambda invoke
 *   action before the stage's approval. It reads the synth artifact (the cloud assembly), assumes
 *   each target's CDK lookup role (`cdk-<qualifier>-lookup-role-<account>-<region>`, read-only),
 *   compares the deployed templates, writes the report to the artifact bucket under
 *   `ddk-change-reviews/` and outputs the variables `Summary`, `ReportUrl` and `ReportUri` (namespace
 *   `ChangeReview-<stage>`), which the approval shows.
 * - `AlarmWatchFunction` (only when a stage watches alarms of its targets): a Lambda invoke action
 *   after the stage's deployments and tests that reads the targets' alarms through the same lookup
 *   roles for the stage's soak time and fails the stage (which then rolls back) on an alarm in ALARM.
 *
 * Both functions read their stages' settings from `DDK_SAFETY_STAGES` (`SafetyStages`: each
 * function only the stages and targets it serves; lookup roles named by their qualifier, the JSON
 * deflate-compressed when it does not fit Lambda's 4 KB: lib/safety/settings.ts); the actions'
 * UserParameters name the pipeline, the stage and the execution (`SafetyActionParameters`). Each function's role may assume exactly
 * its stages' targets' lookup roles; the change review's may also read the artifact bucket, write
 * under `ddk-change-reviews/` and use the artifact key through S3.
 *
 * The stage conditions (DeploymentWindow and CloudWatchAlarm rules) are rendered by the
 * renderers on the pipelines' stages; they need no function.
 *
 * Construct ids (stable): `ChangeReviewFunction`, `ChangeReviewRole`, `ChangeReviewLogs`,
 * `AlarmWatchFunction`, `AlarmWatchRole`, `AlarmWatchLogs`, `ActionRole`.
 */
export class DeploymentSafety extends Construct {
  /**
   * Whether a plan needs a `DeploymentSafety`: a stage has a change review or watches alarms in
   * its targets' accounts (windows and CICD-account alarms are stage conditions only).
   */
  public static isNeeded(plan: DeliveryPlan): boolean {
    return plan.stages.some(s => s.changeReview || watchesTargetAlarms(s));
  }

  /**
   * The change review function.
   *
   * @default - undefined when no stage has a change review
   */
  public readonly changeReviewFunction?: lambda.Function;
  /**
   * The alarm watch function.
   *
   * @default - undefined when no stage watches its targets' alarms
   */
  public readonly alarmWatchFunction?: lambda.Function;
  /** The role the pipelines assume to run the change review and alarm watch actions. */
  public readonly actionRole: iam.Role;
  /** The name of the pipeline (the plan's), as the actions' UserParameters name it. */
  public readonly pipelineName: string;
  private readonly reviewed = new Set<string>();
  private readonly watched = new Set<string>();

  constructor(scope: Construct, id: string, props: DeploymentSafetyProps) {
    super(scope, id);
    const plan = props.plan;
    const stack = Stack.of(this);
    this.pipelineName = plan.name;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const reviewStages = plan.stages.filter(s => s.changeReview);
    const watchStages = plan.stages.filter(watchesTargetAlarms);
    for (const s of reviewStages) this.reviewed.add(s.name);
    for (const s of watchStages) this.watched.add(s.name);
    checkNamespaces(plan, reviewStages);

    this.actionRole = new iam.Role(this, 'ActionRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: `Runs the change reviews and alarm watches of pipeline ${plan.name} (CodePipeline action role)`,
    });

    const logGroupNames: string[] = [];
    if (reviewStages.length > 0) {
      const stages: SafetyStageSettings = {};
      for (const s of reviewStages) {
        stages[s.name] = { targets: s.targets.map(t => ({ ...targetOf(t), assembly: assemblyOf(props.assemblies, t, s) })) };
      }
      const logGroupName = `/ddk-pipelines/${plan.cicdStackName}/change-review`;
      logGroupNames.push(logGroupName);
      const environment = safetyEnvironment(plan, 'change review', stages, {
        [REPORT_BUCKET_VARIABLE]: props.artifacts.bucket.bucketName,
        NODE_OPTIONS,
      });
      const fn = this.changeReviewFunction = this.handler('ChangeReview', CHANGE_REVIEW_HANDLER, {
        description: `Change reviews of pipeline ${plan.name}: what each stage's deployments will change, before its approval`,
        logGroupName,
        logRetention,
        artifacts: props.artifacts,
        environment,
        // reads every stack's template of a stage's targets and the resource schemas it needs
        timeout: Duration.minutes(5),
        // the artifact is read by byte ranges, never whole (lib/safety/cloud-assembly.ts). Worst case held:
        // runtime and SDK ~100 MB; the central directory (at most 32 MiB) and its name index (~100 B an
        // entry) while the assemblies are read; one manifest or template at a time (at most 16 MiB); the
        // parsed templates of the stage (CloudFormation caps one at 1 MB; parsed ~5-10x: ~150 MB for
        // 15 stacks of 1 MB); one deployed template and its diff at a time
        memorySize: 384,
      });
      this.grantLookupRoles(fn, reviewStages);
      fn.addToRolePolicy(new iam.PolicyStatement({
        sid: 'ReadCloudAssembly',
        actions: ['s3:GetObject'],
        resources: [props.artifacts.bucket.arnForObjects('*')],
      }));
      fn.addToRolePolicy(new iam.PolicyStatement({
        sid: 'WriteChangeReports',
        actions: ['s3:PutObject'],
        resources: [props.artifacts.bucket.arnForObjects(`${REPORT_PREFIX}*`)],
      }));
      fn.addToRolePolicy(new iam.PolicyStatement({
        sid: 'ArtifactKeyThroughS3',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.artifacts.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
      }));
      const bucketId = stack.getLogicalId(props.artifacts.bucket.node.defaultChild as any);
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
        reason: 'The change review reads the synth artifact (the zipped cloud assembly) of the execution it reviews; CodePipeline names artifact objects per execution, so no narrower ARN exists. s3:GetObject only.',
      }, {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${REPORT_PREFIX}*]`,
        reason: 'The change review writes its reports under ddk-change-reviews/<pipeline>/<execution>/<stage>.json (one per execution and stage; s3:PutObject only).',
      });
    }
    if (watchStages.length > 0) {
      const stages: SafetyStageSettings = {};
      for (const s of watchStages) {
        const alarms = new Map(s.alarms!.targets.map(t => [t.targetId, t.alarms]));
        stages[s.name] = {
          targets: s.targets.filter(t => alarms.has(t.id)).map(t => ({ ...targetOf(t), alarms: [...alarms.get(t.id)!] })),
          soakMinutes: s.alarms!.soakMinutes,
        };
      }
      const logGroupName = `/ddk-pipelines/${plan.cicdStackName}/alarm-watch`;
      logGroupNames.push(logGroupName);
      const environment = safetyEnvironment(plan, 'alarm watch', stages, { NODE_OPTIONS });
      const fn = this.alarmWatchFunction = this.handler('AlarmWatch', ALARM_WATCH_HANDLER, {
        description: `Alarm watches of pipeline ${plan.name}: the targets' alarms after a stage's deployments, for its soak time`,
        logGroupName,
        logRetention,
        artifacts: props.artifacts,
        environment,
        // one reading per invocation; CodePipeline invokes it again while it answers with a continuation token
        timeout: Duration.minutes(1),
        memorySize: 256,
      });
      this.grantLookupRoles(fn, watchStages);
    }
    // CloudWatch Logs encrypts the functions' log groups with the artifact key: the key policy lets
    // the regional logs principal use it for exactly these groups (encryption context)
    props.artifacts.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DeploymentSafetyLogs',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupNames.map(n => `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${n}`) },
      },
    }));
    const fnIds = [this.changeReviewFunction, this.alarmWatchFunction]
      .filter((f): f is lambda.Function => f !== undefined)
      .map(f => stack.getLogicalId(f.node.defaultChild as lambda.CfnFunction));
    Validations.of(this.actionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'lambda:ListFunctions, which aws-cdk-lib\'s LambdaInvokeAction grants the action role, supports no resource-level permissions; invoking is limited to the change review and alarm watch functions.',
    }, ...fnIds.map(fnId => ({
      id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason: 'aws-cdk-lib\'s grantInvoke (called by LambdaInvokeAction) covers the function\'s own versions and aliases (<arn>:*); no other function.',
    })));
  }

  /**
   * The change review of a plan stage as a Lambda invoke action, for a pipeline built with
   * aws-codepipeline directly: put it after the status-check gate and before the approval.
   *
   * @param stage the plan stage (it must have `changeReview`)
   * @param assembly the synth action's output artifact (the cloud assembly)
   * @param runOrder run order of the action (before the approval's)
   */
  public changeReviewAction(stage: PlanStage, assembly: codepipeline.Artifact, runOrder: number): cpa.LambdaInvokeAction {
    this.requireStage(this.reviewed, stage, 'changeReviewAction', 'changeReview');
    return new cpa.LambdaInvokeAction({
      actionName: ACTION_NAMES.changeReview,
      runOrder,
      lambda: this.changeReviewFunction!,
      role: this.actionRole,
      inputs: [assembly],
      variablesNamespace: changeReviewNamespace(stage.name),
      userParameters: this.parameters(stage),
    });
  }

  /**
   * The alarm watch of a plan stage as a Lambda invoke action, for a pipeline built with
   * aws-codepipeline directly: put it last in the stage, after the deployments and tests.
   *
   * @param stage the plan stage (it must watch alarms of its targets)
   * @param runOrder run order of the action (after the tests')
   */
  public alarmWatchAction(stage: PlanStage, runOrder: number): cpa.LambdaInvokeAction {
    this.requireStage(this.watched, stage, 'alarmWatchAction', 'alarms of its environments');
    return new cpa.LambdaInvokeAction({
      actionName: ACTION_NAMES.alarmWatch,
      runOrder,
      lambda: this.alarmWatchFunction!,
      role: this.actionRole,
      userParameters: this.parameters(stage),
    });
  }

  /**
   * The change review of a plan stage as a CDK Pipelines step: put it in the wave's `pre` steps
   * after the status-check gate and before the approval (`Step.sequence`).
   *
   * @param stage the plan stage (it must have `changeReview`)
   * @param assembly the synth step's primary output (the `cdk.out` directory)
   */
  public changeReviewStep(stage: PlanStage, assembly: FileSet): Step {
    this.requireStage(this.reviewed, stage, 'changeReviewStep', 'changeReview');
    return new SafetyStep(ACTION_NAMES.changeReview, (options, input) => new cpa.LambdaInvokeAction({
      actionName: options.actionName,
      runOrder: options.runOrder,
      lambda: this.changeReviewFunction!,
      role: this.actionRole,
      inputs: [input!],
      variablesNamespace: changeReviewNamespace(stage.name),
      userParameters: this.parameters(stage),
    }), assembly);
  }

  /**
   * The alarm watch of a plan stage as a CDK Pipelines step: put it last in the wave's `post`
   * steps, after the tests (`Step.sequence`).
   *
   * @param stage the plan stage (it must watch alarms of its targets)
   */
  public alarmWatchStep(stage: PlanStage): Step {
    this.requireStage(this.watched, stage, 'alarmWatchStep', 'alarms of its environments');
    return new SafetyStep(ACTION_NAMES.alarmWatch, options => new cpa.LambdaInvokeAction({
      actionName: options.actionName,
      runOrder: options.runOrder,
      lambda: this.alarmWatchFunction!,
      role: this.actionRole,
      userParameters: this.parameters(stage),
    }));
  }

  private parameters(stage: PlanStage): SafetyActionParameters {
    return { pipeline: this.pipelineName, stage: stage.name, executionId: '#{codepipeline.PipelineExecutionId}' };
  }

  private requireStage(stages: Set<string>, stage: PlanStage, method: string, what: string): void {
    if (stages.has(stage.name)) return;
    const known = [...stages].map(s => `"${s}"`).join(', ') || 'none';
    throw new Error(`DeploymentSafety ${this.node.path}: ${method}: stage "${stage.name}" has no ${what} in the plan this construct was made for; expected one of ${known}. Fix: call ${method} only for stages whose ddk.json entry has ${what}`);
  }

  /** sts:AssumeRole on exactly the lookup roles of the stages' targets (each named once). */
  private grantLookupRoles(fn: lambda.Function, stages: PlanStage[]): void {
    const stack = Stack.of(this);
    const arns = [...new Set(stages.flatMap(s => s.targets).map(t => lookupRoleArn(stack.partition, t.account, t.region, qualifierOf(t))))];
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'AssumeLookupRoles', actions: ['sts:AssumeRole'], resources: arns }));
  }

  private handler(id: string, name: string, options: HandlerOptions): lambda.Function {
    // a role of its own, with no managed policy: its log group, then exactly what it calls
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${options.description.slice(0, 900)} (function role)`,
    });
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      logGroupName: options.logGroupName,
      encryptionKey: options.artifacts.key,
      retention: options.logRetention,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    const fn = bundledFunction(this, `${id}Function`, {
      description: options.description.slice(0, 256),
      handler: name,
      role,
      logGroup,
      timeout: options.timeout,
      memorySize: options.memorySize,
      environment: options.environment,
    });
    // codepipeline:PutJobSuccessResult and PutJobFailureResult: aws-cdk-lib's LambdaInvokeAction
    // grants them to this role when a pipeline uses the action (stating them here too would
    // render the statement twice)
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'codepipeline:PutJobSuccessResult and PutJobFailureResult, which aws-cdk-lib\'s LambdaInvokeAction grants the function, support no resource-level permissions (a job is identified only by its id); they are the only actions on "*".',
    });
    return fn;
  }
}

interface HandlerOptions {
  readonly description: string;
  readonly logGroupName: string;
  readonly logRetention: logs.RetentionDays;
  readonly artifacts: ArtifactStore;
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  readonly memorySize: number;
}

/** A CDK Pipelines step producing one Lambda invoke action (optionally reading one file set). */
class SafetyStep extends Step implements ICodePipelineActionFactory {
  constructor(
    id: string,
    private readonly make: (options: ProduceActionOptions, input?: codepipeline.Artifact) => cpa.LambdaInvokeAction,
    private readonly input?: FileSet,
  ) {
    super(id);
    if (input) this.addDependencyFileSet(input);
  }

  public produceAction(stage: codepipeline.IStage, options: ProduceActionOptions): CodePipelineActionFactoryResult {
    stage.addAction(this.make(options, this.input ? options.artifacts.toCodePipeline(this.input) : undefined));
    return { runOrdersConsumed: 1 };
  }
}

/** The bootstrap qualifier of a target's environment (its lookup role's). */
function qualifierOf(t: PlanTarget): string {
  return t.environment.bootstrapQualifier ?? DEFAULT_QUALIFIER;
}

/** A target in `DDK_SAFETY_STAGES`: its lookup role named by its qualifier, only when not the default. */
function targetOf(t: PlanTarget): SafetyTargetSetting {
  const qualifier = qualifierOf(t);
  return { id: t.id, account: t.account, region: t.region, ...(qualifier !== DEFAULT_QUALIFIER ? { qualifier } : {}) };
}

function assemblyOf(assemblies: { [id: string]: string }, t: PlanTarget, s: PlanStage): string {
  const path = assemblies[t.id];
  if (path === undefined) {
    throw new Error(`DeploymentSafety: assemblies: no nested cloud assembly for environment "${t.id}" of stage "${s.name}"; expected the artifactId of the environment's ApplicationStage. Fix: pass every target's ApplicationStage.artifactId`);
  }
  return path;
}

/**
 * The change reviews' variable namespaces must be unique in the pipeline: they are cut to 100
 * characters, and "." in a stage name becomes "_" (CodePipeline's namespaces have no ".").
 */
function checkNamespaces(plan: DeliveryPlan, stages: PlanStage[]): void {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const s of stages) {
    const ns = changeReviewNamespace(s.name);
    const other = seen.get(ns);
    if (other !== undefined) {
      problems.push(`${plan.config.file}: pipeline.stages "${s.name}": changeReview: the change review's variable namespace "${ns}" is also stage "${other}"'s (namespaces are unique in a pipeline, cut to 100 characters, with "_" for "."). Fix: rename one of the two stages so that they differ in their first 87 characters, other than "." against "_"`);
    }
    seen.set(ns, s.name);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

/**
 * A function's environment with `DDK_SAFETY_STAGES` encoded to fit Lambda's 4 KB of names and
 * values (the other variables measured at their longest: a bucket name token as 63 characters):
 * the JSON, or compressed when the JSON does not fit. Refuses settings that do not fit even
 * compressed, naming the stages, the number of targets and the fix.
 */
function safetyEnvironment(plan: DeliveryPlan, what: string, stages: SafetyStageSettings, others: Record<string, string>): Record<string, string> {
  let othersBytes = 0;
  for (const [name, value] of Object.entries(others)) {
    othersBytes += Buffer.byteLength(name) + (Token.isUnresolved(value) ? LONGEST_BUCKET_NAME : Buffer.byteLength(value));
  }
  const budget = ENVIRONMENT_BYTES - othersBytes - Buffer.byteLength(SAFETY_STAGES_VARIABLE);
  const json = JSON.stringify(stages);
  const value = encodeSafetyStages(stages, budget);
  const bytes = Buffer.byteLength(value);
  if (bytes > budget) {
    const targets = Object.values(stages).reduce((n, s) => n + s.targets.length, 0);
    throw new Error(`${plan.config.file}: pipeline.stages: the ${what}'s settings (${Object.keys(stages).map(s => `"${s}"`).join(', ')}: ${targets} targets${what === 'alarm watch' ? ' with their alarm names' : ' with their assemblies'}) take ${bytes} bytes of the ${what} function's environment compressed (${COMPRESSED_PREFIX}, base64; ${Buffer.byteLength(json)} bytes as JSON), more than the ${budget} bytes left of the ${ENVIRONMENT_BYTES} bytes (4 KB) Lambda allows for a function's environment variables. Fix: ${what === 'alarm watch' ? 'shorten environment ids and alarm names, or watch fewer alarms (a composite alarm per environment)' : 'shorten environment ids, or review fewer stages'}, or give fewer of the ${targets} targets a${what === 'alarm watch' ? 'n alarm watch' : ' change review'} in ddk.json`);
  }
  return { [SAFETY_STAGES_VARIABLE]: value, ...others };
}
