/**
 * The merchant cancels a payment, as a plain function like the state machine: a payment and the
 * time in, the change out. Only a payment nobody has paid can be cancelled: once money is seen the
 * payer has acted, and the state machine's rules decide. Cancelling is idempotent: a cancelled
 * payment answers "already cancelled" and nothing is written twice.
 *
 *   pending, nothing received ──cancel──▶ cancelled   (webhook payment.cancelled)
 *
 * Money that arrives after the cancel is handled like a late payment (issue 13): recorded as late,
 * credited or held for review as `latePayments` says, and always flagged for review (the merchant
 * withdrew the offer). Uncredited, it is swept to the cold wallet as unpaid once the monitoring
 * window closes: never lost (see state-machine.ts).
 */
import type { Payment } from './payment.js';
import type { PaymentChange } from './payment-change.js';

/** The payment was paid (or closed) before the cancel: the merchant must look at it instead. */
export class PaymentNotCancellableError extends Error {
  constructor(
    readonly paymentId: string,
    readonly status: string,
  ) {
    super(
      `payment ${paymentId} is ${status}: only a pending payment with nothing received can be cancelled`,
    );
    this.name = 'PaymentNotCancellableError';
  }
}

export type CancelChange = PaymentChange<{ status: 'cancelled'; cancelledAt: Date }>;

type Cancellable = Pick<Payment, '_id' | 'status' | 'receivedSats'>;

/** Whether the payment may be cancelled now (pending and nothing received). */
export function isCancellable(payment: Cancellable): boolean {
  return payment.status === 'pending' && payment.receivedSats === 0;
}

/**
 * The change that cancels `payment`, or null if it is cancelled already. Throws
 * PaymentNotCancellableError for a payment in any other state.
 */
export function cancelPayment(payment: Cancellable, actor: string, now: Date): CancelChange | null {
  if (payment.status === 'cancelled') return null;
  if (!isCancellable(payment)) throw new PaymentNotCancellableError(payment._id, payment.status);
  return {
    next: { status: 'cancelled', cancelledAt: now },
    events: [
      {
        at: now,
        type: 'status',
        from: 'pending',
        to: 'cancelled',
        cause: `cancelled by API key ${actor}`,
        actor,
      },
    ],
    webhooks: ['payment.cancelled'],
  };
}
