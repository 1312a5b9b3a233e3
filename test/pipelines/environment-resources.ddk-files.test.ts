/*
 * DDK ddk.json files (test/config/fixtures/ddk/) rendered into the CICD stack and the application
 * stacks, as `cdk synth` would: what the file asks for is in the CloudFormation.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EnvironmentConfig, EnvironmentResources, IApplicationFactory } from '../../lib';
import { actionsOf, render } from '../helpers';

const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, '..', 'config', 'fixtures', 'ddk', name), 'utf-8'));

/** A DDK-style data application: a bucket, a table and a function configured from ddk.json. */
class SalesApplication implements IApplicationFactory {
  public createApplication(stage: Stage, _environment: EnvironmentConfig): void {
    const stack = new Stack(stage, 'Sales');
    const res = EnvironmentResources.of(stack);
    new s3.Bucket(stack, 'ddk-bucket', res.props('ddk-bucket'));
    new dynamodb.Table(stack, 'sales-table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, ...res.props('sales-table') });
    new lambda.Function(stack, 'ingest-function', {
      runtime: lambda.Runtime.PYTHON_3_13,
      handler: 'index.handler',
      code: lambda.Code.fromInline('def handler(event, context):\n    return event\n'),
      ...res.props('ingest-function'),
    });
  }
}

describe('the AWS DDK Python project file, rendered', () => {
  const { template, stack } = render(fixture('ddk-python-resources.json'), new SalesApplication());
  const sales = (env: string) => Template.fromStack(stack.delivery.applicationStages[env].node.findAll().find(c => Stack.isStack(c) && c.node.id === 'Sales') as Stack);
  const only = (t: Template, type: string) => {
    const all = Object.values(t.findResources(type));
    expect(all).toHaveLength(1);
    return all[0] as any;
  };

  test('the pipeline notifies the cicd environment\'s existing topic and creates none', () => {
    template.resourceCountIs('AWS::SNS::Topic', 0);
    const rule = only(template, 'AWS::CodeStarNotifications::NotificationRule');
    expect(rule.Properties.Targets).toEqual([{ TargetAddress: 'arn:aws:sns:eu-west-1:111111111111:sales-pipeline-events', TargetType: 'SNS' }]);
  });

  test('prod\'s manual_approvals puts an approval action in its stage; dev has none', () => {
    expect(actionsOf(template, 'prod').filter((a: any) => a.ActionTypeId.Category === 'Approval')).toHaveLength(1);
    expect(actionsOf(template, 'dev').filter((a: any) => a.ActionTypeId.Category === 'Approval')).toHaveLength(0);
  });

  test('the snake_case resources are in each environment\'s CloudFormation, nested keys included', () => {
    const dev = sales('dev');
    const prod = sales('prod');

    expect(only(prod, 'AWS::DynamoDB::Table')).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { BillingMode: 'PAY_PER_REQUEST', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 } },
    });
    expect(only(dev, 'AWS::DynamoDB::Table')).toMatchObject({
      DeletionPolicy: 'Delete',
      Properties: { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false } },
    });
    expect(only(prod, 'AWS::Lambda::Function').Properties).toMatchObject({ MemorySize: 2048, Environment: { Variables: { LOG_LEVEL: 'INFO' } } });
    expect(only(dev, 'AWS::Lambda::Function').Properties).toMatchObject({ MemorySize: 512, Environment: { Variables: { LOG_LEVEL: 'DEBUG' } } });
    // enforce_ssl: the bucket policy denies requests without TLS
    expect(JSON.stringify(only(prod, 'AWS::S3::BucketPolicy').Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });
});

describe('the AWS DDK 1.x (TypeScript) project file, rendered', () => {
  // GIVEN its application: a table with the id the file names, and a function (no props() calls)
  class Ddk1Application implements IApplicationFactory {
    public createApplication(stage: Stage): void {
      const stack = new Stack(stage, 'Sales');
      new dynamodb.Table(stack, 'events-table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
      new lambda.Function(stack, 'ingest', { runtime: lambda.Runtime.PYTHON_3_13, handler: 'index.handler', code: lambda.Code.fromInline('def handler(e, c):\n    return e\n') });
    }
  }
  const { stack } = render(fixture('ddk-typescript-configurator.json'), new Ddk1Application());
  const sales = (env: string) => Template.fromStack(stack.delivery.applicationStages[env].node.findAll().find(c => Stack.isStack(c) && c.node.id === 'Sales') as Stack);

  test('resource types and construct ids set their CloudFormation properties per environment', () => {
    for (const [env, memory, timeout, pitr] of [['dev', 256, 60, false], ['prod', 1024, 300, true]] as const) {
      const t = sales(env);
      t.hasResourceProperties('AWS::Lambda::Function', { MemorySize: memory, Timeout: timeout });
      t.hasResourceProperties('AWS::DynamoDB::Table', { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: pitr } });
    }
  });
});
