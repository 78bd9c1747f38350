/**
 * The `leases` collection: one document per lease naming its holder, its expiry and a fencing
 * counter. watcher/lease.ts decides when to renew and what "held" means; these are its guarded
 * single-document writes.
 */
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from './mongo.js';

export interface LeaseDoc {
  _id: string;
  holder: string;
  expiresAt: Date;
  /** Incremented on every change of holder. */
  fence?: number;
}

export class LeaseRepository {
  private readonly leases: Collection<LeaseDoc>;

  constructor(db: Db) {
    this.leases = db.collection<LeaseDoc>('leases');
  }

  find(name: string): Promise<LeaseDoc | null> {
    return this.leases.findOne({ _id: name });
  }

  /** Extends the lease if `holder` holds it (even expired: nobody took it); null if not. */
  extend(name: string, holder: string, expiresAt: Date): Promise<LeaseDoc | null> {
    return this.leases.findOneAndUpdate(
      { _id: name, holder },
      { $set: { expiresAt } },
      { returnDocument: 'after' },
    );
  }

  /**
   * Takes the lease if it is free or expired at `now`, starting a new term (fence + 1); null
   * while another holder's lease is still valid.
   */
  async take(name: string, holder: string, expiresAt: Date, now: Date): Promise<LeaseDoc | null> {
    try {
      return await this.leases.findOneAndUpdate(
        { _id: name, holder: { $ne: holder }, expiresAt: { $lte: now } },
        { $set: { holder, expiresAt }, $inc: { fence: 1 } },
        { upsert: true, returnDocument: 'after' },
      );
    } catch (err) {
      // The upsert tried to insert because the filter missed: someone else holds a valid lease.
      if (!isDuplicateKey(err)) throw err;
      return null;
    }
  }

  /** Ends `holder`'s lease now (a no-op if another holder has it). */
  async release(name: string, holder: string): Promise<void> {
    await this.leases.updateOne({ _id: name, holder }, { $set: { expiresAt: new Date(0) } });
  }
}
