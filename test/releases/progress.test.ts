import * as fc from 'fast-check';
import { ALICE, BACKEND, commit, description, EXECUTION, FRONTEND, LAYOUT, actionEvent, pipelineEvent, RELEASE_ID, releaseRun, SETTINGS, stageEvent } from './fixtures';
import { parseReleaseInput } from '../../lib/releases/events';
import type { ExecutionDescription } from '../../lib/releases/progress';
import { derivedReleaseId, isLater, progress, readExecution, readLayout, releaseState } from '../../lib/releases/progress';
import { RELEASE_DETAIL_TYPES, RELEASE_ID_PATTERN } from '../../lib/releases/shared';
import type { PendingReleaseEvent, PipelineLayout, StoredRelease } from '../../lib/releases/store';

/*
 * A release's progress, without AWS: the release pipeline's events (shaped as the CodePipeline
 * user guide's "Monitoring CodePipeline events" examples) are fed to progress() the way the
 * controller does (each decision's record is the next one's input), with what
 * GetPipelineExecution says at that moment.
 */

const NOW = new Date('2030-11-29T15:00:00.000Z');
const { STARTED, DEPLOYED, TESTED, PROMOTED, FINISHED } = RELEASE_DETAIL_TYPES;

interface Run {
  record?: StoredRelease;
  events: PendingReleaseEvent[];
  writes: number;
}

/** Feeds events one by one; `status(i)` is GetPipelineExecution's status when the i-th is handled. */
/** How feed() answers for GetPipelineExecution and GetPipeline, and the run to continue. */
interface FeedOptions {
  readonly status?: (i: number) => string;
  readonly desc?: (i: number) => ExecutionDescription;
  readonly layout?: PipelineLayout;
  readonly run?: Run;
}

function feed(events: unknown[], options: FeedOptions = {}): Run {
  const run: Run = options.run ?? { events: [], writes: 0 };
  events.forEach((e, i) => {
    const input = parseReleaseInput(e, SETTINGS);
    if (input.kind !== 'change') throw new Error(`not a change: ${JSON.stringify(input)}`);
    const desc = options.desc?.(i) ?? description(options.status?.(i) ?? 'InProgress');
    const snapshot = readExecution(desc, SETTINGS);
    const layout = options.layout ?? LAYOUT;
    const p = progress(run.record, { releaseId: RELEASE_ID, change: input.change, snapshot, layout }, { settings: SETTINGS, now: NOW });
    if (p.next) {
      expect(p.next.version).toBe((run.record?.version ?? 0) + 1);
      run.record = p.next;
      run.writes += 1;
    }
    run.events.push(...p.events);
  });
  return run;
}

const names = (events: PendingReleaseEvent[]) => events.map(e => (e.stage ? `${e.detailType} (${e.stage})` : e.detailType));
const FULL = [STARTED, `${DEPLOYED} (hardening)`, `${TESTED} (hardening)`, `${PROMOTED} (hardening)`, `${DEPLOYED} (production)`, `${TESTED} (production)`, FINISHED];
const MEMBERS = [{ service: 'foobar-frontend', revision: FRONTEND }, { service: 'foobar-backend', revision: BACKEND }];

describe('a release through hardening and production, events in order', () => {
  test('each release event is decided by the change that makes it true, with the members, the stage and the state', () => {
    const events = releaseRun();
    const run: Run = { events: [], writes: 0 };
    const after: Record<string, string[]> = {};
    events.forEach((e, i) => {
      const before = run.events.length;
      feed([e], { run, status: () => (i === events.length - 1 ? 'Succeeded' : 'InProgress') });
      const d = (e as any).detail;
      after[`${i}:${d.stage ?? 'pipeline'}/${d.action ?? ''} ${d.state}`] = names(run.events.slice(before));
    });
    expect(Object.entries(after).filter(([, v]) => v.length > 0)).toEqual([
      // the members are known from the start: Release Started at once
      ['0:pipeline/ STARTED', [STARTED]],
      // both deploy actions of hardening succeeded
      ['9:hardening/Deploy-foobar-backend-hardening SUCCEEDED', [`${DEPLOYED} (hardening)`]],
      ['11:hardening/Tests SUCCEEDED', [`${TESTED} (hardening)`]],
      ['12:hardening/ SUCCEEDED', [`${PROMOTED} (hardening)`]],
      // production has no tests: Tested with Deployed; it is the last bracket stage: no Promoted
      ['17:production/Deploy-foobar-backend-prod SUCCEEDED', [`${DEPLOYED} (production)`, `${TESTED} (production)`]],
      ['19:pipeline/ SUCCEEDED', [FINISHED]],
    ]);
    expect(names(run.events)).toEqual(FULL);
    expect(run.events.map(e => e.n)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const [started, deployed, tested, promoted, , testedProd, finished] = run.events;
    const common = { releaseId: RELEASE_ID, pipeline: 'foo', releasePipeline: 'foo-release', execution: EXECUTION, members: MEMBERS, startedBy: ALICE };
    expect(started.detail).toEqual({ ...common, state: 'started', at: started.at, startedAt: '2030-11-29T14:30:00.208Z' });
    expect(deployed.detail).toEqual({ ...common, stage: 'hardening', state: 'started', at: deployed.at, deployActions: ['Deploy-foobar-frontend-hardening', 'Deploy-foobar-backend-hardening'] });
    expect(tested.detail).toMatchObject({ stage: 'hardening', tests: 'succeeded', state: 'started' });
    expect(promoted.detail).toMatchObject({ stage: 'hardening', nextStage: 'production' });
    expect(testedProd.detail).toMatchObject({ stage: 'production', tests: 'none' });
    expect(finished.detail).toEqual({ ...common, state: 'succeeded', at: finished.at, outcome: 'succeeded', executionStatus: 'Succeeded' });
    expect(finished).not.toHaveProperty('stage');
    // the record
    expect(run.record).toMatchObject({
      pipeline: 'foo',
      releaseId: RELEASE_ID,
      execution: EXECUTION,
      members: MEMBERS,
      missing: [],
      state: 'succeeded',
      startedBy: ALICE,
      startedAt: '2030-11-29T14:30:00.208Z',
      published: ['started', 'deployed:hardening', 'tested:hardening', 'promoted:hardening', 'deployed:production', 'tested:production', 'finished:succeeded:1'],
      eventCount: 7,
    });
    expect(run.record!.stages.map(s => [s.stage, s.status])).toEqual([
      ['Source', 'Succeeded'], ['Build', 'Succeeded'], ['hardening', 'Succeeded'], ['production', 'Succeeded'],
    ]);
    expect(run.record!.stages[2]).toEqual({ stage: 'hardening', status: 'Succeeded', startedAt: expect.any(String), endedAt: expect.any(String) });
    // every event is dated by the change that decided it, in order
    const ats = run.events.map(e => e.at);
    expect([...ats].sort()).toEqual(ats);
  });

  test('an event delivered twice changes nothing the second time', () => {
    const events = releaseRun();
    const run = feed(events.slice(0, 10));
    const version = run.record!.version;
    for (const e of events.slice(0, 10)) feed([e], { run });
    expect(run.record!.version).toBe(version);
    expect(names(run.events)).toEqual([STARTED, `${DEPLOYED} (hardening)`]);
  });

  test('property: in any order, with any event delivered twice, the same events in the same order, and the same record (fast-check, seed 1)', () => {
    const events = releaseRun();
    const reference = feed(events);
    const arbitrary = fc.tuple(
      fc.shuffledSubarray(events.map((_, i) => i), { minLength: events.length, maxLength: events.length }),
      fc.array(fc.nat({ max: events.length - 1 }), { maxLength: 6 }),
    );
    fc.assert(fc.property(arbitrary, ([order, twice]) => {
      const sequence = [...order.map(i => events[i]), ...twice.map(i => events[i])];
      const run = feed(sequence);
      expect(names(run.events)).toEqual(FULL);
      expect(run.record!.state).toBe('succeeded');
      expect(run.record!.stages).toEqual(reference.record!.stages);
      expect(run.record!.facts).toEqual(reference.record!.facts);
      expect(run.record!.startedAt).toBe(reference.record!.startedAt);
      const ats = run.events.map(e => e.at);
      expect([...ats].sort()).toEqual(ats);
    }), { seed: 1, numRuns: 150 });
  });
});

describe('failures, retries and other endings', () => {
  test('failed tests in hardening: deployed, not tested; the release fails; a late event of the attempt adds nothing', () => {
    const run = feed([
      pipelineEvent('STARTED'),
      actionEvent('hardening', 'Deploy-foobar-frontend-hardening', 'SUCCEEDED'),
      actionEvent('hardening', 'Tests', 'STARTED'),
      actionEvent('hardening', 'Tests', 'FAILED'),
      stageEvent('hardening', 'FAILED'),
      pipelineEvent('FAILED'),
    ], { status: i => (i === 5 ? 'Failed' : 'InProgress') });
    // the Tests action started: both deploy actions had succeeded (the backend's event not seen yet)
    expect(names(run.events)).toEqual([STARTED, `${DEPLOYED} (hardening)`, FINISHED]);
    expect(run.events[2].detail).toMatchObject({ state: 'failed', outcome: 'failed', executionStatus: 'Failed', members: MEMBERS });
    expect(run.record).toMatchObject({ state: 'failed' });
    expect(run.record!.stages.find(s => s.stage === 'hardening')).toMatchObject({ status: 'Failed' });
    feed([actionEvent('hardening', 'Deploy-foobar-backend-hardening', 'SUCCEEDED')], { run, status: () => 'Failed' });
    expect(names(run.events)).toEqual([STARTED, `${DEPLOYED} (hardening)`, FINISHED]);
  });

  test('after Release Finished, late events of the same attempt add nothing to the stream; the record still learns them', () => {
    // GIVEN the execution failed and its event was handled before the backend's deploy event arrived
    const run = feed([
      pipelineEvent('STARTED'),
      actionEvent('hardening', 'Deploy-foobar-frontend-hardening', 'SUCCEEDED'),
      pipelineEvent('FAILED'),
    ], { status: i => (i === 2 ? 'Failed' : 'InProgress') });
    expect(names(run.events)).toEqual([STARTED, FINISHED]);
    // WHEN the late event arrives (it would make hardening deployed)
    feed([actionEvent('hardening', 'Deploy-foobar-backend-hardening', 'SUCCEEDED', '2030-11-29T14:30:02Z')], { run, status: () => 'Failed' });
    // THEN the stream stays closed, and the record has the fact
    expect(names(run.events)).toEqual([STARTED, FINISHED]);
    expect(run.record!.facts.actions['hardening/Deploy-foobar-backend-hardening']).toMatchObject({ state: 'SUCCEEDED' });
  });

  test('a retried stage resumes the release: the new attempt is tested, promoted and finishes again', () => {
    const attempt2 = { 'pipeline-execution-attempt': 2.0 };
    const run = feed([
      pipelineEvent('STARTED'),
      actionEvent('hardening', 'Tests', 'STARTED'),
      actionEvent('hardening', 'Tests', 'FAILED'),
      stageEvent('hardening', 'FAILED'),
      pipelineEvent('FAILED'),
    ], { status: i => (i === 4 ? 'Failed' : 'InProgress') });
    expect(run.record!.state).toBe('failed');
    feed([stageEvent('hardening', 'RESUMED', undefined, attempt2)], { run, status: () => 'InProgress' });
    expect(run.record!.state).toBe('started');
    // a stage event of attempt 2 arriving before the RESUMED execution event also resumes it
    feed([
      actionEvent('hardening', 'Tests', 'STARTED', undefined, attempt2),
      actionEvent('hardening', 'Tests', 'SUCCEEDED', undefined, attempt2),
      stageEvent('hardening', 'SUCCEEDED', undefined, attempt2),
      actionEvent('production', 'Deploy-foobar-frontend-prod', 'SUCCEEDED', undefined, attempt2),
      actionEvent('production', 'Deploy-foobar-backend-prod', 'SUCCEEDED', undefined, attempt2),
      stageEvent('production', 'SUCCEEDED', undefined, attempt2),
      pipelineEvent('SUCCEEDED', undefined, attempt2),
    ], { run, status: i => (i === 6 ? 'Succeeded' : 'InProgress') });
    expect(names(run.events)).toEqual([
      STARTED, `${DEPLOYED} (hardening)`, FINISHED,
      `${TESTED} (hardening)`, `${PROMOTED} (hardening)`, `${DEPLOYED} (production)`, `${TESTED} (production)`, FINISHED,
    ]);
    expect(run.events.filter(e => e.detailType === FINISHED).map(e => e.detail.outcome)).toEqual(['failed', 'succeeded']);
    expect(run.record!.published.filter(k => k.startsWith('finished'))).toEqual(['finished:failed:1', 'finished:succeeded:2']);
  });

  test('a member that fails to deploy fails the release in that stage: no Deployed, Finished(failed) with the members', () => {
    const run = feed([
      pipelineEvent('STARTED'),
      actionEvent('hardening', 'Deploy-foobar-frontend-hardening', 'SUCCEEDED'),
      actionEvent('hardening', 'Deploy-foobar-backend-hardening', 'FAILED'),
      stageEvent('hardening', 'FAILED'),
      pipelineEvent('FAILED'),
    ], { status: i => (i === 4 ? 'Failed' : 'InProgress') });
    expect(names(run.events)).toEqual([STARTED, FINISHED]);
    expect(run.events[1].detail).toMatchObject({ outcome: 'failed', members: MEMBERS });
    expect(run.record!.facts.actions['hardening/Deploy-foobar-backend-hardening']).toMatchObject({ state: 'FAILED', summary: 'Deploy-foobar-backend-hardening failed' });
  });

  test.each([
    ['SUPERSEDED', 'Superseded', 'superseded'],
    ['STOPPED', 'Stopped', 'stopped'],
    ['CANCELED', 'Cancelled', 'stopped'],
  ])('the execution %s: Release Finished (%s → %s)', (state, status, outcome) => {
    const run = feed([pipelineEvent('STARTED'), pipelineEvent(state)], { status: i => (i === 1 ? status : 'InProgress') });
    expect(names(run.events)).toEqual([STARTED, FINISHED]);
    expect(run.events[1].detail).toMatchObject({ state: outcome, outcome, executionStatus: status });
    expect(run.record!.state).toBe(outcome);
  });

  test('the execution event lost: GetPipelineExecution\'s terminal status finishes the release, every stage inferred in order', () => {
    const run = feed([pipelineEvent('STARTED'), stageEvent('hardening', 'STARTED')], { status: i => (i === 1 ? 'Succeeded' : 'InProgress') });
    expect(names(run.events)).toEqual(FULL);
    expect(run.record!.stages.every(s => s.status === 'Succeeded')).toBe(true);
  });

  test('the execution event ahead of GetPipelineExecution (still InProgress): the event finishes the release', () => {
    const run = feed([pipelineEvent('STARTED'), pipelineEvent('FAILED')]);
    expect(names(run.events)).toEqual([STARTED, FINISHED]);
    expect(run.events[1].detail).toMatchObject({ outcome: 'failed', executionStatus: 'InProgress' });
  });
});

describe('members', () => {
  const partial = (revisions: Record<string, string>) => () => description('InProgress', {}, revisions);

  test('Release Started waits for every member\'s revision; they are pinned once known', () => {
    const run = feed([pipelineEvent('STARTED'), stageEvent('Source', 'STARTED')], { desc: partial({ 'foobar-frontend': FRONTEND }) });
    expect(run.events).toEqual([]);
    expect(run.record).toMatchObject({ members: [{ service: 'foobar-frontend', revision: FRONTEND }], missing: ['foobar-backend'], state: 'started' });
    // a later answer with another frontend revision does not change the pinned one
    feed([stageEvent('Source', 'SUCCEEDED')], { run, desc: partial({ 'foobar-frontend': commit('9'), 'foobar-backend': BACKEND }) });
    expect(names(run.events)).toEqual([STARTED]);
    expect(run.record!.members).toEqual(MEMBERS);
    expect(run.events[0].detail).not.toHaveProperty('missingMembers');
  });

  test('a release that fails before every revision is known still starts and finishes, naming the missing members', () => {
    const run = feed([pipelineEvent('STARTED'), stageEvent('Source', 'FAILED'), pipelineEvent('FAILED')], {
      desc: i => description(i === 2 ? 'Failed' : 'InProgress', {}, { 'foobar-backend': BACKEND }),
    });
    expect(names(run.events)).toEqual([STARTED, FINISHED]);
    expect(run.events[0].detail).toMatchObject({ members: [{ service: 'foobar-backend', revision: BACKEND }], missingMembers: ['foobar-frontend'] });
  });
});

describe('the pipeline\'s layout', () => {
  test('a bracket stage missing from the layout: Deployed and Tested wait for the stage to succeed', () => {
    const layout: PipelineLayout = { pipelineVersion: 3, stages: LAYOUT.stages.filter(s => s.name !== 'production') };
    const run = feed([
      pipelineEvent('STARTED'),
      stageEvent('hardening', 'SUCCEEDED'),
      actionEvent('production', 'Deploy-foobar-frontend-prod', 'SUCCEEDED'),
      actionEvent('production', 'Deploy-foobar-backend-prod', 'SUCCEEDED'),
    ], { layout });
    expect(names(run.events)).toEqual([STARTED, `${DEPLOYED} (hardening)`, `${TESTED} (hardening)`, `${PROMOTED} (hardening)`]);
    feed([stageEvent('production', 'SUCCEEDED')], { run, layout });
    expect(names(run.events).slice(4)).toEqual([`${DEPLOYED} (production)`, `${TESTED} (production)`]);
    expect(run.events[5].detail.tests).toBe('succeeded');
  });

  test('readLayout keeps the stages and action names in order', () => {
    expect(readLayout({ version: 7, stages: [{ name: 'A', actions: [{ name: 'x' }, {}] }, {}] })).toEqual({ pipelineVersion: 7, stages: [{ name: 'A', actions: ['x'] }] });
  });
});

describe('readExecution (GetPipelineExecution)', () => {
  test('members from artifactRevisions named Source-<service>; release id and caller from the variables and the trigger', () => {
    expect(readExecution(description(), SETTINGS)).toEqual({
      execution: EXECUTION,
      status: 'InProgress',
      pipelineVersion: 3,
      releaseId: RELEASE_ID,
      startedBy: ALICE,
      revisions: { 'foobar-frontend': FRONTEND, 'foobar-backend': BACKEND },
    });
  });

  test('a service missing from artifactRevisions is read from ListPipelineExecutions\' sourceRevisions (action Source-<service>)', () => {
    const s = readExecution(description('InProgress', {}, { 'foobar-frontend': FRONTEND }), SETTINGS, [
      { actionName: 'Source-foobar-backend', revisionId: BACKEND }, { actionName: 'Source-other', revisionId: commit('0') },
    ]);
    expect(s.revisions).toEqual({ 'foobar-frontend': FRONTEND, 'foobar-backend': BACKEND });
  });

  test('the caller: the StartPipelineExecution trigger wins over the variable; the variable when the trigger names no ARN', () => {
    const bob = 'arn:aws:iam::111111111111:user/bob';
    expect(readExecution(description('InProgress', { variables: [{ name: 'ReleaseStartedBy', resolvedValue: bob }] }), SETTINGS).startedBy).toBe(ALICE);
    expect(readExecution(description('InProgress', { variables: [{ name: 'ReleaseStartedBy', resolvedValue: bob }], trigger: { triggerType: 'CreatePipeline', triggerDetail: 'x' } }), SETTINGS).startedBy).toBe(bob);
    expect(readExecution(description('InProgress', { variables: [], trigger: { triggerType: 'CreatePipeline', triggerDetail: 'arn:aws:iam::1:user/c' } }), SETTINGS).startedBy).toBe('CreatePipeline: arn:aws:iam::1:user/c');
  });

  test('a ReleaseId that is not a release id, and a rollback execution, are told apart', () => {
    const s = readExecution(description('InProgress', { variables: [{ name: 'ReleaseId', resolvedValue: 'none' }] }), SETTINGS);
    expect(s.releaseId).toBeUndefined();
    expect(s.invalidReleaseId).toBe('none');
    expect(readExecution(description('InProgress', { executionType: 'ROLLBACK', rollbackMetadata: { rollbackTargetPipelineExecutionId: 'prev' } }), SETTINGS).rollback).toEqual({ target: 'prev' });
  });

  test('derivedReleaseId: a release id, the same for the same execution and start', () => {
    const a = derivedReleaseId(EXECUTION, '2030-11-29T14:30:00.208Z');
    expect(a).toMatch(RELEASE_ID_PATTERN);
    expect(a).toMatch(/^r-20301129-143000-/);
    expect(derivedReleaseId(EXECUTION, '2030-11-29T14:30:00.208Z')).toBe(a);
    expect(derivedReleaseId('87654321-1234-5678-abcd-12345678abcd', '2030-11-29T14:30:00.208Z')).not.toBe(a);
  });
});

describe('ordering of facts', () => {
  const f = (state: string, at: string, attempt = 1) => ({ state, at, attempt });
  test('a higher attempt, then a later time, then a terminal state at the same second is later', () => {
    expect(isLater(f('STARTED', '2030-01-01T00:00:00.000Z', 2), f('FAILED', '2030-01-01T00:00:09.000Z', 1))).toBe(true);
    expect(isLater(f('STARTED', '2030-01-01T00:00:01.000Z'), f('SUCCEEDED', '2030-01-01T00:00:00.000Z'))).toBe(true);
    expect(isLater(f('SUCCEEDED', '2030-01-01T00:00:00.000Z'), f('STARTED', '2030-01-01T00:00:00.000Z'))).toBe(true);
    expect(isLater(f('STARTED', '2030-01-01T00:00:00.000Z'), f('SUCCEEDED', '2030-01-01T00:00:00.000Z'))).toBe(false);
  });

  test('releaseState: a failed execution event followed by a stage of a later attempt is a resumed release', () => {
    const facts = { pipeline: f('FAILED', '2030-01-01T00:00:05.000Z', 1), stages: { hardening: f('RESUMED', '2030-01-01T00:01:00.000Z', 2) }, actions: {} };
    expect(releaseState(facts, 'InProgress')).toBe('started');
    expect(releaseState({ ...facts, stages: {} }, 'InProgress')).toBe('failed');
    expect(releaseState(facts, 'Succeeded')).toBe('succeeded');
  });
});

test('a record of another execution is refused (the controller resolves the release per execution)', () => {
  const run = feed([pipelineEvent('STARTED')]);
  const other = readExecution(description('InProgress', { pipelineExecutionId: '87654321-1234-5678-abcd-12345678abcd' }), SETTINGS);
  expect(() => progress(run.record, { releaseId: RELEASE_ID, snapshot: other, layout: LAYOUT }, { settings: SETTINGS, now: NOW }))
    .toThrow(`release "${RELEASE_ID}" belongs to execution ${EXECUTION}, not 87654321-1234-5678-abcd-12345678abcd`);
});
