/**
 * The webhook outbox: one document per event in `webhook_events`, written in the same step that
 * changes a payment (the caller picks a deterministic id, so writing it twice is harmless) and
 * delivered later by the dispatcher. Holds the delivery state, the retry schedule's next due
 * time, a short delivery log, and the lock a dispatcher takes while it sends.
 */
import { randomUUID } from 'node:crypto';
import type { Collection, Db, Filter } from 'mongodb';
import { WEBHOOK_TYPES, type WebhookType } from '../payments/state-machine.js';
import { afterCursor, decodeCursor, nextCursor } from '../storage/cursor.js';
import { isDuplicateKey } from '../storage/mongo.js';

/** The event types are the payment state machine's (SPEC §7). */
export const WEBHOOK_EVENT_TYPES = WEBHOOK_TYPES;
export type WebhookEventType = WebhookType;

export const WEBHOOK_STATES = ['pending', 'delivered', 'failed'] as const;

/** How many delivery attempts the log keeps per event (the newest). */
export const DELIVERY_LOG_LIMIT = 20;

/** Event ids go into an HTTP header: printable ASCII, no spaces. */
export const EVENT_ID_PATTERN = /^[\x21-\x7e]{1,100}$/;

export interface WebhookDelivery {
  at: Date;
  attempt: number;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** What went wrong without an answer (refused, timed out, …), or why a status is final. */
  error?: string;
  durationMs: number;
  redelivery: boolean;
}

export interface WebhookEvent {
  _id: string;
  type: WebhookEventType;
  paymentId?: string;
  /** The event's payload, stored as the JSON it is sent as. */
  data: unknown;
  createdAt: Date;
  state: 'pending' | 'delivered' | 'failed';
  /** Attempts in the current delivery round (a redelivery starts a new round). */
  attempts: number;
  nextAttemptAt: Date;
  /** Set while a dispatcher is sending; others leave the event alone until then. */
  lockedUntil?: Date;
  /** The claim that holds the lock; a redelivery drops it so the in-flight result is not final. */
  lockId?: string;
  deliveredAt?: Date;
  redelivery: boolean;
  /** The newest attempts, oldest first, at most DELIVERY_LOG_LIMIT. */
  deliveries: WebhookDelivery[];
}

export interface WebhookListFilter {
  state?: WebhookEvent['state'];
  paymentId?: string;
  limit: number;
  cursor?: string;
}

/** The result of one attempt, as the dispatcher records it. */
export interface AttemptOutcome {
  delivery: WebhookDelivery;
  state: WebhookEvent['state'];
  nextAttemptAt?: Date;
}

export class WebhookOutbox {
  readonly collection: Collection<WebhookEvent>;

  constructor(
    db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.collection = db.collection<WebhookEvent>('webhook_events');
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
  async redeliver(id: string): Promise<boolean> {
    const result = await this.collection.updateOne(
      { _id: id },
      {
        $set: { state: 'pending', nextAttemptAt: this.now(), redelivery: true, attempts: 0 },
        $unset: { deliveredAt: '', lockId: '' },
      },
    );
    return result.matchedCount === 1;
  }

  /**
   * Takes the oldest due event for one attempt: pending, due, and not locked by another
   * dispatcher. Atomic, so two replicas never hold the same event at once. Counts the attempt
   * up front, so a process that dies while sending still uses one up.
   */
  async claimDue(lockMs: number): Promise<WebhookEvent | null> {
    const now = this.now();
    return this.collection.findOneAndUpdate(
      {
        state: 'pending',
        nextAttemptAt: { $lte: now },
        $or: [{ lockedUntil: { $exists: false } }, { lockedUntil: { $lt: now } }],
      },
      {
        $set: { lockedUntil: new Date(now.getTime() + lockMs), lockId: randomUUID() },
        $inc: { attempts: 1 },
      },
      { sort: { createdAt: 1, _id: 1 }, returnDocument: 'after' },
    );
  }

  /**
   * Records the attempt made under `claim`: appends to the delivery log and, if the claim still
   * holds the event, settles it (delivered, failed, or pending until `nextAttemptAt`) and
   * releases the lock. Returns false if a redelivery or an expired lock superseded the claim;
   * the attempt is then only logged.
   */
  async recordAttempt(claim: WebhookEvent, outcome: AttemptOutcome): Promise<boolean> {
    const push = {
      deliveries: { $each: [outcome.delivery], $slice: -DELIVERY_LOG_LIMIT },
    };
    const set: Partial<WebhookEvent> = { state: outcome.state };
    const unset: Record<string, ''> = { lockedUntil: '', lockId: '' };
    if (outcome.state === 'delivered') set.deliveredAt = this.now();
    if (outcome.state === 'pending' && outcome.nextAttemptAt)
      set.nextAttemptAt = outcome.nextAttemptAt;
    const settled = await this.collection.updateOne(
      { _id: claim._id, lockId: claim.lockId },
      { $set: set, $unset: unset, $push: push },
    );
    if (settled.matchedCount === 1) return true;

    await this.collection.updateOne({ _id: claim._id }, { $push: push });
    // Superseded by a redelivery: release our lock so the redelivery need not wait for it.
    if (claim.lockedUntil) {
      await this.collection.updateOne(
        { _id: claim._id, lockId: { $exists: false }, lockedUntil: claim.lockedUntil },
        { $unset: { lockedUntil: '' } },
      );
    }
    return false;
  }
}
