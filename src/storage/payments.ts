/** The `payments` collection. Uniqueness is enforced by the database, not by checks in code. */
import type { Collection, Db, Filter } from 'mongodb';
import type { Derivation, IssuedPayment, Payment } from '../payments/payment.js';
import { isDuplicateKey } from './mongo.js';

export class DuplicateIdempotencyKeyError extends Error {
  constructor() {
    super('a payment with this idempotency key exists');
    this.name = 'DuplicateIdempotencyKeyError';
  }
}

export class AddressTakenError extends Error {
  constructor(readonly address: string) {
    super(`address ${address} is already used by another payment`);
    this.name = 'AddressTakenError';
  }
}

export interface PageCursor {
  createdAt: Date;
  id: string;
}

export class PaymentRepository {
  readonly collection: Collection<Payment>;

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
    await this.collection.createIndex({ status: 1, expiresAt: 1 }, { name: 'status_expiry' }, {});
  }

  async insert(payment: Payment): Promise<void> {
    try {
      await this.collection.insertOne(payment);
    } catch (err) {
      if (isDuplicateKey(err, 'idempotencyScope')) throw new DuplicateIdempotencyKeyError();
      throw err;
    }
  }

  findById(id: string): Promise<Payment | null> {
    return this.collection.findOne({ _id: id });
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

  /** A user's issued payments, newest first, `limit` at a time after `cursor`. */
  async listByUser(userId: string, limit: number, cursor?: PageCursor): Promise<IssuedPayment[]> {
    const filter: Filter<Payment> = { userId, address: { $exists: true } };
    if (cursor) {
      filter.$or = [
        { createdAt: { $lt: cursor.createdAt } },
        { createdAt: cursor.createdAt, _id: { $lt: cursor.id } },
      ];
    }
    const docs = await this.collection
      .find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .toArray();
    return docs as IssuedPayment[];
  }
}
