import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { C1, C2 } from './controller-fixtures';
import { REVIEW_KEYS } from '../../lib/reviews/shared';
import type { StoredReview } from '../../lib/reviews/store';
import { ReviewConflictError, ReviewStore } from '../../lib/reviews/store';
import { TABLE_KEYS } from '../../lib/status-checks/shared';
import { StoreUnavailableError } from '../../lib/status-checks/store';
import { LocalDynamo } from '../status-checks/local';

/*
 * Review records in the status-check table, through a real DynamoDB protocol server (dynalite):
 * optimistic locking on `version`, listing newest first, TTL only once destroyed.
 */

let local: LocalDynamo;
let store: ReviewStore;

beforeAll(async () => {
  local = await LocalDynamo.start('reviews-store');
  const doc = DynamoDBDocumentClient.from(local.client, { marshallOptions: { removeUndefinedValues: true } });
  store = new ReviewStore(doc, local.tableName, { retentionDays: 30 });
});

afterAll(async () => {
  await local.stop();
});

function record(reviewId: string, version: number, extra: Partial<StoredReview> = {}): StoredReview {
  return {
    pipeline: 'myapp',
    reviewId,
    sourceBranch: 'feature/x',
    stackPrefix: `myapp-review-${reviewId}`,
    state: 'queued',
    requestedCommit: C1,
    requestedSource: { type: 's3', bucket: 'b', key: 'k' },
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
    version,
    ...extra,
  };
}

test('a record round-trips, controller fields included, table keys left out', async () => {
  const r = record('pr1', 1, { build: { id: 'b:1', commit: C1, startedAt: '2030-01-01T00:00:00.000Z' }, stacks: ['a', 'b'] });
  await store.put(r);
  expect(await store.get('myapp', 'pr1')).toEqual(r);
  expect(await store.get('myapp', 'pr404')).toBeUndefined();
  expect(await store.get('other', 'pr1')).toBeUndefined();
});

test('optimistic locking: a write made from an older version is refused', async () => {
  await store.put(record('pr2', 1));
  // two writers read version 1; the first writes version 2
  await store.put(record('pr2', 2, { requestedCommit: C2 }));
  // the second's version 2 conflicts, and so does a first write over an existing record
  await expect(store.put(record('pr2', 2, { state: 'destroying' }))).rejects.toThrow(ReviewConflictError);
  await expect(store.put(record('pr2', 1))).rejects.toThrow('review "pr2" of pipeline "myapp" changed since it was read (expected version 0); read it again and retry');
  // skipping a version is a conflict too
  await expect(store.put(record('pr2', 4))).rejects.toThrow(ReviewConflictError);
  expect(await store.get('myapp', 'pr2')).toMatchObject({ version: 2, requestedCommit: C2, state: 'queued' });
});

test('concurrent writers of the same version: exactly one wins', async () => {
  await store.put(record('pr3', 1));
  const results = await Promise.allSettled([2, 2, 2, 2].map((v, i) => store.put(record('pr3', v, { message: `writer ${i}` }))));
  expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(1);
  expect(results.filter(r => r.status === 'rejected').every(r => (r as PromiseRejectedResult).reason instanceof ReviewConflictError)).toBe(true);
});

test('list: every review of the pipeline, the most recently updated first', async () => {
  await store.put(record('pr10', 1, { pipeline: 'listed', updatedAt: '2030-01-02T00:00:00.000Z' }));
  await store.put(record('pr11', 1, { pipeline: 'listed', updatedAt: '2030-01-03T00:00:00.000Z' }));
  await store.put(record('pr12', 1, { pipeline: 'listed', updatedAt: '2030-01-01T00:00:00.000Z' }));
  expect((await store.list('listed')).map(r => r.reviewId)).toEqual(['pr11', 'pr10', 'pr12']);
  expect(await store.list('nothing-here')).toEqual([]);
});

test('only a destroyed record expires (DynamoDB TTL), after the retention', async () => {
  const key = (id: string) => ({ [TABLE_KEYS.partitionKey]: { S: REVIEW_KEYS.reviews('myapp') }, [TABLE_KEYS.sortKey]: { S: REVIEW_KEYS.review(id) } });
  await store.put(record('pr20', 1, { state: 'deployed' }));
  expect((await local.client.send(new GetItemCommand({ TableName: local.tableName, Key: key('pr20') }))).Item?.[TABLE_KEYS.timeToLive]).toBeUndefined();
  await store.put(record('pr20', 2, { state: 'destroyed', updatedAt: '2030-01-01T00:00:00.000Z' }));
  const item = (await local.client.send(new GetItemCommand({ TableName: local.tableName, Key: key('pr20') }))).Item;
  expect(Number(item?.[TABLE_KEYS.timeToLive]?.N)).toBe(Date.parse('2030-01-01T00:00:00.000Z') / 1000 + 30 * 86_400);
  expect(item?.kind?.S).toBe('review');
});

test('an unreadable table is StoreUnavailableError naming the table', async () => {
  const missing = new ReviewStore(DynamoDBDocumentClient.from(local.client), 'no-such-table');
  await expect(missing.get('myapp', 'pr1')).rejects.toThrow(StoreUnavailableError);
  await expect(missing.put(record('pr1', 1))).rejects.toThrow(/^the status-check table "no-such-table" could not be written \(ResourceNotFoundException/);
});
