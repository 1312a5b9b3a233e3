import { buildEvent, C1, CONNECTION_SETTINGS, jobEvent, MAIN, pullRequestEvent, SETTINGS } from './controller-fixtures';
import { buildOutcome, parseControllerInput, reviewSettings } from '../../lib/reviews/events';
import { REVIEW_DETAIL_TYPES, REVIEW_SETTINGS_ENV, reviewIdForBranch } from '../../lib/reviews/shared';

/*
 * What reaches the review controller, parsed. The events follow AWS's documented examples:
 * the CodeCommit user guide ("Monitoring CodeCommit events in Amazon EventBridge":
 * pullRequestCreated, pullRequestSourceBranchUpdated, pullRequestStatusChanged,
 * pullRequestMergeStatusUpdated), the CodeBuild user guide ("Build notifications input format
 * reference") and the CodePipeline user guide ("AWS Lambda invoke action reference", example
 * JSON event).
 */

const OK = (type: string): [string, string] => [type, 'SUCCEEDED'];
const BEFORE_BUILD = ['SUBMITTED', 'QUEUED', 'PROVISIONING', 'DOWNLOAD_SOURCE', 'INSTALL', 'PRE_BUILD'].map(OK);

describe('CodeCommit pull-request events', () => {
  test('pullRequestCreated: a request for the source commit, with what a comment needs', () => {
    expect(parseControllerInput(pullRequestEvent('pullRequestCreated'), SETTINGS)).toEqual({
      kind: 'review',
      source: 'CodeCommit pullRequestCreated (pull request 12)',
      input: {
        kind: 'request',
        reviewId: 'pr12',
        commit: C1,
        sourceBranch: 'feature/login',
        destinationBranch: 'main',
        pullRequest: '12',
        title: 'Login page',
        author: 'arn:aws:sts::111111111111:assumed-role/Admin/Mary_Major',
        destinationCommit: MAIN,
        source: { type: 'codecommit', commit: C1 },
        via: 'pull-request-event',
      },
    });
  });

  test('pullRequestSourceBranchUpdated: a request; pullRequestStatusChanged to Open: a reopen', () => {
    expect(parseControllerInput(pullRequestEvent('pullRequestSourceBranchUpdated'), SETTINGS)).toMatchObject({ kind: 'review', input: { kind: 'request', commit: C1 } });
    const reopened = parseControllerInput(pullRequestEvent('pullRequestStatusChanged'), SETTINGS);
    expect(reopened).toMatchObject({ kind: 'review', input: { kind: 'request', reopened: true } });
  });

  test('closed, merged: closes (isMerged is the string "True"/"False")', () => {
    expect(parseControllerInput(pullRequestEvent('pullRequestStatusChanged', { pullRequestStatus: 'Closed' }), SETTINGS))
      .toMatchObject({ kind: 'review', input: { kind: 'close', reviewId: 'pr12', reason: 'closed' } });
    expect(parseControllerInput(pullRequestEvent('pullRequestMergeStatusUpdated', { pullRequestStatus: 'Closed', isMerged: 'True', mergeOption: 'FAST_FORWARD_MERGE' }), SETTINGS))
      .toMatchObject({ kind: 'review', input: { kind: 'close', reason: 'merged' } });
    expect(parseControllerInput(pullRequestEvent('pullRequestStatusChanged', { pullRequestStatus: 'Closed', isMerged: 'True' }), SETTINGS))
      .toMatchObject({ kind: 'review', input: { kind: 'close', reason: 'merged' } });
    expect(parseControllerInput(pullRequestEvent('pullRequestMergeStatusUpdated', { isMerged: 'False' }), SETTINGS)).toMatchObject({ kind: 'ignored' });
  });

  test('the merge event in the spelling of CodeCommit\'s documentation ("PullRequest") is read too', () => {
    const merged = { ...pullRequestEvent('pullRequestMergeStatusUpdated', { pullRequestStatus: 'Closed', isMerged: 'True' }), 'detail-type': 'CodeCommit PullRequest State Change' };
    expect(parseControllerInput(merged, SETTINGS)).toMatchObject({ kind: 'review', input: { kind: 'close', reason: 'merged' } });
  });

  test('pull requests into other branches, of other repositories, or other events are ignored, saying why', () => {
    expect(parseControllerInput(pullRequestEvent('pullRequestCreated', { destinationReference: 'refs/heads/develop' }), SETTINGS)).toEqual({
      kind: 'ignored',
      reason: 'pull request into "refs/heads/develop"; review deployments are for pull requests into "main" (ddk.json: pipeline.review.branches)',
    });
    expect(parseControllerInput(pullRequestEvent('pullRequestCreated', { repositoryNames: ['other'] }), SETTINGS)).toMatchObject({ kind: 'ignored' });
    expect(parseControllerInput(pullRequestEvent('commentOnPullRequestCreated'), SETTINGS)).toMatchObject({ kind: 'ignored' });
    expect(parseControllerInput(pullRequestEvent('pullRequestCreated'), CONNECTION_SETTINGS)).toMatchObject({ kind: 'ignored' });
  });

  test('a malformed event is invalid, naming the fields', () => {
    const bad = parseControllerInput(pullRequestEvent('pullRequestCreated', { pullRequestId: 'x', sourceCommit: undefined }), SETTINGS);
    expect(bad.kind).toBe('invalid');
    expect((bad as { error: string }).error).toMatch(/^CodeCommit "pullRequestCreated" event: detail\.pullRequestId: "x" is not CodeCommit's numeric pull request id; expected e\.g\. "12" \| detail\.sourceCommit: .* is not a commit id/);
  });
});

describe('CodeBuild state changes of the review project', () => {
  test('SUCCEEDED: deployed and tested, with the review id and commit from the build\'s variables', () => {
    const e = buildEvent('SUCCEEDED', [...BEFORE_BUILD, OK('BUILD'), OK('POST_BUILD'), OK('UPLOAD_ARTIFACTS'), OK('FINALIZING')]);
    expect(parseControllerInput(e, SETTINGS)).toEqual({
      kind: 'review',
      source: 'CodeBuild myapp-review:8745a7a9-c340-456a-9166-edf953571bEX SUCCEEDED',
      input: {
        kind: 'build-finished',
        reviewId: 'pr12',
        buildId: 'myapp-review:8745a7a9-c340-456a-9166-edf953571bEX',
        commit: C1,
        outcome: { deploy: 'success', tests: 'success' },
        logsUrl: 'https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=/aws/codebuild/myapp-review;stream=8745a7a9-c340-456a-9166-edf953571bEX',
      },
    });
  });

  test('a failed BUILD phase is a failed deployment (POST_BUILD still runs, and succeeds, without the tests)', () => {
    const e = buildEvent('FAILED', [...BEFORE_BUILD, ['BUILD', 'FAILED', ['COMMAND_EXECUTION_ERROR: Error while executing command: npx cdk deploy. Reason: exit status 1']], OK('POST_BUILD'), OK('FINALIZING')]);
    expect(parseControllerInput(e, SETTINGS)).toMatchObject({
      input: { outcome: { deploy: 'failure', tests: 'not-run', detail: 'BUILD FAILED (COMMAND_EXECUTION_ERROR: Error while executing command: npx cdk deploy. Reason: exit status 1)' } },
    });
  });

  test('a failed POST_BUILD after a succeeded BUILD is failed tests; a failure before BUILD is a failed deployment', () => {
    expect(buildOutcome('FAILED', [...BEFORE_BUILD, OK('BUILD'), ['POST_BUILD', 'FAILED', ['COMMAND_EXECUTION_ERROR: npm run e2e']]].map(([t, s, c]) => ({ 'phase-type': t, 'phase-status': s, 'phase-context': c }))))
      .toEqual({ deploy: 'success', tests: 'failure', detail: 'POST_BUILD FAILED (COMMAND_EXECUTION_ERROR: npm run e2e)' });
    expect(buildOutcome('FAILED', [{ 'phase-type': 'INSTALL', 'phase-status': 'FAILED', 'phase-context': [': '] }]))
      .toEqual({ deploy: 'failure', tests: 'not-run', detail: 'INSTALL FAILED' });
    expect(buildOutcome('STOPPED', [{ 'phase-type': 'BUILD', 'phase-status': 'STOPPED' }])).toMatchObject({ deploy: 'failure', detail: 'BUILD STOPPED' });
    expect(buildOutcome('FAILED', [])).toEqual({ deploy: 'failure', tests: 'not-run', detail: 'build FAILED before the BUILD phase ran' });
  });

  test('other projects and builds in progress are ignored; a malformed DDK_REVIEW_ID is invalid', () => {
    expect(parseControllerInput(buildEvent('SUCCEEDED', [], undefined, 'other'), SETTINGS)).toMatchObject({ kind: 'ignored' });
    expect(parseControllerInput(buildEvent('IN_PROGRESS', []), SETTINGS)).toMatchObject({ kind: 'ignored' });
    expect(parseControllerInput(buildEvent('SUCCEEDED', [], { DDK_REVIEW_ID: 'PR 1' }), SETTINGS)).toMatchObject({ kind: 'invalid', error: expect.stringContaining('DDK_REVIEW_ID "PR 1" is not a review id') });
  });

  test('without DDK_REVIEW_ID in the event, the build is left for the controller to find by its id', () => {
    expect(parseControllerInput(buildEvent('SUCCEEDED', [], {}), SETTINGS)).toEqual({
      kind: 'unattributed-build',
      buildId: 'myapp-review:8745a7a9-c340-456a-9166-edf953571bEX',
      source: 'CodeBuild myapp-review:8745a7a9-c340-456a-9166-edf953571bEX SUCCEEDED',
      input: { kind: 'build-finished', buildId: 'myapp-review:8745a7a9-c340-456a-9166-edf953571bEX', outcome: { deploy: 'success', tests: 'success' }, logsUrl: expect.any(String) },
      unknown: 'build myapp-review:8745a7a9-c340-456a-9166-edf953571bEX: additional-information.environment.environment-variables has no DDK_REVIEW_ID, and no review\'s running build has this id; expected a build the review controller started. Fix: start review builds only through the controller (pull requests), not by hand',
    });
  });
});

describe('review pipeline jobs (connection sources)', () => {
  const params = { operation: 'request', branch: 'feature/login', commit: C1, repository: 'acme/myapp' };

  test('Request: the review of the branch, built from the source artifact in S3', () => {
    expect(parseControllerInput(jobEvent(params), CONNECTION_SETTINGS)).toEqual({
      kind: 'job',
      jobId: 'job-1',
      input: {
        kind: 'request',
        reviewId: reviewIdForBranch('feature/login'),
        commit: C1,
        sourceBranch: 'feature/login',
        source: { type: 's3', bucket: 'myapp-artifacts', key: 'myapp-review/Source/Ab12Cd3' },
        via: 'job',
        repository: 'acme/myapp',
      },
    });
  });

  test('Close: closes the branch\'s review', () => {
    expect(parseControllerInput(jobEvent({ ...params, operation: 'close' }), CONNECTION_SETTINGS))
      .toEqual({ kind: 'job', jobId: 'job-1', input: { kind: 'close', reviewId: reviewIdForBranch('feature/login'), reason: 'closed' } });
  });

  test('an execution on a review branch itself (the first run, a manual start) is answered without a deployment', () => {
    const p = parseControllerInput(jobEvent({ ...params, branch: 'main' }), CONNECTION_SETTINGS);
    expect(p).toMatchObject({ kind: 'job', jobId: 'job-1', ignore: expect.stringMatching(/^branch "main" is one of the review branches \(ddk\.json: pipeline\.review\.branches\)/) });
    expect(p).not.toHaveProperty('input');
  });

  test('bad parameters and a missing artifact are invalid jobs (answered with a failure), naming the field', () => {
    const unresolved = parseControllerInput(jobEvent({ ...params, branch: '#{SourceVariables.BranchName}' }), CONNECTION_SETTINGS);
    expect(unresolved).toMatchObject({ kind: 'invalid', jobId: 'job-1' });
    expect((unresolved as { error: string }).error).toContain('UserParameters.branch: "#{SourceVariables.BranchName}" is an unresolved CodePipeline variable');
    const many = parseControllerInput(jobEvent({ operation: 'deploy', extra: 1 }), CONNECTION_SETTINGS) as { error: string };
    expect(many.error).toMatch(/UserParameters\.extra: is not a known field.*UserParameters\.operation: "deploy" is not "request" or "close".*UserParameters\.branch: undefined is missing/);
    expect(parseControllerInput(jobEvent('not json'), CONNECTION_SETTINGS)).toMatchObject({ kind: 'invalid', jobId: 'job-1', error: expect.stringContaining('UserParameters: is not JSON') });
    const noArtifact = parseControllerInput(jobEvent(params, 'job-2', false), CONNECTION_SETTINGS) as { error: string };
    expect(noArtifact.error).toMatch(/^CodePipeline\.job\.data\.inputArtifacts\[0\]\.location\.s3Location: .* Fix: give the Request action the Source output as its input/);
  });

  test('a job for a CodeCommit source builds the commit from the repository', () => {
    expect(parseControllerInput(jobEvent({ ...params, repository: 'myapp' }, 'job-3', false), SETTINGS)).toMatchObject({ kind: 'job', input: { source: { type: 'codecommit', commit: C1 } } });
  });
});

describe('the sweep and destroy requests', () => {
  test('a scheduled event is the sweep', () => {
    expect(parseControllerInput({ 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'time': '2030-01-01T00:15:00Z', 'detail': {} }, SETTINGS)).toEqual({ kind: 'sweep', time: '2030-01-01T00:15:00Z' });
  });

  test('"Review Destroy Requested": a destroy of the review, by the requester', () => {
    const e = { 'source': 'ddk-pipelines.status-checks', 'detail-type': REVIEW_DETAIL_TYPES.DESTROY_REQUESTED, 'detail': { pipeline: 'myapp', reviewId: 'pr12', reason: ' costs ', by: 'arn:aws:iam::1:user/a' } };
    expect(parseControllerInput(e, SETTINGS)).toMatchObject({ kind: 'review', input: { kind: 'destroy', reviewId: 'pr12', by: 'arn:aws:iam::1:user/a', reason: 'costs' } });
    expect(parseControllerInput({ ...e, detail: { ...e.detail, pipeline: 'other' } }, SETTINGS)).toMatchObject({ kind: 'ignored' });
    expect(parseControllerInput({ ...e, detail: { ...e.detail, reviewId: 'PR 12' } }, SETTINGS)).toMatchObject({ kind: 'invalid' });
  });

  test('anything else is invalid, saying what the controller takes', () => {
    expect(parseControllerInput({ 'source': 'aws.s3', 'detail-type': 'Object Created' }, SETTINGS)).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/^event: source "aws\.s3" with detail-type "Object Created" is not an input of the review controller; expected/) });
    expect(parseControllerInput('x', SETTINGS)).toMatchObject({ kind: 'invalid' });
  });
});

describe('settings from the environment', () => {
  test('the construct\'s JSON is read back', () => {
    expect(reviewSettings({ [REVIEW_SETTINGS_ENV]: JSON.stringify(SETTINGS) })).toEqual(SETTINGS);
  });

  test('missing or malformed settings say what is wrong and how to fix it', () => {
    expect(() => reviewSettings({})).toThrow(`environment variable ${REVIEW_SETTINGS_ENV} is not set; expected the JSON review settings. Fix: deploy the controller through the review construct`);
    expect(() => reviewSettings({ [REVIEW_SETTINGS_ENV]: '{' })).toThrow(/is not JSON/);
    expect(() => reviewSettings({ [REVIEW_SETTINGS_ENV]: JSON.stringify({ ...SETTINGS, ttlHours: -1, environment: { id: 'dev' } }) }))
      .toThrow(/environment: .* is not \{"id", "account" \(12 digits\), "region", "qualifier"\}; ttlHours: -1 is not a whole number from 0 to 8760\. Fix/);
  });
});
