/**
 * What one block means to our payments, as pure functions: the unconfirmed transactions we
 * track, the summary the scan keeps of a block (never the whole block), and the edit a block
 * (or a reorg taking it back) makes to one payment's outputs.
 */
import type { VerifiedBlock } from '../chain/chain-source.js';
import type { IssuedPayment } from '../payments/payment.js';
import { outpointKey } from '../chain/outpoint.js';
import type { ObservedOutput } from './payment-updates.js';
import type { WatchedSet } from './watched-set.js';

/** The unconfirmed payment transactions we track by txid, and the outpoints they spend. */
export interface Tracked {
  /** txid → the payments it pays */
  txids: Map<string, Set<string>>;
  /** spent outpoint → the tracked txid spending it */
  inputs: Map<string, string>;
}

export function trackedOf(payments: IssuedPayment[]): Tracked {
  const tracked: Tracked = { txids: new Map(), inputs: new Map() };
  for (const p of payments) {
    for (const o of p.outputs) {
      if (o.blockHeight !== undefined) continue;
      const ids = tracked.txids.get(o.txid) ?? new Set<string>();
      ids.add(p._id);
      tracked.txids.set(o.txid, ids);
      for (const spent of o.spends ?? []) tracked.inputs.set(spent, o.txid);
    }
  }
  return tracked;
}

/** An output whose script may be one we issued (the watched set's hit, not yet confirmed). */
export interface CandidateOutput {
  script: string;
  txid: string;
  vout: number;
  valueSats: number;
  signalsRbf: boolean;
}

/** An output paying one of our payments. */
export interface MatchedOutput extends Omit<CandidateOutput, 'script'> {
  paymentId: string;
}

/** What the scan keeps of a block: never the whole block. */
export interface BlockSummary {
  hash: string;
  prevHash: string;
  bits: number;
  time: number;
  /** Outputs the watched set hit, until `resolveMatches` looks them up. */
  candidates: CandidateOutput[];
  /** Outputs paying an address we issued (confirmed by address in MongoDB). */
  matched: MatchedOutput[];
  /** Tracked unconfirmed txids this block includes. */
  included: string[];
  /** Tracked txids whose inputs this block spends in another transaction. */
  conflicted: string[];
  transactions: number;
}

export function summarize(
  block: VerifiedBlock,
  watched: WatchedSet,
  tracked: Tracked,
): BlockSummary {
  const summary: BlockSummary = {
    hash: block.hash,
    prevHash: block.prevHash,
    bits: block.bits,
    time: block.time,
    candidates: [],
    matched: [],
    included: [],
    conflicted: [],
    transactions: block.transactions.length,
  };
  const conflicted = new Set<string>();
  for (const tx of block.transactions) {
    if (tracked.txids.has(tx.txid)) summary.included.push(tx.txid);
    for (const out of tx.outputs) {
      if (!watched.mayContain(out.script)) continue;
      summary.candidates.push({
        script: out.script,
        txid: tx.txid,
        vout: out.vout,
        valueSats: out.valueSats,
        signalsRbf: tx.signalsRbf,
      });
    }
    if (tracked.inputs.size === 0) continue;
    for (const spent of tx.spends) {
      const spender = tracked.inputs.get(outpointKey(spent));
      if (spender !== undefined && spender !== tx.txid) conflicted.add(spender);
    }
  }
  summary.conflicted = [...conflicted].filter((txid) => !summary.included.includes(txid));
  return summary;
}

/** What one block changes on one payment's outputs. */
export interface Change {
  /** Outputs paying the payment, by outpoint: recorded (or moved) as confirmed in the block. */
  confirm: Map<string, MatchedOutput>;
  /** Tracked transactions the block includes: their outputs are confirmed in it. */
  confirmTxids: Set<string>;
  /** Tracked transactions the block conflicts: their outputs are gone. */
  remove: Set<string>;
}

export function changesOf(summary: BlockSummary, tracked: Tracked): Map<string, Change> {
  const changes = new Map<string, Change>();
  const changeOf = (id: string): Change => {
    let change = changes.get(id);
    if (!change) {
      change = { confirm: new Map(), confirmTxids: new Set(), remove: new Set() };
      changes.set(id, change);
    }
    return change;
  };
  for (const m of summary.matched) changeOf(m.paymentId).confirm.set(outpointKey(m), m);
  for (const txid of summary.included)
    for (const id of tracked.txids.get(txid) ?? []) changeOf(id).confirmTxids.add(txid);
  for (const txid of summary.conflicted)
    for (const id of tracked.txids.get(txid) ?? []) changeOf(id).remove.add(txid);
  return changes;
}

export function applyChange(
  outputs: readonly ObservedOutput[],
  change: Change,
  height: number,
  blockHash: string,
): ObservedOutput[] {
  const confirmed = (o: ObservedOutput): ObservedOutput => ({
    ...o,
    blockHeight: height,
    blockHash,
    spends: undefined,
  });
  const next = outputs
    .filter((o) => !change.remove.has(o.txid))
    .map((o) =>
      change.confirmTxids.has(o.txid) || change.confirm.has(outpointKey(o)) ? confirmed(o) : o,
    );
  const have = new Set(next.map(outpointKey));
  for (const m of change.confirm.values()) {
    if (have.has(outpointKey(m))) continue;
    const { txid, vout, valueSats, signalsRbf } = m;
    next.push(confirmed({ txid, vout, valueSats, signalsRbf }));
  }
  return next;
}

/** The outputs with those confirmed in `gone` blocks (or, without a hash, above `forkHeight`) unconfirmed. */
export function unconfirmIn(
  outputs: readonly ObservedOutput[],
  gone: Set<string>,
  forkHeight: number,
): ObservedOutput[] {
  return outputs.map((o) => {
    const reorged =
      o.blockHash !== undefined ? gone.has(o.blockHash) : (o.blockHeight ?? -1) > forkHeight;
    return reorged ? { ...o, blockHash: undefined, blockHeight: undefined } : o;
  });
}
