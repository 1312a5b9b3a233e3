import { basename } from 'path';
import { Aws, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CODECOMMIT_PULL_REQUEST_DETAIL_TYPES, REVIEW_DETAIL_TYPES, REVIEW_SETTINGS_ENV, REVIEW_VARIABLES, ReviewSettings } from './shared';
import { bundledFunction } from '../lambda-assets';
import { DeliveryPlan, PlanReview, SourceKind } from '../model/plan';
import { acknowledgePipelineFindings } from '../pipelines/acknowledgements';
import type { ArtifactStore } from '../pipelines/artifact-store';
import { BUILD_IMAGE, BuildLogs, nodeRuntimeBuildSpec } from '../pipelines/build-environment';
import { grantConnectionUse } from '../pipelines/connections';
import { CDK_CLI_VERSION } from '../pipelines/versions';
import { ENV, EVENT_SOURCE, LIMITS } from '../status-checks/shared';
import type { StatusChecks } from '../status-checks/status-checks';

/** Props of `ReviewEnvironments`. */
export interface ReviewEnvironmentsProps {
  /** The delivery plan; its `review` section says where and for which pull requests. */
  readonly plan: DeliveryPlan;
  /** The status checks the review deployments report to (table, events, API). */
  readonly statusChecks: StatusChecks;
  /** The pipelines' artifact bucket and key (the review build's key; the connection pipelines' store). */
  readonly artifacts: ArtifactStore;
  /** The log group every build of the delivery system writes to. */
  readonly buildLogs: BuildLogs;
  /**
   * The CodeCommit repository whose pull requests deploy (required for a CodeCommit source).
   *
   * @default - none: a connection source
   */
  readonly repository?: codecommit.IRepository;
  /**
   * The nested cloud assembly (folder under `cdk.out`) that holds the review deployment's stacks
   * in a review build: `reviewAssemblyId(<renderer>)` (lib/reviews/review-stage.ts).
   */
  readonly assemblyId: string;
}

/**
 * Review environments: one deployment per open pull request into `review.branches`, in the
 * review environment, reported as status checks and torn down when the pull request closes.
 *
 * - a CodeBuild project (no source of its own: each build gets the pull request's commit as a
 *   source override) that runs the plan's synth commands with `DDK_REVIEW_*` set, deploys the
 *   review stage's nested assembly with the pinned CDK CLI (assuming only the review
 *   environment's CDK bootstrap roles) and then runs `review.tests` when the deployment succeeded;
 * - the review controller function (lambda/review-controller): it records reviews in the
 *   status-check table, starts one build per review at a time, reports `review/deploy` and
 *   `review/tests`, and deletes a review's stacks through the review environment's CDK deploy role;
 * - what invokes it: for CodeCommit, an EventBridge rule on the repository's pull request events;
 *   for a connection source, two CodePipeline V2 pipelines with pull-request triggers,
 *   `<pipeline>-review` (opened, updated) and `<pipeline>-review-close` (closed); for both, the
 *   build's state changes, a "Review Destroy Requested" event (`POST /reviews/destroy`) and a
 *   sweep every 15 minutes (it always runs: it advances teardowns, which delete one dependency
 *   level of stacks per pass, and removes reviews past `ttlHours` when that is not 0).
 *
 * Construct ids (stable): `BuildRole`, `BuildProject`, `ControllerRole`, `ControllerLogs`,
 * `Controller`, `PullRequestRule` (CodeCommit), `BuildStateRule`, `SweepRule`,
 * `DestroyRequestedRule`, `RequestPipeline` and `ClosePipeline` (connection), `ActionRole`
 * (connection).
 */
export class ReviewEnvironments extends Construct {
  /** The file the review build's `cdk deploy --outputs-file` writes (`DDK_REVIEW_OUTPUTS`). */
  public static readonly OUTPUTS_FILE: string = '/tmp/ddk-review-outputs.json';
  /** How often the controller sweeps (teardown progress, expired reviews). */
  public static readonly SWEEP_INTERVAL: Duration = Duration.minutes(15);
  /** CodeCommit pull request events that (re)deploy or tear down a review. */
  public static readonly CODECOMMIT_EVENTS: string[] = [
    'pullRequestCreated', 'pullRequestSourceBranchUpdated', 'pullRequestStatusChanged', 'pullRequestMergeStatusUpdated',
  ];
  /** The terminal build statuses (CodeBuild API `StatusType`, all but IN_PROGRESS). */
  public static readonly TERMINAL_BUILD_STATUSES: string[] = ['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED'];

  /** The review section of the plan. */
  public readonly review: PlanReview;
  /** The project that builds, deploys and tests one review. */
  public readonly buildProject: codebuild.Project;
  /** The review build's role. */
  public readonly buildRole: iam.Role;
  /** The review controller. */
  public readonly controller: lambda.Function;
  /** The ARN of the review environment's CDK deploy role, the only role the controller may assume. */
  public readonly deployRoleArn: string;
  /**
   * The pipelines that receive a connection source's pull request events (`<pipeline>-review`,
   * `<pipeline>-review-close`).
   *
   * @default - none (CodeCommit source)
   */
  public readonly pipelines: codepipeline.Pipeline[] = [];
  /** The EventBridge rules that invoke the controller. */
  public readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: ReviewEnvironmentsProps) {
    super(scope, id);
    const plan = props.plan;
    if (!plan.review) {
      throw new Error(`ReviewEnvironments ${this.node.path}: the plan of pipeline ${plan.name} has no review section; expected plan.review. Fix: add "pipeline": {"review": {"environment": "<environment id>"}} to ${plan.config.file}, or do not create ReviewEnvironments`);
    }
    const review = this.review = plan.review;
    const codeCommit = plan.source.kind === SourceKind.CODECOMMIT;
    if (codeCommit && !props.repository) {
      throw new Error(`ReviewEnvironments ${this.node.path}: repository is not set, but the source of pipeline ${plan.name} is CodeCommit; expected the repository whose pull requests deploy. Fix: pass the renderer's repository`);
    }
    if (!codeCommit) checkConnectionLimits(plan, review);
    const stack = Stack.of(this);
    const target = review.target;
    const qualifier = target.environment.bootstrapQualifier ?? 'hnb659fds';
    this.deployRoleArn = `arn:${Aws.PARTITION}:iam::${target.account}:role/cdk-${qualifier}-deploy-role-${target.account}-${target.region}`;

    // ---- the review build -------------------------------------------------------------------
    // Its role gets exactly the statements below: aws-cdk-lib's project defaults (a log group
    // and report groups under the project's name, which this project uses neither of) are not
    // added to an immutable role.
    this.buildRole = new iam.Role(this, 'BuildRole', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `Review builds of pipeline ${plan.name}: deploys pull requests into ${target.id} (CodeBuild service role)`,
    });
    this.buildProject = new codebuild.Project(this, 'BuildProject', {
      description: `${plan.name}: review deployments (synthesis, cdk deploy of one pull request into ${target.id}, tests)`,
      role: this.buildRole.withoutPolicyUpdates(),
      environment: { buildImage: BUILD_IMAGE, computeType: codebuild.ComputeType.MEDIUM },
      environmentVariables: {
        ...Object.fromEntries(Object.entries(plan.buildEnvironmentVariables).map(([k, v]) => [k, { value: v }])),
        [REVIEW_VARIABLES.ASSEMBLY]: { value: props.assemblyId },
        [REVIEW_VARIABLES.OUTPUTS]: { value: ReviewEnvironments.OUTPUTS_FILE },
      },
      encryptionKey: props.artifacts.key,
      timeout: Duration.minutes(120),
      logging: props.buildLogs.loggingOptions,
      buildSpec: codebuild.BuildSpec.fromObject(reviewBuildSpec(plan, review)),
    });
    this.grantBuild(props, stack);

    // ---- the controller ---------------------------------------------------------------------
    const checks = props.statusChecks;
    const controllerRole = new iam.Role(this, 'ControllerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Review controller of pipeline ${plan.name} (function role)`,
    });
    const logGroup = new logs.LogGroup(this, 'ControllerLogs', {
      encryptionKey: checks.key,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    const settings: ReviewSettings = {
      pipeline: plan.name,
      file: basename(plan.config.file),
      environment: { id: target.id, account: target.account, region: target.region, qualifier },
      branches: [...review.branches],
      ttlHours: review.ttlHours,
      allowForks: review.allowForks,
      ...(review.urlOutput ? { urlOutput: review.urlOutput } : {}),
      tests: review.tests.length > 0,
      source: { kind: codeCommit ? 'codecommit' : 'connection', repository: plan.source.repository },
      buildProject: this.buildProject.projectName,
    };
    const environment = {
      [ENV.TABLE_NAME]: checks.table.tableName,
      [ENV.EVENT_BUS_NAME]: checks.eventBus.eventBusArn,
      [ENV.RETENTION_DAYS]: String(checks.retention.toDays()),
      [REVIEW_SETTINGS_ENV]: stack.toJsonString(settings),
      NODE_OPTIONS: '--enable-source-maps',
    };
    checkEnvironmentSize(plan, environment, settings);
    this.controller = bundledFunction(this, 'Controller', {
      description: `Review controller of pipeline ${plan.name}: review deployments in ${target.id}`,
      handler: 'review-controller',
      role: controllerRole,
      logGroup,
      // a sweep lists the review environment's stacks and advances every teardown in one run
      timeout: Duration.minutes(5),
      memorySize: 256,
      environment,
    });
    this.grantController(props, controllerRole);

    // ---- what invokes the controller ----------------------------------------------------------
    const invoke = new targets.LambdaFunction(this.controller);
    if (codeCommit) {
      const pattern = pullRequestPattern(review, props.repository!.repositoryArn);
      checkPatternSize(plan, pullRequestPattern(review, LONGEST_REPOSITORY_ARN));
      this.rules.push(new events.Rule(this, 'PullRequestRule', {
        description: `Review deployments of pipeline ${plan.name}: pull requests into ${review.branches.join(', ')}`.slice(0, 512),
        eventPattern: pattern,
        targets: [invoke],
      }));
    } else {
      this.connectionPipelines(plan, review, props);
    }
    this.rules.push(new events.Rule(this, 'BuildStateRule', {
      description: `Review deployments of pipeline ${plan.name}: a review build finished`,
      eventPattern: {
        source: ['aws.codebuild'],
        detailType: ['CodeBuild Build State Change'],
        detail: {
          'project-name': [this.buildProject.projectName],
          'build-status': [...ReviewEnvironments.TERMINAL_BUILD_STATUSES],
        },
      },
      targets: [invoke],
    }));
    this.rules.push(new events.Rule(this, 'SweepRule', {
      description: `Review deployments of pipeline ${plan.name}: teardown progress and the ${review.ttlHours > 0 ? `${review.ttlHours}-hour TTL` : 'removal of unrecorded review stacks'}`,
      schedule: events.Schedule.rate(ReviewEnvironments.SWEEP_INTERVAL),
      targets: [invoke],
    }));
    this.rules.push(new events.Rule(this, 'DestroyRequestedRule', {
      description: `Review deployments of pipeline ${plan.name}: destroyed by hand (POST /reviews/destroy)`,
      eventBus: checks.eventBus,
      eventPattern: {
        source: [EVENT_SOURCE],
        detailType: [REVIEW_DETAIL_TYPES.DESTROY_REQUESTED],
        detail: { pipeline: [plan.name] },
      },
      targets: [invoke],
    }));
  }

  /** The review build's statements, each on exactly its resources. */
  private grantBuild(props: ReviewEnvironmentsProps, stack: Stack): void {
    const role = this.buildRole;
    const target = this.review.target;
    const qualifier = target.environment.bootstrapQualifier ?? 'hnb659fds';
    props.buildLogs.logGroup.grantWrite(role);
    // the project's key (CodeBuild encrypts what the build stores with it)
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ProjectKey',
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [props.artifacts.key.keyArn],
    }));
    // `cdk deploy` assumes the review environment's deploy, file- and image-publishing and lookup roles
    const bootstrapRoles = `arn:${Aws.PARTITION}:iam::${target.account}:role/cdk-${qualifier}-*-role-${target.account}-${target.region}`;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReviewEnvironmentBootstrapRoles', actions: ['sts:AssumeRole'], resources: [bootstrapRoles] }));
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bootstrapRoles.replace(Aws.PARTITION, '<AWS::Partition>')}]`,
      reason: `The CDK bootstrap roles (deploy, file and image publishing, lookup) of the review environment ${target.id} only (one account and region); they trust only the CICD account.`,
    });
    if (props.repository) {
      // the controller starts each build with the pull request's commit (source override CODECOMMIT)
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'PullRequestSource', actions: ['codecommit:GitPull'], resources: [props.repository.repositoryArn] }));
    } else {
      // the controller starts each build with the source artifact of the review pipeline's
      // execution (source override S3: "<bucket>/<key>"); CodeBuild reads it with this role
      const bucket = props.artifacts.bucket;
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'SourceArtifactBucket', actions: ['s3:GetBucketAcl', 's3:GetBucketLocation'], resources: [bucket.bucketArn] }));
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'SourceArtifacts', actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [bucket.arnForObjects('*')] }));
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(bucket.node.defaultChild as any)}.Arn>/*]`,
        reason: 'Reads (GetObject, GetObjectVersion) the source artifacts of the review pipelines from the pipelines\' own artifact bucket: CodePipeline names artifact objects per execution, so no narrower ARN exists.',
      });
    }
  }

  /** The controller's statements, each on exactly its resources. */
  private grantController(props: ReviewEnvironmentsProps, role: iam.Role): void {
    const checks = props.statusChecks;
    checks.grantStoreAndEvents(role, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], 'PublishReviewEvents');
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReviewBuilds',
      // StartBuild with the source and the project's own buildspec (BatchGetProjects reads it: a source
      // override would otherwise make CodeBuild look for buildspec.yml in the checkout)
      actions: ['codebuild:BatchGetProjects', 'codebuild:StartBuild'],
      resources: [this.buildProject.projectArn],
    }));
    // DescribeStacks and DeleteStack in the review environment, as its CDK deploy role
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReviewEnvironmentDeployRole', actions: ['sts:AssumeRole'], resources: [this.deployRoleArn] }));
    if (props.repository) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'CommentOnPullRequests',
        actions: ['codecommit:PostCommentForPullRequest'],
        resources: [props.repository.repositoryArn],
      }));
    }
  }

  /**
   * A connection source: `<pipeline>-review` (pull request opened or updated) and
   * `<pipeline>-review-close` (closed), each a source action then a Lambda invoke of the
   * controller with the source branch, commit and repository, and the source artifact as input.
   */
  private connectionPipelines(plan: DeliveryPlan, review: PlanReview, props: ReviewEnvironmentsProps): void {
    const [owner, repo] = plan.source.repository.split('/');
    const actionRole = new iam.Role(this, 'ActionRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: `Invokes the review controller of pipeline ${plan.name} (CodePipeline action role)`,
    });
    const kinds = [
      { id: 'RequestPipeline', name: `${plan.name}-review`, operation: 'request', stage: 'Request', events: [codepipeline.GitPullRequestEvent.OPEN, codepipeline.GitPullRequestEvent.UPDATED] },
      { id: 'ClosePipeline', name: `${plan.name}-review-close`, operation: 'close', stage: 'Close', events: [codepipeline.GitPullRequestEvent.CLOSED] },
    ];
    for (const k of kinds) {
      const source = new codepipeline.Artifact('Source');
      // The trigger disables default change detection; the action's branch is what a manual start
      // (and the start CodePipeline makes when it creates the pipeline) uses: a review branch,
      // which the controller ignores.
      const sourceAction = new cpa.CodeStarConnectionsSourceAction({
        actionName: 'Source', connectionArn: plan.source.connectionArn!, owner, repo, branch: review.branches[0], output: source, triggerOnPush: true,
      });
      const pipeline = new codepipeline.Pipeline(this, k.id, {
        pipelineName: k.name,
        pipelineType: codepipeline.PipelineType.V2,
        executionMode: codepipeline.ExecutionMode.PARALLEL,
        artifactBucket: props.artifacts.bucket,
        restartExecutionOnUpdate: false,
        triggers: [{
          providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
          gitConfiguration: {
            sourceAction,
            pullRequestFilter: chunks(review.branches, PULL_REQUEST_BRANCHES_PER_FILTER)
              .map(branches => ({ branchesIncludes: branches, events: k.events })),
          },
        }],
        stages: [
          { stageName: 'Source', actions: [sourceAction] },
          {
            stageName: k.stage,
            actions: [new cpa.LambdaInvokeAction({
              actionName: k.stage,
              lambda: this.controller,
              role: actionRole,
              inputs: [source],
              userParameters: {
                operation: k.operation,
                branch: sourceAction.variables.branchName,
                commit: sourceAction.variables.commitId,
                repository: sourceAction.variables.fullRepositoryName,
              },
            })],
          },
        ],
      });
      grantConnectionUse(pipeline, plan.source.connectionArn!);
      acknowledgePipelineFindings(pipeline, pipeline, [props.artifacts.bucket]);
      this.pipelines.push(pipeline);
    }
    const controllerId = Stack.of(this).getLogicalId(this.controller.node.defaultChild as lambda.CfnFunction);
    Validations.of(actionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'lambda:ListFunctions, which aws-cdk-lib\'s LambdaInvokeAction grants the action role, supports no resource-level permissions; invoking is limited to the review controller.',
    }, {
      id: `AwsSolutions-IAM5[Resource::<${controllerId}.Arn>:*]`,
      reason: 'aws-cdk-lib\'s grantInvoke (called by LambdaInvokeAction) covers the review controller\'s own versions and aliases (<arn>:*); no other function.',
    });
    Validations.of(this.controller.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'codepipeline:PutJobSuccessResult and PutJobFailureResult, which aws-cdk-lib\'s LambdaInvokeAction grants the controller for the review pipelines\' invoke actions, support no resource-level permissions (a job is identified only by its id); they are the only actions on "*".',
    });
  }
}

/**
 * The CodeCommit pull request events of the repository into `review.branches` (the CodeCommit
 * user guide's "Monitoring CodeCommit events in Amazon EventBridge").
 */
function pullRequestPattern(review: PlanReview, repositoryArn: string): events.EventPattern {
  return {
    source: ['aws.codecommit'],
    // "CodeCommit PullRequest State Change" is how CodeCommit's own documentation shows the
    // pullRequestMergeStatusUpdated event; both spellings cost nothing to match
    detailType: [...CODECOMMIT_PULL_REQUEST_DETAIL_TYPES],
    resources: [repositoryArn],
    detail: {
      event: [...ReviewEnvironments.CODECOMMIT_EVENTS],
      // the events carry the full reference (e.g. "refs/heads/main")
      destinationReference: review.branches.map(b => `refs/heads/${b}`),
    },
  };
}

/** A CodeCommit repository ARN at its longest (partition, region, a 100-character name). */
const LONGEST_REPOSITORY_ARN = `arn:aws-us-gov:codecommit:us-gov-west-1:123456789012:${'r'.repeat(100)}`;
/** EventBridge's default quota on an event pattern ("Amazon EventBridge quotas": 2,048 characters, adjustable). */
const EVENT_PATTERN_MAX = 2048;

/** The pull request rule's pattern (as EventBridge receives it) against EventBridge's default quota. */
function checkPatternSize(plan: DeliveryPlan, pattern: events.EventPattern): void {
  const rendered = JSON.stringify({ 'source': pattern.source, 'detail-type': pattern.detailType, 'resources': pattern.resources, 'detail': pattern.detail });
  if (rendered.length > EVENT_PATTERN_MAX) {
    throw new Error(`${plan.config.file}: pipeline.review.branches: the ${plan.review!.branches.length} branches make the pull request rule's event pattern up to ${rendered.length} characters long, more than the ${EVENT_PATTERN_MAX} EventBridge allows by default ("Event pattern size" quota). Fix: list fewer or shorter branches`);
  }
}

/** CodePipeline: at most 8 branch patterns per filter, 3 pull request filters per trigger (GitPullRequestFilter, GitBranchFilterCriteria). */
const PULL_REQUEST_BRANCHES_PER_FILTER = 8;
const PULL_REQUEST_FILTERS_PER_TRIGGER = 3;
/** CodePipeline's limit on a pipeline name. */
const PIPELINE_NAME_MAX = 100;
/** The longer of the two review pipelines' suffixes. */
const CLOSE_SUFFIX = '-review-close';

/** The review pipelines' names and branch filters against CodePipeline's limits. */
function checkConnectionLimits(plan: DeliveryPlan, review: PlanReview): void {
  const file = plan.config.file;
  const longest = `${plan.name}${CLOSE_SUFFIX}`;
  if (longest.length > PIPELINE_NAME_MAX) {
    throw new Error(`${file}: pipeline.name: "${plan.name}" makes the review pipeline name "${longest}" ${longest.length} characters long, more than CodePipeline's ${PIPELINE_NAME_MAX} (a connection source's review deployments run through pipelines <name>-review and <name>${CLOSE_SUFFIX}). Fix: shorten pipeline.name to at most ${PIPELINE_NAME_MAX - CLOSE_SUFFIX.length} characters`);
  }
  const max = PULL_REQUEST_BRANCHES_PER_FILTER * PULL_REQUEST_FILTERS_PER_TRIGGER;
  if (review.branches.length > max) {
    throw new Error(`${file}: pipeline.review.branches: ${review.branches.length} branches; a connection source's pull request trigger filters on at most ${max} (${PULL_REQUEST_FILTERS_PER_TRIGGER} filters of ${PULL_REQUEST_BRANCHES_PER_FILTER} branches, CodePipeline's GitPullRequestFilter). Fix: list at most ${max} branches`);
  }
}

/**
 * The controller's environment against Lambda's 4 KB, with every token at its longest (a table
 * name 255 characters, a bus ARN 340, a project name 255).
 */
function checkEnvironmentSize(plan: DeliveryPlan, environment: Record<string, string>, settings: ReviewSettings): void {
  const longest: Record<string, number> = { [ENV.TABLE_NAME]: 255, [ENV.EVENT_BUS_NAME]: 340 };
  const settingsBytes = Buffer.byteLength(JSON.stringify({ ...settings, buildProject: 'p'.repeat(255) }));
  let total = 0;
  for (const [name, value] of Object.entries(environment)) {
    const size = name === REVIEW_SETTINGS_ENV ? settingsBytes : Token.isUnresolved(value) ? (longest[name] ?? 2048) : Buffer.byteLength(value);
    total += Buffer.byteLength(name) + size;
  }
  if (total > LIMITS.environmentBytes) {
    throw new Error(`${plan.config.file}: pipeline.review.branches: the review settings take ${settingsBytes} bytes in the review controller's environment, more than the ${LIMITS.environmentBytes - total + settingsBytes} bytes left of the ${LIMITS.environmentBytes} bytes (4 KB) Lambda allows for a function's environment variables. Fix: list fewer or shorter branches`);
  }
}

/**
 * The review build: the plan's synth commands (the app adds the review stage when `DDK_REVIEW_ID`
 * is set), `cdk deploy` of its nested assembly with the pinned CLI, then the review tests in
 * post_build only when the build phase succeeded, so that the build's phases tell a failed
 * deployment (BUILD) from failed tests (POST_BUILD).
 */
export function reviewBuildSpec(plan: DeliveryPlan, review: PlanReview): any {
  const v = REVIEW_VARIABLES;
  const build = [
    `test -n "$${v.ID}" || { echo "${v.ID} is not set: review builds are started by the review controller of pipeline ${plan.name}, which sets it"; exit 1; }`,
    `echo "Review $${v.ID}: commit $${v.COMMIT} of branch $${v.BRANCH}"`,
    ...plan.synthCommands,
    `test -d "cdk.out/$${v.ASSEMBLY}" || { echo "cdk.out/$${v.ASSEMBLY} is missing: the app did not synthesize the review stage. Fix: build the app with the ddk-pipelines DeliveryPipelineStack (or call addReviewStage) and synthesize into cdk.out"; exit 1; }`,
    `npx --yes aws-cdk@${CDK_CLI_VERSION} deploy --app "cdk.out/$${v.ASSEMBLY}" --all --require-approval never --ci --progress events --outputs-file "$${v.OUTPUTS}"`,
  ];
  const phases: any = { ...nodeRuntimeBuildSpec().phases, build: { commands: build } };
  if (review.tests.length > 0) {
    phases.post_build = {
      commands: [
        '[ "$CODEBUILD_BUILD_SUCCEEDING" = "1" ] || echo "The review deployment failed: the review tests do not run"',
        ...review.tests.map(t => `if [ "$CODEBUILD_BUILD_SUCCEEDING" = "1" ]; then\n${t}\nfi`),
      ],
    };
  }
  return { version: '0.2', phases };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
