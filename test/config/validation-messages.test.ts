/*
 * One test per validation message of ddk.json: these messages are the spec of the errors.
 * Every test checks where (path), what was found (value), what is wrong (problem),
 * what was expected, and that a fix is given.
 */
import { baseEnvironments, docWithDev, docWithPipeline, FILE, issuesOf, onlyIssue, thrown } from './helpers';
import { DdkConfig } from '../../lib/config';
import { CONTEXT_MAX_LENGTH } from '../../lib/config/schema';
import { LIMITS } from '../../lib/status-checks/shared';

const CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

describe('the baseline documents used by these tests', () => {
  test('are valid, so each test below sees only the problem it introduces', () => {
    expect(issuesOf({ environments: baseEnvironments() })).toEqual([]);
    expect(issuesOf(docWithPipeline({ stages: [{ name: 'dev', environments: ['dev'] }] }))).toEqual([]);
  });
});

describe('accounts', () => {
  test('an 11-digit account is not a 12-digit account id, and the length is given', () => {
    const issue = onlyIssue(docWithDev({ account: '22222222222' }));

    expect(issue).toMatchObject({ file: FILE, path: 'environments.dev.account', value: '"22222222222"' });
    expect(issue.problem).toBe('is not a 12-digit AWS account id (it has 11 characters)');
    expect(issue.expected).toContain('12-digit AWS account id as a string');
    expect(issue.fix).toMatch(/leading zeros/);
  });

  test('a numeric account is reported as a number that must be quoted', () => {
    const issue = onlyIssue(docWithDev({ account: 222222222222 }));

    expect(issue).toMatchObject({ path: 'environments.dev.account', value: '222222222222', problem: 'is a number' });
    expect(issue.expected).toContain('as a string');
    expect(issue.fix).toMatch(/quoted string/);
  });

  test('a missing account and a missing region are both reported as missing, without a value', () => {
    // GIVEN an environment that is an empty object
    const issues = issuesOf(docWithDev({ account: undefined, region: undefined }));

    // THEN both required fields are reported, each as missing and without a value
    expect(issues.map(i => i.path).sort()).toEqual(['environments.dev.account', 'environments.dev.region']);
    for (const issue of issues) {
      expect(issue.problem).toBe('is missing');
      expect(issue.value).toBeUndefined();
      expect(issue.fix).not.toBe('');
    }
    expect(issues.find(i => i.path.endsWith('region'))!.expected).toContain('"eu-west-1"');
  });
});

describe('a misspelled required key', () => {
  test('a missing account names the unknown key spelled like it', () => {
    // GIVEN "acount" written instead of "account"
    const issues = issuesOf(docWithDev({ account: undefined, acount: '222222222222' }));

    // THEN the missing account says which key was probably meant, and how to fix it
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'environments.dev.account', value: undefined });
    expect(issues[0].problem).toBe('is missing; the object has an unknown key "acount" instead (did you mean "account"?)');
    expect(issues[0].expected).toContain('12-digit AWS account id');
    expect(issues[0].fix).toBe('rename "acount" to "account"');
  });

  test('a missing "environments" names "enviroments"', () => {
    const { environments } = { environments: baseEnvironments() };
    const issue = onlyIssue({ enviroments: environments });

    expect(issue).toMatchObject({ path: 'environments', problem: 'is missing; the object has an unknown key "enviroments" instead (did you mean "environments"?)' });
    expect(issue.fix).toBe('rename "enviroments" to "environments"');
  });

  test('a missing stage name names "nme" (the unknown key is reported too)', () => {
    const issues = issuesOf(docWithPipeline({ stages: [{ nme: 'dev', environments: ['dev'] }] }));

    expect(issues.map(i => [i.path, i.problem])).toEqual(expect.arrayContaining([
      ['pipeline.stages[0].name', 'is missing; the object has an unknown key "nme" instead (did you mean "name"?)'],
      ['pipeline.stages[0].nme', 'is under an unknown key "nme" (did you mean "name"?)'],
    ]));
  });

  test('an unknown key that is not spelled like the missing one is not suggested', () => {
    // GIVEN a region missing and an unrelated custom key (DDK files carry their own keys)
    const issue = onlyIssue(docWithDev({ region: undefined, data_pipeline_parameters: { org: 'aws' } }));

    expect(issue).toMatchObject({ path: 'environments.dev.region', problem: 'is missing' });
  });

  test('a missing cicd environment names the environment spelled like it', () => {
    const { cicd, dev } = baseEnvironments();
    const issue = onlyIssue({ environments: { cidc: cicd, dev } });

    expect(issue.path).toBe('environments.cicd');
    expect(issue.problem).toBe('is missing: no environment hosts the pipeline (environment "cidc" is spelled like it: did you mean "cicd"?)');
    expect(issue.fix).toBe('rename environment "cidc" to "cicd"');
  });
});

describe('regions and environment ids', () => {
  test('an unknown region suggests the closest known region', () => {
    const issue = onlyIssue(docWithDev({ region: 'eu-wset-1' }));

    expect(issue).toMatchObject({ path: 'environments.dev.region', value: '"eu-wset-1"' });
    expect(issue.problem).toBe('is not a known AWS region (did you mean "eu-west-1"?)');
    expect(issue.expected).toContain('AWS region code');
    expect(issue.fix).toMatch(/region code/);
  });

  test('an environment id with a space is an invalid id; the path quotes the id', () => {
    const environments = { ...baseEnvironments(), 'dev env': { account: '333333333333', region: 'eu-west-1' } };
    const issue = onlyIssue({ environments });

    expect(issue.path).toBe('environments["dev env"]');
    expect(issue.problem).toBe('has an invalid environment id "dev env"');
    expect(issue.expected).toMatch(/letters, digits and - that starts with a letter/);
    expect(issue.fix).toBe('rename the environment, e.g. "dev-env", and the stages that name it');
  });

  test.each(['dev_1', '1dev'])('an environment id a stack name cannot start with (%s) is refused before CDK does', id => {
    const environments = { ...baseEnvironments(), [id]: { account: '333333333333', region: 'eu-west-1' } };
    const issue = onlyIssue({ environments });

    expect(issue.problem).toBe(`has an invalid environment id "${id}"`);
    expect(issue.expected).toContain('starts its stack names');
  });

  test('a file without a cicd environment says no environment hosts the pipeline', () => {
    const { dev } = baseEnvironments();
    const issue = onlyIssue({ environments: { dev } });

    expect(issue).toMatchObject({ path: 'environments.cicd' });
    expect(issue.value).toBeUndefined();
    expect(issue.problem).toMatch(/^is missing: no environment hosts the pipeline/);
    expect(issue.expected).toContain('"cicd"');
    expect(issue.fix).toContain('"cicd": {"account"');
  });

  test('a file with only the cicd environment has no environment to deploy to', () => {
    const { cicd } = baseEnvironments();
    const issue = onlyIssue({ environments: { cicd } });

    expect(issue.path).toBe('environments');
    expect(issue.problem).toBe('has no environment to deploy to');
    expect(issue.expected).toContain('besides "cicd"');
  });
});

describe('env_vars', () => {
  const SECRET = 'hunter2-Sup3rS3cret';

  test('a literal secret is an error whose message never contains the secret', () => {
    // GIVEN a secret-looking key holding a literal value
    const doc = docWithDev({ env_vars: { DB_PASSWORD: SECRET, LOG_LEVEL: 'debug' } });

    // WHEN the file is loaded
    const error = thrown(() => DdkConfig.fromObject(doc, FILE));

    // THEN the issue points at the key, redacts the value, and the secret appears nowhere
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ path: 'environments.dev.env_vars.DB_PASSWORD', value: '"****" (redacted)' });
    expect(error.issues[0].problem).toContain('names a secret');
    expect(error.issues[0].expected).toContain('{"ssm": "/parameter/name"}');
    expect(error.issues[0].fix).toMatch(/rotate it/);
    expect(error.message).not.toContain(SECRET);
    expect(JSON.stringify(error.issues)).not.toContain(SECRET);
  });

  test('an issue about a whole object never echoes a secret inside it', () => {
    // GIVEN a file whose only environment is cicd (an issue on "environments") holding a literal secret
    const doc = { environments: { cicd: { env_vars: { TOKEN: SECRET, LOG: 'debug' }, account: '111111111111', region: 'eu-west-1' } } };

    // WHEN the issues are collected
    const issues = issuesOf(doc);

    // THEN the "no environment to deploy to" issue shows the object with the secret masked
    const noTarget = issues.find(i => i.problem === 'has no environment to deploy to')!;
    expect(noTarget.value).toContain('"env_vars":{"TOKEN":"****","LOG":"debug"}');
    expect(JSON.stringify(issues)).not.toContain(SECRET);
  });

  test('a secret in a malformed value (an object or a list) is not echoed either', () => {
    // GIVEN secrets written in shapes env_vars does not accept, under secret-looking keys
    const doc = docWithDev({ env_vars: { DB_PASSWORD: { value: SECRET }, API_TOKEN: [SECRET] } });

    // WHEN the issues are collected
    const issues = issuesOf(doc);

    // THEN both keys are reported, and the secret appears in no field of any issue
    expect(issues.map(i => i.path)).toEqual(expect.arrayContaining([
      'environments.dev.env_vars.DB_PASSWORD',
      'environments.dev.env_vars.API_TOKEN',
    ]));
    expect(JSON.stringify(issues)).not.toContain(SECRET);
  });

  test('an SSM reference must name a parameter starting with "/"', () => {
    const issue = onlyIssue(docWithDev({ env_vars: { DB_PASSWORD: { ssm: 'myapp/db-password' } } }));

    expect(issue).toMatchObject({ path: 'environments.dev.env_vars.DB_PASSWORD.ssm', value: '"myapp/db-password"' });
    expect(issue.problem).toBe('is not an SSM parameter name');
    expect(issue.expected).toContain('starting with "/"');
  });

  test('a Secrets Manager reference must be a secret ARN', () => {
    const issue = onlyIssue(docWithDev({ env_vars: { API_KEY: { secretsManager: 'my-secret' } } }));

    expect(issue).toMatchObject({ path: 'environments.dev.env_vars.API_KEY.secretsManager', value: '"my-secret"' });
    expect(issue.problem).toBe('is not a Secrets Manager secret ARN');
    expect(issue.expected).toContain('arn:aws:secretsmanager:');
  });
});

describe('resources', () => {
  test('an unknown removal_policy lists the accepted policies', () => {
    const issue = onlyIssue(docWithDev({ resources: { 'ddk-bucket': { removal_policy: 'keep' } } }));

    expect(issue).toMatchObject({ path: 'environments.dev.resources.ddk-bucket.removal_policy', value: '"keep"' });
    expect(issue.problem).toBe('is not a removal policy');
    expect(issue.expected).toBe('one of "destroy", "retain", "snapshot", "retain_on_update_or_delete"');
  });
});

describe('the pipeline section', () => {
  test('an unknown key is an error (the section is strict) and the closest key is suggested', () => {
    const issue = onlyIssue(docWithPipeline({ nmae: 'myapp' }));

    expect(issue).toMatchObject({ path: 'pipeline.nmae', value: '"myapp"' });
    expect(issue.problem).toBe('is under an unknown key "nmae" (did you mean "name"?)');
    expect(issue.expected).toContain('"name"');
    expect(issue.expected).toContain('"stages"');
  });

  test.each(['cdk-pipelines', 'codepipeline-trunk', 'codepipeline-gitflow'])('strategy %s is accepted', strategy => {
    expect(DdkConfig.check(JSON.stringify(docWithPipeline({ strategy })), 'ddk.json')).toEqual([]);
  });

  test('rollbackOnFailure is refused in PARALLEL mode, on the pipeline and on a stage', () => {
    const issues = DdkConfig.check(JSON.stringify(docWithPipeline({
      executionMode: 'PARALLEL',
      rollbackOnFailure: true,
      stages: [{ name: 'dev', environments: ['dev'], rollbackOnFailure: true }],
    })), 'ddk.json');
    expect(issues.map(i => i.path)).toEqual(['pipeline.rollbackOnFailure', 'pipeline.stages[0].rollbackOnFailure']);
    expect(issues[0].problem).toContain('CodePipeline does not roll back stages of parallel executions');
    expect(issues[0].fix).toBe('remove rollbackOnFailure or change the execution mode');
  });

  test('notifications: emails and topicArn together are refused; events and addresses are checked', () => {
    const issues = DdkConfig.check(JSON.stringify(docWithPipeline({
      notifications: { emails: ['ops@example.com'], topicArn: 'arn:aws:sns:eu-west-1:111111111111:ops' },
    })), 'ddk.json');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'pipeline.notifications', problem: 'names both "emails" and "topicArn"' });
    const bad = DdkConfig.check(JSON.stringify(docWithPipeline({
      notifications: { emails: ['ops'], events: ['execution-exploded'], topicArn: 'arn:aws:sqs:eu-west-1:111111111111:q' },
    })), 'ddk.json');
    expect(bad.map(i => i.path).sort()).toEqual(['pipeline.notifications', 'pipeline.notifications.emails[0]', 'pipeline.notifications.events[0]', 'pipeline.notifications.topicArn']);
    expect(bad.find(i => i.path === 'pipeline.notifications.events[0]')!.expected).toContain('"approval-needed"');
  });

  test('a stage branch must be a valid git branch name', () => {
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'dev', environments: ['dev'], branch: 'feature//x' }] }));
    expect(issue).toMatchObject({ path: 'pipeline.stages[0].branch', problem: 'is not a valid branch name' });
  });

  test('a strategy that does not exist lists the strategies', () => {
    const issue = onlyIssue(docWithPipeline({ strategy: 'jenkins' }));

    expect(issue).toMatchObject({ path: 'pipeline.strategy', value: '"jenkins"', problem: 'is not a strategy' });
    expect(issue.expected).toContain('"cdk-pipelines"');
  });

  test('a source naming no kind of source', () => {
    const issue = onlyIssue(docWithPipeline({ source: {} }));

    expect(issue).toMatchObject({ path: 'pipeline.source', value: '{}', problem: 'names no source' });
    expect(issue.expected).toBe('exactly one of "codecommit" or "connection"');
  });

  test('a source naming two kinds of source', () => {
    const source = { codecommit: { repository: 'myapp' }, connection: { arn: CONNECTION_ARN, repository: 'owner/myapp' } };
    const issue = onlyIssue(docWithPipeline({ source }));

    expect(issue).toMatchObject({ path: 'pipeline.source', problem: 'names two sources' });
    expect(issue.expected).toBe('exactly one of "codecommit" or "connection"');
  });

  test('a connection ARN that is not a CodeConnections ARN', () => {
    const issue = onlyIssue(docWithPipeline({ source: { connection: { arn: 'arn:aws:s3:::bucket', repository: 'owner/myapp' } } }));

    expect(issue).toMatchObject({ path: 'pipeline.source.connection.arn', value: '"arn:aws:s3:::bucket"' });
    expect(issue.problem).toBe('is not a CodeConnections connection ARN');
    expect(issue.expected).toContain('connection/ID');
  });
});

describe('stages', () => {
  test('a stage naming an environment that does not exist suggests the closest id', () => {
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'dev', environments: ['dve'] }] }));

    expect(issue).toMatchObject({ path: 'pipeline.stages[0].environments[0]', value: '"dve"' });
    expect(issue.problem).toBe('names an environment that does not exist (did you mean "dev"?)');
    expect(issue.expected).toBe('one of "dev"');
  });

  test('an environment in two stages names the stage that already deploys it', () => {
    const stages = [{ name: 'first', environments: ['dev'] }, { name: 'second', environments: ['dev'] }];
    const issue = onlyIssue(docWithPipeline({ stages }));

    expect(issue).toMatchObject({ path: 'pipeline.stages[1].environments[0]', value: '"dev"' });
    expect(issue.problem).toBe('is already deployed by stage "first"');
    expect(issue.expected).toBe('each environment in exactly one stage');
  });

  test('the cicd environment cannot be a deployment target', () => {
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'dev', environments: ['dev', 'cicd'] }] }));

    expect(issue).toMatchObject({ path: 'pipeline.stages[0].environments[1]', value: '"cicd"' });
    expect(issue.problem).toMatch(/^is the CICD environment/);
    expect(issue.fix).toContain('separate environment with the same account');
  });

  test('stage names are unique case-insensitively', () => {
    // GIVEN two more environments, so that only the names collide
    const environments = { ...baseEnvironments(), prod: { account: '333333333333', region: 'eu-west-1' } };
    const stages = [{ name: 'Deploy', environments: ['dev'] }, { name: 'DEPLOY', environments: ['prod'] }];

    const issue = onlyIssue({ environments, pipeline: { stages } });

    expect(issue).toMatchObject({ path: 'pipeline.stages[1].name', value: '"DEPLOY"' });
    expect(issue.problem).toBe('repeats the name of pipeline.stages[0]');
    expect(issue.expected).toContain('case-insensitive');
  });

  test('a stage may not take the name of one of the pipeline\'s own stages (Source, Build, UpdatePipeline, Assets)', () => {
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'build', environments: ['dev'] }] }));

    expect(issue).toMatchObject({ path: 'pipeline.stages[0].name', value: '"build"' });
    expect(issue.problem).toBe('collides with the pipeline\'s own "Build" stage');
    expect(issue.expected).toContain('"Source", "Build", "UpdatePipeline", "Assets"');
    expect(issue.fix).toBe('rename the stage, e.g. "build-env"');
  });

  test('without pipeline.stages, an environment id that would name such a stage is refused too', () => {
    const issue = onlyIssue({ environments: { ...baseEnvironments(), source: { account: '333333333333', region: 'eu-west-1' } } });

    expect(issue).toMatchObject({ path: 'environments.source' });
    expect(issue.problem).toBe('would name a pipeline stage "source", which collides with the pipeline\'s own "Source" stage');
    expect(issue.fix).toContain('add "pipeline": {"stages": [...]} that deploys "source" in a stage with another name');
  });

  test('environment ids that differ only in case are refused', () => {
    const environments = { ...baseEnvironments(), Dev: { account: '333333333333', region: 'eu-west-1' } };
    const issue = onlyIssue({ environments });

    expect(issue).toMatchObject({ path: 'environments.Dev' });
    expect(issue.problem).toBe('differs from environment "dev" only in case');
    expect(issue.expected).toContain('case-insensitive file systems');
  });

  test('a target in another partition than the cicd environment is refused', () => {
    const environments = { ...baseEnvironments(), china: { account: '333333333333', region: 'cn-north-1' } };
    const issue = onlyIssue({ environments });

    expect(issue).toMatchObject({ path: 'environments.china.region', value: '"cn-north-1"' });
    expect(issue.problem).toBe('is in the aws-cn partition, but the cicd environment (eu-west-1) is in aws; a pipeline cannot deploy across partitions');
    expect(issue.fix).toBe('deploy aws-cn environments from their own ddk.json whose cicd environment is in aws-cn');
    // within one partition (here GovCloud) all is well
    expect(issuesOf({ environments: { cicd: { account: '111111111111', region: 'us-gov-west-1' }, dev: { account: '222222222222', region: 'us-gov-east-1' } } })).toEqual([]);
  });

  test('fields without a message of their own still say what, expected and how to fix (from zod\'s issue)', () => {
    const one = (pipeline: object) => DdkConfig.formatIssue(onlyIssue(docWithPipeline(pipeline)));
    expect(one({ source: { codecommit: { repository: 'x', create: 'yes' } } }))
      .toBe('ddk.json: pipeline.source.codecommit.create: "yes" is a string; expected a boolean. Fix: write true or false without quotes');
    expect(one({ synth: { commands: [] } })).toBe('ddk.json: pipeline.synth.commands: [] is empty; expected at least 1 entry. Fix: add an entry, or remove the key to use the default');
    expect(one({ stages: [{ name: 'd', environments: ['dev'], approval: { comment: 'x'.repeat(600) } }] }))
      .toMatch(/approval\.comment: "x+\.\.\. has 600 characters; expected at most 512 characters\. Fix: shorten it$/);
    expect(one({ stages: [{ name: 'd', environments: [7] }] })).toBe('ddk.json: pipeline.stages[0].environments[0]: 7 is a number; expected a string. Fix: write a string');
  });

  test('an empty test command is refused', () => {
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'dev', environments: ['dev'], tests: ['npm run smoke', ''] }] }));

    expect(issue).toMatchObject({ path: 'pipeline.stages[0].tests[1]', value: '""' });
    expect(DdkConfig.formatIssue(issue)).toContain('"" is an empty command; expected a shell command such as "npm run smoke". Fix: remove the empty entry');
  });

  test('a stage with no environments would deploy nothing', () => {
    const stages = [{ name: 'dev', environments: ['dev'] }, { name: 'empty', environments: [] }];
    const issue = onlyIssue(docWithPipeline({ stages }));

    expect(issue).toMatchObject({ path: 'pipeline.stages[1].environments', value: '[]' });
    expect(issue.problem).toBe('is empty: the stage would deploy nothing');
    expect(issue.fix).toContain('"dev"');
  });

  test('an empty list of stages', () => {
    const issue = onlyIssue(docWithPipeline({ stages: [] }));

    expect(issue).toMatchObject({ path: 'pipeline.stages', value: '[]', problem: 'is empty', expected: 'at least one stage' });
    expect(issue.fix).toContain('remove "stages"');
  });

  test('a stage name with characters CodePipeline does not accept', () => {
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'deploy dev!', environments: ['dev'] }] }));

    expect(issue).toMatchObject({ path: 'pipeline.stages[0].name', value: '"deploy dev!"' });
    expect(issue.problem).toBe('is not a valid stage name');
    expect(issue.expected).toContain('1 to 100 characters');
  });

  test('a required check that is not a system/name context', () => {
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'dev', environments: ['dev'], requiredChecks: ['integration'] }] }));

    expect(issue).toMatchObject({ path: 'pipeline.stages[0].requiredChecks[0]', value: '"integration"' });
    expect(issue.problem).toBe('is not a status-check context');
    expect(issue.expected).toContain('"system/name"');
  });

  test('a required check listed twice is reported at its second occurrence', () => {
    const requiredChecks = ['ci/integration', 'ci/lint', 'ci/integration'];
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'dev', environments: ['dev'], requiredChecks }] }));

    expect(issue).toMatchObject({ path: 'pipeline.stages[0].requiredChecks[2]', value: '"ci/integration"' });
    expect(issue.problem).toBe('is listed twice');
  });

  test('an approval that is neither a boolean nor an approval object', () => {
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'dev', environments: ['dev'], approval: 'yes' }] }));

    expect(issue).toMatchObject({ path: 'pipeline.stages[0].approval', value: '"yes"' });
    expect(issue.problem).toBe('is not a valid approval');
    expect(issue.expected).toMatch(/^true, false, or \{/);
  });

  test('an approval notifying something that is not an email address', () => {
    const approval = { notify: ['team@example.com', 'release-managers'] };
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'dev', environments: ['dev'], approval }] }));

    expect(issue).toMatchObject({ path: 'pipeline.stages[0].approval.notify[1]', value: '"release-managers"' });
    expect(issue.problem).toBe('is not an email address');
    expect(issue.expected).toContain('team@example.com');
  });
});

describe('files', () => {
  test('invalid JSON is reported with its line and column', () => {
    // GIVEN a trailing comma; the "}" after it is at line 4, column 1
    const text = '{\n  "environments": {\n    "cicd": { "account": "111111111111", "region": "eu-west-1" },\n}\n';

    const issues = DdkConfig.check(text, 'broken.json');

    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: 'broken.json', path: '' });
    expect(issues[0].problem).toMatch(/^is not valid JSON at line 4, column 1 \(/);
    expect(issues[0].expected).toContain('no trailing commas');
    expect(issues[0].fix).toBe('correct the syntax at line 4, column 1');
  });

  test('invalid JSON in a value (an unquoted region) is reported with its line and column', () => {
    // GIVEN an unquoted value on line 3 (a common mistake)
    const text = '{\n  "environments": {\n    "cicd": { "account": "111111111111", "region": eu-west-1 }\n  }\n}\n';
    const column = text.split('\n')[2].indexOf('eu-west-1') + 1;

    const issues = DdkConfig.check(text, 'broken.json');

    // THEN the position of the unexpected "e" is given
    expect(issues).toHaveLength(1);
    expect(issues[0].problem).toMatch(new RegExp(`^is not valid JSON at line 3, column ${column} \\(`));
  });

  test('invalid JSON after a byte-order mark is located in the file as the editor shows it', () => {
    // GIVEN a BOM, then a stray comma at the start of line 2
    const text = '\ufeff{\n,"environments": {}}';

    const issues = DdkConfig.check(text, 'bom.json');

    expect(issues).toHaveLength(1);
    expect(issues[0].problem).toMatch(/^is not valid JSON at line 2, column 1 \(/);
  });

  test('a file that cannot be read is an issue naming the file and the reason', () => {
    const path = '/nonexistent-ddk-pipelines-test-dir/ddk.json';

    const error = thrown(() => DdkConfig.fromFile(path));

    expect(error.name).toBe('DdkConfigError');
    expect(error.issues).toEqual([{
      file: path,
      path: '',
      problem: 'cannot be read (ENOENT)',
      expected: 'a readable ddk.json file',
      fix: 'create the file, or give the path of an existing one (`cdk synth -c ddkConfig=<path>`, `ddk-pipelines validate <path>`)',
    }]);
    expect(error.message).toContain(path);
  });

  test('a document that is not an object', () => {
    const issue = onlyIssue([{ environments: baseEnvironments() }]);

    expect(issue).toMatchObject({ path: '', problem: 'is an array', expected: 'a JSON object' });
  });

  test('a document without environments', () => {
    const issue = onlyIssue({ tags: { application: 'myapp' } });

    expect(issue).toMatchObject({ path: 'environments', problem: 'is missing' });
    expect(issue.value).toBeUndefined();
  });
});

describe('values that would render what AWS refuses', () => {
  test('a required check longer than the 255 characters a report may have (the gate could never pass)', () => {
    const context = `ci/${'x'.repeat(253)}`;
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'dev', environments: ['dev'], requiredChecks: [context] }] }));
    expect(issue.path).toBe('pipeline.stages[0].requiredChecks[0]');
    expect(issue.problem).toBe('is longer than the 255 characters a reported context may have');
    expect(issue.expected).toBe('a "system/name" context of at most 255 characters');
    expect(issue.fix).toBe('shorten the context');
    expect(issuesOf(docWithPipeline({ stages: [{ name: 'dev', environments: ['dev'], requiredChecks: [`ci/${'x'.repeat(252)}`] }] }))).toEqual([]);
  });

  test('the limit is the status-check API\'s', () => {
    expect(CONTEXT_MAX_LENGTH).toBe(LIMITS.context);
  });

  test('an empty approval comment (CodePipeline refuses an empty configuration value)', () => {
    const issue = onlyIssue(docWithPipeline({ stages: [{ name: 'dev', environments: ['dev'], approval: { comment: '' } }] }));
    expect(issue.path).toBe('pipeline.stages[0].approval.comment');
    expect(issue.problem).toBe('is empty');
    expect(issue.fix).toBe('write what to check, or remove "comment" for the default text');
  });
});
