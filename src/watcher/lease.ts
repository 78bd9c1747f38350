/**
 * A lease in MongoDB naming the one replica whose watcher leads. The holder renews it every
 * cycle; when it stops renewing (crash, shutdown) another replica takes over after `ttlMs`.
 * Correctness never depends on it — every write is guarded — it only saves duplicate work.
 */
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from '../storage/mongo.js';

interface LeaseDoc {
  _id: string;
  holder: string;
  expiresAt: Date;
}

export interface LeaseState {
  holder: string | null;
  expiresAt: Date | null;
  heldByMe: boolean;
}

export class Lease {
  private readonly leases: Collection<LeaseDoc>;

  constructor(
    db: Db,
    private readonly name: string,
    readonly holder: string,
    private readonly ttlMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.leases = db.collection<LeaseDoc>('leases');
  }

  /** Takes or renews the lease; false while another holder's lease is still valid. */
  async acquire(): Promise<boolean> {
    const now = this.now();
    try {
      const doc = await this.leases.findOneAndUpdate(
        { _id: this.name, $or: [{ holder: this.holder }, { expiresAt: { $lte: now } }] },
        { $set: { holder: this.holder, expiresAt: new Date(now.getTime() + this.ttlMs) } },
        { upsert: true, returnDocument: 'after' },
      );
      return doc?.holder === this.holder;
    } catch (err) {
      // The upsert tried to insert because the filter missed: someone else holds a valid lease.
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async release(): Promise<void> {
    await this.leases.updateOne(
      { _id: this.name, holder: this.holder },
      { $set: { expiresAt: new Date(0) } },
    );
  }

  async state(): Promise<LeaseState> {
    const doc = await this.leases.findOne({ _id: this.name });
    const valid = doc !== null && doc.expiresAt > this.now();
    return {
      holder: valid ? doc.holder : null,
      expiresAt: valid ? doc.expiresAt : null,
      heldByMe: valid && doc.holder === this.holder,
    };
  }
}
