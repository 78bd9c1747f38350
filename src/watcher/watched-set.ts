/**
 * The scriptPubKey of every address the daemon ever issued, in memory, so a block is matched
 * locally at no request cost however old the payment: loaded once (streamed, two fields per
 * payment), then topped up each cycle with the payments created since the last load. The API
 * may issue addresses in another replica, so the top-up reads MongoDB, not a local event.
 */
import * as bitcoin from 'bitcoinjs-lib';
import type { Collection } from 'mongodb';
import type { Payment } from '../payments/payment.js';
import { BITCOIN_NETWORKS } from '../wallet/networks.js';

/** Payments created this long before the last load are read again: clock skew between replicas. */
export const REFRESH_OVERLAP_MS = 10 * 60_000;

type AddressDoc = Pick<Payment, '_id' | 'address' | 'network'>;

/** Lower-case hex scriptPubKey of `address` (bitcoinjs decodes base58 and bech32 alike). */
export function scriptHexOf(address: string, network: Payment['network']): string {
  return Buffer.from(bitcoin.address.toOutputScript(address, BITCOIN_NETWORKS[network])).toString(
    'hex',
  );
}

export class WatchedSet {
  private readonly byScript = new Map<string, string>();
  private lastLoad: Date | undefined;

  constructor(private readonly payments: Collection<Payment>) {}

  get size(): number {
    return this.byScript.size;
  }

  get loaded(): boolean {
    return this.lastLoad !== undefined;
  }

  /** The payment a scriptPubKey (hex) belongs to, if we issued it. */
  paymentFor(scriptHex: string): string | undefined {
    return this.byScript.get(scriptHex);
  }

  /** Adds one address (a payment issued in this process, or a test). */
  add(address: string, network: Payment['network'], paymentId: string): void {
    this.byScript.set(scriptHexOf(address, network), paymentId);
  }

  /**
   * First call: every issued payment. Later calls: those created since the previous load (less
   * the overlap). `now` is read before the query, so nothing created during it is skipped next time.
   */
  async refresh(now: Date): Promise<number> {
    const filter = this.lastLoad
      ? {
          createdAt: { $gte: new Date(this.lastLoad.getTime() - REFRESH_OVERLAP_MS) },
          address: { $exists: true },
        }
      : { address: { $exists: true } };
    const cursor = this.payments.find(filter, {
      projection: { _id: 1, address: 1, network: 1 },
      batchSize: 5000,
    });
    let added = 0;
    for await (const doc of cursor as AsyncIterable<AddressDoc>) {
      if (doc.address === undefined) continue;
      const script = scriptHexOf(doc.address, doc.network);
      if (!this.byScript.has(script)) added++;
      this.byScript.set(script, doc._id);
    }
    this.lastLoad = now;
    return added;
  }
}
