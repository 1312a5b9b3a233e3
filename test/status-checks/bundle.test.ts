import { existsSync, readFileSync } from 'fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { builtinModules } from 'module';
import type { AddressInfo } from 'net';
import { join } from 'path';
import { ALICE, apiEvent, gateEvent, handlerEnvironment, LocalDynamo, setEnvironment } from './local';

/*
 * The bundles Lambda runs (dist/lambda/<name>/index.js, built by `npx projen bundle`, AWS SDK
 * included): they load on their own, and answer one request each against local endpoints —
 * dynalite for DynamoDB, and a fake EventBridge/CodePipeline (JSON protocol) that records calls.
 */

const DIST = join(__dirname, '..', '..', 'dist', 'lambda');
const HANDLERS = ['seed-repository', 'status-checks-api', 'status-checks-gate'];
let local: LocalDynamo;
let fake: Server;
/** `X-Amz-Target` and body of each call the fake endpoint received. */
const calls: { target: string; body: any }[] = [];
let restore: () => void;

/** Answers EventBridge PutEvents and CodePipeline PutJob*Result; anything else is a 400. */
function answer(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const target = String(req.headers['x-amz-target'] ?? '');
    calls.push({ target, body: JSON.parse(Buffer.concat(chunks).toString('utf-8') || '{}') });
    const replies: Record<string, unknown> = {
      'AWSEvents.PutEvents': { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] },
      'CodePipeline_20150709.PutJobSuccessResult': {},
      'CodePipeline_20150709.PutJobFailureResult': {},
    };
    const known = target in replies;
    res.writeHead(known ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(known ? replies[target] : { __type: 'UnknownOperationException', message: target }));
  });
}

beforeAll(async () => {
  local = await LocalDynamo.start('status-checks-bundle');
  fake = createServer(answer);
  await new Promise<void>(resolve => fake.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  restore = setEnvironment({ ...handlerEnvironment(local), AWS_ENDPOINT_URL_EVENTBRIDGE: url, AWS_ENDPOINT_URL_CODEPIPELINE: url });
});

afterAll(async () => {
  restore();
  await new Promise<void>(resolve => fake.close(() => resolve()));
  await local.stop();
});

function bundlePath(name: string): string {
  const file = join(DIST, name, 'index.js');
  if (!existsSync(file)) throw new Error(`${file} is missing. Fix: run \`npx projen bundle\` before the tests`);
  return file;
}

function load(name: string): { handler: (event: any) => Promise<any> } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(bundlePath(name));
}

test.each(HANDLERS)('%s is self-contained: it requires nothing but Node.js built-ins', name => {
  // `[require("…")]` is quoted inside an SDK error message (how to register the optional CRT signer), not a call
  const required = [...readFileSync(bundlePath(name), 'utf-8').matchAll(/(?<!\[)require\("([^"]+)"\)/g)].map(m => m[1]);
  expect(required.filter(m => !m.startsWith('node:') && !builtinModules.includes(m))).toEqual([]);
});

test('the bundled API records and reads a check, and publishes its event', async () => {
  const api = load('status-checks-api');
  const put = await api.handler(apiEvent({ method: 'POST', resource: '/checks', principal: ALICE, body: { pipeline: 'myapp', revision: 'b1', context: 'ci/integration', state: 'success' } }));
  expect(put.statusCode).toBe(201);
  const get = await api.handler(apiEvent({ method: 'GET', resource: '/checks', query: { pipeline: 'myapp', revision: 'b1' } }));
  expect(JSON.parse(get.body).checks.map((c: any) => [c.context, c.state, c.reportedBy])).toEqual([['ci/integration', 'success', ALICE]]);
  expect(calls.filter(c => c.target === 'AWSEvents.PutEvents').map(c => c.body.Entries[0].DetailType)).toEqual(['Status Check Reported']);
});

test('the bundled gate passes a revision whose checks passed', async () => {
  const gate = load('status-checks-gate');
  await gate.handler(gateEvent({ revision: 'b1', executionId: 'exec-b' }));
  const results = calls.filter(c => c.target.startsWith('CodePipeline_20150709.'));
  expect(results.map(c => c.target)).toEqual(['CodePipeline_20150709.PutJobSuccessResult']);
  expect(results[0].body.continuationToken).toBeUndefined();
});
