/**
 * A lease in MongoDB naming the one replica whose watcher leads. Correctness never depends on it
 * — every write is guarded — but two leaders do duplicate work and report `leading` twice, so it
 * must be a real lease:
 *
 * - The holder renews it on a heartbeat, every third of its length, during cycles and between.
 * - Locally it keeps `heldUntil`: the expiry of its last successful renewal, counted from the
 *   moment the renewal was *sent* (the database stores the same instant). `leaseValid()` is true
 *   only while `heldUntil` minus a safety margin (one heartbeat) lies ahead; another replica can
 *   take over only after `heldUntil` itself, so the two never both believe they lead, even with
 *   clocks a little apart or a renewal that went missing.
 * - Every change of holder increments a fencing counter stored with the lease (`fence`), so a
 *   write can be tied to the leadership term it was made in.
 */

/** The shortest lease accepted: renewed every 2 s, valid locally for 4 s after each renewal. */
export const MIN_LEASE_SECONDS = 6;

/** A lease as stored: its holder, expiry and fencing counter. */
export interface LeaseRecord {
  holder: string;
  expiresAt: Date;
  /** Incremented on every change of holder. */
  fence?: number;
}

/** Where leases are kept (storage/leases.ts): single-document guarded writes. */
export interface LeaseRecords {
  find(name: string): Promise<LeaseRecord | null>;
  /** Extends the lease if `holder` holds it (even expired); null if not. */
  extend(name: string, holder: string, expiresAt: Date): Promise<LeaseRecord | null>;
  /** Takes the lease if free or expired at `now`, incrementing the fence; null if held. */
  take(name: string, holder: string, expiresAt: Date, now: Date): Promise<LeaseRecord | null>;
  release(name: string, holder: string): Promise<void>;
}

export interface LeaseState {
  holder: string | null;
  expiresAt: Date | null;
  heldByMe: boolean;
  fence?: number | null;
}

export interface LeaseLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class Lease {
  /** Local view: the lease is ours until this instant (0: not ours). */
  private heldUntil = 0;
  private currentFence: number | undefined;
  private renewing: Promise<boolean> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private heartbeatUsers = 0;

  constructor(
    private readonly leases: LeaseRecords,
    private readonly name: string,
    readonly holder: string,
    private readonly ttlMs: number,
    private readonly now: () => Date = () => new Date(),
    private readonly log?: LeaseLog,
  ) {}

  /** How often the heartbeat renews: a third of the lease. */
  get renewEveryMs(): number {
    return Math.floor(this.ttlMs / 3);
  }

  /** The fencing counter of the term this process holds, or undefined when it does not lead. */
  get fence(): number | undefined {
    return this.leaseValid() ? this.currentFence : undefined;
  }

  /** True only while the last successful renewal still covers now, less one heartbeat of margin. */
  leaseValid(): boolean {
    return this.now().getTime() < this.heldUntil - this.renewEveryMs;
  }

  /** Takes or renews the lease; false while another holder's lease is still valid. */
  acquire(): Promise<boolean> {
    // One renewal at a time: the heartbeat and a tick may ask together.
    this.renewing ??= this.renew().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  /**
   * Renews on a heartbeat until the returned function is called. Nested users share one timer
   * (the loop keeps it running; a cycle run outside the loop keeps it for its own length).
   */
  keepRenewed(): () => void {
    this.heartbeatUsers++;
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => {
        this.acquire().catch((err: unknown) => {
          this.log?.warn({ err }, 'watcher lease renewal failed');
        });
      }, this.renewEveryMs);
      this.heartbeat.unref();
    }
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      if (--this.heartbeatUsers === 0) {
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
      }
    };
  }

  async release(): Promise<void> {
    this.heldUntil = 0;
    await this.leases.release(this.name, this.holder);
  }

  async state(): Promise<LeaseState> {
    const doc = await this.leases.find(this.name);
    const valid = doc !== null && doc.expiresAt > this.now();
    return {
      holder: valid ? doc.holder : null,
      expiresAt: valid ? doc.expiresAt : null,
      heldByMe: valid && doc.holder === this.holder,
      fence: doc?.fence ?? null,
    };
  }

  private async renew(): Promise<boolean> {
    const sentAt = this.now().getTime();
    const expiresAt = new Date(sentAt + this.ttlMs);
    const wasValid = this.leaseValid();
    // Ours already (even if it ran out meanwhile, nobody took it): extend, same term.
    const renewed = await this.leases.extend(this.name, this.holder, expiresAt);
    if (renewed) return this.held(sentAt, renewed.fence, wasValid);
    // Free or expired: take it, starting a new term.
    const taken = await this.leases.take(this.name, this.holder, expiresAt, new Date(sentAt));
    if (taken?.holder === this.holder) return this.held(sentAt, taken.fence, wasValid);
    if (wasValid) this.log?.warn({ holder: this.holder }, 'watcher lease lost');
    this.heldUntil = 0;
    return false;
  }

  private held(sentAt: number, fence: number | undefined, wasValid: boolean): boolean {
    // A slow answer to an older renewal never shortens a newer one.
    this.heldUntil = Math.max(this.heldUntil, sentAt + this.ttlMs);
    if (!wasValid || fence !== this.currentFence) {
      this.log?.info({ holder: this.holder, fence }, 'watcher lease held');
    }
    this.currentFence = fence;
    return true;
  }
}
