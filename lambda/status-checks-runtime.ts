import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EventBridgePublisher } from '../lib/status-checks/events';
import { ENV, requireEnv, retentionDays } from '../lib/status-checks/shared';
import { StatusCheckStore } from '../lib/status-checks/store';

/*
 * What both status-check handlers build from their environment: the store, the event publisher
 * and a logger adapter. SDK clients take region, credentials and endpoints (e.g.
 * AWS_ENDPOINT_URL_DYNAMODB) from the SDK's own settings.
 */

/** The store, events, clock and logger the API and the gate share. */
export function sharedDependencies(logger: Logger) {
  return {
    store: new StatusCheckStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
      requireEnv(ENV.TABLE_NAME),
      { retentionDays: retentionDays() },
    ),
    events: new EventBridgePublisher(new EventBridgeClient({}), requireEnv(ENV.EVENT_BUS_NAME)),
    now: () => new Date(),
    logger: {
      info: (message: string, extra: Record<string, unknown> = {}) => logger.info(message, extra),
      warn: (message: string, extra: Record<string, unknown> = {}) => logger.warn(message, extra),
      error: (message: string, extra: Record<string, unknown> = {}) => logger.error(message, extra),
    },
  };
}
