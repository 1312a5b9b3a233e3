// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with the SDK, into dist/lambda; the library entry point never loads it
import { CloudWatchClient, CompositeAlarm, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, MetricAlarm } from '@aws-sdk/client-cloudwatch';
// eslint-disable-next-line import/no-extraneous-dependencies -- as above
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AlarmEpisode, AlarmReader, AlarmReading, TargetReading } from './alarm-watch';
import { isThrottling, SAFETY_LIMITS, SafetyTarget } from './shared';

/*
 * The alarm watch's AWS side (lambda/alarm-watch): STS AssumeRole of each target's CDK lookup
 * role, CloudWatch DescribeAlarms (and DescribeAlarmHistory) in the target's region with its
 * credentials. The job answers are CodePipelineJobResults (lib/reviews/adapters.ts). SDK clients
 * take the function's region and credentials from the SDK's own settings.
 */

/** The alarm types the watch reads: without AlarmTypes, DescribeAlarms returns metric alarms only. */
export const WATCHED_ALARM_TYPES = ['MetricAlarm', 'CompositeAlarm'] as const;

/** Lifetime of the lookup role's session: STS's minimum (one invocation needs seconds). */
export const SESSION_SECONDS = 900;

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Whether an SDK error is worth another try later: throttling, a server error, or no answer (network). */
export function isTransient(e: unknown): boolean {
  const err = e as SdkError;
  if (isThrottling(err.name)) return true;
  if (err.$fault === 'server') return true;
  const status = err.$metadata?.httpStatusCode;
  if (status !== undefined) return status === 429 || status >= 500;
  return err.$fault === undefined; // no service answer: the network, a timeout
}

function describe(e: unknown): string {
  const err = e as SdkError;
  return `${err.name ?? 'Error'}: ${err.message ?? String(e)}`;
}

/** The lookup role session's credentials. */
export interface TargetCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The SDK implementation of AlarmReader. */
export class AwsAlarmReader implements AlarmReader {
  constructor(
    private readonly sts: STSClient,
    private readonly cloudWatch: (target: SafetyTarget, credentials: TargetCredentials) => CloudWatchClient
    = (target, credentials) => new CloudWatchClient({ region: target.region, credentials }),
  ) {}

  public async read(target: SafetyTarget, names: readonly string[], watchStartedAt: Date, sessionName: string): Promise<TargetReading> {
    let credentials: TargetCredentials;
    try {
      const r = await this.sts.send(new AssumeRoleCommand({
        RoleArn: target.lookupRoleArn, RoleSessionName: sessionName, DurationSeconds: SESSION_SECONDS,
      }));
      const c = r.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) return { kind: 'transient', target, message: `AssumeRole of ${target.lookupRoleArn} returned no credentials` };
      credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    } catch (e) {
      if (isTransient(e)) return { kind: 'transient', target, message: `AssumeRole of ${target.lookupRoleArn}: ${describe(e)}` };
      return { kind: 'denied', target, step: 'assume-role', message: describe(e) };
    }
    const client = this.cloudWatch(target, credentials);
    try {
      const alarms: AlarmReading[] = [];
      for (let i = 0; i < names.length; i += SAFETY_LIMITS.alarmNamesPerCall) {
        const chunk = names.slice(i, i + SAFETY_LIMITS.alarmNamesPerCall);
        let nextToken: string | undefined;
        do {
          const page = await client.send(new DescribeAlarmsCommand({
            AlarmNames: chunk, AlarmTypes: [...WATCHED_ALARM_TYPES], MaxRecords: 100, NextToken: nextToken,
          }));
          for (const a of page.MetricAlarms ?? []) alarms.push(reading(a, 'MetricAlarm'));
          for (const a of page.CompositeAlarms ?? []) alarms.push(reading(a, 'CompositeAlarm'));
          nextToken = page.NextToken;
        } while (nextToken);
      }
      const out: AlarmReading[] = [];
      for (const a of alarms) {
        // an alarm not in ALARM whose state changed since the watch started may have been in ALARM meanwhile
        const changed = a.since !== undefined && Date.parse(a.since) >= watchStartedAt.getTime();
        if (a.state !== 'ALARM' && changed) {
          const episode = await this.alarmEpisode(client, a, watchStartedAt);
          out.push(episode ? { ...a, alarmedDuringWatch: episode } : a);
        } else {
          out.push(a);
        }
      }
      return { kind: 'read', target, alarms: out };
    } catch (e) {
      if (isTransient(e)) return { kind: 'transient', target, message: `reading the alarms: ${describe(e)}` };
      return { kind: 'denied', target, step: 'read-alarms', message: describe(e) };
    }
  }

  /** The first transition to ALARM in the alarm's history since `from`. */
  private async alarmEpisode(client: CloudWatchClient, a: AlarmReading, from: Date): Promise<AlarmEpisode | undefined> {
    let nextToken: string | undefined;
    do {
      const page = await client.send(new DescribeAlarmHistoryCommand({
        AlarmName: a.name,
        AlarmTypes: [a.type],
        HistoryItemType: 'StateUpdate',
        StartDate: from,
        ScanBy: 'TimestampAscending',
        MaxRecords: 100,
        NextToken: nextToken,
      }));
      for (const item of page.AlarmHistoryItems ?? []) {
        const episode = alarmTransition(item.HistoryData, item.Timestamp);
        if (episode) return episode;
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return undefined;
  }
}

/** A StateUpdate history item's transition to ALARM (HistoryData `{"newState": {"stateValue", "stateReason"}}`), if it is one. */
export function alarmTransition(historyData: string | undefined, timestamp: Date | undefined): AlarmEpisode | undefined {
  if (!historyData) return undefined;
  try {
    const d = JSON.parse(historyData) as { newState?: { stateValue?: unknown; stateReason?: unknown } };
    if (d.newState?.stateValue !== 'ALARM') return undefined;
    return { at: timestamp?.toISOString() ?? 'an unknown time', reason: typeof d.newState.stateReason === 'string' ? d.newState.stateReason : 'no reason recorded' };
  } catch {
    return undefined;
  }
}

function reading(a: MetricAlarm | CompositeAlarm, type: AlarmReading['type']): AlarmReading {
  const since = a.StateTransitionedTimestamp ?? a.StateUpdatedTimestamp;
  return {
    name: a.AlarmName ?? '',
    type,
    state: a.StateValue ?? 'INSUFFICIENT_DATA',
    reason: a.StateReason ?? 'no reason given',
    ...(since ? { since: since.toISOString() } : {}),
  };
}
