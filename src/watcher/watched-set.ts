/**
 * Every address the daemon ever issued, in memory, so a block is matched locally at no request
 * cost however old the payment: loaded once (streamed, one field per payment), then topped up
 * each cycle with the payments created since the last load. The API may issue addresses in
 * another replica, so the top-up reads MongoDB, not a local event.
 *
 * Compact on purpose (a million addresses in tens of MB): each scriptPubKey is kept as 48 bits
 * of its SHA-256, not as a string with its payment id. A hit is therefore a candidate only; the
 * scan confirms it with one indexed look-up by address, which also gives the payment. A false
 * hit (about one in 2⁴⁸ ÷ N outputs) costs that one look-up and nothing else.
 */
import { createHash } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';
import type { Payment } from '../payments/payment.js';
import { BITCOIN_NETWORKS, type NetworkName } from '../wallet/networks.js';

/** Payments created this long before the last load are read again: clock skew between replicas. */
export const REFRESH_OVERLAP_MS = 10 * 60_000;

type AddressDoc = Pick<Payment, 'address' | 'network'>;

/** Where the issued addresses are read (storage/payments.ts). */
export interface IssuedAddresses {
  /** Every issued payment's address and network, or those created since `createdSince`. */
  issuedAddresses(createdSince?: Date): AsyncIterable<AddressDoc>;
}

/** 48 bits of SHA-256 of a scriptPubKey, as a number (exact in a double). */
export function scriptKey(script: Uint8Array): number {
  return createHash('sha256').update(script).digest().readUIntBE(0, 6);
}

/**
 * The scriptPubKey of `address`. Segwit addresses are decoded directly: bitcoinjs tries base58
 * first and throws, which costs more than the decoding when a million addresses are loaded.
 */
export function scriptOf(address: string, network: NetworkName): Uint8Array {
  const params = BITCOIN_NETWORKS[network];
  if (address.toLowerCase().startsWith(`${params.bech32}1`)) {
    const { version, prefix, data } = bitcoin.address.fromBech32(address);
    if (prefix === params.bech32 && version <= 16) {
      return Buffer.concat([Buffer.from([version === 0 ? 0 : 0x50 + version, data.length]), data]);
    }
  }
  return bitcoin.address.toOutputScript(address, params);
}

export class WatchedSet {
  private readonly keys = new Set<number>();
  private lastLoad: Date | undefined;

  constructor(private readonly payments: IssuedAddresses) {}

  get size(): number {
    return this.keys.size;
  }

  /** Whether the scriptPubKey (lower-case hex) may be one we issued: confirm by address. */
  mayContain(scriptHex: string): boolean {
    return this.keys.has(scriptKey(Buffer.from(scriptHex, 'hex')));
  }

  /** Adds one address (a test, the benchmark). */
  add(address: string, network: NetworkName): void {
    this.keys.add(scriptKey(scriptOf(address, network)));
  }

  /**
   * First call: every issued payment. Later calls: those created since the previous load (less
   * the overlap). `now` is read before the query, so nothing created during it is skipped next time.
   */
  async refresh(now: Date): Promise<number> {
    const since = this.lastLoad && new Date(this.lastLoad.getTime() - REFRESH_OVERLAP_MS);
    const before = this.keys.size;
    for await (const doc of this.payments.issuedAddresses(since)) {
      if (doc.address !== undefined) this.add(doc.address, doc.network);
    }
    this.lastLoad = now;
    return this.keys.size - before;
  }
}
