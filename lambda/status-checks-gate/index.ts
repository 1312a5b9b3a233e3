import { Logger } from '@aws-lambda-powertools/logger';
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CodePipelineEvent, Context } from 'aws-lambda';
import { EventBridgePublisher } from '../../lib/status-checks/events';
import { fit, GateDependencies, GateOutcome, runGate } from '../../lib/status-checks/gate';
import { ENV, requireEnv, retentionDays } from '../../lib/status-checks/shared';
import { StatusCheckStore } from '../../lib/status-checks/store';

/*
 * The status-check gate: a CodePipeline Lambda invoke action. A thin adapter over
 * lib/status-checks/gate.ts: while the gate waits it answers PutJobSuccessResult with a
 * continuation token (CodePipeline invokes it again), on pass PutJobSuccessResult, on fail,
 * timeout or an unreadable store PutJobFailureResult with the summary.
 */

const logger = new Logger({ serviceName: 'ddk-pipelines-status-checks-gate' });
const codepipeline = new CodePipelineClient({});
let deps: GateDependencies | undefined;

function dependencies(): GateDependencies {
  deps ??= {
    store: new StatusCheckStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
      requireEnv(ENV.TABLE_NAME),
      { retentionDays: retentionDays() },
    ),
    events: new EventBridgePublisher(new EventBridgeClient({}), requireEnv(ENV.EVENT_BUS_NAME)),
    now: () => new Date(),
    logger: {
      info: (message, extra = {}) => logger.info(message, extra),
      warn: (message, extra = {}) => logger.warn(message, extra),
      error: (message, extra = {}) => logger.error(message, extra),
    },
  };
  return deps;
}

export const handler = async (event: CodePipelineEvent, context?: Context): Promise<void> => {
  if (context) logger.addContext(context);
  const job = event['CodePipeline.job'];
  let outcome: GateOutcome;
  try {
    ({ outcome } = await runGate({
      id: job.id,
      userParameters: job.data.actionConfiguration.configuration.UserParameters,
      continuationToken: job.data.continuationToken,
    }, dependencies()));
  } catch (e) {
    // only a deployment defect gets here (e.g. a missing environment variable): fail closed
    logger.error('gate misconfigured', { error: (e as Error).message });
    outcome = { kind: 'failure', message: fit(`The status-check gate is misconfigured: ${(e as Error).message}`, 5000) };
  }
  switch (outcome.kind) {
    case 'success':
      await codepipeline.send(new PutJobSuccessResultCommand({
        jobId: job.id,
        executionDetails: { summary: outcome.summary, percentComplete: 100 },
      }));
      return;
    case 'continue':
      await codepipeline.send(new PutJobSuccessResultCommand({
        jobId: job.id,
        continuationToken: outcome.continuationToken,
        executionDetails: { summary: outcome.summary, percentComplete: outcome.percentComplete },
      }));
      return;
    case 'failure':
      await codepipeline.send(new PutJobFailureResultCommand({
        jobId: job.id,
        failureDetails: { type: 'JobFailed', message: outcome.message, externalExecutionId: context?.awsRequestId },
      }));
      return;
  }
};
