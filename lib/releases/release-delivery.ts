import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ServiceStages } from './service-stages';
import {
  CANDIDATE_OPERATION, CandidateParameters, RELEASE_BY_VARIABLE, RELEASE_DEPLOY_ACTION_PREFIX, RELEASE_ID_PATTERN, RELEASE_ID_VARIABLE,
  RELEASE_SETTINGS_ENV, RELEASE_TESTS_ACTION, ReleaseSettings, SERVICE_VARIABLES, serviceSourceActionName, serviceSourceArtifactName,
} from './shared';
import { CICD_ENVIRONMENT_ID } from '../config/validate';
import { bundledFunction } from '../lambda-assets';
import { DeliveryPlan, PipelineStrategy, PlanService, PlanStage, PlanTarget, ReleasePlan, SourceKind } from '../model/plan';
import type { ArtifactStore } from '../pipelines/artifact-store';
import type { BuildLogs } from '../pipelines/build-environment';
import { connectionServicePrefix, grantConnectionUse } from '../pipelines/connections';
import { DeliveryProjects } from '../pipelines/delivery-projects';
import { CODEPIPELINE_LIMITS, packDeployments, splitStageNames, stageOverhead } from '../pipelines/limits';
import type { PipelineNotifications } from '../pipelines/notifications';
import { approvalTopic, executionMode, manualApprovalAction } from '../pipelines/shared';
import type { DeploymentSafety } from '../safety/deployment-safety';
import { beforeEntryConditions, grantAlarmRules, onSuccessConditions, watchesTargetAlarms } from '../safety/stage-conditions';
import { ENV, LIMITS } from '../status-checks/shared';
import type { StatusChecks } from '../status-checks/status-checks';

/** Props of `ReleaseDelivery`. */
export interface ReleaseDeliveryProps {
  /** The delivery plan: strategy `codepipeline-trunk` with `pipeline.services` (its `releasePlan`). */
  readonly plan: DeliveryPlan;
  /** The artifact bucket and key every pipeline and build shares. */
  readonly artifacts: ArtifactStore;
  /** The log group every build writes to. */
  readonly buildLogs: BuildLogs;
  /** The status checks: gates, and the table, events and API that releases and candidates are recorded in. */
  readonly statusChecks: StatusChecks;
  /**
   * Where the pipelines' events are sent.
   *
   * @default - no notifications
   */
  readonly notifications?: PipelineNotifications;
  /**
   * The alarm watches' function and action (stages that watch alarms in their targets' accounts;
   * a change review is refused with services).
   *
   * @default - no alarm watch actions (required when a stage watches its targets' alarms)
   */
  readonly safety?: DeploymentSafety;
}

/** The value of the release pipeline's `ReleaseId` variable when an execution was not started by `release start`. */
export const RELEASE_ID_DEFAULT = 'manual';
/** The value of the release pipeline's `ReleaseStartedBy` variable when an execution was not started by `release start`. */
export const RELEASE_BY_DEFAULT = 'unknown';
/** The variable a release build and the release tests get: the release id (`#{variables.ReleaseId}`). */
export const RELEASE_ID_BUILD_VARIABLE = 'DDK_RELEASE_ID';
/** Name of the last stage of a service's pipeline, whose action records the service's candidate. */
export const CANDIDATE_STAGE = 'Candidate';
/**
 * CodeBuild's limit on one environment variable's value (StartBuild answers `InvalidInputException:
 * EnvironmentVariable should be at most 4096 characters`); the API reference gives no maximum.
 */
export const CODEBUILD_VARIABLE_MAX = 4096;

/** The CodePipeline variable expression of the release id. */
const RELEASE_ID_EXPRESSION = `#{variables.${RELEASE_ID_VARIABLE}}`;

/**
 * Release brackets (`pipeline.services` in ddk.json, strategy `codepipeline-trunk`): each service
 * delivered on its own through the stages before the first bracket stage, then released together.
 *
 * - per service, a V2 pipeline `<name>-<service>`: `Source` (the service's repository, started by
 *   a push to its branch: CodeCommit events, or the connection's push trigger) → `Build` (the
 *   service's synth commands with `DDK_PIPELINE_NAME`, `DDK_SERVICE` and `DDK_ENVIRONMENTS` set;
 *   its app builds one nested assembly `assembly-<environment id>` per environment with
 *   `ServiceStages`) → each per-service stage (status-check gate on the service's commit,
 *   approval, one `cdk deploy --app cdk.out/assembly-<environment id>` action per environment,
 *   tests) → `Candidate`: the release function records the commit as the service's latest
 *   candidate;
 * - the release pipeline `<name>-release`: V2, the plan's execution mode, pipeline variables
 *   `ReleaseId` (default `manual`) and `ReleaseStartedBy` (default `unknown`), no trigger and no
 *   change detection: only `StartPipelineExecution` (`ddk-pipelines release start`, which pins
 *   every service's commit with `sourceRevisions`) starts it. `Source` (one action
 *   `Source-<service>` per service) → `Build` (one action `Build-<service>` per service, the
 *   service's synth project; a build whose `ReleaseId` is not a release id fails, so the
 *   execution CodePipeline starts when it creates the pipeline, and a console "Release change",
 *   deploy nothing) → each bracket stage: gate on `#{variables.ReleaseId}`, approval, one action
 *   `Deploy-<service>-<environment id>` per service and environment in parallel, then `Tests`
 *   once (in the first service's checkout, with `DDK_RELEASE_ID`); `rollbackOnFailure` rolls the
 *   stage back to the previous release (CodePipeline stage rollback);
 * - deployment safety (README "Deployment safety"), on each per-service stage in each service's
 *   pipeline and on each bracket stage in the release pipeline, as in a pipeline without services:
 *   the stage's windows as its BeforeEntry `DeploymentWindow` rules (`<stage>-Window-<n>`), the
 *   `AlarmWatch` action last (once per stage run: a bracket stage deploys every service to the same
 *   targets, so one watch follows all its deployments and tests), the CICD account's alarms as
 *   OnSuccess `CloudWatchAlarm` rules with the pipeline role allowed cloudwatch:DescribeAlarms on
 *   exactly those alarms; a split per-service stage keeps the windows on its first part and the
 *   watch and alarm rules on its last;
 * - the release function (lambda/release-events): Candidate jobs, and the release pipeline's
 *   pipeline, stage and action state changes (an EventBridge rule), recorded in the status-check
 *   table and published as release events on the status checks' bus.
 *
 * Construct ids (stable): `Repository-<service>` (a created CodeCommit repository),
 * `Synth-<service>`, `Deploy-<stage>`, `Tests-<stage>`, `Pipeline-<service>`, `ReleasePipeline`,
 * `ReleaseFunctionRole`, `ReleaseFunctionLogs`, `ReleaseFunction`, `CandidateActionRole`,
 * `ReleaseEventsRule`.
 */
export class ReleaseDelivery extends Construct {
  /** The CodePipeline events the release function reads, by detail-type. */
  public static readonly CODEPIPELINE_DETAIL_TYPES: string[] = [
    'CodePipeline Pipeline Execution State Change',
    'CodePipeline Stage Execution State Change',
    'CodePipeline Action Execution State Change',
  ];

  /**
   * The event pattern of the release pipeline's state changes (CodePipeline's "Monitoring
   * CodePipeline events": source `aws.codepipeline`, `detail.pipeline` the pipeline's name).
   *
   * @param releasePipeline the release pipeline's name
   */
  public static eventPattern(releasePipeline: string): events.EventPattern {
    return {
      source: ['aws.codepipeline'],
      detailType: [...ReleaseDelivery.CODEPIPELINE_DETAIL_TYPES],
      detail: { pipeline: [releasePipeline] },
    };
  }

  /** The plan's release plan. */
  public readonly releasePlan: ReleasePlan;
  /** Each service's pipeline, by service name. */
  public readonly servicePipelines: { [service: string]: codepipeline.Pipeline } = {};
  /** The release pipeline. */
  public readonly releasePipeline: codepipeline.Pipeline;
  /** Every pipeline: the services' (in ddk.json order), then the release pipeline. */
  public readonly pipelines: codepipeline.Pipeline[] = [];
  /** The CodeCommit repositories of the services with a CodeCommit source, by service name. */
  public readonly repositories: { [service: string]: codecommit.IRepository } = {};
  /** The release function: Candidate jobs and the release pipeline's state changes. */
  public readonly releaseFunction: lambda.Function;
  /** The rule sending the release pipeline's state changes to the release function. */
  public readonly eventRule: events.Rule;
  /** The value of `DDK_ENVIRONMENTS` every service build gets. */
  public readonly environmentsVariable: string;

  private readonly plan: DeliveryPlan;
  private readonly projects: DeliveryProjects;
  private readonly props: ReleaseDeliveryProps;
  private readonly synthProjects: { [service: string]: codebuild.PipelineProject } = {};
  private readonly deployProjects = new Map<string, codebuild.PipelineProject>();
  private readonly testsProjects = new Map<string, codebuild.PipelineProject>();
  private readonly candidateActionRole: iam.Role;

  constructor(scope: Construct, id: string, props: ReleaseDeliveryProps) {
    super(scope, id);
    const plan = this.plan = props.plan;
    this.props = props;
    const file = plan.config.file;
    if (plan.strategy !== PipelineStrategy.CODEPIPELINE_TRUNK || !plan.releasePlan) {
      throw new Error(`ReleaseDelivery ${this.node.path}: the plan of pipeline ${plan.name} ${plan.releasePlan ? `has strategy "${plan.strategy}"` : 'has no services'}; expected a codepipeline-trunk plan with services (plan.releasePlan). Fix: declare "pipeline": {"strategy": "codepipeline-trunk", "services": {…}} in ${file}, or do not create ReleaseDelivery`);
    }
    const release = this.releasePlan = plan.releasePlan;
    const watching = plan.stages.filter(watchesTargetAlarms);
    if (watching.length > 0 && !props.safety) {
      throw new Error(`ReleaseDelivery ${this.node.path}: stage${watching.length > 1 ? 's' : ''} ${watching.map(s => `"${s.name}"`).join(', ')} of pipeline ${plan.name} watch${watching.length > 1 ? '' : 'es'} alarms of ${watching.length > 1 ? 'their' : 'its'} environments, but props.safety is not set; expected a DeploymentSafety made for this plan. Fix: pass safety (CodePipelineDelivery does)`);
    }
    this.projects = new DeliveryProjects(plan, props.artifacts, props.buildLogs);
    checkLimits(plan, release);

    this.environmentsVariable = serviceEnvironments(plan);
    if (this.environmentsVariable.length > CODEBUILD_VARIABLE_MAX) {
      throw new Error(`${file}: environments: the environments the services deploy to take ${this.environmentsVariable.length} characters as ${SERVICE_VARIABLES.ENVIRONMENTS}, more than the ${CODEBUILD_VARIABLE_MAX} CodeBuild accepts for one environment variable ("EnvironmentVariable should be at most 4096 characters"). Fix: shorten what these environments write in ${file} (resources settings, tags, env_vars)`);
    }

    // ---- the release function -----------------------------------------------------------------
    this.releaseFunction = this.newReleaseFunction(release);
    this.candidateActionRole = new iam.Role(this, 'CandidateActionRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: `Records the release candidates of pipeline ${plan.name} (CodePipeline action role)`,
    });
    this.acknowledgeInvokeGrants();

    // ---- per service: repository, synth project, pipeline --------------------------------------
    for (const service of plan.services) {
      this.synthProjects[service.name] = this.projects.synthProject(
        this, `Synth-${service.name}`, `install, unit tests and synthesis of service ${service.name}`, synthCommands(plan, service), {
          [SERVICE_VARIABLES.SERVICE]: service.name,
          [SERVICE_VARIABLES.ENVIRONMENTS]: this.environmentsVariable,
        });
      if (service.source.kind === SourceKind.CODECOMMIT) this.repositories[service.name] = this.repositoryOf(service);
    }
    for (const { service, name } of release.servicePipelines) {
      const pipeline = this.servicePipeline(plan.services.find(s => s.name === service)!, name);
      this.servicePipelines[service] = pipeline;
      this.pipelines.push(pipeline);
    }
    this.releasePipeline = this.newReleasePipeline(release);
    this.pipelines.push(this.releasePipeline);

    // ---- what the release function hears ---------------------------------------------------------
    this.eventRule = new events.Rule(this, 'ReleaseEventsRule', {
      description: `Releases of pipeline ${plan.name}: the state changes of ${release.releasePipeline}`,
      eventPattern: ReleaseDelivery.eventPattern(release.releasePipeline),
      targets: [new targets.LambdaFunction(this.releaseFunction)],
    });
  }

  /** The service's CodeCommit repository: created (and retained) with `create`, else imported by name. */
  private repositoryOf(service: PlanService): codecommit.IRepository {
    const id = `Repository-${service.name}`;
    if (!service.source.create) return codecommit.Repository.fromRepositoryName(this, id, service.source.repository);
    const repository = new codecommit.Repository(this, id, {
      repositoryName: service.source.repository,
      description: `Source of service ${service.name} of the ${this.plan.name} delivery pipelines`,
    });
    // it holds the team's commits: kept when the stack is deleted or the resource replaced
    repository.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    return repository;
  }

  /** A source action of the service's repository; `started` says whether a push to its branch starts the pipeline. */
  private sourceAction(
    service: PlanService, actionName: string, output: codepipeline.Artifact, started: boolean,
  ): cpa.CodeStarConnectionsSourceAction | cpa.CodeCommitSourceAction {
    const s = service.source;
    if (s.kind === SourceKind.CONNECTION) {
      const [owner, repo] = s.repository.split('/');
      return new cpa.CodeStarConnectionsSourceAction({
        actionName, connectionArn: s.connectionArn!, owner, repo, branch: s.branch, output, triggerOnPush: started,
      });
    }
    // CodeCommit: EVENTS is an EventBridge rule on the branch (change detection); NONE is neither a rule nor polling
    return new cpa.CodeCommitSourceAction({
      actionName,
      repository: this.repositories[service.name],
      branch: s.branch,
      output,
      trigger: started ? cpa.CodeCommitTrigger.EVENTS : cpa.CodeCommitTrigger.NONE,
    });
  }

  /** A service's own pipeline: Source → Build → the per-service stages → Candidate. */
  private servicePipeline(service: PlanService, name: string): codepipeline.Pipeline {
    const plan = this.plan;
    const source = new codepipeline.Artifact('Source');
    const assembly = new codepipeline.Artifact('Assembly');
    const sourceAction = this.sourceAction(service, 'Source', source, true);
    const pipeline = new codepipeline.Pipeline(this, `Pipeline-${service.name}`, {
      pipelineName: name,
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: executionMode(plan.executionMode),
      artifactBucket: this.props.artifacts.bucket,
      restartExecutionOnUpdate: false,
      triggers: sourceAction instanceof cpa.CodeStarConnectionsSourceAction ? [{
        providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
        gitConfiguration: { sourceAction, pushFilter: [{ branchesIncludes: [service.source.branch] }] },
      }] : undefined,
    });
    pipeline.addStage({ stageName: 'Source', actions: [sourceAction] });
    pipeline.addStage({
      stageName: 'Build',
      actions: [new cpa.CodeBuildAction({ actionName: 'Synth', project: this.synthProjects[service.name], input: source, outputs: [assembly] })],
    });
    const taken = [...plan.stages.map(s => s.name), CANDIDATE_STAGE];
    for (const stage of this.releasePlan.serviceStages) {
      this.addServiceStage(pipeline, service, stage, { source, assembly, commitId: sourceAction.variables.commitId, taken });
    }
    const candidate: CandidateParameters = {
      operation: CANDIDATE_OPERATION,
      service: service.name,
      revision: sourceAction.variables.commitId,
      execution: '#{codepipeline.PipelineExecutionId}',
    };
    pipeline.addStage({
      stageName: CANDIDATE_STAGE,
      actions: [new cpa.LambdaInvokeAction({
        actionName: CANDIDATE_STAGE,
        lambda: this.releaseFunction,
        role: this.candidateActionRole,
        userParameters: { ...candidate },
      })],
    });
    if (service.source.connectionArn) grantConnectionUse(pipeline, service.source.connectionArn);
    if (pipeline.stageCount > CODEPIPELINE_LIMITS.stagesPerPipeline) {
      throw new Error(`${plan.config.file}: pipeline.stages: the pipeline "${name}" of service ${service.name} has ${pipeline.stageCount} stages (Source, Build, the stages before the first bracket stage and ${CANDIDATE_STAGE}), more than the ${CODEPIPELINE_LIMITS.stagesPerPipeline} a pipeline allows. Fix: put environments that may deploy together into one stage`);
    }
    this.props.notifications?.notify(`Rule-Pipeline-${service.name}`, pipeline);
    return pipeline;
  }

  /** A per-service stage in a service's pipeline: gate on the service's commit, approval, deployments, tests (split past 50 actions). */
  private addServiceStage(
    pipeline: codepipeline.Pipeline, service: PlanService, stage: PlanStage, inputs: ServiceStageInputs,
  ): void {
    const { source, assembly, commitId, taken } = inputs;
    const deploy = this.deployProject(stage);
    const gated = stage.requiredChecks.length > 0;
    const groups = packDeployments(stage, stage.targets.map(() => 1), stageOverhead(stage));
    const names = splitStageNames(stage.name, groups.length, taken);
    const watched = watchesTargetAlarms(stage);
    groups.forEach((group, i) => {
      const first = i === 0;
      const last = i === groups.length - 1;
      const actions: codepipeline.IAction[] = [];
      let runOrder = 1;
      // the gate comes first: nobody is asked to approve a change whose checks have not passed
      if (i === 0 && gated) actions.push(this.props.statusChecks.gateAction(stage, commitId, { runOrder: runOrder++ }));
      if (i === 0 && stage.approval) actions.push(manualApprovalAction(stage.approval, 'Approve', runOrder++, approvalTopic(pipeline, stage, this.props.artifacts)));
      const deployOrder = runOrder++;
      for (const index of group) actions.push(this.deployAction(`Deploy-${stage.targets[index].id}`, deploy, service, stage.targets[index], assembly, deployOrder));
      if (i === groups.length - 1 && stage.tests.length > 0) {
        actions.push(new cpa.CodeBuildAction({
          actionName: RELEASE_TESTS_ACTION,
          project: this.testsProject(stage),
          input: source,
          runOrder: runOrder++,
          environmentVariables: { [SERVICE_VARIABLES.SERVICE]: { value: service.name } },
        }));
      }
      // the alarm watch comes last: the soak time starts once the service is deployed and tested
      if (last && watched) actions.push(this.props.safety!.alarmWatchAction(stage, runOrder++));
      pipeline.addStage({
        stageName: names[i],
        actions,
        beforeEntry: first ? beforeEntryConditions(stage) : undefined,
        onSuccess: last ? onSuccessConditions(stage) : undefined,
        onFailure: onFailure(stage),
      });
      if (last) grantAlarmRules(pipeline, stage, this.plan);
    });
  }

  /** The release pipeline: Source (every service) → Build (every service) → the bracket stages. */
  private newReleasePipeline(release: ReleasePlan): codepipeline.Pipeline {
    const plan = this.plan;
    const sources = new Map<string, codepipeline.Artifact>();
    const assemblies = new Map<string, codepipeline.Artifact>();
    const sourceActions = plan.services.map(service => {
      const artifact = new codepipeline.Artifact(serviceSourceArtifactName(service.name));
      sources.set(service.name, artifact);
      // no trigger, no change detection: a push to a service never starts a release
      return this.sourceAction(service, serviceSourceActionName(service.name), artifact, false);
    });
    const pipeline = new codepipeline.Pipeline(this, 'ReleasePipeline', {
      pipelineName: release.releasePipeline,
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: executionMode(plan.executionMode),
      artifactBucket: this.props.artifacts.bucket,
      restartExecutionOnUpdate: false,
      variables: [
        new codepipeline.Variable({
          variableName: RELEASE_ID_VARIABLE,
          defaultValue: RELEASE_ID_DEFAULT,
          description: 'The release id; set by ddk-pipelines release start',
        }),
        new codepipeline.Variable({
          variableName: RELEASE_BY_VARIABLE,
          defaultValue: RELEASE_BY_DEFAULT,
          description: 'Who started the release (IAM principal ARN); set by ddk-pipelines release start',
        }),
      ],
    });
    pipeline.addStage({ stageName: 'Source', actions: sourceActions });
    pipeline.addStage({
      stageName: 'Build',
      actions: plan.services.map(service => {
        const assembly = new codepipeline.Artifact(`Assembly-${service.name}`);
        assemblies.set(service.name, assembly);
        return new cpa.CodeBuildAction({
          actionName: `Build-${service.name}`,
          project: this.synthProjects[service.name],
          input: sources.get(service.name)!,
          outputs: [assembly],
          environmentVariables: { [RELEASE_ID_BUILD_VARIABLE]: { value: RELEASE_ID_EXPRESSION } },
        });
      }),
    });
    for (const stage of release.bracketStages) {
      const actions: codepipeline.IAction[] = [];
      let runOrder = 1;
      // checks of a bracket stage are reported against the release id, not a member's commit
      if (stage.requiredChecks.length > 0) actions.push(this.props.statusChecks.gateAction(stage, RELEASE_ID_EXPRESSION, { runOrder: runOrder++ }));
      if (stage.approval) actions.push(manualApprovalAction(stage.approval, 'Approve', runOrder++, approvalTopic(pipeline, stage, this.props.artifacts)));
      const deploy = this.deployProject(stage);
      const deployOrder = runOrder++;
      for (const service of plan.services) {
        for (const target of stage.targets) {
          actions.push(this.deployAction(`${RELEASE_DEPLOY_ACTION_PREFIX}${service.name}-${target.id}`, deploy, service, target, assemblies.get(service.name)!, deployOrder));
        }
      }
      if (stage.tests.length > 0) {
        actions.push(new cpa.CodeBuildAction({
          actionName: RELEASE_TESTS_ACTION,
          project: this.testsProject(stage),
          input: sources.get(plan.services[0].name)!,
          runOrder: runOrder++,
          environmentVariables: { [RELEASE_ID_BUILD_VARIABLE]: { value: RELEASE_ID_EXPRESSION } },
        }));
      }
      // one watch after every service's deployments and the tests: they all deployed to the same targets
      if (watchesTargetAlarms(stage)) actions.push(this.props.safety!.alarmWatchAction(stage, runOrder++));
      pipeline.addStage({
        stageName: stage.name,
        actions,
        beforeEntry: beforeEntryConditions(stage),
        onSuccess: onSuccessConditions(stage),
        onFailure: onFailure(stage),
      });
      grantAlarmRules(pipeline, stage, plan);
    }
    // each connection source action may use its own service's connection, and no other
    for (const service of plan.services) {
      if (service.source.connectionArn) grantActionConnectionUse(pipeline, serviceSourceActionName(service.name), service.source.connectionArn);
    }
    this.props.notifications?.notify('Rule-ReleasePipeline', pipeline);
    return pipeline;
  }

  private deployAction(
    actionName: string, project: codebuild.IProject, service: PlanService, target: PlanTarget, assembly: codepipeline.Artifact, runOrder: number,
  ): codepipeline.IAction {
    return new cpa.CodeBuildAction({
      actionName,
      project,
      input: assembly,
      runOrder,
      environmentVariables: {
        DDK_ENVIRONMENT: { value: target.id },
        // the service's cdk.out is the artifact's root: ServiceStages' nested assembly of the environment
        DDK_ASSEMBLY: { value: `assembly-${target.id}` },
        [SERVICE_VARIABLES.SERVICE]: { value: service.name },
      },
    });
  }

  /** One deploy project per plan stage (shared by the services), allowed to assume only its targets' bootstrap roles. */
  private deployProject(stage: PlanStage): codebuild.PipelineProject {
    let project = this.deployProjects.get(stage.name);
    if (!project) {
      project = this.projects.deployProject(this, `Deploy-${stage.name}`, stage, `cdk deploy of one service into one environment of stage ${stage.name}`);
      this.deployProjects.set(stage.name, project);
    }
    return project;
  }

  private testsProject(stage: PlanStage): codebuild.PipelineProject {
    let project = this.testsProjects.get(stage.name);
    if (!project) {
      const what = stage.bracket ? `tests of a release after bracket stage ${stage.name}` : `tests of a service after stage ${stage.name}`;
      project = this.projects.testsProject(this, `Tests-${stage.name}`, stage, what);
      this.testsProjects.set(stage.name, project);
    }
    return project;
  }

  /** The release function, its role (exact grants), log group and settings. */
  private newReleaseFunction(release: ReleasePlan): lambda.Function {
    const plan = this.plan;
    const checks = this.props.statusChecks;
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'ReleaseFunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Release function of pipeline ${plan.name} (function role)`,
    });
    const logGroup = new logs.LogGroup(this, 'ReleaseFunctionLogs', {
      encryptionKey: checks.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    const settings: ReleaseSettings = {
      pipeline: plan.name,
      releasePipeline: release.releasePipeline,
      services: plan.services.map(s => s.name),
      bracketStages: release.bracketStages.map(s => s.name),
    };
    const environment = {
      [ENV.TABLE_NAME]: checks.table.tableName,
      [ENV.EVENT_BUS_NAME]: checks.eventBus.eventBusArn,
      [ENV.RETENTION_DAYS]: String(checks.retention.toDays()),
      [RELEASE_SETTINGS_ENV]: JSON.stringify(settings),
      NODE_OPTIONS: '--enable-source-maps',
    };
    checkEnvironmentSize(plan, environment);
    const fn = bundledFunction(this, 'ReleaseFunction', {
      description: `Releases of pipeline ${plan.name}: candidates and the state of ${release.releasePipeline}`,
      handler: 'release-events',
      role,
      logGroup,
      // a state change reads the execution (and, once per release, the pipeline) and writes a few items
      timeout: Duration.minutes(1),
      memorySize: 256,
      environment,
    });
    // exactly the calls the function makes (lib/releases/store.ts, codepipeline-reader.ts, the event publisher)
    checks.grantStoreAndEvents(role, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'], 'PublishReleaseEvents');
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadReleasePipeline',
      // GetPipelineExecution (variables, revisions, trigger), GetPipeline (stages and actions at the
      // execution's version), ListPipelineExecutions (sourceRevisions while a member is unknown)
      actions: ['codepipeline:GetPipeline', 'codepipeline:GetPipelineExecution', 'codepipeline:ListPipelineExecutions'],
      resources: [stack.formatArn({ service: 'codepipeline', resource: release.releasePipeline })],
    }));
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'codepipeline:PutJobSuccessResult and PutJobFailureResult, which aws-cdk-lib\'s LambdaInvokeAction grants the release function for the services\' Candidate actions, support no resource-level permissions (a job is identified only by its id); they are the only actions on "*".',
    });
    return fn;
  }

  private acknowledgeInvokeGrants(): void {
    const functionId = Stack.of(this).getLogicalId(this.releaseFunction.node.defaultChild as lambda.CfnFunction);
    Validations.of(this.candidateActionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'lambda:ListFunctions, which aws-cdk-lib\'s LambdaInvokeAction grants the action role, supports no resource-level permissions; invoking is limited to the release function.',
    }, {
      id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
      reason: 'aws-cdk-lib\'s grantInvoke (called by LambdaInvokeAction) covers the release function\'s own versions and aliases (<arn>:*); no other function.',
    });
  }
}

/**
 * A service build's commands: in the release pipeline (where `DDK_RELEASE_ID` is set) it first
 * refuses an execution that `release start` did not start; then the service's synth commands;
 * then it checks that the app wrote the nested assembly of every environment the stages deploy.
 */
export function synthCommands(plan: DeliveryPlan, service: PlanService): string[] {
  const id = RELEASE_ID_BUILD_VARIABLE;
  const pattern = RELEASE_ID_PATTERN.source.replace(/\\d/g, '[0-9]');
  const releasePipeline = plan.releasePlan?.releasePipeline ?? '';
  const environments = [...new Set(plan.targets.map(t => t.id))];
  return [
    `if [ -n "\${${id}:-}" ] && ! printf '%s' "$${id}" | grep -Eq '${pattern}'; then echo "${releasePipeline} deploys only releases started by ddk-pipelines release start (which pins every service's commit and sets ${RELEASE_ID_VARIABLE}); this execution has ${RELEASE_ID_VARIABLE} \\"$${id}\\" (the default of an execution CodePipeline starts when it creates the pipeline, or of a Release change in the console), so it builds and deploys nothing. Fix: run ddk-pipelines release start"; exit 1; fi`,
    ...service.synthCommands,
    `for env in ${environments.join(' ')}; do test -d "cdk.out/assembly-$env" || { echo "cdk.out/assembly-$env is missing: the app of service ${service.name} did not synthesize environment $env. Fix: build the service's app with ServiceStages (it reads ${SERVICE_VARIABLES.SERVICE} and ${SERVICE_VARIABLES.ENVIRONMENTS}) and synthesize into cdk.out"; exit 1; }; done`,
  ];
}

/** What a per-service stage reads: the service's source and assembly, its commit variable, the stage names taken. */
interface ServiceStageInputs {
  readonly source: codepipeline.Artifact;
  readonly assembly: codepipeline.Artifact;
  readonly commitId: string;
  readonly taken: string[];
}

/** `rollbackOnFailure`: the failed stage returns to its last successful execution (CodePipeline V2 stage rollback). */
function onFailure(stage: PlanStage): codepipeline.FailureConditions | undefined {
  return stage.rollbackOnFailure ? { result: codepipeline.Result.ROLLBACK } : undefined;
}

/**
 * Lets the role of the release pipeline's source action `actionName` use `connectionArn` with the
 * ARN's own action prefix (as `grantConnectionUse` does for a whole pipeline, but for one action:
 * two services may use two connections). aws-cdk-lib grants `codestar-connections:UseConnection`
 * itself, on the action's own connection.
 */
function grantActionConnectionUse(pipeline: codepipeline.Pipeline, actionName: string, connectionArn: string): void {
  const prefix = connectionServicePrefix(connectionArn);
  if (prefix === 'codestar-connections') return;
  // codepipeline.Pipeline creates each action's role at <pipeline>/<stage>/<action>/CodePipelineActionRole
  const role = pipeline.node.tryFindChild('Source')?.node.tryFindChild(actionName)?.node.tryFindChild('CodePipelineActionRole') as iam.IRole | undefined;
  if (!role) {
    throw new Error(`${pipeline.node.path}: no role found for source action "${actionName}" to grant ${prefix}:UseConnection; expected aws-cdk-lib's action role at <pipeline>/Source/<action>/CodePipelineActionRole. Fix: report this as a bug of ddk-pipelines with your aws-cdk-lib version`);
  }
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [`${prefix}:UseConnection`], resources: [connectionArn] }));
}

/** `DDK_ENVIRONMENTS`: the environments the services deploy to and `cicd`, as ddk.json writes them (`ServiceStages.environmentsVariable`). */
function serviceEnvironments(plan: DeliveryPlan): string {
  const all: { [id: string]: unknown } = JSON.parse(ServiceStages.environmentsVariable(plan.config));
  const used = new Set([CICD_ENVIRONMENT_ID, ...plan.targets.map(t => t.id)]);
  return JSON.stringify(Object.fromEntries(Object.entries(all).filter(([id]) => used.has(id))));
}

/** The pipelines' names, stages and actions against CodePipeline's limits, before anything is built. */
function checkLimits(plan: DeliveryPlan, release: ReleasePlan): void {
  const file = plan.config.file;
  const L = CODEPIPELINE_LIMITS;
  // a per-service stage named Candidate is refused by ddk.json's validation (lib/config/validate.ts)
  const releaseStages = 2 + release.bracketStages.length;
  if (releaseStages > L.stagesPerPipeline) {
    throw new Error(`${file}: pipeline.stages: the release pipeline "${release.releasePipeline}" would have ${releaseStages} stages (Source, Build and ${release.bracketStages.length} bracket stages), more than the ${L.stagesPerPipeline} a pipeline allows. Fix: put environments that are released together into one bracket stage`);
  }
  const services = plan.services;
  if (services.length > L.actionsPerStage) {
    throw new Error(`${file}: pipeline.services: ${services.length} services; the release pipeline's Source and Build stages hold one action per service, at most the ${L.actionsPerStage} actions a CodePipeline stage allows. Fix: declare at most ${L.actionsPerStage} services`);
  }
  for (const stage of release.bracketStages) {
    const i = plan.stages.indexOf(stage);
    const deploys = services.length * stage.targets.length;
    const overhead = stageOverhead(stage);
    // a bracket stage is one CodePipeline stage: the release function reads its deployments and tests under the stage's name
    if (deploys + overhead > L.actionsPerStage) {
      throw new Error(`${file}: pipeline.stages[${i}] "${stage.name}": a bracket stage deploys every service into every one of its environments in one CodePipeline stage: ${services.length} services × ${stage.targets.length} environments = ${deploys} deploy actions, plus ${overhead} for the gate, approval and tests, more than the ${L.actionsPerStage} actions a CodePipeline stage allows. Fix: split the stage's environments over consecutive bracket stages`);
    }
    for (const service of services) {
      for (const target of stage.targets) {
        const name = `${RELEASE_DEPLOY_ACTION_PREFIX}${service.name}-${target.id}`;
        if (name.length > L.nameLength) {
          throw new Error(`${file}: pipeline.stages[${i}] "${stage.name}": the action "${name}" (service ${service.name}, environment ${target.id}) is longer than CodePipeline's ${L.nameLength} characters. Fix: shorten the service name or the environment id`);
        }
      }
    }
  }
}

/** The release function's environment against Lambda's 4 KB, with every token at its longest (a table name 255 characters, a bus ARN 340). */
function checkEnvironmentSize(plan: DeliveryPlan, environment: Record<string, string>): void {
  const longest: Record<string, number> = { [ENV.TABLE_NAME]: 255, [ENV.EVENT_BUS_NAME]: 340 };
  let total = 0;
  for (const [name, value] of Object.entries(environment)) {
    total += Buffer.byteLength(name) + (Token.isUnresolved(value) ? (longest[name] ?? 2048) : Buffer.byteLength(value));
  }
  if (total > LIMITS.environmentBytes) {
    const settings = Buffer.byteLength(environment[RELEASE_SETTINGS_ENV]);
    throw new Error(`${plan.config.file}: pipeline.services: the release settings (pipelines, services and bracket stages) take ${settings} bytes in the release function's environment, more than the ${LIMITS.environmentBytes - total + settings} bytes left of the ${LIMITS.environmentBytes} bytes (4 KB) Lambda allows for a function's environment variables. Fix: shorten the service and stage names, or declare fewer services`);
  }
}
