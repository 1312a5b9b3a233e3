import { exampleDoc } from './helpers';
import { bootstrapArgs, bootstrapTargets, parseProfiles, reachProblems, shellQuote } from '../../lib/cli/bootstrap';
import { DdkConfig } from '../../lib/config';
import { partitionOf } from '../../lib/config/regions';

const configOf = (doc: unknown) => DdkConfig.fromObject(doc, 'ddk.json');
const command = (config: DdkConfig, environment?: string, cicdAccount?: string) =>
  bootstrapTargets(config, { environment, cicdAccount }).map(t => shellQuote(['npx', 'cdk', ...bootstrapArgs(t)]));

const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';

describe('bootstrap commands derived from ddk.json', () => {
  const config = configOf(exampleDoc());

  test('one target environment: its account and region, trusting the CICD account', () => {
    expect(command(config, 'dev')).toEqual([
      `npx cdk bootstrap aws://222222222222/eu-west-1 --trust 111111111111 --cloudformation-execution-policies ${ADMIN}`,
    ]);
  });

  test('-a overrides the trusted CICD account (the DDK\'s `ddk bootstrap -e dev -a …`)', () => {
    expect(command(config, 'prod-us', '999999999999')).toEqual([
      `npx cdk bootstrap aws://444444444444/us-east-1 --trust 999999999999 --cloudformation-execution-policies ${ADMIN}`,
    ]);
  });

  test('all (the default): the CICD account in its region and in every other target region, then each target', () => {
    const all = command(config);
    expect(all).toEqual(command(config, 'all'));
    expect(all).toEqual([
      `npx cdk bootstrap aws://111111111111/eu-west-1 --cloudformation-execution-policies ${ADMIN}`,
      `npx cdk bootstrap aws://111111111111/us-east-1 --cloudformation-execution-policies ${ADMIN}`,
      `npx cdk bootstrap aws://222222222222/eu-west-1 --trust 111111111111 --cloudformation-execution-policies ${ADMIN}`,
      `npx cdk bootstrap aws://333333333333/eu-west-1 --trust 111111111111 --cloudformation-execution-policies ${ADMIN}`,
      `npx cdk bootstrap aws://444444444444/us-east-1 --trust 111111111111 --cloudformation-execution-policies ${ADMIN}`,
    ]);
    expect(bootstrapTargets(config)[1].reason).toBe('cross-region replication for targets in us-east-1');
  });

  test('environments.<id>.bootstrap.qualifier adds --qualifier', () => {
    const doc = exampleDoc();
    doc.environments.dev.bootstrap = { qualifier: 'team1' };
    expect(command(configOf(doc), 'dev')).toEqual([
      `npx cdk bootstrap aws://222222222222/eu-west-1 --trust 111111111111 --cloudformation-execution-policies ${ADMIN} --qualifier team1`,
    ]);
  });

  test('a target in the CICD account and region merges with the CICD bootstrap (one command, no self-trust)', () => {
    const doc = exampleDoc();
    doc.environments.dev.account = '111111111111';
    const targets = bootstrapTargets(configOf(doc));
    const shared = targets.filter(t => t.account === '111111111111' && t.region === 'eu-west-1');
    expect(shared).toHaveLength(1);
    expect(shared[0].environments).toEqual(['cicd', 'dev']);
    expect(bootstrapArgs(shared[0])).not.toContain('--trust');
  });

  test('execution policies, profile, and the partition of China and GovCloud regions', () => {
    const [t] = bootstrapTargets(config, { environment: 'dev' });
    expect(bootstrapArgs(t, { executionPolicies: ['arn:aws:iam::222222222222:policy/a', 'arn:aws:iam::222222222222:policy/b'], profile: 'dev-admin' }))
      .toEqual(['bootstrap', 'aws://222222222222/eu-west-1', '--trust', '111111111111', '--cloudformation-execution-policies',
        'arn:aws:iam::222222222222:policy/a,arn:aws:iam::222222222222:policy/b', '--profile', 'dev-admin']);
    expect(bootstrapArgs({ ...t, region: 'cn-north-1' })).toContain('arn:aws-cn:iam::aws:policy/AdministratorAccess');
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOf('eu-central-2')).toBe('aws');
  });

  test('an unknown environment is a usage error with a suggestion', () => {
    expect(() => bootstrapTargets(config, { environment: 'prod-uss' })).toThrow(/^-e prod-uss: no such environment \(did you mean "prod-us"\?\)/);
    try {
      bootstrapTargets(config, { environment: 'nope' });
    } catch (e: any) {
      expect(e.exitCode).toBe(2);
    }
    expect.assertions(2);
  });

  test('a CICD account that is not 12 digits is refused', () => {
    expect(() => bootstrapTargets(config, { cicdAccount: '12345' })).toThrow('--cicd-account: "12345" is not a 12-digit AWS account id');
  });
});

describe('shellQuote', () => {
  test('plain words stay bare; others are single-quoted, with embedded quotes escaped', () => {
    expect(shellQuote(['npx', 'cdk', 'aws://1/eu-west-1', '--x=a,b'])).toBe('npx cdk aws://1/eu-west-1 --x=a,b');
    expect(shellQuote(['a b', 'it\'s', '$HOME', ''])).toBe('\'a b\' \'it\'\\\'\'s\' \'$HOME\' \'\'');
  });
});

describe('how each account is reached: a profile per environment', () => {
  const withProfiles = (profiles: Record<string, string>) => {
    const doc = exampleDoc();
    for (const [env, profile] of Object.entries(profiles)) doc.environments[env].bootstrap = { profile };
    return configOf(doc);
  };
  const profilesOf = (targets: ReturnType<typeof bootstrapTargets>) => targets.map(t => `${t.account}/${t.region}:${t.profile ?? '-'}`);

  test('environments.<id>.bootstrap.profile adds --profile to that environment\'s command; the CICD profile to its replication regions', () => {
    const config = withProfiles({ cicd: 'cicd-admin', dev: 'dev-admin' });
    expect(profilesOf(bootstrapTargets(config))).toEqual([
      '111111111111/eu-west-1:cicd-admin', '111111111111/us-east-1:cicd-admin', '222222222222/eu-west-1:dev-admin',
      '333333333333/eu-west-1:-', '444444444444/us-east-1:-',
    ]);
    const [dev] = bootstrapTargets(config, { environment: 'dev' });
    expect(bootstrapArgs(dev)).toEqual(['bootstrap', 'aws://222222222222/eu-west-1', '--trust', '111111111111',
      '--cloudformation-execution-policies', ADMIN, '--profile', 'dev-admin']);
  });

  test('the command line wins over ddk.json; a bare --profile covers the rest; environments of one account share a profile', () => {
    const doc = exampleDoc();
    doc.environments.dev.bootstrap = { profile: 'dev-file' };
    doc.environments['prod-us'].account = '333333333333'; // prod-eu and prod-us in one account
    doc.environments['prod-eu'].bootstrap = { profile: 'prod-admin' };
    const config = configOf(doc);
    const targets = bootstrapTargets(config, { profiles: { dev: 'dev-cli' }, defaultProfile: 'fallback' });
    expect(profilesOf(targets)).toEqual([
      '111111111111/eu-west-1:fallback', '111111111111/us-east-1:fallback', '222222222222/eu-west-1:dev-cli',
      '333333333333/eu-west-1:prod-admin', '333333333333/us-east-1:prod-admin',
    ]);
    expect(profilesOf(bootstrapTargets(config, { environment: 'prod-us' }))).toEqual(['333333333333/us-east-1:prod-admin']);
  });

  test('--profile values: <env>=<profile> and one bare default; typos and bad names are usage errors', () => {
    const config = configOf(exampleDoc());
    expect(parseProfiles(['dev=dev-admin', 'prod-eu=arn:aws:iam::333333333333:role/x', 'ops'], config))
      .toEqual({ profiles: { 'dev': 'dev-admin', 'prod-eu': 'arn:aws:iam::333333333333:role/x' }, defaultProfile: 'ops' });
    expect(parseProfiles(undefined, config)).toEqual({ profiles: {}, defaultProfile: undefined });
    expect(() => parseProfiles(['dve=x'], config)).toThrow('--profile dve=x: ddk.json has no environment "dve" (did you mean "dev"?); its environments are "cicd", "dev", "prod-eu", "prod-us"');
    expect(() => parseProfiles(['dev=my profile'], config)).toThrow('--profile dev=my profile: "my profile" is not an AWS profile name');
    expect(() => parseProfiles(['dev='], config)).toThrow('"" is not an AWS profile name');
    expect(() => parseProfiles(['a', 'b'], config)).toThrow('--profile: "a" and "b" both without an environment');
    expect(() => parseProfiles(['dev=a', 'dev=b'], config)).toThrow('environment "dev" is given two profiles, "a" and "b"');
    try {
      parseProfiles(['x=y'], config);
    } catch (e: any) {
      expect(e.exitCode).toBe(2);
    }
  });

  test('reachProblems: one set of credentials for several accounts is named, with every account and its environments', () => {
    expect(reachProblems(bootstrapTargets(configOf(exampleDoc())))).toEqual([
      '4 accounts would be bootstrapped with your current credentials, which reach one account: '
      + '111111111111 (cicd), 222222222222 (dev), 333333333333 (prod-eu), 444444444444 (prod-us)',
    ]);
    // one account without a profile is fine (the current credentials must be for it)
    expect(reachProblems(bootstrapTargets(withProfiles({ 'dev': 'd', 'prod-eu': 'pe', 'prod-us': 'pu' })))).toEqual([]);
    expect(reachProblems(bootstrapTargets(withProfiles({ 'cicd': 'c', 'dev': 'd', 'prod-eu': 'prod', 'prod-us': 'prod' })))).toEqual([
      'profile "prod" would be used for 2 accounts, and a profile reaches one account: 333333333333 (prod-eu), 444444444444 (prod-us)',
    ]);
    // one environment: one account, nothing to reach elsewhere
    expect(reachProblems(bootstrapTargets(configOf(exampleDoc()), { environment: 'dev' }))).toEqual([]);
  });

  test('ddk.json: a bad bootstrap.profile is an issue with file, path, value, expected and fix', () => {
    const doc = exampleDoc();
    doc.environments.dev.bootstrap = { profile: 'dev admin' };
    doc.environments['prod-eu'].bootstrap = { profile: 42 };
    expect(() => configOf(doc)).toThrow('ddk.json: environments.dev.bootstrap.profile: "dev admin" is not an AWS profile name; expected the name of a profile in your AWS config, '
      + 'e.g. "dev-admin" (letters, digits and _ . @ + , : / -, at most 128 characters). Fix: write the name as `aws configure list-profiles` prints it');
    expect(() => configOf(doc)).toThrow('ddk.json: environments.prod-eu.bootstrap.profile: 42 is a number; expected the name of a profile');
  });
});
