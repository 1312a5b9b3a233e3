// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with the SDK, into dist/lambda; the library entry point never loads it
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
// eslint-disable-next-line import/no-extraneous-dependencies -- as above
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ReleaseCandidate, ReleaseEventRecord, ReleaseRecord } from './shared';
import { RELEASE_KEYS } from './shared';
import { TABLE_KEYS } from '../status-checks/shared';
import { isConditionFailure, StoreUnavailableError, TableStore } from '../status-checks/table-store';

/*
 * DynamoDB access for releases, in the status-check table (RELEASE_KEYS): the release records,
 * each release's events, the services' latest candidates and the execution → release index.
 *
 * A release record is written conditionally on the version read (optimistic locking, as review
 * records are): `put` of version n succeeds only if the stored record has version n - 1 (or, for
 * n = 1, none exists). The execution index is claimed once (the first writer wins, later
 * writers read the winner's release id). Event items have deterministic keys (time and the
 * release's event number), so writing one again is harmless. A candidate is replaced only by
 * one recorded at the same time or later. Releases, events and index items expire after the
 * retention (DynamoDB TTL, counted from their last write); candidates never do.
 */

/** What the release function last knew of one stage, action or the execution itself. */
export interface ReleaseFact {
  /** CodePipeline's event state (STARTED, SUCCEEDED, FAILED, …). */
  readonly state: string;
  /** The event's time. */
  readonly at: string;
  /** `pipeline-execution-attempt` of the event. */
  readonly attempt: number;
  /** When it (first) started, if a STARTED event was seen. */
  readonly startedAt?: string;
  /** An action's `external-execution-summary`. */
  readonly summary?: string;
}

/** The state changes seen, the newest per execution, stage and action (`<stage>/<action>`). */
export interface ReleaseFacts {
  readonly pipeline?: ReleaseFact;
  readonly stages: Record<string, ReleaseFact>;
  readonly actions: Record<string, ReleaseFact>;
}

/** The release pipeline's stages and their actions, in order, at the execution's pipeline version (GetPipeline). */
export interface PipelineLayout {
  readonly pipelineVersion?: number;
  readonly stages: ReadonlyArray<{ readonly name: string; readonly actions: string[] }>;
}

/** A release event decided but not yet known to be recorded and published; `n` orders a release's events. */
export interface PendingReleaseEvent extends ReleaseEventRecord {
  readonly n: number;
}

/** A release as the function stores it: the shared `ReleaseRecord` plus what progress.ts needs. */
export interface StoredRelease extends ReleaseRecord {
  /** Optimistic-locking version, 1 for the first write. */
  readonly version: number;
  readonly releasePipeline: string;
  readonly facts: ReleaseFacts;
  readonly layout: PipelineLayout;
  /** Keys of the release events decided so far (`started`, `deployed:<stage>`, …), in order. */
  readonly published: string[];
  /** Events decided whose recording or publication has not been confirmed yet. */
  readonly outbox: PendingReleaseEvent[];
  /** Release events decided so far (the next one is `eventCount + 1`). */
  readonly eventCount: number;
  /** The time of the last event decided (events are never dated before it). */
  readonly lastEventAt?: string;
  /** Services whose revision is not known yet. */
  readonly missing: string[];
  /** Why the release id is not the execution's ReleaseId variable, when it is not. */
  readonly note?: string;
}

/** The fields of `StoredRelease` that `ReleaseRecord` has (what the API, the CLI and the events show). */
export const RELEASE_RECORD_FIELDS = ['pipeline', 'releaseId', 'execution', 'members', 'state', 'startedBy', 'startedAt', 'updatedAt', 'stages'] as const;

/** `record` as the API and the CLI show it (`ReleaseRecord`). */
export function publicRelease(record: StoredRelease): ReleaseRecord {
  const out: Record<string, unknown> = {};
  for (const f of RELEASE_RECORD_FIELDS) if (record[f] !== undefined) out[f] = record[f];
  return out as unknown as ReleaseRecord;
}

/** Another writer changed the release since it was read. */
export class ReleaseConflictError extends Error {
  constructor(public readonly pipeline: string, public readonly releaseId: string, public readonly version: number) {
    super(`release "${releaseId}" of pipeline "${pipeline}" changed since it was read (expected version ${version - 1}); read it again and retry`);
    this.name = 'ReleaseConflictError';
  }
}

/** What recording a candidate did. */
export interface CandidateResult {
  /** False when a candidate recorded later was already there (it stays). */
  readonly recorded: boolean;
  /** The service's latest candidate after the call. */
  readonly current: ReleaseCandidate;
  /** The candidate it replaced, if any. */
  readonly previous?: ReleaseCandidate;
}

/** Options of a `ReleaseStore`. */
export interface ReleaseStoreOptions {
  /** Days releases, their events and the execution index are kept after their last write (DynamoDB TTL). @default 365 */
  readonly retentionDays?: number;
}

const INTERNAL = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, TABLE_KEYS.timeToLive, 'kind']);

/** Releases, their events, candidates and the execution index in the status-check table. */
export class ReleaseStore extends TableStore {
  constructor(doc: DynamoDBDocumentClient, tableName: string, options: ReleaseStoreOptions = {}) {
    super(doc, tableName, options.retentionDays);
  }

  /** One release (strongly consistent). */
  public async get(pipeline: string, releaseId: string): Promise<StoredRelease | undefined> {
    const item = await this.getItem(RELEASE_KEYS.releases(pipeline), RELEASE_KEYS.release(releaseId));
    return item ? fromItem<StoredRelease>(item) : undefined;
  }

  /** Every release of a pipeline, the most recently started first. */
  public async list(pipeline: string): Promise<StoredRelease[]> {
    const items = await this.queryItems(RELEASE_KEYS.releases(pipeline), RELEASE_KEYS.releasePrefix);
    return items.map(i => fromItem<StoredRelease>(i))
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.releaseId.localeCompare(a.releaseId));
  }

  /**
   * Writes `record` if the stored one is still the version it was made from (`record.version - 1`,
   * or none for version 1); throws `ReleaseConflictError` otherwise.
   */
  public async put(record: StoredRelease): Promise<void> {
    if (!Number.isInteger(record.version) || record.version < 1) {
      throw new Error(`release "${record.releaseId}": version ${record.version} is not a whole number ≥ 1; expected the version progress() wrote`);
    }
    const first = record.version === 1;
    try {
      await this.call('written', () => this.doc.send(new PutCommand({
        TableName: this.tableName,
        Item: {
          [TABLE_KEYS.partitionKey]: RELEASE_KEYS.releases(record.pipeline),
          [TABLE_KEYS.sortKey]: RELEASE_KEYS.release(record.releaseId),
          kind: 'release',
          ...record,
          [TABLE_KEYS.timeToLive]: this.expiry(record.updatedAt),
        },
        ConditionExpression: first ? 'attribute_not_exists(#pk)' : '#v = :previous',
        ExpressionAttributeNames: first ? { '#pk': TABLE_KEYS.partitionKey } : { '#v': 'version' },
        ...(first ? {} : { ExpressionAttributeValues: { ':previous': record.version - 1 } }),
      })), true);
    } catch (e) {
      if (isConditionFailure(e)) throw new ReleaseConflictError(record.pipeline, record.releaseId, record.version);
      throw e;
    }
  }

  /** The release an execution of the release pipeline belongs to, if it was claimed. */
  public async releaseOfExecution(pipeline: string, execution: string): Promise<string | undefined> {
    const item = await this.getItem(RELEASE_KEYS.releases(pipeline), RELEASE_KEYS.execution(execution));
    return typeof item?.releaseId === 'string' ? item.releaseId : undefined;
  }

  /**
   * Claims `execution` for `releaseId` unless it is claimed already; returns the release id the
   * execution belongs to (this one, or the one a concurrent writer claimed first).
   */
  public async claimExecution(pipeline: string, execution: string, releaseId: string, at: Date): Promise<string> {
    const key = { [TABLE_KEYS.partitionKey]: RELEASE_KEYS.releases(pipeline), [TABLE_KEYS.sortKey]: RELEASE_KEYS.execution(execution) };
    try {
      await this.call('written', () => this.doc.send(new PutCommand({
        TableName: this.tableName,
        Item: { ...key, kind: 'release-execution', pipeline, execution, releaseId, claimedAt: at.toISOString(), [TABLE_KEYS.timeToLive]: this.expiry(at.toISOString()) },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
      })), true);
      return releaseId;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const winner = await this.releaseOfExecution(pipeline, execution);
      if (winner === undefined) throw new StoreUnavailableError(this.tableName, 'read', e);
      return winner;
    }
  }

  /** Records a release event (again: the same key, the same item). */
  public async putEvent(pipeline: string, event: PendingReleaseEvent): Promise<void> {
    await this.call('written', () => this.doc.send(new PutCommand({
      TableName: this.tableName,
      Item: {
        [TABLE_KEYS.partitionKey]: RELEASE_KEYS.events(pipeline, event.releaseId),
        [TABLE_KEYS.sortKey]: RELEASE_KEYS.event(event.at, event.n),
        kind: 'release-event',
        ...event,
        [TABLE_KEYS.timeToLive]: this.expiry(event.at),
      },
    })));
  }

  /** A release's recorded events, in order. */
  public async events(pipeline: string, releaseId: string): Promise<ReleaseEventRecord[]> {
    const items = await this.queryItems(RELEASE_KEYS.events(pipeline, releaseId), 'EVENT#');
    return items
      .map(i => fromItem<PendingReleaseEvent>(i))
      .sort((a, b) => a.at.localeCompare(b.at) || a.n - b.n)
      .map(({ n: _n, ...event }) => event);
  }

  /** Makes `candidate` its service's latest unless one recorded later is there already. */
  public async recordCandidate(pipeline: string, candidate: ReleaseCandidate): Promise<CandidateResult> {
    const key = { [TABLE_KEYS.partitionKey]: RELEASE_KEYS.candidates(pipeline), [TABLE_KEYS.sortKey]: RELEASE_KEYS.candidate(candidate.service) };
    try {
      const out = await this.call('written', () => this.doc.send(new PutCommand({
        TableName: this.tableName,
        Item: { ...key, kind: 'release-candidate', ...candidate },
        ConditionExpression: 'attribute_not_exists(#pk) OR #at <= :at',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey, '#at': 'recordedAt' },
        ExpressionAttributeValues: { ':at': candidate.recordedAt },
        ReturnValues: 'ALL_OLD',
      })), true);
      const previous = out.Attributes ? fromItem<ReleaseCandidate>(out.Attributes) : undefined;
      return { recorded: true, current: candidate, ...(previous ? { previous } : {}) };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const item = await this.getItem(key[TABLE_KEYS.partitionKey], key[TABLE_KEYS.sortKey]);
      if (!item) throw new StoreUnavailableError(this.tableName, 'read', e);
      return { recorded: false, current: fromItem<ReleaseCandidate>(item) };
    }
  }

  /** Every service's latest candidate, by service name. */
  public async candidates(pipeline: string): Promise<ReleaseCandidate[]> {
    const items = await this.queryItems(RELEASE_KEYS.candidates(pipeline), 'SERVICE#');
    return items.map(i => fromItem<ReleaseCandidate>(i)).sort((a, b) => a.service.localeCompare(b.service));
  }

  private async getItem(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.call('read', () => this.doc.send(new GetCommand({
      TableName: this.tableName,
      Key: { [TABLE_KEYS.partitionKey]: pk, [TABLE_KEYS.sortKey]: sk },
      ConsistentRead: true,
    })));
    return out.Item;
  }

  private expiry(at: string): number {
    return this.expiresAt(Date.parse(at));
  }
}


function fromItem<T>(item: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(item).filter(([k]) => !INTERNAL.has(k))) as T;
}

const shared = new Map<string, ReleaseStore>();

/**
 * A store on `tableName` with a client from the SDK's own settings (region, credentials,
 * AWS_ENDPOINT_URL_DYNAMODB), made once per table: what the status-check API reads releases
 * with unless it is given a store.
 */
export function releaseStoreFor(tableName: string): ReleaseStore {
  let store = shared.get(tableName);
  if (!store) {
    store = new ReleaseStore(DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }), tableName);
    shared.set(tableName, store);
  }
  return store;
}
