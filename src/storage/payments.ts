/** The `payments` collection. Uniqueness is enforced by the database, not by checks in code. */
import type { Collection, Db, Filter } from 'mongodb';
import type { Derivation, IssuedPayment, Payment } from '../payments/payment.js';
import type { PaymentChange } from '../payments/payment-change.js';
import { outboxRefs } from '../payments/payment-events.js';
import {
  AddressTakenError,
  DuplicateIdempotencyKeyError,
  DuplicateOrderIdError,
  PaymentChangeConflictError,
  type PaymentPage,
  type PaymentSearch,
  type PaymentStore,
  decideAndApply,
} from '../payments/payment-store.js';
import { afterCursor, decodeCursor, nextCursor } from './cursor.js';
import { isDuplicateKey } from './mongo.js';

export {
  AddressTakenError,
  DuplicateIdempotencyKeyError,
  DuplicateOrderIdError,
  PaymentChangeConflictError,
};

export class PaymentRepository implements PaymentStore {
  private readonly collection: Collection<Payment>;

  constructor(db: Db) {
    this.collection = db.collection<Payment>('payments');
  }

  async ensureIndexes(): Promise<void> {
    // Sparse: the fields are absent (not null) until set, and absent fields are not indexed.
    await this.collection.createIndex(
      { address: 1 },
      { unique: true, sparse: true, name: 'address_unique' },
      {},
    );
    await this.collection.createIndex(
      { idempotencyScope: 1 },
      { unique: true, sparse: true, name: 'idempotency_unique' },
      {},
    );
    await this.collection.createIndex(
      { userId: 1, createdAt: -1, _id: -1 },
      { name: 'user_created' },
      {},
    );
    // Merchant order ids: one payment per order id in this daemon (all merchant keys share it).
    await this.collection.createIndex(
      { orderId: 1 },
      { unique: true, sparse: true, name: 'order_unique' },
      {},
    );
    // The merchant list filtered by status, newest first.
    await this.collection.createIndex(
      { status: 1, createdAt: -1, _id: -1 },
      { name: 'status_created' },
      {},
    );
    await this.collection.createIndex({ status: 1, expiresAt: 1 }, { name: 'status_expiry' }, {});
    await this.collection.createIndex({ watching: 1 }, { name: 'watching' }, {});
    await this.collection.createIndex(
      { watching: 1, expiresAt: 1 },
      { name: 'watching_expiry' },
      {},
    );
    await this.collection.createIndex({ 'credit.state': 1 }, { name: 'credit_state' }, {});
    await this.collection.createIndex({ createdAt: -1, _id: -1 }, { name: 'created' }, {});
    // The block scan: payments confirmed in a block (reorgs), and checkouts being watched.
    await this.collection.createIndex({ 'outputs.blockHash': 1 }, { name: 'output_block' }, {});
    await this.collection.createIndex(
      { lastViewedAt: -1 },
      { name: 'last_viewed', sparse: true },
      {},
    );
    // The /metrics counts of flagged payments.
    await this.collection.createIndex({ needsReview: 1 }, { name: 'needs_review' }, {});
    await this.collection.createIndex({ late: 1 }, { name: 'late' }, {});
  }

  async insert(payment: Payment): Promise<void> {
    try {
      await this.collection.insertOne(payment);
    } catch (err) {
      if (isDuplicateKey(err, 'idempotencyScope')) throw new DuplicateIdempotencyKeyError();
      if (isDuplicateKey(err, 'orderId')) throw new DuplicateOrderIdError();
      throw err;
    }
  }

  findById(id: string): Promise<Payment | null> {
    return this.collection.findOne({ _id: id });
  }

  /** The issued payments of `addresses`. */
  findByAddresses(addresses: string[]): Promise<IssuedPayment[]> {
    return this.collection.find({ address: { $in: addresses } }).toArray() as Promise<
      IssuedPayment[]
    >;
  }

  findByIdempotencyScope(scope: string): Promise<Payment | null> {
    return this.collection.findOne({ idempotencyScope: scope });
  }

  /** Sets the address once; false if the payment already had one (another request finished it). */
  async assignAddress(id: string, address: string, derivation: Derivation): Promise<boolean> {
    try {
      const result = await this.collection.updateOne(
        { _id: id, address: { $exists: false } },
        { $set: { address, derivation } },
      );
      return result.modifiedCount === 1;
    } catch (err) {
      if (isDuplicateKey(err, 'address')) throw new AddressTakenError(address);
      throw err;
    }
  }

  /** Removes a payment record that never got its address (a creation that failed midway). */
  async discardUnissued(id: string): Promise<boolean> {
    const res = await this.collection.deleteOne({ _id: id, address: { $exists: false } });
    return res.deletedCount === 1;
  }

  async listByUser(userId: string, limit: number, cursor?: string): Promise<PaymentPage> {
    const filter: Filter<Payment> = { userId, address: { $exists: true } };
    if (cursor !== undefined) Object.assign(filter, afterCursor(decodeCursor(cursor)));
    const items = (await this.collection
      .find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .toArray()) as IssuedPayment[];
    return { items, nextCursor: nextCursor(items, limit) };
  }

  /**
   * Every issued payment's address and network (or those created since `createdSince`),
   * streamed in large batches: the watcher's in-memory set of issued addresses.
   */
  issuedAddresses(createdSince?: Date): AsyncIterable<Pick<Payment, 'address' | 'network'>> {
    const filter = createdSince
      ? { createdAt: { $gte: createdSince }, address: { $exists: true } }
      : { address: { $exists: true } };
    return this.collection.find(filter, {
      projection: { _id: 0, address: 1, network: 1 },
      batchSize: 10_000,
    }) as AsyncIterable<Pick<Payment, 'address' | 'network'>>;
  }

  /** Payments the watcher still polls. */
  listWatching(): Promise<IssuedPayment[]> {
    return this.collection
      .find({ watching: true, address: { $exists: true } })
      .toArray() as Promise<IssuedPayment[]>;
  }

  /** The payments (id and address only) of these addresses: the block scan's hits confirmed. */
  async findIdsByAddresses(addresses: string[]): Promise<{ _id: string; address: string }[]> {
    if (addresses.length === 0) return [];
    const docs = await this.collection
      .find({ address: { $in: addresses } }, { projection: { _id: 1, address: 1 } })
      .toArray();
    return docs.filter((d): d is Payment & { address: string } => d.address !== undefined);
  }

  findByIds(ids: string[]): Promise<IssuedPayment[]> {
    return this.collection
      .find({ _id: { $in: ids }, address: { $exists: true } })
      .toArray() as Promise<IssuedPayment[]>;
  }

  /** Payments with an output confirmed in one of `blockHashes` (disconnected by a reorg). */
  listConfirmedIn(blockHashes: string[]): Promise<IssuedPayment[]> {
    return this.collection
      .find({ 'outputs.blockHash': { $in: blockHashes }, address: { $exists: true } })
      .toArray() as Promise<IssuedPayment[]>;
  }

  /** Payments with an output not confirmed yet: their transactions are tracked by txid. */
  listWithUnconfirmedOutputs(): Promise<IssuedPayment[]> {
    return this.collection
      .find({
        // Every payment with an unconfirmed output is still watched (the state machine closes
        // only payments whose outputs all count): the `watching` index bounds the scan.
        watching: true,
        outputs: { $elemMatch: { blockHeight: { $exists: false } } },
        address: { $exists: true },
      })
      .toArray() as Promise<IssuedPayment[]>;
  }

  /** Payments in flight: still watched and paid something, so their confirmations move per block. */
  listInFlight(): Promise<IssuedPayment[]> {
    return this.collection
      .find({ watching: true, 'outputs.0': { $exists: true }, address: { $exists: true } })
      .toArray() as Promise<IssuedPayment[]>;
  }

  /**
   * Payments still watched whose monitoring window ended before `windowOverBefore`: evaluated
   * once more so the state machine closes them, which keeps the watched-payment queries small.
   */
  listWindowOver(windowOverBefore: Date): Promise<IssuedPayment[]> {
    return this.collection
      .find({
        watching: true,
        expiresAt: { $lt: windowOverBefore },
        credit: { $exists: false },
        address: { $exists: true },
      })
      .toArray() as Promise<IssuedPayment[]>;
  }

  /** Payments past `expiredBefore` (expiry plus grace) still waiting, not credited. */
  listExpiring(expiredBefore: Date): Promise<IssuedPayment[]> {
    return this.collection
      .find({
        status: { $in: ['pending', 'confirming'] },
        expiresAt: { $lt: expiredBefore },
        credit: { $exists: false },
        address: { $exists: true },
      })
      .toArray() as Promise<IssuedPayment[]>;
  }

  /**
   * Payments someone may be waiting on: awaiting payment and viewed since `viewedSince` or created
   * since `createdSince`; most recently viewed first.
   */
  async listAwaited(viewedSince: Date, createdSince: Date): Promise<IssuedPayment[]> {
    const docs = (await this.collection
      .find({
        $or: [{ lastViewedAt: { $gte: viewedSince } }, { createdAt: { $gte: createdSince } }],
        status: { $in: ['pending', 'confirming'] },
        address: { $exists: true },
      })
      .toArray()) as IssuedPayment[];
    const key = (p: Payment) => Math.max(p.lastViewedAt?.getTime() ?? 0, p.createdAt.getTime());
    return docs.sort((a, b) => key(b) - key(a));
  }

  /** Notes a checkout view, at most once per `throttleMs` per payment. */
  async markViewed(id: string, now: Date, throttleMs: number): Promise<void> {
    await this.collection.updateOne(
      {
        _id: id,
        $or: [
          { lastViewedAt: { $exists: false } },
          { lastViewedAt: { $lt: new Date(now.getTime() - throttleMs) } },
        ],
      },
      { $set: { lastViewedAt: now } },
    );
  }

  /** Whether any payment has an address (the block scan starting on a used database). */
  async anyIssued(): Promise<boolean> {
    return (
      (await this.collection.findOne(
        { address: { $exists: true } },
        { projection: { _id: 1 } },
      )) !== null
    );
  }

  /** Watched payments created before `before`: the ones a new block scan looks up once by address. */
  listWatchingCreatedBefore(before: Date): Promise<IssuedPayment[]> {
    return this.collection
      .find({ watching: true, createdAt: { $lt: before }, address: { $exists: true } })
      .toArray() as Promise<IssuedPayment[]>;
  }

  /**
   * Writes a transition's change (see payments/payment-change.ts) if nobody wrote since
   * `payment.version` was read, with the outbox entries of its webhooks. Returns the updated
   * payment, or null when another writer (a replica, an admin, a sweep) got there first.
   */
  applyChange(payment: Payment, change: PaymentChange): Promise<Payment | null> {
    return this.collection.findOneAndUpdate(
      { _id: payment._id, version: payment.version },
      {
        $set: { ...change.next, version: payment.version + 1 },
        $push: {
          events: { $each: change.events },
          outbox: { $each: outboxRefs(payment, change.webhooks) },
        },
      },
      { returnDocument: 'after' },
    );
  }

  /** Read, decide, apply guarded on the version, again after a lost race (decideAndApply). */
  applyDecided(
    id: string,
    decide: (payment: Payment) => PaymentChange | null,
    attempts = 10,
  ): Promise<'changed' | 'unchanged' | 'missing'> {
    return decideAndApply(this, id, decide, attempts);
  }

  /** Payments with a credit recorded but not yet applied (all, or just `id`). */
  listCreditDue(id?: string): Promise<Payment[]> {
    return this.collection
      .find({ 'credit.state': 'due', ...(id !== undefined && { _id: id }) })
      .toArray();
  }

  /** Payments with webhook events still to copy into the outbox (all, or just `id`). */
  listWithOutbox(id?: string): Promise<Payment[]> {
    return this.collection
      .find({ 'outbox.0': { $exists: true }, ...(id !== undefined && { _id: id }) })
      .toArray();
  }

  async removeFromOutbox(id: string, refId: string): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $pull: { outbox: { id: refId } } });
  }

  /** Admin listing: filters, newest first, at most `limit`. */
  async search(filter: PaymentSearch, limit: number, cursor?: string): Promise<PaymentPage> {
    const query: Filter<Payment> = { address: { $exists: true } };
    if (filter.status) query.status = filter.status;
    if (filter.userId) query.userId = filter.userId;
    if (filter.orderId !== undefined) query.orderId = filter.orderId;
    if (filter.from || filter.to) {
      query.createdAt = {
        ...(filter.from && { $gte: filter.from }),
        ...(filter.to && { $lt: filter.to }),
      };
    }
    if (filter.late !== undefined) query.late = filter.late;
    if (filter.needsReview !== undefined) query.needsReview = filter.needsReview;
    if (filter.manual !== undefined) query.manual = filter.manual;
    if (filter.overpaid !== undefined) query.overpaidSats = filter.overpaid ? { $gt: 0 } : 0;
    if (cursor !== undefined) Object.assign(query, afterCursor(decodeCursor(cursor)));
    const items = (await this.collection
      .find(query)
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .toArray()) as IssuedPayment[];
    return { items, nextCursor: nextCursor(items, limit) };
  }

  /** Payments that have (or may still get) outputs to sweep. */
  listForwardable(id?: string): Promise<IssuedPayment[]> {
    return this.collection
      .find({
        'outputs.0': { $exists: true },
        sweepDone: { $ne: true },
        address: { $exists: true },
        ...(id !== undefined && { _id: id }),
      })
      .sort({ createdAt: 1 })
      .toArray() as Promise<IssuedPayment[]>;
  }

  async markSweepDone(id: string): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $set: { sweepDone: true } });
  }

  /** Their coins are not all swept after all (a sweep was abandoned): look at them again. */
  async reopenSweep(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.collection.updateMany(
      { _id: { $in: ids }, sweepDone: true },
      { $unset: { sweepDone: '' } },
    );
  }

  /**
   * What a sweep did to a payment (see payments/sweep-recording.ts). False if the payment does
   * not exist. The forwarder's name for `applyDecided`, kept until forwarding calls that.
   */
  async applySweepChange(
    id: string,
    decide: (payment: Payment) => PaymentChange | null,
  ): Promise<boolean> {
    return (await this.applyDecided(id, decide)) !== 'missing';
  }
}
