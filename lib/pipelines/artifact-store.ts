import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { accessLogBucket } from './shared';

/** Props of an `ArtifactStore`. */
export interface ArtifactStoreProps {
  /**
   * Days after which artifacts expire (CodePipeline writes every execution's artifacts under new keys).
   *
   * @default 90
   */
  readonly artifactRetentionDays?: number;
}

/**
 * Lifecycle rules of a pipeline artifact bucket: current artifacts expire after `days`, replaced
 * (noncurrent) versions after 30 days or sooner, incomplete multipart uploads after a day.
 */
export function artifactLifecycleRules(days: number): s3.LifecycleRule[] {
  return [{
    expiration: Duration.days(days),
    noncurrentVersionExpiration: Duration.days(Math.min(30, days)),
    abortIncompleteMultipartUploadAfter: Duration.days(1),
  }];
}

/**
 * The pipeline's artifact bucket and its KMS key (rotation on), with an access-log bucket.
 *
 * SSL-only, versioned, public access blocked. aws-cdk-lib's per-role cross-account grants
 * on it are compacted by `CompactCrossAccountGrants` (see Security in the README).
 */
export class ArtifactStore extends Construct {
  /** The artifact bucket. */
  public readonly bucket: s3.Bucket;
  /** The KMS key that encrypts the artifacts. */
  public readonly key: kms.Key;
  /** The bucket receiving the artifact bucket's server access logs. */
  public readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Encrypts the pipeline artifacts shared with the target accounts',
      enableKeyRotation: true,
      // Kept with what it encrypts (the retained artifact bucket and build logs): deleting it
      // with the stack would leave them unreadable.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      pendingWindow: Duration.days(7),
    });
    this.accessLogs = accessLogBucket(this, 'AccessLogs', 'the artifact bucket');
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      lifecycleRules: artifactLifecycleRules(props.artifactRetentionDays ?? 90),
    });
  }
}
