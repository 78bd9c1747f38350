/**
 * The block scan: brings the stored header chain and the payments up to the chain's tip, one
 * verified block at a time, matched locally against every address ever issued.
 *
 * From a new tip it walks back by `prevHash` until a block links to the stored chain (the fork
 * point; not our tip means a reorg), keeping only a compact summary per block, then applies the
 * blocks oldest first. A walk that does not link within `maxWalkBack` blocks (a long downtime)
 * goes forward by height from the stored position instead. Each applied block: the payments it
 * touches are written (guarded, idempotent), its header is stored, and the scan position moves,
 * guarded on the position it moves from; a crash between these steps repeats the block, which
 * changes nothing the second time.
 */
import * as bitcoin from 'bitcoinjs-lib';
import type { ChainSource } from '../chain/chain-source.js';
import { BlockVerificationError, ChainSourceError } from '../chain/chain-source.js';
import { checkDifficultyTransition } from '../chain/block.js';
import type { IssuedPayment } from '../payments/payment.js';
import type { PaidOutput } from '../payments/state-machine.js';
import type { ChainStateStore, ScanState, StoredHeader } from '../storage/chain-state.js';
import type { PaymentStore } from '../payments/payment-store.js';
import { BITCOIN_NETWORKS, type NetworkName } from '../wallet/networks.js';
import { LeaseLostError } from './lease-lost.js';
import { scanFailpoint } from './scan-failpoints.js';
import { type PaymentUpdater, forEachLimit } from './payment-updates.js';
import {
  type BlockSummary,
  type CandidateOutput,
  type Tracked,
  applyChange,
  changesOf,
  summarize,
  trackedOf,
  unconfirmIn,
} from './block-summary.js';
import type { WatcherLog } from './watcher-log.js';

import { ScanForkNotFoundError, ScanMovedError } from './scan-errors.js';
import type { WatchedSet } from './watched-set.js';

export { ScanForkNotFoundError, ScanMovedError } from './scan-errors.js';
export {
  type BlockSummary,
  type CandidateOutput,
  type Tracked,
  summarize,
  trackedOf,
} from './block-summary.js';

export interface BlockScanDeps {
  chain: ChainSource;
  store: ChainStateStore;
  repo: PaymentStore;
  watched: WatchedSet;
  updater: PaymentUpdater;
  network: NetworkName;
  log: WatcherLog;
  now: () => Date;
  concurrency: number;
  /** false: the lease is lost, stop writing. */
  leaseValid: () => boolean;
  /** How far back a new tip is followed before going forward by height instead. */
  maxWalkBack?: number;
  /** Blocks applied per cycle when going forward (a long downtime continues next cycle). */
  maxForwardBlocks?: number;
}

export interface ScanResult {
  tipHash: string;
  tipHeight: number;
  applied: number;
  disconnected: number;
  /** Payments written. */
  changed: number;
  /** The tracked unconfirmed txids at the start, and those the applied blocks included or conflicted. */
  tracked: Set<string>;
  settled: Set<string>;
  /** Payments that hold a tracked txid. */
  trackedPayments: Map<string, Set<string>>;
  /** Why the scan stopped before the target (what was applied until then stays applied). */
  error?: unknown;
}

const DEFAULT_WALK_BACK = 500;
const DEFAULT_FORWARD_BLOCKS = 1000;
const PROGRESS_EVERY = 100;

/** The stored chain from `tipHash` down: hash → height, and height → hash. */
function mainChainOf(headers: Map<string, StoredHeader>, tipHash: string) {
  const byHash = new Map<string, StoredHeader>();
  const byHeight = new Map<number, StoredHeader>();
  for (let h = headers.get(tipHash); h; h = headers.get(h.prevHash)) {
    if (byHash.has(h._id)) break;
    byHash.set(h._id, h);
    byHeight.set(h.height, h);
  }
  return { byHash, byHeight };
}

export class BlockScanner {
  private readonly maxWalkBack: number;
  private readonly maxForwardBlocks: number;

  constructor(private readonly deps: BlockScanDeps) {
    this.maxWalkBack = deps.maxWalkBack ?? DEFAULT_WALK_BACK;
    this.maxForwardBlocks = deps.maxForwardBlocks ?? DEFAULT_FORWARD_BLOCKS;
  }

  /** Applies every block from the stored position up to `targetHash` (the chain's tip). */
  async syncTo(state: ScanState, targetHash: string): Promise<ScanResult> {
    const unconfirmed = await this.deps.repo.listWithUnconfirmedOutputs();
    const tracked = trackedOf(unconfirmed);
    const result: ScanResult = {
      tipHash: state.tipHash,
      tipHeight: state.tipHeight,
      applied: 0,
      disconnected: 0,
      changed: 0,
      tracked: new Set(tracked.txids.keys()),
      settled: new Set(),
      trackedPayments: tracked.txids,
    };
    try {
      await this.sync(result, targetHash, tracked);
    } catch (err) {
      result.error = err;
    }
    return result;
  }

  private async sync(result: ScanResult, targetHash: string, tracked: Tracked): Promise<void> {
    if (targetHash === result.tipHash) return;
    const headers = await this.deps.store.allHeaders();
    const main = mainChainOf(headers, result.tipHash);

    const known = main.byHash.get(targetHash);
    if (known) {
      // The server's tip is one of our blocks: the chain got shorter (invalidated blocks).
      await this.reorgTo(result, main.byHeight, known, [], tracked);
      return;
    }

    const walked: BlockSummary[] = [];
    const cache = new Map<string, BlockSummary>();
    let fork: StoredHeader | undefined;
    for (let hash = targetHash; walked.length < this.maxWalkBack;) {
      const summary = await this.fetchSummary(hash, tracked);
      walked.push(summary);
      cache.set(summary.hash, summary);
      fork = main.byHash.get(summary.prevHash);
      if (fork) break;
      hash = summary.prevHash;
    }
    if (!fork) {
      await this.forward(result, main.byHeight, tracked, cache);
      return;
    }

    walked.reverse();
    if (fork._id !== result.tipHash) {
      await this.reorgTo(result, main.byHeight, fork, walked, tracked);
      await this.deps.store.prune(result.tipHeight);
      return;
    }
    let parent: Pick<StoredHeader, '_id' | 'height' | 'bits'> = fork;
    for (const summary of walked) {
      await this.applyAndRecord(result, summary, parent, tracked);
      parent = { _id: summary.hash, height: parent.height + 1, bits: summary.bits };
      if (walked.length > PROGRESS_EVERY && result.applied % PROGRESS_EVERY === 0) {
        this.deps.log.info(
          { applied: result.applied, of: walked.length, height: result.tipHeight },
          'block scan catching up',
        );
      }
    }
    await this.deps.store.prune(result.tipHeight);
  }

  /**
   * Re-applies the best chain's blocks `from`..`to` (a rescan): same matching and payment
   * writes, no change to the scan position or the headers. Calls `progress` after each block.
   */
  async rescan(
    from: number,
    to: number,
    progress: (height: number, summary: BlockSummary) => void,
  ): Promise<{ blocks: number; changed: number }> {
    const state = await this.deps.store.scanState();
    const tracked = trackedOf(await this.deps.repo.listWithUnconfirmedOutputs());
    let prev: string | undefined;
    let blocks = 0;
    let changed = 0;
    for (let height = from; height <= to; height++) {
      const hash = await this.deps.chain.blockHashAt(height);
      if (hash === undefined) break;
      const summary = await this.fetchSummary(hash, tracked);
      if (prev !== undefined && summary.prevHash !== prev) {
        throw new ChainSourceError(
          `the chain changed during the rescan at height ${height}`,
          'blockHashAt',
        );
      }
      prev = hash;
      // Evaluated at least at the scan's height: these blocks are usually far below it.
      changed += await this.applyToPayments(
        summary,
        height,
        Math.max(height, state?.tipHeight ?? -1),
        tracked,
      );
      blocks++;
      progress(height, summary);
    }
    return { blocks, changed };
  }

  private async fetchSummary(hash: string, tracked: Tracked): Promise<BlockSummary> {
    const block = await this.deps.chain.block(hash);
    if (!block) throw new ChainSourceError(`no server has block ${hash}`, 'block');
    if (block.hash !== hash) throw new BlockVerificationError(hash, `got block ${block.hash}`);
    const summary = summarize(block, this.deps.watched, tracked);
    await this.resolveMatches(summary);
    return summary;
  }

  /** The watched set's hits, confirmed with one indexed look-up by address (false hits dropped). */
  private async resolveMatches(summary: BlockSummary): Promise<void> {
    if (summary.candidates.length === 0) return;
    const network = BITCOIN_NETWORKS[this.deps.network];
    const byAddress = new Map<string, CandidateOutput[]>();
    for (const c of summary.candidates) {
      let address: string;
      try {
        address = bitcoin.address.fromOutputScript(Buffer.from(c.script, 'hex'), network);
      } catch {
        continue; // no address form: never one we issued
      }
      byAddress.set(address, [...(byAddress.get(address) ?? []), c]);
    }
    for (const p of await this.deps.repo.findIdsByAddresses([...byAddress.keys()])) {
      for (const c of byAddress.get(p.address) ?? []) {
        const { txid, vout, valueSats, signalsRbf } = c;
        summary.matched.push({ paymentId: p._id, txid, vout, valueSats, signalsRbf });
      }
    }
    summary.candidates = [];
  }

  /** After a long downtime: find the fork by height, then apply forward, a bounded number per cycle. */
  private async forward(
    result: ScanResult,
    byHeight: Map<number, StoredHeader>,
    tracked: Tracked,
    cache: Map<string, BlockSummary>,
  ): Promise<void> {
    let height = result.tipHeight;
    let fork: StoredHeader | undefined;
    for (; ; height--) {
      const ours = byHeight.get(height);
      if (!ours) throw new ScanForkNotFoundError(result.tipHeight);
      if ((await this.deps.chain.blockHashAt(height)) === ours._id) {
        fork = ours;
        break;
      }
    }
    // A reorg deeper than the walk-back bound: undo it first, then go forward block by block.
    if (fork._id !== result.tipHash) await this.reorgTo(result, byHeight, fork, [], tracked);
    this.deps.log.info({ from: fork.height }, 'block scan going forward by height (long gap)');
    let parent: Pick<StoredHeader, '_id' | 'height' | 'bits'> = fork;
    for (let n = 0; n < this.maxForwardBlocks; n++) {
      const hash = await this.deps.chain.blockHashAt(parent.height + 1);
      if (hash === undefined) break;
      const summary = cache.get(hash) ?? (await this.fetchSummary(hash, tracked));
      if (summary.prevHash !== parent._id) break; // the chain moved under us: next cycle
      await this.applyAndRecord(result, summary, parent, tracked);
      parent = { _id: summary.hash, height: parent.height + 1, bits: summary.bits };
      if (result.applied % PROGRESS_EVERY === 0) {
        this.deps.log.info(
          { applied: result.applied, height: result.tipHeight },
          'block scan catching up',
        );
      }
    }
    await this.deps.store.prune(result.tipHeight);
  }

  /**
   * A reorg: undoes what our blocks above `fork` confirmed and applies the new branch (`branch`,
   * oldest first, possibly none) in one evaluation per payment at the new tip, so money that
   * moved to the new branch is never seen as lost in between (no false review flags). Every
   * payment in flight is evaluated at the new height too: the chain may have got shorter.
   */
  private async reorgTo(
    result: ScanResult,
    byHeight: Map<number, StoredHeader>,
    fork: StoredHeader,
    branch: BlockSummary[],
    tracked: Tracked,
  ): Promise<void> {
    const gone: string[] = [];
    for (let h = result.tipHeight; h > fork.height; h--) {
      const header = byHeight.get(h);
      if (header) gone.push(header._id);
    }
    this.deps.log.warn(
      {
        fork: fork._id,
        forkHeight: fork.height,
        disconnected: gone.length,
        connected: branch.length,
      },
      'reorg',
    );
    // The new branch is checked whole before anything is written.
    const headers: StoredHeader[] = [];
    let parent: Pick<StoredHeader, '_id' | 'height' | 'bits'> = fork;
    for (const summary of branch) {
      this.checkLink(summary, parent);
      const header = {
        _id: summary.hash,
        height: parent.height + 1,
        prevHash: summary.prevHash,
        bits: summary.bits,
        time: summary.time,
      };
      headers.push(header);
      parent = header;
    }
    const newTip = { hash: parent._id, height: parent.height };
    const goneSet = new Set(gone);
    const steps = branch.map((summary, i) => ({
      summary,
      height: fork.height + 1 + i,
      changes: changesOf(summary, tracked),
    }));
    const edit = (id: string) => (outputs: readonly PaidOutput[]) => {
      let next = unconfirmIn(outputs, goneSet, fork.height);
      for (const step of steps) {
        const change = step.changes.get(id);
        if (change) next = applyChange(next, change, step.height, step.summary.hash);
      }
      return next;
    };
    const affected = new Map<string, IssuedPayment>();
    const touched = new Set(steps.flatMap((step) => [...step.changes.keys()]));
    for (const p of await this.deps.repo.findByIds([...touched])) affected.set(p._id, p);
    for (const p of await this.deps.repo.listConfirmedIn(gone)) affected.set(p._id, p);
    for (const p of await this.deps.repo.listInFlight())
      if (!affected.has(p._id)) affected.set(p._id, p);
    this.fence('reorg');
    await forEachLimit([...affected.values()], this.deps.concurrency, async (p) => {
      const outcome = await this.deps.updater.update(p, edit(p._id), newTip.height, {
        force: true,
      });
      if (outcome === 'changed') result.changed++;
    });
    scanFailpoint('after-reorg-payments');
    this.fence('reorg');
    for (const header of headers) await this.deps.store.saveHeader(header);
    if (!(await this.deps.store.moveTip(result.tipHash, newTip, this.deps.now())))
      throw new ScanMovedError();
    await this.deps.store.deleteHeaders(gone);
    for (const summary of branch)
      for (const txid of [...summary.included, ...summary.conflicted]) result.settled.add(txid);
    result.disconnected += gone.length;
    result.applied += branch.length;
    result.tipHash = newTip.hash;
    result.tipHeight = newTip.height;
  }

  private checkLink(
    summary: BlockSummary,
    parent: Pick<StoredHeader, '_id' | 'height' | 'bits'>,
  ): void {
    if (summary.prevHash !== parent._id)
      throw new BlockVerificationError(summary.hash, `does not link to ${parent._id}`);
    if (parent.bits !== undefined) {
      const verdict = checkDifficultyTransition(
        this.deps.network,
        parent.height + 1,
        parent.bits,
        summary.bits,
      );
      if (!verdict.ok) throw new BlockVerificationError(summary.hash, verdict.reason);
    }
  }

  private async applyAndRecord(
    result: ScanResult,
    summary: BlockSummary,
    parent: Pick<StoredHeader, '_id' | 'height' | 'bits'>,
    tracked: Tracked,
  ): Promise<void> {
    const height = parent.height + 1;
    this.checkLink(summary, parent);
    result.changed += await this.applyToPayments(summary, height, height, tracked);
    scanFailpoint('after-block-payments');
    for (const txid of [...summary.included, ...summary.conflicted]) result.settled.add(txid);
    this.fence('block');
    await this.deps.store.saveHeader({
      _id: summary.hash,
      height,
      prevHash: summary.prevHash,
      bits: summary.bits,
      time: summary.time,
    });
    scanFailpoint('after-block-header');
    if (
      !(await this.deps.store.moveTip(
        result.tipHash,
        { hash: summary.hash, height },
        this.deps.now(),
      ))
    )
      throw new ScanMovedError();
    result.tipHash = summary.hash;
    result.tipHeight = height;
    result.applied++;
  }

  /** Writes what one block means for each payment it touches; returns the payments written. */
  private async applyToPayments(
    summary: BlockSummary,
    height: number,
    evaluateAt: number,
    tracked: Tracked,
  ): Promise<number> {
    const changes = changesOf(summary, tracked);
    if (changes.size === 0) return 0;
    this.fence('block');
    const payments = await this.deps.repo.findByIds([...changes.keys()]);
    let changed = 0;
    await forEachLimit(payments, this.deps.concurrency, async (payment) => {
      const change = changes.get(payment._id);
      if (!change) return;
      const edit = (outputs: readonly PaidOutput[]) =>
        applyChange(outputs, change, height, summary.hash);
      if ((await this.deps.updater.update(payment, edit, evaluateAt)) === 'changed') changed++;
    });
    return changed;
  }

  private fence(phase: string): void {
    if (!this.deps.leaseValid()) throw new LeaseLostError(phase);
  }
}
