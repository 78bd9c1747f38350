/**
 * `/readyz`: ready when MongoDB answers a ping and the chain API answers `tip()`, each within a
 * short timeout. The watcher's lease is reported but never makes a replica unready: a standby
 * replica serves the API and takes the lease over when the leader stops.
 */
import type { LeaseState } from '../watcher/lease.js';
import { safeErrorText, withTimeout } from './timeout.js';

export interface CheckResult {
  ok: boolean;
  /** Why it failed: no secrets, no URLs with credentials. */
  error?: string;
}

export interface WatcherStatus {
  /** This process runs the watcher loop. */
  enabled: boolean;
  /** This process holds the watcher lease. */
  leading: boolean;
  /** Who holds the lease now (null: nobody, or MongoDB did not say). */
  holder: string | null;
  /** When this process last finished a cycle (ISO time), null if never. */
  lastCycleAt: string | null;
}

export interface ReadinessReport {
  status: 'ready' | 'unready';
  checks: {
    mongo: CheckResult;
    chain: CheckResult & { tipHeight?: number };
    watcher: WatcherStatus;
  };
}

type Probes = Pick<ReadinessReport['checks'], 'mongo' | 'chain'>;

export interface ReadinessDeps {
  /** Resolves when MongoDB answers (e.g. a `ping` command). */
  pingMongo: (signal: AbortSignal) => Promise<unknown>;
  /** The chain API's tip. */
  chainTip: () => Promise<{ height: number }>;
  watcher: {
    enabled: () => boolean;
    /** Last known leadership, used when the lease cannot be read. */
    leading: () => boolean;
    lastCycleAt: () => Date | undefined;
    lease: () => Promise<LeaseState>;
  };
  /** Per check (default 2000 ms). */
  timeoutMs?: number;
  /**
   * How long one round of probes answers every caller (default 0: none). `/readyz` needs no
   * key, so without it each call would cost an upstream chain request: a public Esplora bans
   * an address that asks too often, and the watcher goes blind.
   */
  cacheMs?: number;
  /** Milliseconds now (tests). */
  clock?: () => number;
}

export class Readiness {
  readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly clock: () => number;
  /** The latest round of probes, shared by every caller until it is `cacheMs` old. */
  private round: { startedAt: number; report: Promise<Probes> } | undefined;
  private pending = false;

  constructor(private readonly deps: ReadinessDeps) {
    this.timeoutMs = deps.timeoutMs ?? 2000;
    this.cacheMs = deps.cacheMs ?? 0;
    this.clock = deps.clock ?? Date.now;
  }

  async check(): Promise<ReadinessReport> {
    const [{ mongo, chain }, watcher] = await Promise.all([this.probes(), this.watcher()]);
    return {
      status: mongo.ok && chain.ok ? 'ready' : 'unready',
      checks: { mongo, chain, watcher },
    };
  }

  /** The MongoDB and chain probes: a round still running is shared, a finished one for cacheMs. */
  private probes(): Promise<Probes> {
    const now = this.clock();
    if (this.round && (this.pending || this.round.startedAt + this.cacheMs > now)) {
      return this.round.report;
    }
    const report = Promise.all([this.mongo(), this.chain()]).then(([mongo, chain]) => ({
      mongo,
      chain,
    }));
    this.round = { startedAt: now, report };
    this.pending = true;
    void report.finally(() => {
      this.pending = false;
    });
    return report;
  }

  private async mongo(): Promise<CheckResult> {
    try {
      await withTimeout(
        this.deps.pingMongo(AbortSignal.timeout(this.timeoutMs)),
        this.timeoutMs,
        'MongoDB',
      );
      return { ok: true };
    } catch (err) {
      return { ok: false, error: safeErrorText(err) };
    }
  }

  private async chain(): Promise<CheckResult & { tipHeight?: number }> {
    try {
      const tip = await withTimeout(this.deps.chainTip(), this.timeoutMs, 'the chain API');
      return { ok: true, tipHeight: tip.height };
    } catch (err) {
      return { ok: false, error: safeErrorText(err) };
    }
  }

  private async watcher(): Promise<WatcherStatus> {
    const w = this.deps.watcher;
    const lastCycleAt = w.lastCycleAt()?.toISOString() ?? null;
    try {
      const lease = await withTimeout(w.lease(), this.timeoutMs, 'MongoDB');
      // Leading as the metric says it: the stored lease names us *and* our renewal still covers now.
      const leading = lease.heldByMe && w.leading();
      return { enabled: w.enabled(), leading, holder: lease.holder, lastCycleAt };
    } catch {
      return { enabled: w.enabled(), leading: w.leading(), holder: null, lastCycleAt };
    }
  }
}
