import type { ExecutionDescription, PipelineDeclaration } from '../../lib/releases/progress';
import { readLayout } from '../../lib/releases/progress';
import type { ReleaseSettings } from '../../lib/releases/shared';
import { RELEASE_BY_VARIABLE, RELEASE_ID_VARIABLE, serviceSourceArtifactName } from '../../lib/releases/shared';
import type { PipelineLayout } from '../../lib/releases/store';

/*
 * Shared fixtures of the release function's tests: the foo story (services foobar-frontend and
 * foobar-backend, dev per service, hardening as the first bracket stage with a performance
 * test, production after), its release pipeline's layout, and CodePipeline's events and
 * GetPipelineExecution answers shaped as AWS documents them (the CodePipeline user guide's
 * "Monitoring CodePipeline events" examples; the API reference's GetPipelineExecution).
 */

/** The release settings the construct writes for pipeline "foo". */
export const SETTINGS: ReleaseSettings = {
  pipeline: 'foo',
  releasePipeline: 'foo-release',
  services: ['foobar-frontend', 'foobar-backend'],
  bracketStages: ['hardening', 'production'],
};

/** A 40-hex commit id made of one character. */
export const commit = (c: string) => c.repeat(40).slice(0, 40);
export const FRONTEND = commit('f');
export const BACKEND = commit('b');

export const EXECUTION = '12345678-1234-5678-abcd-12345678abcd';
export const RELEASE_ID = 'r-20301129-143000-1a2b';
export const ALICE = 'arn:aws:sts::111111111111:assumed-role/release-managers/alice';

/** GetPipeline's answer for foo-release (version 3). */
export const DECLARATION: PipelineDeclaration = {
  version: 3,
  stages: [
    { name: 'Source', actions: [{ name: 'Source-foobar-frontend' }, { name: 'Source-foobar-backend' }] },
    { name: 'Build', actions: [{ name: 'Build-foobar-frontend' }, { name: 'Build-foobar-backend' }] },
    { name: 'hardening', actions: [{ name: 'Gate' }, { name: 'Deploy-foobar-frontend-hardening' }, { name: 'Deploy-foobar-backend-hardening' }, { name: 'Tests' }] },
    { name: 'production', actions: [{ name: 'Approve' }, { name: 'Deploy-foobar-frontend-prod' }, { name: 'Deploy-foobar-backend-prod' }] },
  ],
};
export const LAYOUT: PipelineLayout = readLayout(DECLARATION);

/** GetPipelineExecution's `pipelineExecution` for a release started by `release start`. */
export function description(status = 'InProgress', extra: Partial<ExecutionDescription> = {}, revisions: Record<string, string> = { 'foobar-frontend': FRONTEND, 'foobar-backend': BACKEND }): ExecutionDescription {
  return {
    pipelineName: 'foo-release',
    pipelineVersion: 3,
    pipelineExecutionId: EXECUTION,
    status,
    artifactRevisions: Object.entries(revisions).map(([service, revisionId]) => ({
      name: serviceSourceArtifactName(service),
      revisionId,
      revisionSummary: `release candidate of ${service}`,
      created: new Date('2030-11-29T14:29:00Z'),
    })),
    variables: [
      { name: RELEASE_ID_VARIABLE, resolvedValue: RELEASE_ID },
      { name: RELEASE_BY_VARIABLE, resolvedValue: ALICE },
    ],
    trigger: { triggerType: 'StartPipelineExecution', triggerDetail: ALICE },
    executionMode: 'QUEUED',
    executionType: 'STANDARD',
    ...extra,
  } as ExecutionDescription;
}

let seconds = 0;
/** Event times one second apart, in the order the events are built. */
export function tick(): string {
  seconds += 1;
  return new Date(Date.UTC(2030, 10, 29, 14, 30, seconds)).toISOString().replace('.000Z', 'Z');
}

function envelope(detailType: string, detail: Record<string, unknown>, time: string) {
  return {
    'version': '0',
    'id': '01234567-EXAMPLE',
    'detail-type': detailType,
    'source': 'aws.codepipeline',
    'account': '111111111111',
    time,
    'region': 'eu-west-1',
    'resources': ['arn:aws:codepipeline:eu-west-1:111111111111:foo-release'],
    detail,
  };
}

/** A "CodePipeline Pipeline Execution State Change" event. */
export function pipelineEvent(state: string, time = tick(), extra: Record<string, unknown> = {}) {
  return envelope('CodePipeline Pipeline Execution State Change', {
    'pipeline': 'foo-release',
    'execution-id': EXECUTION,
    'start-time': '2030-11-29T14:30:00.208Z',
    ...(state === 'STARTED' ? { 'execution-trigger': { 'trigger-type': 'StartPipelineExecution', 'trigger-detail': ALICE } } : {}),
    state,
    'version': 3.0,
    'pipeline-execution-attempt': 1.0,
    ...extra,
  }, time);
}

/** A "CodePipeline Stage Execution State Change" event. */
export function stageEvent(stage: string, state: string, time = tick(), extra: Record<string, unknown> = {}) {
  return envelope('CodePipeline Stage Execution State Change', {
    'pipeline': 'foo-release',
    'version': 3.0,
    'execution-id': EXECUTION,
    'start-time': '2030-11-29T14:30:00.208Z',
    stage,
    state,
    'pipeline-execution-attempt': 1.0,
    ...extra,
  }, time);
}

/** A "CodePipeline Action Execution State Change" event. */
export function actionEvent(stage: string, action: string, state: string, time = tick(), extra: Record<string, unknown> = {}) {
  const category = action.startsWith('Deploy-') || action === 'Tests' ? 'Build' : 'Invoke';
  return envelope('CodePipeline Action Execution State Change', {
    'pipeline': 'foo-release',
    'execution-id': EXECUTION,
    'start-time': time,
    stage,
    'action-execution-id': '47f821c5-a902-44b2-ae61-b878d31ecd21',
    action,
    state,
    'region': 'eu-west-1',
    'type': { owner: 'AWS', provider: 'CodeBuild', category, version: '1' },
    'version': 3.0,
    'pipeline-execution-attempt': 1.0,
    ...(state === 'SUCCEEDED' || state === 'FAILED' ? { 'execution-result': { 'external-execution-summary': `${action} ${state.toLowerCase()}`, 'external-execution-id': 'build-1' } } : {}),
    ...extra,
  }, time);
}

/** The release pipeline's events of one release, from start to a succeeded production, in order. */
export function releaseRun() {
  return [
    pipelineEvent('STARTED'),
    stageEvent('Source', 'STARTED'),
    stageEvent('Source', 'SUCCEEDED'),
    stageEvent('Build', 'STARTED'),
    stageEvent('Build', 'SUCCEEDED'),
    stageEvent('hardening', 'STARTED'),
    actionEvent('hardening', 'Deploy-foobar-frontend-hardening', 'STARTED'),
    actionEvent('hardening', 'Deploy-foobar-backend-hardening', 'STARTED'),
    actionEvent('hardening', 'Deploy-foobar-frontend-hardening', 'SUCCEEDED'),
    actionEvent('hardening', 'Deploy-foobar-backend-hardening', 'SUCCEEDED'),
    actionEvent('hardening', 'Tests', 'STARTED'),
    actionEvent('hardening', 'Tests', 'SUCCEEDED'),
    stageEvent('hardening', 'SUCCEEDED'),
    stageEvent('production', 'STARTED'),
    actionEvent('production', 'Deploy-foobar-frontend-prod', 'STARTED'),
    actionEvent('production', 'Deploy-foobar-backend-prod', 'STARTED'),
    actionEvent('production', 'Deploy-foobar-frontend-prod', 'SUCCEEDED'),
    actionEvent('production', 'Deploy-foobar-backend-prod', 'SUCCEEDED'),
    stageEvent('production', 'SUCCEEDED'),
    pipelineEvent('SUCCEEDED'),
  ];
}

/** A Candidate job of a service pipeline, as CodePipeline invokes a Lambda invoke action. */
export function candidateJob(params: Record<string, unknown> | string, jobId = 'job-1') {
  return {
    'CodePipeline.job': {
      id: jobId,
      accountId: '111111111111',
      data: {
        actionConfiguration: { configuration: { FunctionName: 'foo-release-events', UserParameters: typeof params === 'string' ? params : JSON.stringify(params) } },
        inputArtifacts: [],
        outputArtifacts: [],
        artifactCredentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'x', sessionToken: 'x' },
      },
    },
  };
}

/** The connection of foobar-backend in `fooDocument()`. */
export const FOO_CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

/** Project foo's ddk.json: two services in their own repositories, dev per service, hardening as a bracket, production after. */
export function fooDocument(): any {
  return {
    environments: {
      cicd: { account: '111111111111', region: 'eu-west-1' },
      dev: { account: '222222222222', region: 'eu-west-1' },
      hardening: { account: '333333333333', region: 'eu-west-1' },
      production: { account: '444444444444', region: 'eu-west-1' },
    },
    pipeline: {
      name: 'foo',
      strategy: 'codepipeline-trunk',
      services: {
        'foobar-frontend': { source: { codecommit: { repository: 'foobar-frontend' } } },
        'foobar-backend': { source: { connection: { arn: FOO_CONNECTION_ARN, repository: 'acme/foobar-backend', branch: 'trunk' } }, synth: { commands: ['npm ci', 'npx cdk synth'] } },
      },
      stages: [
        { name: 'dev', environments: ['dev'] },
        { name: 'hardening', environments: ['hardening'], bracket: true, tests: ['npm run perf'], requiredChecks: ['perf/e2e'] },
        { name: 'production', environments: ['production'] },
      ],
    },
  };
}
