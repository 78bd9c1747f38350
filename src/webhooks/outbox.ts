/**
 * The webhook outbox's shapes: one event per document in `webhook_events`, written in the same
 * step that changes a payment and delivered later (storage/webhook-outbox.ts keeps them). Holds
 * the delivery state of the configured URL, the retry schedule's next due time, a short delivery
 * log, and the lock a dispatcher takes while it sends. Endpoints managed over the API get their
 * own copies (storage/webhook-deliveries.ts), made from the event by the fan-out.
 */
import { WEBHOOK_TYPES, type WebhookType } from '../payments/state-machine.js';

/** The event types are the payment state machine's (SPEC §7). */
export const WEBHOOK_EVENT_TYPES = WEBHOOK_TYPES;
export type WebhookEventType = WebhookType;

export const WEBHOOK_STATES = ['pending', 'delivered', 'failed'] as const;

/** How many delivery attempts the log keeps per event (the newest). */
export const DELIVERY_LOG_LIMIT = 20;

/** Event ids go into an HTTP header: printable ASCII, no spaces. */
export const EVENT_ID_PATTERN = /^[\x21-\x7e]{1,100}$/;

export interface WebhookDelivery {
  at: Date;
  attempt: number;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** What went wrong without an answer (refused, timed out, …), or why a status is final. */
  error?: string;
  durationMs: number;
  redelivery: boolean;
}

/** What a queue of deliveries (the outbox, an endpoint's deliveries) keeps per item. */
export interface QueuedDelivery {
  _id: string;
  paymentId?: string;
  createdAt: Date;
  state: 'pending' | 'delivered' | 'failed';
  /** Attempts in the current delivery round (a redelivery starts a new round). */
  attempts: number;
  nextAttemptAt: Date;
  /** Set while a dispatcher is sending; others leave the item alone until then. */
  lockedUntil?: Date;
  /** The claim that holds the lock; a redelivery drops it so the in-flight result is not final. */
  lockId?: string;
  deliveredAt?: Date;
  redelivery: boolean;
  /** The newest attempts, oldest first, at most DELIVERY_LOG_LIMIT. */
  deliveries: WebhookDelivery[];
}

export interface WebhookEvent extends QueuedDelivery {
  type: WebhookEventType;
  /** The event's payload, stored as the JSON it is sent as. */
  data: unknown;
  /** Set until the event has been copied to the matching API endpoints (see fan-out.ts). */
  fanout?: 'pending';
}

export interface WebhookListFilter {
  state?: WebhookEvent['state'];
  paymentId?: string;
  limit: number;
  cursor?: string;
}

/** The result of one attempt, as the dispatcher records it. */
export interface AttemptOutcome {
  delivery: WebhookDelivery;
  state: WebhookEvent['state'];
  nextAttemptAt?: Date;
}
