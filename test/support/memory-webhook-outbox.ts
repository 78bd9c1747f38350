/**
 * The webhook outbox as settlement uses it (`enqueue`), in memory: once per event id, the same
 * id and type checks, data kept as the JSON it would be sent as. It passes the same contract
 * suite as the MongoDB outbox (test/support/webhook-outbox-contract.ts).
 */
import {
  EVENT_ID_PATTERN,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from '../../src/webhooks/outbox.js';
import type { OutboxWriter } from '../../src/webhooks/ports.js';

export interface EnqueuedWebhook {
  id: string;
  type: WebhookEventType;
  paymentId?: string;
  data: unknown;
}

export class MemoryWebhookOutbox implements OutboxWriter {
  /** What was enqueued, in order (tests). */
  readonly events: EnqueuedWebhook[] = [];

  enqueue(event: EnqueuedWebhook): Promise<boolean> {
    // A throw in the executor rejects, as the MongoDB outbox's checks do.
    return new Promise((resolve) => {
      if (!EVENT_ID_PATTERN.test(event.id)) {
        throw new TypeError('webhook event id must be 1-100 printable ASCII characters, no spaces');
      }
      if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event.type)) {
        throw new TypeError(`unknown webhook event type ${event.type}`);
      }
      const json = JSON.stringify(event.data) as string | undefined;
      if (this.events.some((e) => e.id === event.id)) {
        resolve(false);
        return;
      }
      this.events.push({
        id: event.id,
        type: event.type,
        ...(event.paymentId !== undefined && { paymentId: event.paymentId }),
        data: json === undefined ? null : (JSON.parse(json) as unknown),
      });
      resolve(true);
    });
  }
}
