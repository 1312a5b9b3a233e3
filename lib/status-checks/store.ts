import { createHash, randomUUID } from 'crypto';
// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with the SDK, into dist/lambda; the library entry point never loads it
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CheckRecord, CheckReport, GateRecord, OverrideRecord, RequirementChange } from './shared';
import { KEYS, TABLE_KEYS, withoutUndefined } from './shared';
import { isConditionFailure, StoreUnavailableError, TableStore } from './table-store';
import type { ConditionOverride } from '../safety/shared';

export { StoreUnavailableError } from './table-store';

/*
 * DynamoDB access for the status checks (AWS SDK v3 document client; the client's endpoint comes
 * from the SDK's own settings, e.g. AWS_ENDPOINT_URL_DYNAMODB, never from here).
 *
 * Concurrency and retries:
 * - every report is its own history item, keyed by a unique report id, written with
 *   `attribute_not_exists`: concurrent reports never overwrite each other;
 * - each report gets a sequence number from an atomic counter per (pipeline, revision, context);
 *   the "latest" item is replaced only by a report with a higher sequence
 *   (`attribute_not_exists(sequence) OR sequence < :sequence`), so the latest wins whatever
 *   order the writes land in;
 * - a report with a `clientRequestId` has an id derived from reporter and request id: a retry
 *   finds the history item, records nothing new and re-applies "latest" (in case the first
 *   attempt stopped half-way).
 */

/** A run-time request to remove contexts that ddk.json declares. */
export class DeclaredContextError extends Error {
  constructor(public readonly contexts: string[], stage: string, location: string) {
    const list = contexts.map(c => `"${c}"`).join(', ');
    super(`${location}: ${list} ${contexts.length === 1 ? 'is' : 'are'} required by ddk.json for stage "${stage}" and cannot be removed at run time; expected only contexts added at run time in "remove". Fix: remove ${contexts.length === 1 ? 'it' : 'them'} from the stage's requiredChecks in ddk.json and push: the pipeline updates itself`);
    this.name = 'DeclaredContextError';
  }
}

/** A `clientRequestId` reused by the same reporter for a different report. */
export class IdempotencyConflictError extends Error {
  constructor(clientRequestId: string, existing: CheckRecord) {
    super(`body.clientRequestId: "${clientRequestId}" was already used by this reporter for a different report (${existing.context} ${existing.state} at ${existing.reportedAt}); expected the same body on a retry, or a new id for a new report. Fix: send a new clientRequestId with each new report`);
    this.name = 'IdempotencyConflictError';
  }
}

/** Result of recording a report. */
export interface RecordResult {
  readonly record: CheckRecord;
  /** The report was a retry of one already recorded (nothing new was written). */
  readonly replayed: boolean;
}

/** Result of a requirements change. */
export interface RequirementsResult {
  /** The changes written (contexts whose requirement changed). */
  readonly changes: RequirementChange[];
  /** Contexts the request named whose requirement was already as asked. */
  readonly unchanged: string[];
  /** The current run-time requirement of every context changed at run time. */
  readonly current: RequirementChange[];
}

/** A gate's state and the overrides of one execution at one stage. */
export interface GateState {
  readonly gate?: GateRecord;
  readonly overrides: OverrideRecord[];
}

/** Options of a `StatusCheckStore`. */
export interface StatusCheckStoreOptions {
  /** Days checks, gate records and overrides are kept (DynamoDB TTL). @default 365 */
  readonly retentionDays?: number;
}

const INTERNAL = new Set<string>([TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, TABLE_KEYS.timeToLive, 'kind']);

/** DynamoDB access for checks, requirements, gates and overrides. */
export class StatusCheckStore extends TableStore {
  constructor(doc: DynamoDBDocumentClient, tableName: string, options: StatusCheckStoreOptions = {}) {
    super(doc, tableName, options.retentionDays);
  }

  /** Records a report by `reportedBy` (an IAM principal ARN); retries with the same clientRequestId record nothing new. */
  public async recordCheck(report: CheckReport, reportedBy: string, now: Date): Promise<RecordResult> {
    const bodyHash = hash([report.pipeline, report.revision, report.context, report.state, report.targetUrl ?? '', report.description ?? '', report.stage ?? '']);
    const id = report.clientRequestId !== undefined ? hash([reportedBy, report.clientRequestId]).slice(0, 32) : randomUUID().replace(/-/g, '');
    const pk = KEYS.checks(report.pipeline, report.revision);
    const historyKey = { [TABLE_KEYS.partitionKey]: pk, [TABLE_KEYS.sortKey]: KEYS.history(report.context, id) };

    if (report.clientRequestId !== undefined) {
      const existing = await this.get<CheckRecord>(historyKey);
      if (existing) return this.replay(report.clientRequestId, existing, bodyHash);
    }

    const counter = await this.call('written', () => this.doc.send(new UpdateCommand({
      TableName: this.tableName,
      Key: { [TABLE_KEYS.partitionKey]: pk, [TABLE_KEYS.sortKey]: KEYS.sequence(report.context) },
      UpdateExpression: 'ADD #n :one SET #ttl = :ttl, #kind = :kind',
      ExpressionAttributeNames: { '#n': 'sequence', '#ttl': TABLE_KEYS.timeToLive, '#kind': 'kind' },
      ExpressionAttributeValues: { ':one': 1, ':ttl': this.expiry(now), ':kind': 'sequence' },
      ReturnValues: 'UPDATED_NEW',
    })));
    const sequence = Number(counter.Attributes?.sequence);

    const record: CheckRecord = withoutUndefined({
      id,
      pipeline: report.pipeline,
      revision: report.revision,
      context: report.context,
      state: report.state,
      targetUrl: report.targetUrl,
      description: report.description,
      stage: report.stage,
      clientRequestId: report.clientRequestId,
      sequence,
      reportedBy,
      reportedAt: now.toISOString(),
      bodyHash,
    });
    // a concurrent retry of the same report may win the race
    const existing = await this.putOnce(historyKey, 'history', record, now);
    if (existing) return this.replay(report.clientRequestId!, existing, bodyHash);
    await this.updateLatest(record, now);
    return { record, replayed: false };
  }

  /** The latest report per context and scope for a revision. */
  public async latestChecks(pipeline: string, revision: string): Promise<CheckRecord[]> {
    const items = await this.query<CheckRecord>(KEYS.checks(pipeline, revision), KEYS.latestPrefix);
    return items.sort((a, b) => a.context.localeCompare(b.context) || a.sequence - b.sequence);
  }

  /** Every report for a revision, per context in order of arrival. */
  public async history(pipeline: string, revision: string): Promise<CheckRecord[]> {
    const items = await this.query<CheckRecord>(KEYS.checks(pipeline, revision), KEYS.historyPrefix());
    return items.sort((a, b) => a.context.localeCompare(b.context) || a.sequence - b.sequence);
  }

  /** The current run-time requirement of each context changed at run time for a stage. */
  public async requirementChanges(pipeline: string, stage: string): Promise<RequirementChange[]> {
    const items = await this.query<RequirementChange>(KEYS.requirements(pipeline, stage), KEYS.requirementPrefix);
    return items.sort((a, b) => a.at.localeCompare(b.at) || a.context.localeCompare(b.context));
  }

  /**
   * Adds and removes required contexts of a stage at run time, keeping who and when (and a
   * history item per change). Removing a context ddk.json declares is refused.
   *
   * @param location where the stage is in ddk.json, for the refusal's message
   */
  public async changeRequirements(options: {
    pipeline: string;
    stage: string;
    declared: readonly string[];
    add: readonly string[];
    remove: readonly string[];
    by: string;
    now: Date;
    location: string;
  }): Promise<RequirementsResult> {
    const { pipeline, stage, declared, by, now } = options;
    const refused = options.remove.filter(c => declared.includes(c));
    if (refused.length > 0) throw new DeclaredContextError(refused, stage, options.location);

    const current = new Map((await this.requirementChanges(pipeline, stage)).map(c => [c.context, c]));
    const at = now.toISOString();
    const changes: RequirementChange[] = [];
    const unchanged: string[] = [];
    for (const c of options.add) {
      if (declared.includes(c) || current.get(c)?.action === 'add') unchanged.push(c);
      else changes.push({ pipeline, stage, context: c, action: 'add', by, at });
    }
    for (const c of options.remove) {
      if (current.get(c)?.action !== 'add') unchanged.push(c);
      else changes.push({ pipeline, stage, context: c, action: 'remove', by, at });
    }
    const pk = KEYS.requirements(pipeline, stage);
    for (const change of changes) {
      await this.call('written', () => this.doc.send(new PutCommand({
        TableName: this.tableName,
        Item: { [TABLE_KEYS.partitionKey]: pk, [TABLE_KEYS.sortKey]: KEYS.requirementHistory(at, randomUUID()), kind: 'requirement-history', ...change },
      })));
      try {
        // never let an older change (a slow concurrent request) replace a newer one
        await this.call('written', () => this.doc.send(new PutCommand({
          TableName: this.tableName,
          Item: { [TABLE_KEYS.partitionKey]: pk, [TABLE_KEYS.sortKey]: KEYS.requirement(change.context), kind: 'requirement', ...change },
          ConditionExpression: 'attribute_not_exists(#at) OR #at <= :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': at },
        })), true);
        current.set(change.context, change);
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    }
    return { changes, unchanged, current: [...current.values()] };
  }

  /** The gate record and the overrides of one execution at one stage. */
  public async gateState(pipeline: string, stage: string, execution: string): Promise<GateState> {
    const pk = KEYS.gate(pipeline, stage, execution);
    let gate: GateRecord | undefined;
    const overrides: OverrideRecord[] = [];
    for (const item of await this.queryItems(pk, '')) {
      const sk = String(item[TABLE_KEYS.sortKey]);
      if (sk === KEYS.gateState) gate = fromItem<GateRecord>(item);
      else if (sk.startsWith(KEYS.overridePrefix)) overrides.push(fromItem<OverrideRecord>(item));
    }
    overrides.sort((a, b) => a.at.localeCompare(b.at));
    return { gate, overrides };
  }

  /** Saves what the gate decided for an execution. */
  public async putGate(record: GateRecord, now: Date): Promise<void> {
    await this.call('written', () => this.doc.send(new PutCommand({
      TableName: this.tableName,
      Item: {
        [TABLE_KEYS.partitionKey]: KEYS.gate(record.pipeline, record.stage, record.execution),
        [TABLE_KEYS.sortKey]: KEYS.gateState,
        kind: 'gate',
        ...record,
        [TABLE_KEYS.timeToLive]: this.expiry(now),
      },
    })));
  }

  /** Records an override; the same principal, reason and contexts again is a retry and records nothing new. */
  public async recordOverride(o: Omit<OverrideRecord, 'id' | 'at'>, now: Date): Promise<{ record: OverrideRecord; replayed: boolean }> {
    const id = overrideId(o.by, o.reason, o.contexts);
    const key = { [TABLE_KEYS.partitionKey]: KEYS.gate(o.pipeline, o.stage, o.execution), [TABLE_KEYS.sortKey]: KEYS.override(id) };
    const record: OverrideRecord = { ...o, contexts: [...o.contexts].sort(), id, at: now.toISOString() };
    const existing = await this.putOnce(key, 'override', record, now);
    return existing ? { record: existing, replayed: true } : { record, replayed: false };
  }

  /**
   * Records an override of a stage condition (a deployment window) of an execution, beside the
   * gate's items of that execution and stage (`GATE#<pipeline>#<stage>#<execution>`,
   * `CONDITION#<type>#<id>`; the gate reads neither). The same principal, condition and reason
   * again is a retry: nothing new is written and the first record is returned.
   *
   * @param planPipeline the plan's pipeline (the table's pipelines are the plan's; with
   *   codepipeline-gitflow `o.pipeline` is the stage's own CodePipeline pipeline)
   */
  public async recordConditionOverride(planPipeline: string, o: Omit<ConditionOverride, 'at'>, now: Date): Promise<{ record: ConditionOverride; replayed: boolean }> {
    const key = conditionOverrideKey(planPipeline, o);
    const record: ConditionOverride = { ...o, at: now.toISOString() };
    const existing = await this.putOnce(key, 'condition-override', record, now);
    return existing ? { record: existing, replayed: true } : { record, replayed: false };
  }

  /** The condition override recorded for the same execution, stage, condition, principal and reason, if any. */
  public async conditionOverride(planPipeline: string, o: Omit<ConditionOverride, 'at'>): Promise<ConditionOverride | undefined> {
    return this.get<ConditionOverride>(conditionOverrideKey(planPipeline, o));
  }

  /**
   * Writes `record` under `key` unless an item is there already; returns that item, or
   * undefined when this call wrote it.
   */
  private async putOnce<T extends object>(key: Record<string, string>, kind: string, record: T, now: Date): Promise<T | undefined> {
    try {
      await this.call('written', () => this.doc.send(new PutCommand({
        TableName: this.tableName,
        Item: { ...key, kind, ...record, [TABLE_KEYS.timeToLive]: this.expiry(now) },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
      })), true);
      return undefined;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const existing = await this.get<T>(key);
      if (!existing) throw new StoreUnavailableError(this.tableName, 'read', e);
      return existing;
    }
  }

  private async replay(clientRequestId: string, existing: CheckRecord, bodyHash: string): Promise<RecordResult> {
    if (existing.bodyHash !== bodyHash) throw new IdempotencyConflictError(clientRequestId, existing);
    await this.updateLatest(existing, new Date(existing.reportedAt));
    return { record: existing, replayed: true };
  }

  /** Makes `record` the latest of its context and scope unless a report with a higher sequence is. */
  private async updateLatest(record: CheckRecord, now: Date): Promise<void> {
    try {
      await this.call('written', () => this.doc.send(new PutCommand({
        TableName: this.tableName,
        Item: {
          [TABLE_KEYS.partitionKey]: KEYS.checks(record.pipeline, record.revision),
          [TABLE_KEYS.sortKey]: KEYS.latest(record.context, record.stage),
          kind: 'latest',
          ...record,
          [TABLE_KEYS.timeToLive]: this.expiry(now),
        },
        ConditionExpression: 'attribute_not_exists(#seq) OR #seq < :seq',
        ExpressionAttributeNames: { '#seq': 'sequence' },
        ExpressionAttributeValues: { ':seq': record.sequence },
      })), true);
    } catch (e) {
      if (!isConditionFailure(e)) throw e; // else a later report is already the latest
    }
  }

  private async get<T>(key: Record<string, string>): Promise<T | undefined> {
    const out = await this.call('read', () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })));
    return out.Item ? fromItem<T>(out.Item) : undefined;
  }

  private async query<T>(pk: string, prefix: string): Promise<T[]> {
    return (await this.queryItems(pk, prefix)).map(item => fromItem<T>(item));
  }

  private expiry(now: Date): number {
    return this.expiresAt(now.getTime());
  }
}

/** The id of an override: the same principal, reason and contexts give the same id. */
export function overrideId(by: string, reason: string, contexts: readonly string[]): string {
  return hash([by, reason, [...contexts].sort().join(',')]).slice(0, 32);
}

function conditionOverrideKey(planPipeline: string, o: Omit<ConditionOverride, 'at'>): Record<string, string> {
  const id = hash([o.by, o.conditionType, o.reason]).slice(0, 32);
  return {
    [TABLE_KEYS.partitionKey]: KEYS.gate(planPipeline, o.stage, o.executionId),
    [TABLE_KEYS.sortKey]: KEYS.conditionOverride(o.conditionType, id),
  };
}

function hash(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

function fromItem<T>(item: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(item).filter(([k]) => !INTERNAL.has(k))) as T;
}
