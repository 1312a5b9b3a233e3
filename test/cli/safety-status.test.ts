import { GetPipelineStateOutput, StageState } from '@aws-sdk/client-codepipeline';
import { safetyDoc } from './safety-fixtures';
import { style } from '../../lib/cli/io';
import { renderStatus, stageStatuses } from '../../lib/cli/pipeline-ops';
import {
  alarmWatchText, entryWaitText, formatDuration, localIso, planStageFor, stageSafety, waitingExecution, windowReport,
} from '../../lib/cli/safety-status';
import { DdkConfig } from '../../lib/config';
import { DeliveryPlan } from '../../lib/model';

/*
 * What `status` says about deployment safety, as pure logic over GetPipelineState shapes (the SDK's
 * StageState: beforeEntryConditionState / onSuccessConditionState with latestExecution and
 * conditionStates[].ruleStates[]) with a fixed clock.
 */

const planOf = (doc: unknown) => DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, 'ddk.json'));
const plan = planOf(safetyDoc());
const prod = plan.stages[1];
/** Sunday 1 March 2026, 11:00 in Berlin: the weekday window opens on Monday at 09:00 (+01:00). */
const SUNDAY = new Date('2026-03-01T10:00:00Z');
const E1 = '3137f7cb-7cf7-4c2b-9c3e-1b1e5f1c0f6e';
const E2 = '9d0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';

/** The production stage while an execution waits at its DeploymentWindow rule. */
function waitingAtWindow(): StageState {
  return {
    stageName: 'production',
    latestExecution: { pipelineExecutionId: E1, status: 'InProgress' },
    beforeEntryConditionState: {
      latestExecution: { status: 'InProgress' },
      conditionStates: [{
        latestExecution: { status: 'InProgress', lastStatusChange: new Date('2026-03-01T09:30:00Z') },
        ruleStates: [{ ruleName: 'production-Window-1', latestExecution: { status: 'InProgress', summary: 'outside the deployment window' } }],
      }],
    },
    actionStates: [{ actionName: 'Approve' }, { actionName: 'Deploy-prod-eu' }],
  };
}

describe('times', () => {
  test('durations: minutes, hours and minutes, days and hours', () => {
    expect([0, 59_000, 60_000, 5 * 60_000, 14 * 3_600_000 + 5 * 60_000, 2 * 86_400_000 + 3 * 3_600_000 + 59 * 60_000].map(formatDuration))
      .toEqual(['less than a minute', 'less than a minute', '1m', '5m', '14h 5m', '2d 3h']);
  });

  test('local ISO time with the window zone\'s offset: standard and daylight time, UTC, fixed offsets', () => {
    expect(localIso(new Date('2026-03-02T08:00:00Z'), 'Europe/Berlin')).toBe('2026-03-02T09:00:00+01:00');
    expect(localIso(new Date('2026-07-02T07:00:00Z'), 'Europe/Berlin')).toBe('2026-07-02T09:00:00+02:00');
    expect(localIso(new Date('2026-03-02T08:00:00Z'), 'UTC')).toBe('2026-03-02T08:00:00+00:00');
    expect(localIso(new Date('2026-03-02T08:00:00Z'), 'UTC+05:30')).toBe('2026-03-02T13:30:00+05:30');
    expect(localIso(new Date('2026-03-02T01:00:00Z'), 'UTC-03:00')).toBe('2026-03-01T22:00:00-03:00');
    expect(localIso(new Date('2026-03-02T08:00:00Z'), 'America/New_York')).toBe('2026-03-02T03:00:00-05:00');
  });
});

describe('an execution waiting for a window', () => {
  test('the windows of the plan, when they open (in the window\'s zone) and CodePipeline\'s summary', () => {
    const safety = stageSafety(waitingAtWindow(), prod, SUNDAY);
    expect(safety.entryCondition).toEqual({
      execution: E1,
      windows: ['"* * 9-16 ? * MON-FRI" (Europe/Berlin)'],
      openNow: false,
      opensAt: '2026-03-02T09:00:00+01:00',
      opensIn: '22h 0m',
      summary: 'outside the deployment window',
    });
    expect(entryWaitText(safety.entryCondition!))
      .toBe('waiting for window "* * 9-16 ? * MON-FRI" (Europe/Berlin), opens at 2026-03-02T09:00:00+01:00 (in 22h 0m) — outside the deployment window');
    expect(safety.alarmWatch).toBeUndefined();
    expect(safety.successCondition).toBeUndefined();
  });

  test('open now (CodePipeline has not checked again yet); several windows are named together', () => {
    const monday = new Date('2026-03-02T09:30:00Z');
    const open = stageSafety(waitingAtWindow(), prod, monday).entryCondition!;
    expect(entryWaitText({ ...open, summary: undefined })).toBe('waiting for window "* * 9-16 ? * MON-FRI" (Europe/Berlin): open now, CodePipeline lets the execution in at its next check');
    const doc = safetyDoc();
    doc.pipeline.stages[1].window = [{ cron: '* * 9-16 ? * MON-FRI', timeZone: 'Europe/Berlin' }, { cron: '* * * ? * TUE', timeZone: 'UTC' }];
    const two = stageSafety(waitingAtWindow(), planOf(doc).stages[1], SUNDAY).entryCondition!;
    expect(entryWaitText({ ...two, summary: undefined }))
      .toBe('waiting for windows "* * 9-16 ? * MON-FRI" (Europe/Berlin) and "* * * ? * TUE" (UTC), opens at 2026-03-03T09:00:00+01:00 (in 1d 22h)');
  });

  test('a pipeline the plan does not describe: the entry condition and CodePipeline\'s summary only', () => {
    const e = stageSafety(waitingAtWindow(), undefined, SUNDAY).entryCondition!;
    expect(e).toMatchObject({ windows: [], openNow: false });
    expect(entryWaitText(e)).toBe('waiting at its entry condition — outside the deployment window');
  });

  test('the execution waiting: the stage\'s while in progress, else the inbound one', () => {
    expect(waitingExecution(waitingAtWindow())).toBe(E1);
    expect(waitingExecution({ ...waitingAtWindow(), latestExecution: { pipelineExecutionId: E2, status: 'Succeeded' }, inboundExecution: { pipelineExecutionId: E1, status: 'InProgress' } })).toBe(E1);
  });

  test('no condition in progress: nothing about windows', () => {
    const st: StageState = { ...waitingAtWindow(), beforeEntryConditionState: { latestExecution: { status: 'Succeeded' } } };
    expect(stageSafety(st, prod, SUNDAY)).toEqual({});
  });
});

describe('alarm watches in progress', () => {
  test('the AlarmWatch action: the targets\' alarms of the plan, until its start plus the soak time', () => {
    const st: StageState = {
      stageName: 'production',
      latestExecution: { pipelineExecutionId: E1, status: 'InProgress' },
      actionStates: [{ actionName: 'AlarmWatch', latestExecution: { status: 'InProgress', lastStatusChange: new Date('2026-03-01T09:55:00Z'), summary: '0 of 3 alarms in ALARM' } }],
    };
    const w = stageSafety(st, prod, SUNDAY).alarmWatch!;
    expect(w).toEqual({ alarms: 3, until: '2026-03-01T10:10:00.000Z', untilIn: '10m', summary: '0 of 3 alarms in ALARM' });
    expect(alarmWatchText(w, '')).toBe('watching 3 alarms until 2026-03-01T10:10:00.000Z (in 10m) — 0 of 3 alarms in ALARM');
  });

  test('the OnSuccess condition: the CICD alarms, until its start plus the soak time (its CloudWatchAlarm rules\' WaitTime)', () => {
    const st: StageState = {
      stageName: 'production',
      latestExecution: { pipelineExecutionId: E1, status: 'InProgress' },
      onSuccessConditionState: {
        latestExecution: { status: 'InProgress' },
        conditionStates: [{ latestExecution: { status: 'InProgress', lastStatusChange: new Date('2026-03-01T09:58:00Z') }, ruleStates: [{ ruleName: 'production-Alarm-1' }] }],
      },
    };
    const w = stageSafety(st, prod, SUNDAY).successCondition!;
    expect(w).toEqual({ alarms: 1, until: '2026-03-01T10:13:00.000Z', untilIn: '13m' });
    expect(alarmWatchText(w, 'CICD ')).toBe('watching 1 CICD alarm until 2026-03-01T10:13:00.000Z (in 13m)');
  });

  test('the AlarmWatch and ChangeReview Lambda actions are never shown as gates', () => {
    const state: GetPipelineStateOutput = {
      stageStates: [{
        stageName: 'production',
        latestExecution: { pipelineExecutionId: E1, status: 'InProgress' },
        actionStates: [{ actionName: 'AlarmWatch', latestExecution: { status: 'InProgress' } }, { actionName: 'ChangeReview', latestExecution: { status: 'InProgress' } }],
      }],
    };
    const [st] = stageStatuses(state, new Map([['production/AlarmWatch', 'Invoke'], ['production/ChangeReview', 'Invoke']]));
    expect(st.blockers).toEqual([]);
  });
});

describe('plan stages of CodePipeline stages', () => {
  test('by name, and the parts a large stage was split into', () => {
    expect(planStageFor(plan, 'production')?.name).toBe('production');
    expect(planStageFor(plan, 'production-2')?.name).toBe('production');
    expect(planStageFor(plan, 'Build')).toBeUndefined();
    expect(planStageFor(undefined, 'production')).toBeUndefined();
  });
});

describe('status text', () => {
  test('a window wait (with how to override), an alarm watch instead of "running", a waiting approval with its change review', () => {
    const text = renderStatus({
      pipeline: 'myapp',
      stages: [
        {
          name: 'staging',
          state: 'InProgress',
          execution: E2,
          actions: [{ name: 'AlarmWatch', status: 'InProgress' }],
          blockers: [],
          alarmWatch: { alarms: 2, until: '2026-03-01T10:10:00.000Z', untilIn: '10m' },
        },
        {
          name: 'production',
          state: 'InProgress',
          execution: E1,
          actions: [],
          blockers: [],
          entryCondition: { execution: E1, windows: ['"* * 9-16 ? * MON-FRI" (Europe/Berlin)'], openNow: false, opensAt: '2026-03-02T09:00:00+01:00', opensIn: '22h 0m' },
        },
        {
          name: 'eu',
          state: 'InProgress',
          execution: E1,
          actions: [],
          blockers: [{ kind: 'approval', action: 'Approve' }],
          changeReview: { summary: 'prod-eu: 2 stacks, 1 added, 1 replaced (IAM changes)' },
        },
      ],
    }, style(false));
    expect(text).toBe([
      'pipeline myapp',
      `  ● staging     InProgress  execution ${E2}`,
      '      watching 2 alarms until 2026-03-01T10:10:00.000Z (in 10m)  (AlarmWatch: an alarm in ALARM rolls the stage back)',
      `  ● production  InProgress  execution ${E1}`,
      `      waiting for window "* * 9-16 ? * MON-FRI" (Europe/Berlin), opens at 2026-03-02T09:00:00+01:00 (in 22h 0m) (execution ${E1})`,
      '        override: ddk-pipelines window override --stage production --reason "…"',
      `  ● eu          InProgress  execution ${E1}`,
      '      waiting for approval: Approve',
      '        change review: prod-eu: 2 stacks, 1 added, 1 replaced (IAM changes)',
      '        full report: ddk-pipelines diff --stage eu',
      '        answer: ddk-pipelines approve|reject --pipeline myapp --stage eu [--reason …]',
      '',
    ].join('\n'));
  });
});

describe('window status (pure)', () => {
  test('closed: the next opening; open: the next closing', () => {
    expect(windowReport(prod, SUNDAY)).toEqual({
      stage: 'production', windows: ['"* * 9-16 ? * MON-FRI" (Europe/Berlin)'], openNow: false, opensAt: '2026-03-02T09:00:00+01:00', opensIn: '22h 0m',
    });
    expect(windowReport(prod, new Date('2026-03-02T14:30:00Z'))).toEqual({
      stage: 'production', windows: ['"* * 9-16 ? * MON-FRI" (Europe/Berlin)'], openNow: true, closesAt: '2026-03-02T17:00:00+01:00', closesIn: '1h 30m',
    });
  });
});
