/**
 * One document per (event, API endpoint) in `webhook_deliveries`: the fan-out's copy of an event
 * for one endpoint, with that endpoint's own delivery state, retry schedule, lock and log (the
 * delivery log `GET /v1/webhooks/:id/deliveries` shows). Ids are derived from the pair, so the
 * fan-out can run again after a crash without copying anything twice.
 */
import { createHash } from 'node:crypto';
import type { Collection, Db, Filter } from 'mongodb';
import type { AttemptOutcome, WebhookEvent } from '../webhooks/outbox.js';
import type { EndpointDelivery, EndpointDeliveryStore } from '../webhooks/ports.js';
import { afterCursor, decodeCursor, nextCursor } from './cursor.js';
import { DeliveryQueue } from './delivery-queue.js';
import { isDuplicateKey } from './mongo.js';

export function deliveryId(endpointId: string, eventId: string): string {
  const hash = createHash('sha256').update(`${endpointId}\n${eventId}`).digest('base64url');
  return `wd_${hash.slice(0, 24)}`;
}

export class WebhookDeliveryStore implements EndpointDeliveryStore {
  readonly collection: Collection<EndpointDelivery>;
  private readonly queue: DeliveryQueue<EndpointDelivery>;

  constructor(
    db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.collection = db.collection<EndpointDelivery>('webhook_deliveries');
    this.queue = new DeliveryQueue(this.collection, now, ['endpointId']);
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex(
      { state: 1, nextAttemptAt: 1 },
      { name: 'state_next_attempt' },
      {},
    );
    await this.collection.createIndex(
      { endpointId: 1, createdAt: -1, _id: -1 },
      { name: 'endpoint_created' },
      {},
    );
    await this.collection.createIndex(
      { endpointId: 1, paymentId: 1, state: 1, createdAt: 1 },
      { name: 'endpoint_payment_state' },
      {},
    );
  }

  /** Copies `event` for `endpointId`, due now; false if it was already copied. */
  async add(endpointId: string, event: WebhookEvent): Promise<boolean> {
    const doc: EndpointDelivery = {
      _id: deliveryId(endpointId, event._id),
      endpointId,
      eventId: event._id,
      type: event.type,
      ...(event.paymentId !== undefined && { paymentId: event.paymentId }),
      data: event.data,
      // The event's time: it orders the endpoint's deliveries of one payment.
      createdAt: event.createdAt,
      state: 'pending',
      attempts: 0,
      nextAttemptAt: this.now(),
      redelivery: false,
      deliveries: [],
    };
    try {
      await this.collection.insertOne(doc);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  get(endpointId: string, id: string): Promise<EndpointDelivery | null> {
    return this.collection.findOne({ _id: id, endpointId });
  }

  /** An endpoint's deliveries, newest event first, `limit` at a time after `cursor`. */
  async list(
    endpointId: string,
    page: { limit: number; cursor?: string; state?: EndpointDelivery['state'] },
  ): Promise<{ items: EndpointDelivery[]; nextCursor: string | null }> {
    const query: Filter<EndpointDelivery> = { endpointId };
    if (page.state !== undefined) query.state = page.state;
    if (page.cursor !== undefined) Object.assign(query, afterCursor(decodeCursor(page.cursor)));
    const items = await this.collection
      .find(query)
      .sort({ createdAt: -1, _id: -1 })
      .limit(page.limit)
      .toArray();
    return { items, nextCursor: nextCursor(items, page.limit) };
  }

  /** The oldest due delivery of one of `endpointIds` (in order per payment per endpoint). */
  claimDue(lockMs: number, endpointIds: readonly string[]): Promise<EndpointDelivery | null> {
    if (endpointIds.length === 0) return Promise.resolve(null);
    return this.queue.claimDue(lockMs, { endpointId: { $in: [...endpointIds] } });
  }

  recordAttempt(claim: EndpointDelivery, outcome: AttemptOutcome): Promise<boolean> {
    return this.queue.recordAttempt(claim, outcome);
  }

  release(claim: EndpointDelivery): Promise<void> {
    return this.queue.release(claim);
  }

  redeliver(endpointId: string, id: string): Promise<boolean> {
    return this.queue.redeliver({ _id: id, endpointId });
  }

  async removeForEndpoint(endpointId: string): Promise<void> {
    await this.collection.deleteMany({ endpointId });
  }
}

export type { EndpointDelivery } from '../webhooks/ports.js';
