/**
 * Sends due outbox events to the configured `webhooks.url`, one claimed event at a time, in order
 * per payment. Each request carries both signature styles: the Standard Webhooks headers
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`, one `v1,` entry per configured secret)
 * and, for receivers written against earlier versions, `Satwatch-Signature` (newest secret) with
 * `Satwatch-Event-Id` and `Satwatch-Event-Type`. What an attempt comes to: see attempt.ts.
 */
import { judgeAttempt, postWebhook, safeUrl, webhookBody } from './attempt.js';
import type { WebhookEvent } from './outbox.js';
import { RETRY_WINDOW_SECONDS, retryPlan } from './retry-plan.js';
import { signatureHeader } from './signature.js';
import { standardHeaders } from './standard-signature.js';
import type { OutboxQueue } from './ports.js';

export {
  RETRY_MAX_DELAY_SECONDS,
  RETRY_SCHEDULE_SECONDS,
  retryDelaySeconds,
} from './retry-plan.js';
export { isRetryableStatus, webhookBody } from './attempt.js';

/** Extra lock time beyond the request timeout, covering the database writes around a send. */
export const LOCK_MARGIN_MS = 30_000;

export interface DispatcherLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface WebhookDispatcherOptions {
  outbox: Pick<OutboxQueue, 'claimDue' | 'recordAttempt'>;
  url: string;
  /** Signs `Satwatch-Signature` (the newest configured secret). */
  secret: string;
  /** Every configured secret, newest first, for `webhook-signature`; default `[secret]`. */
  secrets?: readonly string[];
  timeoutMs: number;
  maxAttempts: number;
  /** The retries of a round span at least this long (see retry-plan.ts); 0: the bare schedule. */
  retryWindowSeconds?: number;
  now?: () => Date;
  /** Deliveries at info, failures at warn. */
  log?: DispatcherLog;
}

export interface DispatchResult {
  delivered: number;
  retrying: number;
  failed: number;
}

export const unixSeconds = (d: Date): number => Math.floor(d.getTime() / 1000);

export class WebhookDispatcher {
  private readonly now: () => Date;
  private readonly log: DispatcherLog;
  private readonly where: string;
  private readonly plan: number[];
  private readonly secrets: readonly string[];

  constructor(private readonly options: WebhookDispatcherOptions) {
    if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
      throw new RangeError('maxAttempts must be a positive integer');
    }
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? { info: () => undefined, warn: () => undefined };
    this.where = safeUrl(options.url);
    this.plan = retryPlan(options.maxAttempts, options.retryWindowSeconds ?? RETRY_WINDOW_SECONDS);
    this.secrets = options.secrets ?? [options.secret];
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
    const body = webhookBody({ ...event, id: event._id, isRedelivery: event.redelivery });
    const t = unixSeconds(at);
    const result = await postWebhook({
      url: this.options.url,
      body,
      headers: {
        'content-type': 'application/json',
        ...standardHeaders(this.secrets, event._id, t, body),
        'Satwatch-Signature': signatureHeader(secret, body, t),
        'Satwatch-Event-Id': event._id,
        'Satwatch-Event-Type': event.type,
        'user-agent': 'satwatch',
      },
      timeoutMs,
    });
    const attempt = event.attempts;
    const verdict = judgeAttempt(result, {
      at,
      attempt,
      redelivery: event.redelivery,
      maxAttempts,
      plan: this.plan,
    });
    const { status, error } = result;
    const context = { eventId: event._id, type: event.type, attempt, status };
    switch (verdict.kind) {
      case 'delivered':
        this.log.info({ ...context, durationMs: result.durationMs }, 'webhook delivered');
        break;
      case 'gave-up':
        this.log.warn(
          { ...context, error, url: this.where },
          `webhook failed after ${attempt} attempts (${verdict.why}); redeliver it once the receiver works`,
        );
        break;
      case 'retrying':
        this.log.warn(
          { ...context, error, nextAttemptAt: verdict.outcome.nextAttemptAt },
          `webhook attempt failed (${verdict.why}); retrying`,
        );
        break;
      case 'refused':
        this.log.warn(
          { ...context, url: this.where },
          `webhook failed: ${verdict.why}; not retried — fix the receiver, then redeliver it`,
        );
        break;
    }
    if (!(await this.options.outbox.recordAttempt(event, verdict.outcome))) {
      this.log.info(
        { eventId: event._id, type: event.type, attempt },
        'webhook attempt logged only: a redelivery was requested while it was in flight',
      );
    }
    return verdict.outcome.state;
  }
}
