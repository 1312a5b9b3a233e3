import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EventBridgePublisher } from '../lib/status-checks/events';
import { ENV, requireEnv, retentionDays } from '../lib/status-checks/shared';
import { StatusCheckStore } from '../lib/status-checks/store';

/*
 * What the handlers build from their environment: the table's document client, the status-check
 * store, the event publisher and a logger adapter. SDK clients take region, credentials and
 * endpoints (e.g. AWS_ENDPOINT_URL_DYNAMODB) from the SDK's own settings.
 */

/** The table, store, events, clock and logger every handler shares (the review and release stores use `doc` and `tableName` too). */
export function sharedDependencies(logger: Logger) {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  const tableName = requireEnv(ENV.TABLE_NAME);
  return {
    doc,
    tableName,
    retentionDays: retentionDays(),
    store: new StatusCheckStore(doc, tableName, { retentionDays: retentionDays() }),
    events: new EventBridgePublisher(new EventBridgeClient({}), requireEnv(ENV.EVENT_BUS_NAME)),
    now: () => new Date(),
    logger: {
      info: (message: string, extra: Record<string, unknown> = {}) => logger.info(message, extra),
      warn: (message: string, extra: Record<string, unknown> = {}) => logger.warn(message, extra),
      error: (message: string, extra: Record<string, unknown> = {}) => logger.error(message, extra),
    },
  };
}

