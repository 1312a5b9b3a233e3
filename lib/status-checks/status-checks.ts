import { basename } from 'path';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { GateStep, GateStepProps } from './gate-step';
import { API_ENDPOINT_OUTPUT, DETAIL_TYPES, ENV, EVENT_SOURCE, isGateTimeoutMinutes, LIMITS, PipelineSettings, StageSettings, TABLE_KEYS, windowPipelinesOf } from './shared';
import { bundledFunction } from '../lambda-assets';
import { DeliveryPlan, PlanStage, SourceKind } from '../model/plan';
import { CONDITION_OVERRIDE_ROUTE } from '../safety/shared';

/**
 * Body of API Gateway's 400 for a missing query or path parameter. Gateway response templates are
 * simple substitutions of `$context` variables (no VTL); `messageString` is the message in quotes,
 * e.g. "Missing required request parameters: [revision]".
 */
const BAD_REQUEST_PARAMETERS_TEMPLATE = '{"message": $context.error.messageString, "requestId": "$context.requestId", "hint": "GET /checks needs the query parameters pipeline and revision (stage is optional)"}';
/** The same, for an API that also serves the review routes (`GET /reviews` needs `pipeline`). */
const BAD_REQUEST_PARAMETERS_TEMPLATE_WITH_REVIEWS = '{"message": $context.error.messageString, "requestId": "$context.requestId", "hint": "GET /checks needs the query parameters pipeline and revision (stage is optional); GET /reviews needs pipeline"}';
/** The same, for an API that also serves the release routes (each needs `pipeline`). */
const BAD_REQUEST_PARAMETERS_TEMPLATE_WITH_RELEASES = '{"message": $context.error.messageString, "requestId": "$context.requestId", "hint": "GET /checks needs the query parameters pipeline and revision (stage is optional); GET /releases, GET /releases/{id} and GET /releases/candidates need pipeline"}';

/** Props of a `StatusChecks`. */
export interface StatusChecksProps {
  /** The delivery plan: pipeline name, stages and their required contexts, source repository. */
  readonly plan: DeliveryPlan;
  /**
   * The CodeCommit repository that `propagate: true` comments on.
   *
   * @default - the plan's CodeCommit repository, referenced by name; none for a connection source or a plan with services
   */
  readonly repository?: codecommit.IRepository;
  /**
   * How long a gate waits for pending checks or an override before failing its stage
   * (at most 23.5 hours: CodePipeline fails a Lambda invoke action after 24 hours).
   *
   * @default Duration.hours(1)
   */
  readonly gateTimeout?: Duration;
  /**
   * The EventBridge bus events are published to.
   *
   * @default - the account's default event bus, where CodePipeline's own execution events arrive too
   */
  readonly eventBus?: events.IEventBus;
  /**
   * Steady-state requests per second the API accepts (API Gateway stage throttling).
   *
   * @default 10
   */
  readonly throttlingRateLimit?: number;
  /**
   * Burst of requests the API accepts (API Gateway stage throttling).
   *
   * @default 20
   */
  readonly throttlingBurstLimit?: number;
  /**
   * How long reports, gate records and overrides are kept (DynamoDB TTL; run-time requirements
   * are kept until changed).
   *
   * @default Duration.days(365)
   */
  readonly retention?: Duration;
  /**
   * Retention of the API's access logs and the functions' logs.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the table, the key and the log groups when they leave the stack. The
   * default keeps them on deletion and replacement, and deletes them only when the deployment
   * that creates them fails (they are empty then).
   *
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Set the account's API Gateway CloudWatch Logs role (an account-wide, per-region setting that
   * access and execution logging need). Pass `false` when the account already has one.
   *
   * @default - the plan's `apiGatewayCloudWatchRole` (ddk.json `pipeline.apiGatewayCloudWatchRole`, true unless set)
   */
  readonly cloudWatchRole?: boolean;
}

/** Options of `StatusChecks.gateAction()`. */
export interface GateActionOptions {
  /**
   * Name of the action in its stage.
   *
   * @default 'StatusChecks'
   */
  readonly actionName?: string;
  /**
   * Run order of the action: lower than the stage's approval and deployments.
   *
   * @default 1
   */
  readonly runOrder?: number;
  /**
   * How long the gate waits before failing the stage.
   *
   * @default - the construct's gateTimeout
   */
  readonly timeout?: Duration;
}

/**
 * Status checks for a delivery plan: a record API, required contexts per stage, gates, human
 * overrides, propagation to CodeCommit and an event stream.
 *
 * - a DynamoDB table (on-demand, point-in-time recovery, encrypted with a customer-managed KMS key
 *   with rotation) holding every report, the run-time requirements, gate states and overrides;
 * - a REST API (API Gateway, IAM authorization on every method, required parameters checked by
 *   API Gateway and bodies field by field by the function, throttling, KMS-encrypted access logs):
 *   `POST /checks`, `GET /checks`, `PUT /requirements/{pipeline}/{stage}`, `POST /overrides`,
 *   with a review section in the plan `GET /reviews` and `POST /reviews/destroy`, and with
 *   services in the plan `GET /releases`, `GET /releases/{id}` and `GET /releases/candidates`,
 *   with deployment windows in the plan `POST /conditions/override` (the function may then call
 *   GetPipelineState and OverrideStageCondition on the windowed stages only, in every pipeline
 *   holding them: with services each service's pipeline or the release pipeline); its URL is the stack output `StatusChecksApiEndpoint`;
 * - the API and gate functions (Node.js 22, least-privilege roles);
 * - events on the account's default EventBridge bus (or `eventBus`), source
 *   `ddk-pipelines.status-checks`.
 *
 * `gateStep()` (CDK Pipelines) and `gateAction()` (aws-codepipeline) make the gate a renderer puts
 * before a stage's approval and deployments.
 *
 * Construct ids (stable): `Key`, `Table`, `Api`, `ApiFunction`, `GateFunction`, `GateActionRole`,
 * `AccessLogs`.
 */
export class StatusChecks extends Construct {
  /** `source` of every event. */
  public static readonly EVENT_SOURCE: string = EVENT_SOURCE;
  /** `detail-type` of the event for a recorded check report. */
  public static readonly DETAIL_TYPE_CHECK_REPORTED: string = DETAIL_TYPES.CHECK_REPORTED;
  /** `detail-type` of the event for a run-time change of required contexts. */
  public static readonly DETAIL_TYPE_REQUIREMENTS_CHANGED: string = DETAIL_TYPES.REQUIREMENTS_CHANGED;
  /** `detail-type` of the event for a recorded override. */
  public static readonly DETAIL_TYPE_OVERRIDE_RECORDED: string = DETAIL_TYPES.OVERRIDE_RECORDED;
  /** `detail-type` of the event for a changed gate verdict. */
  public static readonly DETAIL_TYPE_GATE_DECIDED: string = DETAIL_TYPES.GATE_DECIDED;
  /** `detail-type` of the event for an override of a stage's deployment windows (detail: who, why, when). */
  public static readonly DETAIL_TYPE_CONDITION_OVERRIDDEN: string = DETAIL_TYPES.CONDITION_OVERRIDDEN;
  /** Logical id (OutputKey) of the stack output holding the API's URL. */
  public static readonly API_ENDPOINT_OUTPUT: string = API_ENDPOINT_OUTPUT;

  /** Name of the pipeline the checks are for. */
  public readonly pipelineName: string;
  private readonly stages: ReadonlyArray<{ readonly name: string; readonly requiredChecks: readonly string[] }>;
  /** Default wait of the gates. */
  public readonly gateTimeout: Duration;
  /** The KMS key of the table and the log groups (rotation on). */
  public readonly key: kms.Key;
  /** The table of reports, requirements, gate states and overrides. */
  public readonly table: dynamodb.Table;
  /** The REST API. */
  public readonly api: apigw.RestApi;
  /** The API's URL, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com/prod/`. */
  public readonly apiEndpoint: string;
  /** The API's function. */
  public readonly apiFunction: lambda.Function;
  /** The gates' function (a CodePipeline Lambda invoke action). */
  public readonly gateFunction: lambda.Function;
  /** The role pipelines assume to run the gate actions (it may invoke the gate function). */
  public readonly gateActionRole: iam.Role;
  /** The bus events go to. */
  public readonly eventBus: events.IEventBus;
  /** The API's access log group. */
  public readonly accessLogs: logs.LogGroup;
  /** How long reports, gate records and overrides are kept (whole days). */
  public readonly retention: Duration;
  /**
   * Whether the API serves the review routes (`GET /reviews`, `POST /reviews/destroy`): the
   * plan has a review section.
   */
  public readonly reviewRoutes: boolean;
  /**
   * Whether the API serves the release routes (`GET /releases`, `GET /releases/{id}`,
   * `GET /releases/candidates`): the plan has services.
   */
  public readonly releaseRoutes: boolean;
  /**
   * Whether the API serves `POST /conditions/override` (overriding a stage's deployment windows
   * for the execution waiting at them): some plan stage has windows.
   */
  public readonly conditionOverrideRoutes: boolean;
  /**
   * The CodeCommit repository `propagate` comments on.
   *
   * @default - none (connection source)
   */
  public readonly repository?: codecommit.IRepository;

  constructor(scope: Construct, id: string, props: StatusChecksProps) {
    super(scope, id);
    const plan = props.plan;
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    this.pipelineName = plan.name;
    this.stages = plan.stages.map(st => ({ name: st.name, requiredChecks: [...st.requiredChecks] }));
    this.gateTimeout = props.gateTimeout ?? Duration.hours(1);
    const timeoutMinutes = this.gateTimeout.toMinutes({ integral: false });
    if (!isGateTimeoutMinutes(timeoutMinutes)) {
      throw new Error(`StatusChecks ${this.node.path}: gateTimeout: ${this.gateTimeout.toHumanString()} is out of range; expected whole minutes from 1 to ${LIMITS.maxGateTimeoutMinutes} (CodePipeline fails a Lambda invoke action after 24 hours). Fix: pass e.g. Duration.hours(1)`);
    }
    const retention = this.retention = props.retention ?? Duration.days(365);
    const retentionDays = retention.toDays({ integral: false });
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
      throw new Error(`StatusChecks ${this.node.path}: retention: ${retention.toHumanString()} is not whole days; expected whole days, at least 1. Fix: pass e.g. Duration.days(365)`);
    }

    // ---- key, table, logs -------------------------------------------------------------------
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the status checks of pipeline ${plan.name} (table and logs)`,
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(30),
    });
    // CloudWatch Logs encrypts the API's and the functions' log groups with the key
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchLogsOfThisAccountAndRegion',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
    }));

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_KEYS.timeToLive,
      removalPolicy,
    });

    const logGroup = (lid: string) => new logs.LogGroup(this, lid, { encryptionKey: this.key, retention: logRetention, removalPolicy });
    this.accessLogs = logGroup('AccessLogs');

    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    // with services, each service has its own repository: a report's revision names none of them
    this.repository = props.repository ?? (plan.services.length === 0 && plan.source.kind === SourceKind.CODECOMMIT
      ? codecommit.Repository.fromRepositoryName(this, 'Repository', plan.source.repository)
      : undefined);

    // ---- functions --------------------------------------------------------------------------
    const common = {
      [ENV.TABLE_NAME]: this.table.tableName,
      [ENV.EVENT_BUS_NAME]: this.eventBus.eventBusArn,
      [ENV.RETENTION_DAYS]: String(retentionDays),
      NODE_OPTIONS: '--enable-source-maps',
    };
    const settings: PipelineSettings = {
      pipeline: plan.name,
      file: basename(plan.config.file),
      ...(this.repository ? { repository: this.repository.repositoryName } : {}),
      stages: plan.stages.map((s, index) => ({
        name: s.name, index, requiredChecks: [...s.requiredChecks], ...(s.windows.length > 0 ? windowPipelineSettings(plan, s) : {}),
      })),
    };
    const settingsJson = stack.toJsonString(settings);
    const environment = { ...common, [ENV.PIPELINE_SETTINGS]: settingsJson };
    const bytes = environmentBytes(environment, { ...settings, repository: plan.source.repository });
    if (bytes.total > LIMITS.environmentBytes) {
      throw new Error(`${plan.config.file}: pipeline.stages: the stages and their requiredChecks take ${bytes.settings} bytes in the status-check functions' environment, more than the ${LIMITS.environmentBytes - bytes.total + bytes.settings} bytes left of the ${LIMITS.environmentBytes} bytes (4 KB) Lambda allows for a function's environment variables. Fix: shorten stage names and contexts, or require fewer contexts in ddk.json`);
    }

    // both functions read the stages' required contexts from the settings (the gate's action
    // configuration names only its stage, so it stays within CodePipeline's limits)
    this.apiFunction = this.handler('ApiFunction', 'status-checks-api', `Status-check API of pipeline ${plan.name}`, logGroup('ApiFunctionLogs'), environment, Duration.seconds(10));
    this.gateFunction = this.handler('GateFunction', 'status-checks-gate', `Status-check gates of pipeline ${plan.name}`, logGroup('GateFunctionLogs'), environment, Duration.seconds(30));

    // least privilege: exactly the calls each handler makes, on exactly its resources
    this.grantStoreAndEvents(this.apiFunction, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query']);
    this.grantStoreAndEvents(this.gateFunction, ['dynamodb:PutItem', 'dynamodb:Query']);
    // POST /conditions/override: the stages with deployment windows, in their CodePipeline pipelines
    const windowed = settings.stages.filter(s => windowPipelinesOf(s).length > 0);
    this.conditionOverrideRoutes = windowed.length > 0;
    if (this.conditionOverrideRoutes) {
      const arn = (pipeline: string, stage?: string) => `arn:${Aws.PARTITION}:codepipeline:${Aws.REGION}:${Aws.ACCOUNT_ID}:${pipeline}${stage === undefined ? '' : `/${stage}`}`;
      this.apiFunction.addToRolePolicy(new iam.PolicyStatement({
        sid: 'ReadWindowedPipelines',
        // is the execution waiting at the stage's BeforeEntry condition? (resource: pipeline)
        actions: ['codepipeline:GetPipelineState'],
        resources: [...new Set(windowed.flatMap(s => windowPipelinesOf(s).map(p => arn(p))))],
      }));
      this.apiFunction.addToRolePolicy(new iam.PolicyStatement({
        sid: 'OverrideWindows',
        // resource: the stage (arn:…:codepipeline:<region>:<account>:<pipeline>/<stage>)
        actions: ['codepipeline:OverrideStageCondition'],
        resources: windowed.flatMap(s => windowPipelinesOf(s).map(p => arn(p, s.name))),
      }));
    }
    if (this.repository) {
      this.apiFunction.addToRolePolicy(new iam.PolicyStatement({
        sid: 'CommentOnCommits',
        // GetCommit reads the commit's parent, which PostCommentForComparedCommit needs as beforeCommitId
        actions: ['codecommit:GetCommit', 'codecommit:PostCommentForComparedCommit'],
        resources: [this.repository.repositoryArn],
      }));
    }
    // codepipeline:PutJobSuccessResult and PutJobFailureResult: aws-cdk-lib's LambdaInvokeAction
    // grants them to this role when a pipeline uses the gate (GateStep, gateAction); stating them
    // here too rendered the statement twice
    Validations.of(this.gateFunction.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'codepipeline:PutJobSuccessResult and PutJobFailureResult, which aws-cdk-lib\'s LambdaInvokeAction grants the gate function, support no resource-level permissions (a job is identified only by its id); they are the only actions on "*".',
    });
    // the role CodePipeline assumes for every gate action (instead of one generated per action)
    this.gateActionRole = new iam.Role(this, 'GateActionRole', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: `Runs the status-check gates of pipeline ${plan.name} (CodePipeline action role)`,
    });
    this.gateFunction.grantInvoke(this.gateActionRole);
    const gateFunctionId = stack.getLogicalId(this.gateFunction.node.defaultChild as lambda.CfnFunction);
    Validations.of(this.gateActionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'lambda:ListFunctions, which aws-cdk-lib\'s LambdaInvokeAction grants the action role, supports no resource-level permissions; invoking is limited to the gate function.',
    }, {
      id: `AwsSolutions-IAM5[Resource::<${gateFunctionId}.Arn>:*]`,
      reason: 'aws-cdk-lib\'s grantInvoke (also called by LambdaInvokeAction) covers the gate function\'s own versions and aliases (<arn>:*); no other function.',
    });

    // ---- API --------------------------------------------------------------------------------
    const cloudWatchRole = props.cloudWatchRole ?? props.plan.apiGatewayCloudWatchRole;
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `${plan.name}-status-checks`,
      description: `Status checks of pipeline ${plan.name}: report, read, require, override`,
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole,
      // the account setting outlives the stack: other APIs of the account may log through it
      ...(cloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      deployOptions: {
        stageName: 'prod',
        throttlingRateLimit: props.throttlingRateLimit ?? 10,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 20,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        // X-Ray traces of the API's requests (AWS Control Tower CT.APIGATEWAY.PR.2)
        tracingEnabled: true,
        metricsEnabled: true,
      },
    });
    this.apiEndpoint = this.api.url;
    const output = this.api.node.tryFindChild('Endpoint') as CfnOutput | undefined;
    if (output) {
      output.overrideLogicalId(StatusChecks.API_ENDPOINT_OUTPUT);
      output.description = `Status-check API of pipeline ${plan.name} (IAM authorization; see README "Status checks")`;
    }

    // API Gateway checks the required query and path parameters; the function checks bodies field
    // by field and answers 400 {"message", "issues"} naming each one. A gateway response template
    // is no VTL, only simple substitution: $context.error.messageString is the message already in
    // quotes, while $context.error.validationErrorString (the schema validator's text, which
    // quotes the schema and the input) would not be valid JSON inside a JSON string.
    this.reviewRoutes = plan.review !== undefined;
    this.releaseRoutes = plan.services.length > 0;
    const template = this.releaseRoutes ? BAD_REQUEST_PARAMETERS_TEMPLATE_WITH_RELEASES
      : this.reviewRoutes ? BAD_REQUEST_PARAMETERS_TEMPLATE_WITH_REVIEWS : BAD_REQUEST_PARAMETERS_TEMPLATE;
    this.api.addGatewayResponse('BadRequestParameters', {
      type: apigw.ResponseType.BAD_REQUEST_PARAMETERS,
      templates: { 'application/json': template },
    });

    const validator = new apigw.RequestValidator(this, 'RequestValidator', {
      restApi: this.api,
      validateRequestBody: false,
      validateRequestParameters: true,
    });
    const integration = new apigw.LambdaIntegration(this.apiFunction, { allowTestInvoke: false });

    const checks = this.api.root.addResource('checks');
    checks.addMethod('POST', integration, { requestValidator: validator });
    checks.addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: {
        'method.request.querystring.pipeline': true,
        'method.request.querystring.revision': true,
        'method.request.querystring.stage': false,
      },
    });
    this.api.root.addResource('requirements').addResource('{pipeline}').addResource('{stage}').addMethod('PUT', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.path.pipeline': true, 'method.request.path.stage': true },
    });
    this.api.root.addResource('overrides').addMethod('POST', integration, { requestValidator: validator });
    if (this.reviewRoutes) {
      // review deployments (ddk.json's pipeline.review): read them, destroy one by hand
      const reviews = this.api.root.addResource('reviews');
      reviews.addMethod('GET', integration, {
        requestValidator: validator,
        requestParameters: { 'method.request.querystring.pipeline': true },
      });
      reviews.addResource('destroy').addMethod('POST', integration, { requestValidator: validator });
    }
    if (this.releaseRoutes) {
      // releases of the plan's services (release brackets): a pipeline's releases, one release with
      // its events, the services' latest candidates (API Gateway matches /releases/candidates
      // before the {id} path parameter)
      const pipelineQuery = { 'method.request.querystring.pipeline': true };
      const releases = this.api.root.addResource('releases');
      releases.addMethod('GET', integration, { requestValidator: validator, requestParameters: pipelineQuery });
      releases.addResource('candidates').addMethod('GET', integration, { requestValidator: validator, requestParameters: pipelineQuery });
      releases.addResource('{id}').addMethod('GET', integration, {
        requestValidator: validator,
        requestParameters: { ...pipelineQuery, 'method.request.path.id': true },
      });
    }
    if (this.conditionOverrideRoutes) {
      // deployment windows: let the execution waiting at a stage's windows in (recorded first)
      this.api.root.addResource('conditions').addResource('override').addMethod('POST', integration, { requestValidator: validator });
    }
    this.acknowledgeApiFindings(cloudWatchRole);
  }

  /**
   * The gate of a plan stage, to put first in the stage's wave (before its approval).
   *
   * @param stage the plan stage (its name and requiredChecks)
   * @param revision the source's commit id variable: `source.sourceAttribute('CommitId')`
   * @param timeout how long to wait before failing the stage; default: `gateTimeout`
   */
  public gateStep(stage: PlanStage, revision: string, timeout?: Duration): GateStep {
    return new GateStep('StatusChecks', this.gateProps(stage, revision, timeout));
  }

  /**
   * The gate of a plan stage as a Lambda invoke action, for a pipeline built with
   * aws-codepipeline directly: put it in the stage before the approval and the deployments.
   *
   * @param stage the plan stage (its name and requiredChecks)
   * @param revision the source action's commit id variable: `sourceAction.variables.commitId`
   * @param options action name, run order and timeout
   */
  public gateAction(stage: PlanStage, revision: string, options: GateActionOptions = {}): cpa.LambdaInvokeAction {
    return GateStep.action(this.gateProps(stage, revision, options.timeout), options.actionName ?? 'StatusChecks', options.runOrder ?? 1);
  }

  private gateProps(stage: PlanStage, revision: string, timeout?: Duration): GateStepProps {
    const planned = this.stages.find(s => s.name === stage.name);
    if (!planned || planned.requiredChecks.length === 0) {
      const gated = this.stages.filter(s => s.requiredChecks.length > 0).map(s => `"${s.name}"`).join(', ');
      throw new Error(`StatusChecks ${this.node.path}: stage "${stage.name}" ${planned ? 'requires no checks' : 'is not a stage of the plan'}, so its gate would have no required contexts to read; expected a plan stage with requiredChecks (${gated}). Fix: gate only the stages whose requiredChecks ddk.json lists`);
    }
    return {
      gateFunction: this.gateFunction,
      pipelineName: this.pipelineName,
      stage: stage.name,
      revision,
      timeout: timeout ?? this.gateTimeout,
      actionRole: this.gateActionRole,
    };
  }

  /**
   * Lets a function of the delivery system use the store and the events as the status-check
   * handlers do: `tableActions` on the table, the table's key only through DynamoDB, and
   * `events:PutEvents` on the bus for the status checks' `source` only.
   *
   * @param grantee the function (or its role)
   * @param tableActions the DynamoDB actions it calls
   * @param publishSid the id of the PutEvents statement
   */
  public grantStoreAndEvents(grantee: iam.IGrantable, tableActions: string[], publishSid: string = 'PublishStatusCheckEvents'): void {
    this.table.grant(grantee, ...tableActions);
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'TableKeyThroughDynamoDB',
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resources: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Aws.REGION}.amazonaws.com` } },
    }));
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: publishSid,
      actions: ['events:PutEvents'],
      resources: [this.eventBus.eventBusArn],
      // events:source is multivalued (one value per entry of a PutEvents call): every entry's
      // source must be ours, and the key must be there (ForAllValues alone is true on none)
      conditions: { 'ForAllValues:StringEquals': { 'events:source': [EVENT_SOURCE] }, 'Null': { 'events:source': 'false' } },
    }));
  }

  /** Lets a principal report checks (`POST /checks`). */
  public grantReport(grantee: iam.IGrantable): iam.Grant {
    return this.grantInvoke(grantee, 'POST', '/checks');
  }

  /** Lets a principal read checks (`GET /checks`). */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantInvoke(grantee, 'GET', '/checks');
  }

  /** Lets a principal change required contexts at run time (`PUT /requirements/{pipeline}/{stage}`). */
  public grantManageRequirements(grantee: iam.IGrantable): iam.Grant {
    return this.grantInvoke(grantee, 'PUT', '/requirements/*');
  }

  /** Lets a principal override contexts in error (`POST /overrides`). */
  public grantOverride(grantee: iam.IGrantable): iam.Grant {
    return this.grantInvoke(grantee, 'POST', '/overrides');
  }

  /**
   * Lets a principal override a stage's deployment windows for the execution waiting at them
   * (`POST /conditions/override`; recorded with who, why and when).
   *
   * @throws when no plan stage has windows (the API has no such route)
   */
  public grantOverrideConditions(grantee: iam.IGrantable): iam.Grant {
    if (!this.conditionOverrideRoutes) {
      throw new Error(`StatusChecks ${this.node.path}: grantOverrideConditions: no stage of pipeline ${this.pipelineName} has a deployment window, so the API has no ${CONDITION_OVERRIDE_ROUTE} route to grant; expected a plan stage with "window". Fix: add "window": {"cron", "timeZone"} to a stage in ddk.json, or do not grant window overrides`);
    }
    return this.grantInvoke(grantee, 'POST', CONDITION_OVERRIDE_ROUTE);
  }

  /**
   * Lets a principal list the review deployments (`GET /reviews`).
   *
   * @throws when the plan has no review section (the API has no review routes)
   */
  public grantReadReviews(grantee: iam.IGrantable): iam.Grant {
    this.requireReviewRoutes('grantReadReviews');
    return this.grantInvoke(grantee, 'GET', '/reviews');
  }

  /**
   * Lets a principal destroy a review deployment by hand (`POST /reviews/destroy`).
   *
   * @throws when the plan has no review section (the API has no review routes)
   */
  public grantDestroyReviews(grantee: iam.IGrantable): iam.Grant {
    this.requireReviewRoutes('grantDestroyReviews');
    return this.grantInvoke(grantee, 'POST', '/reviews/destroy');
  }

  /**
   * Lets a principal read releases and candidates (`GET /releases`, `GET /releases/{id}`,
   * `GET /releases/candidates`).
   *
   * @throws when the plan has no services (the API has no release routes)
   */
  public grantReadReleases(grantee: iam.IGrantable): iam.Grant {
    if (!this.releaseRoutes) {
      throw new Error(`StatusChecks ${this.node.path}: grantReadReleases: pipeline ${this.pipelineName} has no services, so the API has no /releases routes to grant; expected a plan with services. Fix: declare "pipeline": {"services": {…}} in ddk.json, or do not grant release access`);
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [
        this.api.arnForExecuteApi('GET', '/releases', this.api.deploymentStage.stageName),
        this.api.arnForExecuteApi('GET', '/releases/*', this.api.deploymentStage.stageName),
      ],
    });
  }

  private requireReviewRoutes(method: string): void {
    if (this.reviewRoutes) return;
    throw new Error(`StatusChecks ${this.node.path}: ${method}: pipeline ${this.pipelineName} has no review deployments, so the API has no /reviews routes to grant; expected a plan with a review section. Fix: add "pipeline": {"review": {"environment": "<environment id>"}} to ddk.json, or do not grant review access`);
  }

  private grantInvoke(grantee: iam.IGrantable, method: string, path: string): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi(method, path, this.api.deploymentStage.stageName)],
    });
  }

  private handler(
    id: string, name: string, description: string, logGroup: logs.LogGroup, environment: Record<string, string>, timeout: Duration,
  ): lambda.Function {
    // a role of its own, with no managed policy: it may write to its log group and nothing else yet
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${description} (function role)`,
    });
    const fn = bundledFunction(this, id, {
      description,
      handler: name,
      role,
      logGroup,
      timeout,
      memorySize: 256,
      environment,
    });
    return fn;
  }

  private acknowledgeApiFindings(cloudWatchRole: boolean): void {
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason: 'API Gateway validates the required query and path parameters; request bodies are validated by the API function, which checks every field (type, pattern, length, unknown and server-set fields) and answers 400 with JSON naming each invalid field. API Gateway\'s body validation could only answer through a gateway response, whose template is plain substitution (no VTL) and cannot put the validator\'s message, which contains quotes, into valid JSON.',
    });
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: 'Every method requires SigV4 IAM authorization, so API Gateway rejects unauthenticated requests before any integration runs, and stage throttling bounds the rest; a WAF web ACL (billed per ACL and request) can be associated with the stage by the user.',
    });
    for (const node of this.api.node.findAll()) {
      if (node instanceof apigw.Method) {
        Validations.of(node).acknowledge({
          id: 'AwsSolutions-COG4',
          reason: 'The API uses IAM authorization (SigV4) instead of a Cognito user pool: its callers are CI systems and people with AWS credentials, and the recorded reporter is their IAM principal.',
        });
      }
    }
    if (cloudWatchRole) {
      const role = this.api.node.tryFindChild('CloudWatchRole');
      if (role) {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
          reason: 'The account-level role API Gateway uses to write access and execution logs; the AWS managed policy is the documented one and API Gateway names the log groups it writes to itself.',
        });
      }
    }
  }
}

/**
 * The CodePipeline pipelines that hold a plan stage (their first CodePipeline stage of it carries
 * the stage's name and its BeforeEntry windows): `<name>-<stage>` with codepipeline-gitflow (one
 * pipeline per stage); with services the release pipeline for a bracket stage, each service's
 * pipeline for a per-service stage; else the plan's pipeline. One pipeline is `windowPipeline`,
 * several `windowPipelines`.
 */
function windowPipelineSettings(plan: DeliveryPlan, stage: PlanStage): Pick<StageSettings, 'windowPipeline' | 'windowPipelines'> {
  const names = plan.pipelinesOfStage(stage.name);
  return names.length === 1 ? { windowPipeline: names[0] } : { windowPipelines: names };
}

/**
 * Bytes a function's environment takes as Lambda counts it (names and values), with every value
 * still a token (the table's generated name, a bus ARN) counted at its longest: a DynamoDB table
 * name has at most 255 characters, an EventBridge bus ARN at most 340.
 */
function environmentBytes(environment: Record<string, string>, settings: PipelineSettings): { total: number; settings: number } {
  const longest: Record<string, number> = { [ENV.TABLE_NAME]: 255, [ENV.EVENT_BUS_NAME]: 340 };
  const settingsBytes = Buffer.byteLength(JSON.stringify(settings));
  let total = 0;
  for (const [name, value] of Object.entries(environment)) {
    const size = name === ENV.PIPELINE_SETTINGS ? settingsBytes : Token.isUnresolved(value) ? (longest[name] ?? 2048) : Buffer.byteLength(value);
    total += Buffer.byteLength(name) + size;
  }
  return { total, settings: settingsBytes };
}
