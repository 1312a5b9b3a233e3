import { existsSync } from 'fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { join } from 'path';
import { setEnvironment } from '../status-checks/local';

/*
 * The bundle Lambda runs (dist/lambda/seed-repository/index.js, built by `npx projen bundle`, AWS
 * SDK included) serves the first-execution hold: over CodePipeline's real JSON protocol, against a
 * fake endpoint that records the calls.
 */

const BUNDLE = join(__dirname, '..', '..', 'dist', 'lambda', 'seed-repository', 'index.js');
const SEED = '0123456789abcdef0123456789abcdef01234567';
const E1 = '11111111-1111-1111-1111-111111111111';
const calls: { target: string; body: any }[] = [];
let fake: Server;
let restore: () => void;

/** Answers ListPipelineExecutions (the creation execution building the seed commit) and StopPipelineExecution. */
function answer(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const target = String(req.headers['x-amz-target'] ?? '');
    calls.push({ target, body: JSON.parse(Buffer.concat(chunks).toString('utf-8') || '{}') });
    const replies: Record<string, unknown> = {
      'CodePipeline_20150709.ListPipelineExecutions': {
        pipelineExecutionSummaries: [{
          pipelineExecutionId: E1,
          status: 'InProgress',
          startTime: 1767225600,
          sourceRevisions: [{ actionName: 'Source', revisionId: SEED }],
          trigger: { triggerType: 'CreatePipeline' },
        }],
      },
      'CodePipeline_20150709.StopPipelineExecution': { pipelineExecutionId: E1 },
    };
    const known = target in replies;
    res.writeHead(known ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(known ? replies[target] : { __type: 'UnknownOperationException', message: target }));
  });
}

beforeAll(async () => {
  fake = createServer(answer);
  await new Promise<void>(resolve => fake.listen(0, '127.0.0.1', resolve));
  restore = setEnvironment({
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_MAX_ATTEMPTS: '1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    AWS_ENDPOINT_URL_CODEPIPELINE: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
  });
});

afterAll(async () => {
  restore();
  await new Promise<void>(resolve => fake.close(() => resolve()));
});

test('the bundled handler stops the creation execution of the seed commit', async () => {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing. Fix: run \`npx projen bundle\` before the tests`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require(BUNDLE);
  const res = await handler({
    RequestType: 'Create',
    ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
    ResponseURL: 'https://example.com/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/myapp-pipeline/1',
    RequestId: 'r-1',
    LogicalResourceId: 'SeedHoldFirstExecutions',
    ResourceType: 'Custom::DdkHoldSeedExecution',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider', pipelineNames: ['myapp-main'], seedCommitId: SEED },
  });
  expect(calls).toEqual([
    { target: 'CodePipeline_20150709.ListPipelineExecutions', body: { pipelineName: 'myapp-main', maxResults: 20 } },
    {
      target: 'CodePipeline_20150709.StopPipelineExecution',
      body: {
        pipelineName: 'myapp-main',
        pipelineExecutionId: E1,
        abandon: true,
        reason: `ddk-pipelines: waiting for the team's first push; the repository holds only the seed commit ${SEED}`,
      },
    },
  ]);
  expect(res).toEqual({ PhysicalResourceId: `ddk-hold-${SEED}`, Data: { StoppedExecutions: `myapp-main:${E1}`, EndedExecutions: '', NotHeldPipelines: '' } });
});
