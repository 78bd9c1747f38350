/**
 * Managing webhook endpoints: the API's endpoints (stored, with secrets shown once) plus the
 * configured `webhooks.url`, which appears as the read-only endpoint `config` and keeps its
 * configured secrets and its outbox-based delivery log.
 */
import { safeUrl } from './attempt.js';
import type { QueuedDelivery, WebhookEvent, WebhookEventType } from './outbox.js';
import type {
  EndpointChanges,
  EndpointDelivery,
  EndpointDeliveryStore,
  EndpointStore,
  OutboxQueue,
  RedeliveryLimiter,
  WebhookEndpoint,
} from './ports.js';
import type { SecretBox } from './secret-box.js';
import { newEndpointSecret } from './standard-signature.js';
import { type UrlPolicy, checkWebhookUrl } from './url-policy.js';

export const CONFIG_ENDPOINT_ID = 'config';
/** Endpoints one daemon keeps (fan-out cost grows with each). */
export const MAX_ENDPOINTS = 20;
export const DEFAULT_OVERLAP_SECONDS = 24 * 3600;

export class ReadOnlyEndpointError extends Error {
  constructor() {
    super(
      'the configured endpoint (webhooks.url) is changed in the configuration, not over the API',
    );
    this.name = 'ReadOnlyEndpointError';
  }
}

export class TooManyEndpointsError extends Error {
  constructor() {
    super(`at most ${MAX_ENDPOINTS} webhook endpoints`);
    this.name = 'TooManyEndpointsError';
  }
}

export class RedeliveryLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many redeliveries for this endpoint; retry later');
    this.name = 'RedeliveryLimitedError';
  }
}

/** An endpoint as the API shows it (never its secret). */
export interface EndpointSummary {
  id: string;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  readOnly: boolean;
  description?: string;
  createdAt?: Date;
  updatedAt?: Date;
  disabledReason?: string;
  disabledAt?: Date;
  failingSince?: Date;
  /** When the secrets replaced by a rotation stop signing (the latest of them). */
  previousSecretExpiresAt?: Date;
}

/** One delivery as the log shows it: the configured endpoint's are the outbox events. */
export interface DeliverySummary extends QueuedDelivery {
  eventId: string;
  type: WebhookEventType;
}

export interface EndpointRegistryDeps {
  endpoints: EndpointStore;
  deliveries: EndpointDeliveryStore;
  outbox: OutboxQueue;
  limits: RedeliveryLimiter;
  box: SecretBox;
  policy: UrlPolicy;
  /** The configured `webhooks.url`, if any. */
  configuredUrl?: string;
  now?: () => Date;
  /** Warned once when a secret is stored without encryption. */
  warn?: (msg: string) => void;
}

export function summary(
  endpoint: WebhookEndpoint,
  now: Date,
): EndpointSummary & { createdAt: Date } {
  const older = endpoint.secrets.slice(1).filter((s) => s.expiresAt && s.expiresAt > now);
  const expiry = older.reduce<Date | undefined>(
    (latest, s) => (s.expiresAt && (!latest || s.expiresAt > latest) ? s.expiresAt : latest),
    undefined,
  );
  return {
    id: endpoint._id,
    url: endpoint.url,
    events: endpoint.events,
    enabled: endpoint.enabled,
    readOnly: false,
    ...(endpoint.description !== undefined && { description: endpoint.description }),
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
    ...(endpoint.disabledReason !== undefined && { disabledReason: endpoint.disabledReason }),
    ...(endpoint.disabledAt !== undefined && { disabledAt: endpoint.disabledAt }),
    ...(endpoint.failingSince !== undefined && { failingSince: endpoint.failingSince }),
    ...(expiry !== undefined && { previousSecretExpiresAt: expiry }),
  };
}

function fromEvent(event: WebhookEvent): DeliverySummary {
  return { ...event, eventId: event._id };
}

function fromDelivery(delivery: EndpointDelivery): DeliverySummary {
  return delivery;
}

export class EndpointRegistry {
  private readonly now: () => Date;
  private warnedPlain = false;

  constructor(private readonly deps: EndpointRegistryDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  private configured(): EndpointSummary | undefined {
    if (this.deps.configuredUrl === undefined) return undefined;
    return {
      id: CONFIG_ENDPOINT_ID,
      // Without credentials or query: they may hold a token.
      url: safeUrl(this.deps.configuredUrl),
      events: [],
      enabled: true,
      readOnly: true,
      description: 'webhooks.url from the configuration',
    };
  }

  private seal(secret: string): string {
    if (!this.deps.box.encrypts && !this.warnedPlain) {
      this.warnedPlain = true;
      this.deps.warn?.(
        'webhook endpoint secrets are stored unencrypted: set webhooks.secretsKey to seal them',
      );
    }
    return this.deps.box.seal(secret);
  }

  async list(): Promise<EndpointSummary[]> {
    const now = this.now();
    const stored = (await this.deps.endpoints.list()).map((e) => summary(e, now));
    const configured = this.configured();
    return configured ? [configured, ...stored] : stored;
  }

  async get(id: string): Promise<EndpointSummary | undefined> {
    if (id === CONFIG_ENDPOINT_ID) return this.configured();
    const endpoint = await this.deps.endpoints.get(id);
    return endpoint ? summary(endpoint, this.now()) : undefined;
  }

  /** Creates an endpoint; the secret is returned here only. Throws WebhookUrlError on a bad URL. */
  async create(input: {
    url: string;
    events?: WebhookEventType[];
    enabled?: boolean;
    description?: string;
  }): Promise<{ endpoint: EndpointSummary & { createdAt: Date }; secret: string }> {
    const url = checkWebhookUrl(input.url, this.deps.policy);
    if ((await this.deps.endpoints.count()) >= MAX_ENDPOINTS) throw new TooManyEndpointsError();
    const secret = newEndpointSecret();
    const endpoint = await this.deps.endpoints.create({
      url,
      events: [...new Set(input.events ?? [])],
      enabled: input.enabled ?? true,
      ...(input.description !== undefined && { description: input.description }),
      sealedSecret: this.seal(secret),
    });
    return { endpoint: summary(endpoint, this.now()), secret };
  }

  async update(id: string, changes: EndpointChanges): Promise<EndpointSummary | undefined> {
    if (id === CONFIG_ENDPOINT_ID) throw new ReadOnlyEndpointError();
    const checked: EndpointChanges = {
      ...changes,
      ...(changes.url !== undefined && { url: checkWebhookUrl(changes.url, this.deps.policy) }),
      ...(changes.events !== undefined && { events: [...new Set(changes.events)] }),
    };
    const endpoint = await this.deps.endpoints.update(id, checked);
    return endpoint ? summary(endpoint, this.now()) : undefined;
  }

  async remove(id: string): Promise<boolean> {
    if (id === CONFIG_ENDPOINT_ID) throw new ReadOnlyEndpointError();
    if (!(await this.deps.endpoints.remove(id))) return false;
    await this.deps.deliveries.removeForEndpoint(id);
    return true;
  }

  /** A new secret, first; the old ones keep signing for `overlapSeconds`. */
  async rotateSecret(
    id: string,
    overlapSeconds = DEFAULT_OVERLAP_SECONDS,
  ): Promise<{ secret: string; endpoint: EndpointSummary } | undefined> {
    if (id === CONFIG_ENDPOINT_ID) throw new ReadOnlyEndpointError();
    const endpoint = await this.deps.endpoints.get(id);
    if (!endpoint) return undefined;
    const secret = newEndpointSecret();
    if (!(await this.deps.endpoints.rotateSecret(endpoint, this.seal(secret), overlapSeconds))) {
      return undefined;
    }
    const after = await this.deps.endpoints.get(id);
    return after ? { secret, endpoint: summary(after, this.now()) } : undefined;
  }

  /** The endpoint's delivery log, newest first; undefined for an unknown endpoint. */
  async deliveries(
    id: string,
    page: { limit: number; cursor?: string; state?: QueuedDelivery['state'] },
  ): Promise<{ items: DeliverySummary[]; nextCursor: string | null } | undefined> {
    if (id === CONFIG_ENDPOINT_ID) {
      if (this.deps.configuredUrl === undefined) return undefined;
      const events = await this.deps.outbox.list(page);
      return { items: events.items.map(fromEvent), nextCursor: events.nextCursor };
    }
    if (!(await this.deps.endpoints.get(id))) return undefined;
    const result = await this.deps.deliveries.list(id, page);
    return { items: result.items.map(fromDelivery), nextCursor: result.nextCursor };
  }

  /**
   * Sends a delivery again (rate-limited per endpoint: RedeliveryLimitedError); undefined if the
   * endpoint or the delivery is unknown.
   */
  async redeliver(id: string, deliveryId: string): Promise<DeliverySummary | undefined> {
    if (id === CONFIG_ENDPOINT_ID) {
      if (this.deps.configuredUrl === undefined) return undefined;
      if (!(await this.deps.outbox.get(deliveryId))) return undefined;
      await this.takeRedelivery(id);
      if (!(await this.deps.outbox.redeliver(deliveryId))) return undefined;
      const event = await this.deps.outbox.get(deliveryId);
      return event ? fromEvent(event) : undefined;
    }
    if (!(await this.deps.deliveries.get(id, deliveryId))) return undefined;
    await this.takeRedelivery(id);
    if (!(await this.deps.deliveries.redeliver(id, deliveryId))) return undefined;
    const delivery = await this.deps.deliveries.get(id, deliveryId);
    return delivery ? fromDelivery(delivery) : undefined;
  }

  private async takeRedelivery(id: string): Promise<void> {
    const wait = await this.deps.limits.take(id);
    if (wait > 0) throw new RedeliveryLimitedError(wait);
  }
}
