/**
 * Failed authentications per client address in a fixed window: past the limit, the address is
 * refused (429) until the window ends, so API keys cannot be guessed at request speed. Only
 * failures count; a caller with a valid key is never slowed by it.
 */
export class FailedAuthLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or undefined when it may try now. */
  blocked(address: string): number | undefined {
    const window = this.current(address);
    if (!window || window.failures < this.maxFailures) return undefined;
    return Math.max(1, Math.ceil((window.start + this.windowMs - this.clock()) / 1000));
  }

  fail(address: string): void {
    const window = this.current(address);
    if (window) window.failures += 1;
    else this.windows.set(address, { start: this.clock(), failures: 1 });
    // Bounded memory: forget windows that ended whenever the map grows large.
    if (this.windows.size > 10_000) {
      for (const [key, w] of this.windows)
        if (w.start + this.windowMs <= this.clock()) this.windows.delete(key);
    }
  }

  private current(address: string): { start: number; failures: number } | undefined {
    const window = this.windows.get(address);
    if (window && window.start + this.windowMs <= this.clock()) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }
}
