import type { ReviewSettings } from '../../lib/reviews/shared';
import { REVIEW_TAGS } from '../../lib/reviews/shared';
import type { StackDescription } from '../../lib/reviews/stacks';

/*
 * Shared fixtures of the review controller's tests: the settings the construct writes for the
 * example pipeline (CodeCommit source, review environment "dev"), commits and stacks.
 */

/** The review settings of pipeline "myapp" with a CodeCommit source. */
export const SETTINGS: ReviewSettings = {
  pipeline: 'myapp',
  file: 'ddk.json',
  environment: { id: 'dev', account: '222222222222', region: 'eu-west-1', qualifier: 'hnb659fds' },
  branches: ['main'],
  ttlHours: 72,
  allowForks: false,
  tests: true,
  source: { kind: 'codecommit', repository: 'myapp' },
  buildProject: 'myapp-review',
};

/** The same pipeline with a connection (GitHub) source. */
export const CONNECTION_SETTINGS: ReviewSettings = {
  ...SETTINGS,
  source: { kind: 'connection', repository: 'acme/myapp' },
  tests: false,
};

/** A 40-hex commit id made of one character. */
export const commit = (c: string) => c.repeat(40).slice(0, 40);

export const C1 = commit('1');
export const C2 = commit('2');
export const C3 = commit('3');
/** The destination branch's tip. */
export const MAIN = commit('a');

/** A review stack of `reviewId` as DescribeStacks describes it. */
export function stack(reviewId: string, id: string, order: number, extra: Partial<StackDescription> = {}): StackDescription {
  return {
    name: `myapp-review-${reviewId}-${id}`,
    status: 'CREATE_COMPLETE',
    tags: { [REVIEW_TAGS.PIPELINE]: 'myapp', [REVIEW_TAGS.REVIEW]: reviewId, [REVIEW_TAGS.COMMIT]: C1, [REVIEW_TAGS.ORDER]: String(order) },
    outputs: {},
    ...extra,
  };
}

/** A "CodeCommit Pull Request State Change" event shaped as the CodeCommit user guide's examples. */
export function pullRequestEvent(event: string, extra: Record<string, unknown> = {}) {
  return {
    'version': '0',
    'id': '98377d67-EXAMPLE',
    'detail-type': 'CodeCommit Pull Request State Change',
    'source': 'aws.codecommit',
    'account': '111111111111',
    'time': '2030-01-01T07:15:16Z',
    'region': 'eu-west-1',
    'resources': ['arn:aws:codecommit:eu-west-1:111111111111:myapp'],
    'detail': {
      author: 'arn:aws:sts::111111111111:assumed-role/Admin/Mary_Major',
      callerUserArn: 'arn:aws:sts::111111111111:assumed-role/Admin/Mary_Major',
      creationDate: 'Tue Feb 9 2030 10:18:42 PDT',
      description: 'An example description.',
      destinationCommit: MAIN,
      destinationReference: 'refs/heads/main',
      event,
      isMerged: 'False',
      lastModifiedDate: 'Tue Feb 9 2030 10:18:42 PDT',
      notificationBody: 'A pull request event occurred in the following AWS CodeCommit repository: myapp.',
      pullRequestId: '12',
      pullRequestStatus: 'Open',
      repositoryNames: ['myapp'],
      revisionId: 'bdc0cb9bEXAMPLE',
      sourceCommit: C1,
      sourceReference: 'refs/heads/feature/login',
      title: 'Login page',
      ...extra,
    },
  };
}

/** A "CodeBuild Build State Change" event shaped as the CodeBuild user guide's reference. */
export function buildEvent(status: string, phases: Array<[string, string, string[]?]>, variables: Record<string, string> = { DDK_REVIEW_ID: 'pr12', DDK_REVIEW_COMMIT: C1 }, project = 'myapp-review') {
  const id = `arn:aws:codebuild:eu-west-1:111111111111:build/${project}:8745a7a9-c340-456a-9166-edf953571bEX`;
  return {
    'version': '0',
    'id': 'c030038d-8c4d-6141-9545-00ff7b7153EX',
    'detail-type': 'CodeBuild Build State Change',
    'source': 'aws.codebuild',
    'account': '111111111111',
    'time': '2030-01-01T16:14:28Z',
    'region': 'eu-west-1',
    'resources': [id],
    'detail': {
      'build-status': status,
      'project-name': project,
      'build-id': id,
      'additional-information': {
        'environment': {
          'image': 'aws/codebuild/standard:7.0',
          'privileged-mode': false,
          'compute-type': 'BUILD_GENERAL1_SMALL',
          'type': 'LINUX_CONTAINER',
          'environment-variables': Object.entries(variables).map(([name, value]) => ({ name, type: 'PLAINTEXT', value })),
        },
        'timeout-in-minutes': 60,
        'build-complete': true,
        'initiator': 'myapp-review-controller',
        'build-start-time': 'Jan 1, 2030 4:12:29 PM',
        'source': { location: 'https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/myapp', type: 'CODECOMMIT' },
        'logs': {
          'group-name': '/aws/codebuild/myapp-review',
          'stream-name': '8745a7a9-c340-456a-9166-edf953571bEX',
          'deep-link': 'https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=/aws/codebuild/myapp-review;stream=8745a7a9-c340-456a-9166-edf953571bEX',
        },
        'phases': [
          ...phases.map(([type, phaseStatus, context]) => ({
            'phase-context': context ?? [],
            'start-time': 'Jan 1, 2030 4:12:29 PM',
            'end-time': 'Jan 1, 2030 4:12:29 PM',
            'duration-in-seconds': 0,
            'phase-type': type,
            'phase-status': phaseStatus,
          })),
          { 'start-time': 'Jan 1, 2030 4:14:21 PM', 'phase-type': 'COMPLETED' },
        ],
      },
      'current-phase': 'COMPLETED',
      'current-phase-context': '[]',
      'version': '1',
    },
  };
}

/** A CodePipeline Lambda invoke job (the CodePipeline user guide's example JSON event). */
export function jobEvent(params: Record<string, unknown> | string, jobId = 'job-1', artifact = true) {
  return {
    'CodePipeline.job': {
      id: jobId,
      accountId: '111111111111',
      data: {
        actionConfiguration: { configuration: { FunctionName: 'myapp-review-controller', UserParameters: typeof params === 'string' ? params : JSON.stringify(params) } },
        inputArtifacts: artifact ? [{
          name: 'Source',
          revision: C1,
          location: { type: 'S3', s3Location: { bucketName: 'myapp-artifacts', objectKey: 'myapp-review/Source/Ab12Cd3' } },
        }] : [],
        outputArtifacts: [],
        artifactCredentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'x', sessionToken: 'x' },
      },
    },
  };
}
