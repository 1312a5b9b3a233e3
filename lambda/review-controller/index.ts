import { Logger } from '@aws-lambda-powertools/logger';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodeCommitClient } from '@aws-sdk/client-codecommit';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import type { Context } from 'aws-lambda';
import { CodeBuildStarter, CodeCommitPullRequestCommenter, CodePipelineJobResults } from '../../lib/reviews/adapters';
import { ControllerDependencies, runController } from '../../lib/reviews/controller';
import { reviewSettings } from '../../lib/reviews/events';
import { DeployRoleStacks } from '../../lib/reviews/stacks';
import { ReviewStore } from '../../lib/reviews/store';
import { requireEnv } from '../../lib/status-checks/shared';
import { jobAnsweringHandler } from '../job-handler';
import { sharedDependencies } from '../status-checks-runtime';

/*
 * The review controller: CodeCommit pull-request events, the review pipelines' Request and
 * Close jobs, CodeBuild state changes of the review project, the sweep schedule and destroy
 * requests. A thin adapter over lib/reviews/controller.ts. SDK clients take region,
 * credentials and endpoints (e.g. AWS_ENDPOINT_URL_DYNAMODB) from the SDK's own settings; the
 * review environment is reached through its CDK deploy role. The raw event is never logged (a
 * CodePipeline job carries artifact credentials).
 */

const logger = new Logger({ serviceName: 'ddk-pipelines-review-controller' });
let deps: ControllerDependencies | undefined;

function dependencies(context?: Context): ControllerDependencies {
  if (deps === undefined) {
    const settings = reviewSettings();
    const shared = sharedDependencies(logger);
    const region = requireEnv('AWS_REGION');
    deps = {
      settings,
      reviews: new ReviewStore(shared.doc, shared.tableName, { retentionDays: shared.retentionDays }),
      checks: shared.store,
      events: shared.events,
      builds: new CodeBuildStarter(new CodeBuildClient({}), region, settings.source.repository),
      stacks: new DeployRoleStacks(settings),
      comments: new CodeCommitPullRequestCommenter(new CodeCommitClient({})),
      jobs: new CodePipelineJobResults(new CodePipelineClient({})),
      // the checks' reporter: this function (its ARN names the controller; Lambda gives no role ARN)
      reporter: context?.invokedFunctionArn ?? `review-controller:${settings.pipeline}`,
      region,
      now: shared.now,
      logger: shared.logger,
    };
  }
  return deps;
}

export const handler = jobAnsweringHandler('review controller', logger, dependencies, runController);
