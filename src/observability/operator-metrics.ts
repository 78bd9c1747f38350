/**
 * Metrics that need a scan of MongoDB (the gap limit, the hot balance) or come from a command
 * run elsewhere (reconcile), served from a cache so a scrape never pays for the scan:
 *
 * - satwatch_wallet_issued_addresses, satwatch_wallet_required_gap_limit: see wallet/gap-limit.ts;
 * - satwatch_hot_wallet_sats: outputs recorded on receive addresses and not yet swept;
 * - satwatch_reconcile_mismatches, satwatch_reconcile_last_run_timestamp_seconds: the last
 *   `satwatch reconcile` run (0 and 0 before the first).
 *
 * A figure that cannot be read is left out of the scrape (and logged), never reported as 0.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ReconcileRuns } from '../storage/reconcile-runs.js';
import type { WalletUsage } from '../storage/wallet-usage.js';
import { gapReport } from '../wallet/gap-limit.js';
import { Cached } from './cached.js';
import { METRIC_PREFIX } from './metrics.js';
import { safeErrorText, withTimeout } from './timeout.js';

export interface OperatorMetricsOptions {
  /** What the payments recorded about the receive addresses. */
  usage: Pick<WalletUsage, 'issued' | 'usedIndexes' | 'hotSats'>;
  /** The outcome of the last `satwatch reconcile` run. */
  runs: Pick<ReconcileRuns, 'last'>;
  /** The receiving account's fingerprint (WalletAccount.accountFingerprint). */
  accountFingerprint: string;
  /** How old a cached figure may be before a scrape refreshes it (default 60 s). */
  cacheMs?: number;
  log?: { warn(obj: object, msg: string): void };
}

interface OperatorFigures {
  issued: number;
  requiredGapLimit: number;
  hotSats: number;
  reconcileMismatches: number;
  reconcileAt: number;
}

const DEFAULT_CACHE_MS = 60_000;
/**
 * How long a scrape waits for figures it has never had (the first load, or MongoDB away): past
 * it they are left out of that scrape, and the load goes on for the next one.
 */
const FIRST_LOAD_WAIT_MS = 2000;

export function registerOperatorMetrics(registry: Registry, options: OperatorMetricsOptions): void {
  const { usage, runs } = options;
  const fingerprint = options.accountFingerprint;
  const warn = (err: unknown) =>
    options.log?.warn({ error: safeErrorText(err) }, 'metrics: wallet figures failed');
  const figures = new Cached<OperatorFigures>(
    async () => {
      const [issued, used, hotSats, lastRun] = await Promise.all([
        usage.issued(fingerprint),
        usage.usedIndexes(fingerprint),
        usage.hotSats(fingerprint),
        runs.last(),
      ]);
      return {
        issued,
        requiredGapLimit: gapReport(issued, used).requiredGapLimit,
        hotSats,
        reconcileMismatches: lastRun?.mismatches ?? 0,
        reconcileAt: lastRun ? lastRun.at.getTime() / 1000 : 0,
      };
    },
    options.cacheMs ?? DEFAULT_CACHE_MS,
    warn,
  );
  // prom-client collects every metric of a scrape at once: the gauges share one load.
  const gauge = (name: string, help: string, pick: (f: OperatorFigures) => number) =>
    new Gauge({
      name: `${METRIC_PREFIX}${name}`,
      help,
      registers: [registry],
      async collect() {
        try {
          this.set(pick(await withTimeout(figures.get(), FIRST_LOAD_WAIT_MS, 'wallet figures')));
        } catch (err) {
          warn(err);
          this.remove();
        }
      },
    });
  gauge('wallet_issued_addresses', 'Receive addresses handed out', (f) => f.issued);
  gauge(
    'wallet_required_gap_limit',
    'The smallest gap limit an external wallet needs to see every coin recorded on our addresses',
    (f) => f.requiredGapLimit,
  );
  gauge(
    'hot_wallet_sats',
    'Sats recorded on receive addresses and not yet swept to the cold wallet (cached)',
    (f) => f.hotSats,
  );
  gauge(
    'reconcile_mismatches',
    'Mismatches found by the last `satwatch reconcile` run (0 before the first run)',
    (f) => f.reconcileMismatches,
  );
  gauge(
    'reconcile_last_run_timestamp_seconds',
    'Unix time of the last `satwatch reconcile` run (0: never)',
    (f) => f.reconcileAt,
  );
}
