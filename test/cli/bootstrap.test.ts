import { exampleDoc } from './helpers';
import { bootstrapArgs, bootstrapTargets, shellQuote } from '../../lib/cli/bootstrap';
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
