/**
 * Runs watcher cycles on a node-cron schedule. Cycles never overlap in a process (a tick that
 * finds the previous cycle still running is skipped, logged and counted); across replicas only
 * the lease holder runs them, and the lease is renewed on a heartbeat for as long as the loop
 * runs. `stop()` lets a running cycle finish.
 */
import cron, { type ScheduledTask } from 'node-cron';
import { cronEvery } from './cron-interval.js';
import type { Lease } from './lease.js';
import type { WebhookDispatcher } from '../webhooks/dispatcher.js';
import type { CycleReport } from './cycle-report.js';
import type { PaymentWatcher } from './payment-watcher.js';
import type { WatcherLog } from './watcher-log.js';

export { cronEvery } from './cron-interval.js';

export interface WatcherLoopHooks {
  /** A scheduled tick found the previous cycle still running and was skipped. Must not throw. */
  onTickSkipped?: () => void;
  /** Sends due webhooks on the loop's schedule; absent when no webhook URL is configured. */
  dispatcher?: Pick<WebhookDispatcher, 'deliverDue'>;
}

export class WatcherLoop {
  private task: ScheduledTask | undefined;
  private webhookTask: ScheduledTask | undefined;
  private running: Promise<CycleReport | undefined> | undefined;
  private delivering: Promise<void> | undefined;
  private stopHeartbeat: (() => void) | undefined;
  private cycleUnderLease = false;
  lastCycle: { at: Date; report: CycleReport } | undefined;

  constructor(
    private readonly watcher: PaymentWatcher,
    private readonly lease: Lease,
    private readonly intervalSeconds: number,
    private readonly log: WatcherLog,
    private readonly hooks: WatcherLoopHooks = {},
  ) {}

  /** This process runs the loop (started and not stopped). */
  get started(): boolean {
    return this.task !== undefined;
  }

  /** Whether this process leads now: its lease is valid, not merely acquired once. */
  get leading(): boolean {
    return this.lease.leaseValid();
  }

  /**
   * For the watcher's write phases: a cycle this loop runs may write only while the lease is
   * valid. Cycles run directly (tests racing two watchers on purpose) are not the loop's to stop.
   */
  cycleMayWrite(): boolean {
    return !this.cycleUnderLease || this.lease.leaseValid();
  }

  start(): void {
    // node-cron's own messages (e.g. a missed execution) go to our JSON log, not the console.
    const cronLog = {
      info: (message: string) => {
        this.log.debug({ source: 'node-cron' }, message);
      },
      warn: (message: string) => {
        this.log.warn({ source: 'node-cron' }, message);
      },
      error: (message: string | Error, err?: Error) => {
        this.log.error({ source: 'node-cron', err: err ?? message }, 'scheduler error');
      },
      debug: (message: string | Error) => {
        this.log.debug({ source: 'node-cron' }, String(message));
      },
    };
    const every = cronEvery(this.intervalSeconds);
    // No `noOverlap`: tick() itself skips (and reports) a tick while a cycle runs.
    this.task = cron.schedule(every, () => this.scheduledTick(), {
      name: 'satwatch-watcher',
      logger: cronLog,
    });
    // Webhooks on their own schedule, on every replica: a slow receiver never delays a cycle.
    this.webhookTask = cron.schedule(every, () => this.deliverWebhooks(), {
      name: 'satwatch-webhooks',
      logger: cronLog,
    });
    this.stopHeartbeat = this.lease.keepRenewed();
    void this.tick(); // first cycle at once, not after a full interval
  }

  /**
   * Sends due webhooks. Not part of the cycle, so a slow receiver never delays crediting; every
   * replica runs it (claims are atomic), leader or not.
   */
  deliverWebhooks(): Promise<void> {
    const { dispatcher } = this.hooks;
    if (!dispatcher) return Promise.resolve();
    this.delivering ??= dispatcher
      .deliverDue()
      .then(
        () => undefined,
        (err: unknown) => {
          this.log.error({ err }, 'webhook delivery failed');
        },
      )
      .finally(() => {
        this.delivering = undefined;
      });
    return this.delivering;
  }

  /** One cycle if this replica holds the lease and no cycle is running here. */
  async tick(): Promise<CycleReport | undefined> {
    if (this.running) return undefined;
    this.running = (async () => {
      // Outside the loop (an admin or a test calling tick), the cycle renews its own lease.
      const release = this.lease.keepRenewed();
      try {
        await this.lease.acquire();
        if (!this.lease.leaseValid()) {
          this.log.debug(
            { holder: (await this.lease.state()).holder },
            'another replica leads the watcher',
          );
          return undefined;
        }
        this.cycleUnderLease = true;
        const report = await this.watcher.runCycle();
        this.lastCycle = { at: new Date(), report };
        return report;
      } catch (err) {
        this.log.error({ err }, 'watcher cycle failed');
        return undefined;
      } finally {
        this.cycleUnderLease = false;
        release();
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Stops scheduling, waits up to `timeoutMs` for a running cycle, releases the lease. */
  async stop(timeoutMs = 30_000): Promise<boolean> {
    const tasks = [this.task, this.webhookTask];
    this.task = this.webhookTask = undefined;
    for (const task of tasks) {
      await task?.stop();
      await task?.destroy();
    }
    const pending = Promise.all([this.running, this.delivering]);
    const timeout = new Promise<'timeout'>((resolve) => {
      setTimeout(() => {
        resolve('timeout');
      }, timeoutMs).unref();
    });
    const finished = (await Promise.race([pending, timeout])) !== 'timeout';
    this.stopHeartbeat?.();
    this.stopHeartbeat = undefined;
    if (finished) await this.lease.release().catch(() => undefined);
    return finished;
  }

  private scheduledTick(): Promise<CycleReport | undefined> {
    if (this.running) {
      this.log.warn(
        { intervalSeconds: this.intervalSeconds },
        'watcher cycle overran; tick skipped',
      );
      this.hooks.onTickSkipped?.();
      return Promise.resolve(undefined);
    }
    return this.tick();
  }
}
