import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { exampleDoc, writeDdk } from './helpers';
import { endpointFromStack } from '../../lib/cli/checks';
import type { Io } from '../../lib/cli/io';

/*
 * Without --endpoint or DDK_PIPELINES_API, the API URL is the StatusChecksApiEndpoint output of the
 * deployed CICD stack (<pipeline name>-pipeline, in the cicd region of ddk.json).
 */
const cfn = mockClient(CloudFormationClient);
beforeEach(() => cfn.reset());

function ioIn(cwd: string): Io {
  return { out: () => {}, err: () => {}, style: undefined as any, errStyle: undefined as any, env: {}, cwd, progress: (_l, work) => work() };
}

test('the endpoint comes from the CICD stack output', async () => {
  const { dir } = writeDdk(exampleDoc());
  cfn.on(DescribeStacksCommand, { StackName: 'myapp-pipeline' }).resolves({
    Stacks: [{
      StackName: 'myapp-pipeline',
      CreationTime: new Date(),
      StackStatus: 'CREATE_COMPLETE',
      Outputs: [
        { OutputKey: 'Other', OutputValue: 'x' },
        { OutputKey: 'StatusChecksApiEndpoint', OutputValue: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/' },
      ],
    }],
  });
  const url = await endpointFromStack({}, ioIn(dir), new CloudFormationClient({ region: 'eu-west-1' }));
  expect(url.toString()).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/');
});

test('a stack without the output says why and how to fix it', async () => {
  const { dir } = writeDdk(exampleDoc());
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'myapp-pipeline', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] }] });
  await expect(endpointFromStack({ stack: 'custom' }, ioIn(dir), new CloudFormationClient({ region: 'eu-west-1' })))
    .rejects.toThrow('stack custom in eu-west-1 has no output StatusChecksApiEndpoint (the API exists only when a stage has requiredChecks or the pipeline has a review section or services). Fix: add requiredChecks to a stage, pipeline.review or pipeline.services, and deploy; or pass --endpoint <url>');
});

test('an unreadable stack names the stack, the region and the error', async () => {
  const { dir } = writeDdk(exampleDoc());
  cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id myapp-pipeline does not exist'), { name: 'ValidationError' }));
  await expect(endpointFromStack({}, ioIn(dir), new CloudFormationClient({ region: 'eu-west-1' })))
    .rejects.toThrow('cannot read the outputs of stack myapp-pipeline in eu-west-1 (ValidationError: Stack with id myapp-pipeline does not exist). Fix: check your AWS credentials and region, or pass --endpoint <url>');
});
