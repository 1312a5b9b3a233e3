// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with the SDK, into dist/lambda; the library entry point never loads it
import { BatchGetProjectsCommand, CodeBuildClient, StartBuildCommand, StartBuildCommandInput } from '@aws-sdk/client-codebuild';
// eslint-disable-next-line import/no-extraneous-dependencies -- as above
import { CodeCommitClient, PostCommentForPullRequestCommand } from '@aws-sdk/client-codecommit';
// eslint-disable-next-line import/no-extraneous-dependencies -- as above
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import type { BuildRequest, CommentAction } from './decide';
import { partitionOf } from '../config/regions';
import { CODEPIPELINE_TEXT_LIMITS, fit } from '../status-checks/gate';

/*
 * The review controller's AWS calls other than DynamoDB, EventBridge and CloudFormation:
 * CodeBuild StartBuild, CodeCommit PostCommentForPullRequest, CodePipeline
 * PutJobSuccessResult / PutJobFailureResult. Each is an interface (what the controller needs)
 * and an SDK adapter (region, credentials and endpoints from the SDK's own settings).
 */

/** Starts review builds. */
export interface BuildStarter {
  /** Starts a build; resolves with its id (`project:uuid`). */
  start(request: BuildRequest): Promise<{ id: string }>;
}

/** The HTTPS clone URL of a CodeCommit repository (StartBuild's sourceLocationOverride for CODECOMMIT). */
export function codeCommitCloneUrl(region: string, repository: string): string {
  const suffix = partitionOf(region) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://git-codecommit.${region}.${suffix}/v1/repos/${repository}`;
}

/** StartBuild's input for a review build. */
export function startBuildInput(request: BuildRequest, options: { region: string; repository: string; buildspec?: string }): StartBuildCommandInput {
  const source: Partial<StartBuildCommandInput> = request.source.type === 'codecommit'
    ? { sourceTypeOverride: 'CODECOMMIT', sourceLocationOverride: codeCommitCloneUrl(options.region, options.repository), sourceVersion: request.source.commit }
    : { sourceTypeOverride: 'S3', sourceLocationOverride: `${request.source.bucket}/${request.source.key}` };
  return {
    projectName: request.projectName,
    ...source,
    // the project's inline buildspec belongs to its own (NO_SOURCE) source: with another source
    // type, CodeBuild would look for buildspec.yml in the checkout instead
    ...(options.buildspec === undefined ? {} : { buildspecOverride: options.buildspec }),
    environmentVariablesOverride: request.environmentVariables.map(v => ({ name: v.name, value: v.value, type: 'PLAINTEXT' })),
    idempotencyToken: request.idempotencyToken,
  };
}

/** CodeBuild StartBuild. */
export class CodeBuildStarter implements BuildStarter {
  /**
   * @param region the CICD account's region (the repository's, for a CodeCommit source)
   * @param repository the CodeCommit repository name (ReviewSettings.source.repository)
   */
  private readonly buildspecs = new Map<string, string>();

  constructor(private readonly client: CodeBuildClient, private readonly region: string, private readonly repository: string) {}

  public async start(request: BuildRequest): Promise<{ id: string }> {
    const buildspec = await this.buildspec(request.projectName);
    const input = startBuildInput(request, { region: this.region, repository: this.repository, buildspec });
    const out = await this.client.send(new StartBuildCommand(input));
    const id = out.build?.id;
    if (!id) throw new Error(`CodeBuild StartBuild of project "${request.projectName}" answered without a build id`);
    return { id };
  }

  /** The project's inline buildspec (BatchGetProjects, once per function instance). */
  private async buildspec(projectName: string): Promise<string> {
    const known = this.buildspecs.get(projectName);
    if (known !== undefined) return known;
    const out = await this.client.send(new BatchGetProjectsCommand({ names: [projectName] }));
    const buildspec = out.projects?.[0]?.source?.buildspec;
    if (!buildspec) {
      throw new Error(`CodeBuild project "${projectName}" has no inline buildspec (BatchGetProjects answered ${out.projects?.length ?? 0} project(s)); expected the review project the ReviewEnvironments construct creates. Fix: deploy the CICD stack again`);
    }
    this.buildspecs.set(projectName, buildspec);
    return buildspec;
  }
}

/** Comments on pull requests. */
export interface PullRequestCommenter {
  comment(c: CommentAction): Promise<void>;
}

/** CodeCommit PostCommentForPullRequest (a general comment on the comparison of the destination tip and the commit). */
export class CodeCommitPullRequestCommenter implements PullRequestCommenter {
  constructor(private readonly client: CodeCommitClient) {}

  public async comment(c: CommentAction): Promise<void> {
    await this.client.send(new PostCommentForPullRequestCommand({
      repositoryName: c.repository,
      pullRequestId: c.pullRequestId,
      beforeCommitId: c.beforeCommitId,
      afterCommitId: c.afterCommitId,
      content: c.content,
      clientRequestToken: c.token,
    }));
  }
}

/** Answers CodePipeline jobs (a job left unanswered holds the action until it times out). */
export interface JobResults {
  succeed(jobId: string, summary: string): Promise<void>;
  fail(jobId: string, message: string, externalExecutionId?: string): Promise<void>;
}

/** CodePipeline PutJobSuccessResult (with a continuation token while an action waits) / PutJobFailureResult. */
export class CodePipelineJobResults implements JobResults {
  constructor(private readonly client: CodePipelineClient) {}

  public async succeed(jobId: string, summary: string): Promise<void> {
    await this.client.send(new PutJobSuccessResultCommand({
      jobId,
      executionDetails: { summary: fit(summary, CODEPIPELINE_TEXT_LIMITS.summary), percentComplete: 100 },
    }));
  }

  /** PutJobSuccessResult with a continuation token: CodePipeline invokes the action again with it. */
  public async continueLater(jobId: string, continuationToken: string, summary: string, percentComplete: number): Promise<void> {
    await this.client.send(new PutJobSuccessResultCommand({
      jobId,
      continuationToken,
      executionDetails: { summary: fit(summary, CODEPIPELINE_TEXT_LIMITS.summary), percentComplete },
    }));
  }

  public async fail(jobId: string, message: string, externalExecutionId?: string): Promise<void> {
    await this.client.send(new PutJobFailureResultCommand({
      jobId,
      failureDetails: { type: 'JobFailed', message: fit(message, CODEPIPELINE_TEXT_LIMITS.failureMessage), ...(externalExecutionId ? { externalExecutionId } : {}) },
    }));
  }
}
