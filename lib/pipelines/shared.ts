import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { ArtifactStore } from './artifact-store';
import { DeliveryPlan, PlanStage, SourceKind } from '../model/plan';

/** The CodeCommit repository of a plan's CodeCommit source (created or imported), else undefined. */
export function codeCommitRepository(scope: Construct, plan: DeliveryPlan): codecommit.IRepository | undefined {
  if (plan.source.kind !== SourceKind.CODECOMMIT) return undefined;
  return plan.source.create
    ? new codecommit.Repository(scope, 'Repository', {
      repositoryName: plan.source.repository,
      description: `Source of the ${plan.name} delivery pipeline`,
    })
    : codecommit.Repository.fromRepositoryName(scope, 'Repository', plan.source.repository);
}

/** The encrypted, SSL-only topic that emails the approvers of a stage, when it has any. */
export function approvalTopic(scope: Construct, stage: PlanStage, artifacts: ArtifactStore): sns.ITopic | undefined {
  const notify = stage.approval?.notify ?? [];
  if (notify.length === 0) return undefined;
  const topic = new sns.Topic(scope, `Approval-${stage.name}`, {
    displayName: `Approval needed: ${stage.name}`,
    masterKey: artifacts.key,
    enforceSSL: true,
  });
  for (const email of notify) topic.addSubscription(new subs.EmailSubscription(email));
  return topic;
}
