import { Duration, Stack, Stage } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/ddk-config';
import type { IApplicationFactory } from '../pipelines/application-stage';
import { EnvironmentResources } from '../pipelines/environment-resources';
import { accessLogBucket } from '../pipelines/shared';

/**
 * The application deployed by the default app: one stack with the seed's `ddk-bucket`,
 * whose props come from `environments.<id>.resources["ddk-bucket"]`.
 */
export class SampleApplication implements IApplicationFactory {
  public createApplication(stage: Stage, _environment: EnvironmentConfig): void {
    new SampleDataStack(stage, 'DataPipeline');
  }
}

/** A stack holding the `ddk-bucket` (secure defaults, overridable per environment) and its access-log bucket. */
export class SampleDataStack extends Stack {
  /** The bucket configured by `resources["ddk-bucket"]`. */
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const secure = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
    };
    // The same access-log bucket as the CICD stack's (SSL-only, private, logs kept a year).
    const logs = accessLogBucket(this, 'AccessLogs', 'ddk-bucket');
    const props = EnvironmentResources.of(this).props('ddk-bucket') ?? {};
    this.bucket = new s3.Bucket(this, 'ddk-bucket', {
      ...secure,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'ddk-bucket/',
      // incomplete uploads and, when versioned, replaced object versions do not pile up
      lifecycleRules: [{
        abortIncompleteMultipartUploadAfter: Duration.days(1),
        ...(props.versioned ? { noncurrentVersionExpiration: Duration.days(30) } : {}),
      }],
      ...props,
    });
  }
}
