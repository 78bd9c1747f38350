/**
 * What the payments recorded about the receive addresses: which were used (a payment recorded an
 * output on it) and which still hold coins (outputs not yet taken by a broadcast sweep). Read
 * straight from MongoDB, safe beside a running daemon; the wallet CLI and the metrics use it.
 */
import type { Collection, Db } from 'mongodb';
import { outpointKey } from '../chain/outpoint.js';
import type { IssuedPayment, Payment } from '../payments/payment.js';
import { AddressCounter } from './address-counter.js';
import { SweepRepository } from './sweeps.js';

/** One receive address that still holds coins, as far as the payments know. */
export interface HotAddress {
  index: number;
  address: string;
  path: string;
  paymentId: string;
  /** Outputs recorded on the payment and not spent by a broadcast or confirmed sweep. */
  outputs: { txid: string; vout: number; valueSats: number }[];
  sats: number;
}

const BATCH = 500;

export class WalletUsage {
  private readonly payments: Collection<Payment>;
  private readonly sweeps: SweepRepository;
  private readonly counter: AddressCounter;

  constructor(db: Db) {
    this.payments = db.collection<Payment>('payments');
    this.sweeps = new SweepRepository(db);
    this.counter = new AddressCounter(db);
  }

  /** How many receive addresses of the account were handed out (the next index). */
  issued(accountFingerprint: string): Promise<number> {
    return this.counter.peek(accountFingerprint);
  }

  /** Indexes of the account's addresses that a payment recorded an output on. */
  async usedIndexes(accountFingerprint: string): Promise<number[]> {
    const values: unknown[] = await this.payments.distinct('derivation.index', {
      'derivation.accountFingerprint': accountFingerprint,
      'outputs.0': { $exists: true },
    });
    return values.filter((v): v is number => typeof v === 'number');
  }

  /**
   * Addresses whose recorded outputs are not all swept yet, in payment id order. Payments
   * marked sweepDone are skipped; the rest are checked against the sweeps' outpoint claims.
   */
  async *hotAddresses(accountFingerprint: string): AsyncGenerator<HotAddress> {
    const cursor = this.payments
      .find(
        {
          'derivation.accountFingerprint': accountFingerprint,
          'outputs.0': { $exists: true },
          sweepDone: { $ne: true },
          address: { $exists: true },
        },
        { projection: { _id: 1, address: 1, derivation: 1, outputs: 1 } },
      )
      .sort({ _id: 1 })
      .batchSize(BATCH);
    let batch: IssuedPayment[] = [];
    for await (const payment of cursor) {
      batch.push(payment as IssuedPayment);
      if (batch.length === BATCH) {
        yield* await this.unswept(batch);
        batch = [];
      }
    }
    if (batch.length > 0) yield* await this.unswept(batch);
  }

  /** When the account's first payment was created (undefined before the first). */
  async firstPaymentAt(accountFingerprint: string): Promise<Date | undefined> {
    const first = await this.payments
      .find({ 'derivation.accountFingerprint': accountFingerprint })
      .project<{ createdAt: Date }>({ createdAt: 1 })
      .sort({ createdAt: 1 })
      .limit(1)
      .next();
    return first?.createdAt;
  }

  /** The sum of hotAddresses() in sats. */
  async hotSats(accountFingerprint: string): Promise<number> {
    let total = 0;
    for await (const hot of this.hotAddresses(accountFingerprint)) total += hot.sats;
    return total;
  }

  private async unswept(batch: IssuedPayment[]): Promise<HotAddress[]> {
    const keys = batch.flatMap((p) => p.outputs.map(outpointKey));
    const swept = await this.sweeps.sweptOutpoints(keys);
    const hot: HotAddress[] = [];
    for (const payment of batch) {
      const outputs = payment.outputs
        .filter((o) => !swept.has(outpointKey(o)))
        .map(({ txid, vout, valueSats }) => ({ txid, vout, valueSats }));
      if (outputs.length === 0) continue;
      hot.push({
        index: payment.derivation.index,
        address: payment.address,
        path: payment.derivation.path,
        paymentId: payment._id,
        outputs,
        sats: outputs.reduce((sum, o) => sum + o.valueSats, 0),
      });
    }
    return hot;
  }
}
