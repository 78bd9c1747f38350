/** The payment record (its views for the APIs and the checkout page are in views.ts). */
import type { NetworkName } from '../wallet/networks.js';
import type { ScriptType } from '../wallet/extended-key.js';
import type { OrderFields } from './order.js';
import type { OutboxRef, PaymentEvent } from './payment-events.js';
import type { Quote } from './quote.js';
import type { TrackedState } from './tracked-state.js';

export {
  PAYMENT_STATUSES,
  type OutboxRef,
  type PaymentEvent,
  type PaymentEventType,
  type PaymentStatus,
} from './payment-events.js';
export type { PriceRecord, RateRecord } from './price.js';

export interface Derivation {
  index: number;
  path: string;
  scriptType: ScriptType;
  accountFingerprint: string;
  masterFingerprint?: string;
}

/**
 * A payment is its quote (amount, credits, price, rate, package, description), what the watcher
 * tracks (status, outputs, flags, credit), and the rest.
 */
export interface Payment extends Quote, TrackedState, OrderFields {
  _id: string;
  userId: string;
  network: NetworkName;
  /** Incremented by every tracked-state write; writes are guarded on it. */
  version: number;
  outbox: OutboxRef[];
  lastCheckedAt?: Date;
  /** The chain height the tracked state was last evaluated at (never lowered except by a reorg). */
  evaluatedHeight?: number;
  /** When the checkout page or its status was last requested (throttled): the payer is waiting. */
  lastViewedAt?: Date;
  /** Set by forwarding once every output is swept and the payment is no longer watched. */
  sweepDone?: boolean;
  /** The sweep that forwarded this payment's coins: the first broadcast, then the one that confirmed. */
  sweepTxid?: string;
  /** Its coins were swept to the cold wallet without it being paid (underpaid or expired). */
  sweptUnpaid?: boolean;
  /** Absent until an address index is allocated (the record doubles as idempotency reservation). */
  address?: string;
  derivation?: Derivation;
  requiredConfirmations: number;
  createdAt: Date;
  /** The chain tip height at creation: outputs confirmed below it are older than the payment. */
  createdAtHeight?: number;
  expiresAt: Date;
  createdBy: string;
  idempotencyScope?: string;
  requestHash: string;
  events: PaymentEvent[];
  /** Set when the merchant cancelled the payment (see cancellation.ts). */
  cancelledAt?: Date;
}

/** A payment that has its address: every payment outside the short window of its creation. */
export type IssuedPayment = Payment & { address: string; derivation: Derivation };

export function isIssued(payment: Payment): payment is IssuedPayment {
  return payment.address !== undefined && payment.derivation !== undefined;
}
