/**
 * Hands out receive-address indexes: one atomic `$inc` per allocation, so replicas never get
 * the same index and indexes stay consecutive. One counter per wallet account.
 */
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from './mongo.js';

export type CounterPurpose = 'receive' | 'cold';

interface CounterDoc {
  _id: string;
  next: number;
}

export class AddressCounter {
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

  async peek(accountFingerprint: string, purpose: CounterPurpose = 'receive'): Promise<number> {
    return (
      (await this.counters.findOne({ _id: AddressCounter.id(accountFingerprint, purpose) }))
        ?.next ?? 0
    );
  }
}
