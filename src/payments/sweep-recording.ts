/**
 * What a sweep does to a payment, as plain functions like the state machine: a payment and what
 * happened in, the change (fields, events, webhooks) out, or null when there is nothing to
 * record (the `PaymentChange` every transition returns). Every function is idempotent: recording the same sweep twice (after a crash, by two
 * replicas) changes nothing the second time, which is what the forwarder's recovery relies on.
 *
 *   confirmed (credited) ──first sweep broadcast──▶ forwarded  (webhook payment.forwarded)
 *   underpaid/expired/cancelled, window closed ──swept──▶ same status, sweptUnpaid  (payment.swept_unpaid)
 */
import type { Payment } from './payment.js';
import type { PaymentChange } from './payment-change.js';
import type { PaymentEvent, PaymentEventType } from './payment-events.js';

export type { PaymentChange } from './payment-change.js';

export type SweepKind = 'forward' | 'unpaid';

type Sweepable = Pick<Payment, 'status' | 'credit' | 'watching'>;

/**
 * Whether a payment's coins may be swept now: credited ones are forwarded; underpaid or expired
 * ones only once their monitoring window has closed (the watcher stopped watching), and are
 * swept unpaid. Everything else (pending, confirming, a credit not applied yet) waits.
 */
export function sweepKindOf(payment: Sweepable): SweepKind | undefined {
  if (payment.credit?.state === 'done') return 'forward';
  if (payment.credit) return undefined;
  const unpaid = ['underpaid', 'expired', 'cancelled'].includes(payment.status);
  if (!payment.watching && unpaid) {
    return 'unpaid';
  }
  return undefined;
}

const SWEEP_EVENTS: PaymentEventType[] = ['forwarded', 'swept_unpaid', 'sweep_replaced', 'swept'];

function mentioned(payment: Payment, types: PaymentEventType[], txid: string): boolean {
  return payment.events.some((e) => types.includes(e.type) && e.cause.includes(txid));
}

/** A sweep of the payment's coins was broadcast (`replacement`: a fee bump of an earlier one). */
export function sweepBroadcast(
  payment: Payment,
  sweep: { txid: string; destination: string; replacement: boolean },
  now: Date,
): PaymentChange | null {
  const { txid } = sweep;
  if (mentioned(payment, SWEEP_EVENTS, txid)) return null;
  const event = (type: PaymentEventType, cause: string, transition = {}): PaymentEvent => ({
    at: now,
    type,
    cause,
    ...transition,
  });
  const recorded = payment.status === 'forwarded' || payment.sweptUnpaid === true;
  if (recorded && sweep.replacement) {
    // One `forwarded` per payment: the bump is recorded as such; sweepTxid moves on confirmation.
    return {
      next: {},
      events: [event('sweep_replaced', `fee bump ${txid} replaces ${payment.sweepTxid ?? '?'}`)],
      webhooks: [],
    };
  }
  if (recorded) {
    return { next: {}, events: [event('swept', `more coins swept in ${txid}`)], webhooks: [] };
  }
  if (payment.credit?.state === 'done') {
    if (payment.status === 'confirmed') {
      return {
        next: { status: 'forwarded', sweepTxid: txid },
        events: [
          event('forwarded', `swept to ${sweep.destination} in ${txid}`, {
            from: 'confirmed',
            to: 'forwarded',
          }),
        ],
        webhooks: ['payment.forwarded'],
      };
    }
    // Credited without being `confirmed` (proportional credit of an underpaid payment).
    return {
      next: { sweepTxid: txid },
      events: [event('forwarded', `swept to ${sweep.destination} in ${txid}`)],
      webhooks: [],
    };
  }
  return {
    next: { sweptUnpaid: true, sweepTxid: txid },
    events: [event('swept_unpaid', `unpaid coins swept to ${sweep.destination} in ${txid}`)],
    webhooks: ['payment.swept_unpaid'],
  };
}

/** The sweep `txid` confirmed: it is the payment's sweep from now on, whichever was broadcast first. */
export function sweepConfirmed(
  payment: Payment,
  txid: string,
  blockHeight: number | undefined,
  now: Date,
): PaymentChange | null {
  if (mentioned(payment, ['sweep_confirmed'], txid)) return null;
  return {
    next: { sweepTxid: txid },
    events: [
      {
        at: now,
        type: 'sweep_confirmed',
        cause: `sweep ${txid} confirmed in block ${blockHeight ?? '?'}`,
      },
    ],
    webhooks: [],
  };
}

/** Something about the payment's coins needs a human (e.g. a coin spent elsewhere). */
export function sweepNeedsReview(
  payment: Payment,
  reason: string,
  now: Date,
): PaymentChange | null {
  if (payment.reviewReasons.includes(reason)) return null;
  return {
    next: { needsReview: true, reviewReasons: [...payment.reviewReasons, reason] },
    events: [{ at: now, type: 'needs_review', cause: reason }],
    webhooks: payment.needsReview ? [] : ['payment.needs_review'],
  };
}
