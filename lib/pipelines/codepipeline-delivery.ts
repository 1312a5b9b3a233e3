import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import { Construct } from 'constructs';
import { acknowledgePipelineFindings } from './acknowledgements';
import { ApplicationStage, IApplicationFactory } from './application-stage';
import { ArtifactStore } from './artifact-store';
import { BuildLogs } from './build-environment';
import { grantConnectionUse } from './connections';
import { DeliveryProjects } from './delivery-projects';
import { CODEPIPELINE_LIMITS, packDeployments, splitStageNames, stageOverhead } from './limits';
import { PipelineNotifications } from './notifications';
import { approvalTopic, codeCommitRepository, executionMode, holdSeedExecutions, manualApprovalAction } from './shared';
import { DeliveryPlan, PipelineStrategy, PlanStage, PlanTarget, SourceKind } from '../model/plan';
import { ReleaseDelivery } from '../releases/release-delivery';
import { ReviewEnvironments } from '../reviews/review-environments';
import { addReviewStage, reviewAssemblyId } from '../reviews/review-stage';
import { DeploymentSafety } from '../safety/deployment-safety';
import { changeReviewNamespace } from '../safety/shared';
import { beforeEntryConditions, grantAlarmRules, onSuccessConditions, watchesTargetAlarms } from '../safety/stage-conditions';
import { StatusChecks } from '../status-checks/status-checks';

/** Props of a `CodePipelineDelivery`. */
export interface CodePipelineDeliveryProps {
  /** The delivery plan to render (strategy `codepipeline-trunk` or `codepipeline-gitflow`). */
  readonly plan: DeliveryPlan;
  /** Builds the application's stacks for each environment. */
  readonly application: IApplicationFactory;
}


/**
 * Renders a delivery plan with aws-codepipeline (not self-mutating):
 *
 * - `codepipeline-trunk`: one pipeline: source → build (install, unit tests, synth: one cloud
 *   assembly) → one stage per plan stage that deploys that same assembly to each of the stage's
 *   environments in parallel (a CodeBuild action per environment running `cdk deploy` of the
 *   environment's nested assembly, allowed to assume only that stage's targets' CDK bootstrap
 *   roles), the approval before and the tests after.
 * - `codepipeline-trunk` with services (`pipeline.services`): instead of that pipeline, a
 *   `ReleaseDelivery` (construct id `Releases`): one pipeline per service and the release
 *   pipeline, sharing this construct's artifact store, build logs, notifications and status checks.
 * - `codepipeline-gitflow`: one such pipeline per plan stage, each triggered by its own branch.
 *
 * Changing ddk.json changes these pipelines when the CICD stack is deployed again.
 */
export class CodePipelineDelivery extends Construct {
  /**
   * The pipelines: one (trunk), one per plan stage (Gitflow), in plan order; with services, each
   * service's pipeline then the release pipeline.
   */
  public readonly pipelines: codepipeline.Pipeline[] = [];
  /** Artifact bucket and key, shared by the pipelines. */
  public readonly artifacts: ArtifactStore;
  /**
   * The CodeCommit repository.
   *
   * @default - undefined for a connection source
   */
  public readonly repository?: codecommit.IRepository;
  /** One stage per deployment target, by environment id. */
  public readonly applicationStages: { [environmentId: string]: ApplicationStage } = {};
  /**
   * Notification topic and rules.
   *
   * @default - undefined when the plan has no notifications
   */
  public readonly notifications?: PipelineNotifications;
  /**
   * The status-check store, API and gates.
   *
   * @default - undefined when no stage has requiredChecks and the plan has neither a review section nor services
   */
  public readonly statusChecks?: StatusChecks;
  /**
   * Review deployments per pull request (build, controller, triggers).
   *
   * @default - undefined when the plan has no review section
   */
  public readonly reviews?: ReviewEnvironments;
  /**
   * The services' pipelines, the release pipeline and the release function.
   *
   * @default - undefined when the plan has no services
   */
  public readonly releases?: ReleaseDelivery;
  /**
   * The change reviews' and alarm watches' functions and actions.
   *
   * @default - undefined when no stage has a change review or watches its environments' alarms
   */
  public readonly safety?: DeploymentSafety;
  /** The log group of every CodeBuild project of the pipelines. */
  public readonly buildLogs: BuildLogs;
  private readonly plan: DeliveryPlan;
  private readonly projects: DeliveryProjects;
  private readonly buildProject?: codebuild.PipelineProject;

  constructor(scope: Construct, id: string, props: CodePipelineDeliveryProps) {
    super(scope, id);
    const plan = this.plan = props.plan;
    const gitflow = plan.strategy === PipelineStrategy.CODEPIPELINE_GITFLOW;
    if (!gitflow && plan.strategy !== PipelineStrategy.CODEPIPELINE_TRUNK) {
      throw new Error(`CodePipelineDelivery renders the codepipeline-trunk and codepipeline-gitflow strategies, not "${plan.strategy}". Fix: use CdkPipelinesDelivery for cdk-pipelines`);
    }
    const services = plan.services.length > 0;
    if (!gitflow && !services && plan.stages.length + 2 > CODEPIPELINE_LIMITS.stagesPerPipeline) {
      throw new Error(`${plan.config.file}: pipeline.stages: the plan renders at least ${plan.stages.length + 2} CodePipeline stages (2 for source and build, ${plan.stages.length} for the plan stages), more than the ${CODEPIPELINE_LIMITS.stagesPerPipeline} stages a pipeline allows. Fix: put environments that may deploy together into one stage (they deploy in parallel)`);
    }
    this.artifacts = new ArtifactStore(this, 'Artifacts', { artifactRetentionDays: plan.artifactRetentionDays });
    this.buildLogs = new BuildLogs(this, 'BuildLogs', { key: this.artifacts.key, name: plan.cicdStackName });
    this.projects = new DeliveryProjects(plan, this.artifacts, this.buildLogs);
    // with services, each service's repository is the service's (ReleaseDelivery), and each
    // service's own app builds its stacks: the CICD app has no repository and no application stages
    this.repository = services ? undefined : codeCommitRepository(this, plan, gitflow ? plan.stages.map(s => s.branch) : []);
    for (const t of services ? [] : plan.targets) {
      this.applicationStages[t.id] = new ApplicationStage(this, t.id, { environment: t.environment, application: props.application });
    }
    // releases record candidates and releases in the status-check table and serve them through its API;
    // deployment windows are overridden through its API (POST /conditions/override)
    if (plan.stages.some(s => s.requiredChecks.length > 0 || s.windows.length > 0) || plan.review || services) {
      this.statusChecks = new StatusChecks(this, 'StatusChecks', { plan, repository: this.repository });
    }
    if (DeploymentSafety.isNeeded(plan)) {
      // with services only alarm watches (a change review is refused): no assembly is read
      const assemblies: { [environmentId: string]: string } = {};
      for (const [environmentId, stage] of Object.entries(this.applicationStages)) assemblies[environmentId] = stage.artifactId;
      this.safety = new DeploymentSafety(this, 'Safety', { plan, artifacts: this.artifacts, assemblies });
    }
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
    // inside a review build (DDK_REVIEW_ID set): the review deployment's stage
    addReviewStage(this, plan, props.application);
    // with services, each service has its own synth project (ReleaseDelivery)
    if (!services) this.buildProject = this.newBuildProject();
    if (plan.notifications) this.notifications = new PipelineNotifications(this, 'Notifications', { notifications: plan.notifications });

    if (services) {
      this.releases = new ReleaseDelivery(this, 'Releases', {
        plan,
        artifacts: this.artifacts,
        buildLogs: this.buildLogs,
        statusChecks: this.statusChecks!,
        notifications: this.notifications,
        safety: this.safety,
      });
      this.pipelines.push(...this.releases.pipelines);
    } else if (gitflow) {
      for (const stage of plan.stages) this.newPipeline(`Pipeline-${stage.name}`, `${plan.name}-${stage.name}`, stage.branch, [stage]);
    } else {
      this.newPipeline('Pipeline', plan.name, plan.source.branch, plan.stages);
    }
    holdSeedExecutions(this, this.pipelines);
    acknowledgePipelineFindings(this, this.pipelines[0], [this.artifacts.bucket]);
  }

  private newPipeline(id: string, name: string, branch: string, stages: PlanStage[]): codepipeline.Pipeline {
    const plan = this.plan;
    const source = new codepipeline.Artifact('Source');
    const assembly = new codepipeline.Artifact('Assembly');
    const sourceAction = this.sourceAction(branch, source);
    const pipeline = new codepipeline.Pipeline(this, id, {
      pipelineName: name,
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: executionMode(plan.executionMode),
      artifactBucket: this.artifacts.bucket,
      restartExecutionOnUpdate: false,
      triggers: sourceAction instanceof cpa.CodeStarConnectionsSourceAction ? [{
        providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
        gitConfiguration: { sourceAction, pushFilter: [{ branchesIncludes: [branch] }] },
      }] : undefined,
    });
    pipeline.addStage({ stageName: 'Source', actions: [sourceAction] });
    pipeline.addStage({
      stageName: 'Build',
      actions: [new cpa.CodeBuildAction({ actionName: 'Synth', project: this.buildProject!, input: source, outputs: [assembly] })],
    });
    for (const stage of stages) this.addPlanStage(pipeline, stage, source, assembly, sourceAction.variables.commitId);
    if (plan.source.connectionArn) grantConnectionUse(pipeline, plan.source.connectionArn);
    if (pipeline.stageCount > CODEPIPELINE_LIMITS.stagesPerPipeline) {
      throw new Error(`${plan.config.file}: pipeline.stages: pipeline "${name}" has ${pipeline.stageCount} stages, more than the ${CODEPIPELINE_LIMITS.stagesPerPipeline} a pipeline allows. Fix: put environments that may deploy together into one stage`);
    }
    this.notifications?.notify(`Rule-${id}`, pipeline);
    this.pipelines.push(pipeline);
    return pipeline;
  }

  private sourceAction(branch: string, output: codepipeline.Artifact): cpa.CodeStarConnectionsSourceAction | cpa.CodeCommitSourceAction {
    const s = this.plan.source;
    if (s.kind === SourceKind.CONNECTION) {
      const [owner, repo] = s.repository.split('/');
      return new cpa.CodeStarConnectionsSourceAction({
        actionName: 'Source', connectionArn: s.connectionArn!, owner, repo, branch, output, triggerOnPush: true,
      });
    }
    // CodeCommit: an EventBridge rule on this branch starts the pipeline (change detection).
    return new cpa.CodeCommitSourceAction({ actionName: 'Source', repository: this.repository!, branch, output, trigger: cpa.CodeCommitTrigger.EVENTS });
  }

  private addPlanStage(
    pipeline: codepipeline.Pipeline, stage: PlanStage, source: codepipeline.Artifact, assembly: codepipeline.Artifact, commitId: string,
  ): void {
    const deploy = this.deployProject(stage);
    const gated = this.statusChecks !== undefined && stage.requiredChecks.length > 0;
    const groups = packDeployments(stage, stage.targets.map(() => 1), stageOverhead(stage));
    const names = splitStageNames(stage.name, groups.length, this.plan.stages.map(s => s.name));
    const reviewed = this.safety !== undefined && stage.changeReview;
    const watched = this.safety !== undefined && watchesTargetAlarms(stage);
    groups.forEach((group, i) => {
      const first = i === 0;
      const last = i === groups.length - 1;
      const actions: codepipeline.IAction[] = [];
      let runOrder = 1;
      // The gate comes first: nobody is asked to approve a change whose checks have not passed;
      // then the change review, whose summary and report the approval shows.
      if (first && gated) actions.push(this.statusChecks!.gateAction(stage, commitId, { runOrder: runOrder++ }));
      if (first && reviewed) actions.push(this.safety!.changeReviewAction(stage, assembly, runOrder++));
      if (first && stage.approval) {
        const namespace = reviewed ? changeReviewNamespace(stage.name) : undefined;
        actions.push(manualApprovalAction(stage.approval, 'Approve', runOrder++, approvalTopic(pipeline, stage, this.artifacts), namespace));
      }
      const deployOrder = runOrder++;
      for (const index of group) actions.push(this.deployAction(deploy, stage.targets[index], assembly, deployOrder));
      if (last && stage.tests.length > 0) {
        actions.push(new cpa.CodeBuildAction({ actionName: 'Tests', project: this.testsProject(stage), input: source, runOrder: runOrder++ }));
      }
      // The alarm watch comes last: the soak time starts once everything is deployed and tested.
      if (last && watched) actions.push(this.safety!.alarmWatchAction(stage, runOrder++));
      pipeline.addStage({
        stageName: names[i],
        actions,
        // the windows let an execution into the (first part of the) stage; the CICD account's
        // alarms roll back the (last part of the) stage after it succeeded
        beforeEntry: first ? beforeEntryConditions(stage) : undefined,
        onSuccess: last ? onSuccessConditions(stage) : undefined,
        onFailure: stage.rollbackOnFailure ? { result: codepipeline.Result.ROLLBACK } : undefined,
      });
      if (last) grantAlarmRules(pipeline, stage, this.plan);
    });
  }

  private deployAction(project: codebuild.IProject, target: PlanTarget, assembly: codepipeline.Artifact, runOrder: number): codepipeline.IAction {
    return new cpa.CodeBuildAction({
      actionName: `Deploy-${target.id}`,
      project,
      input: assembly,
      runOrder,
      environmentVariables: {
        DDK_ENVIRONMENT: { value: target.id },
        DDK_ASSEMBLY: { value: this.applicationStages[target.id].artifactId },
      },
    });
  }

  /** The install, unit-test and synth build; its output is the cloud assembly every stage deploys. */
  private newBuildProject(): codebuild.PipelineProject {
    const description = 'install, unit tests and synthesis (cdk-nag and CloudFormation validation run in synth)';
    return this.projects.synthProject(this, 'Build', description, this.plan.synthCommands);
  }

  /** One deploy project per plan stage, allowed to assume only that stage's targets' bootstrap roles. */
  private deployProject(stage: PlanStage): codebuild.PipelineProject {
    return this.projects.deployProject(this, `Deploy-${stage.name}`, stage, `cdk deploy of one environment of stage ${stage.name}`);
  }

  private testsProject(stage: PlanStage): codebuild.PipelineProject {
    return this.projects.testsProject(this, `Tests-${stage.name}`, stage, `tests after stage ${stage.name}`);
  }
}

