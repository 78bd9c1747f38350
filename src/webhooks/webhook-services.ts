/**
 * Puts the webhook parts together from narrow settings and the stores: the endpoints API's
 * registry, and the delivery round the watcher loop runs (fan-out, then the configured URL's
 * dispatcher if one is set, then the endpoints' dispatcher).
 */
import type { Registry } from 'prom-client';
import { WebhookDeliveryRound } from './delivery-round.js';
import { type DispatcherLog, WebhookDispatcher } from './dispatcher.js';
import { EndpointDispatcher } from './endpoint-dispatcher.js';
import { EndpointRegistry } from './endpoint-registry.js';
import { WebhookFanOut } from './fan-out.js';
import type {
  EndpointDeliveryStore,
  EndpointStore,
  OutboxQueue,
  RedeliveryLimiter,
} from './ports.js';
import { SecretBox } from './secret-box.js';

/** Manual redeliveries per webhook endpoint per minute (all replicas together). */
export const REDELIVERIES_PER_MINUTE = 10;

export interface WebhookSettings {
  /** The configured `webhooks.url`. */
  url?: string;
  /** Its secrets, newest first. */
  secrets: readonly string[];
  timeoutMs: number;
  maxAttempts: number;
  allowPrivateUrls: boolean;
  secretsKey?: string;
}

export function webhookServices(
  settings: WebhookSettings,
  stores: {
    outbox: OutboxQueue;
    endpoints: EndpointStore;
    deliveries: EndpointDeliveryStore;
    limits: RedeliveryLimiter;
  },
  context: { now: () => Date; log: DispatcherLog; registry?: Registry },
): { registry: EndpointRegistry; round: WebhookDeliveryRound } {
  const { url } = settings;
  const [secret] = settings.secrets;
  const { now, log } = context;
  const box = new SecretBox(settings.secretsKey);
  const policy = { allowPrivateUrls: settings.allowPrivateUrls };
  const configured =
    url !== undefined && secret !== undefined
      ? new WebhookDispatcher({
          outbox: stores.outbox,
          url,
          // Satwatch-Signature: the newest secret; webhook-signature: every configured one.
          secret,
          secrets: settings.secrets,
          timeoutMs: settings.timeoutMs,
          maxAttempts: settings.maxAttempts,
          now,
          log,
        })
      : undefined;
  const registry = new EndpointRegistry({
    ...stores,
    box,
    policy,
    ...(configured && url !== undefined && { configuredUrl: url }),
    now,
    warn: (msg) => {
      log.warn({}, msg);
    },
  });
  const round = new WebhookDeliveryRound({
    fanOut: new WebhookFanOut(stores),
    senders: [
      ...(configured ? [configured] : []),
      new EndpointDispatcher({
        endpoints: stores.endpoints,
        deliveries: stores.deliveries,
        box,
        policy,
        timeoutMs: settings.timeoutMs,
        maxAttempts: settings.maxAttempts,
        now,
        log,
        ...(context.registry && { registry: context.registry }),
      }),
    ],
    log,
  });
  return { registry, round };
}
