import type { Logger } from '@aws-lambda-powertools/logger';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import type { Context } from 'aws-lambda';
import { CodePipelineJobResults } from '../lib/reviews/adapters';

/*
 * The wrapper of the handlers CodePipeline invokes as jobs (review controller, release function).
 */

/** What a handler that CodePipeline may invoke as a job returns: its input and what it did. */
export interface JobHandlerOutcome {
  readonly input: string;
  readonly summaries: string[];
}

function jobIdOf(event: unknown): string | undefined {
  const job = (event as { 'CodePipeline.job'?: { id?: unknown } } | null)?.['CodePipeline.job'];
  return typeof job?.id === 'string' ? job.id : undefined;
}

/**
 * A handler over `run` that still answers a CodePipeline job when its dependencies cannot be
 * built (a deployment defect such as a missing variable): a job left unanswered holds its
 * pipeline until the action times out. Other inputs rethrow the defect.
 *
 * @param name the function, as the failure message names it ("review controller")
 */
export function jobAnsweringHandler<D, O extends JobHandlerOutcome>(
  name: string, logger: Logger, dependencies: (context?: Context) => D, run: (event: unknown, deps: D) => Promise<O>,
): (event: unknown, context?: Context) => Promise<O | JobHandlerOutcome> {
  return async (event, context) => {
    if (context) logger.addContext(context);
    let deps: D;
    try {
      deps = dependencies(context);
    } catch (e) {
      logger.error(`${name} misconfigured`, { error: (e as Error).message });
      const jobId = jobIdOf(event);
      if (jobId !== undefined) {
        await new CodePipelineJobResults(new CodePipelineClient({})).fail(jobId, `The ${name} is misconfigured: ${(e as Error).message}`, context?.awsRequestId);
        return { input: `CodePipeline job ${jobId}`, summaries: [(e as Error).message] };
      }
      throw e;
    }
    const outcome = await run(event, deps);
    logger.info('done', { input: outcome.input, summaries: outcome.summaries });
    return outcome;
  };
}
