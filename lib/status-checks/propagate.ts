// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with the SDK, into dist/lambda; the library entry point never loads it
import { CodeCommitClient, GetCommitCommand, PostCommentForComparedCommitCommand } from '@aws-sdk/client-codecommit';
import { shortRevision } from './decision';
import type { CheckRecord, CheckState } from './shared';

/** Posts a check's result upstream, next to the code. */
export interface CommentPoster {
  /**
   * Comments on a commit. `token` makes the call idempotent: a retry with the same token
   * does not post a second comment.
   */
  postCommitComment(repository: string, commitId: string, content: string, token: string): Promise<void>;
}

/**
 * Comments on a CodeCommit commit with PostCommentForComparedCommit, the API for a comment on a
 * commit outside a pull request (a pipeline revision has none). CodeCommit requires
 * `beforeCommitId` for every commit but a repository's first: the comment goes on the comparison
 * of the commit with its first parent, which GetCommit reads.
 */
export class CodeCommitCommentPoster implements CommentPoster {
  constructor(private readonly client: CodeCommitClient) {}

  public async postCommitComment(repository: string, commitId: string, content: string, token: string): Promise<void> {
    const { commit } = await this.client.send(new GetCommitCommand({ repositoryName: repository, commitId }));
    const parent = commit?.parents?.[0];
    await this.client.send(new PostCommentForComparedCommitCommand({
      repositoryName: repository,
      ...(parent ? { beforeCommitId: parent } : {}),
      afterCommitId: commitId,
      content,
      clientRequestToken: token,
    }));
  }
}

const ICONS: Record<CheckState, string> = { pending: '⏳', success: '✅', failure: '❌', error: '⚠️' };

/** The comment text for a recorded check (Markdown). */
export function commitComment(record: CheckRecord): string {
  const lines = [`${ICONS[record.state]} **${record.context}**: ${record.state}${record.description ? ` — ${record.description}` : ''}`];
  if (record.targetUrl) lines.push('', `Details: ${record.targetUrl}`);
  const scope = record.stage ? `, stage ${record.stage}` : '';
  lines.push('', `Reported by ${record.reportedBy} at ${record.reportedAt} for revision ${shortRevision(record.revision)} (pipeline ${record.pipeline}${scope}; ddk-pipelines status checks).`);
  return lines.join('\n');
}
