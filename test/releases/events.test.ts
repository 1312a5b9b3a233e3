import { actionEvent, BACKEND, candidateJob, EXECUTION, pipelineEvent, SETTINGS, stageEvent } from './fixtures';
import { parseReleaseInput, releaseSettings } from '../../lib/releases/events';
import { RELEASE_SETTINGS_ENV } from '../../lib/releases/shared';

/*
 * What reaches the release function, parsed. The events follow the CodePipeline user guide's
 * "Monitoring CodePipeline events" examples (emitted form); the job follows its "AWS Lambda
 * invoke action reference" example JSON event.
 */

const SERVICE_EXECUTION = 'aaaaaaaa-1111-2222-3333-444444444444';

describe('CodePipeline state changes of the release pipeline', () => {
  test('pipeline level: execution, state, time, attempt, start time and the trigger', () => {
    expect(parseReleaseInput(pipelineEvent('STARTED', '2030-11-29T14:30:01Z'), SETTINGS)).toEqual({
      kind: 'change',
      source: `foo-release ${EXECUTION} STARTED`,
      change: {
        level: 'pipeline',
        execution: EXECUTION,
        state: 'STARTED',
        time: '2030-11-29T14:30:01.000Z',
        attempt: 1,
        startTime: '2030-11-29T14:30:00.208Z',
        trigger: { type: 'StartPipelineExecution', detail: 'arn:aws:sts::111111111111:assumed-role/release-managers/alice' },
      },
    });
  });

  test('stage and action levels: the stage, the action and its summary', () => {
    expect(parseReleaseInput(stageEvent('hardening', 'RESUMED', '2030-11-29T14:31:00Z', { 'pipeline-execution-attempt': 2.0 }), SETTINGS)).toMatchObject({
      kind: 'change', change: { level: 'stage', stage: 'hardening', state: 'RESUMED', attempt: 2 },
    });
    expect(parseReleaseInput(actionEvent('hardening', 'Tests', 'FAILED', '2030-11-29T14:32:00Z'), SETTINGS)).toEqual({
      kind: 'change',
      source: `foo-release ${EXECUTION} action hardening/Tests FAILED`,
      change: { level: 'action', execution: EXECUTION, state: 'FAILED', time: '2030-11-29T14:32:00.000Z', attempt: 1, stage: 'hardening', action: 'Tests', summary: 'Tests failed' },
    });
  });

  test('the processed form\'s attempt 0.0 counts as the first attempt', () => {
    expect(parseReleaseInput(stageEvent('Source', 'STARTED', undefined, { 'pipeline-execution-attempt': 0.0 }), SETTINGS)).toMatchObject({ change: { attempt: 1 } });
  });

  test('other pipelines, actions of per-service stages, and actions that are neither deploys nor tests are ignored, saying why', () => {
    expect(parseReleaseInput(pipelineEvent('STARTED', undefined, { pipeline: 'foo-foobar-backend' }), SETTINGS)).toEqual({
      kind: 'ignored', reason: 'event of pipeline "foo-foobar-backend", not the release pipeline "foo-release"',
    });
    expect(parseReleaseInput(actionEvent('Build', 'Build-foobar-backend', 'SUCCEEDED'), SETTINGS)).toEqual({
      kind: 'ignored', reason: 'action "Build-foobar-backend" of stage "Build", not a bracket stage (hardening, production)',
    });
    expect(parseReleaseInput(actionEvent('hardening', 'Gate', 'SUCCEEDED'), SETTINGS)).toEqual({
      kind: 'ignored', reason: 'action "Gate" of stage "hardening" is neither a deploy action ("Deploy-…") nor "Tests"',
    });
  });

  test('a malformed event is invalid, naming every field', () => {
    const bad = parseReleaseInput(stageEvent('hardening', 'DONE', 'yesterday', { 'execution-id': 'not an id', 'stage': undefined, 'pipeline-execution-attempt': 'one' }), SETTINGS);
    expect(bad).toEqual({
      kind: 'invalid',
      error: '"CodePipeline Stage Execution State Change" event: detail.execution-id: "not an id" is not a CodePipeline execution id'
        + ' | detail.state: "DONE" is not a stage state CodePipeline documents (CANCELED, FAILED, RESUMED, STARTED, STOPPED, STOPPING, SUCCEEDED)'
        + ' | time: "yesterday" is not an ISO-8601 time | detail.pipeline-execution-attempt: "one" is not a number ≥ 0'
        + ' | detail.stage: undefined is missing; expected the stage\'s name. Fix: check the EventBridge rule\'s input (the release function expects the event unchanged)',
    });
    // ABANDONED is an action state, not a stage state
    expect(parseReleaseInput(actionEvent('hardening', 'Tests', 'ABANDONED'), SETTINGS).kind).toBe('change');
    expect(parseReleaseInput(stageEvent('hardening', 'ABANDONED'), SETTINGS).kind).toBe('invalid');
  });

  test('another source or detail-type is invalid, naming what the function reads', () => {
    const r = parseReleaseInput({ 'source': 'aws.codebuild', 'detail-type': 'CodeBuild Build State Change', 'detail': {} }, SETTINGS);
    expect(r).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/^event: source "aws\.codebuild" with detail-type "CodeBuild Build State Change" is not an input of the release function; expected "CodePipeline Pipeline Execution State Change"/) });
    expect(parseReleaseInput('x', SETTINGS)).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/^event: "x" is not an object/) });
  });
});

describe('Candidate jobs', () => {
  const params = { operation: 'candidate', service: 'foobar-backend', revision: BACKEND, execution: SERVICE_EXECUTION };

  test('a candidate of a service', () => {
    expect(parseReleaseInput(candidateJob(params), SETTINGS)).toEqual({
      kind: 'candidate', jobId: 'job-1', candidate: { service: 'foobar-backend', revision: BACKEND, execution: SERVICE_EXECUTION },
    });
  });

  test('misconfigured parameters are invalid with the job id (the job must still be answered), naming every field', () => {
    const r = parseReleaseInput(candidateJob({ operation: 'record', service: 'payments', revision: '#{Source.CommitId}', execution: '', extra: 1 }), SETTINGS);
    expect(r).toMatchObject({ kind: 'invalid', jobId: 'job-1' });
    const error = (r as { error: string }).error;
    expect(error).toMatch(/^The Candidate action is misconfigured: UserParameters\.extra: is not a known field/);
    expect(error).toContain('UserParameters.operation: "record" is not "candidate"');
    expect(error).toContain('UserParameters.service: "payments" is not a service of pipeline "foo"; expected one of "foobar-frontend", "foobar-backend"');
    expect(error).toContain('UserParameters.revision: "#{Source.CommitId}" is an unresolved CodePipeline variable; expected its value');
    expect(error).toContain('UserParameters.execution: "" is missing; expected a CodePipeline execution id');
    expect(parseReleaseInput(candidateJob('not json'), SETTINGS)).toMatchObject({ kind: 'invalid', jobId: 'job-1', error: expect.stringContaining('UserParameters: is not JSON') });
    expect(parseReleaseInput({ 'CodePipeline.job': { data: {} } }, SETTINGS)).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/^CodePipeline\.job\.id: undefined is missing/) });
  });
});

describe('releaseSettings', () => {
  test('reads the construct\'s JSON', () => {
    expect(releaseSettings({ [RELEASE_SETTINGS_ENV]: JSON.stringify(SETTINGS) })).toEqual(SETTINGS);
  });

  test('a missing or malformed value names the variable, each field and the fix', () => {
    expect(() => releaseSettings({})).toThrow(`environment variable ${RELEASE_SETTINGS_ENV} is not set; expected the JSON release settings. Fix: deploy the release function through the release construct`);
    expect(() => releaseSettings({ [RELEASE_SETTINGS_ENV]: '{' })).toThrow(/is not JSON/);
    expect(() => releaseSettings({ [RELEASE_SETTINGS_ENV]: JSON.stringify({ pipeline: 'foo', services: ['Bad Name'], bracketStages: [] }) }))
      .toThrow('environment variable DDK_RELEASE_SETTINGS: releasePipeline: undefined is not a pipeline name (letters, digits and . @ _ -, 1 to 100); services: ["Bad Name"] is not a non-empty list of service names; bracketStages: [] is not a non-empty list of stage names. Fix:');
  });
});
