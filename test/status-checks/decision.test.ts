import { applicableReport, decide, DecisionInput, outcomes, overrideEligibility, requiredContexts, shortRevision } from '../../lib/status-checks/decision';
import { CHECK_STATES, CheckRecord, CheckState, OverrideRecord, RequirementChange } from '../../lib/status-checks/shared';

const REV = '0123456789abcdef0123456789abcdef01234567';
let seq = 0;

function check(context: string, state: CheckState, extra: Partial<CheckRecord> = {}): CheckRecord {
  seq += 1;
  return {
    id: `r${seq}`,
    pipeline: 'myapp',
    revision: REV,
    context,
    state,
    sequence: seq,
    reportedBy: 'arn:aws:iam::111111111111:role/ci',
    reportedAt: new Date(1_700_000_000_000 + seq).toISOString(),
    bodyHash: 'h',
    ...extra,
  };
}

function override(contexts: string[], extra: Partial<OverrideRecord> = {}): OverrideRecord {
  return {
    id: 'o1',
    pipeline: 'myapp',
    stage: 'production',
    execution: 'e-1',
    revision: REV,
    contexts,
    reason: 'flaky runner',
    by: 'arn:aws:iam::111111111111:user/alice',
    at: '2024-01-01T00:00:00.000Z',
    ...extra,
  };
}

function change(context: string, action: 'add' | 'remove', at = '2024-01-01T00:00:00.000Z'): RequirementChange {
  return { pipeline: 'myapp', stage: 'production', context, action, by: 'arn:aws:iam::111111111111:user/bob', at };
}

function input(checks: CheckRecord[], extra: Partial<DecisionInput> = {}): DecisionInput {
  return { stage: 'production', revision: REV, declared: ['ci/a', 'ci/b'], changes: [], checks, overrides: [], ...extra };
}

describe('required contexts', () => {
  test('ddk.json\'s contexts, then run-time additions in the order they were made', () => {
    expect(requiredContexts(['ci/a'], [change('ci/z', 'add', '2024-01-02T00:00:00Z'), change('ci/y', 'add', '2024-01-01T00:00:00Z')]))
      .toEqual(['ci/a', 'ci/y', 'ci/z']);
  });

  test('a removal undoes an addition', () => {
    expect(requiredContexts(['ci/a'], [change('ci/z', 'add', '2024-01-01T00:00:00Z'), change('ci/z', 'remove', '2024-01-02T00:00:00Z')])).toEqual(['ci/a']);
  });

  test('a removal never removes a context ddk.json declares, and duplicates collapse', () => {
    expect(requiredContexts(['ci/a', 'ci/a'], [change('ci/a', 'remove')])).toEqual(['ci/a']);
    expect(requiredContexts(['ci/a'], [change('ci/a', 'add')])).toEqual(['ci/a']);
  });
});

describe('which report counts', () => {
  test('the latest (highest sequence) of the stage-scoped and unscoped reports', () => {
    const a = check('ci/a', 'failure');
    const b = check('ci/a', 'success', { stage: 'production' });
    expect(applicableReport([b, a], 'ci/a', 'production')).toBe(b);
    const c = check('ci/a', 'pending');
    expect(applicableReport([a, b, c], 'ci/a', 'production')).toBe(c);
  });

  test('a report scoped to another stage never counts', () => {
    const other = check('ci/a', 'success', { stage: 'development' });
    expect(applicableReport([other], 'ci/a', 'production')).toBeUndefined();
    expect(decide(input([other, check('ci/b', 'success')])).verdict).toBe('WAIT');
  });

  test('a later unscoped report replaces an earlier scoped one', () => {
    const scoped = check('ci/a', 'success', { stage: 'production' });
    const unscoped = check('ci/a', 'failure');
    expect(outcomes(input([scoped, unscoped, check('ci/b', 'success')]))[0].status).toBe('failure');
  });
});

describe('the gate decision, every combination of two required contexts', () => {
  // expected verdict for (state of ci/a, state of ci/b), 'missing' = not yet reported
  type S = CheckState | 'missing';
  const STATES: S[] = [...CHECK_STATES, 'missing'];
  const expected = (a: S, b: S): string => {
    const both = [a, b];
    if (both.includes('failure')) return 'FAIL';
    if (both.includes('pending') || both.includes('missing')) return 'WAIT';
    if (both.includes('error')) return 'WAIT_FOR_OVERRIDE';
    return 'PASS';
  };
  const reports = (a: S, b: S) => [
    ...(a === 'missing' ? [] : [check('ci/a', a)]),
    ...(b === 'missing' ? [] : [check('ci/b', b)]),
  ];

  for (const a of STATES) {
    for (const b of STATES) {
      test(`ci/a ${a}, ci/b ${b} → ${expected(a, b)}`, () => {
        const d = decide(input(reports(a, b)));
        expect(d.verdict).toBe(expected(a, b));
        expect(d.required).toEqual(['ci/a', 'ci/b']);
        expect(d.timedOut).toBe(false);
      });

      test(`ci/a ${a}, ci/b ${b}, past the timeout → ${['WAIT', 'WAIT_FOR_OVERRIDE'].includes(expected(a, b)) ? 'FAIL (timeout)' : expected(a, b)}`, () => {
        const d = decide(input(reports(a, b), { elapsedMinutes: 61, timeoutMinutes: 60 }));
        const waiting = ['WAIT', 'WAIT_FOR_OVERRIDE'].includes(expected(a, b));
        expect(d.verdict).toBe(waiting ? 'FAIL' : expected(a, b));
        expect(d.timedOut).toBe(waiting);
        if (waiting) expect(d.summary).toContain('timed out after 60 minutes');
      });

      test(`ci/a ${a}, ci/b ${b}, with an override of both → ${expected(a, b) === 'WAIT_FOR_OVERRIDE' ? 'PASS' : expected(a, b)}`, () => {
        const d = decide(input(reports(a, b), { overrides: [override(['ci/a', 'ci/b'])] }));
        // an override turns error into pass, and nothing else: pending, missing and failure stay
        expect(d.verdict).toBe(expected(a, b) === 'WAIT_FOR_OVERRIDE' ? 'PASS' : expected(a, b));
      });

      test(`ci/a ${a}, ci/b ${b}: may a human override? ${expected(a, b) === 'WAIT_FOR_OVERRIDE' ? 'yes' : 'no'}`, () => {
        const e = overrideEligibility(input(reports(a, b)));
        expect(e.allowed).toBe(expected(a, b) === 'WAIT_FOR_OVERRIDE');
        if (e.allowed) expect(e.contexts).toEqual([a, b].map((s, i) => (s === 'error' ? ['ci/a', 'ci/b'][i] : undefined)).filter(Boolean));
        else expect(e.reason).toBeDefined();
      });
    }
  }
});

describe('summaries', () => {
  test('a failure names the failing contexts with their description and target URL', () => {
    const d = decide(input([
      check('ci/a', 'failure', { description: '3 tests failed', targetUrl: 'https://ci.example.com/1' }),
      check('ci/b', 'failure', { targetUrl: 'https://ci.example.com/2' }),
    ]));
    expect(d.summary).toBe('Stage "production", revision 0123456789ab: 2 required checks failed: ci/a (failure: 3 tests failed, https://ci.example.com/1); ci/b (failure: https://ci.example.com/2).');
  });

  test('waiting names what is pending and what was not reported yet, and the errors that will need an override', () => {
    const d = decide(input([check('ci/a', 'pending', { description: 'running' }), check('ci/c', 'error')], { declared: ['ci/a', 'ci/b', 'ci/c'] }));
    expect(d.verdict).toBe('WAIT');
    expect(d.summary).toContain('waiting for 2 of 3 required checks: ci/a (pending: running); ci/b (not reported yet).');
    expect(d.summary).toContain('After that, ci/c (error) is in error and needs an override');
  });

  test('waiting for an override says how to give one', () => {
    const d = decide(input([check('ci/a', 'error', { description: 'runner lost' }), check('ci/b', 'success')]));
    expect(d.verdict).toBe('WAIT_FOR_OVERRIDE');
    expect(d.summary).toContain('ci/a (error: runner lost) is in error; the stage waits for an override (POST /overrides');
  });

  test('a timeout says how long it waited and for what', () => {
    const d = decide(input([check('ci/a', 'success')], { elapsedMinutes: 90, timeoutMinutes: 90 }));
    expect(d.verdict).toBe('FAIL');
    expect(d.summary).toContain('timed out after 90 minutes waiting for ci/b (not reported yet).');
    const e = decide(input([check('ci/a', 'success'), check('ci/b', 'error')], { elapsedMinutes: 90, timeoutMinutes: 90 }));
    expect(e.summary).toContain('timed out after 90 minutes waiting for an override of ci/b (error).');
  });

  test('just before the timeout the gate still waits', () => {
    expect(decide(input([], { elapsedMinutes: 59.9, timeoutMinutes: 60 })).verdict).toBe('WAIT');
  });

  test('a pass after an override names who, when and why', () => {
    const d = decide(input([check('ci/a', 'success'), check('ci/b', 'error')], { overrides: [override(['ci/b'])] }));
    expect(d.verdict).toBe('PASS');
    expect(d.summary).toBe('Stage "production", revision 0123456789ab: all 2 required checks passed: ci/a. ci/b (error) overridden by arn:aws:iam::111111111111:user/alice at 2024-01-01T00:00:00.000Z: "flaky runner".');
  });

  test('no required contexts: pass at once', () => {
    const d = decide(input([], { declared: [] }));
    expect(d.verdict).toBe('PASS');
    expect(d.summary).toBe('Stage "production", revision 0123456789ab: no status checks are required.');
  });

  test('short revisions: a 40-hex commit id is cut to 12, anything else is kept', () => {
    expect(shortRevision(REV)).toBe('0123456789ab');
    expect(shortRevision('v1.2.3')).toBe('v1.2.3');
  });
});

describe('overrides', () => {
  test('an override covers only the contexts it names: a context turning error later needs another one', () => {
    const d = decide(input([check('ci/a', 'error'), check('ci/b', 'error')], { overrides: [override(['ci/a'])] }));
    expect(d.verdict).toBe('WAIT_FOR_OVERRIDE');
    expect(d.summary).toContain('ci/b (error)');
    expect(d.summary).not.toContain('ci/a (error');
    expect(overrideEligibility(input([check('ci/a', 'error'), check('ci/b', 'error')], { overrides: [override(['ci/a'])] })).contexts).toEqual(['ci/b']);
  });

  test('an override recorded before a context turned failure does not pass the gate', () => {
    const d = decide(input([check('ci/a', 'failure'), check('ci/b', 'success')], { overrides: [override(['ci/a'])] }));
    expect(d.verdict).toBe('FAIL');
  });

  test('an override does not skip a context that went back to pending', () => {
    const d = decide(input([check('ci/a', 'pending'), check('ci/b', 'success')], { overrides: [override(['ci/a'])] }));
    expect(d.verdict).toBe('WAIT');
  });

  test('refusals explain why', () => {
    expect(overrideEligibility(input([check('ci/a', 'pending'), check('ci/b', 'error')])).reason)
      .toBe('an override only covers contexts in error, and ci/a (pending) is not: wait until it reports success or error (a failure cannot be overridden: fix it and report success)');
    expect(overrideEligibility(input([check('ci/a', 'success'), check('ci/b', 'success')])).reason).toBe('nothing to override: no required context is in error');
    expect(overrideEligibility(input([check('ci/a', 'success'), check('ci/b', 'error')], { overrides: [override(['ci/b'])] })).reason)
      .toBe('nothing to override: ci/b is already overridden and no other required context is in error');
  });

  test('run-time requirements count like ddk.json\'s', () => {
    const changes = [change('sec/scan', 'add')];
    const d = decide(input([check('ci/a', 'success'), check('ci/b', 'success')], { changes }));
    expect(d.verdict).toBe('WAIT');
    expect(d.required).toEqual(['ci/a', 'ci/b', 'sec/scan']);
    expect(decide(input([check('ci/a', 'success'), check('ci/b', 'success')], { changes: [change('sec/scan', 'add', '2024-01-01T00:00:00Z'), change('sec/scan', 'remove', '2024-01-02T00:00:00Z')] })).verdict).toBe('PASS');
  });
});
