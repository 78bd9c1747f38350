/**
 * The vocabulary of a payment's history: its statuses, the events recorded on it, the webhooks
 * its changes send, and the one rule for outbox ids. The bottom of the payments room: it imports
 * nothing, so the record, the state machine and the other transitions can all stand on it.
 */

export const PAYMENT_STATUSES = [
  'pending',
  'confirming',
  'confirmed',
  'forwarded',
  'expired',
  'underpaid',
  'cancelled',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** Every event type a payment's history holds, and who records it. */
export const PAYMENT_EVENT_TYPES = [
  // payment-service.ts
  'created',
  // state-machine.ts
  'output_seen',
  'output_dropped',
  'reopened',
  'needs_review',
  'late',
  'status',
  'credit_due',
  'closed',
  'settled',
  // manual-confirmation.ts
  'manual_confirm',
  // crediting.ts
  'credited',
  // sweep-recording.ts
  'forwarded',
  'swept_unpaid',
  'sweep_replaced',
  'swept',
  'sweep_confirmed',
] as const;
export type PaymentEventType = (typeof PAYMENT_EVENT_TYPES)[number];

export interface PaymentEvent {
  at: Date;
  type: PaymentEventType;
  cause: string;
  from?: PaymentStatus;
  to?: PaymentStatus;
  actor?: string;
}

export const WEBHOOK_TYPES = [
  'payment.confirming',
  'payment.confirmed',
  'payment.forwarded',
  'payment.expired',
  'payment.underpaid',
  'payment.late',
  'payment.needs_review',
  'payment.manually_confirmed',
  'payment.swept_unpaid',
  'payment.cancelled',
  'destination.changed',
] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/** A webhook waiting to be copied into the outbox; written atomically with the change it reports. */
export interface OutboxRef {
  id: string;
  type: WebhookType;
}

/**
 * The outbox entries of a change written on top of `payment` (the version it was read at).
 * Deterministic ids: the same transition can only ever produce the same event, so a change
 * repeated after a crash or by a replica is delivered once.
 */
export function outboxRefs(
  payment: { _id: string; version: number },
  webhooks: readonly WebhookType[],
): OutboxRef[] {
  return webhooks.map((type) => ({ id: `${payment._id}:${payment.version + 1}:${type}`, type }));
}
