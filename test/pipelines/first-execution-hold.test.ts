import {
  ExecutionSummary,
  FirstExecutionHold,
  HOLD_MAX_WAIT_SECONDS,
  HOLD_PAGE_SIZE,
  HOLD_POLL_SECONDS,
  HoldDecisionKind,
  MAX_STOP_REASON,
  NotHeldReason,
} from '../../lib/pipelines/first-execution-hold';

const SEED = '0123456789abcdef0123456789abcdef01234567';
const USER = 'fedcba9876543210fedcba9876543210fedcba98';
const { STOP, ENDED, OTHER_REVISION, NOT_NEW, WAIT } = HoldDecisionKind;

let n = 0;
function execution(status: string, revisions: string[], triggerType?: string): ExecutionSummary {
  n++;
  return { pipelineExecutionId: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`, status, sourceRevisionIds: revisions, triggerType };
}

describe('FirstExecutionHold.reason', () => {
  test('says what the pipeline waits for and names the seed commit, within StopPipelineExecution\'s 200 characters', () => {
    const reason = FirstExecutionHold.reason(SEED);
    expect(reason).toBe(`ddk-pipelines: waiting for the team's first push; the repository holds only the seed commit ${SEED}`);
    expect(MAX_STOP_REASON).toBe(200);
    expect(reason.length).toBeLessThanOrEqual(MAX_STOP_REASON);
  });

  test('never longer than 200 characters, whatever it is given', () => {
    expect(FirstExecutionHold.reason('x'.repeat(500))).toHaveLength(MAX_STOP_REASON);
  });
});

describe('FirstExecutionHold.decide', () => {
  const decide = (executions: ExecutionSummary[], more = false) => FirstExecutionHold.decide(SEED, { executions, more });

  test('the creation execution in progress on the seed commit: stop it', () => {
    const creation = execution('InProgress', [SEED], 'CreatePipeline');
    expect(decide([creation])).toEqual({ kind: STOP, executions: [creation] });
  });

  test('every execution of the seed commit in progress is stopped, whatever started it; ended ones are not', () => {
    const creation = execution('InProgress', [SEED], 'CreatePipeline');
    const event = execution('InProgress', [SEED], 'CloudWatchEvent');
    const failed = execution('Failed', [SEED], 'StartPipelineExecution');
    expect(decide([event, failed, creation])).toEqual({ kind: STOP, executions: [event, creation] });
  });

  test('the seed commit among several source revisions (a pipeline with more than one source) counts', () => {
    const creation = execution('InProgress', ['other-bucket-version', SEED], 'CreatePipeline');
    expect(decide([creation]).kind).toBe(STOP);
  });

  test.each(['Failed', 'Succeeded', 'Stopped', 'Stopping', 'Superseded', 'Cancelled'])('an execution of the seed commit that is %s is left alone', status => {
    const seed = execution(status, [SEED], 'CreatePipeline');
    expect(decide([seed])).toEqual({ kind: ENDED, executions: [seed] });
  });

  test('the creation execution still in its Source action (no revision yet): wait', () => {
    expect(decide([execution('InProgress', [], 'CreatePipeline')])).toEqual({ kind: WAIT, executions: [] });
  });

  test('no execution yet (CodePipeline starts it asynchronously): wait', () => {
    expect(decide([])).toEqual({ kind: WAIT, executions: [] });
  });

  test('the creation execution ended on another commit (the team pushed first): nothing to hold', () => {
    const creation = execution('Succeeded', [USER], 'CreatePipeline');
    expect(decide([execution('InProgress', [USER], 'CloudWatchEvent'), creation])).toEqual({ kind: OTHER_REVISION, executions: [creation] });
  });

  test('the creation execution in progress on another revision: wait (a second source may not have reported yet)', () => {
    expect(decide([execution('InProgress', [USER], 'CreatePipeline')]).kind).toBe(WAIT);
  });

  test('more executions than a page and no creation execution among them: not a new pipeline, give up on it', () => {
    const page = Array.from({ length: HOLD_PAGE_SIZE }, () => execution('Succeeded', [USER], 'CloudWatchEvent'));
    expect(decide(page, true)).toEqual({ kind: NOT_NEW, executions: [] });
    // the same page as the whole history: the creation execution may still come
    expect(decide(page, false).kind).toBe(WAIT);
  });
});

describe('FirstExecutionHold.nextWait', () => {
  test('every 5 seconds, for up to 150 seconds', () => {
    expect(HOLD_POLL_SECONDS).toBe(5);
    expect(HOLD_MAX_WAIT_SECONDS).toBe(150);
    expect(FirstExecutionHold.nextWait(0)).toBe(5);
    expect(FirstExecutionHold.nextWait(144.9)).toBe(5);
    expect(FirstExecutionHold.nextWait(145)).toBe(5);
    expect(FirstExecutionHold.nextWait(145.1)).toBeUndefined();
    expect(FirstExecutionHold.nextWait(400)).toBeUndefined();
  });

  test('the waits add up to at most 150 seconds: inside the function\'s 5-minute timeout with room for the calls', () => {
    let elapsed = 0;
    for (let w = FirstExecutionHold.nextWait(elapsed); w !== undefined; w = FirstExecutionHold.nextWait(elapsed)) elapsed += w;
    expect(elapsed).toBe(150);
    expect(elapsed).toBeLessThan(300 - 60);
  });
});

describe('FirstExecutionHold.parseProperties and problems', () => {
  test('valid properties, with and without a seed commit', () => {
    expect(FirstExecutionHold.parseProperties({ ServiceToken: 'arn', pipelineNames: ['myapp', 'myapp-dev'], seedCommitId: SEED }))
      .toEqual({ pipelineNames: ['myapp', 'myapp-dev'], seedCommitId: SEED });
    expect(FirstExecutionHold.parseProperties({ pipelineNames: ['myapp'], seedCommitId: '' })).toEqual({ pipelineNames: ['myapp'], seedCommitId: '' });
  });

  test('wrong types: every problem at once', () => {
    expect(() => FirstExecutionHold.parseProperties({ pipelineNames: 'myapp', seedCommitId: 7 })).toThrow([
      'ddk-pipelines: invalid first-execution hold properties (2 problems):',
      '  - pipelineNames: expected a list of strings, got "myapp"',
      '  - seedCommitId: expected a string, got 7',
    ].join('\n'));
    expect(() => FirstExecutionHold.parseProperties(undefined)).toThrow(/pipelineNames: expected a list of strings, got undefined/);
  });

  test('names CodePipeline refuses, a name twice, a seed id that is not a commit id', () => {
    expect(() => FirstExecutionHold.parseProperties({ pipelineNames: ['ok', 'has space', 'x'.repeat(101), '', 'ok'], seedCommitId: 'main' })).toThrow([
      'ddk-pipelines: invalid first-execution hold properties (5 problems):',
      '  - properties: pipelineNames: "has space" contains a character other than A-Z a-z 0-9 . @ - _; expected a CodePipeline pipeline name (1 to 100 of A-Z a-z 0-9 . @ - _). Fix: rename the pipeline',
      `  - properties: pipelineNames: "${'x'.repeat(101)}" has 101 characters (at most 100); expected a CodePipeline pipeline name (1 to 100 of A-Z a-z 0-9 . @ - _). Fix: rename the pipeline`,
      '  - properties: pipelineNames: "" is empty; expected a CodePipeline pipeline name (1 to 100 of A-Z a-z 0-9 . @ - _). Fix: rename the pipeline',
      '  - properties: pipelineNames: "ok" is given twice. Fix: pass each pipeline once',
      '  - properties: seedCommitId: "main" is not a commit id; expected 40 lowercase hexadecimal characters, or "" when the repository was not seeded. Fix: pass the seed resource\'s SeedCommitId attribute',
    ].join('\n'));
  });

  test('no pipelines', () => {
    expect(FirstExecutionHold.problems({ pipelineNames: [], seedCommitId: SEED }, 'here'))
      .toEqual(['here: pipelineNames is empty; expected the names of the pipelines to hold. Fix: pass at least one pipeline']);
  });

  test('the longest name CodePipeline accepts, with every allowed character, is valid', () => {
    expect(FirstExecutionHold.nameProblems([`A-z_0.9@${'x'.repeat(92)}`], 'here')).toEqual([]);
  });
});

describe('FirstExecutionHold.responseData', () => {
  test('stopped, ended and not-held, one entry each', () => {
    expect(FirstExecutionHold.responseData([
      { pipelineName: 'myapp', stopped: ['e-1'], ended: [] },
      { pipelineName: 'myapp-dev', stopped: [], ended: [{ pipelineExecutionId: 'e-2', status: 'Failed' }] },
      { pipelineName: 'myapp-prod', stopped: [], ended: [], notHeld: NotHeldReason.NOT_FOUND },
      { pipelineName: 'myapp-qa', stopped: [], ended: [], notHeld: NotHeldReason.ERROR, lastError: 'AccessDeniedException: no' },
    ])).toEqual({
      StoppedExecutions: 'myapp:e-1',
      EndedExecutions: 'myapp-dev:e-2:Failed',
      NotHeldPipelines: 'myapp-prod:not-found,myapp-qa:error',
    });
    expect(FirstExecutionHold.responseData([])).toEqual({ StoppedExecutions: '', EndedExecutions: '', NotHeldPipelines: '' });
  });

  test('many pipelines with long names: the whole response stays under CloudFormation\'s 4,096 bytes', () => {
    const names = Array.from({ length: 60 }, (_, i) => `${String(i).padStart(2, '0')}-${'p'.repeat(97)}`);
    const id = '00000000-0000-0000-0000-000000000000';
    const data = FirstExecutionHold.responseData(names.map((pipelineName, i) => (
      i % 3 === 0 ? { pipelineName, stopped: [id], ended: [] }
        : i % 3 === 1 ? { pipelineName, stopped: [], ended: [{ pipelineExecutionId: id, status: 'NotStoppable' }] }
          : { pipelineName, stopped: [], ended: [], notHeld: NotHeldReason.OTHER_REVISION })));
    expect(data.StoppedExecutions).toMatch(/,…\(\+\d+ more\)$/);
    const body = {
      Status: 'SUCCESS',
      Reason: 'OK',
      PhysicalResourceId: `ddk-hold-${SEED}`,
      StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/myapp-pipeline/12345678-1234-1234-1234-123456789012',
      RequestId: '12345678-1234-1234-1234-123456789012',
      LogicalResourceId: 'SeedHoldFirstExecutions0123ABCD',
      Data: data,
    };
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(4096);
  });
});
