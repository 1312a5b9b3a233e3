// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with the SDK, into dist/lambda; the library entry point never loads it
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_KEYS } from './shared';

/*
 * What every store of the status-check table shares (checks, reviews, releases): the SDK call
 * wrapper that turns an outage into StoreUnavailableError, paged strongly consistent queries, and
 * the TTL of items.
 */

/** The table could not be read or written (the gate fails closed on it; the API answers 503). */
export class StoreUnavailableError extends Error {
  constructor(table: string, operation: string, cause: unknown) {
    const c = cause as { name?: string; message?: string };
    super(`the status-check table "${table}" could not be ${operation} (${c?.name ?? 'Error'}: ${c?.message ?? String(cause)})`);
    this.name = 'StoreUnavailableError';
  }
}

/** Whether an SDK error is DynamoDB's answer to a failed condition expression. */
export function isConditionFailure(e: unknown): boolean {
  return (e as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** A store of items in the status-check table. */
export abstract class TableStore {
  /** Seconds an item is kept after the time its TTL counts from. */
  protected readonly retentionSeconds: number;

  /**
   * @param retentionDays days items are kept (DynamoDB TTL); default 365
   */
  protected constructor(protected readonly doc: DynamoDBDocumentClient, public readonly tableName: string, retentionDays: number = 365) {
    this.retentionSeconds = retentionDays * 86_400;
  }

  /** Runs one SDK call; anything but an expected condition failure becomes a StoreUnavailableError. */
  protected async call<T>(operation: 'read' | 'written', fn: () => Promise<T>, conditional = false): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (conditional && isConditionFailure(e)) throw e;
      throw new StoreUnavailableError(this.tableName, operation, e);
    }
  }

  /** Every item of partition `pk` whose sort key starts with `prefix` (all of them for ''), every page, strongly consistent. */
  protected async queryItems(pk: string, prefix: string): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.call('read', () => this.doc.send(new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: prefix === '' ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: prefix === '' ? { '#pk': TABLE_KEYS.partitionKey } : { '#pk': TABLE_KEYS.partitionKey, '#sk': TABLE_KEYS.sortKey },
        ExpressionAttributeValues: prefix === '' ? { ':pk': pk } : { ':pk': pk, ':prefix': prefix },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      })));
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** The TTL (epoch seconds) of an item whose retention counts from `fromMs` (epoch milliseconds). */
  protected expiresAt(fromMs: number): number {
    return Math.floor(fromMs / 1000) + this.retentionSeconds;
  }
}
