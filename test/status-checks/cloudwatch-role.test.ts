import { DdkConfig } from '../../lib/config';
import { exampleDdkJson, render, synthWithNag } from '../helpers';

/*
 * ddk.json's pipeline.apiGatewayCloudWatchRole: the status-check API sets the account's API Gateway
 * CloudWatch Logs role (one per account and region) unless the file says the account has one.
 */

test('by default the API sets the account\'s API Gateway CloudWatch Logs role, kept when the stack goes', () => {
  const { template } = render(exampleDdkJson());
  template.resourceCountIs('AWS::ApiGateway::Account', 1);
  const roles = Object.values(template.findResources('AWS::IAM::Role')) as any[];
  expect(roles.some(r => r.DeletionPolicy === 'Retain'
    && JSON.stringify(r.Properties.ManagedPolicyArns ?? []).includes('AmazonAPIGatewayPushToCloudWatchLogs'))).toBe(true);
});

test('"apiGatewayCloudWatchRole": false leaves the account\'s setting alone, with zero cdk-nag and validation findings', () => {
  const doc = exampleDdkJson();
  doc.pipeline.apiGatewayCloudWatchRole = false;
  const { template } = render(doc);
  template.resourceCountIs('AWS::ApiGateway::Account', 0);
  const roles = Object.values(template.findResources('AWS::IAM::Role')) as any[];
  expect(roles.some(r => JSON.stringify(r.Properties.ManagedPolicyArns ?? []).includes('AmazonAPIGatewayPushToCloudWatchLogs'))).toBe(false);
  // cdk-nag's findings and aws-cdk-lib's validation errors make synthesis throw
  expect(synthWithNag(doc).template.toJSON().Resources).toBeDefined();
});

test('a value other than true or false is refused with the fix', () => {
  const [issue] = DdkConfig.check(JSON.stringify({ ...exampleDdkJson(), pipeline: { ...exampleDdkJson().pipeline, apiGatewayCloudWatchRole: 'no' } }), 'ddk.json');
  expect(issue).toMatchObject({ path: 'pipeline.apiGatewayCloudWatchRole', problem: 'is not true or false', expected: 'true or false', fix: 'write true or false without quotes' });
});
