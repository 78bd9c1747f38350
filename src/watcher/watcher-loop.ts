/**
 * Runs watcher cycles on a node-cron schedule. Cycles never overlap in a process; across
 * replicas only the lease holder runs them. `stop()` lets a running cycle finish.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Lease } from './lease.js';
import type { CycleReport, PaymentWatcher, WatcherLog } from './payment-watcher.js';

/** A cron expression firing every `seconds` (rounded to what cron can express). */
export function cronEvery(seconds: number): string {
  if (seconds < 60) return `*/${seconds} * * * * *`;
  const minutes = Math.max(1, Math.round(seconds / 60));
  return `0 */${Math.min(minutes, 59)} * * * *`;
}

export class WatcherLoop {
  private task: ScheduledTask | undefined;
  private webhookTask: ScheduledTask | undefined;
  private running: Promise<CycleReport | undefined> | undefined;
  private delivering: Promise<void> | undefined;
  lastCycle: { at: Date; report: CycleReport } | undefined;
  leading = false;

  constructor(
    private readonly watcher: PaymentWatcher,
    private readonly lease: Lease,
    private readonly intervalSeconds: number,
    private readonly log: WatcherLog,
  ) {}

  /** This process runs the loop (started and not stopped). */
  get started(): boolean {
    return this.task !== undefined;
  }

  start(): void {
    this.task = cron.schedule(cronEvery(this.intervalSeconds), () => this.tick(), {
      name: 'satwatch-watcher',
      noOverlap: true,
    });
    // Webhooks on their own schedule, on every replica: a slow receiver never delays a cycle.
    this.webhookTask = cron.schedule(
      cronEvery(this.intervalSeconds),
      () => this.deliverWebhooks(),
      {
        name: 'satwatch-webhooks',
        noOverlap: true,
      },
    );
    void this.tick(); // first cycle at once, not after a full interval
  }

  deliverWebhooks(): Promise<void> {
    this.delivering ??= this.watcher
      .deliverWebhooks()
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
      try {
        this.leading = await this.lease.acquire();
        if (!this.leading) {
          this.log.debug(
            { holder: (await this.lease.state()).holder },
            'another replica leads the watcher',
          );
          return undefined;
        }
        const report = await this.watcher.runCycle();
        this.lastCycle = { at: new Date(), report };
        return report;
      } catch (err) {
        this.log.error({ err }, 'watcher cycle failed');
        return undefined;
      } finally {
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
    if (finished) {
      await this.lease.release().catch(() => undefined);
      this.leading = false;
    }
    return finished;
  }
}
