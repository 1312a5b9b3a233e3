import { Readable } from 'stream';
import {
  BranchNameExistsException,
  CodeCommitClient,
  CreateBranchCommand,
  CreateCommitCommand,
  GetBranchCommand,
  GetRepositoryCommand,
  ListBranchesCommand,
  ParentCommitIdRequiredException,
  RepositoryDoesNotExistException,
} from '@aws-sdk/client-codecommit';
import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ACCESS_DENIED_WAITS, createClient, handler as entryPoint, logger, MAX_ATTEMPTS, seedRepository, SeedResponse } from '../../lambda/seed-repository';
import type { RepositorySeedSpec } from '../../lib/pipelines/repository-seed';

const PROPS: RepositorySeedSpec = {
  repositoryName: 'myapp',
  files: [{ path: 'README.md', content: '# myapp\n' }, { path: 'ddk.json', content: '{"tags":{"application":"myapp"}}\n' }],
  branches: ['dev', 'staging'],
  defaultBranch: 'main',
  commitMessage: 'Initial commit by ddk-pipelines',
  authorName: 'ddk-pipelines',
};
const SEED = 'a'.repeat(40);
const USER_HEAD = 'b'.repeat(40);

function event(requestType: 'Create' | 'Update' | 'Delete', props: RepositorySeedSpec = PROPS): CloudFormationCustomResourceEvent {
  const base = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
    ResponseURL: 'https://example.com/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/myapp-pipeline/1',
    RequestId: 'r-1',
    LogicalResourceId: 'SeederResource',
    ResourceType: 'Custom::DdkRepositorySeed',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider', ...props },
  };
  if (requestType === 'Create') return { ...base, RequestType: 'Create' };
  if (requestType === 'Update') return { ...base, RequestType: 'Update', PhysicalResourceId: 'myapp', OldResourceProperties: { ...base.ResourceProperties, branches: ['dev'] } };
  return { ...base, RequestType: 'Delete', PhysicalResourceId: 'myapp' };
}

beforeAll(() => logger.setLogLevel('SILENT'));

/** The Lambda entry point, with a seed event. */
function handler(e: CloudFormationCustomResourceEvent): Promise<SeedResponse> {
  return entryPoint(e) as Promise<SeedResponse>;
}

describe('seed-repository handler (CodeCommit mocked)', () => {
  let cc: AwsStub<any, any, any>;
  beforeEach(() => {
    cc = mockClient(CodeCommitClient);
  });
  afterEach(() => cc.restore());

  /** A repository with these branches (name → head); the default branch is the first one. */
  function repository(heads: Record<string, string>) {
    const names = Object.keys(heads);
    cc.on(GetRepositoryCommand).resolves({ repositoryMetadata: { repositoryName: 'myapp', defaultBranch: names[0] } });
    cc.on(ListBranchesCommand).resolves({ branches: names });
    for (const [name, commitId] of Object.entries(heads)) {
      cc.on(GetBranchCommand, { repositoryName: 'myapp', branchName: name }).resolves({ branch: { branchName: name, commitId } });
    }
    cc.on(CreateCommitCommand).resolves({ commitId: SEED });
    cc.on(CreateBranchCommand).resolves({});
  }

  test('empty repository: one initial commit with the files on main, then dev and staging from it', async () => {
    repository({});
    const res = await handler(event('Create'));

    expect(cc).toHaveReceivedCommandTimes(CreateCommitCommand, 1);
    expect(cc).toHaveReceivedCommandWith(CreateCommitCommand, {
      repositoryName: 'myapp',
      branchName: 'main',
      commitMessage: 'Initial commit by ddk-pipelines',
      authorName: 'ddk-pipelines',
    });
    const commit = cc.commandCalls(CreateCommitCommand)[0].args[0].input;
    expect(commit.parentCommitId).toBeUndefined();
    expect(commit.putFiles!.map(f => [f.filePath, Buffer.from(f.fileContent!).toString('utf8')])).toEqual([
      ['README.md', '# myapp\n'],
      ['ddk.json', '{"tags":{"application":"myapp"}}\n'],
    ]);
    expect(cc.commandCalls(CreateBranchCommand).map(c => c.args[0].input)).toEqual([
      { repositoryName: 'myapp', branchName: 'dev', commitId: SEED },
      { repositoryName: 'myapp', branchName: 'staging', commitId: SEED },
    ]);
    expect(cc).not.toHaveReceivedCommand(GetBranchCommand); // the seed commit id is known
    expect(res).toEqual({
      PhysicalResourceId: 'myapp',
      Data: { SeedCommitId: SEED, CreatedBranches: 'main,dev,staging', ExistingBranches: '' },
    });
  });

  test('already-seeded repository: reads only, writes nothing', async () => {
    repository({ main: USER_HEAD, dev: USER_HEAD, staging: USER_HEAD });
    const res = await handler(event('Create'));

    expect(cc).toHaveReceivedCommand(GetRepositoryCommand);
    expect(cc).toHaveReceivedCommand(ListBranchesCommand);
    expect(cc).not.toHaveReceivedCommand(CreateCommitCommand);
    expect(cc).not.toHaveReceivedCommand(CreateBranchCommand);
    expect(res.Data).toEqual({ SeedCommitId: '', CreatedBranches: '', ExistingBranches: 'main,dev,staging' });
  });

  test('existing branch: no initial commit, dev left untouched, staging created from the head of main', async () => {
    // GIVEN a user already pushed main and dev
    repository({ main: USER_HEAD, dev: 'c'.repeat(40) });
    const res = await handler(event('Create'));

    expect(cc).not.toHaveReceivedCommand(CreateCommitCommand);
    expect(cc).toHaveReceivedCommandWith(GetBranchCommand, { repositoryName: 'myapp', branchName: 'main' });
    expect(cc.commandCalls(CreateBranchCommand).map(c => c.args[0].input)).toEqual([
      { repositoryName: 'myapp', branchName: 'staging', commitId: USER_HEAD },
    ]);
    expect(res.Data).toEqual({ SeedCommitId: '', CreatedBranches: 'staging', ExistingBranches: 'main,dev' });
  });

  test('update adding a branch creates only that branch', async () => {
    repository({ main: USER_HEAD, dev: USER_HEAD, staging: USER_HEAD });
    const res = await handler(event('Update', { ...PROPS, branches: ['dev', 'staging', 'release'] }));
    expect(cc.commandCalls(CreateBranchCommand).map(c => c.args[0].input.branchName)).toEqual(['release']);
    expect(cc).not.toHaveReceivedCommand(CreateCommitCommand);
    expect(res.PhysicalResourceId).toBe('myapp');
  });

  test('branches of every ListBranches page count as existing', async () => {
    repository({});
    cc.on(GetRepositoryCommand).resolves({ repositoryMetadata: { defaultBranch: 'main' } });
    cc.on(ListBranchesCommand)
      .resolvesOnce({ branches: ['main'], nextToken: 'page-2' })
      .resolvesOnce({ branches: ['dev', 'staging'] });
    await handler(event('Create'));
    expect(cc).toHaveReceivedNthSpecificCommandWith(2, ListBranchesCommand, { repositoryName: 'myapp', nextToken: 'page-2' });
    expect(cc).not.toHaveReceivedCommand(CreateCommitCommand);
    expect(cc).not.toHaveReceivedCommand(CreateBranchCommand);
  });

  test('AccessDenied while the handler role\'s new policy propagates: tried again, the seed completes once', async () => {
    // GIVEN IAM denies the first read (the role's policy is not in effect yet), then allows
    repository({});
    const denied = Object.assign(new Error('User is not authorized to perform codecommit:GetRepository'), { name: 'AccessDeniedException' });
    cc.on(GetRepositoryCommand).rejectsOnce(denied).resolves({ repositoryMetadata: { repositoryName: 'myapp' } });
    const waits: number[] = [];
    const res = await seedRepository(event('Create'), createClient(), async s => { waits.push(s); });
    // THEN one wait, and one initial commit
    expect(waits).toEqual([ACCESS_DENIED_WAITS[0]]);
    expect(cc).toHaveReceivedCommandTimes(CreateCommitCommand, 1);
    expect(res.Data?.CreatedBranches).toBe('main,dev,staging');
  });

  test('delete: no CodeCommit call at all, the physical id is kept', async () => {
    repository({ main: USER_HEAD });
    await expect(handler(event('Delete'))).resolves.toEqual({ PhysicalResourceId: 'myapp' });
    expect(cc.calls()).toHaveLength(0);
  });

  test('a branch created by someone else meanwhile is left as theirs, and the request succeeds', async () => {
    repository({ main: USER_HEAD });
    cc.on(CreateBranchCommand, { branchName: 'dev' }).rejects(new BranchNameExistsException({ message: 'Branch dev already exists', $metadata: {} }));
    const res = await handler(event('Create'));
    expect(cc).toHaveReceivedCommandTimes(CreateBranchCommand, 2);
    expect(res.Data?.CreatedBranches).toBe('staging');
  });

  test('a first commit pushed while seeding: planned again, no initial commit forced over it', async () => {
    cc.on(GetRepositoryCommand)
      .resolvesOnce({ repositoryMetadata: {} })
      .resolves({ repositoryMetadata: { defaultBranch: 'main' } });
    cc.on(ListBranchesCommand).resolvesOnce({ branches: [] }).resolves({ branches: ['main'] });
    cc.on(CreateCommitCommand).rejects(new ParentCommitIdRequiredException({ message: 'A parent commit ID is required', $metadata: {} }));
    cc.on(GetBranchCommand).resolves({ branch: { branchName: 'main', commitId: USER_HEAD } });
    cc.on(CreateBranchCommand).resolves({});

    const res = await handler(event('Create'));
    expect(cc).toHaveReceivedCommandTimes(CreateCommitCommand, 1);
    expect(cc.commandCalls(CreateBranchCommand).map(c => c.args[0].input)).toEqual([
      { repositoryName: 'myapp', branchName: 'dev', commitId: USER_HEAD },
      { repositoryName: 'myapp', branchName: 'staging', commitId: USER_HEAD },
    ]);
    expect(res.Data?.SeedCommitId).toBe('');
  });

  test('many long branch names: the response stays under CloudFormation\'s 4,096-byte limit, and says how many it cut', async () => {
    repository({});
    const branches = Array.from({ length: 80 }, (_, i) => `feature/${String(i).padStart(2, '0')}-${'x'.repeat(40)}`);
    const res = await handler(event('Create', { ...PROPS, branches }));
    expect(cc).toHaveReceivedCommandTimes(CreateBranchCommand, 80); // all created, only the report is cut
    const reported = res.Data!.CreatedBranches;
    expect(reported.length).toBeLessThanOrEqual(1000 + '…(+NN more)'.length + 1);
    const [names, more] = reported.split(',…');
    const kept = names.split(',');
    expect(kept.slice(0, 2)).toEqual(['main', branches[0]]);
    expect(more).toBe(`(+${81 - kept.length} more)`);
    // the body the provider framework sends to CloudFormation
    const e = event('Create');
    const body = { Status: 'SUCCESS', Reason: 'OK', StackId: e.StackId, RequestId: e.RequestId, LogicalResourceId: e.LogicalResourceId, ...res };
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(4096);
  });

  describe('a failure never reports success: the handler rejects, so the provider framework reports FAILED', () => {
    test('CreateBranch denied for good: tried again while IAM may lag (about 2 minutes), then it fails', async () => {
      repository({});
      const denied = Object.assign(new Error('User is not authorized to perform codecommit:CreateBranch'), { name: 'AccessDeniedException' });
      cc.on(CreateBranchCommand, { branchName: 'staging' }).rejects(denied);
      const waits: number[] = [];
      await expect(seedRepository(event('Create'), createClient(), async s => { waits.push(s); })).rejects.toThrow('not authorized to perform codecommit:CreateBranch');
      expect(waits).toEqual(ACCESS_DENIED_WAITS);
      expect(waits.reduce((a, b) => a + b, 0)).toBeLessThan(300 - 60); // inside the handler's 5-minute timeout, with room for the calls
    });

    test('the repository does not exist', async () => {
      cc.on(GetRepositoryCommand).rejects(new RepositoryDoesNotExistException({ message: 'myapp does not exist', $metadata: {} }));
      await expect(handler(event('Update'))).rejects.toThrow('myapp does not exist');
      expect(cc).not.toHaveReceivedCommand(CreateCommitCommand);
    });

    test('the initial commit fails', async () => {
      repository({});
      cc.on(CreateCommitCommand).rejects(Object.assign(new Error('FileContentSizeLimitExceededException'), { name: 'FileContentSizeLimitExceededException' }));
      await expect(handler(event('Create'))).rejects.toThrow('FileContentSizeLimitExceededException');
      expect(cc).not.toHaveReceivedCommand(CreateBranchCommand);
    });

    test('the conflict retry is not endless: a second conflict fails', async () => {
      cc.on(GetRepositoryCommand).resolves({ repositoryMetadata: {} });
      cc.on(ListBranchesCommand).resolves({ branches: [] });
      cc.on(CreateCommitCommand).rejects(new ParentCommitIdRequiredException({ message: 'A parent commit ID is required', $metadata: {} }));
      await expect(handler(event('Create'))).rejects.toThrow('A parent commit ID is required');
      expect(cc).toHaveReceivedCommandTimes(CreateCommitCommand, 2);
    });

    test('CreateCommit answering without a commit id', async () => {
      repository({});
      cc.on(CreateCommitCommand).resolves({});
      await expect(handler(event('Create'))).rejects.toThrow('returned no commitId');
      expect(cc).not.toHaveReceivedCommand(CreateBranchCommand);
    });

    test('malformed properties, before any call', async () => {
      await expect(handler(event('Create', { ...PROPS, branches: ['bad name'] }))).rejects.toThrow('branches: "bad name" contains a space');
      expect(cc.calls()).toHaveLength(0);
    });
  });
});

/**
 * The SDK's own retry strategy, through the client's whole middleware stack (aws-sdk-client-mock
 * replaces `send`, so it would bypass retries): a fake HTTP handler answers CodeCommit's JSON protocol.
 */
describe('seed-repository handler, throttling (real SDK middleware, fake transport)', () => {
  type Reply = { status: number; body: object; errorType?: string };
  function transport(replies: Record<string, Reply[]>) {
    const seen: string[] = [];
    const requestHandler = {
      async handle(request: HttpRequest) {
        const op = String(request.headers['x-amz-target']).split('.')[1];
        seen.push(op);
        const queue = replies[op];
        if (!queue || queue.length === 0) throw new Error(`unexpected ${op}`);
        const r = queue.length > 1 ? queue.shift()! : queue[0];
        return {
          response: new HttpResponse({
            statusCode: r.status,
            headers: { 'content-type': 'application/x-amz-json-1.1', ...(r.errorType ? { 'x-amzn-errortype': r.errorType } : {}) },
            body: Readable.from([Buffer.from(JSON.stringify(r.body))]),
          }),
        };
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs: () => ({}),
    };
    return { seen, requestHandler };
  }
  const throttled: Reply = { status: 400, errorType: 'ThrottlingException', body: { __type: 'ThrottlingException', message: 'Rate exceeded' } };
  const config = { region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } };

  test('the handler\'s client retries up to MAX_ATTEMPTS (more than the SDK default of 3)', async () => {
    expect(MAX_ATTEMPTS).toBeGreaterThan(3);
    await expect(createClient(config).config.maxAttempts()).resolves.toBe(MAX_ATTEMPTS);
  });

  test('a ThrottlingException, then success: the seed completes', async () => {
    const t = transport({
      GetRepository: [throttled, { status: 200, body: { repositoryMetadata: { repositoryName: 'myapp', defaultBranch: 'main' } } }],
      ListBranches: [throttled, { status: 200, body: { branches: ['main', 'dev'] } }],
      GetBranch: [{ status: 200, body: { branch: { branchName: 'main', commitId: USER_HEAD } } }],
      CreateBranch: [throttled, { status: 200, body: {} }],
    });
    const res = await seedRepository(event('Create'), createClient({ ...config, requestHandler: t.requestHandler }));
    expect(t.seen).toEqual(['GetRepository', 'GetRepository', 'ListBranches', 'ListBranches', 'GetBranch', 'CreateBranch', 'CreateBranch']);
    expect(res.Data).toEqual({ SeedCommitId: '', CreatedBranches: 'staging', ExistingBranches: 'main,dev' });
  }, 30_000);

  test('throttled on every attempt: the handler rejects after the last attempt', async () => {
    const t = transport({ GetRepository: [throttled] });
    await expect(seedRepository(event('Create'), createClient({ ...config, maxAttempts: 2, requestHandler: t.requestHandler })))
      .rejects.toThrow('Rate exceeded');
    expect(t.seen).toEqual(['GetRepository', 'GetRepository']);
  }, 30_000);
});
