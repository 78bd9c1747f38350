/**
 * What the webhook flows need from persistence (storage/ implements these): the outbox's queue,
 * the endpoints, and the endpoints' deliveries. The shapes are the stored documents.
 */
import type { AttemptOutcome, QueuedDelivery, WebhookEvent, WebhookEventType } from './outbox.js';

export interface StoredSecret {
  /** The sealed `whsec_…` secret (never the plain text unless no secrets key is configured). */
  sealed: string;
  createdAt: Date;
  /** Set on rotation: the secret still signs until then. */
  expiresAt?: Date;
}

export interface WebhookEndpoint {
  _id: string;
  url: string;
  /** Event types sent to it; empty: all. */
  events: WebhookEventType[];
  enabled: boolean;
  description?: string;
  createdAt: Date;
  updatedAt: Date;
  secrets: StoredSecret[];
  /** Bumped by every secret change, so two rotations cannot both apply to the same list. */
  secretsVersion: number;
  /** Why it was disabled automatically (cleared when re-enabled). */
  disabledReason?: string;
  disabledAt?: Date;
  /** The first failed attempt since the last delivery. */
  failingSince?: Date;
  /** Deliveries given up in a row. */
  consecutiveGiveUps: number;
}

export interface EndpointChanges {
  url?: string;
  events?: WebhookEventType[];
  enabled?: boolean;
  description?: string;
}

/** The fan-out's copy of an event for one endpoint, with that endpoint's delivery state. */
export interface EndpointDelivery extends QueuedDelivery {
  endpointId: string;
  eventId: string;
  type: WebhookEventType;
  /** The event's payload, as sent (copied from the event). */
  data: unknown;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Writing an event to the outbox (idempotent by id: false if it was already there). */
export interface OutboxWriter {
  enqueue(event: {
    id: string;
    type: WebhookEventType;
    paymentId?: string;
    data: unknown;
  }): Promise<boolean>;
}

/** The outbox as the configured URL's dispatcher and the fan-out use it. */
export interface OutboxQueue extends OutboxWriter {
  claimDue(lockMs: number): Promise<WebhookEvent | null>;
  recordAttempt(claim: WebhookEvent, outcome: AttemptOutcome): Promise<boolean>;
  awaitingFanout(limit: number): Promise<WebhookEvent[]>;
  markFannedOut(id: string): Promise<void>;
  get(id: string): Promise<WebhookEvent | null>;
  redeliver(id: string): Promise<boolean>;
  list(filter: {
    limit: number;
    cursor?: string;
    state?: QueuedDelivery['state'];
  }): Promise<Page<WebhookEvent>>;
}

export interface EndpointStore {
  create(input: {
    url: string;
    events: WebhookEventType[];
    enabled: boolean;
    description?: string;
    sealedSecret: string;
  }): Promise<WebhookEndpoint>;
  get(id: string): Promise<WebhookEndpoint | null>;
  list(): Promise<WebhookEndpoint[]>;
  count(): Promise<number>;
  enabledIds(): Promise<string[]>;
  update(id: string, changes: EndpointChanges): Promise<WebhookEndpoint | null>;
  remove(id: string): Promise<boolean>;
  rotateSecret(
    endpoint: WebhookEndpoint,
    sealedSecret: string,
    overlapSeconds: number,
  ): Promise<boolean>;
  recordSuccess(id: string): Promise<void>;
  recordFailure(id: string, gaveUp: boolean): Promise<WebhookEndpoint | null>;
  disable(id: string, reason: string): Promise<boolean>;
}

export interface EndpointDeliveryStore {
  add(endpointId: string, event: WebhookEvent): Promise<boolean>;
  get(endpointId: string, id: string): Promise<EndpointDelivery | null>;
  list(
    endpointId: string,
    page: { limit: number; cursor?: string; state?: EndpointDelivery['state'] },
  ): Promise<Page<EndpointDelivery>>;
  claimDue(lockMs: number, endpointIds: readonly string[]): Promise<EndpointDelivery | null>;
  recordAttempt(claim: EndpointDelivery, outcome: AttemptOutcome): Promise<boolean>;
  release(claim: EndpointDelivery): Promise<void>;
  redeliver(endpointId: string, id: string): Promise<boolean>;
  removeForEndpoint(endpointId: string): Promise<void>;
}

/** Manual redeliveries per endpoint: 0 if one may go now, else seconds to wait. */
export interface RedeliveryLimiter {
  take(endpointId: string): Promise<number>;
}
