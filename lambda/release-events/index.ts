import { Logger } from '@aws-lambda-powertools/logger';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { CodePipelineReleaseReader } from '../../lib/releases/codepipeline-reader';
import { ReleaseDependencies, runReleaseFunction } from '../../lib/releases/controller';
import { releaseSettings } from '../../lib/releases/events';
import { ReleaseStore } from '../../lib/releases/store';
import { CodePipelineJobResults } from '../../lib/reviews/adapters';
import { jobAnsweringHandler } from '../job-handler';
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
      releases: new ReleaseStore(shared.doc, shared.tableName, { retentionDays: shared.retentionDays }),
      events: shared.events,
      pipeline: new CodePipelineReleaseReader(codePipeline, settings.releasePipeline),
      jobs: new CodePipelineJobResults(codePipeline),
      now: shared.now,
      logger: shared.logger,
    };
  }
  return deps;
}

export const handler = jobAnsweringHandler('release function', logger, dependencies, runReleaseFunction);
