/**
 * Crediting as transitions: what the ledger is asked for a due credit, and the change that marks
 * it done once the ledger entry exists. The ledger applies a payment's credit once (its
 * operation id is the payment's); the change is null once the credit is done, so a replica or
 * an admin that credited first makes the second marking a no-op.
 */
import type { Payment } from './payment.js';
import type { PaymentChange } from './payment-change.js';
import type { CreditDue } from './tracked-state.js';

export interface LedgerCredit {
  paymentId: string;
  userId: string;
  credits: number;
  reason: string;
  actor?: string;
}

/** What the ledger records for a due credit. */
export function ledgerCreditFor(payment: Payment, credit: CreditDue): LedgerCredit {
  return {
    paymentId: payment._id,
    userId: payment.userId,
    credits: credit.credits,
    reason: credit.manual
      ? `manual confirmation: ${credit.manual.reason}`
      : `payment ${payment._id}`,
    ...(credit.manual && { actor: credit.manual.by }),
  };
}

/** The payment's due credit was applied as ledger entry `entryId` (or needed none). */
export function creditApplied(payment: Payment, entryId: string, now: Date): PaymentChange | null {
  const credit = payment.credit;
  if (credit?.state !== 'due') return null;
  return {
    next: { credit: { ...credit, state: 'done', doneAt: now, entryId } },
    events: [{ at: now, type: 'credited', cause: `ledger entry ${entryId}` }],
    webhooks: [],
  };
}
