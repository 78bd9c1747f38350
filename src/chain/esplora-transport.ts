/**
 * Esplora over HTTP: failover across base URLs, bounded retries with exponential backoff and
 * jitter, at most `maxConcurrency` requests in flight, an optional bearer token (never in an
 * error), every request counted (stats, and the request budget when one is given).
 *
 * Retry model: one *round* tries every base URL once, starting with the last one that answered;
 * failing over to the next URL is immediate. After a round in which no URL answered, the client
 * waits (backoff with jitter, or the server's Retry-After, both capped at `maxDelayMs`) and
 * starts another round, up to `retries` more rounds. The worst case for one call is therefore
 * (retries + 1) × urls × timeoutMs + retries × maxDelayMs.
 */
import axios, { type AxiosInstance } from 'axios';
import type { RequestBudget } from './budget.js';
import { BlockVerificationError, ChainSourceError } from './chain-source.js';
import { InvalidBlock, MalformedAnswer } from './esplora-answers.js';

export interface EsploraTransportOptions {
  /** Esplora API roots, e.g. `https://blockstream.info/api`; tried in order. */
  baseUrls: string[];
  /** Per HTTP request, wall clock. */
  timeoutMs: number;
  /** HTTP requests in flight at once, per instance. */
  maxConcurrency: number;
  /** Extra rounds over the base URLs after the first one fails. */
  retries: number;
  /** Sent as `Authorization: Bearer <token>`; never appears in errors. */
  bearerToken?: string;
  /** First backoff wait (default 200 ms); doubles every round. */
  baseDelayMs?: number;
  /** Longest single wait, Retry-After included (default 2000 ms). */
  maxDelayMs?: number;
  /** Every HTTP request sent (each attempt) is recorded here. */
  budget?: RequestBudget;
  /**
   * Told of every raw block refused by verification, with the host that served it (for the
   * daemon's log), also when the next base URL then serves the block.
   */
  onBlockRefused?: (refusal: BlockVerificationError) => void;
  /** For tests: how to wait, the jitter source in [0, 1), and the clock (ms) the budget reads. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** What one HTTP attempt came to. */
export type EsploraOutcome =
  | 'ok'
  | 'answer'
  | 'rate-limited'
  | 'server-error'
  | 'unexpected-status'
  | 'timeout'
  | 'network'
  | 'truncated'
  | 'malformed'
  /** A raw block that failed verification (wrong hash, merkle root or proof of work). */
  | 'invalid-block';

export interface EsploraStats {
  /** Logical calls (one `transaction()` is one call, however many attempts it took). */
  calls: Record<string, number>;
  /** HTTP requests sent, by endpoint pattern (e.g. `/address/:a/txs`). */
  requests: Record<string, number>;
  /** HTTP requests by what they came to. */
  outcomes: Partial<Record<EsploraOutcome, number>>;
  /** Calls that ended in ChainSourceError, by endpoint pattern. */
  failures: Record<string, number>;
  /** Requests beyond each call's first. */
  retries: number;
  /** Raw blocks refused by verification, by the host of the base URL that served them. */
  refusedBlocks: Record<string, number>;
}
export interface Answer {
  status: number;
  /** The body as text (for a binary request, only when the status is not 2xx). */
  body: string;
  /** The body as bytes, for a binary request. */
  bytes?: Uint8Array;
}
type AttemptResult =
  | { kind: 'answer'; answer: Answer }
  | { kind: 'failed'; outcome: EsploraOutcome; status?: number; retryAfterMs?: number };
const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });
/** A counting semaphore: at most `limit` holders at once, first come first served. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
function retryAfterMs(header: unknown, now: number): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function classifyError(err: unknown): EsploraOutcome {
  if (!axios.isAxiosError(err)) return 'network';
  switch (err.code) {
    case 'ECONNABORTED':
    case 'ETIMEDOUT':
    case 'ERR_CANCELED':
      return 'timeout';
    case 'ERR_BAD_RESPONSE':
      return 'truncated';
    default:
      // A connection closed in the middle of a body surfaces as a reset while reading it.
      return err.response === undefined ? 'network' : 'truncated';
  }
}
export class EsploraTransport {
  readonly baseUrls: readonly string[];
  /** host[:port] of each base URL, for error messages (no path, no credentials). */
  private readonly hosts: readonly string[];
  /** Kept only to scrub it from server text we quote (a server may echo request headers). */
  private readonly token: string | undefined;
  private readonly http: AxiosInstance;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly semaphore: Semaphore;
  /** Every request sent is recorded in it (absent: not counted against any budget). */
  readonly budget: RequestBudget | undefined;
  private readonly onBlockRefused: ((refusal: BlockVerificationError) => void) | undefined;
  /** Index of the base URL that answered last; every call starts there. */
  private preferred = 0;
  private counters: EsploraStats = EsploraTransport.emptyStats();

  constructor(options: EsploraTransportOptions) {
    if (options.baseUrls.length === 0) throw new Error('EsploraChainSource needs a base URL');
    this.baseUrls = options.baseUrls.map((raw) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error('an esplora base URL is not a URL');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`esplora base URL for ${url.host} must be http or https`);
      return raw.replace(/\/+$/, '');
    });
    for (const [name, value, min] of [
      ['timeoutMs', options.timeoutMs, 1],
      ['maxConcurrency', options.maxConcurrency, 1],
      ['retries', options.retries, 0],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < min)
        throw new Error(`EsploraChainSource ${name} must be an integer ≥ ${min}`);
    }
    this.hosts = this.baseUrls.map((url) => new URL(url).host);
    this.timeoutMs = options.timeoutMs;
    this.retries = options.retries;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 2000;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.budget = options.budget;
    this.onBlockRefused = options.onBlockRefused;
    this.semaphore = new Semaphore(options.maxConcurrency);
    const headers: Record<string, string> = { accept: 'application/json, text/plain' };
    this.token = options.bearerToken === '' ? undefined : options.bearerToken;
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    this.http = axios.create({
      timeout: options.timeoutMs,
      headers,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      // A redirect could carry the token elsewhere; esplora never redirects.
      maxRedirects: 0,
    });
  }
  /** A copy of the counters since construction or the last `resetStats()`. */
  stats(): EsploraStats {
    return structuredClone(this.counters);
  }

  resetStats(): void {
    this.counters = EsploraTransport.emptyStats();
  }

  /** The base URL calls start with (the last one that answered). */
  get currentBaseUrl(): string {
    return this.baseUrls[this.preferred] ?? '';
  }
  private static emptyStats(): EsploraStats {
    return {
      calls: {},
      requests: {},
      outcomes: {},
      failures: {},
      retries: 0,
      refusedBlocks: {},
    };
  }

  /** A 2xx body through `read`; any other status the caller did not handle is a definitive error. */
  ok<T>(answer: Answer, endpoint: string, read: (body: string) => T): T {
    if (answer.status >= 200 && answer.status < 300) return read(answer.body);
    throw new ChainSourceError(
      `esplora answered ${answer.status} on ${endpoint}: ${this.redact(answer.body.trim()).slice(0, 200)}`,
      endpoint,
      answer.status,
    );
  }

  /** Server text with the bearer token blanked out, before it goes into any error. */
  redact(text: string): string {
    return this.token === undefined ? text : text.split(this.token).join('[redacted]');
  }

  private bump(table: Record<string, number>, key: string): void {
    table[key] = (table[key] ?? 0) + 1;
  }

  private record(outcome: EsploraOutcome): void {
    this.counters.outcomes[outcome] = (this.counters.outcomes[outcome] ?? 0) + 1;
  }

  private backoff(round: number, retryAfter: number | undefined): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (round - 1));
    const jittered = ceiling / 2 + (this.random() * ceiling) / 2;
    return Math.min(this.maxDelayMs, Math.max(jittered, retryAfter ?? 0));
  }

  /**
   * Runs one logical call: `read` turns an answer (2xx, or a 4xx other than 408/425/429) into
   * the result, may throw MalformedAnswer to have it retried, or any other error to end the
   * call at once.
   */
  async call<T>(
    endpoint: string,
    path: string,
    read: (answer: Answer) => T,
    request: { postBody?: string; binary?: boolean } = {},
  ): Promise<T> {
    this.bump(this.counters.calls, endpoint);
    const count = this.baseUrls.length;
    let attempts = 0;
    let lastOutcome: EsploraOutcome = 'network';
    let lastStatus: number | undefined;
    let lastHost = '';
    let retryAfter: number | undefined;
    /** Base URLs that served an invalid block: a lie is not retried within the call. */
    const refused = new Map<number, BlockVerificationError>();
    for (let round = 0; round <= this.retries && refused.size < count; round++) {
      if (round > 0) await this.sleep(this.backoff(round, retryAfter));
      retryAfter = undefined;
      const start = this.preferred;
      for (let i = 0; i < count; i++) {
        const index = (start + i) % count;
        if (refused.has(index)) continue;
        if (attempts++ > 0) this.counters.retries++;
        const result = await this.attempt(index, endpoint, path, request);
        lastHost = this.hosts[index] ?? '';
        if (result.kind === 'failed') {
          this.record(result.outcome);
          lastOutcome = result.outcome;
          if (result.status !== undefined) lastStatus = result.status;
          if (result.retryAfterMs !== undefined)
            retryAfter = Math.max(retryAfter ?? 0, result.retryAfterMs);
          continue;
        }
        let value: T;
        try {
          value = read(result.answer);
        } catch (err) {
          if (err instanceof MalformedAnswer) {
            this.record('malformed');
            lastOutcome = 'malformed';
            lastStatus = result.answer.status;
            continue;
          }
          if (err instanceof InvalidBlock) {
            this.record('invalid-block');
            this.bump(this.counters.refusedBlocks, lastHost);
            const refusal = new BlockVerificationError(
              err.refusal.hash,
              err.refusal.reason,
              lastHost,
            );
            refused.set(index, refusal);
            this.onBlockRefused?.(refusal);
            lastOutcome = 'invalid-block';
            continue;
          }
          this.record('answer');
          this.preferred = index;
          if (err instanceof ChainSourceError) this.bump(this.counters.failures, endpoint);
          throw err;
        }
        this.record(result.answer.status < 300 ? 'ok' : 'answer');
        this.preferred = index;
        return value;
      }
    }
    this.bump(this.counters.failures, endpoint);
    // A server that lied outranks one that was down: the caller learns a block was forged.
    const refusal = [...refused.values()].at(-1);
    if (refusal !== undefined) throw refusal;
    const statusText = lastStatus === undefined ? '' : `, last status ${lastStatus}`;
    throw new ChainSourceError(
      `esplora ${endpoint} failed after ${attempts} attempts (last: ${lastOutcome} from ${lastHost}${statusText})`,
      endpoint,
      lastStatus,
    );
  }

  private async attempt(
    index: number,
    endpoint: string,
    path: string,
    request: { postBody?: string; binary?: boolean },
  ): Promise<AttemptResult> {
    const { postBody, binary = false } = request;
    return this.semaphore.run(async () => {
      this.bump(this.counters.requests, endpoint);
      this.budget?.record(this.now());
      const url = `${this.baseUrls[index] ?? ''}${path}`;
      let status: number;
      let body: unknown;
      let retryAfterHeader: unknown;
      try {
        const response = await this.http.request<unknown>({
          url,
          method: postBody === undefined ? 'GET' : 'POST',
          data: postBody,
          headers: postBody === undefined ? {} : { 'content-type': 'text/plain' },
          ...(binary && { responseType: 'arraybuffer' as const }),
          // `timeout` is reset by socket activity; the signal bounds the whole exchange.
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = response.status;
        body = response.data;
        retryAfterHeader = response.headers['retry-after'];
      } catch (err) {
        return { kind: 'failed', outcome: classifyError(err) };
      }
      if (status === 429 || status === 425 || status === 408) {
        return {
          kind: 'failed',
          outcome: 'rate-limited',
          status,
          retryAfterMs: retryAfterMs(retryAfterHeader, Date.now()),
        };
      }
      if (status >= 500) return { kind: 'failed', outcome: 'server-error', status };
      if (status < 200 || (status >= 300 && status < 400))
        return { kind: 'failed', outcome: 'unexpected-status', status };
      if (binary) {
        // Node's adapter hands a Buffer; a browser-style adapter an ArrayBuffer.
        const bytes =
          body instanceof Uint8Array
            ? body
            : body instanceof ArrayBuffer
              ? new Uint8Array(body)
              : undefined;
        if (bytes === undefined) return { kind: 'failed', outcome: 'malformed', status };
        const text = status < 300 ? '' : Buffer.from(bytes).toString('utf8');
        return { kind: 'answer', answer: { status, body: text, bytes } };
      }
      if (typeof body !== 'string') return { kind: 'failed', outcome: 'malformed', status };
      return { kind: 'answer', answer: { status, body } };
    });
  }
}
