import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import {
  CodePipelineClient,
  ConcurrentPipelineExecutionsLimitExceededException,
  ConflictException,
  PipelineNotFoundException,
  StartPipelineExecutionCommand,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EXAMPLE, FAKE_CREDENTIALS, localApi, runCli, verifySigV4, writeDdk } from './helpers';
import { style } from '../../lib/cli/io';
import { checkFile } from '../../lib/cli/project';
import {
  currentStage,
  eventSummary,
  gateLine,
  latestCandidates,
  parseServiceArgs,
  planServiceNames,
  principalLabel,
  renderReleaseStatus,
  resolveMembers,
  START_LIMITS,
  startRequest,
} from '../../lib/cli/releases';
import { RELEASE_ID_PATTERN, ReleaseEventRecord, ReleaseRecord } from '../../lib/releases/shared';

/*
 * `release start|list|status|events`, run through the CLI's own wiring (commander) in this
 * process: a local server stands in for the status-check API (/v1/releases…) and for STS
 * (POST / with Action=GetCallerIdentity, through AWS_ENDPOINT_URL_STS); CodePipeline is mocked.
 */

const cp = mockClient(CodePipelineClient);

const HOUR = 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const FRONTEND = '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b';
const FRONTEND_OLD = '1111111111111111111111111111111111111111';
const BACKEND = '3f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e';
const BACKEND_CANDIDATE = '2222222222222222222222222222222222222222';
const CALLER = 'arn:aws:sts::111111111111:assumed-role/ReleaseManager/alice';
const CONNECTION = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abc-123';

/** The acceptance scenario's ddk.json: two services, dev per service, hardening a bracket with a performance test, production after. */
function fooDoc(): any {
  return {
    environments: {
      cicd: { account: '111111111111', region: 'eu-west-1' },
      dev: { account: '222222222222', region: 'eu-west-1' },
      hardening: { account: '333333333333', region: 'eu-west-1' },
      prod: { account: '444444444444', region: 'eu-west-1' },
    },
    pipeline: {
      name: 'foo',
      strategy: 'codepipeline-trunk',
      services: {
        'foobar-frontend': { source: { codecommit: { repository: 'foobar-frontend', branch: 'main' } } },
        'foobar-backend': {
          source: { connection: { arn: CONNECTION, repository: 'acme/foobar-backend' } },
          synth: { commands: ['npm ci', 'npm test', 'npx cdk synth'] },
        },
      },
      stages: [
        { name: 'dev', environments: ['dev'] },
        { name: 'hardening', environments: ['hardening'], bracket: true, tests: ['npm run perf'], requiredChecks: ['perf/e2e'] },
        { name: 'production', environments: ['prod'] },
      ],
    },
  };
}

/** A release record as the release function writes it. */
function record(fields: Partial<ReleaseRecord> & Pick<ReleaseRecord, 'releaseId' | 'state'>): ReleaseRecord {
  return {
    pipeline: 'foo',
    execution: 'exec-1',
    members: [{ service: 'foobar-frontend', revision: FRONTEND }, { service: 'foobar-backend', revision: BACKEND }],
    startedBy: CALLER,
    startedAt: ago(2 * HOUR),
    updatedAt: ago(HOUR),
    stages: [],
    ...fields,
  };
}

describe('release commands', () => {
  let stsArn: string;
  let foo: { dir: string; file: string };
  // STS (POST / Action=GetCallerIdentity) and the API (/v1/…) on one local server
  const api = localApi(() => [200, { candidates: [] }], req => (req.method === 'POST' && req.url === '/'
    ? [200, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>${stsArn}</Arn><UserId>AROAEXAMPLE:alice</UserId><Account>111111111111</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`, 'text/xml']
    : undefined));
  beforeAll(() => {
    foo = writeDdk(fooDoc());
  });
  beforeEach(() => {
    cp.reset();
    cp.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: 'exec-42' });
    stsArn = CALLER;
  });
  const env = () => ({ DDK_PIPELINES_API: `${api.server.url}/v1`, AWS_ENDPOINT_URL_STS: api.server.url });
  const requests = () => api.server.requests.map(q => `${q.method} ${q.url}`);

  describe('release start', () => {
    test('the scenario: backend at the given commit, frontend at its newest candidate; every source pinned, ReleaseId and ReleaseStartedBy set', async () => {
      // GIVEN candidates of both services (two of the frontend) and a commit given for the backend
      api.answer = () => [200, {
        candidates: [
          { service: 'foobar-frontend', revision: FRONTEND_OLD, execution: 'fe-6', recordedAt: ago(30 * HOUR) },
          { service: 'foobar-frontend', revision: FRONTEND, execution: 'fe-7', recordedAt: ago(2 * HOUR) },
          { service: 'foobar-backend', revision: BACKEND_CANDIDATE, execution: 'be-3', recordedAt: ago(HOUR) },
        ],
      }];
      // WHEN a release is started
      const r = await runCli(['release', 'start', foo.file, '--service', `foobar-backend=${BACKEND}`], { env: env() });
      // THEN the candidates are read (signed for the cicd region), then who the caller is (STS, signed), then one StartPipelineExecution
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(requests()).toEqual(['GET /v1/releases/candidates?pipeline=foo', 'POST /']);
      expect(verifySigV4(api.server.requests[0], FAKE_CREDENTIALS.secretAccessKey)).toMatchObject({ region: 'eu-west-1', service: 'execute-api' });
      expect(verifySigV4(api.server.requests[1], FAKE_CREDENTIALS.secretAccessKey)).toMatchObject({ region: 'eu-west-1', service: 'sts' });
      expect(api.server.requests[1].body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
      expect(cp).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 1);
      const input = cp.commandCalls(StartPipelineExecutionCommand)[0].args[0].input;
      const releaseId = input.clientRequestToken!;
      expect(releaseId).toMatch(RELEASE_ID_PATTERN);
      expect(input).toEqual({
        name: 'foo-release',
        // in ddk.json's order, every service, the given commit winning over the candidate
        sourceRevisions: [
          { actionName: 'Source-foobar-frontend', revisionType: 'COMMIT_ID', revisionValue: FRONTEND },
          { actionName: 'Source-foobar-backend', revisionType: 'COMMIT_ID', revisionValue: BACKEND },
        ],
        variables: [{ name: 'ReleaseId', value: releaseId }, { name: 'ReleaseStartedBy', value: CALLER }],
        clientRequestToken: releaseId,
      });
      expect(await cp.call(0).thisValue.config.region()).toBe('eu-west-1');
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(`started release ${releaseId} of foo: pipeline foo-release in eu-west-1, execution exec-42`);
      expect(lines[1]).toBe('members');
      expect(lines[2]).toMatch(new RegExp(`^  foobar-frontend +${FRONTEND} +latest candidate: passed foo-foobar-frontend in execution fe-7, 2h ago$`));
      expect(lines[3]).toMatch(new RegExp(`^  foobar-backend +${BACKEND} +--service$`));
      expect(lines.slice(4)).toEqual([
        `started by ${CALLER}`,
        `follow it: ddk-pipelines release status ${releaseId}; ddk-pipelines release events ${releaseId}`,
      ]);
    });

    test('every service given: the API is not asked; commits are taken in lower case; --json prints the release', async () => {
      const r = await runCli(['release', 'start', foo.file, '--service', `foobar-frontend=${FRONTEND.toUpperCase()}`, '--service', `foobar-backend=${BACKEND}`, '--json'], { env: env() });
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(requests()).toEqual(['POST /']);
      const json = JSON.parse(r.stdout);
      expect(json).toMatchObject({
        pipeline: 'foo',
        releasePipeline: 'foo-release',
        region: 'eu-west-1',
        dryRun: false,
        execution: 'exec-42',
        startedBy: CALLER,
        members: [{ service: 'foobar-frontend', revision: FRONTEND, from: 'given' }, { service: 'foobar-backend', revision: BACKEND, from: 'given' }],
      });
      expect(json.request).toEqual(cp.commandCalls(StartPipelineExecutionCommand)[0].args[0].input);
      expect(json.request.clientRequestToken).toBe(json.releaseId);
    });

    test('--dry-run: what would be started, CodePipeline not called', async () => {
      api.answer = () => [200, { candidates: [{ service: 'foobar-frontend', revision: FRONTEND, execution: 'fe-7', recordedAt: ago(HOUR) }] }];
      const r = await runCli(['release', 'start', '--dry-run', '--service', `foobar-backend=${BACKEND}`], { env: env(), cwd: foo.dir });
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(cp).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 0);
      const lines = r.stdout.trimEnd().split('\n');
      const releaseId = /release (r-\S+) of foo/.exec(lines[0])![1];
      expect(lines[0]).toBe(`dry run: would start release ${releaseId} of foo (pipeline foo-release in eu-west-1; CodePipeline not called, a real start gets a new id)`);
      expect(lines.slice(4)).toEqual([
        `would be started by ${CALLER}`,
        'StartPipelineExecution foo-release',
        `  sourceRevisions: Source-foobar-frontend=COMMIT_ID:${FRONTEND}, Source-foobar-backend=COMMIT_ID:${BACKEND}`,
        `  variables: ReleaseId=${releaseId}, ReleaseStartedBy=${CALLER}`,
        `  clientRequestToken: ${releaseId}`,
      ]);
      const json = JSON.parse((await runCli(['release', 'start', '--dry-run', '--json', '--service', `foobar-backend=${BACKEND}`], { env: env(), cwd: foo.dir })).stdout);
      expect(json).toMatchObject({ dryRun: true, releasePipeline: 'foo-release' });
      expect(json.execution).toBeUndefined();
      expect(json.members[0]).toEqual({ service: 'foobar-frontend', revision: FRONTEND, from: 'candidate', candidate: { service: 'foobar-frontend', revision: FRONTEND, execution: 'fe-7', recordedAt: expect.any(String) } });
      expect(cp).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 0);
    });

    test('a service with neither a commit nor a candidate: exit 1 naming it and the fix, nothing started', async () => {
      api.answer = () => [200, { candidates: [{ service: 'foobar-frontend', revision: FRONTEND, execution: 'fe-7', recordedAt: ago(HOUR) }] }];
      const one = await runCli(['release', 'start', foo.file], { env: env() });
      expect(one).toEqual({
        code: 1,
        stdout: '',
        stderr: 'error: no revision for service foobar-backend (no revision has passed its pipeline foo-foobar-backend yet): a service left out of --service takes its latest candidate, '
          + 'a revision that passed its last per-service stage (recorded in the Candidate stage of its pipeline). '
          + 'Fix: pass --service foobar-backend=<commit>, or start the release when its pipeline has passed a revision\n',
      });
      api.answer = () => [200, { candidates: [] }];
      const both = await runCli(['release', 'start', foo.file], { env: env() });
      expect(both.stderr).toContain('no revision for services foobar-frontend (no revision has passed its pipeline foo-foobar-frontend yet), foobar-backend (');
      expect(both.stderr).toContain('Fix: pass --service foobar-frontend=<commit> --service foobar-backend=<commit>, or start the release when their pipelines have passed a revision');
      expect(requests()).toEqual(['GET /v1/releases/candidates?pipeline=foo', 'GET /v1/releases/candidates?pipeline=foo']);
      expect(cp).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 0);
    });

    test('bad --service pairs are one usage error listing each problem, before any request', async () => {
      const r = await runCli(['release', 'start', foo.file, '--service', 'foobar-backend', '--service', `foobar-backnd=${BACKEND}`, '--service', 'foobar-frontend=abc1234',
        '--service', `foobar-backend=${BACKEND}`, '--service', `foobar-backend=${FRONTEND}`], { env: env() });
      expect(r).toEqual({
        code: 2,
        stdout: '',
        stderr: 'error: 4 problems with --service:\n'
          + '  - --service "foobar-backend": expected <service>=<commit>, e.g. --service foobar-frontend=<the commit\'s 40 hex characters>\n'
          + `  - --service foobar-backnd=${BACKEND}: ${foo.file} has no service "foobar-backnd" (did you mean "foobar-backend"?); its services (pipeline.services) are "foobar-frontend", "foobar-backend"\n`
          + '  - --service foobar-frontend=abc1234: "abc1234" is not a full commit id; expected the 40 hex characters of a Git commit (a release pins exact revisions; '
          + '`git rev-parse abc1234` in the repository of foobar-frontend prints it)\n'
          + `  - --service foobar-backend is given twice, ${BACKEND} and ${FRONTEND}; a release has one revision per service\n`
          + 'Fix: correct them\n',
      });
      const single = await runCli(['release', 'start', foo.file, '--service', '=abc'], { env: env() });
      expect(single).toMatchObject({ code: 2, stderr: 'error: --service "=abc": expected <service>=<commit>, e.g. --service foobar-frontend=<the commit\'s 40 hex characters>. Fix: correct --service\n' });
      expect(api.server.requests).toHaveLength(0);
      expect(cp).toHaveReceivedCommandTimes(StartPipelineExecutionCommand, 0);
    });

    test('a pipeline without services: a usage error saying to add pipeline.services', async () => {
      // the repository's example ddk.json (myapp) has no services
      const r = await runCli(['release', 'start'], { env: env() });
      expect(r).toEqual({
        code: 2,
        stdout: '',
        stderr: 'error: release start: ddk.json has no pipeline.services, so myapp has no releases: a release pins one commit per service and moves them through the bracket stages together. '
          + 'Fix: add "services": {"<name>": {"source": {…}}} to "pipeline" in ddk.json, mark the first stage they are released together from with "bracket": true, '
          + 'and deploy the pipeline (README: Release brackets)\n',
      });
      expect(api.server.requests).toHaveLength(0);
    });

    test('--pipeline other than the ddk.json\'s, or no ddk.json: a usage error (the services come from ddk.json)', async () => {
      const other = await runCli(['release', 'start', foo.file, '--pipeline', 'bar'], { env: env() });
      expect(other).toMatchObject({
        code: 2,
        stderr: `error: release start reads the services of bar from its ddk.json, and ${foo.file} describes pipeline foo, not bar. `
          + 'Fix: pass the ddk.json of bar (`ddk-pipelines release start path/to/ddk.json`), or leave out --pipeline\n',
      });
      const empty = mkdtempSync(join(tmpdir(), 'ddk-cli-releases-'));
      const none = await runCli(['release', 'start', '--pipeline', 'foo'], { env: env(), cwd: empty });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('error: release start reads the services of foo from its ddk.json, and ddk.json is not there.');
      expect(api.server.requests).toHaveLength(0);
    });

    test('StartPipelineExecution\'s documented errors are one line each with the fix', async () => {
      const given = ['release', 'start', foo.file, '--service', `foobar-frontend=${FRONTEND}`, '--service', `foobar-backend=${BACKEND}`];
      cp.on(StartPipelineExecutionCommand).rejects(new PipelineNotFoundException({ message: 'none', $metadata: {} }));
      expect(await runCli(given, { env: env() })).toMatchObject({
        code: 1,
        stderr: 'error: the release pipeline foo-release does not exist in eu-west-1 with the current credentials. '
          + `Fix: deploy the pipeline stack of ${foo.file} (foo-pipeline) with its pipeline.services, or check --region and that the credentials are for the CICD account\n`,
      });
      cp.on(StartPipelineExecutionCommand).rejects(new ValidationException({ message: 'Action Source-foobar-backend not found', $metadata: {} }));
      const invalid = await runCli([...given, '--region', 'us-east-2'], { env: env() });
      expect(invalid.stderr).toBe('error: StartPipelineExecution of foo-release refused the release: Action Source-foobar-backend not found. '
        + `The deployed release pipeline needs a source action Source-<service> for every service of ${foo.file}, and each commit must exist in its service's repository. `
        + 'Fix: deploy the pipeline stack after changing pipeline.services, and check the commits (`ddk-pipelines release start --dry-run` prints them)\n');
      expect(await cp.call(1).thisValue.config.region()).toBe('us-east-2');
      // --region signs STS for that region too
      expect(verifySigV4(api.server.requests[api.server.requests.length - 1], FAKE_CREDENTIALS.secretAccessKey).region).toBe('us-east-2');
      cp.on(StartPipelineExecutionCommand).rejects(new ConflictException({ message: 'busy', $metadata: {} }));
      expect((await runCli(given, { env: env() })).stderr).toBe('error: foo-release is busy (ConflictException: busy). Fix: run the command again in a moment\n');
      cp.on(StartPipelineExecutionCommand).rejects(new ConcurrentPipelineExecutionsLimitExceededException({ message: 'limit reached', $metadata: {} }));
      expect((await runCli(given, { env: env() })).stderr).toBe('error: foo-release runs as many executions as it may (limit reached). '
        + 'Fix: wait for a release to finish (`ddk-pipelines release list`), then start again\n');
    });

    test('an API without /releases: the 403 "Missing Authentication Token" is explained; an answer without candidates too', async () => {
      api.answer = () => [403, { message: 'Missing Authentication Token' }];
      const old = await runCli(['release', 'start', foo.file], { env: env() });
      expect(old.code).toBe(1);
      expect(old.stderr).toBe('error: status-check API: GET /releases/candidates answered 403 Forbidden: Missing Authentication Token '
        + '(the API uses IAM authorization: the caller needs execute-api:Invoke on it, and the request must be signed for its region). '
        + 'API Gateway answers this for a route the deployed API does not have: the API of foo may predate releases. '
        + `Fix: deploy the pipeline stack of ${foo.file} with this version of ddk-pipelines (its API serves /releases)\n`);
      api.answer = () => [200, { checks: [] }];
      const odd = await runCli(['release', 'start', foo.file], { env: env() });
      expect(odd.stderr).toBe('error: status-check API: GET /releases/candidates answered without a "candidates" list ({"checks":[]}); expected {"candidates": [...]}. '
        + 'Fix: deploy the pipeline stack of this version of ddk-pipelines (its API serves /releases)\n');
    });
  });

  describe('release list', () => {
    // built when a test runs: the ages are relative to its start
    const releases = () => [
      record({ releaseId: 'r-20260101-100000-aaaa', state: 'succeeded', startedAt: ago(50 * HOUR), stages: [{ stage: 'hardening', status: 'Succeeded' }, { stage: 'production', status: 'Succeeded' }] }),
      record({
        releaseId: 'r-20260103-100000-bbbb',
        state: 'started',
        startedAt: ago(42_000),
        startedBy: 'arn:aws:iam::111111111111:user/ops/bob',
        members: [{ service: 'foobar-frontend', revision: FRONTEND_OLD }, { service: 'foobar-backend', revision: BACKEND }],
        stages: [{ stage: 'Build', status: 'Succeeded' }, { stage: 'hardening', status: 'InProgress' }],
      }),
      record({ releaseId: 'r-20260102-100000-cccc', state: 'failed', startedAt: ago(3 * HOUR), stages: [{ stage: 'hardening', status: 'Failed' }] }),
    ];

    test('newest first: id, state, members, current stage, who, age', async () => {
      const RELEASES = releases();
      api.answer = () => [200, { releases: RELEASES }];
      const r = await runCli(['release', 'list', foo.file], { env: env() });
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(requests()).toEqual(['GET /v1/releases?pipeline=foo']);
      verifySigV4(api.server.requests[0], FAKE_CREDENTIALS.secretAccessKey);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe('releases of foo (3, 1 running)');
      expect(lines[1]).toMatch(/^RELEASE +STATE +MEMBERS +STAGE +BY +AGE$/);
      expect(lines[2]).toMatch(/^r-20260103-100000-bbbb +started +foobar-frontend@1111111, foobar-backend@3f2c1d0 +hardening \(InProgress\) +bob +42s$/);
      expect(lines[3]).toMatch(/^r-20260102-100000-cccc +failed +foobar-frontend@9a8b7c6, foobar-backend@3f2c1d0 +hardening \(Failed\) +ReleaseManager\/alice +3h$/);
      expect(lines[4]).toMatch(/^r-20260101-100000-aaaa +succeeded +.* +production \(Succeeded\) +ReleaseManager\/alice +2d$/);
      expect(lines[5]).toBe('details: ddk-pipelines release status <release>; events: ddk-pipelines release events <release>');
      const stateAt = lines[1].indexOf('STATE');
      expect(lines.slice(2, 5).map(l => l.slice(stateAt).split(' ')[0])).toEqual(['started', 'failed', 'succeeded']);
      // colour only where asked for (a TTY, or FORCE_COLOR): states by outcome
      const coloured = await runCli(['release', 'list', foo.file], { env: { ...env(), FORCE_COLOR: '1' } });
      expect(coloured.stdout).toContain('\u001b[31mfailed\u001b[39m');
      expect(coloured.stdout).toContain('\u001b[32msucceeded\u001b[39m');
      expect(r.stdout).not.toContain('\u001b[');
    });

    test('--json, none yet, and a pipeline without services', async () => {
      const RELEASES = releases();
      api.answer = () => [200, { releases: RELEASES }];
      const json = JSON.parse((await runCli(['release', 'list', '--json'], { env: env(), cwd: foo.dir })).stdout);
      expect(json.pipeline).toBe('foo');
      expect(json.releases.map((x: ReleaseRecord) => x.releaseId)).toEqual(['r-20260103-100000-bbbb', 'r-20260102-100000-cccc', 'r-20260101-100000-aaaa']);
      expect(json.releases[2]).toEqual(RELEASES[0]);
      api.answer = () => [200, { releases: [] }];
      expect(await runCli(['release', 'list', foo.file], { env: env() })).toEqual({ code: 0, stderr: '', stdout: 'no releases of foo yet: start one with `ddk-pipelines release start`\n' });
      const plain = await runCli(['release', 'list'], { env: env() });
      expect(plain.code).toBe(2);
      expect(plain.stderr).toContain('error: release list: ddk.json has no pipeline.services, so myapp has no releases');
      // --pipeline without a ddk.json: the API is asked
      const empty = mkdtempSync(join(tmpdir(), 'ddk-cli-releases-'));
      const named = await runCli(['release', 'list', '--pipeline', 'foo', '--endpoint', api.server.url, '--region', 'us-west-2'], { env: {}, cwd: empty });
      expect(named.stdout).toBe('no releases of foo yet: start one with `ddk-pipelines release start`\n');
      expect(verifySigV4(api.server.requests[api.server.requests.length - 1], FAKE_CREDENTIALS.secretAccessKey).region).toBe('us-west-2');
    });
  });

  describe('release status and release events', () => {
    const ID = 'r-20260103-100000-bbbb';
    const T0 = '2026-01-03T10:00:00.000Z';
    const EVENTS: ReleaseEventRecord[] = [
      { releaseId: ID, detailType: 'Release Stage Tested', stage: 'hardening', at: '2026-01-03T10:40:00.000Z', detail: { result: 'succeeded' } },
      { releaseId: ID, detailType: 'Release Started', at: T0, detail: { members: [{ service: 'foobar-frontend', revision: FRONTEND }, { service: 'foobar-backend', revision: BACKEND }] } },
      { releaseId: ID, detailType: 'Release Stage Deployed', stage: 'hardening', at: '2026-01-03T10:25:00.000Z', detail: {} },
      { releaseId: ID, detailType: 'Release Stage Promoted', stage: 'hardening', at: '2026-01-03T10:41:00.000Z', detail: { next: 'production' } },
    ];
    const RELEASE = record({
      releaseId: ID,
      state: 'started',
      execution: 'exec-42',
      startedAt: T0,
      stages: [
        { stage: 'Source', status: 'Succeeded', startedAt: T0, endedAt: '2026-01-03T10:01:00.000Z' },
        { stage: 'hardening', status: 'Succeeded', startedAt: '2026-01-03T10:05:00.000Z', endedAt: '2026-01-03T10:41:00.000Z' },
        { stage: 'production', status: 'InProgress', startedAt: '2026-01-03T10:41:00.000Z' },
      ],
    });

    test('status: members, each stage with status, times, gate and events, who started it', async () => {
      // GIVEN the release, its events, and the checks reported against the release id
      const checks = [
        { context: 'perf/e2e', state: 'success', stage: 'hardening' },
        { context: 'ci/extra', state: 'pending', stage: 'hardening' },
        { context: 'ci/other', state: 'failure', stage: 'production' },
      ];
      api.answer = req => (req.url.startsWith(`/v1/releases/${ID}`) ? [200, { release: RELEASE, events: EVENTS }]
        : req.url.startsWith('/v1/checks?') ? [200, { checks, history: [] }] : [404, { message: 'no' }]);
      const r = await runCli(['release', 'status', ID, foo.file], { env: env() });
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(requests()).toEqual([`GET /v1/releases/${ID}?pipeline=foo`, `GET /v1/checks?pipeline=foo&revision=${ID}`]);
      expect(r.stdout).toContain(`release ${ID} of foo: started\n  started  2026-01-03T10:00:00Z (`);
      expect(r.stdout).toContain(`by ${CALLER}\n  execution exec-42 of foo-release\nmembers\n  foobar-frontend  ${FRONTEND}\n  foobar-backend   ${BACKEND}\nstages\n`);
      expect(r.stdout).toContain('  ✔ hardening   Succeeded   2026-01-03T10:05:00Z → 2026-01-03T10:41:00Z (36m)\n'
        + '      gate: perf/e2e success (required), ci/extra pending\n'
        + '      deployed 2026-01-03T10:25:00Z\n'
        + '      tested 2026-01-03T10:40:00Z: succeeded\n'
        + '      promoted 2026-01-03T10:41:00Z\n'
        + '  ● production  InProgress  since 2026-01-03T10:41:00Z\n'
        + '      gate: ci/other failure\n');
      const json = JSON.parse((await runCli(['release', 'status', ID, foo.file, '--json'], { env: env() })).stdout);
      expect(json.release).toEqual(RELEASE);
      expect(json.checks).toEqual(checks);
      expect(json.events.map((e: ReleaseEventRecord) => e.detailType)).toEqual(['Release Started', 'Release Stage Deployed', 'Release Stage Tested', 'Release Stage Promoted']);
    });

    test('status: checks that cannot be read are said, not fatal; the required ones of a stage not reached show as not reported', async () => {
      const running = record({ releaseId: ID, state: 'started', stages: [{ stage: 'Build', status: 'InProgress', startedAt: T0 }] });
      api.answer = req => (req.url.startsWith('/v1/checks?') ? [500, { message: 'store unavailable' }] : [200, { release: running, events: [] }]);
      const r = await runCli(['release', 'status', ID, foo.file], { env: env() });
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toContain('stages\n  ● Build       InProgress  since 2026-01-03T10:00:00Z\n'
        + '  ○ hardening   NotRun\n'
        + '      gate: perf/e2e not reported (required)\n'
        + '  ○ production  NotRun\n'
        + '  (the release\'s checks are unavailable: status-check API: GET /checks answered 500 Internal Server Error: store unavailable)\n');
      const json = JSON.parse((await runCli(['release', 'status', ID, foo.file, '--json'], { env: env() })).stdout);
      expect(json).toMatchObject({ checks: null, checksError: 'status-check API: GET /checks answered 500 Internal Server Error: store unavailable' });
    });

    test('events: the stream in time order with members, stages and the outcome', async () => {
      const finished: ReleaseEventRecord = { releaseId: ID, detailType: 'Release Finished', at: '2026-01-03T11:00:00.000Z', detail: { state: 'succeeded' } };
      api.answer = () => [200, { release: RELEASE, events: [finished, ...EVENTS] }];
      const r = await runCli(['release', 'events', ID], { env: env(), cwd: foo.dir });
      expect(r).toEqual({
        code: 0,
        stderr: '',
        stdout: `events of release ${ID} of foo\n`
          + '2026-01-03T10:00:00Z  Release Started         members foobar-frontend@9a8b7c6, foobar-backend@3f2c1d0\n'
          + '2026-01-03T10:25:00Z  Release Stage Deployed  stage hardening\n'
          + '2026-01-03T10:40:00Z  Release Stage Tested    stage hardening: succeeded\n'
          + '2026-01-03T10:41:00Z  Release Stage Promoted  stage hardening\n'
          + '2026-01-03T11:00:00Z  Release Finished        succeeded\n',
      });
      const json = JSON.parse((await runCli(['release', 'events', ID, '--json'], { env: env(), cwd: foo.dir })).stdout);
      expect(json).toEqual({ pipeline: 'foo', releaseId: ID, events: [EVENTS[1], EVENTS[2], EVENTS[0], EVENTS[3], finished] });
      api.answer = () => [200, { release: RELEASE }];
      expect((await runCli(['release', 'events', ID], { env: env(), cwd: foo.dir })).stdout).toBe(`release ${ID} of foo has no events yet\n`);
    });

    test('an unknown release: the latest ones named; a malformed id: a usage error before any request', async () => {
      api.answer = req => (req.url.startsWith('/v1/releases?') ? [200, { releases: [record({ releaseId: 'r-20260101-100000-aaaa', state: 'succeeded', startedAt: ago(5 * HOUR) }), record({ releaseId: ID, state: 'started', startedAt: ago(HOUR) })] }]
        : [404, { message: 'no release r-20260105-100000-ffff' }]);
      const r = await runCli(['release', 'status', 'r-20260105-100000-ffff', foo.file], { env: env() });
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: no release r-20260105-100000-ffff of foo (GET /releases/r-20260105-100000-ffff answered 404); the latest releases of foo: ${ID} (started), r-20260101-100000-aaaa (succeeded). `
          + 'Fix: pass one of these (`ddk-pipelines release list` shows all)\n',
      });
      expect(requests()).toEqual(['GET /v1/releases/r-20260105-100000-ffff?pipeline=foo', 'GET /v1/releases?pipeline=foo']);
      api.server.requests.length = 0;
      for (const command of ['status', 'events']) {
        const bad = await runCli(['release', command, 'r-2026', foo.file], { env: env() });
        expect(bad).toEqual({
          code: 2,
          stdout: '',
          stderr: 'error: "r-2026" is not a release id; expected r-<yyyymmdd>-<hhmmss>-<4 hex>, e.g. r-20261129-143000-1a2b. Fix: pass an id `ddk-pipelines release list` shows\n',
        });
      }
      expect(api.server.requests).toHaveLength(0);
    });
  });

  test.each(['release', 'release start', 'release list', 'release status', 'release events'])('%s --help: exit 0, names its options', async (command) => {
    const words = command.split(' ');
    const r = await runCli([...words, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: ddk-pipelines ${words.join(' ')} \\[options\\]`));
    const options = words.length === 1 ? ['start', 'list', 'status', 'events']
      : ['--json', '--pipeline', '--endpoint', '--region', '--stack', ...(words[1] === 'start' ? ['--service', '--dry-run'] : [])];
    for (const option of options) expect(r.stdout).toContain(option);
  });
});

describe('release pieces', () => {
  const s = style(false);
  const services = ['foobar-frontend', 'foobar-backend'];

  test('startRequest: at most 50 source revisions, a variable value of at most 1000 characters (StartPipelineExecution\'s limits)', () => {
    const many = Array.from({ length: START_LIMITS.sourceRevisions + 1 }, (_, i) => ({ service: `s${i}`, revision: FRONTEND }));
    expect(() => startRequest('foo-release', many, 'r-20260101-100000-aaaa', CALLER))
      .toThrow('a release of 51 services needs 51 source revision overrides; StartPipelineExecution takes at most 50. Fix: split the services into pipelines of at most 50');
    expect(startRequest('foo-release', many.slice(0, 50), 'r-20260101-100000-aaaa', CALLER).sourceRevisions).toHaveLength(50);
    const long = `arn:aws:iam::111111111111:user/${'p/'.repeat(490)}bob`;
    expect(long.length).toBeGreaterThan(1000);
    expect(() => startRequest('foo-release', many.slice(0, 2), 'r-20260101-100000-aaaa', long)).toThrow(/^the caller's ARN has \d+ characters; the ReleaseStartedBy variable takes at most 1000/);
  });

  test('latestCandidates: the newest per service; entries without a service or revision are skipped', () => {
    const c = latestCandidates([
      { service: 'a', revision: '1', execution: 'e1', recordedAt: '2026-01-01T00:00:00Z' },
      { service: 'a', revision: '2', execution: 'e2', recordedAt: '2026-01-02T00:00:00Z' },
      { service: 'a', revision: '0', execution: 'e0', recordedAt: '2025-12-31T00:00:00Z' },
      { service: 'b', revision: '' },
      { revision: '3' },
      'junk',
    ]);
    expect([...c.entries()].map(([k, v]) => [k, v.revision])).toEqual([['a', '2']]);
  });

  test('resolveMembers: the given commit wins over the candidate; the plan\'s order', () => {
    const members = resolveMembers('foo', services, new Map([['foobar-backend', BACKEND]]),
      new Map([['foobar-backend', { service: 'foobar-backend', revision: BACKEND_CANDIDATE, execution: 'b', recordedAt: '' }], ['foobar-frontend', { service: 'foobar-frontend', revision: FRONTEND, execution: 'f', recordedAt: '' }]]));
    expect(members.map(m => [m.service, m.revision, m.from])).toEqual([['foobar-frontend', FRONTEND, 'candidate'], ['foobar-backend', BACKEND, 'given']]);
  });

  test('parseServiceArgs: a SHA-256 commit id is full too', () => {
    const sha256 = 'ab'.repeat(32);
    expect(parseServiceArgs([`foobar-frontend=${sha256}`, ` foobar-backend = ${BACKEND} `], services, 'ddk.json')).toEqual(new Map([['foobar-frontend', sha256], ['foobar-backend', BACKEND]]));
    expect(() => parseServiceArgs([`foobar-frontend=${FRONTEND}0`], services, 'ddk.json')).toThrow('is not a full commit id');
  });

  test('principalLabel: role/session, user name, root, else the ARN', () => {
    expect(principalLabel(CALLER)).toBe('ReleaseManager/alice');
    expect(principalLabel('arn:aws:iam::111111111111:user/ops/bob')).toBe('bob');
    expect(principalLabel('arn:aws-cn:iam::111111111111:root')).toBe('root');
    expect(principalLabel('arn:aws:iam::111111111111:role/X')).toBe('arn:aws:iam::111111111111:role/X');
    expect(principalLabel(undefined)).toBe('-');
  });

  test('currentStage: the last stage in progress, else the last reached', () => {
    expect(currentStage({ stages: [{ stage: 'a', status: 'InProgress' }, { stage: 'b', status: 'Succeeded' }] })).toBe('a (InProgress)');
    expect(currentStage({ stages: [{ stage: 'a', status: 'Succeeded' }, { stage: 'b', status: 'Failed' }] })).toBe('b (Failed)');
    expect(currentStage({ stages: [] })).toBe('-');
  });

  test('eventSummary: members of a start, stage and outcome of the others', () => {
    expect(eventSummary({ releaseId: 'r', detailType: 'Release Started', at: '', detail: { members: [{ service: 'a', revision: FRONTEND }] } })).toBe('members a@9a8b7c6');
    expect(eventSummary({ releaseId: 'r', detailType: 'Release Stage Tested', at: '', detail: { stage: 'hardening', result: 'failed' } })).toBe('stage hardening: failed');
    expect(eventSummary({ releaseId: 'r', detailType: 'Release Finished', at: '', detail: { state: 'superseded' } })).toBe('superseded');
  });

  test('status of a running release lists the bracket stages it has not reached yet; a finished one says when', () => {
    const release = record({
      releaseId: 'r-20260103-100000-bbbb',
      state: 'started',
      startedAt: '2026-01-03T10:00:00.000Z',
      stages: [{ stage: 'hardening', status: 'InProgress', startedAt: '2026-01-03T10:05:00.000Z' }],
    });
    const now = Date.parse('2026-01-03T12:00:00Z');
    const ctx = { bracketStages: [{ name: 'hardening', requiredChecks: ['perf/e2e'] }, { name: 'production', requiredChecks: [] }], checks: [{ context: 'perf/e2e', state: 'pending' }] };
    expect(renderReleaseStatus(release, [], ctx, s, now)).toBe([
      'release r-20260103-100000-bbbb of foo: started',
      `  started  2026-01-03T10:00:00Z (2h ago) by ${CALLER}`,
      '  execution exec-1 of foo-release',
      'members',
      `  foobar-frontend  ${FRONTEND}`,
      `  foobar-backend   ${BACKEND}`,
      'stages',
      '  ● hardening   InProgress  since 2026-01-03T10:05:00Z',
      '      gate: perf/e2e pending (required)',
      '  ○ production  NotRun',
      '',
    ].join('\n'));
    const done = renderReleaseStatus({ ...release, state: 'failed', updatedAt: '2026-01-03T10:30:00.000Z', stages: [{ stage: 'hardening', status: 'Failed' }] }, [], ctx, s, now);
    expect(done).toContain('  finished 2026-01-03T10:30:00Z (failed)\n');
    expect(done).toContain('stages\n  ✖ hardening  Failed\n      gate: perf/e2e pending (required)\n');
    expect(done).not.toContain('production');
  });

  test('gateLine: a required check reported for the stage wins over one reported for every stage; other stages\' checks are left out', () => {
    const ctx = {
      bracketStages: [{ name: 'hardening', requiredChecks: ['perf/e2e', 'sec/scan'] }],
      checks: [
        { context: 'perf/e2e', state: 'failure' },
        { context: 'perf/e2e', state: 'success', stage: 'hardening' },
        { context: 'sec/scan', state: 'error', stage: null as unknown as string },
        { context: 'ci/lint', state: 'success', stage: 'dev' },
      ],
    };
    expect(gateLine('hardening', ctx, s)).toBe('gate: perf/e2e success (required), sec/scan error (required)');
    expect(gateLine('production', ctx, s)).toBeUndefined();
    expect(gateLine('hardening', { ...ctx, checks: undefined }, s)).toBe('gate: perf/e2e not reported (required), sec/scan not reported (required)');
  });

  test('planServiceNames: the plan\'s services in ddk.json\'s order; none without services', () => {
    const foo = writeDdk(fooDoc());
    const plan = checkFile(foo.file, '/').plan!;
    expect(planServiceNames(plan)).toEqual(['foobar-frontend', 'foobar-backend']);
    const example = checkFile(EXAMPLE, '/').plan!;
    expect(planServiceNames(example)).toEqual([]);
  });
});
