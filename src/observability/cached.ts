/**
 * A value that is expensive to compute (a scan of the payments) and fine to serve a little old:
 * a scrape gets the cached value, and a stale one starts a refresh in the background instead of
 * waiting for it. Only the first read (or one long past its time) waits for the load.
 */
export class Cached<T> {
  private value: { data: T; at: number } | undefined;
  private loading: Promise<T> | undefined;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<T> {
    const age = this.value === undefined ? Infinity : this.now() - this.value.at;
    if (this.value !== undefined && age < this.ttlMs) return this.value.data;
    const loading = this.refresh();
    // Stale but recent enough: serve it while the refresh runs (its failure is reported).
    if (this.value !== undefined && age < this.ttlMs * STALE_FACTOR + MIN_STALE_MS) {
      loading.catch(this.onError);
      return this.value.data;
    }
    return loading;
  }

  private refresh(): Promise<T> {
    this.loading ??= this.load()
      .then((data) => {
        this.value = { data, at: this.now() };
        return data;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}

/** How many times its TTL a value may be served stale while a refresh is under way. */
const STALE_FACTOR = 5;
const MIN_STALE_MS = 60_000;
