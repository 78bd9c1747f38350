/**
 * The business counts behind /metrics (payments, credited sums, webhook events, sweeps), counted
 * in MongoDB at scrape time so every replica reports the same truth whichever one is asked.
 * observability/metrics.ts turns them into gauges.
 */
import type { Collection, Db, Document } from 'mongodb';
import type { Payment } from '../payments/payment.js';
import type { Sweep } from '../forwarding/sweep.js';

/** One `$group` row: the grouped value, how many, and the sums some counts take. */
export interface GroupRow {
  _id: unknown;
  n: number;
  sats?: number;
  credits?: number;
  fees?: number;
}

export interface BusinessCounts {
  /** Issued payments by status. */
  paymentsByStatus: GroupRow[];
  needsReview: number;
  late: number;
  /** One row (or none): credited payments, with the sums of their basis sats and credits. */
  credited: GroupRow[];
  webhookEventsByState: GroupRow[];
  /** Sweeps by state, with the sum of their fees. */
  sweepsByState: GroupRow[];
}

export class MetricCounts {
  private readonly payments: Collection<Payment>;
  private readonly webhookEvents: Collection;
  private readonly sweeps: Collection<Sweep>;

  constructor(db: Db) {
    this.payments = db.collection<Payment>('payments');
    this.webhookEvents = db.collection('webhook_events');
    this.sweeps = db.collection<Sweep>('sweeps');
  }

  /** Every count, read together (one round of aggregations). */
  async count(): Promise<BusinessCounts> {
    const [paymentsByStatus, needsReview, late, credited, webhookEventsByState, sweepsByState] =
      await Promise.all([
        this.group(this.payments, [
          { $match: { address: { $exists: true } } },
          { $group: { _id: '$status', n: { $sum: 1 } } },
        ]),
        this.payments.countDocuments({ needsReview: true }),
        this.payments.countDocuments({ late: true }),
        this.group(this.payments, [
          { $match: { 'credit.state': 'done' } },
          {
            $group: {
              _id: null,
              n: { $sum: 1 },
              sats: { $sum: '$credit.basisSats' },
              credits: { $sum: '$credit.credits' },
            },
          },
        ]),
        this.group(this.webhookEvents, [{ $group: { _id: '$state', n: { $sum: 1 } } }]),
        this.group(this.sweeps, [
          { $group: { _id: '$state', n: { $sum: 1 }, fees: { $sum: '$feeSats' } } },
        ]),
      ]);
    return { paymentsByStatus, needsReview, late, credited, webhookEventsByState, sweepsByState };
  }

  private group<T extends Document>(
    collection: Collection<T>,
    pipeline: Document[],
  ): Promise<GroupRow[]> {
    return collection.aggregate<GroupRow>(pipeline).toArray();
  }
}
