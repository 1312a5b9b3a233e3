import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { exampleDoc, ROOT, writeDdk } from './helpers';
import { style } from '../../lib/cli/io';
import { checkFile, loadPlan, optionalPlan, pipelineName, unreadable } from '../../lib/cli/project';
import { renderValidation, validationReport } from '../../lib/cli/validate';

function badDoc(): any {
  const doc = exampleDoc();
  doc.environments.dev.account = '22222222222';
  doc.pipeline.stages[0].environments = ['dve'];
  return doc;
}

describe('validate', () => {
  test('the example ddk.json is valid', () => {
    const checked = checkFile('ddk.json', ROOT);
    expect(checked.issues).toEqual([]);
    expect(renderValidation(checked, style(false))).toBe('✔ ddk.json is valid: pipeline myapp, 2 stages, 3 target environments\n');
  });

  test('every problem of a bad file, each with path, value, problem, expected and fix', () => {
    const { dir } = writeDdk(badDoc());
    const checked = checkFile('ddk.json', dir);
    const text = renderValidation(checked, style(false));
    expect(text).toContain('✖ ddk.json is not a valid ddk.json (2 problems):');
    expect(text).toContain([
      '  1. environments.dev.account',
      '     value:    "22222222222"',
      '     problem:  is not a 12-digit AWS account id (it has 11 characters)',
      '     expected: a 12-digit AWS account id as a string, e.g. "111111111111"',
      '     fix:      copy the account id from the AWS console account menu; keep leading zeros and quote it',
    ].join('\n'));
    expect(text).toContain('  2. pipeline.stages[0].environments[0]\n     value:    "dve"\n     problem:  names an environment that does not exist (did you mean "dev"?)');
    const report = validationReport(checked);
    expect(report.valid).toBe(false);
    expect(report.issues.map(i => i.path)).toEqual(['environments.dev.account', 'pipeline.stages[0].environments[0]']);
    expect(report.issues[0]).toEqual({
      path: 'environments.dev.account',
      value: '"22222222222"',
      problem: 'is not a 12-digit AWS account id (it has 11 characters)',
      expected: 'a 12-digit AWS account id as a string, e.g. "111111111111"',
      fix: 'copy the account id from the AWS console account menu; keep leading zeros and quote it',
    });
  });

  test('plan-level problems (Gitflow stages on one branch) make the file invalid too, in --json as well', () => {
    const doc = exampleDoc();
    doc.pipeline.strategy = 'codepipeline-gitflow';
    doc.pipeline.stages[0].branch = 'main'; // the last stage runs from the source branch, main
    const { dir } = writeDdk(doc);
    const checked = checkFile('ddk.json', dir);
    expect(validationReport(checked).valid).toBe(false);
    expect(checked.issues).toEqual([expect.objectContaining({ path: 'pipeline.stages', problem: 'stages "development" and "production" both run from branch "main"' })]);
    expect(() => loadPlan('ddk.json', dir)).toThrow('both run from branch "main"; expected one branch per stage with the codepipeline-gitflow strategy. Fix: set "branch" on one of them');
  });

  test('a JSON syntax error is reported with its line and column', () => {
    const { dir } = writeDdk('{\n  "environments": {,\n}');
    const [issue] = checkFile('ddk.json', dir).issues;
    expect(issue.problem).toMatch(/^is not valid JSON at line 2, column \d+/);
  });

  test('a missing file is one problem naming the working directory it was looked for in', () => {
    const checked = checkFile('nope.json', ROOT);
    expect(checked.issues).toEqual([{
      file: 'nope.json',
      path: '',
      problem: `does not exist (looked for ${join(ROOT, 'nope.json')}, relative to the working directory ${ROOT})`,
      expected: 'the path of a readable ddk.json file',
      fix: 'check the path, or pass the path of the ddk.json file (absolute, or relative to the working directory)',
    }]);
    expect(renderValidation(checked, style(false))).toContain(`problem:  does not exist (looked for ${join(ROOT, 'nope.json')}`);
    // the default file: run where it is, or pass its path; an absolute path needs no working directory
    const { dir } = writeDdk({}, 'other.json');
    expect(checkFile('ddk.json', dir).issues[0]).toMatchObject({
      problem: `does not exist (looked for ${join(dir, 'ddk.json')}, relative to the working directory ${dir})`,
      fix: 'run the command in the folder that holds ddk.json, or pass its path',
    });
    expect(checkFile(join(dir, 'ddk.json'), ROOT).issues[0].problem).toBe('does not exist');
  });

  test('a folder given as the file says so and names the file to pass (not a permission problem)', () => {
    const { dir } = writeDdk(exampleDoc());
    expect(checkFile(dir, ROOT).issues).toEqual([{
      file: dir,
      path: '',
      problem: 'is a folder, not a file',
      expected: 'the path of a readable ddk.json file',
      fix: `pass the file inside it: ${join(dir, 'ddk.json')}`,
    }]);
    expect(checkFile('.', dir).issues[0].fix).toBe('pass the file inside it: ddk.json');
    const empty = mkdtempSync(join(tmpdir(), 'ddk-empty-'));
    expect(checkFile(empty, ROOT).issues[0]).toMatchObject({
      problem: 'is a folder, not a file',
      fix: `pass the path of the ddk.json file itself (there is no ddk.json in ${empty})`,
    });
  });

  test('a file that may not be read: the permissions, with the command that fixes them', () => {
    expect(unreadable('ddk.json', '/x/ddk.json', '/x', Object.assign(new Error('denied'), { code: 'EACCES' }))).toMatchObject({
      problem: 'cannot be read (EACCES: permission denied)',
      fix: 'let your user read /x/ddk.json, e.g. chmod u+r /x/ddk.json',
    });
  });

  test('a misspelled strategy or execution mode: the fix names the nearest value, else the default', () => {
    const doc = exampleDoc();
    doc.pipeline.strategy = 'codepipeline-trunc';
    doc.pipeline.executionMode = 'QUEUD';
    const { dir } = writeDdk(doc);
    const issues = checkFile('ddk.json', dir).issues;
    expect(issues.map(i => [i.path, i.value, i.fix])).toEqual([
      ['pipeline.strategy', '"codepipeline-trunc"', 'use "codepipeline-trunk"'],
      ['pipeline.executionMode', '"QUEUD"', 'use "QUEUED"'],
    ]);
    expect(issues[0].expected).toBe('"cdk-pipelines", "codepipeline-trunk", "codepipeline-gitflow"');
    // nothing close: the default
    doc.pipeline.strategy = 'jenkins';
    doc.pipeline.executionMode = 42;
    const far = checkFile('ddk.json', writeDdk(doc).dir).issues;
    expect(far.map(i => i.fix)).toEqual(['use "cdk-pipelines"', 'use "SUPERSEDED" (default)']);
  });

  test('warnings (unknown keys) are shown after a valid result', () => {
    const doc = exampleDoc();
    doc.environments.dev.colour = 'blue';
    const { dir } = writeDdk(doc);
    const text = renderValidation(checkFile('ddk.json', dir), style(false));
    expect(text).toMatch(/^✔ ddk.json is valid/);
    expect(text).toMatch(/warning: ddk.json: environments.dev.colour: unknown key "colour"/);
  });
});

describe('the pipeline name and plan used as defaults', () => {
  test('--pipeline wins; else the plan name from ./ddk.json', () => {
    expect(pipelineName({ pipeline: 'other' }, ROOT)).toBe('other');
    expect(pipelineName({}, ROOT)).toBe('myapp');
  });

  test('no ddk.json and no --pipeline: a usage error that says what to pass', () => {
    const { dir } = writeDdk({}, 'other.json');
    expect(() => pipelineName({}, dir)).toThrow(/no --pipeline given and there is no ddk.json in .*\. Fix: pass --pipeline <name>/);
    expect(optionalPlan({}, dir, false)).toBeUndefined();
  });

  test('an invalid ddk.json: loadPlan lists every problem; an optional plan is simply absent', () => {
    const { dir } = writeDdk(badDoc());
    expect(() => loadPlan('ddk.json', dir)).toThrow(/ddk.json is not a valid ddk.json \(2 problems\):\n {2}- ddk.json: environments.dev.account/);
    expect(optionalPlan({}, dir, false)).toBeUndefined();
    expect(() => pipelineName({}, dir)).toThrow(/no --pipeline given, and the pipeline name cannot be taken from ddk.json/);
    expect(optionalPlan({ config: join(ROOT, 'ddk.json') }, dir, true)?.name).toBe('myapp');
  });
});
