import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { baseDoc, baseEnvironments, docWithDev, FILE, issuesOf, thrown } from './helpers';
import { camelCase, DdkConfig } from '../../lib/config';

/** The ddk.json of the data.all seed project, exactly as written there. */
const SEED_DDK_JSON = `{
  "environments": {
    "cicd": {
      "account": "111111111111",
      "region": "eu-west-1"
    },
    "dev": {
      "account": "222222222222",
      "region": "eu-west-1",
      "resources": {
        "ddk-bucket": {"versioned": false, "removal_policy": "destroy"}
      }
    },
    "prod": {
      "account": "333333333333",
      "region": "eu-west-1",
      "resources": {
        "ddk-bucket": {"versioned": true, "removal_policy": "retain"}
      }
    }
  }
}
`;

let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'ddk-config-test-'));
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

/** Writes `text` to `<workDir>/<folder>/ddk.json` and returns the path. */
function writeDdkJson(folder: string, text: string): string {
  const dir = join(workDir, folder);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'ddk.json');
  writeFileSync(path, text);
  return path;
}

describe('the data.all seed ddk.json', () => {
  test('loads from a file without issues or warnings', () => {
    const path = writeDdkJson('data.all', SEED_DDK_JSON);

    const config = DdkConfig.fromFile(path);

    expect(config.file).toBe(path);
    expect(config.warnings).toEqual([]);
    expect(config.pipeline).toBeUndefined();
    expect(config.environments.map(e => [e.id, e.account, e.region, e.isCicd])).toEqual([
      ['cicd', '111111111111', 'eu-west-1', true],
      ['dev', '222222222222', 'eu-west-1', false],
      ['prod', '333333333333', 'eu-west-1', false],
    ]);
    expect(config.cicd.id).toBe('cicd');
    expect(config.targets.map(e => e.id)).toEqual(['dev', 'prod']);
  });

  test('gives the ddk-bucket props of each environment in camelCase, values as written', () => {
    const config = DdkConfig.parse(SEED_DDK_JSON, 'ddk.json');

    expect(config.environment('dev').resourceProps('ddk-bucket')).toEqual({ versioned: false, removalPolicy: 'destroy' });
    expect(config.environment('prod').resourceProps('ddk-bucket')).toEqual({ versioned: true, removalPolicy: 'retain' });
    expect(config.cicd.resourceProps('ddk-bucket')).toBeUndefined();
    // the raw section keeps the original keys
    expect(config.environment('dev').resources['ddk-bucket']).toEqual({ versioned: false, removal_policy: 'destroy' });
  });
});

describe('loading', () => {
  test('parse, fromObject and fromFile read the same document the same way', () => {
    const text = JSON.stringify(baseDoc({ tags: { application: 'myapp' } }));
    const path = writeDdkJson('same', text);

    const configs = [DdkConfig.parse(text, path), DdkConfig.fromObject(JSON.parse(text), path), DdkConfig.fromFile(path)];

    for (const c of configs) {
      expect(c.environments.map(e => `${e.id}:${e.account}:${e.region}`)).toEqual(['cicd:111111111111:eu-west-1', 'dev:222222222222:eu-west-1']);
      expect(c.tags).toEqual({ application: 'myapp' });
    }
  });

  test('a UTF-8 byte-order mark before the JSON is accepted', () => {
    const config = DdkConfig.parse('\ufeff' + JSON.stringify(baseDoc()), FILE);

    expect(config.targets.map(e => e.id)).toEqual(['dev']);
  });

  test('check returns no issue for a valid document and does not throw for an invalid one', () => {
    expect(DdkConfig.check(JSON.stringify(baseDoc()), FILE)).toEqual([]);
    expect(DdkConfig.check('{', FILE)).toHaveLength(1);
    expect(DdkConfig.check('not json', FILE)[0].problem).toMatch(/^is not valid JSON/);
  });

  test('an invalid document throws a DdkConfigError recognisable without instanceof', () => {
    const error = thrown(() => DdkConfig.fromObject(docWithDev({ account: 'x' }), FILE));

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DdkConfigError');
    expect(error.issues).toHaveLength(1);
    expect(error.message).toMatch(/^ddk\.json is not a valid ddk\.json \(1 problem\):\n {2}- ddk\.json: environments\.dev\.account: "x" /);
  });

  test('environments keep their file order, cicd wherever it is', () => {
    // GIVEN cicd written between two targets
    const { cicd, dev } = baseEnvironments();
    const config = DdkConfig.fromObject({ environments: { prod: { account: '333333333333', region: 'us-east-1' }, cicd, dev } }, FILE);

    expect(config.environments.map(e => e.id)).toEqual(['prod', 'cicd', 'dev']);
    expect(config.targets.map(e => e.id)).toEqual(['prod', 'dev']);
    expect(config.cicd.account).toBe('111111111111');
  });
});

describe('all problems of a file are reported together', () => {
  // GIVEN a file with problems in the environments and in the pipeline, found by the schema and by the cross-checks
  const broken = {
    environments: {
      cicd: { account: '111111111111', region: 'eu-west-1' },
      dev: { account: '22222222222', region: 'Ireland', env_vars: { API_TOKEN: 'abc123secret' } },
      prod: { account: 333333333333, region: 'eu-west-1' },
    },
    pipeline: {
      strategy: 'codepipeline-trunk',
      executionMode: 'PARALLEL',
      rollbackOnFailure: true,
      stages: [
        { name: 'dev stage', environments: ['dev'] },
        { name: 'prod', environments: ['prd', 'cicd'], approval: { notify: ['ops'] } },
      ],
    },
  };
  const expectedPaths = [
    'environments.dev.account',
    'environments.dev.region',
    'environments.dev.env_vars.API_TOKEN',
    'environments.prod.account',
    'pipeline.rollbackOnFailure',
    'pipeline.stages[0].name',
    'pipeline.stages[1].environments[0]',
    'pipeline.stages[1].environments[1]',
    'pipeline.stages[1].approval.notify[0]',
  ];

  test('one throw carries every issue, and the message has one line per issue', () => {
    // WHEN the file is loaded
    const error = thrown(() => DdkConfig.fromObject(broken, 'project/ddk.json'));

    // THEN every problem is in the one error
    expect(error.issues.map((i: any) => i.path).sort()).toEqual([...expectedPaths].sort());
    const lines = error.message.split('\n');
    expect(lines[0]).toBe(`project/ddk.json is not a valid ddk.json (${expectedPaths.length} problems):`);
    expect(lines.slice(1)).toHaveLength(expectedPaths.length);
    expect(error.message).not.toContain('abc123secret');
  });

  test('check returns the same issues as the error', () => {
    const error = thrown(() => DdkConfig.fromObject(broken, FILE));

    expect(issuesOf(broken)).toEqual(error.issues);
  });

  test('each formatted line has the file, the path, the value, "expected" and "Fix:"', () => {
    const issues = issuesOf(broken, 'project/ddk.json');

    for (const issue of issues) {
      expect(issue.value).toBeDefined();
      const line = DdkConfig.formatIssue(issue);
      expect(line.startsWith(`project/ddk.json: ${issue.path}: ${issue.value} `)).toBe(true);
      expect(line).toContain(issue.problem);
      expect(line).toContain(`; expected ${issue.expected}. `);
      expect(line).toMatch(/\. Fix: \S/);
      expect(line.endsWith(issue.fix)).toBe(true);
    }
  });
});

describe('warnings', () => {
  test('an unknown top-level key is a warning naming it (with a suggestion), and stays readable', () => {
    // GIVEN "tag" (a typo of "tags") and a custom key
    const config = DdkConfig.fromObject(baseDoc({ tag: { team: 'data' }, owner: 'data-team' }), FILE);

    expect(config.warnings).toHaveLength(2);
    expect(config.warnings[0]).toMatch(/^ddk\.json: tag: unknown top-level key "tag" \(did you mean "tags"\?\)/);
    expect(config.warnings[1]).toMatch(/^ddk\.json: owner: unknown top-level key "owner" is kept/);
    expect(config.attribute('owner')).toBe('data-team');
    expect(config.attribute('tag')).toEqual({ team: 'data' });
    expect(config.tags).toEqual({});
  });

  test('an unknown environment key is a warning naming it (with a suggestion), not an error', () => {
    const config = DdkConfig.fromObject(docWithDev({ regoin: 'us-east-1', team: 'data' }), FILE);

    expect(config.warnings).toEqual([
      expect.stringMatching(/^ddk\.json: environments\.dev\.regoin: unknown key "regoin" \(did you mean "region"\?\)/),
      expect.stringMatching(/^ddk\.json: environments\.dev\.team: unknown key "team" is kept/),
    ]);
    expect(config.environment('dev').attribute('team')).toBe('data');
    expect(config.environment('dev').region).toBe('eu-west-1');
  });

  test('DDK attributes are accepted and readable through attribute()', () => {
    // GIVEN an environment using the attributes of AWS DDK files
    const ddk = {
      props: { memorySize: 512, nested: { a: [1, 2] } },
      manual_approvals: true,
      notifications_topic_arn: 'arn:aws:sns:eu-west-1:222222222222:notifications',
      bootstrap: { qualifier: 'ddk123', question_customer: 'x' },
      prefix: 'ddk',
      execute_security_lint: false,
    };
    // AND the top-level keys of DDK files
    const doc = { ...docWithDev(ddk), account: '111111111111', region: 'eu-west-1', bootstrap: {} };

    const config = DdkConfig.fromObject(doc, FILE);

    const dev = config.environment('dev');
    // the DDK keys ddk-pipelines does not act on are each a warning naming the key
    expect(config.warnings.map(w => w.split(': ').slice(0, 3).join(': '))).toEqual([
      'ddk.json: account: is not used',
      'ddk.json: region: is not used',
      'ddk.json: bootstrap: is the AWS DDK\'s bootstrap settings and is not used',
      'ddk.json: environments.dev.prefix: is the AWS DDK\'s bootstrap role prefix and is not used',
      'ddk.json: environments.dev.execute_security_lint: is the AWS DDK\'s switch for a cfn-nag and bandit stage and is not used',
      'ddk.json: environments.dev.bootstrap.question_customer: is not used (ddk-pipelines reads only bootstrap.qualifier and bootstrap.profile)',
      'ddk.json: environments.dev.notifications_topic_arn: is not used',
    ]);
    expect(config.warnings.find(w => w.includes('.prefix:'))).toContain('Fix: bootstrap the account with cdk bootstrap');
    expect(dev.manualApprovals).toBe(true);
    expect(dev.notificationsTopicArn).toBe(ddk.notifications_topic_arn);
    expect(config.cicd.manualApprovals).toBeUndefined();
    expect(dev.attribute('props')).toEqual(ddk.props);
    expect(dev.attribute('manual_approvals')).toBe(true);
    expect(dev.attribute('notifications_topic_arn')).toBe(ddk.notifications_topic_arn);
    expect(dev.attribute('bootstrap')).toEqual(ddk.bootstrap);
    expect(dev.attribute('prefix')).toBe('ddk');
    expect(dev.attribute('missing')).toBeUndefined();
    expect(dev.bootstrapQualifier).toBe('ddk123');
    expect(config.cicd.bootstrapQualifier).toBeUndefined();
    expect(config.attribute('account')).toBe('111111111111');
  });

  test('manual_approvals must be a boolean', () => {
    const issues = issuesOf(docWithDev({ manual_approvals: 'yes' }));

    expect(issues).toEqual([expect.objectContaining({ path: 'environments.dev.manual_approvals', value: '"yes"', problem: 'is a string' })]);
  });

  test('an environment in no stage is a warning that it will not be deployed', () => {
    // GIVEN stages that deploy dev but not qa
    const environments = { ...baseEnvironments(), qa: { account: '333333333333', region: 'eu-west-1' } };
    const config = DdkConfig.fromObject({ environments, pipeline: { stages: [{ name: 'dev', environments: ['dev'] }] } }, FILE);

    expect(config.warnings).toEqual([
      'ddk.json: environments.qa: is in no stage of pipeline.stages and will not be deployed; add it to a stage to deploy it',
    ]);
  });

  test('without explicit stages every environment is deployed, so there is no such warning', () => {
    const environments = { ...baseEnvironments(), qa: { account: '333333333333', region: 'eu-west-1' } };

    expect(DdkConfig.fromObject({ environments, pipeline: { name: 'myapp' } }, FILE).warnings).toEqual([]);
    expect(DdkConfig.fromObject({ environments }, FILE).warnings).toEqual([]);
  });
});

describe('EnvironmentConfig', () => {
  test('tags are the top-level tags overlaid with the environment tags', () => {
    // GIVEN top-level tags and an environment that overrides one and adds one
    const doc = docWithDev({ tags: { owner: 'dev-team', stage: 'dev' } });
    doc.tags = { application: 'myapp', owner: 'platform' };

    const config = DdkConfig.fromObject(doc, FILE);

    expect(config.environment('dev').tags).toEqual({ application: 'myapp', owner: 'dev-team', stage: 'dev' });
    expect(config.cicd.tags).toEqual({ application: 'myapp', owner: 'platform' });
    expect(config.tags).toEqual({ application: 'myapp', owner: 'platform' });
  });

  test('env_vars are kept as written, references included', () => {
    const envVars = { LOG_LEVEL: 'debug', RETRIES: 3, FEATURE_X: true, DB_PASSWORD: { ssm: '/myapp/dev/db-password' } };

    const dev = DdkConfig.fromObject(docWithDev({ env_vars: envVars }), FILE).environment('dev');

    expect(dev.envVars).toEqual(envVars);
    expect(DdkConfig.fromObject(baseDoc(), FILE).environment('dev').envVars).toEqual({});
  });

  test('resourceProps turns snake_case and kebab-case keys into camelCase and leaves other keys alone', () => {
    const resources = {
      'ddk-bucket': { removal_policy: 'RETAIN', block_public_access: 'BLOCK_ALL', auto_delete_objects: false, enforceSSL: true },
      'AWS::S3::Bucket': { VersioningConfiguration: { Status: 'Enabled' } },
    };

    const dev = DdkConfig.fromObject(docWithDev({ resources }), FILE).environment('dev');

    expect(dev.resourceProps('ddk-bucket')).toEqual({ removalPolicy: 'RETAIN', blockPublicAccess: 'BLOCK_ALL', autoDeleteObjects: false, enforceSSL: true });
    expect(dev.resourceProps('AWS::S3::Bucket')).toEqual({ VersioningConfiguration: { Status: 'Enabled' } });
    expect(dev.resourceProps('other')).toBeUndefined();
  });

  test('camelCase', () => {
    expect(camelCase('removal_policy')).toBe('removalPolicy');
    expect(camelCase('retain_on_update_or_delete')).toBe('retainOnUpdateOrDelete');
    expect(camelCase('max-azs')).toBe('maxAzs');
    expect(camelCase('alreadyCamel')).toBe('alreadyCamel');
    expect(camelCase('a__b')).toBe('aB');
  });

  test('removal_policy is accepted in any case and returned as written', () => {
    const dev = DdkConfig.fromObject(docWithDev({ resources: { b: { removal_policy: 'Retain_On_Update_Or_Delete' } } }), FILE).environment('dev');

    expect(dev.resourceProps('b')).toEqual({ removalPolicy: 'Retain_On_Update_Or_Delete' });
  });
});

describe('DdkConfig.environment', () => {
  test('an unknown id throws, suggesting the closest id and listing the ids', () => {
    const config = DdkConfig.fromObject(baseDoc(), 'app/ddk.json');

    expect(() => config.environment('dve')).toThrow(
      'app/ddk.json: environments.dve: no such environment (did you mean "dev"?); the file defines "cicd", "dev".',
    );
  });

  test('a known id returns that environment', () => {
    const config = DdkConfig.fromObject(baseDoc(), FILE);

    expect(config.environment('dev')).toBe(config.targets[0]);
    expect(config.environment('cicd')).toBe(config.cicd);
  });
});
