import { Logger } from '@aws-lambda-powertools/logger';
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import type { CodePipelineEvent, Context } from 'aws-lambda';
import { CODEPIPELINE_TEXT_LIMITS, fit, GateDependencies, GateOutcome, runGate } from '../../lib/status-checks/gate';
import { pipelineSettings } from '../../lib/status-checks/shared';
import { sharedDependencies } from '../status-checks-runtime';

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
  deps ??= { ...sharedDependencies(logger), settings: pipelineSettings() };
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
    outcome = { kind: 'failure', message: fit(`The status-check gate is misconfigured: ${(e as Error).message}`, CODEPIPELINE_TEXT_LIMITS.failureMessage) };
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
