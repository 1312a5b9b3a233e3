import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import { apiEvent, gateEvent, setEnvironment } from './local';
import type * as ApiHandler from '../../lambda/status-checks-api';
import type * as GateHandler from '../../lambda/status-checks-gate';
import { ENV, pipelineSettings, requireEnv, retentionDays } from '../../lib/status-checks/shared';

/*
 * A deployment defect (a variable the construct sets is missing): the API answers 500 naming the
 * variable; the gate fails its job (closed) instead of leaving CodePipeline waiting.
 */

const codePipeline = mockClient(CodePipelineClient);
let restore: () => void;

beforeAll(() => {
  restore = setEnvironment({ AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', POWERTOOLS_LOG_LEVEL: 'SILENT' });
  delete process.env[ENV.TABLE_NAME];
  codePipeline.on(PutJobFailureResultCommand).resolves({});
});

afterAll(() => restore());

test('the API answers 500 naming the missing variable', async () => {
  const { handler } = require('../../lambda/status-checks-api') as typeof ApiHandler; // eslint-disable-line @typescript-eslint/no-require-imports
  const r = await handler(apiEvent({ method: 'GET', resource: '/checks', query: { pipeline: 'myapp', revision: 'abc' } }));
  expect(r.statusCode).toBe(500);
  expect(JSON.parse(r.body).message).toBe(`the status-check API is misconfigured: environment variable ${ENV.TABLE_NAME} is not set; expected the value the StatusChecks construct sets. Fix: deploy the function through the StatusChecks construct (or set ${ENV.TABLE_NAME})`);
});

test('the gate fails its job closed', async () => {
  const { handler } = require('../../lambda/status-checks-gate') as typeof GateHandler; // eslint-disable-line @typescript-eslint/no-require-imports
  await handler(gateEvent({}));
  expect(codePipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
  const failures = codePipeline.commandCalls(PutJobFailureResultCommand).map(c => c.args[0].input.failureDetails);
  expect(failures).toEqual([{ type: 'JobFailed', message: expect.stringMatching(new RegExp(`^The status-check gate is misconfigured: environment variable ${ENV.TABLE_NAME} is not set`)) }]);
});

describe('the shared environment readers', () => {
  test('requireEnv', () => {
    expect(requireEnv('X', { X: 'v' })).toBe('v');
    expect(() => requireEnv('X', { X: '' })).toThrow('environment variable X is not set');
  });

  test('retentionDays: default 365, whole days ≥ 1', () => {
    expect(retentionDays({})).toBe(365);
    expect(retentionDays({ [ENV.RETENTION_DAYS]: '30' })).toBe(30);
    expect(() => retentionDays({ [ENV.RETENTION_DAYS]: '1.5' })).toThrow(`environment variable ${ENV.RETENTION_DAYS}: "1.5" is not a whole number of days; expected an integer ≥ 1`);
  });

  test('pipelineSettings: JSON with pipeline and stages', () => {
    expect(pipelineSettings({ [ENV.PIPELINE_SETTINGS]: '{"pipeline":"p","file":"ddk.json","stages":[]}' })).toEqual({ pipeline: 'p', file: 'ddk.json', stages: [] });
    expect(() => pipelineSettings({ [ENV.PIPELINE_SETTINGS]: '{' })).toThrow(`environment variable ${ENV.PIPELINE_SETTINGS} is not JSON`);
    expect(() => pipelineSettings({ [ENV.PIPELINE_SETTINGS]: '{"pipeline":"p"}' })).toThrow(/lacks "pipeline" or "stages"/);
    // the gate reads a stage's required contexts here: a stage without its list is a deployment defect
    expect(() => pipelineSettings({ [ENV.PIPELINE_SETTINGS]: '{"pipeline":"p","file":"ddk.json","stages":[{"name":"prod"}]}' }))
      .toThrow(`environment variable ${ENV.PIPELINE_SETTINGS}: stages[0] is {"name":"prod"}; expected {"name", "index", "requiredChecks": [contexts]}. Fix: redeploy the construct`);
  });
});
