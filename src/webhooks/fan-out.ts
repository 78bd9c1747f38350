/**
 * Copies each new outbox event to every enabled API endpoint whose filter takes it (one delivery
 * per endpoint), then marks the event done. Resumable: a crash between the copies and the mark
 * only makes the next run copy again, and the copies' ids are derived from (endpoint, event), so
 * nothing is copied twice. Endpoints see the events written after they were created.
 */
import type { EndpointDeliveryStore, EndpointStore, OutboxQueue } from './ports.js';

/** Crash point for the kill test: after the copies, before the event is marked. */
export const FANOUT_FAILPOINT = 'after-webhook-fanout-copies';

export interface FanOutDeps {
  outbox: Pick<OutboxQueue, 'awaitingFanout' | 'markFannedOut'>;
  endpoints: Pick<EndpointStore, 'list'>;
  deliveries: Pick<EndpointDeliveryStore, 'add'>;
}

export class WebhookFanOut {
  constructor(private readonly deps: FanOutDeps) {}

  /** Fans out up to `limit` events, oldest first; returns how many deliveries it created. */
  async run(limit = 200): Promise<number> {
    const events = await this.deps.outbox.awaitingFanout(limit);
    if (events.length === 0) return 0;
    const endpoints = (await this.deps.endpoints.list()).filter((e) => e.enabled);
    let created = 0;
    for (const event of events) {
      for (const endpoint of endpoints) {
        if (endpoint.events.length > 0 && !endpoint.events.includes(event.type)) continue;
        if (await this.deps.deliveries.add(endpoint._id, event)) created++;
      }
      if (process.env.SATWATCH_FAILPOINT === FANOUT_FAILPOINT) process.kill(process.pid, 'SIGKILL');
      await this.deps.outbox.markFannedOut(event._id);
    }
    return created;
  }
}
