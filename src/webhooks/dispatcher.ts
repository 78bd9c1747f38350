/**
 * Sends due outbox events to the merchant's webhook URL, one claimed event at a time, signed
 * with the shared secret. 2xx is delivered; no answer, 408, 429 and 5xx are retried on a
 * backoff schedule until `maxAttempts`; any other status is final at once (the receiver
 * refuses the event, so resending the same bytes cannot help: fix it, then redeliver).
 */
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import axios, { AxiosError } from 'axios';
import { signatureHeader } from './signature.js';
import type { AttemptOutcome, WebhookEvent, WebhookOutbox } from './outbox.js';

/** Delay before attempt n+1 after attempt n failed: 10 s, 1 min, 5 min, 15 min, 30 min, 1 h, then 2 h. */
export const RETRY_SCHEDULE_SECONDS = [10, 60, 300, 900, 1800, 3600] as const;
export const RETRY_MAX_DELAY_SECONDS = 7200;

/** Extra lock time beyond the request timeout, covering the database writes around a send. */
export const LOCK_MARGIN_MS = 30_000;

export function retryDelaySeconds(attempt: number): number {
  return RETRY_SCHEDULE_SECONDS[attempt - 1] ?? RETRY_MAX_DELAY_SECONDS;
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export interface DispatcherLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface WebhookDispatcherOptions {
  outbox: WebhookOutbox;
  url: string;
  secret: string;
  timeoutMs: number;
  maxAttempts: number;
  now?: () => Date;
  /** Deliveries at info, failures at warn. */
  log?: DispatcherLog;
}

export interface DispatchResult {
  delivered: number;
  retrying: number;
  failed: number;
}

/** The request body: exactly these fields, in this order. */
export function webhookBody(event: WebhookEvent): string {
  return JSON.stringify({
    id: event._id,
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    isRedelivery: event.redelivery,
    data: event.data,
  });
}

/** The URL without credentials, query or fragment, for logs. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof AxiosError) {
    if (
      err.code === 'ECONNABORTED' ||
      err.code === 'ETIMEDOUT' ||
      err.code === AxiosError.ERR_CANCELED
    ) {
      return `timed out after ${timeoutMs} ms`;
    }
    const cause: (Error & { code?: string }) | undefined = err.cause;
    const code = err.code ?? cause?.code;
    const message = cause?.message ?? err.message;
    return code && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return err instanceof Error ? err.message : 'unknown error';
}

export class WebhookDispatcher {
  private readonly now: () => Date;
  private readonly log: DispatcherLog;
  private readonly where: string;

  constructor(private readonly options: WebhookDispatcherOptions) {
    if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
      throw new RangeError('maxAttempts must be a positive integer');
    }
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? { info: () => undefined, warn: () => undefined };
    this.where = safeUrl(options.url);
  }

  /** Delivers up to `limit` due events, oldest first; one failing event does not stop the rest. */
  async deliverDue(limit = 50): Promise<DispatchResult> {
    const result: DispatchResult = { delivered: 0, retrying: 0, failed: 0 };
    const lockMs = this.options.timeoutMs + LOCK_MARGIN_MS;
    for (let i = 0; i < limit; i++) {
      const event = await this.options.outbox.claimDue(lockMs);
      if (!event) break;
      try {
        const state = await this.attempt(event);
        if (state === 'delivered') result.delivered++;
        else if (state === 'failed') result.failed++;
        else result.retrying++;
      } catch (err) {
        // Recording the attempt failed (database trouble): the lock expires and the event is
        // claimed again later. Carry on with the others.
        this.log.warn(
          { eventId: event._id, err: err instanceof Error ? err.message : String(err) },
          'webhook attempt could not be recorded',
        );
      }
    }
    return result;
  }

  private async attempt(event: WebhookEvent): Promise<WebhookEvent['state']> {
    const { secret, timeoutMs, maxAttempts } = this.options;
    const at = this.now();
    const body = webhookBody(event);
    const started = performance.now();
    let status: number | undefined;
    let error: string | undefined;
    try {
      const response = await axios.post<Readable>(this.options.url, body, {
        headers: {
          'content-type': 'application/json',
          'Satwatch-Signature': signatureHeader(secret, body, Math.floor(at.getTime() / 1000)),
          'Satwatch-Event-Id': event._id,
          'Satwatch-Event-Type': event.type,
          'user-agent': 'satwatch',
        },
        timeout: timeoutMs,
        // `timeout` is per socket inactivity; this bounds the whole exchange, so the lock holds.
        signal: AbortSignal.timeout(timeoutMs),
        maxRedirects: 0,
        validateStatus: () => true,
        // Only the status matters; the body is never read.
        responseType: 'stream',
        transformRequest: [(data: unknown) => data],
      });
      status = response.status;
      response.data.destroy();
    } catch (err) {
      error = describeError(err, timeoutMs);
    }
    const durationMs = Math.round(performance.now() - started);

    const attempt = event.attempts;
    let outcome: AttemptOutcome;
    const delivery = {
      at,
      attempt,
      ...(status !== undefined && { status }),
      durationMs,
      redelivery: event.redelivery,
    };
    if (status !== undefined && status >= 200 && status < 300) {
      outcome = { state: 'delivered', delivery };
    } else if (status === undefined || isRetryableStatus(status)) {
      const why = error ?? `HTTP ${status}`;
      if (attempt >= maxAttempts) {
        outcome = {
          state: 'failed',
          delivery: { ...delivery, ...(error !== undefined && { error }) },
        };
        this.log.warn(
          { eventId: event._id, type: event.type, attempt, status, error, url: this.where },
          `webhook failed after ${attempt} attempts (${why}); redeliver it once the receiver works`,
        );
      } else {
        const nextAttemptAt = new Date(at.getTime() + retryDelaySeconds(attempt) * 1000);
        outcome = {
          state: 'pending',
          nextAttemptAt,
          delivery: { ...delivery, ...(error !== undefined && { error }) },
        };
        this.log.warn(
          { eventId: event._id, type: event.type, attempt, status, error, nextAttemptAt },
          `webhook attempt failed (${why}); retrying`,
        );
      }
    } else {
      const reason =
        status >= 300 && status < 400
          ? `the receiver answered ${status} (redirects are not followed)`
          : `the receiver refused it with ${status}`;
      outcome = { state: 'failed', delivery: { ...delivery, error: `${reason}; not retried` } };
      this.log.warn(
        { eventId: event._id, type: event.type, attempt, status, url: this.where },
        `webhook failed: ${reason}; not retried — fix the receiver, then redeliver it`,
      );
    }
    if (outcome.state === 'delivered') {
      this.log.info(
        { eventId: event._id, type: event.type, attempt, status, durationMs },
        'webhook delivered',
      );
    }
    if (!(await this.options.outbox.recordAttempt(event, outcome))) {
      this.log.info(
        { eventId: event._id, type: event.type, attempt },
        'webhook attempt logged only: a redelivery was requested while it was in flight',
      );
    }
    return outcome.state;
  }
}
