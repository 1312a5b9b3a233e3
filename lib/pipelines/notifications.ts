import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as notifications from 'aws-cdk-lib/aws-codestarnotifications';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { PlanNotifications } from '../model/plan';

/** CodeStar notification event ids by short name. */
export function notificationEventId(short: string): string {
  const [kind, ...rest] = short.split('-');
  const what = rest.join('-');
  switch (kind) {
    case 'execution': return `codepipeline-pipeline-pipeline-execution-${what}`;
    case 'stage': return `codepipeline-pipeline-stage-execution-${what}`;
    case 'action': return `codepipeline-pipeline-action-execution-${what}`;
    case 'approval': return `codepipeline-pipeline-manual-approval-${what}`;
    default: throw new Error(`unknown notification event "${short}"`);
  }
}

/** Props of `PipelineNotifications`. */
export interface PipelineNotificationsProps {
  /** What to notify and where, from the plan. */
  readonly notifications: PlanNotifications;
}

/**
 * The SNS topic (created and KMS-encrypted, or an existing one) that pipeline, stage and
 * approval events go to; `notify()` adds a CodeStar notification rule for one pipeline.
 */
export class PipelineNotifications extends Construct {
  /** The topic notified. */
  public readonly topic: sns.ITopic;
  private readonly events: string[];

  constructor(scope: Construct, id: string, props: PipelineNotificationsProps) {
    super(scope, id);
    const n = props.notifications;
    this.events = n.events.map(notificationEventId);
    if (n.topicArn) {
      this.topic = sns.Topic.fromTopicArn(this, 'Topic', n.topicArn);
      return;
    }
    const key = new kms.Key(this, 'Key', {
      description: 'Encrypts the pipeline notification topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CodeStar Notifications publishes to the encrypted topic: it needs the key, through SNS only.
    key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('codestar-notifications.amazonaws.com')],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'kms:ViaService': `sns.${key.stack.region}.amazonaws.com` } },
    }));
    const topic = new sns.Topic(this, 'Topic', { masterKey: key, enforceSSL: true, displayName: 'Pipeline notifications' });
    for (const email of n.emails) topic.addSubscription(new subs.EmailSubscription(email));
    this.topic = topic;
  }

  /** Sends the events of `source` (a pipeline) to the topic. */
  public notify(id: string, source: notifications.INotificationRuleSource): notifications.NotificationRule {
    return new notifications.NotificationRule(this, id, {
      source,
      events: this.events,
      targets: [this.topic],
      detailType: notifications.DetailType.FULL,
    });
  }
}
