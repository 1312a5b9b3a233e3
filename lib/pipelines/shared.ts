import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as cpa from 'aws-cdk-lib/aws-codepipeline-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { ArtifactStore } from './artifact-store';
import { CODEPIPELINE_LIMITS } from './limits';
import { RepositorySeeder } from './repository-seeder';
import { DeliveryPlan, PlanApproval, PlanExecutionMode, PlanStage, SourceKind } from '../model/plan';
import { CHANGE_REVIEW_HEAD_LENGTH, CHANGE_REVIEW_VARIABLES, changeReviewHead, SAFETY_LIMITS } from '../safety/shared';

/**
 * The CodeCommit repository of a plan's CodeCommit source, else undefined. An imported one is
 * used as is. A created one is retained when the stack is deleted (it holds the team's commits)
 * or replaced, but deleted when the deployment that creates it fails (so that a new try can
 * create it again under its name)
 * and seeded: an initial commit with ddk.json and a README when it is empty, and the branches
 * the pipelines run from (`branches`, plus the source branch) when they are missing.
 */
export function codeCommitRepository(scope: Construct, plan: DeliveryPlan, branches: string[] = []): codecommit.IRepository | undefined {
  if (plan.source.kind !== SourceKind.CODECOMMIT) return undefined;
  if (!plan.source.create) return codecommit.Repository.fromRepositoryName(scope, 'Repository', plan.source.repository);
  const repository = new codecommit.Repository(scope, 'Repository', {
    repositoryName: plan.source.repository,
    description: `Source of the ${plan.name} delivery pipeline`,
  });
  repository.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
  new RepositorySeeder(scope, 'Seed', {
    repository,
    defaultBranch: plan.source.branch,
    branches: [...new Set(branches.filter(b => b !== plan.source.branch))],
    files: {
      'ddk.json': plan.config.text,
      'README.md': `# ${plan.name}\n\nThe delivery pipeline of this repository is defined by \`ddk.json\` (ddk-pipelines, strategy \`${plan.strategy}\`).\n`,
    },
  });
  return repository;
}

/**
 * Holds the first execution of `pipelines` (CodePipeline starts every new pipeline once) when
 * `codeCommitRepository` seeded the repository under `scope`: that execution would build the seed
 * alone (ddk.json and a README) and fail. Nothing is held for an imported repository or a
 * connection source, whose repository already holds the team's project.
 */
export function holdSeedExecutions(scope: Construct, pipelines: codepipeline.Pipeline[]): void {
  const seeder = scope.node.tryFindChild('Seed');
  if (seeder instanceof RepositorySeeder) seeder.holdFirstExecutions(pipelines);
}

/** The encrypted, SSL-only topic that emails the approvers of a stage, when it has any. */
export function approvalTopic(scope: Construct, stage: PlanStage, artifacts: ArtifactStore): sns.ITopic | undefined {
  const notify = stage.approval?.notify ?? [];
  if (notify.length === 0) return undefined;
  const topic = new sns.Topic(scope, `Approval-${stage.name}`, {
    // SNS display names hold at most 100 characters; stage names may have 100 themselves.
    displayName: `Approval needed: ${stage.name}`.slice(0, 100),
    masterKey: artifacts.key,
    enforceSSL: true,
  });
  for (const email of notify) topic.addSubscription(new subs.EmailSubscription(email));
  return topic;
}

/** The CodePipeline execution mode of the plan's. */
export function executionMode(mode: PlanExecutionMode): codepipeline.ExecutionMode {
  switch (mode) {
    case PlanExecutionMode.QUEUED: return codepipeline.ExecutionMode.QUEUED;
    case PlanExecutionMode.PARALLEL: return codepipeline.ExecutionMode.PARALLEL;
    default: return codepipeline.ExecutionMode.SUPERSEDED;
  }
}

/**
 * The CodePipeline manual approval of a plan stage's approval (comment, review URL, timeout, topic).
 *
 * With `changeReviewNamespace` (a stage with a change review), the approval shows the review:
 * CustomData is the comment, then the review URL if any (`Review: <url>`), then the change summary
 * (`#{<namespace>.Summary}`), one per line; the review link (ExternalEntityLink) is the full report
 * (`#{<namespace>.ReportUrl}`), so the stage's own review URL moves into the text.
 */
export function manualApprovalAction(
  approval: PlanApproval, actionName: string, runOrder: number, topic?: sns.ITopic, changeReviewNamespace?: string,
): cpa.ManualApprovalAction {
  const review = changeReviewNamespace === undefined ? undefined : changeReviewApproval(approval, changeReviewNamespace);
  return new cpa.ManualApprovalAction({
    actionName,
    runOrder,
    additionalInformation: review?.customData ?? approval.comment,
    externalEntityLink: review?.externalEntityLink ?? approval.reviewUrl,
    notificationTopic: topic,
    timeout: approval.timeoutMinutes === undefined ? undefined : Duration.minutes(approval.timeoutMinutes),
  });
}

/** The approval's CustomData and ExternalEntityLink when the stage has a change review. */
export function changeReviewApproval(approval: PlanApproval, namespace: string): { customData: string; externalEntityLink: string } {
  const head = changeReviewHead(approval.comment, approval.reviewUrl);
  // ddk.json validation refuses a longer head; this guards plans built by hand
  if (head.length > CHANGE_REVIEW_HEAD_LENGTH) {
    throw new Error(`pipeline.stages (the stage of change review ${namespace}): approval: the comment${approval.reviewUrl === undefined ? '' : ' and the review URL'} take ${head.length} characters in the approval's CustomData; with the change summary (up to ${SAFETY_LIMITS.summaryLength}) that is more than the ${CODEPIPELINE_LIMITS.configurationValueLength} CodePipeline allows per configuration value. Fix: shorten the stage's approval comment or reviewUrl to ${CHANGE_REVIEW_HEAD_LENGTH} characters together (the full report is behind the approval's link)`);
  }
  return {
    customData: `${head}\n#{${namespace}.${CHANGE_REVIEW_VARIABLES.summary}}`,
    externalEntityLink: `#{${namespace}.${CHANGE_REVIEW_VARIABLES.reportUrl}}`,
  };
}

/**
 * A bucket that receives the server access logs of `of` (SSL-only, private, S3-managed
 * encryption, versioned, kept a year). It does not log itself: that would loop (AwsSolutions-S1).
 */
export function accessLogBucket(scope: Construct, id: string, of: string): s3.Bucket {
  const logs = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    // versioned (a log deleted or overwritten stays recoverable for 30 days: CT.S3.PR.11)
    versioned: true,
    lifecycleRules: [{
      expiration: Duration.days(365),
      noncurrentVersionExpiration: Duration.days(30),
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    }],
  });
  Validations.of(logs).acknowledge({
    id: 'AwsSolutions-S1',
    reason: `This bucket is the server-access-log destination of ${of}; logging it into itself would loop.`,
  });
  return logs;
}
