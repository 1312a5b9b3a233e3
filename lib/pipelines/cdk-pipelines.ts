import { Aspects, Stack, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { acknowledgePipelineFindings } from './acknowledgements';
import { ApplicationStage, IApplicationFactory } from './application-stage';
import { ApprovalStep } from './approval-step';
import { artifactLifecycleRules, ArtifactStore } from './artifact-store';
import { BUILD_IMAGE, BuildLogs, nodeRuntimeBuildSpec } from './build-environment';
import { CompactCrossAccountGrants, ScopeReplicationKeyGrants, ScopeSelfMutationGrants } from './compact-grants';
import { grantConnectionUse } from './connections';
import { CODEPIPELINE_LIMITS, packDeployments, splitStageNames, stageOverhead } from './limits';
import { PipelineNotifications } from './notifications';
import { accessLogBucket, approvalTopic, codeCommitRepository, executionMode, holdSeedExecutions } from './shared';
import { CDK_CLI_VERSION } from './versions';
import { DeliveryPlan, PlanStage, SourceKind } from '../model/plan';
import { ReviewEnvironments } from '../reviews/review-environments';
import { addReviewStage, reviewAssemblyId } from '../reviews/review-stage';
import { DeploymentSafety } from '../safety/deployment-safety';
import { changeReviewNamespace } from '../safety/shared';
import { cfnBeforeEntry, cfnOnSuccess, grantAlarmRules, watchesTargetAlarms } from '../safety/stage-conditions';
import { StatusChecks } from '../status-checks/status-checks';

/** Props of a `CdkPipelinesDelivery`. */
export interface CdkPipelinesDeliveryProps {
  /** The delivery plan to render. */
  readonly plan: DeliveryPlan;
  /** Builds the application's stacks for each environment. */
  readonly application: IApplicationFactory;
}

/**
 * Renders a delivery plan as a self-mutating CDK Pipelines (aws-cdk-lib/pipelines) pipeline:
 * pipeline type V2, the plan's execution mode, KMS-encrypted cross-account artifacts with
 * key rotation, one wave per plan stage with one deployment per environment (in parallel),
 * the stage's approval before and its tests after.
 *
 * A plan stage with more deployments than a CodePipeline stage holds is split into
 * consecutive waves `<stage>`, `<stage>-2`, … (approval before the first, tests after the last).
 */
export class CdkPipelinesDelivery extends Construct {
  /** The CDK Pipelines pipeline (built: the underlying CodePipeline is available). */
  public readonly pipeline: pipelines.CodePipeline;
  /** The underlying CodePipeline. */
  public readonly codePipeline: codepipeline.Pipeline;
  /** Artifact bucket and key. */
  public readonly artifacts: ArtifactStore;
  /**
   * The CodeCommit repository.
   *
   * @default - undefined for a connection source
   */
  public readonly repository?: codecommit.IRepository;
  /** One stage per deployment target, by environment id. */
  public readonly applicationStages: { [environmentId: string]: ApplicationStage };
  /**
   * The status-check store, API and gates.
   *
   * @default - undefined when no stage has requiredChecks and the plan has no review section
   */
  public readonly statusChecks?: StatusChecks;
  /**
   * Review deployments per pull request (build, controller, triggers).
   *
   * @default - undefined when the plan has no review section
   */
  public readonly reviews?: ReviewEnvironments;
  /**
   * The change reviews' and alarm watches' functions and steps.
   *
   * @default - undefined when no stage has a change review or watches its environments' alarms
   */
  public readonly safety?: DeploymentSafety;
  /** The log group of every CodeBuild project of the pipeline. */
  public readonly buildLogs: BuildLogs;
  private readonly source: pipelines.CodePipelineSource;
  /**
   * Notification topic and rule.
   *
   * @default - undefined when the plan has no notifications
   */
  public readonly notifications?: PipelineNotifications;
  private readonly rollbackWaves = new Set<string>();
  /** Waves (CodePipeline stages) that open with a plan stage's windows, by wave name. */
  private readonly windowWaves = new Map<string, PlanStage>();
  /** Waves that close a plan stage watching the CICD account's alarms, by wave name. */
  private readonly alarmWaves = new Map<string, PlanStage>();

  constructor(scope: Construct, id: string, props: CdkPipelinesDeliveryProps) {
    super(scope, id);
    const plan = props.plan;
    // Refuse before building anything: each plan stage is at least one CodePipeline stage.
    this.refuseTooManyStages(plan, plan.stages.length + FIXED_STAGES, plan.stages.length);
    this.artifacts = new ArtifactStore(this, 'Artifacts', { artifactRetentionDays: plan.artifactRetentionDays });

    this.codePipeline = new codepipeline.Pipeline(this, 'CodePipeline', {
      pipelineName: plan.name,
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: executionMode(plan.executionMode),
      artifactBucket: this.artifacts.bucket,
      // Also applies to the replication buckets CodePipeline creates in the targets' other regions.
      crossAccountKeys: true,
      enableKeyRotation: true,
      restartExecutionOnUpdate: true,
    });

    let input: pipelines.CodePipelineSource;
    if (plan.source.kind === SourceKind.CONNECTION) {
      input = pipelines.CodePipelineSource.connection(plan.source.repository, plan.source.branch, {
        connectionArn: plan.source.connectionArn!,
        codeBuildCloneOutput: false,
      });
    } else {
      this.repository = codeCommitRepository(this, plan)!;
      input = pipelines.CodePipelineSource.codeCommit(this.repository, plan.source.branch);
    }

    this.source = input;
    // deployment windows are overridden through the status-check API (POST /conditions/override)
    if (plan.stages.some(s => s.requiredChecks.length > 0 || s.windows.length > 0) || plan.review) {
      this.statusChecks = new StatusChecks(this, 'StatusChecks', { plan, repository: this.repository });
    }

    this.buildLogs = new BuildLogs(this, 'BuildLogs', { key: this.artifacts.key, name: plan.cicdStackName });
    if (plan.review) {
      this.reviews = new ReviewEnvironments(this, 'DdkReviews', {
        plan,
        statusChecks: this.statusChecks!,
        artifacts: this.artifacts,
        buildLogs: this.buildLogs,
        repository: this.repository,
        assemblyId: reviewAssemblyId(this),
      });
    }
    // inside a review build (DDK_REVIEW_ID set): the review deployment's stage (not in the pipeline)
    addReviewStage(this, plan, props.application);
    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      codePipeline: this.codePipeline,
      selfMutation: true,
      useChangeSets: plan.useChangeSets,
      // Self-mutation and asset publishing install this CLI (CDK Pipelines' default is the newest).
      cliVersion: CDK_CLI_VERSION,
      // Every CodeBuild project (synth, self-mutation, assets, tests) on the project's Node.js,
      // logging to one encrypted, expiring log group.
      codeBuildDefaults: {
        buildEnvironment: { buildImage: BUILD_IMAGE },
        partialBuildSpec: codebuild.BuildSpec.fromObject(nodeRuntimeBuildSpec()),
        logging: this.buildLogs.loggingOptions,
      },
      synth: new pipelines.ShellStep('Synth', { input, commands: plan.synthCommands, env: plan.buildEnvironmentVariables }),
    });

    this.applicationStages = {};
    const actionsPerStack = plan.useChangeSets ? 2 : 1;
    if (DeploymentSafety.isNeeded(plan)) {
      // the change review reads each target's nested assembly: the stages exist before the waves
      const assemblies: { [environmentId: string]: string } = {};
      for (const t of plan.targets) {
        const stage = this.applicationStages[t.id] = new ApplicationStage(this, t.id, { environment: t.environment, application: props.application });
        assemblies[t.id] = stage.artifactId;
      }
      this.safety = new DeploymentSafety(this, 'Safety', { plan, artifacts: this.artifacts, assemblies });
    }
    for (const stage of plan.stages) this.addPlanStage(stage, props.application, actionsPerStack, plan.stages.map(s => s.name));

    this.pipeline.buildPipeline();
    if (plan.source.connectionArn) grantConnectionUse(this.codePipeline, plan.source.connectionArn);
    holdSeedExecutions(this, [this.codePipeline]);
    this.checkStageLimit(plan);
    this.rollBackFailedStages();
    this.addStageConditions(plan);
    if (plan.notifications) {
      this.notifications = new PipelineNotifications(this, 'Notifications', { notifications: plan.notifications });
      this.notifications.notify('Rule', this.codePipeline);
    }

    // Replication buckets in the targets' other regions: access-logged, compact policies.
    const trusted = new Set(plan.targetAccounts.filter(a => a !== plan.cicd.account));
    Aspects.of(Stack.of(this)).add(new CompactCrossAccountGrants(trusted));
    for (const [region, support] of Object.entries(this.codePipeline.crossRegionSupport)) {
      Aspects.of(support.stack).add(new CompactCrossAccountGrants(trusted));
      completeReplicationBucket(support.stack, region, support.replicationBucket, plan.artifactRetentionDays);
    }
    const pipelinePolicy = this.codePipeline.role.node.tryFindChild('DefaultPolicy')?.node.defaultChild as iam.CfnPolicy | undefined;
    if (pipelinePolicy) {
      const regions = Object.keys(this.codePipeline.crossRegionSupport);
      Aspects.of(pipelinePolicy).add(new ScopeReplicationKeyGrants(pipelinePolicy, plan.cicd.account, regions));
    }
    const selfMutationPolicy = this.node.tryFindChild('Pipeline')?.node.tryFindChild('UpdatePipeline')?.node.tryFindChild('SelfMutation')
      ?.node.tryFindChild('Role')?.node.tryFindChild('DefaultPolicy')?.node.defaultChild as iam.CfnPolicy | undefined;
    if (selfMutationPolicy) {
      const qualifier = plan.cicd.environment.bootstrapQualifier ?? 'hnb659fds';
      Aspects.of(selfMutationPolicy).add(new ScopeSelfMutationGrants(selfMutationPolicy, plan.cicd.account, qualifier));
      const ack = Validations.of(selfMutationPolicy.node.scope!);
      ack.acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:*:${plan.cicd.account}:stack/*]`,
        reason: 'Self-mutation reads the status of the pipeline stack and of its replication stacks (cloudformation:DescribeStacks, read-only): stacks of the CICD account, in the CICD and the targets\' regions.',
      });
      ack.acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-${plan.cicd.account}-*]`,
        reason: 'Self-mutation lists the CICD account\'s CDK bootstrap buckets (s3:ListBucket, read-only), one per region it deploys to.',
      });
    }
    acknowledgePipelineFindings(this, this.codePipeline, [this.artifacts.bucket]);
  }

  /**
   * CDK Pipelines does not expose stage conditions; the built CodePipeline does (V2 OnFailure).
   */
  private rollBackFailedStages(): void {
    if (this.rollbackWaves.size === 0) return;
    const cfn = this.codePipeline.node.defaultChild as codepipeline.CfnPipeline;
    this.codePipeline.stages.forEach((stage, i) => {
      if (this.rollbackWaves.has(stage.stageName)) cfn.addPropertyOverride(`Stages.${i}.OnFailure`, { Result: 'ROLLBACK' });
    });
  }

  /**
   * The plan stages' windows (BeforeEntry, on a stage's first wave) and CICD-account alarms
   * (OnSuccess, on its last wave), as property overrides like `rollBackFailedStages`; the pipeline's
   * role may read those alarms.
   */
  private addStageConditions(plan: DeliveryPlan): void {
    if (this.windowWaves.size === 0 && this.alarmWaves.size === 0) return;
    const cfn = this.codePipeline.node.defaultChild as codepipeline.CfnPipeline;
    this.codePipeline.stages.forEach((stage, i) => {
      const windows = this.windowWaves.get(stage.stageName);
      if (windows) cfn.addPropertyOverride(`Stages.${i}.BeforeEntry`, cfnBeforeEntry(windows));
      const alarms = this.alarmWaves.get(stage.stageName);
      if (alarms) {
        cfn.addPropertyOverride(`Stages.${i}.OnSuccess`, cfnOnSuccess(alarms));
        grantAlarmRules(this.codePipeline, alarms, plan);
      }
    });
  }

  private checkStageLimit(plan: DeliveryPlan): void {
    this.refuseTooManyStages(plan, this.codePipeline.stageCount, this.pipeline.waves.length);
  }

  private refuseTooManyStages(plan: DeliveryPlan, stages: number, waves: number): void {
    const max = CODEPIPELINE_LIMITS.stagesPerPipeline;
    if (stages <= max) return;
    const fixed = stages - waves;
    throw new Error(`${plan.config.file}: pipeline.stages: the plan renders ${stages} CodePipeline stages (${fixed} for source, build and self-mutation, ${waves} for ${plan.stages.length} plan stages), more than the ${max} stages a pipeline allows. Fix: put environments that may deploy together into one stage (they deploy in parallel), so that there are at most ${max - fixed} stages`);
  }

  private addPlanStage(stage: PlanStage, application: IApplicationFactory, actionsPerStack: number, planStageNames: string[]): void {
    const deployments = stage.targets.map(t => {
      const made = this.applicationStages[t.id];
      if (made) return made;
      const s = new ApplicationStage(this, t.id, { environment: t.environment, application });
      this.applicationStages[t.id] = s;
      return s;
    });
    const actions = deployments.map(d => actionsPerStack * d.node.findAll().filter(c => Stack.isStack(c)).length);
    const groups = packDeployments(stage, actions, stageOverhead(stage));
    const names = splitStageNames(stage.name, groups.length, planStageNames);
    groups.forEach((group, i) => {
      const first = i === 0;
      const last = i === groups.length - 1;
      // The gate comes first: nobody is asked to approve a change whose checks have not passed.
      // then the change review, whose summary and report the approval shows
      const reviewed = first && this.safety !== undefined && stage.changeReview;
      const pre: pipelines.Step[] = [];
      if (first && this.statusChecks && stage.requiredChecks.length > 0) pre.push(this.statusChecks.gateStep(stage, this.source.sourceAttribute('CommitId')));
      if (reviewed) pre.push(this.safety!.changeReviewStep(stage, this.pipeline.synth.primaryOutput!));
      if (first && stage.approval) {
        pre.push(new ApprovalStep('Approve', {
          approval: stage.approval,
          topic: approvalTopic(this, stage, this.artifacts),
          changeReviewNamespace: reviewed ? changeReviewNamespace(stage.name) : undefined,
        }));
      }
      // the alarm watch comes last: the soak time starts once everything is deployed and tested
      const post: pipelines.Step[] = [];
      if (last && stage.tests.length > 0) post.push(new pipelines.ShellStep('Tests', { commands: stage.tests }));
      if (last && this.safety !== undefined && watchesTargetAlarms(stage)) post.push(this.safety.alarmWatchStep(stage));
      const wave = this.pipeline.addWave(names[i], {
        pre: pipelines.Step.sequence(pre),
        post: pipelines.Step.sequence(post),
      });
      if (first && stage.windows.length > 0) this.windowWaves.set(wave.id, stage);
      if (last && (stage.alarms?.cicd.length ?? 0) > 0) this.alarmWaves.set(wave.id, stage);
      if (group.length === 1) {
        // CDK Pipelines renders a wave of one deployment as that deployment's stage, named
        // after it (by default the environment id, which may be another plan stage's name):
        // name it after the plan stage instead, as people and status checks know it.
        wave.stages.push(pipelines.StageDeployment.fromStage(deployments[group[0]], { stageName: wave.id }));
      } else {
        for (const index of group) wave.addStage(deployments[index]);
      }
      if (stage.rollbackOnFailure) this.rollbackWaves.add(wave.id);
    });
  }

}

/**
 * Completes a CodePipeline-created replication bucket (aws-cdk-lib makes it encrypted, SSL-only
 * and private) like the artifact bucket: versioned, artifacts expiring, and its server access
 * logs sent to a bucket beside it. The bucket is configured through its L1, which does not grant
 * the S3 logging service anything: the log bucket's policy lets `logging.s3.amazonaws.com` write
 * under the prefix, for this bucket and account only (S3 "Enabling Amazon S3 server access logging").
 */
function completeReplicationBucket(stack: Stack, region: string, bucket: s3.IBucket, artifactRetentionDays: number): void {
  const logs = accessLogBucket(stack, 'ReplicationAccessLogs', `the ${region} replication bucket`);
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  const prefix = 'replication/';
  cfn.loggingConfiguration = { destinationBucketName: logs.bucketName, logFilePrefix: prefix };
  cfn.versioningConfiguration = { status: 'Enabled' };
  cfn.lifecycleConfiguration = {
    rules: artifactLifecycleRules(artifactRetentionDays).map((r, i) => ({
      id: `artifacts-${i}`,
      status: 'Enabled',
      expirationInDays: r.expiration?.toDays(),
      noncurrentVersionExpiration: r.noncurrentVersionExpiration ? { noncurrentDays: r.noncurrentVersionExpiration.toDays() } : undefined,
      abortIncompleteMultipartUpload: r.abortIncompleteMultipartUploadAfter
        ? { daysAfterInitiation: r.abortIncompleteMultipartUploadAfter.toDays() }
        : undefined,
    })),
  };
  logs.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'S3ServerAccessLogsPolicy',
    principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [logs.arnForObjects(`${prefix}*`)],
    conditions: {
      ArnLike: { 'aws:SourceArn': bucket.bucketArn },
      StringEquals: { 'aws:SourceAccount': stack.account },
    },
  }));
}

/** Source, Build and UpdatePipeline. */
const FIXED_STAGES = 3;


