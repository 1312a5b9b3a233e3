import { resourcesOf, Resolver } from '../cfn';
import { Finding, FindingSink, show } from '../findings';
import type { StackTemplate } from '../synthesize';

/*
 * EventBridge's documented contract for the rules we render:
 * - "Amazon EventBridge quotas": an event pattern holds at most 2,048 characters (the default
 *   of an adjustable quota: a larger one fails to deploy in an account that did not raise it);
 * - "Creating an Amazon EventBridge rule that runs on a schedule" / "Schedule expressions":
 *   `rate(<value> <unit>)` with a positive whole value and minute(s)/hour(s)/day(s), singular
 *   exactly when the value is 1; `cron(...)` with six fields;
 * - the events AWS services send, which a pattern can only match if it names their real
 *   detail-types, fields and values: CodeCommit ("Monitoring CodeCommit events in Amazon
 *   EventBridge": the sample events of "CodeCommit Repository State Change" and "CodeCommit Pull
 *   Request State Change"; references in full, "refs/heads/<branch>") and CodeBuild ("Build
 *   notifications input format reference"; build-status values from the API's StatusType).
 *   A pattern naming a field or a value the service never sends matches nothing, silently.
 */

/** EventBridge's default quota on an event pattern's size (characters). */
export const EVENT_PATTERN_MAX = 2048;

/** Top-level fields of every event (EventBridge "Events"). */
const ENVELOPE = ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail'];

interface DetailContract {
  /** Fields of `detail` the service sends. */
  readonly fields: string[];
  /** Values a field takes, where the documentation lists them. */
  readonly values?: Record<string, string[]>;
  /** Patterns each value of a field follows. */
  readonly formats?: Record<string, RegExp>;
}

/** The detail-types of the AWS sources we match, and what their `detail` holds. */
export const SERVICE_EVENTS: Record<string, Record<string, DetailContract>> = {
  'aws.codecommit': {
    'CodeCommit Repository State Change': {
      fields: ['callerUserArn', 'commitId', 'event', 'oldCommitId', 'referenceFullName', 'referenceName', 'referenceType', 'repositoryId', 'repositoryName',
        'baseCommitId', 'destinationCommitId', 'mergeOption', 'sourceCommitId', 'conflictDetailsLevel', 'conflictResolutionStrategy', 'displayName', 'emailAddress'],
      values: {
        event: ['referenceCreated', 'referenceUpdated', 'referenceDeleted', 'unreferencedMergeCommitCreated'],
        referenceType: ['branch', 'tag'],
      },
    },
    'CodeCommit Pull Request State Change': PULL_REQUEST_EVENT(),
    // how the documentation's pullRequestMergeStatusUpdated sample spells it
    'CodeCommit PullRequest State Change': PULL_REQUEST_EVENT(),
  },
  'aws.codebuild': {
    'CodeBuild Build State Change': {
      fields: ['build-status', 'project-name', 'build-id', 'additional-information', 'current-phase', 'current-phase-context', 'version'],
      values: { 'build-status': ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED'] },
    },
    'CodeBuild Build Phase Change': {
      fields: ['completed-phase', 'completed-phase-status', 'completed-phase-duration-seconds', 'completed-phase-context', 'project-name', 'build-id', 'additional-information', 'version'],
    },
  },
};

function PULL_REQUEST_EVENT(): DetailContract {
  return {
    fields: ['author', 'callerUserArn', 'creationDate', 'description', 'destinationCommit', 'destinationReference', 'event', 'isMerged', 'lastModifiedDate',
      'mergeOption', 'notificationBody', 'pullRequestId', 'pullRequestStatus', 'repositoryNames', 'revisionId', 'sourceCommit', 'sourceReference', 'title',
      'approvalStatus', 'overrideStatus', 'displayName', 'emailAddress'],
    values: {
      event: ['pullRequestCreated', 'pullRequestSourceBranchUpdated', 'pullRequestStatusChanged', 'pullRequestMergeStatusUpdated',
        'pullRequestApprovalRuleCreated', 'pullRequestApprovalRuleDeleted', 'pullRequestApprovalRuleOverridden', 'pullRequestApprovalStateChanged', 'pullRequestApprovalRuleUpdated'],
      pullRequestStatus: ['Open', 'Closed'],
      isMerged: ['True', 'False'],
    },
    formats: { destinationReference: /^refs\/heads\/./, sourceReference: /^refs\/heads\/./ },
  };
}

type Input = Pick<StackTemplate, 'displayName' | 'stackName' | 'account' | 'region' | 'template'>;

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;

/** Why a schedule expression is not one EventBridge accepts, if it is not. */
export function scheduleProblem(expression: string): string | undefined {
  const rate = RATE.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) return `${show(expression)}: the value must be a positive whole number`;
    const plural = rate[2].endsWith('s');
    if ((n === 1) === plural) return `${show(expression)}: the unit is singular exactly when the value is 1 (e.g. "rate(1 minute)", "rate(15 minutes)")`;
    return undefined;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return cron[1].trim().split(/\s+/).length === 6 ? undefined : `${show(expression)}: cron takes six fields (minutes hours day-of-month month day-of-week year)`;
  return `${show(expression)} is neither rate(<value> <unit>) nor cron(<six fields>)`;
}

/** Every EventBridge rule of a template against EventBridge's and the services' documented events. */
export function checkEventRules(stack: Input): Finding[] {
  const sink = new FindingSink(stack.displayName);
  const resolver = new Resolver(stack);
  for (const rule of resourcesOf(stack.template, 'AWS::Events::Rule')) {
    const at = (path: string) => `${rule.logicalId}.${path}`;
    const schedule = rule.properties.ScheduleExpression;
    if (schedule !== undefined) {
      const problem = scheduleProblem(resolver.string(schedule) ?? String(schedule));
      if (problem) sink.add('events.schedule', at('ScheduleExpression'), problem);
    }
    const raw = rule.properties.EventPattern;
    if (raw === undefined) continue;
    const pattern = resolver.resolveLoosely(raw);
    const size = JSON.stringify(pattern).length;
    if (size > EVENT_PATTERN_MAX) {
      sink.add('events.pattern-size', at('EventPattern'), `the event pattern takes at least ${size} characters; EventBridge allows ${EVENT_PATTERN_MAX} by default ("Event pattern size" quota)`);
    }
    for (const key of Object.keys(pattern)) {
      if (!ENVELOPE.includes(key)) sink.add('events.pattern-fields', at(`EventPattern.${key}`), `"${key}" is not a field of an EventBridge event (${ENVELOPE.join(', ')})`);
    }
    const sources = Array.isArray(pattern.source) ? pattern.source.filter((s: unknown) => typeof s === 'string') : [];
    for (const source of sources) {
      const known = SERVICE_EVENTS[source];
      if (!known) continue;
      const detailTypes: string[] = Array.isArray(pattern['detail-type']) ? pattern['detail-type'] : [];
      for (const dt of detailTypes) {
        if (typeof dt !== 'string') continue;
        if (!known[dt]) sink.add('events.detail-type', at('EventPattern.detail-type'), `${source} sends no ${show(dt)} events (it sends ${Object.keys(known).map(k => `"${k}"`).join(', ')})`);
      }
      const contracts = detailTypes.map(dt => known[dt]).filter((c): c is DetailContract => c !== undefined);
      const detail = pattern.detail ?? {};
      if (contracts.length === 0 || typeof detail !== 'object') continue;
      for (const [field, matcher] of Object.entries<any>(detail)) {
        if (!contracts.some(c => c.fields.includes(field))) {
          sink.add('events.detail-fields', at(`EventPattern.detail.${field}`), `${source} ${detailTypes.join(' / ')} events have no detail field "${field}": the pattern matches nothing`);
          continue;
        }
        const literals = (Array.isArray(matcher) ? matcher : []).filter((v: unknown) => typeof v === 'string') as string[];
        for (const v of literals) {
          if (v.startsWith('UNRESOLVED-')) continue;
          const allowed = contracts.map(c => c.values?.[field]).filter((x): x is string[] => x !== undefined);
          if (allowed.length > 0 && !allowed.some(a => a.includes(v))) {
            sink.add('events.detail-values', at(`EventPattern.detail.${field}`), `${show(v)} is not a value ${source} sends in detail.${field} (${[...new Set(allowed.flat())].join(', ')})`);
          }
          const format = contracts.map(c => c.formats?.[field]).find(f => f !== undefined);
          if (format && !format.test(v)) sink.add('events.detail-values', at(`EventPattern.detail.${field}`), `${show(v)} does not look like what ${source} sends in detail.${field} (${format})`);
        }
      }
    }
  }
  return sink.findings;
}
