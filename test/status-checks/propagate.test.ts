import { CodeCommitClient, GetCommitCommand, PostCommentForComparedCommitCommand } from '@aws-sdk/client-codecommit';
import { mockClient } from 'aws-sdk-client-mock';
import { CodeCommitCommentPoster } from '../../lib/status-checks/propagate';

/*
 * PostCommentForComparedCommit requires beforeCommitId for every commit but a repository's first
 * (CodeCommit API reference); the poster reads the commit's parents with GetCommit. The requests
 * are asserted as the SDK would send them (aws-sdk-client-mock).
 */

const codeCommit = mockClient(CodeCommitClient);
const poster = new CodeCommitCommentPoster(new CodeCommitClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }));
const FIRST = '1'.repeat(40);
const SECOND = '2'.repeat(40);
const OTHER = '3'.repeat(40);
const MERGE = '4'.repeat(40);

beforeEach(() => {
  codeCommit.reset();
  codeCommit.on(PostCommentForComparedCommitCommand).resolves({});
  codeCommit.on(GetCommitCommand, { repositoryName: 'myapp', commitId: FIRST }).resolves({ commit: { commitId: FIRST, parents: [] } });
  codeCommit.on(GetCommitCommand, { repositoryName: 'myapp', commitId: SECOND }).resolves({ commit: { commitId: SECOND, parents: [FIRST] } });
  codeCommit.on(GetCommitCommand, { repositoryName: 'myapp', commitId: MERGE }).resolves({ commit: { commitId: MERGE, parents: [SECOND, OTHER] } });
});

function posted(): unknown[] {
  return codeCommit.commandCalls(PostCommentForComparedCommitCommand).map(c => c.args[0].input);
}

test('the repository\'s first commit: afterCommitId only', async () => {
  await poster.postCommitComment('myapp', FIRST, 'ok', 'token-1');
  expect(codeCommit.commandCalls(GetCommitCommand).map(c => c.args[0].input)).toEqual([{ repositoryName: 'myapp', commitId: FIRST }]);
  expect(posted()).toEqual([{ repositoryName: 'myapp', afterCommitId: FIRST, content: 'ok', clientRequestToken: 'token-1' }]);
});

test('a later commit: beforeCommitId is its parent', async () => {
  await poster.postCommitComment('myapp', SECOND, 'ok', 'token-2');
  expect(posted()).toEqual([{ repositoryName: 'myapp', beforeCommitId: FIRST, afterCommitId: SECOND, content: 'ok', clientRequestToken: 'token-2' }]);
});

test('a merge commit: beforeCommitId is its first parent (the branch merged into)', async () => {
  await poster.postCommitComment('myapp', MERGE, 'ok', 'token-3');
  expect(posted()).toEqual([{ repositoryName: 'myapp', beforeCommitId: SECOND, afterCommitId: MERGE, content: 'ok', clientRequestToken: 'token-3' }]);
});

test('GetCommit refused: the error reaches the caller and nothing is posted', async () => {
  codeCommit.on(GetCommitCommand).rejects(Object.assign(new Error('Could not find commit'), { name: 'CommitIdDoesNotExistException' }));
  await expect(poster.postCommitComment('myapp', 'f'.repeat(40), 'ok', 't')).rejects.toThrow('Could not find commit');
  expect(posted()).toEqual([]);
});
