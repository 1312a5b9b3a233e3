import { CodeCommitClient, GetCommitCommand, PostCommentForComparedCommitCommand } from '@aws-sdk/client-codecommit';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ALICE, apiEvent, CI, handlerEnvironment, LocalDynamo, SETTINGS, setEnvironment } from './local';
import type * as ApiHandler from '../../lambda/status-checks-api';
import { RELEASE_DETAIL_TYPES } from '../../lib/releases/shared';
import { ReleaseStore } from '../../lib/releases/store';
import { REVIEW_DETAIL_TYPES } from '../../lib/reviews/shared';
import { ReviewStore } from '../../lib/reviews/store';
import { handleApiRequest } from '../../lib/status-checks/api';
import { DETAIL_TYPES, EVENT_SOURCE } from '../../lib/status-checks/shared';
import { StatusCheckStore } from '../../lib/status-checks/store';

/*
 * The API handler end to end: API Gateway proxy events in, JSON out, DynamoDB through a real
 * protocol server (dynalite on loopback, reached through AWS_ENDPOINT_URL_DYNAMODB),
 * EventBridge and CodeCommit through aws-sdk-client-mock.
 */

const eventBridge = mockClient(EventBridgeClient);
const codeCommit = mockClient(CodeCommitClient);
let local: LocalDynamo;
let restore: () => void;
let handler: typeof ApiHandler.handler;
let revisionCounter = 0;

beforeAll(async () => {
  local = await LocalDynamo.start('status-checks-api');
  restore = setEnvironment(handlerEnvironment(local));
  // imported after the environment is set, as Lambda loads it (the logger reads its level at load)
  handler = (require('../../lambda/status-checks-api') as typeof ApiHandler).handler; // eslint-disable-line @typescript-eslint/no-require-imports
});

afterAll(async () => {
  restore();
  await local.stop();
});

beforeEach(() => {
  eventBridge.reset();
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  codeCommit.reset();
  codeCommit.on(PostCommentForComparedCommitCommand).resolves({});
  // every commit has a parent unless a test says otherwise (a repository's first commit)
  codeCommit.on(GetCommitCommand).callsFake(input => ({ commit: { commitId: input.commitId, parents: [PARENT] } }));
});

const PARENT = 'f'.repeat(40);

/** A fresh commit id per test, so tests do not see each other's reports. */
function revision(): string {
  revisionCounter += 1;
  return revisionCounter.toString(16).padStart(40, 'a');
}

async function call(e: Parameters<typeof apiEvent>[0]): Promise<{ status: number; body: any; raw: APIGatewayProxyResult }> {
  const raw = await handler(apiEvent(e));
  return { status: raw.statusCode, body: JSON.parse(raw.body), raw };
}

const report = (body: Record<string, unknown>, principal: string | null = CI) => call({ method: 'POST', resource: '/checks', body, principal });
const read = (query: Record<string, string>) => call({ method: 'GET', resource: '/checks', query });
const requirements = (stage: string, body: unknown, principal = ALICE) =>
  call({ method: 'PUT', resource: '/requirements/{pipeline}/{stage}', path: { pipeline: 'myapp', stage }, body, principal });
const overrideReq = (body: Record<string, unknown>, principal = ALICE) => call({ method: 'POST', resource: '/overrides', body, principal });

function publishedEvents(): Array<{ source: string; detailType: string; detail: any; bus: string }> {
  return eventBridge.commandCalls(PutEventsCommand).flatMap(c => (c.args[0].input.Entries ?? []).map(e => ({
    source: e.Source!, detailType: e.DetailType!, detail: JSON.parse(e.Detail!), bus: e.EventBusName!,
  })));
}

/** Records a gate state for an execution as the gate does (the override API reads the revision from it). */
async function gateWaiting(rev: string, execution: string, declared = ['ci/integration']): Promise<void> {
  const store = new StatusCheckStore(DynamoDBDocumentClient.from(local.client), local.tableName);
  await store.putGate({
    pipeline: 'myapp',
    stage: 'production',
    execution,
    revision: rev,
    declared,
    startedAt: new Date().toISOString(),
    decidedAt: new Date().toISOString(),
    verdict: 'WAIT',
    summary: 'waiting',
  }, new Date());
}

describe('POST /checks', () => {
  test('records a report with the caller\'s IAM principal and publishes it', async () => {
    const rev = revision();
    const r = await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'pending', targetUrl: 'https://ci.example.com/1' });
    expect(r.status).toBe(201);
    expect(r.raw.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(r.body.replayed).toBe(false);
    expect(r.body.check).toMatchObject({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'pending', sequence: 1, reportedBy: CI });
    expect(r.body.check.bodyHash).toBeUndefined();
    expect(publishedEvents()).toEqual([{
      source: EVENT_SOURCE,
      detailType: DETAIL_TYPES.CHECK_REPORTED,
      bus: 'arn:aws:events:eu-west-1:111111111111:event-bus/default',
      detail: expect.objectContaining({ context: 'ci/integration', state: 'pending', reportedBy: CI, replayed: false }),
    }]);
  });

  test('round trip: the latest report per context wins, every report stays in the history', async () => {
    const rev = revision();
    await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'pending' });
    await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'failure', description: '2 tests failed' });
    await report({ pipeline: 'myapp', revision: rev, context: 'ci/lint', state: 'success' }, ALICE);
    const r = await read({ pipeline: 'myapp', revision: rev });
    expect(r.status).toBe(200);
    expect(r.body.checks.map((c: any) => [c.context, c.state, c.sequence, c.reportedBy])).toEqual([
      ['ci/integration', 'failure', 2, CI],
      ['ci/lint', 'success', 1, ALICE],
    ]);
    expect(r.body.history.map((c: any) => [c.context, c.state, c.sequence])).toEqual([
      ['ci/integration', 'pending', 1], ['ci/integration', 'failure', 2], ['ci/lint', 'success', 1],
    ]);
  });

  test('two concurrent reports of one context: both recorded, distinct sequences, the later one is the latest', async () => {
    const rev = revision();
    // WHEN two reporters report the same context at the same time (and eight more for good measure)
    const states = ['success', 'failure', 'pending', 'error', 'success', 'failure', 'pending', 'error', 'success', 'failure'];
    const results = await Promise.all(states.map((state, i) => report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state, description: `run ${i}` })));
    expect(results.map(r => r.status)).toEqual(states.map(() => 201));
    // THEN nothing is lost: every report has its own history item and sequence
    const sequences = results.map(r => r.body.check.sequence).sort((a, b) => a - b);
    expect(sequences).toEqual(Array.from({ length: states.length }, (_, i) => i + 1));
    const r = await read({ pipeline: 'myapp', revision: rev });
    expect(r.body.history).toHaveLength(states.length);
    // and the latest is the report with the highest sequence, whatever order the writes landed in
    const last = results.find(x => x.body.check.sequence === states.length)!.body.check;
    expect(r.body.checks).toHaveLength(1);
    expect(r.body.checks[0]).toMatchObject({ state: last.state, description: last.description, sequence: states.length });
  });

  test('a replay of the same report (same reporter, body and clientRequestId) records nothing new', async () => {
    const rev = revision();
    const body = { pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'success', clientRequestId: 'build-42' };
    const first = await report(body);
    const again = await report(body);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.replayed).toBe(true);
    expect(again.body.check).toEqual(first.body.check);
    const r = await read({ pipeline: 'myapp', revision: rev });
    expect(r.body.history).toHaveLength(1);
    // concurrent retries too
    const retries = await Promise.all([1, 2, 3].map(() => report({ ...body, clientRequestId: 'build-43', state: 'failure' })));
    expect(retries.map(x => x.body.check.id).every(id => id === retries[0].body.check.id)).toBe(true);
    expect((await read({ pipeline: 'myapp', revision: rev })).body.history).toHaveLength(2);
  });

  test('the same clientRequestId from another reporter is another report', async () => {
    const rev = revision();
    const body = { pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'success', clientRequestId: 'build-1' };
    expect((await report(body, CI)).status).toBe(201);
    expect((await report(body, ALICE)).status).toBe(201);
    expect((await read({ pipeline: 'myapp', revision: rev })).body.history).toHaveLength(2);
  });

  test('a clientRequestId reused for a different report is a conflict', async () => {
    const rev = revision();
    await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'pending', clientRequestId: 'x1' });
    const r = await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'success', clientRequestId: 'x1' });
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(/^body\.clientRequestId: "x1" was already used by this reporter for a different report \(ci\/integration pending at .*\); expected the same body on a retry, or a new id for a new report\. Fix: send a new clientRequestId/);
  });

  test('malformed bodies: 400 naming the field', async () => {
    const bad = await call({ method: 'POST', resource: '/checks', body: '{"pipeline": "myapp",' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^body: is not valid JSON \(/);
    const missing = await report({ pipeline: 'myapp', revision: 'abc', context: 'ci/integration' });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toBe('body.state: is missing; expected one of "pending", "success", "failure", "error". Fix: add "state"');
    const several = await report({ pipeline: 'myapp', context: 'nope', state: 'ok' });
    expect(several.status).toBe(400);
    expect(several.body.issues).toHaveLength(3);
    expect(several.body.message).toMatch(/^3 problems: body\.revision: is missing.* \| body\.context: "nope" is not a valid context.* \| body\.state: "ok" is not a check state/);
  });

  test('the reporter cannot be set in the body', async () => {
    const r = await report({ pipeline: 'myapp', revision: 'abc', context: 'ci/integration', state: 'success', reportedBy: ALICE });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('body.reportedBy: is set by the server');
  });

  test('a request without an IAM principal is refused with 403 and records nothing', async () => {
    const rev = revision();
    const r = await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'success' }, null);
    expect(r.status).toBe(403);
    expect(r.body.message).toMatch(/^requestContext\.identity\.userArn: the request carries no IAM principal ARN; expected a SigV4-signed request/);
    expect((await read({ pipeline: 'myapp', revision: rev })).body.history).toEqual([]);
    expect(publishedEvents()).toEqual([]);
  });

  test('the reporter is the signer\'s ARN (userArn); a principal id without an ARN is refused, not recorded in its place', async () => {
    const rev = revision();
    const r = await call({ method: 'POST', resource: '/checks', body: { pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'success' }, principal: null, caller: 'AIDAEXAMPLEPRINCIPAL' });
    expect(r.status).toBe(403);
    const ok = await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'success' });
    expect(ok.body.check.reportedBy).toBe(CI);
  });

  test('an unknown pipeline or stage is 404 naming what exists', async () => {
    const p = await report({ pipeline: 'other', revision: 'abc', context: 'ci/integration', state: 'success' });
    expect(p.status).toBe(404);
    expect(p.body.message).toBe('body.pipeline: "other" is not a pipeline this API serves; expected "myapp". Fix: send the report to the status-check API of pipeline "other" or correct the name');
    const s = await report({ pipeline: 'myapp', revision: 'abc', context: 'ci/integration', state: 'success', stage: 'prod' });
    expect(s.status).toBe(404);
    expect(s.body.message).toBe('body.stage: "prod" is not a stage of pipeline "myapp"; expected one of "development", "production". Fix: use a stage name from ddk.json (pipeline.stages[].name)');
  });

  test('a base64-encoded body is decoded', async () => {
    const r = await call({ method: 'POST', resource: '/checks', body: { pipeline: 'myapp', revision: revision(), context: 'ci/x', state: 'success' }, base64: true });
    expect(r.status).toBe(201);
  });

  test('propagate: true comments on the CodeCommit commit, idempotently', async () => {
    const rev = revision();
    const body = { pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'failure', description: '2 tests failed', targetUrl: 'https://ci.example.com/7', propagate: true, clientRequestId: 'p1' };
    const r = await report(body);
    expect(r.body.propagation).toEqual({ posted: true, repository: 'myapp' });
    await report(body); // a retry
    const calls = codeCommit.commandCalls(PostCommentForComparedCommitCommand).map(c => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual({
      repositoryName: 'myapp',
      beforeCommitId: PARENT,
      afterCommitId: rev,
      clientRequestToken: r.body.check.id,
      content: expect.stringContaining('❌ **ci/integration**: failure — 2 tests failed'),
    });
    expect(calls[0].content).toContain('Details: https://ci.example.com/7');
    expect(calls[0].content).toContain(`Reported by ${CI}`);
    // the same token on the retry: CodeCommit does not post a second comment
    expect(calls[1].clientRequestToken).toBe(calls[0].clientRequestToken);
  });

  test('propagate on a repository\'s first commit: the comment names no beforeCommitId (CodeCommit requires it for every other commit)', async () => {
    const rev = revision();
    codeCommit.on(GetCommitCommand, { repositoryName: 'myapp', commitId: rev }).resolves({ commit: { commitId: rev, parents: [] } });
    const r = await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'success', propagate: true });
    expect(r.body.propagation).toEqual({ posted: true, repository: 'myapp' });
    expect(codeCommit.commandCalls(GetCommitCommand).map(c => c.args[0].input)).toEqual([{ repositoryName: 'myapp', commitId: rev }]);
    const [post] = codeCommit.commandCalls(PostCommentForComparedCommitCommand).map(c => c.args[0].input);
    expect(post).toEqual({ repositoryName: 'myapp', afterCommitId: rev, clientRequestToken: r.body.check.id, content: expect.any(String) });
  });

  test('a commit CodeCommit does not know: nothing posted, the report kept', async () => {
    codeCommit.on(GetCommitCommand).rejects(Object.assign(new Error('Could not find commit'), { name: 'CommitIdDoesNotExistException' }));
    const r = await report({ pipeline: 'myapp', revision: revision(), context: 'ci/integration', state: 'success', propagate: true });
    expect(r.status).toBe(201);
    expect(r.body.propagation).toEqual({ posted: false, repository: 'myapp', reason: 'CodeCommit refused the comment (CommitIdDoesNotExistException: Could not find commit)' });
    expect(codeCommit.commandCalls(PostCommentForComparedCommitCommand)).toHaveLength(0);
  });

  test('a propagation CodeCommit refuses does not lose the report', async () => {
    codeCommit.on(PostCommentForComparedCommitCommand).rejects(Object.assign(new Error('Commit abc does not exist'), { name: 'CommitDoesNotExistException' }));
    const r = await report({ pipeline: 'myapp', revision: revision(), context: 'ci/integration', state: 'success', propagate: true });
    expect(r.status).toBe(201);
    expect(r.body.propagation).toEqual({ posted: false, repository: 'myapp', reason: 'CodeCommit refused the comment (CommitDoesNotExistException: Commit abc does not exist)' });
  });

  test('without propagate nothing is posted', async () => {
    await report({ pipeline: 'myapp', revision: revision(), context: 'ci/integration', state: 'success' });
    expect(codeCommit.commandCalls(PostCommentForComparedCommitCommand)).toHaveLength(0);
  });

  test('an event EventBridge refuses: 502, the report is kept, a retry publishes it again', async () => {
    eventBridge.on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const body = { pipeline: 'myapp', revision: revision(), context: 'ci/integration', state: 'success', clientRequestId: 'ev-1' };
    const r = await report(body);
    expect(r.status).toBe(502);
    expect(r.body.message).toMatch(/^recorded, but the "Status Check Reported" event could not be published \(EventBridge did not accept the "Status Check Reported" event on bus "arn:aws:events:eu-west-1:111111111111:event-bus\/default" \(InternalFailure: try again\)\)\. Fix: retry the same request/);
    expect(r.body.check.sequence).toBe(1);
    const retry = await report(body);
    expect(retry.status).toBe(200);
    expect(publishedEvents()).toHaveLength(2);
  });
});

describe('GET /checks', () => {
  test('with a stage: the gate\'s view of the revision', async () => {
    const rev = revision();
    await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'success', stage: 'development' });
    const r = await read({ pipeline: 'myapp', revision: rev, stage: 'production' });
    // a report scoped to another stage does not count for production
    expect(r.body.gate).toMatchObject({ stage: 'production', required: ['ci/integration'], verdict: 'WAIT', contexts: [{ context: 'ci/integration', status: 'missing' }] });
    await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'success' });
    expect((await read({ pipeline: 'myapp', revision: rev, stage: 'production' })).body.gate).toMatchObject({ verdict: 'PASS', contexts: [{ context: 'ci/integration', status: 'success', sequence: 2 }] });
  });

  test('missing query parameters: 400 naming them', async () => {
    const r = await call({ method: 'GET', resource: '/checks', query: { pipeline: 'myapp' } });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/^query\.revision: is missing/);
  });

  test('an unknown operation is 404', async () => {
    const r = await call({ method: 'DELETE', resource: '/checks' });
    expect(r.status).toBe(404);
    expect(r.body.message).toMatch(/^DELETE \/checks: no such operation/);
  });
});

describe('PUT /requirements/{pipeline}/{stage}', () => {
  test('adds and removes contexts at run time, keeping who and when', async () => {
    const added = await requirements('production', { add: ['sec/scan', 'perf/load'] });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ pipeline: 'myapp', stage: 'production', declared: ['ci/integration'], required: ['ci/integration', 'perf/load', 'sec/scan'], unchanged: [] });
    expect(added.body.changes).toEqual([
      { pipeline: 'myapp', stage: 'production', context: 'sec/scan', action: 'add', by: ALICE, at: expect.stringMatching(/^\d{4}-/) },
      { pipeline: 'myapp', stage: 'production', context: 'perf/load', action: 'add', by: ALICE, at: expect.stringMatching(/^\d{4}-/) },
    ]);
    expect(publishedEvents()).toEqual([expect.objectContaining({ detailType: DETAIL_TYPES.REQUIREMENTS_CHANGED, detail: expect.objectContaining({ required: ['ci/integration', 'perf/load', 'sec/scan'] }) })]);

    // adding again, or a context ddk.json declares, changes nothing
    const again = await requirements('production', { add: ['sec/scan', 'ci/integration'] });
    expect(again.body).toMatchObject({ changes: [], unchanged: ['sec/scan', 'ci/integration'] });

    const removed = await requirements('production', { remove: ['perf/load', 'never/added'] }, CI);
    expect(removed.body).toMatchObject({ required: ['ci/integration', 'sec/scan'], unchanged: ['never/added'] });
    expect(removed.body.changes).toEqual([expect.objectContaining({ context: 'perf/load', action: 'remove', by: CI })]);
    // clean up for the override tests
    await requirements('production', { remove: ['sec/scan'] });
  });

  test('a context declared in ddk.json cannot be removed at run time: the error says to edit ddk.json', async () => {
    const r = await requirements('production', { remove: ['ci/integration'] });
    expect(r.status).toBe(409);
    expect(r.body.message).toBe('ddk.json: pipeline.stages[1].requiredChecks: "ci/integration" is required by ddk.json for stage "production" and cannot be removed at run time; expected only contexts added at run time in "remove". Fix: remove it from the stage\'s requiredChecks in ddk.json and push: the pipeline updates itself');
  });

  test('a stage without a gate refuses run-time requirements', async () => {
    const r = await requirements('development', { add: ['ci/x'] });
    expect(r.status).toBe(409);
    expect(r.body.message).toBe('path.stage: stage "development" has no status-check gate (its ddk.json stage declares no requiredChecks), so contexts required at run time would never be checked; expected a stage with requiredChecks. Fix: add "requiredChecks" to pipeline.stages[0] in ddk.json and push');
  });

  test('malformed: nothing to change, a bad context, an unknown stage', async () => {
    expect((await requirements('production', {})).body.message).toMatch(/^body: \{\} changes nothing/);
    const bad = await requirements('production', { add: ['ci/ok', 'bad'] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^body\.add\[1\]: "bad" is not a valid context/);
    const unknown = await requirements('staging', { add: ['ci/x'] });
    expect(unknown.status).toBe(404);
  });

  test('percent-encoded path segments are decoded', async () => {
    const r = await call({ method: 'PUT', resource: '/requirements/{pipeline}/{stage}', path: { pipeline: 'myapp', stage: 'produc%74ion' }, body: { add: ['ci/integration'] }, principal: ALICE });
    expect(r.status).toBe(200);
    expect(r.body.stage).toBe('production');
  });
});

describe('POST /overrides', () => {
  test('round trip: refused while pending, recorded on error with who/when/why, replayed, then nothing left to override', async () => {
    const rev = revision();
    await gateWaiting(rev, 'exec-ovr');
    const body = { pipeline: 'myapp', stage: 'production', execution: 'exec-ovr', reason: 'the runner died; tests passed locally' };

    // not reported yet: refused
    const early = await overrideReq(body);
    expect(early.status).toBe(409);
    expect(early.body.message).toBe(`override refused for execution "exec-ovr" at stage "production" (revision ${rev}): an override only covers contexts in error, and ci/integration (not reported yet) is not: wait until it reports success or error (a failure cannot be overridden: fix it and report success)`);

    await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'pending' });
    expect((await overrideReq(body)).status).toBe(409);
    await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'failure' });
    expect((await overrideReq(body)).body.message).toContain('ci/integration (failure) is not');

    await report({ pipeline: 'myapp', revision: rev, context: 'ci/integration', state: 'error', description: 'runner lost' });
    eventBridge.resetHistory();
    const ok = await overrideReq(body);
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({
      replayed: false,
      override: {
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        pipeline: 'myapp',
        stage: 'production',
        execution: 'exec-ovr',
        revision: rev,
        contexts: ['ci/integration'],
        reason: 'the runner died; tests passed locally',
        by: ALICE,
        at: expect.stringMatching(/^\d{4}-/),
      },
    });
    expect(publishedEvents()).toEqual([expect.objectContaining({ detailType: DETAIL_TYPES.OVERRIDE_RECORDED, detail: ok.body.override })]);

    // a retry answers with the same override
    const retry = await overrideReq(body);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ replayed: true, override: ok.body.override });

    // someone else finds nothing left to override
    const other = await overrideReq({ ...body, reason: 'me too' }, CI);
    expect(other.status).toBe(409);
    expect(other.body.message).toContain('nothing to override: ci/integration is already overridden');
  });

  test('an execution no gate has seen is 404', async () => {
    const r = await overrideReq({ pipeline: 'myapp', stage: 'production', execution: 'exec-unknown', reason: 'x' });
    expect(r.status).toBe(404);
    expect(r.body.message).toMatch(/^body\.execution: no gate of stage "production" has run for execution "exec-unknown" of pipeline "myapp"/);
  });

  test('the author comes from the principal; a body "by" is refused', async () => {
    const r = await overrideReq({ pipeline: 'myapp', stage: 'production', execution: 'e', reason: 'x', by: 'arn:aws:iam::1:user/x' });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('body.by: is set by the server');
    const anonymous = await call({ method: 'POST', resource: '/overrides', body: { pipeline: 'myapp', stage: 'production', execution: 'e', reason: 'x' }, principal: null });
    expect(anonymous.status).toBe(403);
  });
});

describe('an unreadable store', () => {
  test('is 503 with the table and the cause', async () => {
    const doc = DynamoDBDocumentClient.from(local.client);
    const r = await handleApiRequest({ method: 'GET', resource: '/checks', query: { pipeline: 'myapp', revision: 'abc' }, principal: CI }, {
      store: new StatusCheckStore(doc, 'no-such-table'),
      events: { publish: async () => undefined },
      comments: { postCommitComment: async () => undefined },
      settings: SETTINGS,
      now: () => new Date(),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    expect(r.statusCode).toBe(503);
    expect(r.body.message).toMatch(/^the status-check table "no-such-table" could not be read \(ResourceNotFoundException: .*\)\. Fix: retry later/);
  });
});

describe('review deployments', () => {
  const reviewRecord = (reviewId: string, updatedAt: string, extra: Record<string, unknown> = {}) => ({
    pipeline: 'myapp',
    reviewId,
    sourceBranch: `feature/${reviewId}`,
    stackPrefix: `myapp-review-${reviewId}`,
    state: 'deployed' as const,
    requestedCommit: 'c'.repeat(40),
    deployedCommit: 'c'.repeat(40),
    url: `https://${reviewId}.example.com`,
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt,
    version: 1,
    ...extra,
  });

  beforeAll(async () => {
    const store = new ReviewStore(DynamoDBDocumentClient.from(local.client), local.tableName);
    await store.put(reviewRecord('pr1', '2030-01-01T00:00:00.000Z', { requestedSource: { type: 's3', bucket: 'b', key: 'k' }, destinationCommit: 'd'.repeat(40) }));
    await store.put(reviewRecord('pr2', '2030-01-03T00:00:00.000Z'));
    await store.put(reviewRecord('pr3', '2030-01-02T00:00:00.000Z', { state: 'destroyed', closeReason: 'merged' }));
  });

  test('GET /reviews: every review deployment of the pipeline, the most recently updated first, as ReviewRecords', async () => {
    const r = await call({ method: 'GET', resource: '/reviews', query: { pipeline: 'myapp' } });
    expect(r.status).toBe(200);
    expect(r.body.reviews.map((x: any) => [x.reviewId, x.state])).toEqual([['pr2', 'deployed'], ['pr3', 'destroyed'], ['pr1', 'deployed']]);
    // the controller's own fields are not part of the record
    expect(r.body.reviews[2]).toEqual(reviewRecord('pr1', '2030-01-01T00:00:00.000Z'));
  });

  test('GET /reviews: a missing or unknown pipeline is refused', async () => {
    expect((await call({ method: 'GET', resource: '/reviews' })).body.message).toMatch(/^query\.pipeline: is missing/);
    const other = await call({ method: 'GET', resource: '/reviews', query: { pipeline: 'other' } });
    expect(other.status).toBe(404);
    expect(other.body.message).toMatch(/^query\.pipeline: "other" is not a pipeline this API serves/);
  });

  test('POST /reviews/destroy: 202, after publishing "Review Destroy Requested" by the caller', async () => {
    const r = await call({ method: 'POST', resource: '/reviews/destroy', body: { pipeline: 'myapp', reviewId: 'pr2', reason: ' saving costs ' }, principal: ALICE });
    expect(r.status).toBe(202);
    expect(r.body.review).toEqual(reviewRecord('pr2', '2030-01-03T00:00:00.000Z'));
    expect(publishedEvents()).toEqual([{
      source: EVENT_SOURCE,
      detailType: REVIEW_DETAIL_TYPES.DESTROY_REQUESTED,
      bus: 'arn:aws:events:eu-west-1:111111111111:event-bus/default',
      detail: { pipeline: 'myapp', reviewId: 'pr2', reason: 'saving costs', by: ALICE },
    }]);
  });

  test('POST /reviews/destroy: an unknown review is 404 naming the ids that exist', async () => {
    const r = await call({ method: 'POST', resource: '/reviews/destroy', body: { pipeline: 'myapp', reviewId: 'pr9', reason: 'x' }, principal: ALICE });
    expect(r.status).toBe(404);
    expect(r.body.message).toBe('body.reviewId: "pr9" is not a review deployment of pipeline "myapp"; expected one of "pr2" (deployed), "pr3" (destroyed), "pr1" (deployed). Fix: pick an id from GET /reviews?pipeline=myapp (ddk-pipelines reviews)');
    expect(r.body.reviewIds).toEqual(['pr2', 'pr3', 'pr1']);
    expect(publishedEvents()).toEqual([]);
  });

  test('POST /reviews/destroy: bad bodies are 400 with every issue; the requester cannot be set in the body', async () => {
    const r = await call({ method: 'POST', resource: '/reviews/destroy', body: { pipeline: 'myapp', reviewId: 'PR 2', by: 'arn:aws:iam::1:user/x' }, principal: ALICE });
    expect(r.status).toBe(400);
    expect(r.body.issues).toEqual([
      expect.stringMatching(/^body\.by: is set by the server/),
      expect.stringMatching(/^body\.reviewId: "PR 2" is not a valid reviewId; expected a review id: lower-case letters, digits and -/),
      expect.stringMatching(/^body\.reason: is missing/),
    ]);
    expect(publishedEvents()).toEqual([]);
  });

  test('POST /reviews/destroy: an event EventBridge refuses is 502 and nothing is destroyed', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] });
    const r = await call({ method: 'POST', resource: '/reviews/destroy', body: { pipeline: 'myapp', reviewId: 'pr1', reason: 'x' }, principal: ALICE });
    expect(r.status).toBe(502);
    expect(r.body.message).toMatch(/^the "Review Destroy Requested" event could not be published \(EventBridge did not accept/);
  });
});

describe('releases', () => {
  const member = (service: string, c: string) => ({ service, revision: c.repeat(40) });
  const stored = (releaseId: string, startedAt: string, extra: Record<string, unknown> = {}) => ({
    pipeline: 'myapp',
    releaseId,
    execution: `${releaseId.slice(-4)}5678-1234-5678-abcd-12345678abcd`,
    members: [member('frontend', 'a'), member('backend', 'b')],
    state: 'started' as const,
    startedBy: ALICE,
    startedAt,
    updatedAt: startedAt,
    stages: [{ stage: 'hardening', status: 'InProgress', startedAt }],
    version: 1,
    releasePipeline: 'myapp-release',
    facts: { stages: {}, actions: {} },
    layout: { stages: [] },
    published: ['started'],
    outbox: [],
    eventCount: 1,
    missing: [],
    ...extra,
  });
  const OLD = 'r-20301128-100000-0001';
  const NEW = 'r-20301129-100000-0002';

  beforeAll(async () => {
    const store = new ReleaseStore(DynamoDBDocumentClient.from(local.client), local.tableName);
    await store.put(stored(OLD, '2030-11-28T10:00:00.000Z', { state: 'succeeded' }));
    await store.put(stored(NEW, '2030-11-29T10:00:00.000Z'));
    await store.putEvent('myapp', { n: 2, releaseId: NEW, detailType: RELEASE_DETAIL_TYPES.DEPLOYED, stage: 'hardening', at: '2030-11-29T10:05:00.000Z', detail: { releaseId: NEW, stage: 'hardening' } });
    await store.putEvent('myapp', { n: 1, releaseId: NEW, detailType: RELEASE_DETAIL_TYPES.STARTED, at: '2030-11-29T10:00:01.000Z', detail: { releaseId: NEW } });
    await store.recordCandidate('myapp', { service: 'frontend', revision: 'c'.repeat(40), execution: 'aaaaaaaa-1111-2222-3333-444444444444', recordedAt: '2030-11-29T09:00:00.000Z' });
    await store.recordCandidate('myapp', { service: 'backend', revision: 'd'.repeat(40), execution: 'bbbbbbbb-1111-2222-3333-444444444444', recordedAt: '2030-11-29T09:30:00.000Z' });
  });

  test('GET /releases: the pipeline\'s releases, newest first, as ReleaseRecords', async () => {
    const r = await call({ method: 'GET', resource: '/releases', query: { pipeline: 'myapp' } });
    expect(r.status).toBe(200);
    expect(r.body.releases.map((x: any) => [x.releaseId, x.state])).toEqual([[NEW, 'started'], [OLD, 'succeeded']]);
    // the release function's own fields are not part of the record
    expect(r.body.releases[0]).toEqual({
      pipeline: 'myapp',
      releaseId: NEW,
      execution: expect.any(String),
      members: [member('frontend', 'a'), member('backend', 'b')],
      state: 'started',
      startedBy: ALICE,
      startedAt: '2030-11-29T10:00:00.000Z',
      updatedAt: '2030-11-29T10:00:00.000Z',
      stages: [{ stage: 'hardening', status: 'InProgress', startedAt: '2030-11-29T10:00:00.000Z' }],
    });
  });

  test('GET /releases/{id}: the release and its events in order', async () => {
    const r = await call({ method: 'GET', resource: '/releases/{id}', path: { id: NEW }, query: { pipeline: 'myapp' } });
    expect(r.status).toBe(200);
    expect(r.body.release).toMatchObject({ releaseId: NEW, state: 'started' });
    expect(r.body.release).not.toHaveProperty('outbox');
    expect(r.body.events).toEqual([
      { releaseId: NEW, detailType: RELEASE_DETAIL_TYPES.STARTED, at: '2030-11-29T10:00:01.000Z', detail: { releaseId: NEW } },
      { releaseId: NEW, detailType: RELEASE_DETAIL_TYPES.DEPLOYED, stage: 'hardening', at: '2030-11-29T10:05:00.000Z', detail: { releaseId: NEW, stage: 'hardening' } },
    ]);
  });

  test('GET /releases/{id}: an unknown release is 404 naming the ids that exist; a malformed id is 400', async () => {
    const r = await call({ method: 'GET', resource: '/releases/{id}', path: { id: 'r-20301130-100000-9999' }, query: { pipeline: 'myapp' } });
    expect(r.status).toBe(404);
    expect(r.body.message).toBe(`path.id: "r-20301130-100000-9999" is not a release of pipeline "myapp"; expected one of "${NEW}" (started), "${OLD}" (succeeded). Fix: pick an id from GET /releases?pipeline=myapp (ddk-pipelines release list)`);
    expect(r.body.releaseIds).toEqual([NEW, OLD]);
    const bad = await call({ method: 'GET', resource: '/releases/{id}', path: { id: 'latest' }, query: { pipeline: 'myapp' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('path.id: "latest" is not a valid releaseId; expected a release id such as "r-20261129-143000-1a2b". Fix: use an id that GET /releases lists (ddk-pipelines release list)');
  });

  test('GET /releases/candidates: every service\'s latest candidate', async () => {
    const r = await call({ method: 'GET', resource: '/releases/candidates', query: { pipeline: 'myapp' } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      pipeline: 'myapp',
      candidates: [
        { service: 'backend', revision: 'd'.repeat(40), execution: 'bbbbbbbb-1111-2222-3333-444444444444', recordedAt: '2030-11-29T09:30:00.000Z' },
        { service: 'frontend', revision: 'c'.repeat(40), execution: 'aaaaaaaa-1111-2222-3333-444444444444', recordedAt: '2030-11-29T09:00:00.000Z' },
      ],
    });
  });

  test('a missing, unknown or extra query parameter is refused', async () => {
    expect((await call({ method: 'GET', resource: '/releases' })).body.message).toMatch(/^query\.pipeline: is missing/);
    const other = await call({ method: 'GET', resource: '/releases/candidates', query: { pipeline: 'other' } });
    expect(other.status).toBe(404);
    expect(other.body.message).toMatch(/^query\.pipeline: "other" is not a pipeline this API serves/);
    const extra = await call({ method: 'GET', resource: '/releases', query: { pipeline: 'myapp', state: 'started' } });
    expect(extra.status).toBe(400);
    expect(extra.body.message).toMatch(/^query\.state: is not a known field/);
    const unsigned = await call({ method: 'GET', resource: '/releases', query: { pipeline: 'myapp' }, principal: null });
    expect(unsigned.status).toBe(403);
  });
});
