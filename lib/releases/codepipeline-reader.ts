// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with the SDK, into dist/lambda; the library entry point never loads it
import { CodePipelineClient, GetPipelineCommand, GetPipelineExecutionCommand, ListPipelineExecutionsCommand } from '@aws-sdk/client-codepipeline';
import type { ExecutionDescription, SourceRevisions } from './progress';
import { readLayout } from './progress';
import type { PipelineLayout } from './store';

/*
 * What the release function reads of the release pipeline: GetPipelineExecution (status,
 * variables, artifactRevisions, trigger), GetPipeline at the execution's pipeline version (its
 * stages and actions) and, when artifactRevisions does not name every service, the execution's
 * sourceRevisions from ListPipelineExecutions. An interface (what the controller needs) and an
 * SDK adapter (region, credentials and endpoints from the SDK's own settings).
 */

/** Reads the release pipeline. */
export interface ReleasePipelineReader {
  /** GetPipelineExecution's `pipelineExecution`; undefined when CodePipeline does not know the execution. */
  execution(execution: string): Promise<ExecutionDescription | undefined>;
  /** The pipeline's stages and actions at `version` (the current version when undefined). */
  layout(version: number | undefined): Promise<PipelineLayout>;
  /** ListPipelineExecutions' sourceRevisions of `execution` (empty when it is not among the newest executions). */
  sourceRevisions(execution: string): Promise<SourceRevisions>;
}

/** Pages of ListPipelineExecutions (100 executions each) searched for an execution's sourceRevisions. */
export const SOURCE_REVISION_PAGES = 3;

/** The SDK adapter, for one pipeline. */
export class CodePipelineReleaseReader implements ReleasePipelineReader {
  private readonly layouts = new Map<number, PipelineLayout>();

  constructor(private readonly client: CodePipelineClient, private readonly pipelineName: string) {}

  public async execution(execution: string): Promise<ExecutionDescription | undefined> {
    try {
      const out = await this.client.send(new GetPipelineExecutionCommand({ pipelineName: this.pipelineName, pipelineExecutionId: execution }));
      return out.pipelineExecution;
    } catch (e) {
      if ((e as { name?: string })?.name === 'PipelineExecutionNotFoundException') return undefined;
      throw e;
    }
  }

  public async layout(version: number | undefined): Promise<PipelineLayout> {
    const known = version === undefined ? undefined : this.layouts.get(version);
    if (known) return known;
    const out = await this.client.send(new GetPipelineCommand({ name: this.pipelineName, ...(version !== undefined ? { version } : {}) }));
    if (!out.pipeline) throw new Error(`CodePipeline GetPipeline of "${this.pipelineName}"${version !== undefined ? ` version ${version}` : ''} answered without a pipeline`);
    const layout = readLayout(out.pipeline);
    if (layout.pipelineVersion !== undefined) this.layouts.set(layout.pipelineVersion, layout);
    return layout;
  }

  public async sourceRevisions(execution: string): Promise<SourceRevisions> {
    let nextToken: string | undefined;
    for (let page = 0; page < SOURCE_REVISION_PAGES; page++) {
      const out = await this.client.send(new ListPipelineExecutionsCommand({
        pipelineName: this.pipelineName,
        maxResults: 100,
        ...(nextToken ? { nextToken } : {}),
      }));
      const found = out.pipelineExecutionSummaries?.find(s => s.pipelineExecutionId === execution);
      if (found) return found.sourceRevisions ?? [];
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
    return [];
  }
}
