import { CodePipelineClient, PutJobFailureResultCommand } from '@aws-sdk/client-codepipeline';
import type { CodePipelineEvent, Context } from 'aws-lambda';

/*
 * The change review: a CodePipeline Lambda invoke action (first cut: answers the job so the
 * pipeline never waits on it; the review itself follows).
 */

const codepipeline = new CodePipelineClient({});

export const handler = async (event: CodePipelineEvent, context?: Context): Promise<void> => {
  const job = event['CodePipeline.job'];
  await codepipeline.send(new PutJobFailureResultCommand({
    jobId: job.id,
    failureDetails: { type: 'JobFailed', message: 'The change review is not implemented yet', ...(context ? { externalExecutionId: context.awsRequestId } : {}) },
  }));
};
