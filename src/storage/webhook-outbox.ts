/**
 * The webhook outbox in `webhook_events` (shapes in webhooks/outbox.ts): written in the same step
 * that changes a payment (the caller picks a deterministic id, so writing it twice is harmless),
 * delivered to the configured URL by the dispatcher, and copied to the API endpoints by the
 * fan-out.
 */
import type { Collection, Db, Filter } from 'mongodb';
import {
  EVENT_ID_PATTERN,
  WEBHOOK_EVENT_TYPES,
  type AttemptOutcome,
  type WebhookEvent,
  type WebhookEventType,
  type WebhookListFilter,
} from '../webhooks/outbox.js';
import type { OutboxQueue } from '../webhooks/ports.js';
import { afterCursor, decodeCursor, nextCursor } from './cursor.js';
import { DeliveryQueue } from './delivery-queue.js';
import { isDuplicateKey } from './mongo.js';

export class WebhookOutbox implements OutboxQueue {
  readonly collection: Collection<WebhookEvent>;
  private readonly queue: DeliveryQueue<WebhookEvent>;

  constructor(
    db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.collection = db.collection<WebhookEvent>('webhook_events');
    this.queue = new DeliveryQueue(this.collection, now);
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex(
      { state: 1, nextAttemptAt: 1 },
      { name: 'state_next_attempt' },
      {},
    );
    await this.collection.createIndex(
      { state: 1, createdAt: -1, _id: -1 },
      { name: 'state_created' },
      {},
    );
    await this.collection.createIndex(
      { paymentId: 1, createdAt: -1, _id: -1 },
      { name: 'payment_created' },
      {},
    );
    await this.collection.createIndex({ createdAt: -1, _id: -1 }, { name: 'created' }, {});
    await this.collection.createIndex(
      { fanout: 1, createdAt: 1 },
      { name: 'fanout_pending', sparse: true },
      {},
    );
  }

  /**
   * Idempotent: the caller chooses a deterministic id (e.g. `<paymentId>:<eventSeq>`); a second
   * enqueue of the same id is a no-op returning false. `data` must be JSON (it is stored as the
   * JSON it will be sent as, so a Date becomes its ISO string here, and a BigInt is refused).
   */
  async enqueue(event: {
    id: string;
    type: WebhookEventType;
    paymentId?: string;
    data: unknown;
  }): Promise<boolean> {
    if (!EVENT_ID_PATTERN.test(event.id)) {
      throw new TypeError('webhook event id must be 1-100 printable ASCII characters, no spaces');
    }
    if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event.type)) {
      throw new TypeError(`unknown webhook event type ${event.type}`);
    }
    const json = JSON.stringify(event.data) as string | undefined;
    const data: unknown = json === undefined ? null : JSON.parse(json);
    const now = this.now();
    const doc: WebhookEvent = {
      _id: event.id,
      type: event.type,
      ...(event.paymentId !== undefined && { paymentId: event.paymentId }),
      data,
      createdAt: now,
      state: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      redelivery: false,
      deliveries: [],
      fanout: 'pending',
    };
    try {
      await this.collection.insertOne(doc);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  get(id: string): Promise<WebhookEvent | null> {
    return this.collection.findOne({ _id: id });
  }

  /** Events newest first, `limit` at a time after `cursor`. */
  async list(
    filter: WebhookListFilter,
  ): Promise<{ items: WebhookEvent[]; nextCursor: string | null }> {
    const query: Filter<WebhookEvent> = {};
    if (filter.state !== undefined) query.state = filter.state;
    if (filter.paymentId !== undefined) query.paymentId = filter.paymentId;
    if (filter.cursor !== undefined) Object.assign(query, afterCursor(decodeCursor(filter.cursor)));
    const items = await this.collection
      .find(query)
      .sort({ createdAt: -1, _id: -1 })
      .limit(filter.limit)
      .toArray();
    return { items, nextCursor: nextCursor(items, filter.limit) };
  }

  /**
   * Back to pending, due now, marked redelivery, with a fresh round of attempts; false if the id
   * is unknown. An attempt in flight finishes first (the lock stays), but its result no longer
   * settles the event, so the redelivery is always sent.
   */
  redeliver(id: string): Promise<boolean> {
    return this.queue.redeliver({ _id: id });
  }

  /**
   * Takes the oldest due event for one attempt (see DeliveryQueue.claimDue): an event waits
   * while an earlier event of its payment is still pending.
   */
  claimDue(lockMs: number): Promise<WebhookEvent | null> {
    return this.queue.claimDue(lockMs);
  }

  /** Records the attempt made under `claim` (see DeliveryQueue.recordAttempt). */
  recordAttempt(claim: WebhookEvent, outcome: AttemptOutcome): Promise<boolean> {
    return this.queue.recordAttempt(claim, outcome);
  }

  /** Events not yet copied to the API endpoints, oldest first. */
  awaitingFanout(limit: number): Promise<WebhookEvent[]> {
    return this.collection
      .find({ fanout: 'pending' })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
  }

  async markFannedOut(id: string): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $unset: { fanout: '' } });
  }
}
