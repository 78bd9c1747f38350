/**
 * The one shape every payment transition returns: the fields it sets, the events it records and
 * the webhooks it sends. The repository applies it in one write guarded on the version the
 * payment was read at, with the webhooks' outbox entries (see `outboxRefs`), so a change is
 * either written whole or not at all, and a lost race is decided again on the fresh payment.
 */
import type { PaymentEvent, WebhookType } from './payment-events.js';
import type { TrackedState } from './tracked-state.js';

/** The fields a transition may set: the tracked state and what forwarding records. */
export interface ChangeableFields extends TrackedState {
  /** The sweep that forwarded the payment's coins. */
  sweepTxid: string;
  /** Its coins were swept without it being paid. */
  sweptUnpaid: boolean;
  /** When the watcher last evaluated it. */
  lastCheckedAt: Date;
  /** The chain height it was last evaluated at. */
  evaluatedHeight: number;
  /** When the merchant cancelled it. */
  cancelledAt: Date;
}

export interface PaymentChange<Next extends Partial<ChangeableFields> = Partial<ChangeableFields>> {
  next: Next;
  events: PaymentEvent[];
  webhooks: WebhookType[];
}
