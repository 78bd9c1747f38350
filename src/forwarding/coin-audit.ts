/**
 * What is on our receive addresses, and what accounts for it. Coins claimed by a sweep (pending
 * or finished) are accounted for; coins of a payment still in the forwarding pipeline await a
 * sweep; anything else is unaccounted: stray money, or coins a lost sweep stranded. Used by
 * `reconcile` (unaccounted coins are a mismatch) and `sweep-stray` (which sweeps them).
 */
import type { ChainSource } from '../chain/chain-source.js';
import type { IndexCounter } from '../wallet/index-counter.js';
import type { PaymentStore } from '../payments/payment-store.js';
import { outpointKey } from '../chain/outpoint.js';
import type { SweepState } from './sweep.js';
import type { SweepStore } from './sweep-store.js';
import type { WalletAccount } from '../wallet/account.js';

export interface AddressCoin {
  index: number;
  path: string;
  address: string;
  txid: string;
  vout: number;
  valueSats: number;
  blockHeight?: number;
  /** The payment the address was issued for, if any. */
  paymentId?: string;
  /** Why it is where it is, for people. */
  note: string;
}

export interface CoinAudit {
  addressesScanned: number;
  /** Claimed by a sweep that is pending or finished. */
  inSweeps: AddressCoin[];
  /** Coins of payments still being watched or forwarded. */
  awaitingSweep: AddressCoin[];
  /** No payment and no sweep accounts for them. */
  unaccounted: AddressCoin[];
}

export interface CoinAuditDeps {
  wallet: WalletAccount;
  chain: ChainSource;
  repo: PaymentStore;
  sweeps: SweepStore;
  counter: IndexCounter;
}

/** A claim by a sweep in one of these states accounts for its coin; an abandoned one does not. */
const ACCOUNTING_STATES: SweepState[] = [
  'building',
  'awaiting_signature',
  'signed',
  'broadcast',
  'confirmed',
  'rejected',
];

/** Scans receive indexes 0 … (highest issued + gap) for unspent coins and sorts them. */
export async function auditCoins(deps: CoinAuditDeps, gap: number): Promise<CoinAudit> {
  const { wallet, chain, repo, sweeps, counter } = deps;
  const issued = await counter.peek(wallet.accountFingerprint);
  const audit: CoinAudit = {
    addressesScanned: 0,
    inSweeps: [],
    awaitingSweep: [],
    unaccounted: [],
  };
  const coins: AddressCoin[] = [];
  for (let index = 0; index < issued + gap; index++) {
    const { address, path } = wallet.receiveAddress(index);
    const txs = await chain.addressTransactions(address);
    audit.addressesScanned++;
    const spent = new Set(txs.flatMap((tx) => tx.spends.map(outpointKey)));
    for (const tx of txs) {
      for (const out of tx.outputs) {
        if (out.address !== address || spent.has(outpointKey({ txid: tx.txid, vout: out.vout })))
          continue;
        coins.push({
          index,
          path,
          address,
          txid: tx.txid,
          vout: out.vout,
          valueSats: out.valueSats,
          ...(tx.status.confirmed &&
            tx.status.blockHeight !== undefined && { blockHeight: tx.status.blockHeight }),
          note: '',
        });
      }
    }
  }
  if (coins.length === 0) return audit;
  const owners = await sweeps.claimOwners(coins.map(outpointKey));
  const states = await sweeps.statesOf([...new Set(owners.values())]);
  const payments = new Map(
    (await repo.findByAddresses([...new Set(coins.map((c) => c.address))])).map((p) => [
      p.address,
      p,
    ]),
  );
  for (const coin of coins) {
    const payment = payments.get(coin.address);
    if (payment) coin.paymentId = payment._id;
    const owner = owners.get(outpointKey(coin));
    const state = owner === undefined ? undefined : states.get(owner);
    if (owner !== undefined && state !== undefined && ACCOUNTING_STATES.includes(state)) {
      coin.note = `claimed by sweep ${owner} (${state})`;
      audit.inSweeps.push(coin);
    } else if (payment && payment.sweepDone !== true) {
      coin.note = `payment ${payment._id} (${payment.status}) is still to be swept`;
      audit.awaitingSweep.push(coin);
    } else {
      coin.note = payment
        ? `payment ${payment._id} is marked swept, but this coin is not`
        : 'no payment was issued for this address';
      audit.unaccounted.push(coin);
    }
  }
  return audit;
}
