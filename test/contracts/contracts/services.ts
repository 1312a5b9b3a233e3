import { asArray, resourcesOf, Resolver } from '../cfn';
import { Finding, FindingSink, show } from '../findings';
import type { StackTemplate } from '../synthesize';

/*
 * Smaller documented contracts of the other services the pipelines render:
 * - Lambda ("Lambda runtimes"): Node.js runtimes before nodejs22.x are deprecated (20.x since
 *   April 2026); ("Lambda quotas") environment variables ≤ 4 KB in total.
 * - CloudWatch Logs (PutRetentionPolicy): RetentionInDays is one of the listed values.
 * - SNS (AWS::SNS::Topic): DisplayName ≤ 100 characters.
 * - AWS CodeStar Notifications ("Notification concepts", events for pipelines): event type ids are
 *   the documented pipeline events; rule names ≤ 64 characters.
 * - S3 (lifecycle configuration): expiration days are whole numbers ≥ 1; a noncurrent-version
 *   rule means nothing on a bucket that is not versioned.
 */

/** The oldest Lambda Node.js runtime that is not deprecated. */
export const LAMBDA_NODE_MIN = 22;
/** Lambda's limit on a function's environment variables, together. */
export const LAMBDA_ENVIRONMENT_BYTES = 4096;
/** The values PutRetentionPolicy accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
/** The event type ids of pipeline notification rules. */
export const PIPELINE_EVENT_IDS = [
  ...['succeeded', 'failed', 'canceled', 'started'].map(s => `codepipeline-pipeline-action-execution-${s}`),
  ...['started', 'succeeded', 'resumed', 'canceled', 'failed'].map(s => `codepipeline-pipeline-stage-execution-${s}`),
  ...['failed', 'canceled', 'started', 'resumed', 'succeeded', 'superseded'].map(s => `codepipeline-pipeline-pipeline-execution-${s}`),
  ...['failed', 'needed', 'succeeded'].map(s => `codepipeline-pipeline-manual-approval-${s}`),
];

type Input = Pick<StackTemplate, 'displayName' | 'stackName' | 'account' | 'region' | 'template'>;

/** Lambda runtimes and environment sizes. */
export function checkLambda(stack: Input): Finding[] {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  for (const f of resourcesOf(stack.template, 'AWS::Lambda::Function')) {
    const runtime = f.properties.Runtime;
    if (runtime !== undefined) {
      const m = /^nodejs(\d+)\.x$/.exec(String(runtime));
      if (!m) sink.add('lambda.runtime', `${f.logicalId}.Runtime`, `${show(runtime)} is not a Node.js runtime this contract knows`);
      else if (Number(m[1]) < LAMBDA_NODE_MIN) sink.add('lambda.runtime', `${f.logicalId}.Runtime`, `${runtime} is deprecated; use nodejs${LAMBDA_NODE_MIN}.x or newer`);
    }
    const vars = f.properties.Environment?.Variables;
    if (vars) {
      const resolved = resolver.resolveLoosely(vars);
      const bytes = Object.entries<any>(resolved).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v)), 0);
      if (bytes > LAMBDA_ENVIRONMENT_BYTES) sink.add('lambda.environment-size', `${f.logicalId}.Environment`, `environment variables take ${bytes} bytes; Lambda allows ${LAMBDA_ENVIRONMENT_BYTES}`);
    }
  }
  return sink.findings;
}

/** Log retention values, SNS display names, notification rules and S3 lifecycle rules. */
export function checkServiceProperties(stack: Input): Finding[] {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  for (const g of resourcesOf(stack.template, 'AWS::Logs::LogGroup')) {
    const days = g.properties.RetentionInDays;
    if (days !== undefined && !LOG_RETENTION_DAYS.includes(days)) sink.add('logs.retention', `${g.logicalId}.RetentionInDays`, `${show(days)} is not a retention CloudWatch Logs accepts (${LOG_RETENTION_DAYS.join(', ')})`);
  }
  for (const t of resourcesOf(stack.template, 'AWS::SNS::Topic')) {
    const name = resolver.string(t.properties.DisplayName);
    if (name !== undefined && name.length > 100) sink.add('sns.display-name', `${t.logicalId}.DisplayName`, `display name of ${name.length} characters; SNS allows 100 (${show(name, 60)})`);
  }
  for (const r of resourcesOf(stack.template, 'AWS::CodeStarNotifications::NotificationRule')) {
    for (const id of asArray<any>(r.properties.EventTypeIds)) {
      if (String(id).startsWith('codepipeline-') && !PIPELINE_EVENT_IDS.includes(id)) sink.add('notifications.event-type', `${r.logicalId}.EventTypeIds`, `${show(id)} is not a pipeline notification event`);
    }
    const name = resolver.string(r.properties.Name);
    if (name !== undefined && (name.length < 1 || name.length > 64)) sink.add('notifications.rule-name', `${r.logicalId}.Name`, `rule name of ${name.length} characters; 1 to 64 allowed`);
  }
  for (const b of resourcesOf(stack.template, 'AWS::S3::Bucket')) {
    const versioned = b.properties.VersioningConfiguration?.Status === 'Enabled';
    asArray<any>(b.properties.LifecycleConfiguration?.Rules).forEach((rule, i) => {
      const where = `${b.logicalId}.LifecycleConfiguration.Rules[${i}]`;
      for (const days of [rule.ExpirationInDays, rule.NoncurrentVersionExpiration?.NoncurrentDays, rule.NoncurrentVersionExpirationInDays]) {
        if (days !== undefined && (!Number.isInteger(days) || days < 1)) sink.add('s3.lifecycle', where, `expiration of ${show(days)} days; a whole number of at least 1`);
      }
      if ((rule.NoncurrentVersionExpiration || rule.NoncurrentVersionExpirationInDays) && !versioned) {
        sink.add('s3.lifecycle', where, 'expires noncurrent versions of a bucket that is not versioned');
      }
    });
  }
  return sink.findings;
}
