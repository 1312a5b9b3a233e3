import { FAKE_CREDENTIALS, RecordedRequest, startServer, TestServer, verifySigV4 } from './helpers';
import { CliError } from '../../lib/cli/io';
import { resolveEndpoint, resolveSigningRegion, StatusCheckApi } from '../../lib/cli/status-check-api';

describe('request signing', () => {
  const api = new StatusCheckApi({ endpoint: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod', region: 'eu-west-1', credentials: FAKE_CREDENTIALS });

  test('SigV4 for execute-api in the region, over host, date and the JSON body', async () => {
    const signed = await api.sign({ method: 'POST', path: '/checks', body: { a: 1 } }, new Date('2026-01-02T03:04:05Z'));
    expect(signed.method).toBe('POST');
    expect(signed.hostname).toBe('abc123.execute-api.eu-west-1.amazonaws.com');
    expect(signed.path).toBe('/prod/checks'); // the stage path of the endpoint is kept
    expect(signed.headers['x-amz-date']).toBe('20260102T030405Z');
    expect(signed.headers['content-type']).toBe('application/json');
    expect(signed.body).toBe('{"a":1}');
    expect(signed.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE0TEST\/20260102\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*\bhost\b[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    expect(signed.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-date/);
  });

  test('a session token is sent and signed', async () => {
    const withToken = new StatusCheckApi({ endpoint: 'https://x.execute-api.eu-west-1.amazonaws.com', region: 'eu-west-1', credentials: { ...FAKE_CREDENTIALS, sessionToken: 'TOKEN' } });
    const signed = await withToken.sign({ method: 'GET', path: '/checks', query: { pipeline: 'p', revision: 'r' } });
    expect(signed.headers['x-amz-security-token']).toBe('TOKEN');
    expect(signed.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
  });

  test('the same request signed at another time has another signature (the date is signed)', async () => {
    const a = await api.sign({ method: 'GET', path: '/checks' }, new Date('2026-01-02T03:04:05Z'));
    const b = await api.sign({ method: 'GET', path: '/checks' }, new Date('2026-01-02T03:04:06Z'));
    expect(a.headers.authorization).not.toBe(b.headers.authorization);
  });
});

describe('endpoint and region', () => {
  test('--endpoint wins over DDK_PIPELINES_API', () => {
    expect(resolveEndpoint('https://a.example.com/x', { DDK_PIPELINES_API: 'https://b.example.com' }).host).toBe('a.example.com');
    expect(resolveEndpoint(undefined, { DDK_PIPELINES_API: 'https://b.example.com' }).host).toBe('b.example.com');
  });

  test('no endpoint, not a URL, plain http to a remote host, a query: usage errors', () => {
    expect(() => resolveEndpoint(undefined, {})).toThrow(/no status-check API endpoint\. Fix: pass --endpoint <url> or set DDK_PIPELINES_API/);
    expect(() => resolveEndpoint('not a url', {})).toThrow('--endpoint: "not a url" is not a URL');
    expect(() => resolveEndpoint('http://api.example.com', {})).toThrow(/is not an https URL/);
    expect(() => resolveEndpoint('https://api.example.com/?x=1', {})).toThrow(/has a query or fragment/);
    expect(resolveEndpoint('http://127.0.0.1:8080/', {}).port).toBe('8080');
  });

  test('signing region: --region, else the API Gateway host name, else AWS_REGION, else ddk.json\'s CICD region', () => {
    const apigw = new URL('https://abc.execute-api.ap-southeast-2.amazonaws.com/prod');
    const local = new URL('http://127.0.0.1:1');
    expect(resolveSigningRegion(apigw, 'eu-west-1', {})).toBe('eu-west-1');
    expect(resolveSigningRegion(apigw, undefined, { AWS_REGION: 'us-east-1' })).toBe('ap-southeast-2');
    expect(resolveSigningRegion(local, undefined, { AWS_REGION: 'us-east-1' }, 'eu-west-1')).toBe('us-east-1');
    expect(resolveSigningRegion(local, undefined, { AWS_DEFAULT_REGION: 'us-west-2' }, 'eu-west-1')).toBe('us-west-2');
    expect(resolveSigningRegion(local, undefined, {}, 'eu-west-1')).toBe('eu-west-1');
    expect(() => resolveSigningRegion(local, undefined, {})).toThrow(/cannot tell the region/);
  });
});

describe('the API over HTTP (a local server on 127.0.0.1)', () => {
  let server: TestServer;
  let answer: (req: RecordedRequest) => [number, unknown];
  beforeAll(async () => { server = await startServer(req => answer(req)); });
  afterAll(async () => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    answer = () => [200, { ok: true }];
  });
  const api = () => new StatusCheckApi({ endpoint: `${server.url}/prod/`, region: 'eu-west-1', credentials: FAKE_CREDENTIALS });

  test('POST /checks: the report as JSON, signed (verified independently of the signing library)', async () => {
    const report = { pipeline: 'myapp', revision: 'abc123', context: 'ci/integration', state: 'success' as const, targetUrl: 'https://ci/1' };
    await expect(api().reportCheck(report)).resolves.toEqual({ ok: true });
    const [req] = server.requests;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/prod/checks');
    expect(JSON.parse(req.body)).toEqual(report);
    expect(req.headers['content-type']).toBe('application/json');
    expect(verifySigV4(req, FAKE_CREDENTIALS.secretAccessKey)).toMatchObject({ accessKeyId: 'AKIDEXAMPLE0TEST', region: 'eu-west-1', service: 'execute-api' });
  });

  test('the independent verifier rejects a tampered body or a wrong secret (so the check above can fail)', async () => {
    await api().reportCheck({ pipeline: 'p', revision: 'r', context: 'ci/x', state: 'pending' });
    const [req] = server.requests;
    expect(() => verifySigV4({ ...req, body: req.body.replace('pending', 'success') }, FAKE_CREDENTIALS.secretAccessKey)).toThrow(/signature mismatch/);
    expect(() => verifySigV4(req, 'another-secret')).toThrow(/signature mismatch/);
    expect(() => verifySigV4({ ...req, headers: { ...req.headers, authorization: 'Bearer x' } }, 'x')).toThrow(/not a SigV4/);
  });

  test('GET /checks?pipeline=&revision=: query signed and sent alike; checks and history returned', async () => {
    answer = () => [200, { checks: [{ context: 'ci/a', state: 'success' }], history: [{ context: 'ci/a', state: 'pending' }, { context: 'ci/a', state: 'success' }] }];
    const r = await api().listChecks('my app', 'abc 123');
    expect(r.checks).toEqual([{ context: 'ci/a', state: 'success' }]);
    expect(r.history).toHaveLength(2);
    const [req] = server.requests;
    expect(req.method).toBe('GET');
    expect(req.url).toBe('/prod/checks?pipeline=my%20app&revision=abc%20123');
    expect(req.body).toBe('');
    verifySigV4(req, FAKE_CREDENTIALS.secretAccessKey);
  });

  test('GET /checks: a body without lists reads as no checks', async () => {
    answer = () => [200, {}];
    await expect(api().listChecks('p', 'r')).resolves.toEqual({ checks: [], history: [] });
  });

  test('PUT /requirements/{pipeline}/{stage}: path segments encoded, add/remove body', async () => {
    await api().changeRequirements('my@app', 'prod', { remove: ['ci/x'] });
    const [req] = server.requests;
    expect(req.method).toBe('PUT');
    expect(req.url).toBe('/prod/requirements/my%40app/prod');
    expect(JSON.parse(req.body)).toEqual({ remove: ['ci/x'] });
    verifySigV4(req, FAKE_CREDENTIALS.secretAccessKey);
  });

  test('POST /overrides', async () => {
    await api().override({ pipeline: 'myapp', stage: 'production', execution: 'e-1', reason: 'flaky CI' });
    const [req] = server.requests;
    expect([req.method, req.url]).toEqual(['POST', '/prod/overrides']);
    expect(JSON.parse(req.body)).toEqual({ pipeline: 'myapp', stage: 'production', execution: 'e-1', reason: 'flaky CI' });
    verifySigV4(req, FAKE_CREDENTIALS.secretAccessKey);
  });

  test('an error answer becomes one line with the status and the API\'s message', async () => {
    answer = () => [400, { message: 'state: must be one of pending, success, failure, error' }];
    const e: any = await api().reportCheck({ pipeline: 'p', revision: 'r', context: 'ci/x', state: 'pending' }).catch(x => x);
    expect(CliError.isCliError(e)).toBe(true);
    expect(e.message).toBe('status-check API: POST /checks answered 400 Bad Request: state: must be one of pending, success, failure, error');
  });

  test('403 explains IAM authorization', async () => {
    answer = () => [403, { Message: 'User is not authorized' }];
    await expect(api().listChecks('p', 'r')).rejects.toThrow(/answered 403 Forbidden: User is not authorized \(the API uses IAM authorization: the caller needs execute-api:Invoke/);
  });

  test('an unreachable endpoint is one clear line', async () => {
    const closed = await startServer();
    await closed.close();
    const gone = new StatusCheckApi({ endpoint: closed.url, region: 'eu-west-1', credentials: FAKE_CREDENTIALS });
    await expect(gone.listChecks('p', 'r')).rejects.toThrow(new RegExp(`status-check API at ${closed.url} cannot be reached: ECONNREFUSED`));
  });

  test('the default credential chain reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY', async () => {
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = 'AKIDFROMENV0000';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-from-env';
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    try {
      await new StatusCheckApi({ endpoint: server.url, region: 'eu-west-1' }).listChecks('p', 'r');
    } finally {
      process.env = saved;
    }
    expect(verifySigV4(server.requests[0], 'secret-from-env').accessKeyId).toBe('AKIDFROMENV0000');
  });

  test('no credentials anywhere: a clear message, no request sent', async () => {
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    Object.assign(process.env, {
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    try {
      await expect(new StatusCheckApi({ endpoint: server.url, region: 'eu-west-1' }).listChecks('p', 'r'))
        .rejects.toThrow(/^no usable AWS credentials: .*Fix: set AWS_PROFILE, run `aws sso login`/);
    } finally {
      process.env = saved;
    }
    expect(server.requests).toHaveLength(0);
  });
});
