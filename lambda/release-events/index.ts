import { Logger } from '@aws-lambda-powertools/logger';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { CodePipelineReleaseReader } from '../../lib/releases/codepipeline-reader';
import { ReleaseDependencies, ReleaseOutcome, runReleaseFunction } from '../../lib/releases/controller';
import { releaseSettings } from '../../lib/releases/events';
import { ReleaseStore } from '../../lib/releases/store';
import { CodePipelineJobResults } from '../../lib/reviews/adapters';
import { ENV, requireEnv, retentionDays } from '../../lib/status-checks/shared';
import { sharedDependencies } from '../status-checks-runtime';

/*
 * The release function: the service pipelines' Candidate jobs and the release pipeline's
 * state-change events. A thin adapter over lib/releases/controller.ts. SDK clients take
 * region, credentials and endpoints (e.g. AWS_ENDPOINT_URL_DYNAMODB) from the SDK's own
 * settings. The raw event is never logged (a CodePipeline job carries artifact credentials).
 */

const logger = new Logger({ serviceName: 'ddk-pipelines-release-events' });
let deps: ReleaseDependencies | undefined;

function dependencies(): ReleaseDependencies {
  if (deps === undefined) {
    const settings = releaseSettings();
    const shared = sharedDependencies(logger);
    const codePipeline = new CodePipelineClient({});
    deps = {
      settings,
      releases: new ReleaseStore(
        DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
        requireEnv(ENV.TABLE_NAME),
        { retentionDays: retentionDays() },
      ),
      events: shared.events,
      pipeline: new CodePipelineReleaseReader(codePipeline, settings.releasePipeline),
      jobs: new CodePipelineJobResults(codePipeline),
      now: shared.now,
      logger: shared.logger,
    };
  }
  return deps;
}

function jobIdOf(event: unknown): string | undefined {
  const job = (event as { 'CodePipeline.job'?: { id?: unknown } } | null)?.['CodePipeline.job'];
  return typeof job?.id === 'string' ? job.id : undefined;
}

export const handler = async (event: unknown, context?: Context): Promise<ReleaseOutcome> => {
  if (context) logger.addContext(context);
  let d: ReleaseDependencies;
  try {
    d = dependencies();
  } catch (e) {
    // a deployment defect (a missing or malformed variable): a job must still be answered
    logger.error('release function misconfigured', { error: (e as Error).message });
    const jobId = jobIdOf(event);
    if (jobId !== undefined) {
      await new CodePipelineJobResults(new CodePipelineClient({})).fail(jobId, `The release function is misconfigured: ${(e as Error).message}`, context?.awsRequestId);
      return { input: `CodePipeline job ${jobId}`, summaries: [(e as Error).message] };
    }
    throw e;
  }
  const outcome = await runReleaseFunction(event, d);
  logger.info('done', { input: outcome.input, summaries: outcome.summaries });
  return outcome;
};
