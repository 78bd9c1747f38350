/**
 * An admin's forced confirmation, as a transition like the state machine's: the payment is
 * confirmed and its full credits fall due, regardless of the chain, recorded as manual. Only a
 * payment not credited yet may be confirmed by hand (null otherwise: nothing to change).
 */
import type { Payment } from './payment.js';
import type { PaymentChange } from './payment-change.js';

export interface ManualConfirmation {
  adminId: string;
  reason: string;
}

export function confirmManually(
  payment: Payment,
  { adminId, reason }: ManualConfirmation,
  now: Date,
): PaymentChange | null {
  if (payment.credit) return null;
  return {
    next: {
      status: 'confirmed',
      manual: true,
      credit: {
        state: 'due',
        credits: payment.credits,
        basisSats: payment.confirmedSats,
        dueAt: now,
        manual: { by: adminId, reason },
      },
    },
    events: [
      {
        at: now,
        type: 'manual_confirm',
        from: payment.status,
        to: 'confirmed',
        actor: adminId,
        cause: `confirmed by admin ${adminId}: ${reason}`,
      },
    ],
    webhooks: ['payment.manually_confirmed', 'payment.confirmed'],
  };
}
