/**
 * The records behind the accounting exports, read in batches from MongoDB cursors (nothing is
 * held whole in memory): payments created in a range with the sweeps that spent their coins, and
 * ledger entries in a range with the payments they credit. Oldest first, ties by id.
 */
import type { Collection, Db } from 'mongodb';
import type { LedgerEntry } from '../ledger/ledger.js';
import type { IssuedPayment, Payment } from '../payments/payment.js';
import type { Sweep } from '../forwarding/sweep.js';
import { CURSOR_BATCH, inBatches } from './batches.js';

export interface DateRange {
  /** Inclusive. */
  from?: Date | undefined;
  /** Exclusive. */
  to?: Date | undefined;
}

function createdIn(range: DateRange): { createdAt?: { $gte?: Date; $lt?: Date } } {
  if (range.from === undefined && range.to === undefined) return {};
  return {
    createdAt: {
      ...(range.from !== undefined && { $gte: range.from }),
      ...(range.to !== undefined && { $lt: range.to }),
    },
  };
}

export class AccountingSource {
  private readonly payments: Collection<Payment>;
  private readonly ledger: Collection<LedgerEntry>;
  private readonly sweeps: Collection<Sweep>;

  constructor(db: Db) {
    this.payments = db.collection<Payment>('payments');
    this.ledger = db.collection<LedgerEntry>('ledger');
    this.sweeps = db.collection<Sweep>('sweeps');
  }

  /** Issued payments created in `range`, each with every sweep that has one of its inputs. */
  async *paymentsWithSweeps(
    range: DateRange,
  ): AsyncGenerator<{ payment: IssuedPayment; sweeps: Sweep[] }> {
    const cursor = this.payments
      .find({ address: { $exists: true }, ...createdIn(range) })
      .sort({ createdAt: 1, _id: 1 })
      .batchSize(CURSOR_BATCH);
    for await (const batch of inBatches(cursor)) {
      const ids = batch.map((p) => p._id);
      const sweeps = await this.sweeps.find({ 'inputs.paymentId': { $in: ids } }).toArray();
      for (const payment of batch) {
        yield {
          payment: payment as IssuedPayment,
          sweeps: sweeps.filter((s) => s.inputs.some((i) => i.paymentId === payment._id)),
        };
      }
    }
  }

  /** Ledger entries created in `range`, each with the payment it names (if any). */
  async *ledgerEntries(
    range: DateRange,
  ): AsyncGenerator<{ entry: LedgerEntry; payment: Payment | undefined }> {
    const cursor = this.ledger
      .find(createdIn(range))
      .sort({ createdAt: 1, _id: 1 })
      .batchSize(CURSOR_BATCH);
    for await (const batch of inBatches(cursor)) {
      const ids = [...new Set(batch.flatMap((e) => (e.paymentId ? [e.paymentId] : [])))];
      const payments = new Map(
        (ids.length === 0 ? [] : await this.payments.find({ _id: { $in: ids } }).toArray()).map(
          (p) => [p._id, p],
        ),
      );
      for (const entry of batch) {
        yield {
          entry,
          payment: entry.paymentId === undefined ? undefined : payments.get(entry.paymentId),
        };
      }
    }
  }
}
