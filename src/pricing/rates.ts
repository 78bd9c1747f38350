/**
 * Exchange rate providers: a fixed rate from config, mempool.space `/api/v1/prices` and the
 * Kraken public ticker. A rate is a decimal string in fiat per BTC; a provider that is down,
 * slow or answers nonsense raises RateUnavailableError and never yields a guessed rate.
 */
import axios, { type AxiosInstance } from 'axios';
import { isDecimalString } from './amount.js';

export interface Rate {
  currency: string;
  /** Fiat per BTC, as a decimal string. */
  rate: string;
  source: string;
  fetchedAt: Date;
}

export interface RateProvider {
  readonly source: string;
  getRate(currency: string): Promise<Rate>;
}

export class RateUnavailableError extends Error {
  constructor(
    readonly currency: string,
    readonly source: string,
    reason: string,
  ) {
    super(`no ${currency} rate from ${source}: ${reason}`);
    this.name = 'RateUnavailableError';
  }
}

/** Turns a JSON number or string into a positive decimal string, or undefined. */
function positiveDecimal(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || !isDecimalString(text) || /^0(\.0*)?$/.test(text))
    return undefined;
  return text;
}

export class FixedRateProvider implements RateProvider {
  readonly source = 'fixed';
  constructor(
    private readonly rates: Record<string, string>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  getRate(currency: string): Promise<Rate> {
    const rate = positiveDecimal(this.rates[currency]);
    if (!rate)
      return Promise.reject(new RateUnavailableError(currency, this.source, 'not configured'));
    return Promise.resolve({ currency, rate, source: this.source, fetchedAt: this.now() });
  }
}

abstract class HttpRateProvider implements RateProvider {
  abstract readonly source: string;
  protected readonly http: AxiosInstance;

  constructor(
    baseUrl: string,
    timeoutMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.http = axios.create({
      baseURL: baseUrl,
      timeout: timeoutMs,
      headers: { accept: 'application/json' },
    });
  }

  protected abstract fetchRate(currency: string): Promise<unknown>;

  async getRate(currency: string): Promise<Rate> {
    let raw: unknown;
    try {
      raw = await this.fetchRate(currency);
    } catch (err) {
      const reason = axios.isAxiosError(err)
        ? (err.code ?? `HTTP ${err.response?.status ?? '?'}`)
        : 'bad answer';
      throw new RateUnavailableError(currency, this.source, reason);
    }
    const rate = positiveDecimal(raw);
    if (!rate)
      throw new RateUnavailableError(currency, this.source, 'no usable price in the answer');
    return { currency, rate, source: this.source, fetchedAt: this.now() };
  }
}

/** mempool.space: `GET /api/v1/prices` → `{"time": …, "USD": 97000, "EUR": …}`. */
export class MempoolRateProvider extends HttpRateProvider {
  readonly source = 'mempool';
  protected async fetchRate(currency: string): Promise<unknown> {
    const { data } = await this.http.get<Record<string, unknown>>('/api/v1/prices');
    return data[currency];
  }
}

/** Kraken: `GET /0/public/Ticker?pair=XBTUSD` → `{"error":[],"result":{"XXBTZUSD":{"c":["97000.1","0.01"]}}}`. */
export class KrakenRateProvider extends HttpRateProvider {
  readonly source = 'kraken';
  protected async fetchRate(currency: string): Promise<unknown> {
    const { data } = await this.http.get<{
      error?: unknown[];
      result?: Record<string, { c?: unknown[] }>;
    }>('/0/public/Ticker', { params: { pair: `XBT${currency}` } });
    if (data.error && data.error.length > 0) return undefined;
    const ticker = Object.values(data.result ?? {})[0];
    return ticker?.c?.[0]; // last trade price
  }
}

/** Keeps each currency's rate for `maxAgeMs` and shares one request among concurrent callers. */
export class CachedRateProvider implements RateProvider {
  private readonly cache = new Map<string, Rate>();
  private readonly inflight = new Map<string, Promise<Rate>>();

  constructor(
    private readonly inner: RateProvider,
    private readonly maxAgeMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get source(): string {
    return this.inner.source;
  }

  async getRate(currency: string): Promise<Rate> {
    const cached = this.cache.get(currency);
    if (cached && this.now().getTime() - cached.fetchedAt.getTime() < this.maxAgeMs) return cached;
    let pending = this.inflight.get(currency);
    if (!pending) {
      pending = this.inner.getRate(currency).finally(() => this.inflight.delete(currency));
      this.inflight.set(currency, pending);
    }
    const rate = await pending;
    this.cache.set(currency, rate);
    return rate;
  }
}
