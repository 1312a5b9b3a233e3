import { existsSync } from 'fs';
import { join } from 'path';
import { CodePipelineClient, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { ALICE, apiEvent, gateEvent, handlerEnvironment, LocalDynamo, setEnvironment } from './local';

/*
 * The bundles Lambda runs (dist/lambda/<name>/index.js, built by `npx projen bundle` with
 * @aws-sdk/* external): they load, find their SDK clients and answer one request each.
 */

const DIST = join(__dirname, '..', '..', 'dist', 'lambda');
const codePipeline = mockClient(CodePipelineClient);
const eventBridge = mockClient(EventBridgeClient);
let local: LocalDynamo;
let restore: () => void;

beforeAll(async () => {
  local = await LocalDynamo.start('status-checks-bundle');
  restore = setEnvironment(handlerEnvironment(local));
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  codePipeline.on(PutJobSuccessResultCommand).resolves({});
});

afterAll(async () => {
  restore();
  await local.stop();
});

function load(name: string): { handler: (event: any) => Promise<any> } {
  const file = join(DIST, name, 'index.js');
  if (!existsSync(file)) throw new Error(`${file} is missing. Fix: run \`npx projen bundle\` before the tests`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file);
}

test('the bundled API records and reads a check', async () => {
  const api = load('status-checks-api');
  const put = await api.handler(apiEvent({ method: 'POST', resource: '/checks', principal: ALICE, body: { pipeline: 'myapp', revision: 'b1', context: 'ci/integration', state: 'success' } }));
  expect(put.statusCode).toBe(201);
  const get = await api.handler(apiEvent({ method: 'GET', resource: '/checks', query: { pipeline: 'myapp', revision: 'b1' } }));
  expect(JSON.parse(get.body).checks.map((c: any) => [c.context, c.state, c.reportedBy])).toEqual([['ci/integration', 'success', ALICE]]);
});

test('the bundled gate passes a revision whose checks passed', async () => {
  const gate = load('status-checks-gate');
  await gate.handler(gateEvent({ revision: 'b1', executionId: 'exec-b' }));
  expect(codePipeline.commandCalls(PutJobSuccessResultCommand).map(c => c.args[0].input.continuationToken)).toEqual([undefined]);
});
