/**
 * A sweep's family: the original and its fee bumps (linked by `bumpOf`). Members spend the
 * same coins, so at most one of them confirms; until then all are ours. Also: who spends a
 * sweep's inputs on the chain now, seen from the family (the check before every broadcast).
 */
import type { ChainSource } from '../chain/chain-source.js';
import { LIVE, type Sweep, type SweepInputRecord } from './sweep.js';
import type { SweepStore } from './sweep-store.js';

/** Every other sweep linked to `sweep` by fee bumps (its originals and replacements). */
export async function familyOf(sweeps: SweepStore, sweep: Sweep): Promise<Sweep[]> {
  const members = new Map<string, Sweep>([[sweep._id, sweep]]);
  let current = sweep;
  while (current.bumpOf !== undefined && !members.has(current.bumpOf)) {
    const parent = await sweeps.get(current.bumpOf);
    if (!parent) break;
    members.set(parent._id, parent);
    current = parent;
  }
  const queue = [...members.values()];
  for (let next = queue.shift(); next; next = queue.shift()) {
    for (const child of await sweeps.bumpsOf(next._id)) {
      if (members.has(child._id)) continue;
      members.set(child._id, child);
      queue.push(child);
    }
  }
  members.delete(sweep._id);
  return [...members.values()];
}

/** A replacement of `sweep` is still live (offered, signed or out): no second bump. */
export async function bumpPending(sweeps: SweepStore, sweep: Sweep): Promise<boolean> {
  return (await sweeps.bumpsOf(sweep._id)).some((b) => LIVE.includes(b.state));
}

/** Who spends a sweep's inputs on the chain now. */
export type InputSpend =
  | { kind: 'unspent' }
  | { kind: 'self' }
  | { kind: 'family'; by: Sweep }
  | { kind: 'duplicate'; of: Sweep }
  | { kind: 'elsewhere'; spends: { input: SweepInputRecord; txid: string }[] };

/**
 * Esplora outspend, one request per input. Spent by the sweep itself or by its family is ours;
 * the same txid on another sweep record is a duplicate (deterministic signatures rebuild the
 * same transaction from the same coins, fee and destination); anything else is not ours.
 */
export async function inputSpendOf(
  chain: ChainSource,
  sweeps: SweepStore,
  sweep: Sweep,
): Promise<InputSpend> {
  let family: Sweep[] | undefined;
  const elsewhere: { input: SweepInputRecord; txid: string }[] = [];
  let self = false;
  let byFamily: Sweep | undefined;
  for (const input of sweep.inputs) {
    const spent = await chain.outspend(input.txid, input.vout);
    if (!spent.spent || spent.txid === undefined) continue;
    family ??= await familyOf(sweeps, sweep);
    if (spent.txid === sweep.txid) {
      const ids = new Set([sweep._id, ...family.map((f) => f._id)]);
      const other = (await sweeps.withTxid(spent.txid)).find((s) => !ids.has(s._id));
      if (other) return { kind: 'duplicate', of: other };
      self = true;
      continue;
    }
    const relative = family.find((f) => f.txid === spent.txid);
    if (relative) byFamily = relative;
    else elsewhere.push({ input, txid: spent.txid });
  }
  if (elsewhere.length > 0) return { kind: 'elsewhere', spends: elsewhere };
  if (byFamily) return { kind: 'family', by: byFamily };
  return self ? { kind: 'self' } : { kind: 'unspent' };
}
