import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ALICE, CI, LocalDynamo } from './local';
import { CheckReport, KEYS, TABLE_KEYS } from '../../lib/status-checks/shared';
import { DeclaredContextError, StatusCheckStore, StoreUnavailableError } from '../../lib/status-checks/store';

/*
 * The store's concurrency guarantees, made deterministic: SDK middleware holds back or fails
 * chosen writes so that the interleavings a busy table produces happen on every run.
 */

let local: LocalDynamo;
beforeAll(async () => {
  local = await LocalDynamo.start('status-checks-store');
});
afterAll(async () => {
  await local.stop();
});

let n = 0;
function report(extra: Partial<CheckReport> = {}): CheckReport {
  n += 1;
  return { pipeline: 'myapp', revision: `rev-${n}`, context: 'ci/integration', state: 'pending', ...extra };
}

/** A store whose client runs `hook` before each call (with the low-level input, marshalled by then). */
function storeWith(hook: (input: any) => Promise<void>): { store: StatusCheckStore; client: DynamoDBClient } {
  const client = new DynamoDBClient({ endpoint: local.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  client.middlewareStack.add(next => async args => {
    await hook(args.input);
    return next(args);
  }, { step: 'build', name: 'testHook' });
  return { store: new StatusCheckStore(DynamoDBDocumentClient.from(client), local.tableName, { retentionDays: 30 }), client };
}

const isLatestPut = (input: any, sequence: string) => input.Item?.[TABLE_KEYS.sortKey]?.S?.startsWith('LATEST#') && input.Item?.sequence?.N === sequence;

test('a slow writer with an older sequence never replaces the latest report', async () => {
  // GIVEN report 1's "latest" write is held back until report 2 is fully recorded
  let releaseFirst!: () => void;
  let firstReachedLatest!: () => void;
  const firstHeld = new Promise<void>(resolve => { releaseFirst = resolve; });
  const firstAtLatest = new Promise<void>(resolve => { firstReachedLatest = resolve; });
  const { store, client } = storeWith(async input => {
    if (isLatestPut(input, '1')) {
      firstReachedLatest();
      await firstHeld;
    }
  });
  const base = report();
  const first = store.recordCheck({ ...base, state: 'pending' }, CI, new Date());
  // report 1 has its sequence and history item, and waits before its "latest" write
  await firstAtLatest;
  const second = await store.recordCheck({ ...base, state: 'success' }, CI, new Date());
  expect(second.record.sequence).toBe(2);
  // WHEN the older write finally lands
  releaseFirst();
  const firstResult = await first;
  expect(firstResult.record.sequence).toBe(1);
  // THEN the latest is still report 2, and both are in the history
  const latest = await store.latestChecks(base.pipeline, base.revision);
  expect(latest.map(c => [c.state, c.sequence])).toEqual([['success', 2]]);
  expect((await store.history(base.pipeline, base.revision)).map(c => c.sequence)).toEqual([1, 2]);
  client.destroy();
});

test('a retry after a failure between the history and the latest write completes the latest', async () => {
  // GIVEN the "latest" write of the first attempt fails
  let failures = 1;
  const { store, client } = storeWith(async input => {
    if (isLatestPut(input, '1') && failures-- > 0) throw Object.assign(new Error('connection reset'), { name: 'NetworkingError' });
  });
  const r = report({ state: 'success', clientRequestId: 'retry-me' });
  await expect(store.recordCheck(r, CI, new Date())).rejects.toThrow(StoreUnavailableError);
  expect(await store.latestChecks(r.pipeline, r.revision)).toEqual([]);
  // WHEN the reporter retries with the same clientRequestId
  const retry = await store.recordCheck(r, CI, new Date());
  // THEN nothing new is recorded, and the latest now shows the report
  expect(retry.replayed).toBe(true);
  expect((await store.history(r.pipeline, r.revision))).toHaveLength(1);
  expect((await store.latestChecks(r.pipeline, r.revision)).map(c => c.state)).toEqual(['success']);
  client.destroy();
});

test('items expire after the retention (DynamoDB TTL attribute)', async () => {
  const { store, client } = storeWith(async () => undefined);
  const now = new Date('2030-01-01T00:00:00Z');
  const r = report();
  const { record } = await store.recordCheck(r, CI, now);
  const item = await local.client.send(new GetItemCommand({
    TableName: local.tableName,
    Key: { [TABLE_KEYS.partitionKey]: { S: KEYS.checks(r.pipeline, r.revision) }, [TABLE_KEYS.sortKey]: { S: KEYS.history(r.context, record.id) } },
  }));
  expect(Number(item.Item?.[TABLE_KEYS.timeToLive]?.N)).toBe(now.getTime() / 1000 + 30 * 86_400);
  client.destroy();
});

describe('run-time requirements', () => {
  const store = () => new StatusCheckStore(DynamoDBDocumentClient.from(local.client), local.tableName);
  const base = { pipeline: 'myapp', declared: ['ci/integration'], location: 'ddk.json: pipeline.stages[1].requiredChecks' };

  test('an older change arriving late does not replace a newer one', async () => {
    const s = store();
    await s.changeRequirements({ ...base, stage: 'late', add: ['sec/scan'], remove: [], by: ALICE, now: new Date('2030-01-02T00:00:00Z') });
    // a slow request, made earlier, that removes it
    const current = await s.requirementChanges('myapp', 'late');
    expect(current).toEqual([{ pipeline: 'myapp', stage: 'late', context: 'sec/scan', action: 'add', by: ALICE, at: '2030-01-02T00:00:00.000Z' }]);
    const late = await s.changeRequirements({ ...base, stage: 'late', add: [], remove: ['sec/scan'], by: CI, now: new Date('2030-01-01T00:00:00Z') });
    expect(late.changes).toHaveLength(1); // recorded in the history ...
    expect(await s.requirementChanges('myapp', 'late')).toEqual(current); // ... but the newer state stands
  });

  test('removing a declared context is refused before anything is written', async () => {
    const s = store();
    await expect(s.changeRequirements({ ...base, stage: 'declared', add: ['x/y'], remove: ['ci/integration'], by: ALICE, now: new Date() }))
      .rejects.toThrow(DeclaredContextError);
    expect(await s.requirementChanges('myapp', 'declared')).toEqual([]);
  });
});

test('overrides: the same principal, reason and contexts is one override', async () => {
  const s = new StatusCheckStore(DynamoDBDocumentClient.from(local.client), local.tableName);
  const o = { pipeline: 'myapp', stage: 'production', execution: 'exec-s', revision: 'r', contexts: ['b/b', 'a/a'], reason: 'why', by: ALICE };
  const [a, b] = await Promise.all([s.recordOverride(o, new Date()), s.recordOverride({ ...o, contexts: ['a/a', 'b/b'] }, new Date())]);
  expect(a.record.id).toBe(b.record.id);
  expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
  expect(a.record.contexts).toEqual(['a/a', 'b/b']);
  const other = await s.recordOverride({ ...o, by: CI }, new Date());
  expect(other.replayed).toBe(false);
  expect((await s.gateState('myapp', 'production', 'exec-s')).overrides).toHaveLength(2);
});
