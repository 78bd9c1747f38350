/**
 * Where a new installation's block scan starts: at the tip, or at `chain.scanFromHeight`; and
 * whether payments issued before it need the one-time catch-up by address.
 */
import type { ChainSource } from '../chain/chain-source.js';
import type { ChainStateStore, ScanState, StoredHeader } from '../storage/chain-state.js';
import type { PaymentStore } from '../payments/payment-store.js';
import { REFRESH_OVERLAP_MS } from './watched-set.js';
import type { WatcherLog } from './watcher-log.js';

const ZERO_HASH = '0'.repeat(64);

/** `chain.scanFromHeight` is above the chain's tip. */
export class ScanStartError extends Error {
  constructor(readonly height: number) {
    super(`chain.scanFromHeight ${height} is above the chain's tip`);
    this.name = 'ScanStartError';
  }
}

export interface ScanStartDeps {
  chain: Pick<ChainSource, 'tip' | 'blockHashAt'>;
  chainState: Pick<ChainStateStore, 'initialize'>;
  repo: Pick<PaymentStore, 'anyIssued'>;
  /** A new installation scans from this height instead of the tip. */
  scanFromHeight?: number;
  log: WatcherLog;
  now: () => Date;
  /** Throws when the lease was lost: the scan position is written only while leading. */
  fence: (phase: string) => void;
}

/** A new installation: the scan starts at the tip (or `scanFromHeight`). */
export async function startScan(deps: ScanStartDeps, now: Date): Promise<ScanState> {
  const from = deps.scanFromHeight;
  let base: StoredHeader;
  if (from === undefined) {
    const tip = await deps.chain.tip();
    base = { _id: tip.hash, height: tip.height, prevHash: '' };
  } else if (from === 0) {
    base = { _id: ZERO_HASH, height: -1, prevHash: '' };
  } else {
    const hash = await deps.chain.blockHashAt(from - 1);
    if (hash === undefined) throw new ScanStartError(from);
    base = { _id: hash, height: from - 1, prevHash: '' };
  }
  // Payments issued before the scan's base block was read (an upgrade from address polling,
  // or payments made before the first cycle) get one address look-up each, once. The clock is
  // read after the tip, plus a margin for replicas' clock skew: a payment created later can
  // only be paid in a block above the base, which the scan sees.
  const catchUp =
    from === undefined && (await deps.repo.anyIssued())
      ? new Date(deps.now().getTime() + REFRESH_OVERLAP_MS)
      : undefined;
  deps.fence('scan start');
  const state = await deps.chainState.initialize(base, now, catchUp);
  deps.log.info(
    { height: state.tipHeight + 1, catchUp: catchUp !== undefined },
    'block scan starts',
  );
  return state;
}
