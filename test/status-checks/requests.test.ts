import { CONTEXT_PATTERN, NAME_PATTERN } from '../../lib/config/schema';
import { parseCheckReport, parseChecksQuery, parseGateParameters, parseJsonObject, parseOverrideRequest, parseRequirementsRequest, Parsed } from '../../lib/status-checks/requests';
import { PATTERNS } from '../../lib/status-checks/shared';

function issues<T>(p: Parsed<T>): string[] {
  if (p.ok) throw new Error(`expected problems, got ${JSON.stringify(p.value)}`);
  return p.issues;
}

const REPORT = { pipeline: 'myapp', revision: 'abc123', context: 'ci/integration', state: 'success' };

describe('the patterns agree with ddk.json\'s', () => {
  test('pipeline and stage names, contexts', () => {
    expect(new RegExp(PATTERNS.name).source).toBe(NAME_PATTERN.source);
    expect(new RegExp(PATTERNS.context).source).toBe(CONTEXT_PATTERN.source);
  });
});

describe('JSON bodies', () => {
  test.each([
    [null, 'body: is empty; expected a JSON object. Fix: send a JSON body with Content-Type: application/json'],
    ['  ', 'body: is empty; expected a JSON object.'],
    ['{"pipeline": ', 'body: is not valid JSON ('],
    ['[1]', 'body: is an array; expected a JSON object.'],
    ['"x"', 'body: is a string; expected a JSON object.'],
  ])('%j is refused', (text, message) => {
    expect(issues(parseJsonObject(text))[0]).toContain(message);
  });
});

describe('check reports', () => {
  test('a minimal report', () => {
    expect(parseCheckReport(REPORT)).toEqual({ ok: true, value: REPORT });
  });

  test('every field', () => {
    const full = { ...REPORT, targetUrl: 'https://ci.example.com/1', description: 'ok', stage: 'production', propagate: true, clientRequestId: 'build-42:1' };
    expect(parseCheckReport(full)).toEqual({ ok: true, value: full });
  });

  test('every problem is reported, each naming the field, the value, what was expected and the fix', () => {
    const list = issues(parseCheckReport({ pipeline: 'my app', context: 'integration', state: 'done', targetUrl: 'ftp://x', propagate: 'yes' }));
    expect(list).toEqual([
      'body.pipeline: "my app" is not a valid pipeline; expected letters, digits and . @ _ - (1 to 100 characters). Fix: use the pipeline name from ddk.json (pipeline.name)',
      'body.revision: is missing; expected a source revision such as a 40-character commit id (letters, digits and . _ : / @ + = -, at most 256). Fix: add "revision"',
      'body.context: "integration" is not a valid context; expected a "system/name" context such as "ci/integration" (at most 255 characters). Fix: name the check as system/name',
      'body.state: "done" is not a check state; expected one of "pending", "success", "failure", "error". Fix: send one of them ("error" means the check could not run and waits for an override)',
      'body.targetUrl: "ftp://x" is not a valid targetUrl; expected an http(s) URL of at most 2048 characters. Fix: link to the check\'s build or report page',
      'body.propagate: "yes" is a string; expected true or false. Fix: send "propagate": true to comment on the commit',
    ]);
  });

  test('a reporter cannot name itself: reportedBy in the body is refused', () => {
    expect(issues(parseCheckReport({ ...REPORT, reportedBy: 'arn:aws:iam::999999999999:user/mallory' }))).toEqual([
      'body.reportedBy: is set by the server; expected no "reportedBy" in the body (the reporter is the request\'s IAM principal (SigV4 signature), never a body field). Fix: remove "reportedBy"',
    ]);
  });

  test('unknown fields are refused', () => {
    expect(issues(parseCheckReport({ ...REPORT, stat: 'x' }))[0]).toMatch(/^body\.stat: is not a known field; expected only "pipeline", "revision"/);
  });

  test('types and lengths', () => {
    expect(issues(parseCheckReport({ ...REPORT, context: 42 }))[0]).toBe('body.context: 42 is a number; expected a string: a "system/name" context such as "ci/integration" (at most 255 characters). Fix: send "context" as a string');
    expect(issues(parseCheckReport({ ...REPORT, description: 'x'.repeat(1025) }))[0]).toMatch(/^body\.description: "x+\.\.\. is too long \(1025 characters\); expected a text of at most 1024 characters/);
    expect(issues(parseCheckReport({ ...REPORT, revision: 'a#b' }))[0]).toMatch(/^body\.revision: "a#b" is not a valid revision/);
    expect(issues(parseCheckReport({ ...REPORT, stage: '' }))[0]).toMatch(/^body\.stage: "" is empty/);
  });
});

describe('requirement changes', () => {
  const path = { pipeline: 'myapp', stage: 'production' };

  test('add and remove, duplicates collapsed', () => {
    expect(parseRequirementsRequest(path, { add: ['sec/scan', 'sec/scan'], remove: ['ci/old'] }))
      .toEqual({ ok: true, value: { pipeline: 'myapp', stage: 'production', add: ['sec/scan'], remove: ['ci/old'] } });
  });

  test('a change that changes nothing', () => {
    expect(issues(parseRequirementsRequest(path, {}))[0]).toBe('body: {} changes nothing; expected at least one context in "add" or "remove". Fix: send {"add": ["ci/integration"]} or {"remove": ["ci/integration"]}');
  });

  test('a list element that is not a context is named by its index', () => {
    expect(issues(parseRequirementsRequest(path, { add: ['ok/one', 'bad'] }))).toEqual([
      'body.add[1]: "bad" is not a valid context; expected a "system/name" context such as "ci/integration" (at most 255 characters). Fix: name the check as system/name',
    ]);
  });

  test('a list that is not a list, a context in both lists, too many contexts, a bad path', () => {
    expect(issues(parseRequirementsRequest(path, { add: 'ci/a' }))[0]).toBe('body.add: "ci/a" is a string; expected a list of "system/name" contexts. Fix: write add as ["ci/integration"]');
    expect(issues(parseRequirementsRequest(path, { add: ['ci/a'], remove: ['ci/a'] }))[0]).toBe('body: "ci/a" is both in "add" and in "remove"; expected each context in one list. Fix: keep "ci/a" in one of the two lists');
    expect(issues(parseRequirementsRequest(path, { add: Array.from({ length: 21 }, (_, i) => `ci/c${i}`) }))[0]).toMatch(/^body: names 21 contexts; expected at most 20 per request/);
    expect(issues(parseRequirementsRequest({ pipeline: 'myapp' }, { add: ['ci/a'] }))[0]).toMatch(/^path\.stage: is missing/);
  });
});

describe('overrides', () => {
  test('all four fields, the reason trimmed', () => {
    expect(parseOverrideRequest({ pipeline: 'myapp', stage: 'production', execution: '0f8c-11', reason: ' flaky ' }))
      .toEqual({ ok: true, value: { pipeline: 'myapp', stage: 'production', execution: '0f8c-11', reason: 'flaky' } });
  });

  test('a missing reason and a forged author', () => {
    expect(issues(parseOverrideRequest({ pipeline: 'myapp', stage: 'production', execution: 'e-1', by: 'someone' }))).toEqual([
      'body.by: is set by the server; expected no "by" in the body (the author is the request\'s IAM principal (SigV4 signature), never a body field). Fix: remove "by"',
      'body.reason: is missing; expected a non-empty text of at most 1024 characters. Fix: add "reason"',
    ]);
  });
});

describe('GET /checks query', () => {
  test('pipeline and revision required, stage optional', () => {
    expect(parseChecksQuery({ pipeline: 'myapp', revision: 'abc', stage: 'production' })).toEqual({ ok: true, value: { pipeline: 'myapp', revision: 'abc', stage: 'production' } });
    expect(issues(parseChecksQuery(null))).toEqual([
      'query.pipeline: is missing; expected letters, digits and . @ _ - (1 to 100 characters). Fix: add "pipeline"',
      'query.revision: is missing; expected a source revision such as a 40-character commit id (letters, digits and . _ : / @ + = -, at most 256). Fix: add "revision"',
    ]);
  });
});

describe('gate UserParameters', () => {
  const PARAMS = { pipeline: 'myapp', stage: 'production', revision: 'abc', executionId: '0f8c-11', timeoutMinutes: 60 };

  test('valid', () => {
    expect(parseGateParameters(JSON.stringify(PARAMS))).toEqual({ ok: true, value: PARAMS });
  });

  test('not JSON, a timeout out of range, a missing field', () => {
    expect(issues(parseGateParameters('{')).join('')).toMatch(/^UserParameters: is not valid JSON/);
    expect(issues(parseGateParameters(undefined))[0]).toMatch(/^UserParameters: is empty/);
    expect(issues(parseGateParameters(JSON.stringify({ ...PARAMS, timeoutMinutes: 2000 })))).toEqual([
      'UserParameters.timeoutMinutes: 2000 is not a whole number of minutes in range; expected an integer from 1 to 1410. Fix: render the action with GateStep and a valid timeout',
    ]);
    const { stage: _s, ...rest } = PARAMS;
    expect(issues(parseGateParameters(JSON.stringify(rest)))).toEqual(['UserParameters.stage: is missing; expected letters, digits and . @ _ - (1 to 100 characters). Fix: add "stage"']);
  });

  test('the required contexts are not a parameter: the gate reads them from its settings', () => {
    expect(issues(parseGateParameters(JSON.stringify({ ...PARAMS, requiredChecks: ['ci/a'] })))).toEqual([
      'UserParameters.requiredChecks: is not a known field; expected only "pipeline", "stage", "revision", "executionId", "timeoutMinutes". Fix: remove "requiredChecks" or correct its spelling',
    ]);
  });

  test('an unresolved CodePipeline variable is named as such', () => {
    expect(issues(parseGateParameters(JSON.stringify({ ...PARAMS, revision: '#{SourceVariables.CommitId}' })))).toEqual([
      'UserParameters.revision: "#{SourceVariables.CommitId}" is an unresolved CodePipeline variable; expected its value. Fix: give the source action a variables namespace (GateStep\'s revision must come from the pipeline\'s source, e.g. source.sourceAttribute(\'CommitId\'))',
    ]);
  });
});
