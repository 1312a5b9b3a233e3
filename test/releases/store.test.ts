import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BACKEND, commit, EXECUTION, FRONTEND, LAYOUT, RELEASE_ID } from './fixtures';
import { RELEASE_DETAIL_TYPES, RELEASE_KEYS } from '../../lib/releases/shared';
import type { PendingReleaseEvent, StoredRelease } from '../../lib/releases/store';
import { publicRelease, ReleaseConflictError, ReleaseStore } from '../../lib/releases/store';
import { TABLE_KEYS } from '../../lib/status-checks/shared';
import { StoreUnavailableError } from '../../lib/status-checks/store';
import { LocalDynamo } from '../status-checks/local';

/*
 * Releases in the status-check table, through a real DynamoDB protocol server (dynalite):
 * optimistic locking, listing newest first, the execution index claimed once, events in order
 * and idempotent, candidates where a later one wins.
 */

let local: LocalDynamo;
let store: ReleaseStore;

beforeAll(async () => {
  local = await LocalDynamo.start('releases-store');
  const doc = DynamoDBDocumentClient.from(local.client, { marshallOptions: { removeUndefinedValues: true } });
  store = new ReleaseStore(doc, local.tableName, { retentionDays: 30 });
});

afterAll(async () => {
  await local.stop();
});

function release(releaseId: string, version: number, extra: Partial<StoredRelease> = {}): StoredRelease {
  return {
    pipeline: 'foo',
    releaseId,
    execution: EXECUTION,
    members: [{ service: 'foobar-frontend', revision: FRONTEND }, { service: 'foobar-backend', revision: BACKEND }],
    state: 'started',
    startedBy: 'arn:aws:sts::111111111111:assumed-role/release-managers/alice',
    startedAt: '2030-11-29T14:30:00.000Z',
    updatedAt: '2030-11-29T14:30:00.000Z',
    stages: [{ stage: 'hardening', status: 'InProgress', startedAt: '2030-11-29T14:31:00.000Z' }],
    version,
    releasePipeline: 'foo-release',
    facts: { pipeline: { state: 'STARTED', at: '2030-11-29T14:30:00.000Z', attempt: 1 }, stages: {}, actions: { 'hardening/Tests': { state: 'STARTED', at: '2030-11-29T14:32:00.000Z', attempt: 1 } } },
    layout: LAYOUT,
    published: ['started'],
    outbox: [],
    eventCount: 1,
    missing: [],
    ...extra,
  };
}

test('a release round-trips with its internal fields; publicRelease shows only the ReleaseRecord', async () => {
  const r = release(RELEASE_ID, 1, { note: 'derived' });
  await store.put(r);
  expect(await store.get('foo', RELEASE_ID)).toEqual(r);
  expect(await store.get('foo', 'r-20301129-143000-ffff')).toBeUndefined();
  expect(publicRelease(r)).toEqual({
    pipeline: 'foo', releaseId: RELEASE_ID, execution: EXECUTION, members: r.members, state: 'started', startedBy: r.startedBy, startedAt: r.startedAt, updatedAt: r.updatedAt, stages: r.stages,
  });
});

test('optimistic locking: a write made from an older version, a skipped version or a second first write is refused', async () => {
  const id = 'r-20301129-143001-0001';
  await store.put(release(id, 1));
  await store.put(release(id, 2, { state: 'succeeded' }));
  await expect(store.put(release(id, 2, { state: 'failed' }))).rejects.toThrow(ReleaseConflictError);
  await expect(store.put(release(id, 1))).rejects.toThrow(`release "${id}" of pipeline "foo" changed since it was read (expected version 0); read it again and retry`);
  await expect(store.put(release(id, 4))).rejects.toThrow(ReleaseConflictError);
  await expect(store.put(release(id, 0))).rejects.toThrow('version 0 is not a whole number ≥ 1');
  expect(await store.get('foo', id)).toMatchObject({ version: 2, state: 'succeeded' });
  // concurrent writers of the same version: exactly one wins
  const results = await Promise.allSettled([3, 3, 3].map(v => store.put(release(id, v))));
  expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(1);
});

test('list: the releases of a pipeline, newest first; execution index items are not releases', async () => {
  await store.put(release('r-20301201-100000-0001', 1, { pipeline: 'listed', startedAt: '2030-12-01T10:00:00.000Z' }));
  await store.put(release('r-20301203-100000-0001', 1, { pipeline: 'listed', startedAt: '2030-12-03T10:00:00.000Z' }));
  await store.put(release('r-20301202-100000-0001', 1, { pipeline: 'listed', startedAt: '2030-12-02T10:00:00.000Z' }));
  await store.claimExecution('listed', EXECUTION, 'r-20301201-100000-0001', new Date());
  expect((await store.list('listed')).map(r => r.releaseId)).toEqual(['r-20301203-100000-0001', 'r-20301202-100000-0001', 'r-20301201-100000-0001']);
  expect(await store.list('nothing')).toEqual([]);
});

test('the execution index: the first claim wins, later ones read it', async () => {
  const execution = '99999999-1234-5678-abcd-12345678abcd';
  expect(await store.releaseOfExecution('foo', execution)).toBeUndefined();
  const claims = await Promise.all(['r-20301129-143000-aaaa', 'r-20301129-143000-bbbb', 'r-20301129-143000-cccc'].map(id => store.claimExecution('foo', execution, id, new Date())));
  expect(new Set(claims).size).toBe(1);
  expect(await store.releaseOfExecution('foo', execution)).toBe(claims[0]);
  expect(await store.claimExecution('foo', execution, 'r-20301129-143000-dddd', new Date())).toBe(claims[0]);
});

test('events: in order of time and number, written again harmlessly, without the internal number', async () => {
  const event = (n: number, at: string, detailType: string, stage?: string): PendingReleaseEvent => ({
    n, releaseId: RELEASE_ID, detailType, ...(stage ? { stage } : {}), at, detail: { releaseId: RELEASE_ID, pipeline: 'foo', state: 'started', ...(stage ? { stage } : {}) },
  });
  const e1 = event(1, '2030-11-29T14:30:01.000Z', RELEASE_DETAIL_TYPES.STARTED);
  const e2 = event(2, '2030-11-29T14:35:00.000Z', RELEASE_DETAIL_TYPES.DEPLOYED, 'hardening');
  const e3 = event(3, '2030-11-29T14:35:00.000Z', RELEASE_DETAIL_TYPES.TESTED, 'hardening');
  for (const e of [e3, e1, e2, e3]) await store.putEvent('foo', e);
  const { n: _1, ...shown1 } = e1;
  expect(await store.events('foo', RELEASE_ID)).toEqual([shown1, expect.objectContaining({ detailType: RELEASE_DETAIL_TYPES.DEPLOYED }), expect.objectContaining({ detailType: RELEASE_DETAIL_TYPES.TESTED })]);
  expect(await store.events('foo', 'r-20301129-143000-ffff')).toEqual([]);
  // the key is RELEASE_KEYS.event(at, n) under the release's partition, expiring after the retention
  const item = (await local.client.send(new GetItemCommand({
    TableName: local.tableName,
    Key: { [TABLE_KEYS.partitionKey]: { S: RELEASE_KEYS.events('foo', RELEASE_ID) }, [TABLE_KEYS.sortKey]: { S: RELEASE_KEYS.event(e2.at, 2) } },
  }))).Item;
  expect(Number(item?.[TABLE_KEYS.timeToLive]?.N)).toBe(Date.parse(e2.at) / 1000 + 30 * 86_400);
});

test('candidates: the latest per service; an older one does not replace a newer one', async () => {
  const c = (service: string, revision: string, recordedAt: string) => ({ service, revision, execution: 'aaaaaaaa-1111-2222-3333-444444444444', recordedAt });
  expect(await store.recordCandidate('foo', c('foobar-backend', commit('1'), '2030-11-29T10:00:00.000Z'))).toEqual({ recorded: true, current: c('foobar-backend', commit('1'), '2030-11-29T10:00:00.000Z') });
  expect(await store.recordCandidate('foo', c('foobar-backend', commit('2'), '2030-11-29T11:00:00.000Z'))).toEqual({
    recorded: true, current: c('foobar-backend', commit('2'), '2030-11-29T11:00:00.000Z'), previous: c('foobar-backend', commit('1'), '2030-11-29T10:00:00.000Z'),
  });
  // a slower execution's job, recorded earlier in time, loses
  expect(await store.recordCandidate('foo', c('foobar-backend', commit('3'), '2030-11-29T10:30:00.000Z'))).toEqual({ recorded: false, current: c('foobar-backend', commit('2'), '2030-11-29T11:00:00.000Z') });
  await store.recordCandidate('foo', c('foobar-frontend', commit('4'), '2030-11-29T09:00:00.000Z'));
  expect((await store.candidates('foo')).map(x => [x.service, x.revision])).toEqual([['foobar-backend', commit('2')], ['foobar-frontend', commit('4')]]);
  // a candidate never expires
  const item = (await local.client.send(new GetItemCommand({
    TableName: local.tableName,
    Key: { [TABLE_KEYS.partitionKey]: { S: RELEASE_KEYS.candidates('foo') }, [TABLE_KEYS.sortKey]: { S: RELEASE_KEYS.candidate('foobar-backend') } },
  }))).Item;
  expect(item?.[TABLE_KEYS.timeToLive]).toBeUndefined();
});

test('a release expires after the retention counted from its last write', async () => {
  const id = 'r-20301129-143002-0002';
  await store.put(release(id, 1, { updatedAt: '2030-11-30T00:00:00.000Z' }));
  const item = (await local.client.send(new GetItemCommand({
    TableName: local.tableName,
    Key: { [TABLE_KEYS.partitionKey]: { S: RELEASE_KEYS.releases('foo') }, [TABLE_KEYS.sortKey]: { S: RELEASE_KEYS.release(id) } },
  }))).Item;
  expect(Number(item?.[TABLE_KEYS.timeToLive]?.N)).toBe(Date.parse('2030-11-30T00:00:00.000Z') / 1000 + 30 * 86_400);
  expect(item?.kind?.S).toBe('release');
});

test('an unreadable table is StoreUnavailableError naming the table', async () => {
  const missing = new ReleaseStore(DynamoDBDocumentClient.from(local.client), 'no-such-table');
  await expect(missing.get('foo', RELEASE_ID)).rejects.toThrow(StoreUnavailableError);
  await expect(missing.put(release(RELEASE_ID, 1))).rejects.toThrow(/^the status-check table "no-such-table" could not be written \(ResourceNotFoundException/);
  await expect(missing.candidates('foo')).rejects.toThrow(/could not be read/);
});
