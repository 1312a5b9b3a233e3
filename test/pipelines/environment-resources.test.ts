import { App, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DdkConfig } from '../../lib/config';
import { EnvironmentResources } from '../../lib/pipelines/environment-resources';

/** A stage for the `dev` environment of a file whose dev resources are `resources`. */
function devStage(resources: object): { stage: Stage; stack: Stack; res: EnvironmentResources } {
  const config = DdkConfig.fromObject({
    environments: {
      cicd: { account: '111111111111', region: 'eu-west-1' },
      dev: { account: '222222222222', region: 'eu-west-1', resources },
    },
  }, 'ddk.json');
  const app = new App();
  const stage = new Stage(app, 'dev', { env: { account: '222222222222', region: 'eu-west-1' } });
  const res = EnvironmentResources.attach(stage, config.environment('dev'));
  return { stage, stack: new Stack(stage, 'Data'), res };
}

const KEY = { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } };

describe('props(): nested snake_case keys reach the construct', () => {
  test('a DDK point_in_time_recovery_specification turns point-in-time recovery on', () => {
    // GIVEN the DDK entry that used to synthesize a table with PITR off and no warning
    const { stack, res } = devStage({
      'events-table': { point_in_time_recovery_specification: { point_in_time_recovery_enabled: true, recovery_period_in_days: 7 }, removal_policy: 'retain' },
    });

    // WHEN a table takes its props
    new dynamodb.Table(stack, 'events-table', { ...KEY, ...res.props('events-table') });

    // THEN the CloudFormation table has PITR on with the 7-day period (1..35 per AWS::DynamoDB::Table), and is retained
    const template = Template.fromStack(stack);
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 } }),
      DeletionPolicy: 'Retain',
    });
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('enforce_ssl reaches the bucket as enforceSSL (an acronym plain camelCase would miss)', () => {
    const { stack, res } = devStage({ 'ddk-bucket': { enforce_ssl: true, versioned: true } });

    new s3.Bucket(stack, 'ddk-bucket', res.props('ddk-bucket'));

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' } });
  });
});

describe('propsSnakeCase() and removalPolicy(): for Python', () => {
  test('snake_case keys at every depth, without removal_policy, which removalPolicy() gives as the enum', () => {
    const { res } = devStage({
      'events-table': { pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true }, removal_policy: 'destroy', tags: { CostCenter: '42' } },
    });

    expect(res.propsSnakeCase('events-table')).toEqual({
      point_in_time_recovery_specification: { point_in_time_recovery_enabled: true },
      tags: { CostCenter: '42' },
    });
    expect(res.removalPolicy('events-table')).toBe(RemovalPolicy.DESTROY);
    expect(res.removalPolicy('other')).toBeUndefined();
    expect(res.propsSnakeCase('other')).toEqual({});
  });

  test('a removal policy read by no construct is a synth warning naming the entry and the fix', () => {
    // GIVEN a Python-style use that forgets removal_policy
    const { stack, res } = devStage({ 'ddk-bucket': { versioned: true, removal_policy: 'retain' } });
    new s3.Bucket(stack, 'ddk-bucket', { versioned: res.propsSnakeCase('ddk-bucket').versioned });

    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp(
      'dev: environments\\.dev\\.resources\\["ddk-bucket"\\]\\.removal_policy was read by no construct .*removal_policy=EnvironmentResources\\.of\\(self\\)\\.removal_policy\\("ddk-bucket"\\)'));
  });

  test('no such warning when removalPolicy() was read', () => {
    const { stack, res } = devStage({ 'ddk-bucket': { versioned: true, removal_policy: 'retain' } });
    new s3.Bucket(stack, 'ddk-bucket', { versioned: true, removalPolicy: res.removalPolicy('ddk-bucket') });
    res.propsSnakeCase('ddk-bucket');

    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });
});

describe('CloudFormation properties', () => {
  test('PascalCase keys under a construct id are set on that construct\'s resource (AWS DDK 1.x)', () => {
    // GIVEN an AWS DDK 1.x entry: CloudFormation properties under the construct's id, no props() call
    const { stack } = devStage({ 'events-table': { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } } });

    new dynamodb.Table(stack, 'events-table', KEY);
    new dynamodb.Table(stack, 'other-table', KEY);

    const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::Table');
    const pitr = Object.entries(tables).map(([id, t]) => [id.replace(/[0-9A-F]{8}$/, ''), t.Properties.PointInTimeRecoverySpecification]);
    expect(pitr).toEqual([['eventstable', { PointInTimeRecoveryEnabled: true }], ['othertable', undefined]]);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('PascalCase keys that reach no resource are a synth warning', () => {
    // GIVEN the id read through props() by a construct that is not a CloudFormation resource's parent
    const { stack, res } = devStage({ tables: { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } } });
    res.props('tables');
    new s3.Bucket(stack, 'bucket');

    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp(
      'environments\\.dev\\.resources\\["tables"\\]: the CloudFormation properties "PointInTimeRecoverySpecification" were set on no resource'));
  });

  test('a resource type entry applies its PascalCase keys and skips the others', () => {
    const { stack } = devStage({ 'AWS::DynamoDB::Table': { BillingMode: 'PAY_PER_REQUEST', billing_mode: 'PROVISIONED' } });

    new dynamodb.Table(stack, 'events-table', KEY);

    const [table] = Object.values(Template.fromStack(stack).findResources('AWS::DynamoDB::Table'));
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.Properties.billing_mode).toBeUndefined();
  });
});
