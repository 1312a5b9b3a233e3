import { join } from 'path';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, AppProps, CfnDeletionPolicy, CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { API_ENDPOINT_ENV } from './reporter';
import { CodePipelineDelivery, DdkConfig, DeliveryPipelineStack, DeliveryPlan, SampleApplication, StatusChecks } from '../../lib';

/*
 * The deployment test of issue 9: a gated pipeline deployed to a real account, a status check
 * reported through the status-check API, and the gate's decision read back from CodePipeline.
 *
 *   1. the CICD stack of a codepipeline-trunk ddk.json with one stage behind a required check
 *      (`integ/gate`) and an approval; the seeded CodeCommit repository gives the commit;
 *   2. the assertions (integ-tests-alpha, run by CloudFormation in the assertion stack):
 *      report `failure` through the signed API → start an execution → the gate fails the stage,
 *      naming the check → report `success` → retry the failed action of the same execution →
 *      the gate passes, naming the check, and the stage goes on to its approval;
 *   3. teardown: every resource of the CICD stack is deleted (buckets emptied first), except the
 *      API Gateway CloudWatch Logs role and account setting (see RETAINED_ON_PURPOSE).
 *
 * The build of the pipeline is a placeholder (two shell commands that write cdk.out): the test is
 * about the gate, which runs before anything deploys, and stops at the approval after it.
 */

/** Name of the pipeline (and of the CodeCommit repository, the status-check API, …). */
export const PIPELINE_NAME = 'ddk-integ-gate';
/** The plan stage behind the gate. */
export const GATED_STAGE = 'gated';
/** The status-check context the gated stage requires. */
export const REQUIRED_CHECK = 'integ/gate';
/** The branch the pipeline runs from (seeded by the library). */
export const SOURCE_BRANCH = 'main';
/** Name of the gate's action in the stage (StatusChecks.gateAction's default). */
export const GATE_ACTION = 'StatusChecks';
/** Name of the approval's action in the stage. */
export const APPROVAL_ACTION = 'Approve';
/** Name of the stack holding the reporter and the assertions. */
export const ASSERTION_STACK_NAME = `${PIPELINE_NAME}-assertions`;

/**
 * Account and region synthesized when no real account is known (offline, in CI, and under
 * integ-runner's snapshot synthesis, which sets CDK_INTEG_ACCOUNT=12345678 and
 * CDK_INTEG_REGION=test-region: values ddk.json validation rightly refuses).
 */
export const OFFLINE_ENVIRONMENT: IntegEnvironment = { account: '123456789012', region: 'eu-west-1' };

/** Where the test deploys. */
export interface IntegEnvironment {
  /** 12-digit AWS account id. */
  readonly account: string;
  /** AWS region. */
  readonly region: string;
}

/**
 * The account and region to deploy to: CDK_INTEG_ACCOUNT / CDK_INTEG_REGION (integ-runner), else
 * CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION (the CDK CLI, from your credentials), else
 * OFFLINE_ENVIRONMENT. A value that is not an account id / region (integ-runner's placeholders)
 * is skipped.
 */
export function integEnvironment(env: NodeJS.ProcessEnv): IntegEnvironment {
  const pick = (names: string[], valid: RegExp) => names.map(n => env[n]).find((v): v is string => v !== undefined && valid.test(v));
  const account = pick(['CDK_INTEG_ACCOUNT', 'CDK_DEFAULT_ACCOUNT'], /^\d{12}$/);
  const region = pick(['CDK_INTEG_REGION', 'CDK_DEFAULT_REGION'], /^[a-z]{2}(-[a-z]+)+-\d+$/);
  return { account: account ?? OFFLINE_ENVIRONMENT.account, region: region ?? OFFLINE_ENVIRONMENT.region };
}

/** The test's ddk.json: the CICD account is also the one target, in one region. */
export function integDdkJson(env: IntegEnvironment): object {
  return {
    tags: { application: PIPELINE_NAME },
    environments: {
      cicd: { account: env.account, region: env.region },
      target: { account: env.account, region: env.region },
    },
    pipeline: {
      name: PIPELINE_NAME,
      strategy: 'codepipeline-trunk',
      source: { codecommit: { repository: PIPELINE_NAME, branch: SOURCE_BRANCH, create: true } },
      // a placeholder build: the seeded repository holds no app, and nothing deploys in this test
      synth: {
        commands: [
          'mkdir -p cdk.out',
          'echo "ddk-pipelines deployment test: placeholder assembly; the test stops at the approval after the gate" > cdk.out/README.txt',
        ],
      },
      stages: [{
        name: GATED_STAGE,
        environments: ['target'],
        requiredChecks: [REQUIRED_CHECK],
        approval: { comment: 'ddk-pipelines deployment test: the gate let this stage in; nobody approves (the stacks are destroyed)' },
      }],
    },
  };
}

/**
 * Resources of the CICD stack that the test leaves in the account when it tears down, and why.
 * Every other resource is deleted (see `makeDestroyable`).
 */
export const RETAINED_ON_PURPOSE: { [pathUnderStatusChecks: string]: string } = {
  'Api/CloudWatchRole/Resource': 'the role API Gateway writes every REST API\'s logs in this account and region through (the account setting names one role); deleting it would break the logging of the account\'s other APIs',
  'Api/Account': 'the account-wide API Gateway setting naming that role; CloudFormation does not reset it when the stack is deleted (AWS::ApiGateway::Account)',
};

/** What `gatedPipelineIntegApp` built. */
export interface GatedPipelineInteg {
  /** The app: synthesize it (`app.synth()`). */
  readonly app: App;
  /** The CICD stack under test (the library's DeliveryPipelineStack). */
  readonly stack: DeliveryPipelineStack;
  /** The stack with the reporter function and the assertions. */
  readonly assertionStack: Stack;
  /** The integ-tests test case (its `assertions`). */
  readonly integ: IntegTest;
  /** The delivery plan of `integDdkJson`. */
  readonly plan: DeliveryPlan;
  /** Position of the gated stage in GetPipelineState's stageStates, and of its actions. */
  readonly positions: { readonly stage: number; readonly gate: number; readonly approval: number };
}

/** Builds the integration test app for `env` (see the file comment). */
export function gatedPipelineIntegApp(env: IntegEnvironment, appProps: AppProps = {}): GatedPipelineInteg {
  const app = new App(appProps);
  const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(integDdkJson(env), 'ddk.json'));
  const stack = new DeliveryPipelineStack(app, plan.cicdStackName, { plan, application: new SampleApplication() });
  const delivery = stack.delivery;
  if (!(delivery instanceof CodePipelineDelivery) || !delivery.statusChecks || delivery.pipelines.length !== 1) {
    throw new Error(`${plan.cicdStackName}: expected one CodePipeline with status checks (strategy codepipeline-trunk, a stage with requiredChecks)`);
  }
  const statusChecks = delivery.statusChecks;
  const pipeline = delivery.pipelines[0];
  makeDestroyable(stack, statusChecks);

  // GetPipelineState lists stages and actions in the order of the pipeline's declaration
  const stage = pipeline.stages.findIndex(s => s.stageName === GATED_STAGE);
  const actions = stage < 0 ? [] : pipeline.stages[stage].actions.map(a => a.actionProperties.actionName);
  const positions = { stage, gate: actions.indexOf(GATE_ACTION), approval: actions.indexOf(APPROVAL_ACTION) };
  if (positions.stage < 0 || positions.gate < 0 || positions.approval < 0) {
    throw new Error(`${plan.cicdStackName}: no stage "${GATED_STAGE}" with actions "${GATE_ACTION}" and "${APPROVAL_ACTION}" (stages: ${pipeline.stages.map(s => s.stageName).join(', ')}; actions: ${actions.join(', ')})`);
  }

  const assertionStack = new Stack(app, ASSERTION_STACK_NAME, {
    env,
    description: `ddk-pipelines deployment test: reports status checks to ${PIPELINE_NAME} and asserts its gate's decisions`,
  });
  assertionStack.addStackDependency(stack);
  const reporter = new nodejs.NodejsFunction(assertionStack, 'Reporter', {
    entry: join(__dirname, 'reporter', 'index.ts'),
    description: `ddk-pipelines deployment test: reports checks to the status-check API of ${PIPELINE_NAME}, signed like \`ddk-pipelines checks report\``,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    timeout: Duration.seconds(30),
    environment: { [API_ENDPOINT_ENV]: statusChecks.apiEndpoint },
    logGroup: new logs.LogGroup(assertionStack, 'ReporterLogs', { retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY }),
    // the client and the SDK it was tested with, bundled (not the runtime's copy), as the handlers are
    bundling: { externalModules: [], mainFields: ['module', 'main'], minify: true, target: 'node22' },
  });
  // the documented grant: execute-api:Invoke on POST /checks of the API's stage, nothing else
  statusChecks.grantReport(reporter);

  const integ = new IntegTest(app, 'GatedPipeline', {
    testCases: [stack],
    assertionStack,
    // the test is a first deployment ("it must work on AWS the first time"); there is no
    // earlier snapshot to deploy first and update from
    stackUpdateWorkflow: false,
    diffAssets: false,
  });
  addAssertions(integ, plan, reporter, positions);
  return { app, stack, assertionStack, integ, plan, positions };
}

/**
 * Retained resources of the CICD stack become deletable: DeletionPolicy Delete, and the buckets
 * are emptied (every object version) before CloudFormation deletes them, by aws-cdk-lib's
 * auto-delete mixin, which first denies new writes (late server access logs). KMS keys are
 * scheduled for deletion (their pending window). RETAINED_ON_PURPOSE stays.
 */
function makeDestroyable(stack: Stack, statusChecks: StatusChecks): void {
  const keep = new Set(Object.keys(RETAINED_ON_PURPOSE).map(path => `${statusChecks.node.path}/${path}`));
  for (const c of stack.node.findAll()) {
    if (!CfnResource.isCfnResource(c) || Stack.of(c) !== stack || keep.has(c.node.path)) continue;
    const policy = c.cfnOptions.deletionPolicy;
    const kept = [CfnDeletionPolicy.RETAIN, CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE, CfnDeletionPolicy.SNAPSHOT];
    if (policy !== undefined && kept.includes(policy)) c.applyRemovalPolicy(RemovalPolicy.DESTROY);
    if (s3.CfnBucket.isCfnBucket(c)) {
      c.applyRemovalPolicy(RemovalPolicy.DESTROY);
      c.with(new s3.mixins.BucketAutoDeleteObjects());
    }
  }
}

/** Timing of the waits: a CodeBuild build takes a few minutes; the gate decides in seconds. */
const WAIT = { totalTimeout: Duration.minutes(20), interval: Duration.seconds(20) };

function addAssertions(integ: IntegTest, plan: DeliveryPlan, reporter: lambda.IFunction, at: GatedPipelineInteg['positions']): void {
  const a = integ.assertions;
  const stack = Stack.of(reporter);
  const stagePath = `stageStates.${at.stage}`;
  const gatePath = `${stagePath}.actionStates.${at.gate}.latestExecution`;
  const pipelineState = () => a.awsApiCall('CodePipeline', 'getPipelineState', { name: plan.name });

  // the commit the pipeline runs: the library's seed commit, head of the source branch
  const branch = a.awsApiCall('CodeCommit', 'getBranch', { repositoryName: plan.source.repository, branchName: SOURCE_BRANCH });
  const revision = branch.getAttString('branch.commitId');

  const report = (state: 'success' | 'failure', description: string) => {
    const call = a.invokeFunction({
      functionName: reporter.functionName,
      payload: stack.toJsonString({
        pipeline: plan.name, revision, context: REQUIRED_CHECK, state, description, clientRequestId: `integ-${state}`,
      }),
    });
    // recorded as sent, by the reporter's own role (the API takes the signer, never a body field)
    call.expect(ExpectedResult.objectLike({
      Payload: Match.serializedJson({
        ok: true,
        answer: Match.objectLike({
          replayed: false,
          check: Match.objectLike({
            pipeline: plan.name,
            context: REQUIRED_CHECK,
            state,
            reportedBy: Match.stringLikeRegexp(`:assumed-role/${reporter.role!.roleName}/`),
          }),
        }),
      }),
    }));
    return call;
  };

  // 1. the check fails before the stage is reached
  const reportFailure = report('failure', 'integration test: reported failure');
  // 2. an execution of the seeded commit (the one CloudFormation starts on creation may have run
  //    before the seed commit existed; this one is known by id)
  const start = a.awsApiCall('CodePipeline', 'startPipelineExecution', { name: plan.name });
  const execution = start.getAttString('pipelineExecutionId');
  // 3. it reaches the gated stage (it is the last execution to enter it: an older one may enter
  //    first, never after) …
  const entered = pipelineState()
    .assertAtPath(`${stagePath}.latestExecution.pipelineExecutionId`, ExpectedResult.exact(execution))
    .waitForAssertions(WAIT);
  // … and the stage fails there
  const stageFailed = pipelineState()
    .assertAtPath(`${stagePath}.latestExecution.status`, ExpectedResult.exact('Failed'))
    .waitForAssertions(WAIT);
  // 4. failed by the gate, which names the failing check (not a fail-closed or a timeout)
  const gateFailed = pipelineState()
    .assertAtPath(`${gatePath}.errorDetails.message`, ExpectedResult.stringLikeRegexp(`1 required check failed: ${escapeRegExp(REQUIRED_CHECK)} \\(failure`));
  // 5. the check passes; the failed action of the same execution is retried
  const reportSuccess = report('success', 'integration test: reported success');
  const retry = a.awsApiCall('CodePipeline', 'retryStageExecution', {
    pipelineName: plan.name, stageName: GATED_STAGE, pipelineExecutionId: execution, retryMode: 'FAILED_ACTIONS',
  });
  // 6. the gate passes, naming the check …
  const gatePassed = pipelineState()
    .assertAtPath(`${gatePath}.summary`, ExpectedResult.stringLikeRegexp(`all 1 required check passed: ${escapeRegExp(REQUIRED_CHECK)}`))
    .waitForAssertions(WAIT);
  // … and the stage goes on: its approval waits for a human
  const approvalWaits = pipelineState()
    .assertAtPath(`${stagePath}.actionStates.${at.approval}.latestExecution.status`, ExpectedResult.exact('InProgress'))
    .waitForAssertions(WAIT);

  branch.next(reportFailure).next(start).next(entered).next(stageFailed).next(gateFailed)
    .next(reportSuccess).next(retry).next(gatePassed).next(approvalWaits);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
