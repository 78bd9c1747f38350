/**
 * One watcher cycle: read the chain's tip hash (one request); when it moved, scan the new blocks
 * against every address ever issued (block-scan.ts) and re-evaluate the payments in flight;
 * look at the mempool only for checkouts someone is watching; expire what is due (one indexed
 * query); credit, sweep to the cold wallet, publish webhooks to the outbox. Every write is
 * guarded (payment version, credit state, ledger operation id, scan position), so two cycles
 * running at once — two replicas, or an admin racing the watcher — change nothing twice. One
 * payment or chain call failing never stops the others.
 */
import {
  BlockVerificationError,
  type ChainSource,
  type ChainTransaction,
} from '../chain/chain-source.js';
import type { ForwardReport, Forwarder } from '../forwarding/forwarder.js';
import type { Ledger } from '../ledger/ledger.js';
import type { IssuedPayment, ViewContext } from '../payments/payment.js';
import { isIssued, merchantView } from '../payments/payment.js';
import type { CreditDue, Policy } from '../payments/state-machine.js';
import type { ChainStateStore, ScanState, StoredHeader } from '../storage/chain-state.js';
import type { PaymentRepository } from '../storage/payments.js';
import type { NetworkName } from '../wallet/networks.js';
import type { DueSender } from '../webhooks/delivery-round.js';
import type { WebhookOutbox } from '../storage/webhook-outbox.js';
import {
  type BlockSummary,
  BlockScanner,
  ScanForkNotFoundError,
  ScanMovedError,
} from './block-scan.js';
import { LeaseLostError } from './lease-lost.js';
import {
  type ObservedOutput,
  PaymentUpdater,
  PaymentWriteConflictError,
  forEachLimit,
  keepOutputs,
  outboxRefs,
  outpointKey,
} from './payment-updates.js';
import { REFRESH_OVERLAP_MS, WatchedSet } from './watched-set.js';

export { termsOf, trackedStateOf } from './payment-updates.js';

export interface WatcherLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the watcher needs of the chain request budget (RequestBudget, src/chain/budget.ts). */
export interface RequestAllowance {
  /** Requests still allowed in the window ending at `nowMs`; Infinity when unlimited. */
  remaining(nowMs: number): number;
}

export interface ScanSettings {
  network: NetworkName;
  /** A new installation scans from this height instead of the tip. */
  scanFromHeight?: number;
  /** Checkouts viewed this recently get mempool checks. */
  mempoolViewWindowMs: number;
  /** Payments created this recently get mempool checks. */
  mempoolNewPaymentMs: number;
  /** Cycle interval: spreads the mempool share of the budget over the hour. */
  intervalMs: number;
  maxWalkBack?: number;
  maxForwardBlocks?: number;
}

export interface WatcherDeps {
  repo: PaymentRepository;
  chain: ChainSource;
  /** The scan position and header chain. */
  chainState: ChainStateStore;
  scan: ScanSettings;
  ledger: Ledger;
  outbox: WebhookOutbox;
  /** Sends due webhooks (the configured URL and the API endpoints); absent: events only queue. */
  dispatcher?: DueSender;
  /** Absent when forwarding is off. */
  forwarder?: Forwarder;
  /** Absent: no request budget (mempool checks are not rationed). */
  budget?: RequestAllowance;
  policy: Policy;
  view: ViewContext;
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

export interface CycleReport {
  /** The scanned height (null when the chain tip could not be read). */
  tipHeight: number | null;
  checked: number;
  changed: number;
  conflicts: number;
  credited: number;
  published: number;
  forwarding: ForwardReport | null;
  errors: number;
  durationMs: number;
  blocksApplied: number;
  blocksDisconnected: number;
  /** Blocks refused because no server sent a block that verifies. */
  blocksRefused: number;
  mempoolChecks: number;
  /** Mempool checks left out for lack of request budget. */
  mempoolDeferred: number;
  /** The lease was lost mid-cycle; the remaining writes were skipped. */
  leaseLost: boolean;
}

export class AlreadyCreditedError extends Error {
  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} is already credited`);
    this.name = 'AlreadyCreditedError';
  }
}

export class PaymentNotFoundError extends Error {
  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} not found`);
    this.name = 'PaymentNotFoundError';
  }
}

const ZERO_HASH = '0'.repeat(64);
/** Requests kept back from mempool checks in each window: the tip polls and a few blocks. */
const BLOCK_RESERVE = 30;

/** The outputs paying `address` in `transactions`, as the chain shows them now. */
function outputsPaying(address: string, transactions: ChainTransaction[]): ObservedOutput[] {
  const outputs: ObservedOutput[] = [];
  for (const tx of transactions) {
    const confirmed = tx.status.confirmed && tx.status.blockHeight !== undefined;
    for (const out of tx.outputs) {
      if (out.address !== address) continue;
      outputs.push({
        txid: tx.txid,
        vout: out.vout,
        valueSats: out.valueSats,
        signalsRbf: tx.signalsRbf,
        ...(confirmed
          ? { blockHeight: tx.status.blockHeight, blockHash: tx.status.blockHash }
          : tx.spends.length > 0 && { spends: tx.spends.map(outpointKey) }),
      });
    }
  }
  return outputs;
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
    this.watched = new WatchedSet(deps.repo.collection);
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
    const report: CycleReport = {
      tipHeight: null,
      checked: 0,
      changed: 0,
      conflicts: 0,
      credited: 0,
      published: 0,
      forwarding: null,
      errors: 0,
      durationMs: 0,
      blocksApplied: 0,
      blocksDisconnected: 0,
      blocksRefused: 0,
      mempoolChecks: 0,
      mempoolDeferred: 0,
      leaseLost: false,
    };
    try {
      await this.chainPhases(report);
      this.fence('credit');
      const credit = await this.creditDue();
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
      report.published = await this.publishOutbox();
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
      state ??= await this.initialize(now);
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
    await this.checkMempools(height, now, report);
    await this.expire(height, now, report);
  }

  /** A new installation: the scan starts at the tip (or `scanFromHeight`). */
  private async initialize(now: Date): Promise<ScanState> {
    const from = this.deps.scan.scanFromHeight;
    let base: StoredHeader;
    if (from === undefined) {
      const tip = await this.deps.chain.tip();
      base = { _id: tip.hash, height: tip.height, prevHash: '' };
    } else if (from === 0) {
      base = { _id: ZERO_HASH, height: -1, prevHash: '' };
    } else {
      const hash = await this.deps.chain.blockHashAt(from - 1);
      if (hash === undefined) throw new ScanStartError(from);
      base = { _id: hash, height: from - 1, prevHash: '' };
    }
    // Payments issued before the scan's base block was read (an upgrade from address polling,
    // or payments made before the first cycle) get one address look-up each, once. The clock is
    // read after the tip, plus a margin for replicas' clock skew: a payment created later can
    // only be paid in a block above the base, which the scan sees.
    const catchUp =
      from === undefined && (await this.deps.repo.anyIssued())
        ? new Date(this.now().getTime() + REFRESH_OVERLAP_MS)
        : undefined;
    this.fence('scan start');
    const state = await this.deps.chainState.initialize(base, now, catchUp);
    this.deps.log.info(
      { height: state.tipHeight + 1, catchUp: catchUp !== undefined },
      'block scan starts',
    );
    return state;
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

  /** The mempool, only for payments someone waits on, most recently viewed first, within budget. */
  private async checkMempools(height: number, now: Date, report: CycleReport): Promise<void> {
    const { scan } = this.deps;
    const candidates = (
      await this.deps.repo.listAwaited(
        new Date(now.getTime() - scan.mempoolViewWindowMs),
        new Date(now.getTime() - scan.mempoolNewPaymentMs),
      )
    ).filter(
      (p) =>
        p.status === 'pending' ||
        p.receivedSats < p.amountSats ||
        // A payer watching an unconfirmed payment also sees a replacement or a drop at once.
        p.outputs.some((o) => o.blockHeight === undefined),
    );
    let allowance = this.mempoolAllowance(now);
    for (const payment of candidates) {
      if (allowance <= 0) {
        report.mempoolDeferred++;
        continue;
      }
      this.fence('mempool');
      await this.guarded(report, payment._id, async () => {
        const mempool = await this.deps.chain.addressMempool(payment.address);
        allowance--;
        report.mempoolChecks++;
        const inMempool = new Set(mempool.map((tx) => tx.txid));
        const gone = new Set<string>();
        for (const o of payment.outputs) {
          if (o.blockHeight !== undefined || inMempool.has(o.txid) || gone.has(o.txid)) continue;
          // Not in the mempool: confirmed in a block we have not scanned yet, or gone.
          allowance--;
          if ((await this.deps.chain.transaction(o.txid)) === undefined) gone.add(o.txid);
        }
        const seen = outputsPaying(payment.address, mempool);
        return this.updater.update(
          payment,
          (outputs) => {
            const next: ObservedOutput[] = outputs.filter((o) => !gone.has(o.txid));
            const have = new Set(next.map(outpointKey));
            for (const o of seen) if (!have.has(outpointKey(o))) next.push(o);
            return next;
          },
          height,
        );
      });
    }
    if (report.mempoolDeferred > 0) {
      this.deps.log.info(
        { deferred: report.mempoolDeferred },
        'mempool checks deferred: request budget',
      );
    }
  }

  /**
   * Mempool checks this cycle may make: what the budget has left beyond a reserve for blocks,
   * spread over the cycles left in the window so the hour's checks are not spent in a minute.
   */
  private mempoolAllowance(now: Date): number {
    const budget = this.deps.budget;
    if (!budget) return Number.POSITIVE_INFINITY;
    const left = budget.remaining(now.getTime()) - BLOCK_RESERVE;
    if (!Number.isFinite(left)) return Number.POSITIVE_INFINITY;
    if (left <= 0) return 0;
    const cyclesPerHour = Math.max(1, 3_600_000 / this.deps.scan.intervalMs);
    return Math.max(1, Math.floor(left / Math.min(cyclesPerHour, left)));
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
   * Sends due webhooks. Not part of the cycle, so a slow receiver never delays crediting; every
   * replica may run it (claims are atomic), leader or not.
   */
  async deliverWebhooks(): Promise<{ delivered: number; retrying: number; failed: number }> {
    if (!this.deps.dispatcher) return { delivered: 0, retrying: 0, failed: 0 };
    return this.deps.dispatcher.deliverDue();
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

  /** An admin's "check now": re-reads the chain for one payment and applies the normal rules. */
  async checkNow(id: string): Promise<IssuedPayment> {
    const payment = await this.deps.repo.findById(id);
    if (!payment || !isIssued(payment)) throw new PaymentNotFoundError(id);
    const { height } = await this.deps.chain.tip();
    await this.check(payment, height); // lost races are re-read and retried inside
    await this.creditDue(id);
    await this.publishOutbox(id);
    return this.issued(id);
  }

  /** An admin's forced confirmation: credits regardless of the chain, recorded as manual. */
  async confirmManually(id: string, adminId: string, reason: string): Promise<IssuedPayment> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const payment = await this.issued(id);
      if (payment.credit) throw new AlreadyCreditedError(id);
      const now = this.now();
      const credit: CreditDue = {
        state: 'due',
        credits: payment.credits,
        basisSats: payment.confirmedSats,
        dueAt: now,
        manual: { by: adminId, reason },
      };
      const event = {
        at: now,
        type: 'manual_confirm',
        from: payment.status,
        to: 'confirmed' as const,
        actor: adminId,
        cause: `confirmed by admin ${adminId}: ${reason}`,
      };
      const outbox = outboxRefs(payment, ['payment.manually_confirmed', 'payment.confirmed']);
      if (await this.deps.repo.forceConfirm(payment, credit, event, outbox)) break;
    }
    await this.creditDue(id);
    await this.publishOutbox(id);
    const done = await this.issued(id);
    if (!done.manual) throw new AlreadyCreditedError(id); // the watcher credited it in between
    return done;
  }

  /** Applies due credits to the ledger (exactly once per payment) and marks them done. */
  async creditDue(onlyId?: string): Promise<{ credited: number; errors: number }> {
    const due = await this.deps.repo.listCreditDue(onlyId);
    let credited = 0;
    let errors = 0;
    for (const payment of due) {
      const credit = payment.credit;
      if (credit?.state !== 'due') continue;
      try {
        let entryId = 'none (0 credits)';
        if (credit.credits > 0) {
          const { entry } = await this.deps.ledger.creditPayment({
            paymentId: payment._id,
            userId: payment.userId,
            credits: credit.credits,
            reason: credit.manual
              ? `manual confirmation: ${credit.manual.reason}`
              : `payment ${payment._id}`,
            ...(credit.manual && { actor: credit.manual.by }),
          });
          entryId = entry._id;
        }
        if (await this.deps.repo.markCreditDone(payment._id, entryId, this.now())) {
          credited++;
          this.deps.log.info(
            { paymentId: payment._id, userId: payment.userId, credits: credit.credits, entryId },
            'payment credited',
          );
        }
      } catch (err) {
        errors++;
        this.deps.log.error(
          { err, paymentId: payment._id },
          'crediting failed; will retry next cycle',
        );
      }
    }
    return { credited, errors };
  }

  /** Copies webhook events written with payment changes into the webhook outbox (idempotent). */
  async publishOutbox(onlyId?: string): Promise<number> {
    const payments = await this.deps.repo.listWithOutbox(onlyId);
    let published = 0;
    for (const payment of payments) {
      if (!isIssued(payment)) continue;
      for (const ref of payment.outbox) {
        try {
          await this.deps.outbox.enqueue({
            id: ref.id,
            type: ref.type,
            paymentId: payment._id,
            data: { payment: merchantView(payment, this.deps.view) },
          });
          await this.deps.repo.removeFromOutbox(payment._id, ref.id);
          published++;
        } catch (err) {
          this.deps.log.warn(
            { err, paymentId: payment._id, event: ref.id },
            'publishing a webhook failed; will retry',
          );
        }
      }
    }
    return published;
  }

  private async issued(id: string): Promise<IssuedPayment> {
    const payment = await this.deps.repo.findById(id);
    if (!payment || !isIssued(payment)) throw new PaymentNotFoundError(id);
    return payment;
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

/** `chain.scanFromHeight` is above the chain's tip. */
export class ScanStartError extends Error {
  constructor(readonly height: number) {
    super(`chain.scanFromHeight ${height} is above the chain's tip`);
    this.name = 'ScanStartError';
  }
}
