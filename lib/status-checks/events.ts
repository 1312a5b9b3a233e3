// eslint-disable-next-line import/no-extraneous-dependencies -- handler-only module: esbuild bundles it, with the SDK, into dist/lambda; the library entry point never loads it
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE } from './shared';

/** Publishes status-check events. */
export interface EventPublisher {
  /** Publishes one event with `source` `ddk-pipelines.status-checks`; throws when it was not accepted. */
  publish(detailType: string, detail: object): Promise<void>;
}

/** Publishes to an EventBridge bus (the endpoint comes from the SDK's settings). */
export class EventBridgePublisher implements EventPublisher {
  constructor(private readonly client: EventBridgeClient, private readonly busName: string) {}

  public async publish(detailType: string, detail: object): Promise<void> {
    const out = await this.client.send(new PutEventsCommand({
      Entries: [{ Source: EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: this.busName }],
    }));
    const failed = out.Entries?.find(e => e.ErrorCode);
    if ((out.FailedEntryCount ?? 0) > 0 || failed) {
      throw new Error(`EventBridge did not accept the "${detailType}" event on bus "${this.busName}" (${failed?.ErrorCode ?? 'unknown error'}: ${failed?.ErrorMessage ?? 'no message'})`);
    }
  }
}
