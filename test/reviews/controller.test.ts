import { CloudFormationClient, DeleteStackCommand, DescribeStacksCommand, Stack } from '@aws-sdk/client-cloudformation';
// eslint-disable-next-line import/no-extraneous-dependencies -- the review controller's CodeBuild client: a devDependency to add in .projenrc.ts with the other @aws-sdk clients
import { BatchGetProjectsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { CodeCommitClient, PostCommentForPullRequestCommand } from '@aws-sdk/client-codecommit';
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { buildEvent, C1, C2, C3, commit, CONNECTION_SETTINGS, jobEvent, MAIN, pullRequestEvent, SETTINGS } from './controller-fixtures';
import type * as ControllerHandler from '../../lambda/review-controller';
import { CodeBuildStarter, CodeCommitPullRequestCommenter, CodePipelineJobResults } from '../../lib/reviews/adapters';
import type { ControllerDependencies } from '../../lib/reviews/controller';
import { runController } from '../../lib/reviews/controller';
import type { ReviewSettings } from '../../lib/reviews/shared';
import { REVIEW_DETAIL_TYPES, REVIEW_SETTINGS_ENV, REVIEW_TAGS, reviewIdForBranch } from '../../lib/reviews/shared';
import { DeployRoleStacks } from '../../lib/reviews/stacks';
import { ReviewStore } from '../../lib/reviews/store';
import { EventBridgePublisher } from '../../lib/status-checks/events';
import { DETAIL_TYPES, EVENT_SOURCE } from '../../lib/status-checks/shared';
import { StatusCheckStore } from '../../lib/status-checks/store';
import { handlerEnvironment, LocalDynamo, setEnvironment } from '../status-checks/local';

/*
 * The review controller end to end: the Lambda handler (lambda/review-controller) on the events
 * AWS documents, DynamoDB through dynalite (records, checks), CodeBuild, CloudFormation,
 * CodeCommit, CodePipeline and EventBridge through aws-sdk-client-mock. The review environment
 * is a fake holding stacks: DeleteStack moves a stack to DELETE_IN_PROGRESS, `settle()` finishes
 * the deletions.
 */

const codeBuild = mockClient(CodeBuildClient);
const cloudFormation = mockClient(CloudFormationClient);
const codeCommit = mockClient(CodeCommitClient);
const codePipeline = mockClient(CodePipelineClient);
const eventBridge = mockClient(EventBridgeClient);

const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:111111111111:function:myapp-review-controller';
const CONTEXT = { invokedFunctionArn: FUNCTION_ARN, awsRequestId: 'req-1', functionName: 'myapp-review-controller', functionVersion: '$LATEST', memoryLimitInMB: '256' } as unknown as Context;
const HANDLER_SETTINGS: ReviewSettings = { ...SETTINGS, urlOutput: 'ReviewUrl' };

let local: LocalDynamo;
let restore: () => void;
let handler: typeof ControllerHandler.handler;
let reviews: ReviewStore;
let checks: StatusCheckStore;

/** The review environment's stacks, as DescribeStacks returns them. */
let environment: Stack[] = [];
let builds = 0;

function reviewStack(reviewId: string, id: string, order: number, outputs: Record<string, string> = {}, pipeline = 'myapp'): Stack {
  return {
    StackName: `${pipeline}-review-${reviewId}-${id}`,
    StackStatus: 'CREATE_COMPLETE',
    CreationTime: new Date('2030-01-01T00:00:00Z'),
    Tags: [
      { Key: REVIEW_TAGS.PIPELINE, Value: pipeline },
      { Key: REVIEW_TAGS.REVIEW, Value: reviewId },
      { Key: REVIEW_TAGS.COMMIT, Value: C1 },
      { Key: REVIEW_TAGS.ORDER, Value: String(order) },
    ],
    Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
  };
}

/** Deletions started by DeleteStack complete. */
function settle(): void {
  environment = environment.filter(s => s.StackStatus !== 'DELETE_IN_PROGRESS');
}

beforeAll(async () => {
  local = await LocalDynamo.start('review-controller');
  restore = setEnvironment({ ...handlerEnvironment(local), [REVIEW_SETTINGS_ENV]: JSON.stringify(HANDLER_SETTINGS) });
  // loaded after the environment is set, as Lambda loads it
  handler = (require('../../lambda/review-controller') as typeof ControllerHandler).handler; // eslint-disable-line @typescript-eslint/no-require-imports
  const doc = DynamoDBDocumentClient.from(local.client, { marshallOptions: { removeUndefinedValues: true } });
  reviews = new ReviewStore(doc, local.tableName);
  checks = new StatusCheckStore(doc, local.tableName);
});

afterAll(async () => {
  restore();
  await local.stop();
});

beforeEach(() => {
  environment = [];
  for (const m of [codeBuild, cloudFormation, codeCommit, codePipeline, eventBridge]) m.reset();
  codeBuild.on(BatchGetProjectsCommand).resolves({ projects: [{ name: 'myapp-review', source: { type: 'NO_SOURCE', buildspec: BUILDSPEC } }] });
  codeBuild.on(StartBuildCommand).callsFake(input => {
    builds += 1;
    return { build: { id: `${input.projectName}:build-${builds}`, arn: `arn:aws:codebuild:eu-west-1:111111111111:build/${input.projectName}:build-${builds}` } };
  });
  cloudFormation.on(DescribeStacksCommand).callsFake(() => ({ Stacks: environment.map(s => ({ ...s })) }));
  cloudFormation.on(DeleteStackCommand).callsFake(input => {
    const s = environment.find(x => x.StackName === input.StackName);
    if (s) s.StackStatus = 'DELETE_IN_PROGRESS';
    return {};
  });
  codeCommit.on(PostCommentForPullRequestCommand).resolves({});
  codePipeline.on(PutJobSuccessResultCommand).resolves({});
  codePipeline.on(PutJobFailureResultCommand).resolves({});
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

function published(): Array<{ detailType: string; detail: any; source: string }> {
  return eventBridge.commandCalls(PutEventsCommand)
    .flatMap(c => (c.args[0].input.Entries ?? []).map(e => ({ detailType: e.DetailType!, detail: JSON.parse(e.Detail!), source: e.Source! })));
}

const changes = () => published().filter(e => e.detailType === REVIEW_DETAIL_TYPES.CHANGED).map(e => e.detail.state);
/** The review project's inline buildspec, as BatchGetProjects answers it. */
const BUILDSPEC = '{"version":"0.2","phases":{"build":{"commands":["npx cdk synth"]}}}';
const startBuilds = () => codeBuild.commandCalls(StartBuildCommand).map(c => c.args[0].input);
const deleted = () => cloudFormation.commandCalls(DeleteStackCommand).map(c => c.args[0].input.StackName!);

describe('a CodeCommit pull request, from opening to merge', () => {
  test('deploys each update (the newest wins), reports checks and comments, and tears down highest order first', async () => {
    // WHEN pull request 12 into main is opened
    await handler(pullRequestEvent('pullRequestCreated'), CONTEXT);
    // THEN one build of its head commit starts, from the repository, with the review's variables
    expect(startBuilds()).toEqual([{
      projectName: 'myapp-review',
      sourceTypeOverride: 'CODECOMMIT',
      sourceLocationOverride: 'https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/myapp',
      sourceVersion: C1,
      // the project's own buildspec: CodeBuild would otherwise look for buildspec.yml in the checkout
      buildspecOverride: BUILDSPEC,
      environmentVariablesOverride: [
        { name: 'DDK_REVIEW_ID', value: 'pr12', type: 'PLAINTEXT' },
        { name: 'DDK_REVIEW_COMMIT', value: C1, type: 'PLAINTEXT' },
        { name: 'DDK_REVIEW_BRANCH', value: 'feature/login', type: 'PLAINTEXT' },
        { name: 'DDK_REVIEW_PULL_REQUEST', value: '12', type: 'PLAINTEXT' },
      ],
      idempotencyToken: expect.stringMatching(/^[0-9a-f]{32}$/),
    }]);
    const first = builds;
    expect(await reviews.get('myapp', 'pr12')).toMatchObject({ state: 'deploying', build: { id: `myapp-review:build-${first}`, commit: C1 }, version: 2 });
    // the checks are in the status-check store, reported by the controller, and published as the API publishes them
    const pending = await checks.latestChecks('myapp', C1);
    expect(pending.map(c => [c.context, c.state, c.reportedBy])).toEqual([['review/deploy', 'pending', FUNCTION_ARN], ['review/tests', 'pending', FUNCTION_ARN]]);
    expect(pending[0].targetUrl).toBe(`https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/myapp-review/build/myapp-review%3Abuild-${first}/?region=eu-west-1`);
    const reported = published().filter(e => e.detailType === DETAIL_TYPES.CHECK_REPORTED);
    expect(reported.map(e => [e.source, e.detail.context, e.detail.state, e.detail.replayed])).toEqual([
      [EVENT_SOURCE, 'review/deploy', 'pending', false], [EVENT_SOURCE, 'review/tests', 'pending', false],
    ]);
    expect(changes()).toEqual(['queued', 'deploying']);
    expect(published().find(e => e.detailType === REVIEW_DETAIL_TYPES.CHANGED)!.detail).not.toHaveProperty('requestedSource');
    // and a comment on the pull request, on the comparison of the destination's tip and the commit
    expect(codeCommit.commandCalls(PostCommentForPullRequestCommand).map(c => c.args[0].input)).toEqual([{
      repositoryName: 'myapp', pullRequestId: '12', beforeCommitId: MAIN, afterCommitId: C1, content: expect.stringContaining('⏳ **review/deploy**: deploying 1111111'), clientRequestToken: expect.stringMatching(/^[0-9a-f]{32}$/),
    }]);

    // WHEN two more commits are pushed while the build runs
    await handler(pullRequestEvent('pullRequestSourceBranchUpdated', { sourceCommit: C2 }), CONTEXT);
    await handler(pullRequestEvent('pullRequestSourceBranchUpdated', { sourceCommit: C3 }), CONTEXT);
    // THEN no second build runs
    expect(startBuilds()).toHaveLength(1);
    expect(await reviews.get('myapp', 'pr12')).toMatchObject({ state: 'deploying', requestedCommit: C3 });

    // WHEN the first build succeeds (its stacks are in the review environment)
    environment = [reviewStack('pr12', 'Db', 0), reviewStack('pr12', 'Api', 1, { ReviewUrl: 'https://pr12.review.example.com' }), reviewStack('pr13', 'Api', 0)];
    await handler(withBuildId(buildEvent('SUCCEEDED', [['BUILD', 'SUCCEEDED'], ['POST_BUILD', 'SUCCEEDED']], { DDK_REVIEW_ID: 'pr12', DDK_REVIEW_COMMIT: C1 }), `myapp-review:build-${first}`), CONTEXT);
    // THEN C1 is reported deployed at the review URL, and C3 (not C2) is built next
    expect((await checks.latestChecks('myapp', C1)).map(c => [c.context, c.state, c.targetUrl])).toEqual([
      ['review/deploy', 'success', 'https://pr12.review.example.com'],
      ['review/tests', 'success', expect.stringContaining('logEvent')],
    ]);
    expect(startBuilds().map(b => b.sourceVersion)).toEqual([C1, C3]);
    const second = builds;
    expect(await reviews.get('myapp', 'pr12')).toMatchObject({
      state: 'deploying', deployedCommit: C1, requestedCommit: C3, url: 'https://pr12.review.example.com', stacks: ['myapp-review-pr12-Api', 'myapp-review-pr12-Db'], build: { commit: C3 },
    });

    // WHEN C3's build succeeds
    await handler(withBuildId(buildEvent('SUCCEEDED', [['BUILD', 'SUCCEEDED'], ['POST_BUILD', 'SUCCEEDED']], { DDK_REVIEW_ID: 'pr12', DDK_REVIEW_COMMIT: C3 }), `myapp-review:build-${second}`), CONTEXT);
    expect(await reviews.get('myapp', 'pr12')).toMatchObject({ state: 'deployed', deployedCommit: C3 });
    expect(startBuilds()).toHaveLength(2);

    // WHEN the pull request is merged
    await handler(pullRequestEvent('pullRequestMergeStatusUpdated', { pullRequestStatus: 'Closed', isMerged: 'True', sourceCommit: C3 }), CONTEXT);
    // THEN only pr12's highest-order stack is deleted first
    expect(deleted()).toEqual(['myapp-review-pr12-Api']);
    expect(await reviews.get('myapp', 'pr12')).toMatchObject({ state: 'destroying', closeReason: 'merged' });

    // WHEN the sweep runs while Api is still being deleted, then after it is gone, then after Db is gone
    const sweep = { 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'time': '2030-01-01T00:15:00Z', 'detail': {} };
    const pr12 = () => deleted().filter(n => n.startsWith('myapp-review-pr12-'));
    await handler(sweep, CONTEXT);
    expect(pr12()).toEqual(['myapp-review-pr12-Api']);
    // (pr13's stack has no record: the sweep removes it as an orphan)
    expect(deleted()).toContain('myapp-review-pr13-Api');
    expect(await reviews.get('myapp', 'pr13')).toMatchObject({ state: 'destroying', message: expect.stringContaining('with no record') });
    settle();
    await handler(sweep, CONTEXT);
    expect(pr12()).toEqual(['myapp-review-pr12-Api', 'myapp-review-pr12-Db']);
    settle();
    await handler(sweep, CONTEXT);
    // THEN the review is destroyed
    expect(await reviews.get('myapp', 'pr12')).toMatchObject({ state: 'destroyed', stacks: [], message: 'removed (merged)' });
    expect(await reviews.get('myapp', 'pr13')).toMatchObject({ state: 'destroyed' });
    expect(published().some(e => e.detailType === REVIEW_DETAIL_TYPES.CHANGED && e.detail.reviewId === 'pr12' && e.detail.state === 'destroyed')).toBe(true);
  });

  test('a failed deployment: review/deploy failure with the logs, review/tests not run; the comment says why', async () => {
    await handler(pullRequestEvent('pullRequestCreated', { pullRequestId: '20' }), CONTEXT);
    const id = (await reviews.get('myapp', 'pr20'))!.build!.id;
    await handler(withBuildId(buildEvent('FAILED', [['BUILD', 'FAILED', ['COMMAND_EXECUTION_ERROR: Error while executing command: npx cdk deploy. Reason: exit status 1']], ['POST_BUILD', 'SUCCEEDED']], { DDK_REVIEW_ID: 'pr20', DDK_REVIEW_COMMIT: C1 }), id), CONTEXT);
    expect(await reviews.get('myapp', 'pr20')).toMatchObject({ state: 'failed', message: expect.stringContaining('BUILD FAILED (COMMAND_EXECUTION_ERROR') });
    // pr12 reported on C1 too (the same commit): the latest per context is this review's
    const latest = await checks.latestChecks('myapp', C1);
    expect(latest.map(c => [c.context, c.state])).toEqual([['review/deploy', 'failure'], ['review/tests', 'failure']]);
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(0);
    const comments = codeCommit.commandCalls(PostCommentForPullRequestCommand).map(c => c.args[0].input.content);
    expect(comments[1]).toMatch(/^❌ \*\*review\/deploy\*\*: deployment of 1111111 failed: BUILD FAILED/);
  });

  test('updates arriving together: one build, the record consistent (optimistic locking)', async () => {
    await handler(pullRequestEvent('pullRequestCreated', { pullRequestId: '30' }), CONTEXT);
    const id = (await reviews.get('myapp', 'pr30'))!.build!.id;
    await handler(withBuildId(buildEvent('SUCCEEDED', [['BUILD', 'SUCCEEDED']], { DDK_REVIEW_ID: 'pr30', DDK_REVIEW_COMMIT: C1 }), id), CONTEXT);
    codeBuild.resetHistory();
    // WHEN two pushes are handled at the same time
    await Promise.all([C2, C3].map(c => handler(pullRequestEvent('pullRequestSourceBranchUpdated', { pullRequestId: '30', sourceCommit: c }), CONTEXT)));
    // THEN exactly one build started, for the commit whose write won; the other is queued behind it or was the winner's
    const started = startBuilds();
    expect(started).toHaveLength(1);
    const record = (await reviews.get('myapp', 'pr30'))!;
    expect(record.build!.commit).toBe(started[0].sourceVersion);
    expect([C2, C3]).toContain(record.requestedCommit);
  });

  test('a destroy request (POST /reviews/destroy\'s event) removes the deployment and says who', async () => {
    await handler(pullRequestEvent('pullRequestCreated', { pullRequestId: '40' }), CONTEXT);
    const id = (await reviews.get('myapp', 'pr40'))!.build!.id;
    environment = [reviewStack('pr40', 'Api', 0)];
    await handler(withBuildId(buildEvent('SUCCEEDED', [['BUILD', 'SUCCEEDED']], { DDK_REVIEW_ID: 'pr40', DDK_REVIEW_COMMIT: C1 }), id), CONTEXT);
    await handler({ 'source': EVENT_SOURCE, 'detail-type': REVIEW_DETAIL_TYPES.DESTROY_REQUESTED, 'detail': { pipeline: 'myapp', reviewId: 'pr40', reason: 'saving costs', by: 'arn:aws:iam::111111111111:user/alice' } }, CONTEXT);
    expect(deleted()).toEqual(['myapp-review-pr40-Api']);
    expect(await reviews.get('myapp', 'pr40')).toMatchObject({ state: 'destroying', closeReason: 'by-hand', closedBy: 'arn:aws:iam::111111111111:user/alice' });
  });

  test('a build event without the build\'s variables is matched to the review running that build; an unknown build changes nothing', async () => {
    await handler(pullRequestEvent('pullRequestCreated', { pullRequestId: '60' }), CONTEXT);
    const id = (await reviews.get('myapp', 'pr60'))!.build!.id;
    await handler(withBuildId(buildEvent('SUCCEEDED', [['BUILD', 'SUCCEEDED']], {}), id), CONTEXT);
    expect(await reviews.get('myapp', 'pr60')).toMatchObject({ state: 'deployed', deployedCommit: C1 });
    const unknown = await handler(withBuildId(buildEvent('SUCCEEDED', [['BUILD', 'SUCCEEDED']], {}), 'myapp-review:by-hand'), CONTEXT);
    expect(unknown).toEqual({ input: 'invalid', summaries: [expect.stringMatching(/^build myapp-review:by-hand: .* has no DDK_REVIEW_ID, and no review's running build has this id/)] });
  });

  test('events that are not for this controller change nothing', async () => {
    const outcome = await handler(pullRequestEvent('pullRequestCreated', { pullRequestId: '50', destinationReference: 'refs/heads/develop' }), CONTEXT);
    expect(outcome.input).toBe('ignored');
    expect(await reviews.get('myapp', 'pr50')).toBeUndefined();
    expect(startBuilds()).toEqual([]);
    expect(published()).toEqual([]);
  });
});

/** The event with the build id CodeBuild gave the build (StartBuild's `project:uuid`, as an ARN). */
function withBuildId<T extends { detail: Record<string, unknown>; resources: string[] }>(event: T, buildId: string): T {
  const arn = `arn:aws:codebuild:eu-west-1:111111111111:build/${buildId}`;
  return { ...event, resources: [arn], detail: { ...event.detail, 'build-id': arn } };
}

describe('review pipeline jobs (a connection source)', () => {
  /** The controller's dependencies as the handler builds them, for a connection source. */
  function dependencies(settings: ReviewSettings = CONNECTION_SETTINGS): ControllerDependencies {
    const region = 'eu-west-1';
    const client = { region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
    return {
      settings,
      reviews,
      checks,
      events: new EventBridgePublisher(new EventBridgeClient(client), 'default'),
      builds: new CodeBuildStarter(new CodeBuildClient(client), region, settings.source.repository),
      stacks: new DeployRoleStacks(settings, new CloudFormationClient(client)),
      comments: new CodeCommitPullRequestCommenter(new CodeCommitClient(client)),
      jobs: new CodePipelineJobResults(new CodePipelineClient(client)),
      reporter: FUNCTION_ARN,
      region,
      now: () => new Date(),
      logger: silent,
    };
  }
  const params = { operation: 'request', branch: 'feature/pay', commit: C1, repository: 'acme/myapp' };
  const reviewId = reviewIdForBranch('feature/pay');
  const success = () => codePipeline.commandCalls(PutJobSuccessResultCommand).map(c => c.args[0].input);
  const failure = () => codePipeline.commandCalls(PutJobFailureResultCommand).map(c => c.args[0].input);

  test('Request: builds the source artifact from S3 and answers the job with what it did; Close removes it', async () => {
    await runController(jobEvent(params, 'job-req'), dependencies());
    expect(startBuilds()).toEqual([expect.objectContaining({
      projectName: 'myapp-review',
      sourceTypeOverride: 'S3',
      sourceLocationOverride: 'myapp-artifacts/myapp-review/Source/Ab12Cd3',
      environmentVariablesOverride: [
        { name: 'DDK_REVIEW_ID', value: reviewId, type: 'PLAINTEXT' },
        { name: 'DDK_REVIEW_COMMIT', value: C1, type: 'PLAINTEXT' },
        { name: 'DDK_REVIEW_BRANCH', value: 'feature/pay', type: 'PLAINTEXT' },
      ],
    })]);
    expect(startBuilds()[0]).not.toHaveProperty('sourceVersion');
    expect(success()).toEqual([{ jobId: 'job-req', executionDetails: { summary: expect.stringContaining(`review ${reviewId}: deploying 1111111 of feature/pay | review ${reviewId}: build myapp-review:build-`), percentComplete: 100 } }]);
    expect(codeCommit.commandCalls(PostCommentForPullRequestCommand)).toHaveLength(0);

    await runController(jobEvent({ ...params, operation: 'close' }, 'job-close'), dependencies());
    expect(success().map(s => s.jobId)).toEqual(['job-req', 'job-close']);
    expect(await reviews.get('myapp', reviewId)).toMatchObject({ state: 'destroying', closeReason: 'closed' });
  });

  test('a pull request from a fork is refused: the job fails with the reason, review/deploy failure, no build', async () => {
    const fork = { ...params, branch: 'evil', commit: commit('f'), repository: 'mallory/myapp' };
    await runController(jobEvent(fork, 'job-fork'), dependencies());
    expect(startBuilds()).toEqual([]);
    expect(failure()).toEqual([{ jobId: 'job-fork', failureDetails: { type: 'JobFailed', message: expect.stringMatching(/^pull request from "mallory\/myapp", not "acme\/myapp": pull requests from forks do not deploy/) } }]);
    expect(await reviews.get('myapp', reviewIdForBranch('evil'))).toMatchObject({ state: 'refused' });
    expect((await checks.latestChecks('myapp', commit('f'))).map(c => [c.context, c.state])).toEqual([['review/deploy', 'failure']]);
  });

  test('an execution on a review branch is answered with success and no deployment', async () => {
    await runController(jobEvent({ ...params, branch: 'main' }, 'job-main'), dependencies());
    expect(startBuilds()).toEqual([]);
    expect(success()).toEqual([{ jobId: 'job-main', executionDetails: { summary: expect.stringMatching(/^branch "main" is one of the review branches/), percentComplete: 100 } }]);
  });

  test('a build that cannot start fails the job, and the review says why', async () => {
    codeBuild.on(StartBuildCommand).rejects(Object.assign(new Error('Project cannot be found: arn:aws:codebuild:eu-west-1:111111111111:project/myapp-review'), { name: 'ResourceNotFoundException' }));
    await runController(jobEvent({ ...params, branch: 'feature/broken' }, 'job-broken'), dependencies());
    expect(failure()).toEqual([{ jobId: 'job-broken', failureDetails: { type: 'JobFailed', message: expect.stringContaining('could not be started: CodeBuild StartBuild of project "myapp-review" failed (ResourceNotFoundException: Project cannot be found') } }]);
    expect(await reviews.get('myapp', reviewIdForBranch('feature/broken'))).toMatchObject({ state: 'failed' });
  });

  test('malformed parameters, or an unreadable store: the job is still answered, with a failure', async () => {
    await runController(jobEvent({ operation: 'request' }, 'job-bad'), dependencies());
    expect(failure()[0]).toMatchObject({ jobId: 'job-bad', failureDetails: { message: expect.stringMatching(/^The review action is misconfigured: UserParameters\.branch/) } });
    const broken = { ...dependencies(), reviews: new ReviewStore(DynamoDBDocumentClient.from(local.client), 'no-such-table') };
    await runController(jobEvent({ ...params, branch: 'feature/store' }, 'job-store'), broken);
    expect(failure()[1]).toMatchObject({ jobId: 'job-store', failureDetails: { message: expect.stringMatching(/^The review controller could not handle the job: the status-check table "no-such-table" could not be read/) } });
  });
});

test('a misconfigured controller still answers a job (a job left unanswered holds the pipeline)', async () => {
  const saved = process.env[REVIEW_SETTINGS_ENV];
  delete process.env[REVIEW_SETTINGS_ENV];
  let answers: unknown[] = [];
  try {
    // a fresh handler (its dependencies are made once per container), with its own SDK module
    await jest.isolateModulesAsync(async () => {
      /* eslint-disable @typescript-eslint/no-require-imports */
      const sdk = require('@aws-sdk/client-codepipeline') as typeof import('@aws-sdk/client-codepipeline');
      const fresh = (require('../../lambda/review-controller') as typeof ControllerHandler).handler;
      /* eslint-enable @typescript-eslint/no-require-imports */
      const pipeline = mockClient(sdk.CodePipelineClient);
      pipeline.on(sdk.PutJobFailureResultCommand).resolves({});
      await fresh(jobEvent({ operation: 'request', branch: 'x', commit: C1, repository: 'acme/myapp' }, 'job-misconfigured'), CONTEXT);
      await expect(fresh(pullRequestEvent('pullRequestCreated'), CONTEXT)).rejects.toThrow(`environment variable ${REVIEW_SETTINGS_ENV} is not set`);
      answers = pipeline.commandCalls(sdk.PutJobFailureResultCommand).map(c => c.args[0].input);
      pipeline.restore();
    });
  } finally {
    process.env[REVIEW_SETTINGS_ENV] = saved;
  }
  expect(answers).toEqual([{
    jobId: 'job-misconfigured',
    failureDetails: { type: 'JobFailed', message: expect.stringMatching(/^The review controller is misconfigured: environment variable DDK_REVIEW_SETTINGS is not set/), externalExecutionId: 'req-1' },
  }]);
});
