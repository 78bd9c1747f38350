/**
 * One watcher cycle: read the chain's tip hash (one request); when it moved, scan the new blocks
 * against every address ever issued (block-scan.ts) and re-evaluate the payments in flight;
 * look at the mempool only for checkouts someone is watching; expire what is due (one indexed
 * query); credit, sweep to the cold wallet, publish webhooks to the outbox. Every write is
 * guarded (payment version, credit state, ledger operation id, scan position), so two cycles
 * running at once — two replicas, or an admin racing the watcher — change nothing twice. One
 * payment or chain call failing never stops the others.
 */
import { BlockVerificationError, type ChainSource } from '../chain/chain-source.js';
import type { Forwarder } from '../forwarding/forwarder.js';
import type { IssuedPayment } from '../payments/payment.js';
import { isIssued } from '../payments/payment.js';
import type { Policy } from '../payments/state-machine.js';
import type { Settlement } from '../settlement/settlement.js';
import type { ChainStateStore, ScanState } from '../storage/chain-state.js';
import type { PaymentStore } from '../payments/payment-store.js';
import type { NetworkName } from '../wallet/networks.js';
import {
  type BlockSummary,
  BlockScanner,
  ScanForkNotFoundError,
  ScanMovedError,
} from './block-scan.js';
import { type CycleReport, emptyCycleReport } from './cycle-report.js';
import { LeaseLostError } from './lease-lost.js';
import {
  type MempoolSettings,
  type RequestAllowance,
  checkMempools,
  outputsPaying,
} from './mempool-checks.js';
import {
  PaymentUpdater,
  PaymentWriteConflictError,
  forEachLimit,
  keepOutputs,
} from './payment-updates.js';
import { startScan } from './scan-start.js';
import { WatchedSet } from './watched-set.js';
import type { WatcherLog } from './watcher-log.js';

export { termsOf, trackedStateOf } from './payment-updates.js';
export type { CycleReport } from './cycle-report.js';
export type { RequestAllowance } from './mempool-checks.js';
export { ScanStartError } from './scan-start.js';
export type { WatcherLog } from './watcher-log.js';
/** @deprecated import from settlement/settlement.js; re-exported while callers move. */
export { AlreadyCreditedError, PaymentNotFoundError } from '../settlement/settlement.js';

export interface ScanSettings extends MempoolSettings {
  network: NetworkName;
  /** A new installation scans from this height instead of the tip. */
  scanFromHeight?: number;
  maxWalkBack?: number;
  maxForwardBlocks?: number;
}

export interface WatcherDeps {
  repo: PaymentStore;
  chain: ChainSource;
  /** The scan position and header chain. */
  chainState: ChainStateStore;
  scan: ScanSettings;
  /** Crediting and publishing to the webhook outbox: the cycle's last steps. */
  settlement: Pick<Settlement, 'creditDue' | 'publishOutbox'>;
  /** Absent when forwarding is off. */
  forwarder?: Forwarder;
  /** Absent: no request budget (mempool checks are not rationed). */
  budget?: RequestAllowance;
  policy: Policy;
  concurrency: number;
  log: WatcherLog;
  now?: () => Date;
  /**
   * Lease fencing: checked before each write phase of a cycle; false stops the cycle's remaining
   * writes (another replica may lead now).
   */
  leaseValid?: () => boolean;
  /** Told about every finished cycle (metrics). Must not throw. */
  onCycle?: (report: CycleReport) => void;
  /** Told about a cycle that threw (e.g. MongoDB unreachable) after `durationMs`. Must not throw. */
  onCycleFailed?: (durationMs: number) => void;
}

export class PaymentWatcher {
  private readonly now: () => Date;
  /** Broadcast sweeps are checked once when this process starts leading, then at new blocks. */
  private sweepsTracked = false;
  private readonly updater: PaymentUpdater;
  private readonly scanner: BlockScanner;
  readonly watched: WatchedSet;

  constructor(private readonly deps: WatcherDeps) {
    this.now = deps.now ?? (() => new Date());
    this.updater = new PaymentUpdater({
      repo: deps.repo,
      policy: deps.policy,
      log: deps.log,
      now: this.now,
    });
    this.watched = new WatchedSet(deps.repo);
    this.scanner = new BlockScanner({
      chain: deps.chain,
      store: deps.chainState,
      repo: deps.repo,
      watched: this.watched,
      updater: this.updater,
      network: deps.scan.network,
      log: deps.log,
      now: this.now,
      concurrency: deps.concurrency,
      leaseValid: () => this.leaseValid(),
      ...(deps.scan.maxWalkBack !== undefined && { maxWalkBack: deps.scan.maxWalkBack }),
      ...(deps.scan.maxForwardBlocks !== undefined && {
        maxForwardBlocks: deps.scan.maxForwardBlocks,
      }),
    });
  }

  /** The scanner (tests). */
  get blockScanner(): BlockScanner {
    return this.scanner;
  }

  /** `satwatch rescan`: the best chain's blocks `from`..`to` applied again (idempotent). */
  async rescan(
    from: number,
    to: number,
    progress: (height: number, summary: BlockSummary) => void,
  ): Promise<{ blocks: number; changed: number }> {
    await this.watched.refresh(this.now());
    return this.scanner.rescan(from, to, progress);
  }

  async runCycle(): Promise<CycleReport> {
    const started = performance.now();
    let report: CycleReport;
    try {
      report = await this.cycle(started);
    } catch (err) {
      this.deps.onCycleFailed?.(performance.now() - started);
      throw err;
    }
    this.deps.onCycle?.(report);
    return report;
  }

  private leaseValid(): boolean {
    return this.deps.leaseValid?.() ?? true;
  }

  private fence(phase: string): void {
    if (!this.leaseValid()) throw new LeaseLostError(phase);
  }

  private async cycle(started: number): Promise<CycleReport> {
    const { log } = this.deps;
    const report = emptyCycleReport();
    try {
      await this.chainPhases(report);
      this.fence('credit');
      const credit = await this.deps.settlement.creditDue();
      report.credited = credit.credited;
      report.errors += credit.errors;
      if (this.deps.forwarder && report.tipHeight !== null) {
        this.fence('forwarding');
        // Sweeps are tracked when blocks move (and once at start: blocks may have moved while
        // nobody watched): an idle cycle costs them no request.
        const newBlock =
          !this.sweepsTracked || report.blocksApplied > 0 || report.blocksDisconnected > 0;
        report.forwarding = await this.deps.forwarder.runCycle(report.tipHeight, { newBlock });
        this.sweepsTracked = true;
        report.errors += report.forwarding.errors;
      }
      this.fence('outbox');
      report.published = await this.deps.settlement.publishOutbox();
    } catch (err) {
      if (!(err instanceof LeaseLostError)) throw err;
      report.leaseLost = true;
      log.warn({ phase: err.phase }, 'watcher lease lost; the rest of this cycle writes nothing');
    }
    report.durationMs = Math.round(performance.now() - started);
    log.info({ ...report }, 'watcher cycle done');
    return report;
  }

  /** Tip, blocks, in-flight payments, catch-up, mempool, expiry. */
  private async chainPhases(report: CycleReport): Promise<void> {
    const { log, chainState } = this.deps;
    const now = this.now();
    let tipHash: string;
    let state: ScanState | null;
    try {
      state = await chainState.scanState();
      // The tip is read before the watched set is refreshed: every block up to it can only pay
      // addresses that were already issued, so none is matched against a set missing them.
      tipHash = await this.deps.chain.tipHash();
      state ??= await startScan(
        {
          ...this.deps,
          ...(this.deps.scan.scanFromHeight !== undefined && {
            scanFromHeight: this.deps.scan.scanFromHeight,
          }),
          now: this.now,
          fence: (phase) => {
            this.fence(phase);
          },
        },
        now,
      );
    } catch (err) {
      if (err instanceof LeaseLostError || !isChainError(err)) throw err;
      report.errors++;
      log.warn({ err }, 'chain tip unavailable; skipping chain work this cycle');
      return;
    }
    await this.watched.refresh(now);

    let height = state.tipHeight;
    if (tipHash !== state.tipHash) {
      const scan = await this.scanner.syncTo(state, tipHash);
      report.blocksApplied = scan.applied;
      report.blocksDisconnected = scan.disconnected;
      report.changed += scan.changed;
      height = scan.tipHeight;
      if (scan.error !== undefined) {
        const err = scan.error;
        if (err instanceof LeaseLostError) throw err;
        if (err instanceof ScanMovedError) {
          log.info({}, 'another scanner moved the scan position; continuing from it next cycle');
          height = (await chainState.scanState())?.tipHeight ?? height;
        } else if (err instanceof BlockVerificationError) {
          report.errors++;
          report.blocksRefused++;
          log.error(
            { block: err.hash, reason: err.reason, source: err.source },
            'block refused: no server sent a block that verifies; nothing from it is applied',
          );
        } else if (err instanceof ScanForkNotFoundError) {
          report.errors++;
          log.error({ err }, 'block scan cannot find a common block with the server; see rescan');
        } else if (isChainError(err) || err instanceof PaymentWriteConflictError) {
          report.errors++;
          log.warn({ err }, 'block scan interrupted; continuing next cycle');
        } else {
          throw err instanceof Error ? err : new Error('block scan failed', { cause: err });
        }
      }
      if (scan.applied > 0 || scan.disconnected > 0) {
        log.info(
          { height, applied: scan.applied, disconnected: scan.disconnected },
          'blocks scanned',
        );
        await this.reevaluateInFlight(height, report);
        await this.checkDropped(scan.tracked, scan.settled, scan.trackedPayments, height, report);
      }
    }
    report.tipHeight = height;
    if (state.catchUp && !state.catchUp.done)
      await this.catchUp(state.catchUp.before, height, report);
    await checkMempools(
      {
        ...this.deps,
        settings: this.deps.scan,
        updater: this.updater,
        fence: (phase) => {
          this.fence(phase);
        },
        guarded: (r, id, step) => this.guarded(r, id, step),
      },
      height,
      now,
      report,
    );
    await this.expire(height, now, report);
  }

  /** Confirmations move with every block for payments in flight: evaluated from stored outputs. */
  private async reevaluateInFlight(height: number, report: CycleReport): Promise<void> {
    this.fence('re-evaluation');
    const payments = await this.deps.repo.listInFlight();
    await forEachLimit(payments, this.deps.concurrency, async (payment) => {
      await this.guarded(report, payment._id, () =>
        this.updater.update(payment, keepOutputs, height),
      );
    });
  }

  /** Tracked unconfirmed transactions the new blocks did not include: still there? */
  private async checkDropped(
    tracked: Set<string>,
    settled: Set<string>,
    paymentsOf: Map<string, Set<string>>,
    height: number,
    report: CycleReport,
  ): Promise<void> {
    for (const txid of tracked) {
      if (settled.has(txid)) continue;
      this.fence('drop check');
      let known: boolean;
      try {
        known = (await this.deps.chain.transaction(txid)) !== undefined;
      } catch (err) {
        report.errors++;
        this.deps.log.warn({ err, txid }, 'transaction status unavailable; will retry');
        continue;
      }
      if (known) continue;
      for (const id of paymentsOf.get(txid) ?? []) {
        await this.guarded(report, id, async () => {
          const payment = await this.deps.repo.findById(id);
          if (!payment || !isIssued(payment)) return 'unchanged';
          return this.updater.update(
            payment,
            (outputs) => outputs.filter((o) => o.txid !== txid || o.blockHeight !== undefined),
            height,
          );
        });
      }
    }
  }

  /** Payments issued before the scan started: one address look-up each until a cycle completes. */
  private async catchUp(before: Date, height: number, report: CycleReport): Promise<void> {
    this.fence('catch-up');
    const payments = await this.deps.repo.listWatchingCreatedBefore(before);
    const errorsBefore = report.errors;
    await forEachLimit(payments, this.deps.concurrency, async (payment) => {
      await this.guarded(report, payment._id, () => this.check(payment, height));
    });
    if (report.errors === errorsBefore) {
      await this.deps.chainState.markCatchUpDone();
      this.deps.log.info({ payments: payments.length }, 'block scan catch-up done');
    }
  }

  /**
   * Expiry without polling: one indexed query for payments past their expiry and grace, one for
   * watched payments past their monitoring window (closed by the state machine).
   */
  private async expire(height: number, now: Date, report: CycleReport): Promise<void> {
    this.fence('expiry');
    const { expiryGraceMs, monitoringMs } = this.deps.policy;
    const due = await this.deps.repo.listExpiring(new Date(now.getTime() - expiryGraceMs));
    const windowOver = await this.deps.repo.listWindowOver(
      new Date(now.getTime() - expiryGraceMs - monitoringMs),
    );
    const seen = new Set(due.map((p) => p._id));
    await forEachLimit(
      [...due, ...windowOver.filter((p) => !seen.has(p._id))],
      this.deps.concurrency,
      async (payment) => {
        await this.guarded(report, payment._id, () =>
          this.updater.update(payment, keepOutputs, height),
        );
      },
    );
  }

  /** Runs one payment's step, counting it; a failure is counted and logged, never thrown. */
  private async guarded(
    report: CycleReport,
    paymentId: string,
    step: () => Promise<'unchanged' | 'changed'>,
  ): Promise<void> {
    try {
      const outcome = await step();
      report.checked++;
      if (outcome === 'changed') report.changed++;
    } catch (err) {
      if (err instanceof LeaseLostError) throw err;
      report.errors++;
      this.deps.log.warn({ err, paymentId }, 'payment check failed; will retry next cycle');
    }
  }

  /**
   * Re-evaluates one payment against everything the chain shows for its address (one request):
   * the admin's "check now" and the scan's one-time catch-up.
   */
  async check(payment: IssuedPayment, tipHeight: number): Promise<'unchanged' | 'changed'> {
    const transactions = await this.deps.chain.addressTransactions(payment.address);
    const observed = outputsPaying(payment.address, transactions);
    return this.updater.update(payment, () => observed, tipHeight);
  }

  /** The chain's tip height now (the admin's "check now" evaluates at it). */
  async tipHeight(): Promise<number> {
    return (await this.deps.chain.tip()).height;
  }
}

/** The chain (not our code or the database) failed: counted, retried next cycle. */
function isChainError(err: unknown): boolean {
  return (
    err instanceof Error &&
    (err.name === 'ChainSourceError' ||
      err.name === 'BlockVerificationError' ||
      err.name === 'ScanStartError')
  );
}
