/**
 * Manual redeliveries per endpoint, counted in fixed windows in `webhook_redelivery_windows`
 * (one document per endpoint), so replicas share the limit. Guarded single-document updates.
 */
import type { Collection, Db } from 'mongodb';
import type { RedeliveryLimiter } from '../webhooks/ports.js';
import { isDuplicateKey } from './mongo.js';

interface RedeliveryWindow {
  _id: string;
  start: Date;
  count: number;
}

export class RedeliveryLimits implements RedeliveryLimiter {
  private readonly collection: Collection<RedeliveryWindow>;

  constructor(
    db: Db,
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.collection = db.collection<RedeliveryWindow>('webhook_redelivery_windows');
  }

  /**
   * Takes one redelivery for `endpointId`: 0 if allowed, else the seconds until the window ends.
   */
  async take(endpointId: string): Promise<number> {
    for (let round = 0; round < 3; round++) {
      const now = this.now();
      const cutoff = new Date(now.getTime() - this.windowMs);
      const inWindow = await this.collection.findOneAndUpdate(
        { _id: endpointId, start: { $gt: cutoff }, count: { $lt: this.perWindow } },
        { $inc: { count: 1 } },
      );
      if (inWindow) return 0;
      const renewed = await this.collection.updateOne(
        { _id: endpointId, start: { $lte: cutoff } },
        { $set: { start: now, count: 1 } },
      );
      if (renewed.matchedCount === 1) return 0;
      const current = await this.collection.findOne({ _id: endpointId });
      if (current) {
        if (current.start > cutoff && current.count >= this.perWindow) {
          return Math.max(
            1,
            Math.ceil((current.start.getTime() + this.windowMs - now.getTime()) / 1000),
          );
        }
        continue; // it changed under us: look again
      }
      try {
        await this.collection.insertOne({ _id: endpointId, start: now, count: 1 });
        return 0;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    return 1;
  }
}
