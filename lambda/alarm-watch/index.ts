import { Logger } from '@aws-lambda-powertools/logger';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { CodePipelineJobResults } from '../../lib/reviews/adapters';
import { AwsAlarmReader } from '../../lib/safety/alarm-reader';
import { AlarmWatchDependencies, runAlarmWatch } from '../../lib/safety/alarm-watch';
import { readSafetyStages } from '../../lib/safety/settings';
import { jobAnsweringHandler } from '../job-handler';

/*
 * The alarm watch: a CodePipeline Lambda invoke action after a stage's deployments and tests.
 * A thin adapter over lib/safety/alarm-watch.ts. The raw event is never logged (a CodePipeline
 * job carries artifact credentials). A missing or malformed DDK_SAFETY_STAGES still answers the job.
 */

const logger = new Logger({ serviceName: 'ddk-pipelines-alarm-watch' });
let deps: AlarmWatchDependencies | undefined;

function dependencies(context?: Context): AlarmWatchDependencies {
  if (deps === undefined) {
    deps = {
      stages: readSafetyStages(),
      // arn:aws:lambda:<region>:<account>:function:<name>
      cicdAccount: context?.invokedFunctionArn?.split(':')[4] || undefined,
      reader: new AwsAlarmReader(new STSClient({})),
      jobs: new CodePipelineJobResults(new CodePipelineClient({})),
      now: () => new Date(),
      logger: {
        info: (message, extra = {}) => logger.info(message, extra),
        warn: (message, extra = {}) => logger.warn(message, extra),
        error: (message, extra = {}) => logger.error(message, extra),
      },
    };
  }
  return deps;
}

export const handler = jobAnsweringHandler('alarm watch', logger, dependencies, runAlarmWatch);
