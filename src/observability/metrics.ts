/**
 * Prometheus metrics for one daemon, in a registry of its own (several daemons share a process
 * in tests, so nothing goes into prom-client's global registry).
 *
 * Business state (payments, credited sums, webhook events, sweeps) is counted in MongoDB at
 * scrape time, so every replica reports the same truth whichever one Prometheus asks. Watcher
 * cycles are observed in the process that runs them (the lease holder); chain API traffic is
 * this process's own.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EsploraChainSource, EsploraStats } from '../chain/esplora.js';
import { PAYMENT_STATUSES } from '../payments/payment.js';
import type { BusinessCounts, GroupRow } from '../storage/metric-counts.js';
import { SWEEP_STATES } from '../forwarding/sweep.js';
import type { CycleReport } from '../watcher/payment-watcher.js';
import { WEBHOOK_STATES } from '../webhooks/outbox.js';
import { safeErrorText, withTimeout } from './timeout.js';

export const METRIC_PREFIX = 'satwatch_';

/** Sweep states whose fee is spent (or about to be): broadcast and confirmed. */
const FEE_SPENT_STATES: readonly string[] = ['broadcast', 'confirmed'];

export interface MetricsSources {
  /** The MongoDB counts of a scrape (storage/metric-counts.ts). */
  counts: { count(): Promise<BusinessCounts> };
  /** Chain API counters are exported only for an Esplora chain source. */
  chain?: EsploraChainSource;
  /** Whether this process holds a valid watcher lease now (see Lease.leaseValid). */
  leading?: () => boolean;
  /** The chain request budget: requests used in the rolling hour, and the limit (0: unlimited). */
  budget?: { used(nowMs: number): number; limit: number | null };
  /** Longest wait for the MongoDB counts of one scrape (default 5000 ms). */
  queryTimeoutMs?: number;
  /**
   * Scrapes within this long of the last count reuse it (default 0: count at every scrape), so
   * frequent or concurrent scrapes cost one round of aggregations, not one each.
   */
  countsCacheMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

export class DaemonMetrics {
  readonly registry = new Registry();
  /** When this process last finished a watcher cycle. */
  lastCycleAt: Date | undefined;

  private readonly sources: MetricsSources;
  private readonly queryTimeoutMs: number;
  private readonly mongoUp: Gauge;
  private readonly paymentsByStatus: Gauge<'status'>;
  private readonly paymentsNeedingReview: Gauge;
  private readonly paymentsLate: Gauge;
  private readonly creditedSats: Gauge;
  private readonly creditedCredits: Gauge;
  private readonly webhookEvents: Gauge<'state'>;
  private readonly sweeps: Gauge<'state'>;
  private readonly sweepFees: Gauge;
  private readonly cycleDuration: Histogram;
  private readonly cycles: Counter;
  private readonly cyclesFailed: Counter;
  private readonly cycleErrors: Counter;
  private readonly paymentsChanged: Counter;
  private readonly paymentsCredited: Counter;
  private readonly lastCycle: Gauge;
  private readonly ticksSkipped: Counter;
  private readonly blocksApplied: Counter;
  private readonly blocksDisconnected: Counter;
  private readonly blocksRefused: Counter;
  private readonly scanHeight: Gauge;
  private readonly mempoolChecks: Counter;
  private readonly mempoolDeferred: Counter;

  constructor(sources: MetricsSources) {
    this.sources = sources;
    this.queryTimeoutMs = sources.queryTimeoutMs ?? 5000;
    const registers = [this.registry];
    const name = (n: string) => `${METRIC_PREFIX}${n}`;
    collectDefaultMetrics({ register: this.registry });

    this.mongoUp = new Gauge({
      name: name('metrics_mongo_up'),
      help: '1 if the MongoDB counts of this scrape succeeded; 0 leaves the payment, webhook and sweep metrics out',
      registers,
    });
    this.paymentsByStatus = new Gauge({
      name: name('payments'),
      help: 'Issued payments by status (counted in MongoDB at scrape time)',
      labelNames: ['status'],
      registers,
    });
    this.paymentsNeedingReview = new Gauge({
      name: name('payments_needing_review'),
      help: 'Payments flagged needsReview (e.g. a reorg took money back after crediting)',
      registers,
    });
    this.paymentsLate = new Gauge({
      name: name('payments_late'),
      help: 'Payments flagged late (money arrived after expiry)',
      registers,
    });
    this.creditedSats = new Gauge({
      name: name('credited_sats'),
      help: 'Sum of the confirmed sats credits were based on, over credited payments',
      registers,
    });
    this.creditedCredits = new Gauge({
      name: name('credited_credits'),
      help: 'Sum of the credits applied to balances, over credited payments',
      registers,
    });
    this.webhookEvents = new Gauge({
      name: name('webhook_events'),
      help: 'Webhook outbox events by delivery state',
      labelNames: ['state'],
      registers,
    });
    this.sweeps = new Gauge({
      name: name('sweeps'),
      help: 'Sweeps to the cold wallet by state',
      labelNames: ['state'],
      registers,
    });
    this.sweepFees = new Gauge({
      name: name('sweep_fees_sats'),
      help: 'Total fees of sweeps broadcast or confirmed, in sats',
      registers,
    });

    this.cycleDuration = new Histogram({
      name: name('watcher_cycle_duration_seconds'),
      help: 'Wall time of watcher cycles run by this process',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.cycles = new Counter({
      name: name('watcher_cycles_total'),
      help: 'Watcher cycles run by this process (completed or failed)',
      registers,
    });
    this.cyclesFailed = new Counter({
      name: name('watcher_cycles_failed_total'),
      help: 'Watcher cycles that ended early on an error (e.g. MongoDB unreachable)',
      registers,
    });
    this.cycleErrors = new Counter({
      name: name('watcher_cycle_errors_total'),
      help: 'Errors in watcher cycles: failed payment checks, credits, sweeps, chain tip, and failed cycles',
      registers,
    });
    this.paymentsChanged = new Counter({
      name: name('watcher_payments_changed_total'),
      help: 'Payment state changes written by watcher cycles',
      registers,
    });
    this.paymentsCredited = new Counter({
      name: name('watcher_payments_credited_total'),
      help: 'Payments credited by watcher cycles',
      registers,
    });
    this.lastCycle = new Gauge({
      name: name('watcher_last_cycle_timestamp_seconds'),
      help: 'Unix time this process last finished a watcher cycle (0: none yet)',
      registers,
    });
    this.ticksSkipped = new Counter({
      name: name('watcher_ticks_skipped_total'),
      help: 'Scheduled watcher ticks skipped because the previous cycle was still running',
      registers,
    });
    this.blocksApplied = new Counter({
      name: name('watcher_blocks_applied_total'),
      help: 'Blocks the block scan applied (matched and recorded)',
      registers,
    });
    this.blocksDisconnected = new Counter({
      name: name('watcher_blocks_disconnected_total'),
      help: 'Blocks the block scan disconnected in reorgs',
      registers,
    });
    this.blocksRefused = new Counter({
      name: name('watcher_blocks_refused_total'),
      help: 'Blocks refused because no chain server sent one that verifies (hash, merkle root, proof of work, difficulty, parent link)',
      registers,
    });
    this.scanHeight = new Gauge({
      name: name('watcher_scan_height'),
      help: 'Height of the last block the block scan applied (-1: none yet)',
      registers,
    });
    this.scanHeight.set(-1);
    this.mempoolChecks = new Counter({
      name: name('watcher_mempool_checks_total'),
      help: 'Address mempool checks for watched or new checkouts',
      registers,
    });
    this.mempoolDeferred = new Counter({
      name: name('watcher_mempool_checks_deferred_total'),
      help: 'Mempool checks left out of a cycle for lack of request budget',
      registers,
    });
    const { budget } = sources;
    if (budget) {
      new Gauge({
        name: name('chain_budget_used'),
        help: 'Chain API requests made in the last hour (the request budget window)',
        registers,
        collect() {
          this.set(budget.used(Date.now()));
        },
      });
      new Gauge({
        name: name('chain_budget_limit'),
        help: 'Chain API requests allowed per hour (chain.maxRequestsPerHour; 0: unlimited)',
        registers,
        collect() {
          this.set(budget.limit ?? 0);
        },
      });
    }
    const { leading } = sources;
    if (leading) {
      new Gauge({
        name: name('watcher_leading'),
        help: '1 if this process holds a valid watcher lease at scrape time',
        registers,
        collect() {
          this.set(leading() ? 1 : 0);
        },
      });
    }
    if (sources.chain) this.chainMetrics(sources.chain, name);
  }

  /** The Content-Type of `scrape()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Records a finished cycle (the watcher's `onCycle` hook). */
  observeCycle(report: CycleReport): void {
    this.cycles.inc();
    this.cycleDuration.observe(report.durationMs / 1000);
    this.cycleErrors.inc(report.errors);
    this.paymentsChanged.inc(report.changed);
    this.paymentsCredited.inc(report.credited);
    this.blocksApplied.inc(report.blocksApplied);
    this.blocksDisconnected.inc(report.blocksDisconnected);
    this.blocksRefused.inc(report.blocksRefused);
    this.mempoolChecks.inc(report.mempoolChecks);
    this.mempoolDeferred.inc(report.mempoolDeferred);
    if (report.tipHeight !== null) this.scanHeight.set(report.tipHeight);
    this.markCycle();
  }

  /** Records a scheduled tick skipped because a cycle overran its interval. */
  observeSkippedTick(): void {
    this.ticksSkipped.inc();
  }

  /** Records a cycle that threw after `durationMs` (the watcher's `onCycleFailed` hook). */
  observeFailedCycle(durationMs: number): void {
    this.cycles.inc();
    this.cyclesFailed.inc();
    this.cycleErrors.inc();
    this.cycleDuration.observe(durationMs / 1000);
    this.markCycle();
  }

  /** The exposition text: MongoDB counts refreshed (unless fresh enough), then every metric. */
  async scrape(): Promise<string> {
    const cacheMs = this.sources.countsCacheMs ?? 0;
    const now = Date.now();
    if (!this.counting || (!this.counting.running && this.counting.at + cacheMs <= now)) {
      const counting = { at: now, running: true, done: this.refresh() };
      void counting.done.finally(() => {
        counting.running = false;
      });
      this.counting = counting;
    }
    await this.counting.done;
    return this.registry.metrics();
  }

  /** The latest round of MongoDB counts (shared by concurrent and cached scrapes). */
  private counting: { at: number; running: boolean; done: Promise<void> } | undefined;

  private markCycle(): void {
    this.lastCycleAt = new Date();
    this.lastCycle.set(this.lastCycleAt.getTime() / 1000);
  }

  /** Reads the counts from MongoDB; on failure the MongoDB metrics are left out of this scrape. */
  private async refresh(): Promise<void> {
    const counted = [
      this.paymentsByStatus,
      this.paymentsNeedingReview,
      this.paymentsLate,
      this.creditedSats,
      this.creditedCredits,
      this.webhookEvents,
      this.sweeps,
      this.sweepFees,
    ];
    try {
      const counts = await withTimeout(this.sources.counts.count(), this.queryTimeoutMs, 'MongoDB');
      const credited = counts.credited;
      const sweeps = counts.sweepsByState;
      for (const gauge of counted) gauge.reset();
      this.setByLabel(this.paymentsByStatus, 'status', PAYMENT_STATUSES, counts.paymentsByStatus);
      this.paymentsNeedingReview.set(counts.needsReview);
      this.paymentsLate.set(counts.late);
      this.creditedSats.set(num(credited[0]?.sats));
      this.creditedCredits.set(num(credited[0]?.credits));
      this.setByLabel(this.webhookEvents, 'state', WEBHOOK_STATES, counts.webhookEventsByState);
      this.setByLabel(this.sweeps, 'state', SWEEP_STATES, sweeps);
      this.sweepFees.set(
        sweeps
          .filter((row) => typeof row._id === 'string' && FEE_SPENT_STATES.includes(row._id))
          .reduce((sum, row) => sum + num(row.fees), 0),
      );
      this.mongoUp.set(1);
    } catch (err) {
      for (const gauge of counted) gauge.reset();
      // A labelled gauge that was reset prints nothing; an unlabelled one would print 0, a lie.
      for (const gauge of [
        this.paymentsNeedingReview,
        this.paymentsLate,
        this.creditedSats,
        this.creditedCredits,
        this.sweepFees,
      ])
        gauge.remove();
      this.mongoUp.set(0);
      this.sources.log?.warn({ error: safeErrorText(err) }, 'metrics: MongoDB counts failed');
    }
  }

  /** Every known label value (0 when absent), plus any other value the database holds. */
  private setByLabel<L extends string>(
    gauge: Gauge<L>,
    label: L,
    known: readonly string[],
    rows: GroupRow[],
  ): void {
    const counts = new Map<string, number>(known.map((value) => [value, 0]));
    for (const row of rows) {
      const key = typeof row._id === 'string' ? row._id : 'unknown';
      counts.set(key, (counts.get(key) ?? 0) + num(row.n));
    }
    for (const [value, n] of counts) gauge.set({ [label]: value } as Record<L, string>, n);
  }

  /** Counters rebuilt from the chain source's own tallies at every collect. */
  private chainMetrics(chain: EsploraChainSource, name: (n: string) => string): void {
    const registers = [this.registry];
    const byKey = <L extends string>(
      metric: string,
      help: string,
      label: L,
      pick: (stats: EsploraStats) => Partial<Record<string, number>>,
    ) =>
      new Counter<L>({
        name: name(metric),
        help,
        labelNames: [label],
        registers,
        collect() {
          this.reset();
          for (const [key, n] of Object.entries(pick(chain.stats())))
            this.inc({ [label]: key } as Record<L, string>, n ?? 0);
        },
      });
    byKey(
      'chain_calls_total',
      'Chain API calls by endpoint (one call may take several requests)',
      'endpoint',
      (s) => s.calls,
    );
    byKey(
      'chain_requests_total',
      'Chain API HTTP requests by endpoint',
      'endpoint',
      (s) => s.requests,
    );
    byKey(
      'chain_failures_total',
      'Chain API calls that failed after their retries, by endpoint',
      'endpoint',
      (s) => s.failures,
    );
    byKey(
      'chain_request_outcomes_total',
      'Chain API HTTP requests by outcome (ok, answer, rate-limited, server-error, timeout, network, …)',
      'outcome',
      (s) => s.outcomes,
    );
    byKey(
      'chain_blocks_refused_total',
      'Raw blocks refused by verification (tampered, or no valid proof of work), by server host',
      'host',
      (s) => s.refusedBlocks,
    );
    new Counter({
      name: name('chain_retries_total'),
      help: 'Chain API requests beyond the first of each call',
      registers,
      collect() {
        this.reset();
        this.inc(chain.stats().retries);
      },
    });
  }
}
