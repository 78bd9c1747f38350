/**
 * The reads of `satwatch reconcile` (cli/reconcile.ts decides what is a mismatch): the users and
 * the ledger's users, credited payments with their credit entries, and ledger credits with the
 * payments they name. Read in batches from MongoDB cursors, safe beside a running daemon.
 */
import type { Collection, Db } from 'mongodb';
import { type LedgerEntry, creditOpId } from '../ledger/ledger.js';
import type { Payment } from '../payments/payment.js';
import { CURSOR_BATCH, inBatches } from './batches.js';

/** The payment fields the checks read; `credit.entryId` is written by markCreditDone. */
export type CreditedPayment = Pick<Payment, '_id' | 'userId' | 'credit'> & {
  credit?: Payment['credit'] & { entryId?: string };
};

const CREDITED_PROJECTION = { _id: 1, userId: 1, credit: 1 } as const;

export class ReconcileReads {
  private readonly payments: Collection<CreditedPayment>;
  private readonly entries: Collection<LedgerEntry>;
  private readonly users: Collection<{ _id: string }>;

  constructor(db: Db) {
    this.payments = db.collection<CreditedPayment>('payments');
    this.entries = db.collection<LedgerEntry>('ledger');
    this.users = db.collection<{ _id: string }>('users');
  }

  /** Every user id that has a ledger entry. */
  async ledgerUserIds(): Promise<string[]> {
    const ids: unknown[] = await this.entries.distinct('userId');
    return ids.map(String);
  }

  /** Every user id that has a balance document. */
  async balanceUserIds(): Promise<Set<string>> {
    const users = await this.users.find({}, { projection: { _id: 1 } }).toArray();
    return new Set(users.map((u) => u._id));
  }

  /** Payments whose credit is done or due, by id, in batches, each with its credit entries. */
  async *creditedPayments(): AsyncGenerator<
    { payment: CreditedPayment; entries: LedgerEntry[] }[]
  > {
    const withCredit = this.payments
      .find({ 'credit.state': { $in: ['done', 'due'] } }, { projection: CREDITED_PROJECTION })
      .sort({ _id: 1 })
      .batchSize(CURSOR_BATCH);
    for await (const batch of inBatches(withCredit)) {
      const found = await this.entries
        .find({ opId: { $in: batch.map((p) => creditOpId(p._id)) } })
        .toArray();
      const byOp = new Map<string, LedgerEntry[]>();
      for (const entry of found) byOp.set(entry.opId, [...(byOp.get(entry.opId) ?? []), entry]);
      yield batch.map((payment) => ({
        payment,
        entries: byOp.get(creditOpId(payment._id)) ?? [],
      }));
    }
  }

  /** Ledger credits naming a payment, by user and seq, in batches, each with that payment. */
  async *paymentCredits(): AsyncGenerator<
    { entry: LedgerEntry & { paymentId: string }; payment: CreditedPayment | undefined }[]
  > {
    const credits = this.entries
      .find({ type: 'credit', paymentId: { $exists: true } })
      .sort({ userId: 1, seq: 1 })
      .batchSize(CURSOR_BATCH);
    for await (const batch of inBatches(credits)) {
      const named = batch as (LedgerEntry & { paymentId: string })[];
      const ids = [...new Set(named.map((e) => e.paymentId))];
      const owners = new Map(
        (
          await this.payments
            .find({ _id: { $in: ids } }, { projection: CREDITED_PROJECTION })
            .toArray()
        ).map((p) => [p._id, p]),
      );
      yield named.map((entry) => ({ entry, payment: owners.get(entry.paymentId) }));
    }
  }
}
