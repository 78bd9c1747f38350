/**
 * The claim-and-settle logic shared by the webhook outbox (the configured URL's queue) and the
 * per-endpoint delivery queue: a dispatcher claims one due item at a time under a lock (atomic,
 * so two replicas never send the same item at once), sends it, and records the attempt with a
 * guarded update that only settles the item if its claim still holds.
 *
 * Order per payment: an item is not claimed while an earlier item of the same payment (and the
 * same endpoint) is still pending, so a later event waits until the earlier one is delivered or
 * given up. Items only leave `pending` (a manual redelivery is the one exception, and sends an old
 * event again on purpose), so checking for such a predecessor before claiming is safe.
 */
import { randomUUID } from 'node:crypto';
import type { Collection, Filter, UpdateFilter } from 'mongodb';
import {
  DELIVERY_LOG_LIMIT,
  type AttemptOutcome,
  type QueuedDelivery,
} from '../webhooks/outbox.js';

/** How many blocked (waiting for an earlier event) items one claim looks past. */
const MAX_SKIPPED = 200;

export class DeliveryQueue<T extends QueuedDelivery> {
  constructor(
    readonly collection: Collection<T>,
    private readonly now: () => Date,
    /** The fields that, with `paymentId`, make the ordering scope (e.g. `endpointId`). */
    private readonly scopeFields: readonly (keyof T & string)[] = [],
  ) {}

  private unlocked(now: Date): Filter<QueuedDelivery> {
    return { $or: [{ lockedUntil: { $exists: false } }, { lockedUntil: { $lt: now } }] };
  }

  /** True if an earlier item of the same payment (and scope) is still pending. */
  private async waitsForEarlier(item: T): Promise<boolean> {
    if (item.paymentId === undefined) return false;
    const scope: Record<string, unknown> = { paymentId: item.paymentId };
    for (const field of this.scopeFields) scope[field] = item[field];
    const earlier = await this.collection.findOne(
      {
        ...scope,
        state: 'pending',
        $or: [
          { createdAt: { $lt: item.createdAt } },
          { createdAt: item.createdAt, _id: { $lt: item._id } },
        ],
      } as Filter<T>,
      { projection: { _id: 1 } },
    );
    return earlier !== null;
  }

  /**
   * Takes the oldest due item (matching `filter`) for one attempt: pending, due, not locked by
   * another dispatcher, and not waiting for an earlier item of its payment. Counts the attempt up
   * front, so a process that dies while sending still uses one up.
   */
  async claimDue(lockMs: number, filter: Filter<T> = {}): Promise<T | null> {
    const now = this.now();
    const skipped: string[] = [];
    while (skipped.length <= MAX_SKIPPED) {
      const due = {
        $and: [
          filter,
          { state: 'pending', nextAttemptAt: { $lte: now } },
          this.unlocked(now),
          ...(skipped.length > 0 ? [{ _id: { $nin: skipped } }] : []),
        ],
      } as Filter<T>;
      const claimed = (await this.collection.findOneAndUpdate(
        due,
        {
          $set: { lockedUntil: new Date(now.getTime() + lockMs), lockId: randomUUID() },
          $inc: { attempts: 1 },
        } as unknown as UpdateFilter<T>,
        { sort: { createdAt: 1, _id: 1 }, returnDocument: 'after' },
      )) as T | null;
      if (!claimed) return null;
      if (!(await this.waitsForEarlier(claimed))) return claimed;
      // Its payment has an earlier event still pending: give it back untried, look further.
      await this.release(claimed);
      skipped.push(claimed._id);
    }
    return null;
  }

  /**
   * Records the attempt made under `claim`: appends to the delivery log and, if the claim still
   * holds the item, settles it (delivered, failed, or pending until `nextAttemptAt`) and
   * releases the lock. Returns false if a redelivery or an expired lock superseded the claim;
   * the attempt is then only logged.
   */
  async recordAttempt(claim: T, outcome: AttemptOutcome): Promise<boolean> {
    const push = {
      deliveries: { $each: [outcome.delivery], $slice: -DELIVERY_LOG_LIMIT },
    };
    const set: Partial<QueuedDelivery> = { state: outcome.state };
    const unset: Record<string, ''> = { lockedUntil: '', lockId: '' };
    if (outcome.state === 'delivered') set.deliveredAt = this.now();
    if (outcome.state === 'pending' && outcome.nextAttemptAt) {
      set.nextAttemptAt = outcome.nextAttemptAt;
    }
    const settled = await this.collection.updateOne(
      { _id: claim._id, lockId: claim.lockId } as Filter<T>,
      { $set: set, $unset: unset, $push: push } as unknown as UpdateFilter<T>,
    );
    if (settled.matchedCount === 1) return true;

    await this.collection.updateOne(
      { _id: claim._id } as Filter<T>,
      {
        $push: push,
      } as unknown as UpdateFilter<T>,
    );
    // Superseded by a redelivery: release our lock so the redelivery need not wait for it.
    if (claim.lockedUntil) {
      await this.collection.updateOne(
        { _id: claim._id, lockId: { $exists: false }, lockedUntil: claim.lockedUntil } as Filter<T>,
        { $unset: { lockedUntil: '' } } as unknown as UpdateFilter<T>,
      );
    }
    return false;
  }

  /** Gives a claim back untried (e.g. its endpoint was disabled meanwhile): the attempt is not used. */
  async release(claim: T): Promise<void> {
    await this.collection.updateOne(
      { _id: claim._id, lockId: claim.lockId } as Filter<T>,
      {
        $unset: { lockedUntil: '', lockId: '' },
        $inc: { attempts: -1 },
      } as unknown as UpdateFilter<T>,
    );
  }

  /**
   * Back to pending, due now, marked redelivery, with a fresh round of attempts; false if no item
   * matches. An attempt in flight finishes first (the lock stays), but its result no longer
   * settles the item, so the redelivery is always sent.
   */
  async redeliver(filter: Filter<T>): Promise<boolean> {
    const now = this.now();
    const result = await this.collection.updateOne(filter, {
      $set: { state: 'pending', nextAttemptAt: now, redelivery: true, attempts: 0 },
      $unset: { deliveredAt: '', lockId: '' },
    } as unknown as UpdateFilter<T>);
    return result.matchedCount === 1;
  }
}
