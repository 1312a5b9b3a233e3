import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { NODE_MAJOR } from './versions';

/**
 * The CodeBuild image every project runs on. Ubuntu standard:7.0 offers Node.js 18, 20 and 22
 * through `runtime-versions` (CodeBuild's "Available runtimes"); without one it runs Node.js 18.
 */
export const BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0;

/** The buildspec fragment that selects the project's Node.js (`NODE_MAJOR`) in the install phase. */
export function nodeRuntimeBuildSpec(): { phases: { install: { 'runtime-versions': { nodejs: number } } } } {
  return { phases: { install: { 'runtime-versions': { nodejs: NODE_MAJOR } } } };
}

/** Props of `BuildLogs`. */
export interface BuildLogsProps {
  /** The key that encrypts the logs (the artifact key: one key for everything the builds touch). */
  readonly key: kms.IKey;
  /** Unique among the pipelines of the account and region: the CICD stack's name. */
  readonly name: string;
  /**
   * How long build logs are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly retention?: logs.RetentionDays;
}

/**
 * The one CloudWatch Logs log group every CodeBuild project of a delivery system writes to
 * (`/ddk-pipelines/<stack>/builds`, one stream per build): KMS-encrypted with the artifact key,
 * kept a year (CodeBuild's default groups are never expired), retained when the stack is deleted.
 */
export class BuildLogs extends Construct {
  /** The log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BuildLogsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroupName = `/ddk-pipelines/${props.name}/builds`;
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName,
      encryptionKey: props.key,
      retention: props.retention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    // CloudWatch Logs encrypts with the key on the group's behalf: the key policy must allow the
    // regional logs principal, limited to this group by the encryption context (CloudWatch Logs
    // "Encrypt log data using AWS KMS"). The name is a literal, so there is no dependency cycle.
    props.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'BuildLogs',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${logGroupName}` },
      },
    }));
  }

  /** The logging settings of a CodeBuild project writing here. */
  public get loggingOptions(): codebuild.LoggingOptions {
    return { cloudWatch: { logGroup: this.logGroup } };
  }
}
