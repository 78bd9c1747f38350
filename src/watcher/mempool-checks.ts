/**
 * The mempool, only for payments someone waits on (a checkout viewed, a payment just made), most
 * recently viewed first, within the chain request budget: a payer watching the page sees their
 * transaction, a replacement or a drop at once, while nobody's payment costs a poll otherwise.
 */
import type { ChainSource, ChainTransaction } from '../chain/chain-source.js';
import type { PaymentStore } from '../payments/payment-store.js';
import type { CycleReport } from './cycle-report.js';
import { outpointKey } from '../chain/outpoint.js';
import type { ObservedOutput, PaymentUpdater } from './payment-updates.js';
import type { WatcherLog } from './watcher-log.js';

/** Requests kept back from mempool checks in each window: the tip polls and a few blocks. */
const BLOCK_RESERVE = 30;

/** What the watcher needs of the chain request budget (RequestBudget, src/chain/budget.ts). */
export interface RequestAllowance {
  /** Requests still allowed in the window ending at `nowMs`; Infinity when unlimited. */
  remaining(nowMs: number): number;
}

export interface MempoolSettings {
  /** Checkouts viewed this recently get mempool checks. */
  mempoolViewWindowMs: number;
  /** Payments created this recently get mempool checks. */
  mempoolNewPaymentMs: number;
  /** Cycle interval: spreads the mempool share of the budget over the hour. */
  intervalMs: number;
}

export interface MempoolCheckDeps {
  repo: Pick<PaymentStore, 'listAwaited'>;
  chain: Pick<ChainSource, 'addressMempool' | 'transaction'>;
  updater: PaymentUpdater;
  settings: MempoolSettings;
  /** Absent: no request budget (mempool checks are not rationed). */
  budget?: RequestAllowance;
  log: WatcherLog;
  fence: (phase: string) => void;
  /** Runs one payment's step, counting it; a failure is counted and logged, never thrown. */
  guarded: (
    report: CycleReport,
    paymentId: string,
    step: () => Promise<'unchanged' | 'changed'>,
  ) => Promise<void>;
}

/** The outputs paying `address` in `transactions`, as the chain shows them now. */
export function outputsPaying(address: string, transactions: ChainTransaction[]): ObservedOutput[] {
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

export async function checkMempools(
  deps: MempoolCheckDeps,
  height: number,
  now: Date,
  report: CycleReport,
): Promise<void> {
  const { settings, chain } = deps;
  const candidates = (
    await deps.repo.listAwaited(
      new Date(now.getTime() - settings.mempoolViewWindowMs),
      new Date(now.getTime() - settings.mempoolNewPaymentMs),
    )
  ).filter(
    (p) =>
      p.status === 'pending' ||
      p.receivedSats < p.amountSats ||
      // A payer watching an unconfirmed payment also sees a replacement or a drop at once.
      p.outputs.some((o) => o.blockHeight === undefined),
  );
  let allowance = mempoolAllowance(deps.budget, settings.intervalMs, now);
  for (const payment of candidates) {
    if (allowance <= 0) {
      report.mempoolDeferred++;
      continue;
    }
    deps.fence('mempool');
    await deps.guarded(report, payment._id, async () => {
      const mempool = await chain.addressMempool(payment.address);
      allowance--;
      report.mempoolChecks++;
      const inMempool = new Set(mempool.map((tx) => tx.txid));
      const gone = new Set<string>();
      for (const o of payment.outputs) {
        if (o.blockHeight !== undefined || inMempool.has(o.txid) || gone.has(o.txid)) continue;
        // Not in the mempool: confirmed in a block we have not scanned yet, or gone.
        allowance--;
        if ((await chain.transaction(o.txid)) === undefined) gone.add(o.txid);
      }
      const seen = outputsPaying(payment.address, mempool);
      return deps.updater.update(
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
    deps.log.info({ deferred: report.mempoolDeferred }, 'mempool checks deferred: request budget');
  }
}

/**
 * Mempool checks this cycle may make: what the budget has left beyond a reserve for blocks,
 * spread over the cycles left in the window so the hour's checks are not spent in a minute.
 */
function mempoolAllowance(
  budget: RequestAllowance | undefined,
  intervalMs: number,
  now: Date,
): number {
  if (!budget) return Number.POSITIVE_INFINITY;
  const left = budget.remaining(now.getTime()) - BLOCK_RESERVE;
  if (!Number.isFinite(left)) return Number.POSITIVE_INFINITY;
  if (left <= 0) return 0;
  const cyclesPerHour = Math.max(1, 3_600_000 / intervalMs);
  return Math.max(1, Math.floor(left / Math.min(cyclesPerHour, left)));
}
