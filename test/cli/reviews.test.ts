import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { exampleDoc, FAKE_CREDENTIALS, localApi, runCli, verifySigV4, writeDdk } from './helpers';
import { age, destroyedReviewId, reviewCommit, reviewStacks } from '../../lib/cli/reviews';
import { ReviewRecord, reviewIdForBranch } from '../../lib/reviews/shared';

/*
 * `reviews` and `reviews destroy`, run through the CLI's own wiring (commander) in this process,
 * against a local server standing in for the status-check API (GET /reviews, POST /reviews/destroy).
 */

const HOUR = 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const CONNECTION = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/abc-123';

/** A review record as the controller writes it. */
function record(fields: Partial<ReviewRecord> & Pick<ReviewRecord, 'reviewId' | 'state'>): ReviewRecord {
  return {
    pipeline: 'myapp',
    sourceBranch: 'feature/x',
    stackPrefix: `myapp-review-${fields.reviewId}`,
    requestedCommit: '1111111aaaaaaa',
    createdAt: ago(5 * HOUR),
    updatedAt: ago(HOUR),
    version: 1,
    ...fields,
  };
}

/** The example ddk.json with a review section (and, optionally, a connection source). */
function reviewDdk(review: Record<string, unknown> = { environment: 'dev' }, connection = false): { dir: string; file: string } {
  const doc = exampleDoc();
  doc.pipeline.review = review;
  if (connection) doc.pipeline.source = { connection: { arn: CONNECTION, repository: 'acme/app', branch: 'main' } };
  delete doc.$schema;
  return writeDdk(doc);
}

describe('reviews and reviews destroy', () => {
  const api = localApi(() => [200, { reviews: [] }]);
  const env = () => ({ DDK_PIPELINES_API: `${api.server.url}/v1` });

  const REVIEWS = [
    record({
      reviewId: 'pr12',
      pullRequest: '12',
      sourceBranch: 'feature/login',
      state: 'deployed',
      requestedCommit: 'abcdef0123456',
      deployedCommit: 'abcdef0123456',
      stacks: ['myapp-review-pr12-Api', 'myapp-review-pr12-Data'],
      url: 'https://pr12.review.example.com',
      updatedAt: ago(3 * HOUR + 5 * 60_000),
    }),
    record({
      reviewId: 'pr15',
      pullRequest: '15',
      sourceBranch: 'fix/typo',
      state: 'deploying',
      requestedCommit: '9999999fffffff',
      deployedCommit: '5555555eeeeeee',
      build: { id: 'review:1', commit: '7777777ddddddd', startedAt: ago(60_000) },
      updatedAt: ago(42_000),
    }),
    record({ reviewId: 'pr9', pullRequest: '9', sourceBranch: 'spike', state: 'failed', message: 'stack myapp-review-pr9-Api: CREATE_FAILED (bucket exists)', updatedAt: ago(50 * HOUR) }),
    record({ reviewId: 'pr3', pullRequest: '3', sourceBranch: 'old', state: 'destroyed', closeReason: 'merged', stacks: [], updatedAt: ago(200 * HOUR) }),
  ];

  test('reviews: the live review deployments, newest update first, signed for the CICD region; destroyed ones hidden', async () => {
    // GIVEN a ddk.json with a review section, and an API that knows four review deployments
    const { file } = reviewDdk({ environment: 'dev', ttlHours: 48 });
    api.answer = () => [200, { reviews: REVIEWS }];
    // WHEN they are listed
    const r = await runCli(['reviews', file], { env: env() });
    // THEN one GET, signed for eu-west-1 (the cicd region of ddk.json), and a table of the three live ones
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(api.server.requests.map(q => [q.method, q.url])).toEqual([['GET', '/v1/reviews?pipeline=myapp']]);
    expect(verifySigV4(api.server.requests[0], FAKE_CREDENTIALS.secretAccessKey).region).toBe('eu-west-1');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('review deployments of myapp (3 live) (1 destroyed; --all shows it)');
    expect(lines[1]).toMatch(/^PULL REQUEST +COMMIT +STATE +STACKS +AGE +URL$/);
    expect(lines[2]).toMatch(/^#15 fix\/typo +7777777 → 9999999 +deploying +- +4[2-9]s +-$/);
    expect(lines[3]).toMatch(/^#12 feature\/login +abcdef0 +deployed +Api, Data +3h +https:\/\/pr12\.review\.example\.com$/);
    expect(lines[4]).toMatch(/^#9 spike +1111111 +failed +- +2d +-$/);
    expect(lines.slice(5)).toEqual([
      '#9 spike: failed: stack myapp-review-pr9-Api: CREATE_FAILED (bucket exists)',
      'a review deployment not updated for 48 h is destroyed (pipeline.review.ttlHours)',
      'destroy one by hand: ddk-pipelines reviews destroy --pr <number>',
    ]);
    // the table's columns line up
    const stateAt = lines[1].indexOf('STATE');
    expect(lines.slice(2, 5).map(l => l.slice(stateAt).split(' ')[0])).toEqual(['deploying', 'deployed', 'failed']);
    expect(r.stdout).not.toContain('#3 old');
  });

  test('reviews --all: destroyed ones too', async () => {
    api.answer = () => [200, { reviews: REVIEWS }];
    const { dir } = reviewDdk();
    const r = await runCli(['reviews', '--all'], { env: env(), cwd: dir });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('review deployments of myapp (3 live, 1 destroyed)');
    expect(lines[5]).toMatch(/^#3 old +1111111 +destroyed +0 +8d +-$/);
  });

  test('reviews --json: {reviews} as returned, destroyed ones only with --all', async () => {
    api.answer = () => [200, { reviews: REVIEWS }];
    const { file } = reviewDdk();
    const live = await runCli(['reviews', file, '--json'], { env: env() });
    expect(live.code).toBe(0);
    expect(JSON.parse(live.stdout).reviews.map((x: ReviewRecord) => x.reviewId)).toEqual(['pr15', 'pr12', 'pr9']);
    expect(JSON.parse(live.stdout).reviews[1]).toEqual(REVIEWS[0]);
    const all = await runCli(['reviews', file, '--json', '--all'], { env: env() });
    expect(JSON.parse(all.stdout).reviews.map((x: ReviewRecord) => x.reviewId)).toEqual(['pr15', 'pr12', 'pr9', 'pr3']);
  });

  test('reviews, none live: says how a pull request gets one, and how many destroyed ones --all shows', async () => {
    const { file } = reviewDdk({ environment: 'dev', branches: ['main', 'release'] });
    const empty = await runCli(['reviews', file], { env: env() });
    expect(empty).toEqual({ code: 0, stderr: '', stdout: 'no live review deployments of myapp: a pull request into main, release gets one when it is opened or updated\n' });
    api.answer = () => [200, { reviews: [REVIEWS[3]] }];
    const onlyDestroyed = await runCli(['reviews', file], { env: env() });
    expect(onlyDestroyed.stdout).toBe('no live review deployments of myapp (1 destroyed; --all shows it): a pull request into main, release gets one when it is opened or updated\n');
  });

  test('reviews of a pipeline without pipeline.review: says to add the section', async () => {
    // the repository's example ddk.json has no review section
    const r = await runCli(['reviews'], { env: env() });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('no review deployments of myapp: ddk.json has no pipeline.review section, so pull requests get none. '
      + 'Fix: add "review": {"environment": "<environment id>"} to "pipeline" in ddk.json and deploy the pipeline\n');
  });

  test('reviews of a connection source: the source branch names a review deployment', async () => {
    const { file } = reviewDdk({ environment: 'dev', ttlHours: 0 }, true);
    const id = reviewIdForBranch('feature/login');
    api.answer = () => [200, { reviews: [record({ reviewId: id, sourceBranch: 'feature/login', destinationBranch: 'main', state: 'queued', stacks: ['a', 'b', 'c', 'd'] })] }];
    const r = await runCli(['reviews', file], { env: env() });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^BRANCH +COMMIT +STATE +STACKS +AGE +URL$/);
    expect(lines[2]).toMatch(/^feature\/login +1111111 +queued +4 stacks +1h +-$/);
    // ttlHours 0: no sweep, no TTL line
    expect(lines.slice(3)).toEqual(['destroy one by hand: ddk-pipelines reviews destroy --branch <source branch>']);
  });

  test('reviews: an answer without a reviews list, and an API without /reviews (403 Missing Authentication Token), are explained', async () => {
    api.answer = () => [200, { checks: [] }];
    const odd = await runCli(['reviews'], { env: env() });
    expect(odd.code).toBe(1);
    expect(odd.stderr).toContain('error: status-check API: GET /reviews answered without a "reviews" list ({"checks":[]}); expected {"reviews": [...]}');
    api.answer = () => [403, { message: 'Missing Authentication Token' }];
    const old = await runCli(['reviews'], { env: env() });
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('GET /reviews answered 403 Forbidden: Missing Authentication Token');
    expect(old.stderr).toContain('API Gateway answers this for a route the deployed API does not have: the API of myapp may predate review deployments. '
      + 'ddk.json has no pipeline.review section either. Fix: add "review": {"environment": "<environment id>"} to "pipeline" in ddk.json and deploy the pipeline stack');
  });

  test('reviews of a ddk.json named on the command line that is not valid: a usage error before any request', async () => {
    const { file } = writeDdk('{"environments": {}}');
    const r = await runCli(['reviews', file], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a valid ddk.json');
    expect(r.stderr).toContain(`Fix: correct ${file} (see \`ddk-pipelines validate ${file}\`), or pass --pipeline <name> without a file`);
    expect(api.server.requests).toHaveLength(0);
  });

  test('reviews destroy --pr: POST /reviews/destroy with the review id pr<N> and the default reason', async () => {
    const { file } = reviewDdk();
    api.answer = () => [202, { review: record({ reviewId: 'pr12', pullRequest: '12', state: 'destroying' }) }];
    const r = await runCli(['reviews', 'destroy', file, '--pr', '12'], { env: env() });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(api.server.requests.map(q => [q.method, q.url, JSON.parse(q.body)])).toEqual([
      ['POST', '/v1/reviews/destroy', { pipeline: 'myapp', reviewId: 'pr12', reason: 'destroyed by hand with ddk-pipelines reviews destroy' }],
    ]);
    verifySigV4(api.server.requests[0], FAKE_CREDENTIALS.secretAccessKey);
    expect(r.stdout).toBe('destroying review deployment #12 (pr12) of myapp: the review controller deletes its stacks myapp-review-pr12-* in dev (222222222222 / eu-west-1), dependents first.\n'
      + '`ddk-pipelines reviews --all` shows it as destroyed when none is left\n');
  });

  test('reviews destroy --branch (connection source): the branch\'s review id, --reason, --json prints the answer', async () => {
    const { file } = reviewDdk({ environment: 'dev' }, true);
    const reviewId = reviewIdForBranch('feature/login');
    const body = { review: record({ reviewId, sourceBranch: 'feature/login', state: 'destroying' }) };
    api.answer = () => [202, body];
    const r = await runCli(['reviews', 'destroy', file, '--branch', 'feature/login', '--reason', 'demo over', '--json'], { env: env() });
    expect(r.code).toBe(0);
    expect(JSON.parse(api.server.requests[0].body)).toEqual({ pipeline: 'myapp', reviewId, reason: 'demo over' });
    expect(reviewId).toMatch(/^b-feature-login-[0-9a-f]{6}$/);
    expect(JSON.parse(r.stdout)).toEqual(body);
    // refs/heads/ is the same branch
    const text = await runCli(['reviews', 'destroy', file, '--branch', 'refs/heads/feature/login'], { env: env() });
    expect(JSON.parse(api.server.requests[1].body).reviewId).toBe(reviewId);
    expect(text.stdout).toContain(`destroying review deployment branch feature/login (${reviewId}) of myapp`);
  });

  test('reviews destroy of one already destroyed: says so', async () => {
    api.answer = () => [202, { review: record({ reviewId: 'pr3', pullRequest: '3', state: 'destroyed' }) }];
    const r = await runCli(['reviews', 'destroy', '--pr', '#3'], { env: env() });
    expect(r).toEqual({ code: 0, stderr: '', stdout: 'review deployment #3 (pr3) of myapp is already destroyed\n' });
  });

  test('reviews destroy of an unknown one: the review deployments that exist, as the flags that name them', async () => {
    // GIVEN an API that knows pr12 and pr3 (its 404 as lib/status-checks/api.ts answers it)
    const message = 'body.reviewId: "pr99" is not a review deployment of pipeline "myapp"; expected one of "pr12" (deployed), "pr3" (destroyed). '
      + 'Fix: pick an id from GET /reviews?pipeline=myapp (ddk-pipelines reviews)';
    api.answer = req => (req.method === 'POST' ? [404, { message, reviewIds: ['pr12', 'pr3'] }] : [200, { pipeline: 'myapp', reviews: [REVIEWS[3], REVIEWS[0]] }]);
    // WHEN pr99 is destroyed
    const r = await runCli(['reviews', 'destroy', '--pr', '99'], { env: env() });
    // THEN exit 1, naming them as --pr flags
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: no review deployment #99 (id pr99) of myapp (POST /reviews/destroy answered 404); the review deployments of myapp: '
        + '--pr 12 (pr12, deployed), --pr 3 (pr3, destroyed). Fix: pass one of these\n',
    });
    expect(api.server.requests.map(q => `${q.method} ${q.url}`)).toEqual(['POST /v1/reviews/destroy', 'GET /v1/reviews?pipeline=myapp']);
    // a pipeline with none is said as such
    api.answer = req => (req.method === 'POST' ? [404, { message: 'no such review' }] : [200, { reviews: [] }]);
    const none = await runCli(['reviews', 'destroy', '--pr', '99'], { env: env() });
    expect(none.stderr).toBe('error: no review deployment #99 (id pr99) of myapp (POST /reviews/destroy answered 404); myapp has no review deployments. '
      + 'Fix: check --pipeline, or open a pull request to get one\n');
    // when the list cannot be read either (a pipeline the API does not serve), the API's answer is the error
    const other = 'body.pipeline: "other" is not a pipeline this API serves; expected "myapp"';
    api.answer = () => [404, { message: other }];
    const unknown = await runCli(['reviews', 'destroy', '--pr', '99', '--pipeline', 'other'], { env: env() });
    expect(unknown).toMatchObject({ code: 1, stderr: `error: status-check API: POST /reviews/destroy answered 404 Not Found: ${other}\n` });
  });

  test('reviews destroy: bad flags are usage errors, before any request', async () => {
    const codecommit = reviewDdk().file;
    const connection = reviewDdk({ environment: 'dev' }, true).file;
    const cases: Array<[string[], string]> = [
      [['--pr', '1', '--branch', 'x'], 'error: --pr and --branch both given; expected one of them. Fix: pass --pr <number> for a CodeCommit pull request, or --branch <source branch> for a connection source'],
      [[], 'error: no review deployment named; expected --pr <number> (CodeCommit) or --branch <source branch> (connection sources). Fix: pass one; `ddk-pipelines reviews` lists the review deployments'],
      [['--pr', 'abc'], 'error: --pr: "abc" is not a pull request number; expected CodeCommit\'s numeric pull request id, e.g. --pr 12'],
      [['--branch', ' '], 'error: --branch is empty; expected the pull request\'s source branch, e.g. --branch feature/login'],
      [['--pr', '1', '--reason', ''], 'error: --reason is empty; expected why the review deployment is destroyed (kept with who asked). Fix: pass --reason <text>, or leave it out'],
      [[codecommit, '--branch', 'feature/x'], `error: --branch: the source of myapp is CodeCommit (myapp, pipeline.source.codecommit in ${codecommit}), whose review deployments are known by pull request number. `
        + 'Fix: pass --pr <number> (`ddk-pipelines reviews` lists them)'],
      [[connection, '--pr', '12'], `error: --pr: the source of myapp is a connection (acme/app, pipeline.source.connection in ${connection}); CodePipeline's pull-request trigger gives a build `
        + 'the source branch, not the pull request number, so its review deployments are known by branch. Fix: pass --branch <the pull request\'s source branch> (`ddk-pipelines reviews` lists them)'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['reviews', 'destroy', ...args], { env: env() });
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 2, stderr: `${message}\n` });
    }
    const unknown = await runCli(['reviews', 'destroy', '--pr', '1', '--all'], { env: env() });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('error: --all lists destroyed review deployments; `reviews destroy` has no use for it. Fix: leave it out (`ddk-pipelines reviews --all` lists them)\n');
    expect(api.server.requests).toHaveLength(0);
  });

  test('reviews destroy: --pipeline, --endpoint and --region after `destroy` count; with --pipeline and no ddk.json the source kind is not checked', async () => {
    api.answer = () => [202, { review: record({ pipeline: 'other', reviewId: 'pr4', pullRequest: '4', stackPrefix: 'other-review-pr4', state: 'destroying' }) }];
    const empty = mkdtempSync(join(tmpdir(), 'ddk-cli-reviews-'));
    const r = await runCli(['reviews', 'destroy', '--pipeline', 'other', '--pr', '4', '--endpoint', api.server.url, '--region', 'us-west-2'], { env: {}, cwd: empty });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(api.server.requests[0].body)).toMatchObject({ pipeline: 'other', reviewId: 'pr4' });
    expect(verifySigV4(api.server.requests[0], FAKE_CREDENTIALS.secretAccessKey).region).toBe('us-west-2');
    expect(r.stdout).toContain('destroying review deployment #4 (pr4) of other: the review controller deletes its stacks other-review-pr4-*, dependents first.');
    // the list too: --pipeline names the pipeline, no ddk.json needed
    api.answer = () => [200, { reviews: [] }];
    const list = await runCli(['reviews', '--pipeline', 'other', '--endpoint', api.server.url, '--region', 'us-west-2'], { env: {}, cwd: empty });
    expect(list.stdout).toBe('no live review deployments of other: a pull request gets one when it is opened or updated\n');
    expect(api.server.requests[1].url).toBe('/reviews?pipeline=other');
  });

  test('no --pipeline and no ddk.json: a usage error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ddk-cli-reviews-'));
    const r = await runCli(['reviews'], { env: env(), cwd: empty });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: no --pipeline given and there is no ddk.json in');
  });

  test.each([['reviews'], ['reviews', 'destroy']])('%s --help: exit 0, names its options', async (...words) => {
    const r = await runCli([...words, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: ddk-pipelines ${words.join(' ')} \\[options\\]`));
    for (const option of words.length === 1 ? ['--all', '--json', '--pipeline', '--endpoint', '--region', '--stack'] : ['--pr', '--branch', '--reason', '--json', '--pipeline', '--endpoint']) {
      expect(r.stdout).toContain(option);
    }
  });
});

describe('review rows', () => {
  const now = Date.parse('2026-01-10T12:00:00Z');

  test('age: one unit, hours up to two days', () => {
    expect(age('2026-01-10T11:59:18Z', now)).toBe('42s');
    expect(age('2026-01-10T11:55:00Z', now)).toBe('5m');
    expect(age('2026-01-09T12:00:01Z', now)).toBe('23h');
    expect(age('2026-01-08T12:00:01Z', now)).toBe('47h');
    expect(age('2026-01-06T12:00:00Z', now)).toBe('4d');
    expect(age('2026-01-10T12:00:05Z', now)).toBe('0s');
    expect(age('yesterday', now)).toBe('-');
    expect(age(undefined, now)).toBe('-');
  });

  test('commit: the one deployed, being built, or asked for; an arrow to a newer one waiting', () => {
    const base = record({ reviewId: 'pr1', state: 'deployed', requestedCommit: 'bbbbbbbbbb', deployedCommit: 'aaaaaaaaaa' });
    expect(reviewCommit(base)).toBe('aaaaaaa → bbbbbbb');
    expect(reviewCommit({ ...base, requestedCommit: 'aaaaaaaaaa' })).toBe('aaaaaaa');
    expect(reviewCommit({ ...base, state: 'queued' })).toBe('bbbbbbb');
    expect(reviewCommit({ ...base, state: 'destroyed' })).toBe('aaaaaaa');
    expect(reviewCommit({ ...base, state: 'deploying', build: { id: 'b', commit: 'cccccccccc', startedAt: '' } })).toBe('ccccccc → bbbbbbb');
  });

  test('stacks: ids after the review\'s prefix, their number when more than three, - when unknown', () => {
    const base = record({ reviewId: 'pr1', state: 'deployed' });
    expect(reviewStacks({ ...base, stacks: ['myapp-review-pr1-Api', 'Other'] })).toBe('Api, Other');
    expect(reviewStacks({ ...base, stacks: ['a', 'b', 'c', 'd'] })).toBe('4 stacks');
    expect(reviewStacks({ ...base, stacks: [] })).toBe('0');
    expect(reviewStacks(base)).toBe('-');
  });

  test('destroyedReviewId: --pr 12 and #12 are pr12; --branch is reviewIdForBranch', () => {
    expect(destroyedReviewId({ pr: '12' })).toEqual({ reviewId: 'pr12', label: '#12' });
    expect(destroyedReviewId({ pr: '#12' })).toEqual({ reviewId: 'pr12', label: '#12' });
    expect(destroyedReviewId({ branch: 'feature/x' })).toEqual({ reviewId: reviewIdForBranch('feature/x'), label: 'branch feature/x' });
  });
});
