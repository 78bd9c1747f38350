/**
 * Hands out receive-address indexes: one atomic `$inc` per allocation, so replicas never get
 * the same index and indexes stay consecutive. One counter per wallet account.
 */
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from './mongo.js';

import type { CounterPurpose, IndexCounter } from '../wallet/index-counter.js';

export type { CounterPurpose };

interface CounterDoc {
  _id: string;
  next: number;
}

export class AddressCounter implements IndexCounter {
  private readonly counters: Collection<CounterDoc>;

  constructor(db: Db) {
    this.counters = db.collection<CounterDoc>('counters');
  }

  /** `receive` for the merchant's payment addresses, `cold` for sweep destinations. */
  private static id(accountFingerprint: string, purpose: CounterPurpose): string {
    return `${purpose}:${accountFingerprint}`;
  }

  async allocate(accountFingerprint: string, purpose: CounterPurpose = 'receive'): Promise<number> {
    const _id = AddressCounter.id(accountFingerprint, purpose);
    for (let attempt = 0; ; attempt++) {
      try {
        const before = await this.counters.findOneAndUpdate(
          { _id },
          { $inc: { next: 1 } },
          { upsert: true, returnDocument: 'before' },
        );
        return before?.next ?? 0;
      } catch (err) {
        // Two first-ever upserts raced; the loser retries against the now existing counter.
        if (!isDuplicateKey(err) || attempt >= 3) throw err;
      }
    }
  }

  /** Whether any index was ever handed out or reserved (false on an empty database). */
  async exists(accountFingerprint: string, purpose: CounterPurpose = 'receive'): Promise<boolean> {
    const _id = AddressCounter.id(accountFingerprint, purpose);
    return (await this.counters.countDocuments({ _id }, { limit: 1 })) > 0;
  }

  /**
   * Moves the counter to at least `next`. `$max` only ever moves it forward, so replicas that
   * recover at the same time, or that allocate meanwhile, never hand out an index twice.
   */
  async advanceTo(
    accountFingerprint: string,
    next: number,
    purpose: CounterPurpose = 'receive',
  ): Promise<void> {
    const _id = AddressCounter.id(accountFingerprint, purpose);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.counters.updateOne({ _id }, { $max: { next } }, { upsert: true });
        return;
      } catch (err) {
        if (!isDuplicateKey(err) || attempt >= 3) throw err;
      }
    }
  }

  /**
   * Gives back `index` if it is still the last one handed out (compare-and-set), so an index
   * allocated while the chain could not be asked is not burned. False when another allocation
   * came in between: the index then stays unused, which is safe.
   */
  async release(
    accountFingerprint: string,
    index: number,
    purpose: CounterPurpose = 'receive',
  ): Promise<boolean> {
    const _id = AddressCounter.id(accountFingerprint, purpose);
    const res = await this.counters.updateOne({ _id, next: index + 1 }, { $set: { next: index } });
    return res.modifiedCount === 1;
  }

  async peek(accountFingerprint: string, purpose: CounterPurpose = 'receive'): Promise<number> {
    return (
      (await this.counters.findOne({ _id: AddressCounter.id(accountFingerprint, purpose) }))
        ?.next ?? 0
    );
  }
}
