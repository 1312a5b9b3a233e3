import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { FAKE_CREDENTIALS, localApi, runCli, verifySigV4 } from './helpers';

/*
 * The checks and override commands, run through the CLI's own wiring (commander) in this
 * process, against a local server that records what the API would receive.
 */
describe('checks and override commands', () => {
  const api = localApi(() => [200, {}]);
  const env = () => ({ DDK_PIPELINES_API: `${api.server.url}/v1` });

  test('checks report: the pipeline defaults to the plan\'s name; the request is signed for the CICD region of ddk.json', async () => {
    const r = await runCli(['checks', 'report', '--revision', 'abc123', '--context', 'ci/integration', '--state', 'success',
      '--target-url', 'https://ci.example.com/1', '--description', 'all green', '--stage', 'production', '--propagate'], { env: env() });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('recorded ci/integration: success for myapp @ abc123 (stage production)\n');
    const [req] = api.server.requests;
    expect([req.method, req.url]).toEqual(['POST', '/v1/checks']);
    expect(JSON.parse(req.body)).toEqual({
      pipeline: 'myapp',
      revision: 'abc123',
      context: 'ci/integration',
      state: 'success',
      targetUrl: 'https://ci.example.com/1',
      description: 'all green',
      stage: 'production',
      propagate: true,
    });
    expect(verifySigV4(req, FAKE_CREDENTIALS.secretAccessKey).region).toBe('eu-west-1');
  });

  test('checks report: --endpoint and --region win; --json prints the API\'s answer', async () => {
    api.answer = () => [201, { recorded: true, id: 'c-1' }];
    const r = await runCli(['checks', 'report', '--pipeline', 'other', '--revision', 'r1', '--context', 'ci/unit', '--state', 'pending',
      '--endpoint', api.server.url, '--region', 'us-west-2', '--json'], { env: {} });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ recorded: true, id: 'c-1' });
    expect(JSON.parse(api.server.requests[0].body)).toEqual({ pipeline: 'other', revision: 'r1', context: 'ci/unit', state: 'pending' });
    expect(verifySigV4(api.server.requests[0], FAKE_CREDENTIALS.secretAccessKey).region).toBe('us-west-2');
  });

  test('checks report: --client-request-id is sent, and a replayed report says nothing new was recorded', async () => {
    api.answer = () => [200, { check: { context: 'ci/unit', state: 'success' }, replayed: true }];
    const r = await runCli(['checks', 'report', '--revision', 'r1', '--context', 'ci/unit', '--state', 'success', '--client-request-id', 'job-42.1'], { env: env() });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(api.server.requests[0].body)).toMatchObject({ clientRequestId: 'job-42.1' });
    expect(r.stdout).toBe('already recorded ci/unit: success for myapp @ r1 (same --client-request-id; nothing new)\n');
    const bad = await runCli(['checks', 'report', '--revision', 'r1', '--context', 'ci/unit', '--state', 'success', '--client-request-id', 'job 42'], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--client-request-id: "job 42" is not a request id; expected letters, digits and . _ : - (1 to 128 characters)');
    expect(api.server.requests).toHaveLength(1);
  });

  test('checks report: bad input is refused before any request (exit 2)', async () => {
    const base = ['checks', 'report', '--revision', 'r', '--state', 'success'];
    const badContext = await runCli([...base, '--context', 'integration'], { env: env() });
    expect(badContext.code).toBe(2);
    expect(badContext.stderr).toContain('error: --context: "integration" is not a status-check context; expected "system/name"');
    const badState = await runCli(['checks', 'report', '--revision', 'r', '--context', 'ci/x', '--state', 'green'], { env: env() });
    expect(badState.code).toBe(2);
    expect(badState.stderr).toMatch(/argument 'green' is invalid\. Allowed choices are pending, success, failure, error/);
    const badUrl = await runCli([...base, '--context', 'ci/x', '--target-url', 'ftp://x'], { env: env() });
    expect(badUrl.stderr).toContain('--target-url: "ftp://x" is not an http(s) URL');
    const missing = await runCli(['checks', 'report', '--context', 'ci/x', '--state', 'success'], { env: env() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('required option \'--revision <commit>\' not specified');
    // no --endpoint, no DDK_PIPELINES_API and no ddk.json to find the CICD stack's output from
    const noEndpoint = await runCli([...base, '--context', 'ci/x', '--pipeline', 'myapp'], { env: {}, cwd: mkdtempSync(join(tmpdir(), 'ddk-cli-empty-')) });
    expect(noEndpoint.code).toBe(2);
    expect(noEndpoint.stderr).toContain('no status-check API endpoint: no ddk.json to find the CICD stack from');
    // an invalid ddk.json, and a --stack without a region, are named as such
    const bad = mkdtempSync(join(tmpdir(), 'ddk-cli-bad-'));
    writeFileSync(join(bad, 'ddk.json'), '{"environments": {}}');
    const invalid = await runCli([...base, '--context', 'ci/x', '--pipeline', 'myapp'], { env: {}, cwd: bad });
    expect(invalid.stderr).toContain('no status-check API endpoint: ddk.json is not valid (see `ddk-pipelines validate`), so the CICD stack is unknown');
    const noRegion = await runCli([...base, '--context', 'ci/x', '--pipeline', 'myapp', '--stack', 'myapp-pipeline'], { env: {}, cwd: bad });
    expect(noRegion.stderr).toContain('no status-check API endpoint: no --region for the stack myapp-pipeline');
    expect(api.server.requests).toHaveLength(0);
  });

  test('checks list: a table of the latest check per context; --history adds every report', async () => {
    api.answer = () => [200, {
      checks: [
        { context: 'ci/integration', state: 'failure', stage: 'production', description: '2 tests failed', targetUrl: 'https://ci/2' },
        { context: 'ci/unit', state: 'success' },
      ],
      history: [{ context: 'ci/integration', state: 'pending', reportedAt: '2026-01-01T00:00:00Z', reportedBy: 'arn:aws:iam::1:role/ci' }],
    }];
    const r = await runCli(['checks', 'list', '--revision', 'abc', '--history'], { env: env() });
    expect(r.code).toBe(0);
    expect(api.server.requests[0].url).toBe('/v1/checks?pipeline=myapp&revision=abc');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('checks of myapp @ abc');
    expect(lines[1]).toMatch(/^CONTEXT +STATE +STAGE +DESCRIPTION +LINK$/);
    expect(lines[2]).toMatch(/^ci\/integration +failure +production +2 tests failed +https:\/\/ci\/2$/);
    expect(lines[3]).toMatch(/^ci\/unit +success +-$/);
    expect(r.stdout).toContain('history (1 report)');
    expect(r.stdout).toMatch(/ci\/integration +pending +- +2026-01-01T00:00:00Z +arn:aws:iam::1:role\/ci/);
  });

  test('checks list --json: checks and history as returned', async () => {
    api.answer = () => [200, { checks: [{ context: 'ci/a', state: 'error' }], history: [] }];
    const r = await runCli(['checks', 'list', '--revision', 'abc', '--json'], { env: env() });
    expect(JSON.parse(r.stdout)).toEqual({ checks: [{ context: 'ci/a', state: 'error' }], history: [] });
  });

  test('checks require / unrequire: PUT /requirements/{pipeline}/{stage} with add / remove', async () => {
    api.answer = () => [200, { required: ['ci/integration', 'security/scan'] }];
    const add = await runCli(['checks', 'require', '--stage', 'production', 'security/scan'], { env: env() });
    expect(add.code).toBe(0);
    expect(add.stdout).toBe('required in myapp/production: security/scan\nrequired checks of myapp/production now: ci/integration, security/scan\n');
    api.answer = () => [200, {}];
    const remove = await runCli(['checks', 'unrequire', '--stage', 'production', 'security/scan', 'ci/extra'], { env: env() });
    expect(remove.code).toBe(0);
    expect(api.server.requests.map(q => [q.method, q.url, JSON.parse(q.body)])).toEqual([
      ['PUT', '/v1/requirements/myapp/production', { add: ['security/scan'] }],
      ['PUT', '/v1/requirements/myapp/production', { remove: ['security/scan', 'ci/extra'] }],
    ]);
  });

  test('checks unrequire of a ddk.json context: the API\'s refusal is shown, exit 1', async () => {
    api.answer = () => [409, { message: 'ci/integration is required by ddk.json; edit ddk.json to remove it' }];
    const r = await runCli(['checks', 'unrequire', '--stage', 'production', 'ci/integration'], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: status-check API: PUT /requirements/myapp/production answered 409 Conflict: ci/integration is required by ddk.json; edit ddk.json to remove it\n');
  });

  test('override: POST /overrides with pipeline, stage, execution and reason', async () => {
    const r = await runCli(['override', '--stage', 'production', '--execution', 'e-42', '--reason', 'CI outage, verified by hand'], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('override recorded for myapp/production, execution e-42: "CI outage, verified by hand"\n');
    expect(JSON.parse(api.server.requests[0].body)).toEqual({ pipeline: 'myapp', stage: 'production', execution: 'e-42', reason: 'CI outage, verified by hand' });
    verifySigV4(api.server.requests[0], FAKE_CREDENTIALS.secretAccessKey);
  });

  test('override without --reason is a usage error', async () => {
    const r = await runCli(['override', '--stage', 'production', '--execution', 'e-42'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('required option \'--reason <text>\' not specified');
    expect(api.server.requests).toHaveLength(0);
  });
});
