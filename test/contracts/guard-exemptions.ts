import type { StackTemplate } from './synthesize';

/** Why an AWS Control Tower guard rule does not apply, and to which resources. */
export interface GuardExemption {
  /** The reason, as for a cdk-nag acknowledgement: why the control does not apply here. */
  readonly reason: string;
  /**
   * Limits the exemption to some resources; every other violation of the rule is a finding.
   *
   * @default - the rule does not apply to any resource (it is not run)
   */
  readonly only?: {
    /** Which resources, in words. */
    readonly description: string;
    /** Whether the exemption covers this resource. */
    matches(logicalId: string, resource: any, stack: StackTemplate): boolean;
  };
}

/** Whether a bucket of the template is the server-access-log destination of another bucket in it. */
function isAccessLogDestination(logicalId: string, _resource: any, stack: StackTemplate): boolean {
  return Object.values<any>(stack.template.Resources ?? {}).some(r => r.Type === 'AWS::S3::Bucket'
    && r.Properties?.LoggingConfiguration?.DestinationBucketName?.Ref === logicalId);
}

/** Whether a Lambda permission for a service principal is scoped by SourceArn or SourceAccount. */
function isScopedServicePermission(_logicalId: string, resource: any): boolean {
  const p = resource.Properties ?? {};
  return typeof p.Principal === 'string' && p.Principal.endsWith('.amazonaws.com') && (p.SourceArn !== undefined || p.SourceAccount !== undefined);
}

/**
 * The AWS Control Tower proactive controls that do not apply to what ddk-pipelines renders,
 * each with its reason: the one place where a guard rule is set aside (like the cdk-nag
 * acknowledgements in lib/pipelines/acknowledgements.ts). Keys are rule file ids
 * (`ct-s3-pr-2` is CT.S3.PR.2). A rule that is not listed here applies to every resource.
 */
/** Whether a log group belongs to the repository seeder (its handler's or its provider's). */
function isSeederLogGroup(logicalId: string): boolean {
  return /Seed(Handler|Provider)Logs/.test(logicalId);
}

/** Whether a bucket is the sample application's `ddk-bucket` (whose settings come from ddk.json). */
function isSampleBucket(logicalId: string): boolean {
  return logicalId.startsWith('ddkbucket');
}

export const GUARD_EXEMPTIONS: Record<string, GuardExemption> = {
  'ct-kms-pr-3': {
    reason: 'The keys\' policies give the owning (CICD) account\'s IAM the key (the default key policy) and the target accounts\' bootstrap roles Decrypt/DescribeKey only; grants are created by AWS services on the pipeline\'s behalf (DynamoDB, Lambda, CloudWatch Logs). A Deny on grants not for AWS resources is defense in depth whose effect on those services only a real account can show; it is left for a deployed test (README "Verify on your own account").',
  },
  'ct-cloudwatch-pr-3': {
    reason: 'The repository seeder\'s log groups hold only repository and branch names, commit ids and the pipelines\' execution ids it stopped, no data or secret; they are encrypted at rest by CloudWatch Logs\' own keys. The build logs and the status-check API\'s logs, which can hold project output, use customer-managed KMS keys.',
    only: { description: 'the repository seeder\'s handler and provider log groups', matches: isSeederLogGroup },
  },
  'ct-s3-pr-11': {
    reason: 'The sample application\'s bucket takes "versioned" from ddk.json, as the seed\'s data.all file sets it (false in dev, true in prod): it stands for the team\'s own application, whose settings are theirs.',
    only: { description: 'the sample application\'s ddk-bucket', matches: isSampleBucket },
  },
  'ct-s3-pr-9': {
    reason: 'S3 Object Lock keeps objects immutable for a retention period. The buckets hold pipeline artifacts and access logs that CodePipeline rewrites per execution and lifecycle rules expire, and the sample bucket stands for data the application manages; none of them holds records that must be kept unchanged.',
  },
  'ct-s3-pr-4': {
    reason: 'No component consumes S3 event notifications: CodePipeline reads artifacts by key, the access-log buckets are read by people on demand, and change detection uses CodeCommit/CodeConnections events, not S3 events.',
  },
  'ct-lambda-pr-3': {
    reason: 'The functions (status-check API and gate, repository seeder) call only public AWS service APIs (DynamoDB, EventBridge, CodePipeline, CodeCommit) and reach no private network resource; placing them in a VPC would add NAT or interface endpoints for each of those services without narrowing what they can reach.',
  },
  'ct-s3-pr-2': {
    reason: 'A bucket that receives other buckets\' server access logs does not log its own access into itself (that would loop), as the cdk-nag acknowledgement AwsSolutions-S1 says.',
    only: { description: 'server-access-log destination buckets', matches: isAccessLogDestination },
  },
  'ct-s3-pr-10': {
    reason: 'S3 delivers server access logs only to destination buckets encrypted with SSE-S3 (AES256), not SSE-KMS ("Enabling Amazon S3 server access logging": default encryption of the target bucket). The sample application\'s bucket is SSE-S3 like the seed\'s example: it stands for the team\'s own application, which chooses its encryption in its own stacks.',
    only: {
      description: 'server-access-log destination buckets and the sample application\'s ddk-bucket',
      matches: (id, r, stack) => isAccessLogDestination(id, r, stack) || isSampleBucket(id),
    },
  },
  'ct-lambda-pr-2': {
    reason: 'API Gateway\'s permissions to invoke the status-check function set SourceArn (the API\'s execute-api ARN, an Fn::Join of the API and stage ids, which the guard rule cannot read as a string or a local reference); the permission is scoped as the control requires.',
    only: { description: 'permissions for a service principal that set SourceArn or SourceAccount', matches: isScopedServicePermission },
  },
};
