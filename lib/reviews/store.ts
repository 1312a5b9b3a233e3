// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with the SDK, into dist/lambda; the library entry point never loads it
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
// eslint-disable-next-line import/no-extraneous-dependencies -- as above
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ReviewRecord } from './shared';
import { REVIEW_KEYS } from './shared';
import { TABLE_KEYS } from '../status-checks/shared';
import { isConditionFailure, TableStore } from '../status-checks/table-store';

/*
 * DynamoDB access for review records, in the status-check table (REVIEW_KEYS). Every write is
 * conditional on the version read (optimistic locking): `put` of a record with version n
 * succeeds only if the stored record has version n - 1 (or, for n = 1, none exists). The
 * controller re-reads and decides again on a conflict. A destroyed record expires after the
 * retention (DynamoDB TTL); a live one never does.
 */

/** Where a review build gets its source. */
export type BuildSource =
  /** The CodeCommit repository at a commit (sourceTypeOverride CODECOMMIT, sourceVersion). */
  | { readonly type: 'codecommit'; readonly commit: string }
  /** A connection source's artifact (sourceTypeOverride S3, sourceLocationOverride bucket/key). */
  | { readonly type: 's3'; readonly bucket: string; readonly key: string };

/** A review record as the controller stores it: the shared `ReviewRecord` plus what it needs later. */
export interface StoredReview extends ReviewRecord {
  /** The destination branch's tip (CodeCommit): PostCommentForPullRequest's beforeCommitId. */
  readonly destinationCommit?: string;
  /** Where the requested commit's source is (built when the running build finishes). */
  readonly requestedSource?: BuildSource;
}

/** The fields of `StoredReview` that are not `ReviewRecord`'s (the API and events leave them out). */
export const CONTROLLER_FIELDS = ['destinationCommit', 'requestedSource'] as const;

/** `record` as the API, the CLI and the events show it (`ReviewRecord`). */
export function publicRecord(record: StoredReview): ReviewRecord {
  const out: Record<string, unknown> = { ...record };
  for (const f of CONTROLLER_FIELDS) delete out[f];
  return out as unknown as ReviewRecord;
}

/** Another writer changed the record since it was read. */
export class ReviewConflictError extends Error {
  constructor(public readonly pipeline: string, public readonly reviewId: string, public readonly version: number) {
    super(`review "${reviewId}" of pipeline "${pipeline}" changed since it was read (expected version ${version - 1}); read it again and retry`);
    this.name = 'ReviewConflictError';
  }
}

/** Options of a `ReviewStore`. */
export interface ReviewStoreOptions {
  /** Days a destroyed review's record is kept (DynamoDB TTL). @default 365 */
  readonly retentionDays?: number;
}

const INTERNAL = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, TABLE_KEYS.timeToLive, 'kind']);

/** Review records in the status-check table. */
export class ReviewStore extends TableStore {
  constructor(doc: DynamoDBDocumentClient, tableName: string, options: ReviewStoreOptions = {}) {
    super(doc, tableName, options.retentionDays);
  }

  /** One review's record (strongly consistent). */
  public async get(pipeline: string, reviewId: string): Promise<StoredReview | undefined> {
    const out = await this.call('read', () => this.doc.send(new GetCommand({
      TableName: this.tableName,
      Key: { [TABLE_KEYS.partitionKey]: REVIEW_KEYS.reviews(pipeline), [TABLE_KEYS.sortKey]: REVIEW_KEYS.review(reviewId) },
      ConsistentRead: true,
    })));
    return out.Item ? fromItem(out.Item) : undefined;
  }

  /** Every review record of a pipeline, the most recently updated first. */
  public async list(pipeline: string): Promise<StoredReview[]> {
    const items = (await this.queryItems(REVIEW_KEYS.reviews(pipeline), REVIEW_KEYS.reviewPrefix)).map(fromItem);
    return items.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.reviewId.localeCompare(b.reviewId));
  }

  /**
   * Writes `record` if the stored one is still the version it was made from (`record.version - 1`,
   * or none for version 1); throws `ReviewConflictError` otherwise.
   */
  public async put(record: StoredReview): Promise<void> {
    if (!Number.isInteger(record.version) || record.version < 1) {
      throw new Error(`review "${record.reviewId}": version ${record.version} is not a whole number ≥ 1; expected the version decide() wrote`);
    }
    const first = record.version === 1;
    const expires = record.state === 'destroyed' ? { [TABLE_KEYS.timeToLive]: this.expiresAt(Date.parse(record.updatedAt)) } : {};
    try {
      await this.call('written', () => this.doc.send(new PutCommand({
        TableName: this.tableName,
        Item: {
          [TABLE_KEYS.partitionKey]: REVIEW_KEYS.reviews(record.pipeline),
          [TABLE_KEYS.sortKey]: REVIEW_KEYS.review(record.reviewId),
          kind: 'review',
          ...record,
          ...expires,
        },
        ConditionExpression: first ? 'attribute_not_exists(#pk)' : '#v = :previous',
        ExpressionAttributeNames: first ? { '#pk': TABLE_KEYS.partitionKey } : { '#v': 'version' },
        ...(first ? {} : { ExpressionAttributeValues: { ':previous': record.version - 1 } }),
      })), true);
    } catch (e) {
      if (isConditionFailure(e)) throw new ReviewConflictError(record.pipeline, record.reviewId, record.version);
      throw e;
    }
  }

}

function fromItem(item: Record<string, unknown>): StoredReview {
  return Object.fromEntries(Object.entries(item).filter(([k]) => !INTERNAL.has(k))) as unknown as StoredReview;
}

const shared = new Map<string, ReviewStore>();

/**
 * A store on `tableName` with a client from the SDK's own settings (region, credentials,
 * AWS_ENDPOINT_URL_DYNAMODB), made once per table: what the status-check API reads reviews with
 * unless it is given a store.
 */
export function reviewStoreFor(tableName: string): ReviewStore {
  let store = shared.get(tableName);
  if (!store) {
    store = new ReviewStore(DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }), tableName);
    shared.set(tableName, store);
  }
  return store;
}
