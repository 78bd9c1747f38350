/**
 * Sends the API endpoints' due deliveries (webhook_deliveries), one claimed delivery at a time,
 * in order per payment per endpoint, signed in the Standard Webhooks format with the endpoint's
 * secrets in force (two during a rotation's overlap). Re-checks the URL on every attempt and,
 * unless private URLs are allowed, connects only to public addresses (DNS rebinding). Tracks each
 * endpoint's failure run and disables it, with a reason, after `disableAfterGiveUps` deliveries
 * given up in a row or `disableAfterFailingDays` of nothing but failures.
 */
import { Counter, type Registry } from 'prom-client';
import {
  type DeliveryAgents,
  type PostResult,
  judgeAttempt,
  postWebhook,
  safeUrl,
  webhookBody,
} from './attempt.js';
import {
  type DispatchResult,
  type DispatcherLog,
  LOCK_MARGIN_MS,
  unixSeconds,
} from './dispatcher.js';
import { RETRY_WINDOW_SECONDS, retryPlan } from './retry-plan.js';
import type {
  EndpointDelivery,
  EndpointDeliveryStore,
  EndpointStore,
  WebhookEndpoint,
} from './ports.js';
import type { SecretBox } from './secret-box.js';
import { standardHeaders } from './standard-signature.js';
import { type UrlPolicy, checkWebhookUrl, deliveryAgents } from './url-policy.js';

export const DISABLE_AFTER_GIVE_UPS = 20;
export const DISABLE_AFTER_FAILING_DAYS = 5;

export interface EndpointDispatcherOptions {
  endpoints: EndpointStore;
  deliveries: EndpointDeliveryStore;
  box: SecretBox;
  policy: UrlPolicy;
  timeoutMs: number;
  maxAttempts: number;
  retryWindowSeconds?: number;
  disableAfterGiveUps?: number;
  disableAfterFailingDays?: number;
  now?: () => Date;
  log?: DispatcherLog;
  /** Where the delivery counters go (the daemon's registry). */
  registry?: Registry;
}

/** The secrets that sign now, newest first, opened. */
export function signingSecrets(endpoint: WebhookEndpoint, box: SecretBox, now: Date): string[] {
  return endpoint.secrets
    .filter((s) => s.expiresAt === undefined || s.expiresAt > now)
    .map((s) => box.open(s.sealed));
}

export class EndpointDispatcher {
  private readonly now: () => Date;
  private readonly log: DispatcherLog;
  private readonly plan: number[];
  private readonly agents: DeliveryAgents;
  private readonly attempts: Counter<'outcome'> | undefined;
  private readonly disabled: Counter | undefined;

  constructor(private readonly options: EndpointDispatcherOptions) {
    this.now = options.now ?? (() => new Date());
    this.log = options.log ?? { info: () => undefined, warn: () => undefined };
    this.plan = retryPlan(options.maxAttempts, options.retryWindowSeconds ?? RETRY_WINDOW_SECONDS);
    this.agents = deliveryAgents(options.policy);
    if (options.registry) {
      this.attempts = new Counter({
        name: 'satwatch_webhook_endpoint_attempts_total',
        help: 'Delivery attempts to API webhook endpoints by outcome (delivered, retrying, gave_up, refused) in this process',
        labelNames: ['outcome'],
        registers: [options.registry],
      });
      this.disabled = new Counter({
        name: 'satwatch_webhook_endpoints_auto_disabled_total',
        help: 'API webhook endpoints this process disabled after a long failure run',
        registers: [options.registry],
      });
    }
  }

  /** Delivers up to `limit` due deliveries of enabled endpoints, oldest first. */
  async deliverDue(limit = 50): Promise<DispatchResult> {
    const result: DispatchResult = { delivered: 0, retrying: 0, failed: 0 };
    const lockMs = this.options.timeoutMs + LOCK_MARGIN_MS;
    const enabled = await this.options.endpoints.enabledIds();
    for (let i = 0; i < limit; i++) {
      const delivery = await this.options.deliveries.claimDue(lockMs, enabled);
      if (!delivery) break;
      try {
        const state = await this.attempt(delivery);
        if (state === 'delivered') result.delivered++;
        else if (state === 'failed') result.failed++;
        else if (state === 'pending') result.retrying++;
      } catch (err) {
        // Recording failed (database trouble): the lock expires and it is claimed again later.
        this.log.warn(
          { deliveryId: delivery._id, err: err instanceof Error ? err.message : String(err) },
          'webhook attempt could not be recorded',
        );
      }
    }
    return result;
  }

  private async send(endpoint: WebhookEndpoint, delivery: EndpointDelivery, at: Date) {
    const body = webhookBody({
      id: delivery.eventId,
      type: delivery.type,
      createdAt: delivery.createdAt,
      isRedelivery: delivery.redelivery,
      data: delivery.data,
    });
    let url: string;
    let secrets: string[];
    try {
      url = checkWebhookUrl(endpoint.url, this.options.policy);
      secrets = signingSecrets(endpoint, this.options.box, at);
    } catch (err) {
      // Not sent: a URL no longer allowed, or a secret that cannot be opened. Retried, so an
      // operator can fix the setting meanwhile.
      const message = err instanceof Error ? err.message : String(err);
      const result: PostResult = { error: `not sent: ${message}`, durationMs: 0 };
      return result;
    }
    return postWebhook({
      url,
      body,
      headers: {
        'content-type': 'application/json',
        ...standardHeaders(secrets, delivery.eventId, unixSeconds(at), body),
        'user-agent': 'satwatch',
      },
      timeoutMs: this.options.timeoutMs,
      agents: this.agents,
    });
  }

  private async attempt(
    delivery: EndpointDelivery,
  ): Promise<EndpointDelivery['state'] | 'skipped'> {
    const { endpoints, deliveries } = this.options;
    const endpoint = await endpoints.get(delivery.endpointId);
    if (!endpoint?.enabled) {
      await deliveries.release(delivery);
      return 'skipped';
    }
    const at = this.now();
    const result = await this.send(endpoint, delivery, at);
    const verdict = judgeAttempt(result, {
      at,
      attempt: delivery.attempts,
      redelivery: delivery.redelivery,
      maxAttempts: this.options.maxAttempts,
      plan: this.plan,
    });
    this.attempts?.inc({ outcome: verdict.kind.replace('-', '_') });
    const context = {
      endpointId: endpoint._id,
      deliveryId: delivery._id,
      eventId: delivery.eventId,
      type: delivery.type,
      attempt: delivery.attempts,
      status: result.status,
    };
    if (verdict.kind === 'delivered') {
      this.log.info({ ...context, durationMs: result.durationMs }, 'webhook delivered');
    } else {
      this.log.warn(
        { ...context, error: result.error, url: safeUrl(endpoint.url) },
        verdict.kind === 'retrying'
          ? `webhook attempt failed (${verdict.why}); retrying`
          : `webhook failed (${verdict.why}); redeliver it once the receiver works`,
      );
    }
    if (!(await deliveries.recordAttempt(delivery, verdict.outcome))) {
      this.log.info(
        context,
        'webhook attempt logged only: a redelivery was requested while it was in flight',
      );
    }
    if (verdict.kind === 'delivered') {
      await endpoints.recordSuccess(endpoint._id);
    } else {
      await this.noteFailure(endpoint._id, verdict.kind !== 'retrying', at);
    }
    return verdict.outcome.state;
  }

  private async noteFailure(endpointId: string, gaveUp: boolean, at: Date): Promise<void> {
    const after = await this.options.endpoints.recordFailure(endpointId, gaveUp);
    if (!after?.enabled) return;
    const giveUps = this.options.disableAfterGiveUps ?? DISABLE_AFTER_GIVE_UPS;
    const days = this.options.disableAfterFailingDays ?? DISABLE_AFTER_FAILING_DAYS;
    let reason: string | undefined;
    if (after.consecutiveGiveUps >= giveUps) {
      reason = `${after.consecutiveGiveUps} deliveries in a row were given up`;
    } else if (
      after.failingSince !== undefined &&
      at.getTime() - after.failingSince.getTime() >= days * 24 * 3600 * 1000
    ) {
      reason = `every delivery has failed since ${after.failingSince.toISOString()} (${days} days or more)`;
    }
    if (reason === undefined) return;
    reason += '; fix the receiver, then re-enable it (PATCH {"enabled": true})';
    if (await this.options.endpoints.disable(endpointId, reason)) {
      this.disabled?.inc();
      this.log.warn({ endpointId, reason }, 'webhook endpoint disabled automatically');
    }
  }
}
