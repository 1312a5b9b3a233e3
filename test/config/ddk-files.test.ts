/*
 * "Existing DDK files work unchanged", held against ddk.json files shaped like the ones the AWS DDK,
 * its examples and data.all write (fixtures/ddk/, written for these tests after those shapes): each
 * is loaded from disk as it is, and its plan and its warnings are asserted whole.
 */
import { join } from 'path';
import { thrown } from './helpers';
import { DdkConfig } from '../../lib/config';
import { DeliveryPlan } from '../../lib/model';

const FIXTURES = join(__dirname, 'fixtures', 'ddk');

function load(name: string): { file: string; config: DdkConfig; plan: DeliveryPlan } {
  const file = join(FIXTURES, name);
  const config = DdkConfig.fromFile(file);
  return { file, config, plan: DeliveryPlan.fromConfig(config, { recordedName: 'ddk-app' }) };
}

/** Stage name, its environments, whether an approval precedes it. */
const stages = (plan: DeliveryPlan) => plan.stages.map(s => [s.name, s.targets.map(t => `${t.id}@${t.account}/${t.region}`), s.approval !== undefined]);

describe('data.all\'s ddk.json (CDK Pipelines, three development environments)', () => {
  const { config, plan } = load('data-all-three-stages.json');

  test('loads without a warning and deploys dev, test and prod in file order, approvals before test and prod', () => {
    expect(config.warnings).toEqual([]);
    expect(stages(plan)).toEqual([
      ['dev', ['dev@222222222222/us-west-2'], false],
      ['test', ['test@333333333333/us-west-2'], true],
      ['prod', ['prod@444444444444/us-west-2'], true],
    ]);
    expect(plan.cicd).toMatchObject({ account: '111111111111', region: 'us-west-2' });
    expect(plan.notifications).toBeUndefined();
  });

  test('ddk-bucket gets each environment\'s props', () => {
    expect(plan.targets.map(t => t.environment.resourceProps('ddk-bucket'))).toEqual([
      { versioned: false, removalPolicy: 'destroy' },
      { versioned: true, removalPolicy: 'retain' },
      { versioned: true, removalPolicy: 'retain' },
    ]);
  });
});

describe('an AWS DDK Python project: snake_case resources, manual_approvals, notifications_topic_arn, DDK bootstrap', () => {
  const { file, config, plan } = load('ddk-python-resources.json');

  test('the pipeline is named by the application tag and notifies the cicd environment\'s existing topic', () => {
    expect(plan.name).toBe('sales-pipeline');
    expect(plan.notifications).toEqual({
      emails: [],
      topicArn: 'arn:aws:sns:eu-west-1:111111111111:sales-pipeline-events',
      events: ['execution-failed', 'execution-succeeded', 'approval-needed'],
    });
  });

  test('prod (manual_approvals: true) waits for an approval; dev deploys first without one', () => {
    expect(stages(plan)).toEqual([
      ['dev', ['dev@222222222222/eu-west-1'], false],
      ['prod', ['prod@333333333333/eu-west-1'], true],
    ]);
  });

  test('nested snake_case resources reach the constructs in camelCase; maps of names keep their keys', () => {
    const prod = config.environment('prod');

    expect(prod.resourceProps('sales-table')).toEqual({
      billingMode: 'PAY_PER_REQUEST',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 35 },
      removalPolicy: 'retain',
    });
    expect(prod.resourceProps('ingest-function')).toEqual({ memorySize: 2048, environment: { LOG_LEVEL: 'INFO' } });
    expect(prod.resourceProps('ddk-bucket')).toEqual({ versioned: true, removalPolicy: 'retain', enforceSSL: true });
    expect(prod.attribute('props')).toEqual({ retention_days: 365 });
    expect(prod.bootstrapQualifier).toBe('sales01');
  });

  test('the DDK keys that map onto nothing are warnings naming each key: cdk_version and the DDK bootstrap prefix', () => {
    expect(config.warnings.map(w => w.replace(file, 'FILE').split(': ').slice(0, 2).join(': '))).toEqual([
      'FILE: cdk_version',
      'FILE: environments.cicd.bootstrap.prefix',
      'FILE: environments.dev.bootstrap.prefix',
      'FILE: environments.prod.bootstrap.prefix',
    ]);
    expect(config.warnings[1]).toContain('which "ddk bootstrap" does not create');
  });
});

describe('an AWS DDK 1.x (TypeScript) project: CloudFormation properties by resource type and by construct id', () => {
  const { config, plan } = load('ddk-typescript-configurator.json');

  test('loads without a warning; tags merge per environment; one stage per environment', () => {
    expect(config.warnings).toEqual([]);
    expect(config.environment('prod').tags).toEqual({ 'global:owner': 'data-platform', 'CostCenter': '1002' });
    expect(stages(plan)).toEqual([
      ['dev', ['dev@222222222222/us-east-1'], false],
      ['prod', ['prod@333333333333/us-east-1'], true],
    ]);
  });

  test('the entries are CloudFormation properties (construct props stay empty)', () => {
    const prod = config.environment('prod');
    expect(prod.resources['AWS::Lambda::Function']).toEqual({ MemorySize: 1024, Timeout: 300 });
    expect(prod.resourceProps('events-table')).toEqual({});
  });
});

describe('the SDLF example\'s ddk.json: project keys of its own and DDK switches', () => {
  const { file, config, plan } = load('sdlf-lightweight.json');

  test('deploys dev, then prod behind the approval its manual_approvals asks for', () => {
    expect(stages(plan)).toEqual([
      ['dev', ['dev@222222222222/us-east-1'], false],
      ['prod', ['prod@333333333333/us-east-1'], true],
    ]);
  });

  test('the project\'s own keys stay readable; each key ddk-pipelines does not use is a warning naming it', () => {
    expect(config.environment('dev').attribute('data_pipeline_parameters')).toEqual({ org: 'example', app: 'datalake' });
    expect(config.cicd.attribute('repository')).toBe('sdlf-data-lake');
    expect(config.warnings.map(w => w.replace(file, 'FILE').split(': ').slice(0, 2).join(': '))).toEqual([
      'FILE: environments.cicd.repository',
      'FILE: environments.dev.name',
      'FILE: environments.dev.resource_prefix',
      'FILE: environments.dev.data_pipeline_parameters',
      'FILE: environments.prod.name',
      'FILE: environments.prod.resource_prefix',
      'FILE: environments.prod.data_pipeline_parameters',
      'FILE: environments.cicd.execute_security_lint',
      'FILE: environments.cicd.execute_tests',
    ]);
    expect(config.warnings[8]).toContain('pipeline.synth.commands');
  });
});

describe('a `ddk init` project (one environment, no cicd)', () => {
  test('is refused with the one thing a pipeline needs: a cicd environment', () => {
    const file = join(FIXTURES, 'ddk-init-single-environment.json');

    const error = thrown(() => DdkConfig.fromFile(file));

    expect(error.issues).toEqual([expect.objectContaining({
      path: 'environments.cicd',
      problem: 'is missing: no environment hosts the pipeline',
      fix: 'add "cicd": {"account": "111111111111", "region": "eu-west-1"} to environments',
    })]);
    expect(error.message).not.toMatch(/\n\s+at /);
  });
});
