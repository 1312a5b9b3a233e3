import { C1, C2, C3, CONNECTION_SETTINGS, MAIN, SETTINGS, stack } from './controller-fixtures';
import type { DecideContext, Decision, RequestInput, ReviewAction, ReviewInput } from '../../lib/reviews/decide';
import { decide, LOST_BUILD_HOURS, PENDING_BUILD_ID, PENDING_BUILD_RETRY_MINUTES } from '../../lib/reviews/decide';
import type { ReviewSettings } from '../../lib/reviews/shared';
import { REVIEW_DEPLOY_CONTEXT, REVIEW_TESTS_CONTEXT, REVIEW_VARIABLES } from '../../lib/reviews/shared';
import { reviewStacksByReview } from '../../lib/reviews/stacks';
import type { StackDescription } from '../../lib/reviews/stacks';
import type { StoredReview } from '../../lib/reviews/store';
import { publicRecord } from '../../lib/reviews/store';

/*
 * The review controller's state machine, input by input, with no I/O: what a review deployment
 * becomes and which actions follow (builds, checks, comments, teardown steps).
 */

const T0 = new Date('2030-01-01T00:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

function ctx(now = T0, settings: ReviewSettings = SETTINGS): DecideContext {
  return { settings, now, region: 'eu-west-1' };
}

function opened(commitId: string, extra: Partial<RequestInput> = {}): RequestInput {
  return {
    kind: 'request',
    reviewId: 'pr12',
    commit: commitId,
    sourceBranch: 'feature/login',
    destinationBranch: 'main',
    pullRequest: '12',
    title: 'Login page',
    author: 'arn:aws:iam::111111111111:user/alice',
    destinationCommit: MAIN,
    source: { type: 'codecommit', commit: commitId },
    via: 'pull-request-event',
    ...extra,
  };
}

function kinds(d: Decision): string[] {
  return d.actions.map(a => a.kind);
}

function reports(d: Decision): Array<[string, string, string]> {
  return d.actions.filter((a): a is Extract<ReviewAction, { kind: 'report' }> => a.kind === 'report').map(a => [a.check.context, a.check.state, a.check.revision]);
}

/** Applies inputs in order, keeping the written record (as the controller does). */
class Review {
  public record: StoredReview | undefined;
  public last!: Decision;
  constructor(private readonly settings: ReviewSettings = SETTINGS) {}

  public apply(input: ReviewInput, now = T0): Decision {
    this.last = decide(this.record, input, ctx(now, this.settings));
    if (this.last.next) {
      expect(this.last.next.version).toBe((this.record?.version ?? 0) + 1);
      this.record = this.last.next;
    }
    return this.last;
  }

  /** request → StartBuild answered with `buildId`. */
  public deploy(commitId: string, buildId: string, now = T0): void {
    this.apply(opened(commitId), now);
    this.apply({ kind: 'build-started', reviewId: 'pr12', commit: commitId, buildId }, now);
  }
}

const SUCCESS = { deploy: 'success', tests: 'success' } as const;

describe('deploying a pull request', () => {
  test('the first request writes the record with a pending build, then asks for StartBuild', () => {
    const r = new Review();
    const d = r.apply(opened(C1));
    expect(d.next).toMatchObject({
      pipeline: 'myapp',
      reviewId: 'pr12',
      pullRequest: '12',
      sourceBranch: 'feature/login',
      destinationBranch: 'main',
      destinationCommit: MAIN,
      stackPrefix: 'myapp-review-pr12',
      state: 'queued',
      requestedCommit: C1,
      build: { id: PENDING_BUILD_ID, commit: C1, startedAt: T0.toISOString() },
      createdAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
      version: 1,
    });
    expect(d.actions).toEqual([{
      kind: 'start-build',
      build: {
        projectName: 'myapp-review',
        reviewId: 'pr12',
        commit: C1,
        source: { type: 'codecommit', commit: C1 },
        environmentVariables: [
          { name: REVIEW_VARIABLES.ID, value: 'pr12' },
          { name: REVIEW_VARIABLES.COMMIT, value: C1 },
          { name: REVIEW_VARIABLES.BRANCH, value: 'feature/login' },
          { name: REVIEW_VARIABLES.PULL_REQUEST, value: '12' },
        ],
        idempotencyToken: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
    }]);
  });

  test('StartBuild answered: deploying; review/deploy and review/tests pending with the build link; a comment on the pull request', () => {
    const r = new Review();
    r.apply(opened(C1));
    const d = r.apply({ kind: 'build-started', reviewId: 'pr12', commit: C1, buildId: 'myapp-review:b1' });
    expect(d.next).toMatchObject({ state: 'deploying', build: { id: 'myapp-review:b1', commit: C1 }, version: 2 });
    const buildUrl = 'https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/myapp-review/build/myapp-review%3Ab1/?region=eu-west-1';
    expect(d.actions).toEqual([
      { kind: 'report', check: expect.objectContaining({ context: REVIEW_DEPLOY_CONTEXT, state: 'pending', revision: C1, targetUrl: buildUrl, description: 'deploying 1111111 to environment dev (222222222222/eu-west-1) as myapp-review-pr12-*' }) },
      { kind: 'report', check: expect.objectContaining({ context: REVIEW_TESTS_CONTEXT, state: 'pending', revision: C1 }) },
      {
        kind: 'comment',
        comment: expect.objectContaining({ repository: 'myapp', pullRequestId: '12', beforeCommitId: MAIN, afterCommitId: C1, content: expect.stringContaining(`Build: ${buildUrl}`) }),
      },
    ]);
  });

  test('a successful build: deployed, with its stacks and URL; checks success', () => {
    const r = new Review();
    r.deploy(C1, 'myapp-review:b1');
    const d = r.apply({ kind: 'build-finished', reviewId: 'pr12', buildId: 'myapp-review:b1', commit: C1, outcome: SUCCESS, stacks: ['myapp-review-pr12-Api'], url: 'https://app.example.com' });
    expect(d.next).toMatchObject({ state: 'deployed', deployedCommit: C1, stacks: ['myapp-review-pr12-Api'], url: 'https://app.example.com' });
    expect(d.next!.build).toBeUndefined();
    expect(reports(d)).toEqual([[REVIEW_DEPLOY_CONTEXT, 'success', C1], [REVIEW_TESTS_CONTEXT, 'success', C1]]);
    const deploy = d.actions.find(a => a.kind === 'report') as Extract<ReviewAction, { kind: 'report' }>;
    expect(deploy.check.targetUrl).toBe('https://app.example.com');
    expect(kinds(d)).toContain('comment');
  });

  test('a failed deployment: failed; review/deploy failure linking the logs, review/tests failure "not run"', () => {
    const r = new Review();
    r.deploy(C1, 'myapp-review:b1');
    const d = r.apply({
      kind: 'build-finished',
      reviewId: 'pr12',
      buildId: 'myapp-review:b1',
      commit: C1,
      outcome: { deploy: 'failure', tests: 'not-run', detail: 'BUILD FAILED (COMMAND_EXECUTION_ERROR: exit status 1)' },
      logsUrl: 'https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logEvent:group=/aws/codebuild/myapp-review',
    });
    expect(d.next).toMatchObject({ state: 'failed', message: 'deployment of 1111111 failed: BUILD FAILED (COMMAND_EXECUTION_ERROR: exit status 1)' });
    expect(d.next!.deployedCommit).toBeUndefined();
    const checks = d.actions.filter((a): a is Extract<ReviewAction, { kind: 'report' }> => a.kind === 'report').map(a => a.check);
    expect(checks.map(c => [c.context, c.state, c.targetUrl, c.description])).toEqual([
      [REVIEW_DEPLOY_CONTEXT, 'failure', expect.stringContaining('logEvent:group=/aws/codebuild/myapp-review'), 'deployment of 1111111 failed: BUILD FAILED (COMMAND_EXECUTION_ERROR: exit status 1)'],
      [REVIEW_TESTS_CONTEXT, 'failure', expect.any(String), 'not run: the deployment of 1111111 failed'],
    ]);
  });

  test('failed tests after a deployment: deployed (the stacks exist), review/deploy success, review/tests failure', () => {
    const r = new Review();
    r.deploy(C1, 'myapp-review:b1');
    const d = r.apply({ kind: 'build-finished', reviewId: 'pr12', buildId: 'myapp-review:b1', commit: C1, outcome: { deploy: 'success', tests: 'failure', detail: 'POST_BUILD FAILED' } });
    expect(d.next).toMatchObject({ state: 'deployed', deployedCommit: C1, message: 'deployed, but the tests failed: POST_BUILD FAILED' });
    expect(reports(d)).toEqual([[REVIEW_DEPLOY_CONTEXT, 'success', C1], [REVIEW_TESTS_CONTEXT, 'failure', C1]]);
  });

  test('without tests configured, no review/tests check', () => {
    const r = new Review({ ...SETTINGS, tests: false });
    r.apply(opened(C1));
    const d = r.apply({ kind: 'build-started', reviewId: 'pr12', commit: C1, buildId: 'b:1' });
    expect(reports(d)).toEqual([[REVIEW_DEPLOY_CONTEXT, 'pending', C1]]);
  });

  test('a StartBuild failure: failed with the reason, review/deploy failure', () => {
    const r = new Review();
    r.apply(opened(C1));
    const d = r.apply({ kind: 'build-start-failed', reviewId: 'pr12', commit: C1, message: 'AccessDeniedException: not authorized' });
    expect(d.next).toMatchObject({ state: 'failed', message: 'the review build of 1111111 could not be started: AccessDeniedException: not authorized' });
    expect(d.next!.build).toBeUndefined();
    expect(reports(d)).toEqual([[REVIEW_DEPLOY_CONTEXT, 'failure', C1]]);
    expect(d.failure).toBe(d.next!.message);
  });
});

describe('one build per review; the newest commit wins', () => {
  test('updates while a build runs only move requestedCommit; the newest is built next, the ones between are skipped', () => {
    const r = new Review();
    r.deploy(C1, 'b:1');
    const d2 = r.apply(opened(C2));
    expect(d2.actions).toEqual([]);
    expect(d2.next).toMatchObject({ state: 'deploying', requestedCommit: C2, build: { id: 'b:1', commit: C1 } });
    r.apply(opened(C3));
    expect(r.record).toMatchObject({ requestedCommit: C3, build: { id: 'b:1' } });

    const done = r.apply({ kind: 'build-finished', reviewId: 'pr12', buildId: 'b:1', commit: C1, outcome: SUCCESS });
    // C1's result is reported, and C3 (not C2) is built next
    expect(reports(done)).toEqual([[REVIEW_DEPLOY_CONTEXT, 'success', C1], [REVIEW_TESTS_CONTEXT, 'success', C1]]);
    expect(done.next).toMatchObject({ state: 'queued', deployedCommit: C1, requestedCommit: C3, build: { id: PENDING_BUILD_ID, commit: C3 } });
    const start = done.actions.find(a => a.kind === 'start-build') as Extract<ReviewAction, { kind: 'start-build' }>;
    expect(start.build.commit).toBe(C3);
    expect(kinds(done).filter(k => k === 'start-build')).toHaveLength(1);
  });

  test('the same event twice (EventBridge delivers at least once) writes nothing the second time', () => {
    const r = new Review();
    r.deploy(C1, 'b:1');
    expect(r.apply(opened(C1))).toEqual({ actions: [], summary: expect.stringContaining('already requested') });
    r.apply({ kind: 'build-finished', reviewId: 'pr12', buildId: 'b:1', commit: C1, outcome: SUCCESS });
    const again = r.apply(opened(C1));
    expect(again.next).toBeUndefined();
    expect(again.actions).toEqual([]);
  });

  test('a build that is not the review\'s current build is ignored', () => {
    const r = new Review();
    r.deploy(C1, 'b:1');
    const d = r.apply({ kind: 'build-finished', reviewId: 'pr12', buildId: 'b:0', commit: C1, outcome: SUCCESS });
    expect(d.next).toBeUndefined();
    expect(d.summary).toMatch(/not the review's current build \(b:1\); ignored/);
  });

  test('a build that finishes before StartBuild\'s answer was written is matched by its commit', () => {
    const r = new Review();
    r.apply(opened(C1));
    const d = r.apply({ kind: 'build-finished', reviewId: 'pr12', buildId: 'b:1', commit: C1, outcome: SUCCESS });
    expect(d.next).toMatchObject({ state: 'deployed', deployedCommit: C1 });
  });

  test('a failed commit is rebuilt by retrying the Request action (a job), not by a duplicate event', () => {
    const r = new Review(CONNECTION_SETTINGS);
    const job = { ...opened(C1), reviewId: 'pr12', via: 'job' as const, repository: 'acme/myapp', source: { type: 's3' as const, bucket: 'artifacts', key: 'a/b' } };
    r.apply(job);
    r.apply({ kind: 'build-finished', reviewId: 'pr12', buildId: 'b:1', commit: C1, outcome: { deploy: 'failure', tests: 'not-run' } });
    expect(r.record!.state).toBe('failed');
    expect(kinds(r.apply(job))).toEqual(['start-build']);
    expect(r.record).toMatchObject({ state: 'queued', requestedSource: { type: 's3', bucket: 'artifacts', key: 'a/b' } });
  });
});

describe('teardown', () => {
  const closed = { kind: 'close', reviewId: 'pr12', reason: 'closed' } as const;

  function deployed(): Review {
    const r = new Review();
    r.deploy(C1, 'b:1');
    r.apply({ kind: 'build-finished', reviewId: 'pr12', buildId: 'b:1', commit: C1, outcome: SUCCESS, stacks: ['myapp-review-pr12-Db', 'myapp-review-pr12-Api'] });
    return r;
  }

  function review(stacks: StackDescription[]) {
    return reviewStacksByReview(stacks, 'myapp').get('pr12') ?? [];
  }

  test('closing: destroying, then the stacks go highest order first, then destroyed', () => {
    const r = deployed();
    const d = r.apply(closed);
    expect(d.next).toMatchObject({ state: 'destroying', closeReason: 'closed' });
    expect(kinds(d)).toEqual(['teardown']);

    const db = stack('pr12', 'Db', 0);
    const api = stack('pr12', 'Api', 1);
    const step1 = r.apply({ kind: 'teardown', reviewId: 'pr12', stacks: review([db, api]) });
    expect(step1.actions).toEqual([{ kind: 'delete-stacks', stacks: [expect.objectContaining({ name: 'myapp-review-pr12-Api', order: 1 })] }]);
    expect(step1.next).toMatchObject({ state: 'destroying', stacks: ['myapp-review-pr12-Api', 'myapp-review-pr12-Db'] });

    // Api is being deleted: Db waits
    const step2 = r.apply({ kind: 'teardown', reviewId: 'pr12', stacks: review([db, { ...api, status: 'DELETE_IN_PROGRESS' }]) });
    expect(step2.actions).toEqual([]);
    expect(step2.summary).toContain('waiting for myapp-review-pr12-Api (DELETE_IN_PROGRESS)');

    const step3 = r.apply({ kind: 'teardown', reviewId: 'pr12', stacks: review([db]) });
    expect(step3.actions).toEqual([{ kind: 'delete-stacks', stacks: [expect.objectContaining({ name: 'myapp-review-pr12-Db' })] }]);

    const done = r.apply({ kind: 'teardown', reviewId: 'pr12', stacks: [] });
    expect(done.next).toMatchObject({ state: 'destroyed', stacks: [], message: 'removed (closed)' });
    expect(done.next!.url).toBeUndefined();
    expect(kinds(done)).toEqual(['comment']);
  });

  test('a stack whose deletion failed is deleted again, and the reason is kept', () => {
    const r = deployed();
    r.apply(closed);
    const d = r.apply({ kind: 'teardown', reviewId: 'pr12', stacks: review([stack('pr12', 'Api', 1, { status: 'DELETE_FAILED', statusReason: 'bucket not empty' })]) });
    expect(kinds(d)).toEqual(['delete-stacks']);
    expect(d.next!.message).toContain('retrying after DELETE_FAILED: myapp-review-pr12-Api (bucket not empty)');
  });

  test('closing while a build runs: the teardown starts when it finishes', () => {
    const r = new Review();
    r.deploy(C1, 'b:1');
    const d = r.apply(closed);
    expect(d.next).toMatchObject({ state: 'destroying', build: { id: 'b:1' } });
    expect(d.actions).toEqual([]);
    expect(d.next!.message).toContain('the teardown starts when build b:1 finishes');
    // a teardown input meanwhile does nothing
    expect(r.apply({ kind: 'teardown', reviewId: 'pr12', stacks: [] }).next).toBeUndefined();
    const finished = r.apply({ kind: 'build-finished', reviewId: 'pr12', buildId: 'b:1', commit: C1, outcome: SUCCESS });
    expect(finished.next).toMatchObject({ state: 'destroying', deployedCommit: C1 });
    expect(finished.next!.build).toBeUndefined();
    expect(kinds(finished)).toEqual(['report', 'report', 'comment', 'teardown']);
  });

  test('merged, closed, by hand: each says why', () => {
    const merged = deployed();
    expect(merged.apply({ kind: 'close', reviewId: 'pr12', reason: 'merged' }).next).toMatchObject({ state: 'destroying', closeReason: 'merged' });
    const byHand = deployed();
    const d = byHand.apply({ kind: 'destroy', reviewId: 'pr12', by: 'arn:aws:iam::111111111111:user/alice', reason: 'costs' });
    expect(d.next).toMatchObject({ state: 'destroying', closeReason: 'by-hand', closedBy: 'arn:aws:iam::111111111111:user/alice', message: 'destroyed by hand by arn:aws:iam::111111111111:user/alice: costs' });
    expect(kinds(d)).toEqual(['teardown']);
  });

  test('a late request after the pull request closed is ignored; a reopen deploys again', () => {
    const r = deployed();
    r.apply(closed);
    r.apply({ kind: 'teardown', reviewId: 'pr12', stacks: [] });
    expect(r.record!.state).toBe('destroyed');
    const late = r.apply(opened(C2));
    expect(late.next).toBeUndefined();
    expect(late.summary).toContain('the pull request was closed; ignoring a late request');
    const reopened = r.apply(opened(C2, { reopened: true }));
    expect(reopened.next).toMatchObject({ state: 'queued', requestedCommit: C2 });
    expect(reopened.next!.closeReason).toBeUndefined();
    expect(reopened.next!.deployedCommit).toBeUndefined();
    expect(kinds(reopened)).toEqual(['start-build']);
  });

  test('a request during the teardown deploys once the teardown completes', () => {
    const r = deployed();
    r.apply({ kind: 'destroy', reviewId: 'pr12', by: 'arn:aws:iam::111111111111:user/alice', reason: 'reset' });
    const d = r.apply(opened(C2));
    expect(d.next).toMatchObject({ state: 'destroying', requestedCommit: C2 });
    expect(d.next!.closeReason).toBeUndefined();
    expect(d.actions).toEqual([]);
    const done = r.apply({ kind: 'teardown', reviewId: 'pr12', stacks: [] });
    expect(done.next).toMatchObject({ state: 'queued', requestedCommit: C2, build: { id: PENDING_BUILD_ID, commit: C2 } });
    expect(kinds(done)).toEqual(['start-build']);
  });

  test('a destroy request for a removed review checks again (stacks may have been left behind)', () => {
    const r = deployed();
    r.apply(closed);
    r.apply({ kind: 'teardown', reviewId: 'pr12', stacks: [] });
    expect(kinds(r.apply({ kind: 'destroy', reviewId: 'pr12', by: 'me', reason: 'again' }))).toEqual(['teardown']);
    expect(r.apply({ kind: 'teardown', reviewId: 'pr12', stacks: [] }).next).toMatchObject({ state: 'destroyed' });
    // a close event for a removed review changes nothing
    expect(r.apply(closed).next).toBeUndefined();
  });

  test('stacks that cannot be read: the reason is kept and the sweep retries', () => {
    const r = deployed();
    r.apply(closed);
    const d = r.apply({ kind: 'teardown', reviewId: 'pr12', error: 'AccessDenied' });
    expect(d.next!.message).toBe('the teardown could not read the stacks (retried by the next sweep): AccessDenied');
    expect(r.apply({ kind: 'teardown', reviewId: 'pr12', error: 'AccessDenied' }).next).toBeUndefined();
  });
});

describe('forks (connection sources)', () => {
  const fromFork = (allow: boolean) => {
    const r = new Review({ ...CONNECTION_SETTINGS, allowForks: allow });
    return { r, d: r.apply({ ...opened(C1), pullRequest: undefined, via: 'job', repository: 'mallory/myapp', source: { type: 's3', bucket: 'artifacts', key: 'k' } }) };
  };

  test('a pull request from another repository is refused, with the reason and how to allow it', () => {
    const { d } = fromFork(false);
    expect(d.refused).toBe(true);
    expect(d.failure).toMatch(/^pull request from "mallory\/myapp"/);
    expect(d.next).toMatchObject({ state: 'refused', requestedCommit: C1 });
    expect(d.next!.message).toBe('pull request from "mallory/myapp", not "acme/myapp": pull requests from forks do not deploy (ddk.json: pipeline.review.allowForks is false). Fix: push the branch to acme/myapp, or set pipeline.review.allowForks to true if you trust every fork\'s code with the review environment\'s deploy role');
    expect(reports(d)).toEqual([[REVIEW_DEPLOY_CONTEXT, 'failure', C1]]);
    expect(kinds(d)).not.toContain('start-build');
  });

  test('with allowForks it deploys; the same repository in another case is not a fork', () => {
    expect(kinds(fromFork(true).d)).toEqual(['start-build']);
    const r = new Review(CONNECTION_SETTINGS);
    expect(kinds(r.apply({ ...opened(C1), via: 'job', repository: 'ACME/MyApp', source: { type: 's3', bucket: 'b', key: 'k' } }))).toEqual(['start-build']);
  });
});

describe('the sweep', () => {
  const sweep = { kind: 'sweep', reviewId: 'pr12' } as const;

  function deployedAt(now: Date): Review {
    const r = new Review();
    r.deploy(C1, 'b:1', now);
    r.apply({ kind: 'build-finished', reviewId: 'pr12', buildId: 'b:1', commit: C1, outcome: SUCCESS }, now);
    return r;
  }

  test('a deployment not updated for ttlHours expires', () => {
    const r = deployedAt(T0);
    expect(r.apply(sweep, minutes(72 * 60 - 1)).next).toBeUndefined();
    const d = r.apply(sweep, minutes(72 * 60 + 1));
    expect(d.next).toMatchObject({ state: 'destroying', closeReason: 'expired' });
    expect(d.next!.message).toBe('expired: not updated for 72 hours (since 2030-01-01T00:00:00.000Z; pipeline.review.ttlHours)');
    expect(kinds(d)).toEqual(['teardown']);
  });

  test('ttlHours 0 turns expiry off', () => {
    const r = new Review({ ...SETTINGS, ttlHours: 0 });
    r.deploy(C1, 'b:1');
    r.apply({ kind: 'build-finished', reviewId: 'pr12', buildId: 'b:1', commit: C1, outcome: SUCCESS });
    expect(r.apply(sweep, minutes(10 * 365 * 24 * 60)).next).toBeUndefined();
  });

  test('a build StartBuild never answered for is asked for again, with a new idempotency token', () => {
    const r = new Review();
    const first = r.apply(opened(C1));
    expect(r.apply(sweep, minutes(PENDING_BUILD_RETRY_MINUTES - 1)).actions).toEqual([]);
    const again = r.apply(sweep, minutes(PENDING_BUILD_RETRY_MINUTES + 1));
    expect(kinds(again)).toEqual(['start-build']);
    const token = (d: Decision) => (d.actions[0] as Extract<ReviewAction, { kind: 'start-build' }>).build.idempotencyToken;
    expect(token(again)).not.toBe(token(first));
  });

  test('a build that never reports is considered lost after the longest CodeBuild timeout', () => {
    const r = new Review();
    r.deploy(C1, 'b:1');
    expect(r.apply(sweep, minutes(LOST_BUILD_HOURS * 60 - 1)).next).toBeUndefined();
    const d = r.apply(sweep, minutes(LOST_BUILD_HOURS * 60 + 1));
    expect(d.next).toMatchObject({ state: 'failed', message: `build b:1 reported no result in ${LOST_BUILD_HOURS} hours; considered lost` });
    expect(reports(d)).toEqual([[REVIEW_DEPLOY_CONTEXT, 'failure', C1]]);
  });

  test('a teardown in progress is progressed with the stacks the sweep read', () => {
    const r = deployedAt(T0);
    r.apply({ kind: 'close', reviewId: 'pr12', reason: 'closed' });
    const d = r.apply({ ...sweep, stacks: reviewStacksByReview([stack('pr12', 'Api', 0)], 'myapp').get('pr12') });
    expect(kinds(d)).toEqual(['delete-stacks']);
    expect(r.apply({ ...sweep, stacks: [] }).next).toMatchObject({ state: 'destroyed' });
  });

  test('stacks of a review with no record are removed (orphans); a live review\'s are not', () => {
    const stacks = reviewStacksByReview([stack('pr7', 'Api', 1), stack('pr7', 'Db', 0)], 'myapp').get('pr7')!;
    const d = decide(undefined, { kind: 'orphan', reviewId: 'pr7', stacks }, ctx());
    expect(d.next).toMatchObject({ reviewId: 'pr7', state: 'destroying', closeReason: 'expired', stackPrefix: 'myapp-review-pr7', requestedCommit: C1, sourceBranch: '(unknown)', version: 1 });
    expect(d.next!.message).toContain('with no record');
    expect(d.actions).toEqual([{ kind: 'delete-stacks', stacks: [expect.objectContaining({ name: 'myapp-review-pr7-Api' })] }]);

    const live = deployedAt(T0);
    expect(decide(live.record, { kind: 'orphan', reviewId: 'pr12', stacks }, ctx()).next).toBeUndefined();
  });
});

test('publicRecord leaves the controller\'s own fields out', () => {
  const r = new Review();
  r.apply(opened(C1));
  const shown = publicRecord(r.record!);
  expect(shown).not.toHaveProperty('destinationCommit');
  expect(shown).not.toHaveProperty('requestedSource');
  expect(shown).toMatchObject({ reviewId: 'pr12', state: 'queued' });
});
