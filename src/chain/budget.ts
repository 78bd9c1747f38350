/**
 * A request budget over a sliding window (an hour by default): public Esplora servers cap each
 * client (Blockstream: 700 requests per hour per IP), and a client over the cap is throttled
 * for good. The budget only counts and answers; the caller decides what to skip. Time is
 * passed in (milliseconds), so the budget is pure and tests can simulate an hour.
 */

export const HOUR_MS = 3_600_000;

/** Hosts with a per-client request cap, and the default limit kept under it. */
const CAPPED_HOSTS = ['blockstream.info', 'mempool.space'];
export const PUBLIC_REQUEST_LIMIT = 600;

export class RequestBudget {
  /** [start of a one-second slot in ms, requests in it], oldest first: at most one hour of slots. */
  private readonly slots: [number, number][] = [];
  private total = 0;

  constructor(
    /** Requests allowed per window; null is unlimited (still counted). */
    readonly limit: number | null,
    readonly windowMs: number = HOUR_MS,
  ) {
    if (limit !== null && (!Number.isSafeInteger(limit) || limit < 1))
      throw new RangeError(`a request limit must be a positive integer or null, got ${limit}`);
    if (!Number.isSafeInteger(windowMs) || windowMs < 1000)
      throw new RangeError(`a budget window must be at least a second, got ${windowMs} ms`);
  }

  /** Counts `count` requests sent at `now`. */
  record(now: number, count = 1): void {
    const slot = Math.floor(now / 1000) * 1000;
    const last = this.slots.at(-1);
    if (last !== undefined && last[0] === slot) last[1] += count;
    else if (last !== undefined && slot < last[0])
      last[1] += count; // a clock step back: keep order
    else this.slots.push([slot, count]);
    this.total += count;
    this.prune(now);
  }

  /** Requests sent in the window ending at `now`. */
  used(now: number): number {
    this.prune(now);
    return this.total;
  }

  /** Requests left in the window ending at `now`; Infinity when unlimited. */
  remaining(now: number): number {
    if (this.limit === null) return Infinity;
    return Math.max(0, this.limit - this.used(now));
  }

  private prune(now: number): void {
    // A slot leaves once all of it is older than the window: counts err on the safe side.
    const oldest = now - this.windowMs;
    while (this.slots.length > 0 && (this.slots[0]?.[0] ?? Infinity) + 1000 <= oldest) {
      this.total -= this.slots.shift()?.[1] ?? 0;
    }
  }
}

/**
 * 600 requests per hour when any base URL is a public capped service (Blockstream's or
 * mempool.space's API, or a subdomain of them), null (unlimited) for one's own server.
 */
export function defaultRequestLimit(baseUrls: string[]): number | null {
  const capped = baseUrls.some((raw) => {
    let host: string;
    try {
      host = new URL(raw).hostname.toLowerCase();
    } catch {
      return false;
    }
    return CAPPED_HOSTS.some((capped) => host === capped || host.endsWith(`.${capped}`));
  });
  return capped ? PUBLIC_REQUEST_LIMIT : null;
}
