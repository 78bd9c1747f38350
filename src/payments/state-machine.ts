/**
 * The payment state machine: plain functions over plain data. Given a payment and what the chain
 * shows now, it returns the payment's next tracked state, the events to record and the webhooks
 * to send. It reads no clock and touches no database: time comes in with the observation.
 *
 *   pending ──tx seen──▶ confirming ──N confs & amount ok──▶ confirmed (credited) ──swept──▶ forwarded
 *      │ expiry, nothing seen     │ expiry, amount short
 *      ▼                          ▼
 *   expired                   underpaid          (late money is still recorded and, by policy, credited)
 *
 *   pending ──merchant cancels, nothing seen──▶ cancelled   (later money: late, review, latePayments)
 *
 * The other transitions stand beside it, each returning the same `PaymentChange`: manual
 * confirmation (manual-confirmation.ts), crediting (crediting.ts) and what sweeps do
 * (sweep-recording.ts).
 */
import type { ChainTransaction } from '../chain/chain-source.js';
import type { PaymentChange } from './payment-change.js';
import type { PaymentEvent, PaymentStatus, WebhookType } from './payment-events.js';
import {
  CANCELLED_MONEY_REASON,
  OLD_FUNDS_REASON,
  type PaidOutput,
  type PaymentTerms,
  type Policy,
  type TrackedState,
  amountThreshold,
  confirmationsOf,
  creditsFor,
  outputCounts,
} from './tracked-state.js';

export { WEBHOOK_TYPES, type WebhookType } from './payment-events.js';
export {
  CANCELLED_MONEY_REASON,
  OLD_FUNDS_REASON,
  amountThreshold,
  confirmationsOf,
  creditsFor,
  initialTrackedState,
  outputCounts,
  type CreditDue,
  type PaidOutput,
  type PaymentTerms,
  type Policy,
  type TrackedState,
} from './tracked-state.js';

export interface Observation {
  tipHeight: number;
  /** Every transaction the chain shows for the address now (mempool and confirmed). */
  transactions: ChainTransaction[];
  now: Date;
}

export interface Evaluation extends PaymentChange<TrackedState> {
  changed: boolean;
}

function observeOutputs(
  terms: PaymentTerms,
  previous: PaidOutput[],
  obs: Observation,
  policy: Policy,
  cancelled: boolean,
): PaidOutput[] {
  const known = new Map(previous.map((o) => [`${o.txid}:${o.vout}`, o]));
  const lateAfter = terms.expiresAt.getTime() + policy.expiryGraceMs;
  const outputs: PaidOutput[] = [];
  for (const tx of obs.transactions) {
    for (const out of tx.outputs) {
      if (out.address !== terms.address) continue;
      const before = known.get(`${tx.txid}:${out.vout}`);
      const confirmedBelowCreation =
        terms.createdAtHeight !== undefined &&
        tx.status.confirmed &&
        tx.status.blockHeight !== undefined &&
        tx.status.blockHeight < terms.createdAtHeight;
      // Decided when first seen and kept: an output seen in the mempool is new whatever happens.
      const old = before ? before.old === true : confirmedBelowCreation;
      const output: PaidOutput = {
        txid: tx.txid,
        vout: out.vout,
        valueSats: out.valueSats,
        signalsRbf: tx.signalsRbf,
        firstSeenAt: before?.firstSeenAt ?? obs.now,
        // A cancelled payment had nothing when it was cancelled: all its money came after.
        late: before?.late ?? (cancelled || obs.now.getTime() > lateAfter),
        ...(old && { old: true }),
      };
      if (tx.status.confirmed && tx.status.blockHeight !== undefined) {
        output.blockHeight = tx.status.blockHeight;
        if (tx.status.blockHash !== undefined) output.blockHash = tx.status.blockHash;
      } else if (tx.spends.length > 0) {
        output.spends = tx.spends.map((s) => `${s.txid}:${s.vout}`);
      }
      outputs.push(output);
    }
  }
  return outputs.sort((a, b) => (a.txid === b.txid ? a.vout - b.vout : a.txid < b.txid ? -1 : 1));
}

function webhookFor(status: PaymentStatus): WebhookType | undefined {
  switch (status) {
    case 'confirming':
      return 'payment.confirming';
    case 'confirmed':
      return 'payment.confirmed';
    case 'expired':
      return 'payment.expired';
    case 'underpaid':
      return 'payment.underpaid';
    default:
      return undefined;
  }
}

function describeStatusChange(
  to: PaymentStatus,
  s: { receivedSats: number; confirmedSats: number; confirmations: number },
  terms: PaymentTerms,
): string {
  switch (to) {
    case 'pending':
      return 'no transaction pays the address any more';
    case 'confirming':
      return `${s.receivedSats} of ${terms.amountSats} sats seen, ${s.confirmations} of ${terms.requiredConfirmations} confirmations`;
    case 'confirmed':
      return `${s.confirmedSats} sats with ${terms.requiredConfirmations}+ confirmations`;
    case 'expired':
      return s.receivedSats > 0
        ? `expired; only late money (${s.receivedSats} sats) arrived`
        : 'expired with nothing paid';
    case 'underpaid':
      return `expired with ${s.receivedSats} of ${terms.amountSats} sats paid`;
    default:
      return to;
  }
}

const sum = (outputs: PaidOutput[]) => outputs.reduce((s, o) => s + o.valueSats, 0);
const keyOf = (o: Pick<PaidOutput, 'txid' | 'vout'>) => `${o.txid}:${o.vout}`;

/** What the observed outputs add up to at this height and time. */
interface Figures {
  /** Every output seen, old ones included (recorded for the admin). */
  observed: PaidOutput[];
  /** The outputs that take part in status and credit (not older than the payment). */
  outputs: PaidOutput[];
  receivedSats: number;
  confirmedSats: number;
  onTimeReceived: number;
  onTimeConfirmed: number;
  confirmations: number;
  threshold: number;
  /** Past the expiry and its grace. */
  expired: boolean;
  /** Past the monitoring window too. */
  windowOver: boolean;
  /** Some late money was first seen after the monitoring window. */
  beyondWindow: boolean;
  /** Every output counts (deep enough). */
  allCounted: boolean;
}

function measure(
  terms: PaymentTerms,
  observed: PaidOutput[],
  obs: Observation,
  policy: Policy,
): Figures {
  const { now, tipHeight } = obs;
  const required = terms.requiredConfirmations;
  // Old outputs are recorded for the admin but take no part in status or credit.
  const outputs = observed.filter((o) => o.old !== true);
  const counted = outputs.filter((o) => outputCounts(o, required, tipHeight));
  const expiryEnd = terms.expiresAt.getTime() + policy.expiryGraceMs;
  const windowEnd = expiryEnd + policy.monitoringMs;
  return {
    observed,
    outputs,
    receivedSats: sum(outputs),
    confirmedSats: sum(counted),
    onTimeReceived: sum(outputs.filter((o) => !o.late)),
    onTimeConfirmed: sum(counted.filter((o) => !o.late)),
    confirmations:
      outputs.length === 0 ? 0 : Math.min(...outputs.map((o) => confirmationsOf(o, tipHeight))),
    threshold: amountThreshold(terms.amountSats, policy.underpaymentToleranceBps),
    expired: now.getTime() >= expiryEnd,
    windowOver: now.getTime() > windowEnd,
    // Money first seen after the monitoring window (a block scan finds any old address) is
    // never credited automatically, whatever the late-payment policy.
    beyondWindow: outputs.some((o) => o.late && o.firstSeenAt.getTime() > windowEnd),
    allCounted: counted.length === outputs.length,
  };
}

/** The change being built: the next state and what to record and send, in order. */
interface Draft extends PaymentChange<TrackedState> {
  now: Date;
}

function flagReview(draft: Draft, reason: string): void {
  const { next } = draft;
  if (next.reviewReasons.includes(reason)) return;
  next.reviewReasons.push(reason);
  if (!next.needsReview) draft.webhooks.push('payment.needs_review');
  next.needsReview = true;
  draft.events.push({ at: draft.now, type: 'needs_review', cause: reason });
}

/** Outputs seen for the first time, outputs gone, old funds, and a closed payment reopened. */
function recordOutputChanges(draft: Draft, current: TrackedState, f: Figures): void {
  const { now, next, events } = draft;
  const before = new Set(current.outputs.map(keyOf));
  const after = new Set(f.observed.map(keyOf));
  for (const o of f.observed) {
    if (before.has(keyOf(o))) continue;
    const note = o.old ? ' (older than the payment: not counted)' : o.late ? ' (late)' : '';
    events.push({
      at: now,
      type: 'output_seen',
      cause: `${o.txid}:${o.vout} pays ${o.valueSats} sats${note}`,
    });
  }
  if (f.observed.some((o) => o.old === true)) flagReview(draft, OLD_FUNDS_REASON);
  if (!next.watching && f.outputs.some((o) => !before.has(keyOf(o)))) {
    // New money on a payment no longer watched (the block scan finds any old address): its
    // confirmations are followed again until it is deep enough.
    next.watching = true;
    events.push({ at: now, type: 'reopened', cause: 'new money arrived; watched again' });
  }
  for (const o of current.outputs) {
    if (after.has(keyOf(o))) continue;
    events.push({
      at: now,
      type: 'output_dropped',
      cause: `${o.txid}:${o.vout} (${o.valueSats} sats) disappeared: replaced, double-spent or reorged out`,
    });
  }
}

/** Credited: money never goes back automatically. Losing credited funds needs a human. */
function guardCredited(draft: Draft, credit: NonNullable<TrackedState['credit']>, f: Figures) {
  if (f.confirmedSats < credit.basisSats) {
    flagReview(draft, 'a reorg or double spend removed funds of a credited payment');
  }
}

/** An uncredited payment's status, whether it is credited now, and why it awaits review. */
interface Decision {
  status: PaymentStatus;
  creditNow: boolean;
  review?: string;
}

function decideStatus(terms: PaymentTerms, f: Figures, policy: Policy): Decision {
  const unpaidStatus: PaymentStatus = f.onTimeReceived > 0 ? 'underpaid' : 'expired';
  if (f.confirmedSats >= f.threshold) {
    const usesLateMoney = f.onTimeConfirmed < f.threshold;
    if (usesLateMoney && f.beyondWindow) {
      return {
        status: unpaidStatus,
        creditNow: false,
        review: 'money arrived after the monitoring window; awaits review',
      };
    }
    if (usesLateMoney && policy.latePayments === 'review') {
      return {
        status: unpaidStatus,
        creditNow: false,
        review: 'late payment awaits review (latePayments: review)',
      };
    }
    return { status: 'confirmed', creditNow: true };
  }
  if (f.receivedSats === 0) return { status: f.expired ? 'expired' : 'pending', creditNow: false };
  if (!f.expired || f.onTimeReceived >= f.threshold)
    return { status: 'confirming', creditNow: false };
  // Proportional mode credits what arrived in time, once all of it is confirmed.
  const creditNow =
    policy.creditMode === 'proportional' &&
    f.allCounted &&
    f.onTimeConfirmed > 0 &&
    !f.outputs.some((o) => o.late) &&
    creditsFor(terms, f.confirmedSats, 'proportional') > 0;
  return { status: unpaidStatus, creditNow };
}

/**
 * Money paid to a cancelled payment all came after the cancel (cancellation.ts): it is late money,
 * and the late-payment policy decides, as for an expired payment. Credited, the payment becomes
 * confirmed; otherwise it stays cancelled and is swept as unpaid once the window closes. Either
 * way it is flagged for review: the merchant withdrew the offer and should look at it.
 */
function decideCancelled(terms: PaymentTerms, f: Figures, policy: Policy): Decision {
  const asLate = decideStatus(terms, f, policy);
  const review = f.outputs.length > 0 ? { review: CANCELLED_MONEY_REASON } : {};
  if (asLate.status === 'confirmed') return { ...asLate, ...review };
  return { status: 'cancelled', creditNow: false, ...review };
}

/** Status, lateness, a credit falling due, or the monitoring window closing. */
function progressUncredited(
  draft: Draft,
  terms: PaymentTerms,
  current: TrackedState,
  f: Figures,
  policy: Policy,
): void {
  const { now, next, events, webhooks } = draft;
  const decision =
    current.status === 'cancelled'
      ? decideCancelled(terms, f, policy)
      : decideStatus(terms, f, policy);
  if (decision.review !== undefined) flagReview(draft, decision.review);
  if (f.beyondWindow) flagReview(draft, 'money arrived after the monitoring window; awaits review');
  if (f.outputs.some((o) => o.late) && !current.late) {
    next.late = true;
    webhooks.push('payment.late');
    events.push({ at: now, type: 'late', cause: 'money arrived after the payment expired' });
  }
  if (decision.status !== current.status) {
    next.status = decision.status;
    events.push({
      at: now,
      type: 'status',
      from: current.status,
      to: decision.status,
      cause: describeStatusChange(decision.status, next, terms),
    });
    const hook = webhookFor(decision.status);
    if (hook) webhooks.push(hook);
  }
  if (decision.creditNow) {
    next.credit = {
      state: 'due',
      credits: creditsFor(terms, f.confirmedSats, policy.creditMode),
      basisSats: f.confirmedSats,
      dueAt: now,
    };
    events.push({
      at: now,
      type: 'credit_due',
      cause: `${next.credit.credits} credits for ${f.confirmedSats} confirmed sats`,
    });
  } else if (next.watching && f.windowOver && f.allCounted) {
    // Past the monitoring window with nothing in flight: stop polling this address.
    next.watching = false;
    events.push({ at: now, type: 'closed', cause: 'monitoring window over' });
  }
}

/** Credited and buried deep enough: reorgs that deep are not worth polling for. */
function settleIfDeep(draft: Draft, f: Figures, tipHeight: number, policy: Policy): void {
  const { next } = draft;
  const settled =
    f.outputs.length > 0 &&
    f.observed.every((o) => confirmationsOf(o, tipHeight) >= policy.settledConfirmations);
  // Old funds need a human but no more polling: they cannot change what was credited.
  const reviewKeepsWatching =
    next.needsReview && next.reviewReasons.some((r) => r !== OLD_FUNDS_REASON);
  if (next.credit && settled && !reviewKeepsWatching && next.watching) {
    next.watching = false;
    draft.events.push({
      at: draft.now,
      type: 'settled',
      cause: `${policy.settledConfirmations}+ confirmations; no longer watched`,
    });
  }
}

function hasChanged(current: TrackedState, next: TrackedState, events: PaymentEvent[]): boolean {
  return (
    events.length > 0 ||
    next.status !== current.status ||
    next.confirmations !== current.confirmations ||
    next.confirmedSats !== current.confirmedSats ||
    next.watching !== current.watching ||
    JSON.stringify(next.outputs) !== JSON.stringify(current.outputs)
  );
}

/** The payment's next state given what the chain shows now. */
export function evaluatePayment(
  terms: PaymentTerms,
  current: TrackedState,
  obs: Observation,
  policy: Policy,
): Evaluation {
  const cancelled = current.status === 'cancelled';
  const observed = observeOutputs(terms, current.outputs, obs, policy, cancelled);
  const f = measure(terms, observed, obs, policy);
  const draft: Draft = {
    now: obs.now,
    next: {
      ...current,
      outputs: f.observed,
      receivedSats: f.receivedSats,
      confirmedSats: f.confirmedSats,
      confirmations: f.confirmations,
      overpaidSats: Math.max(0, f.receivedSats - terms.amountSats),
      reviewReasons: [...current.reviewReasons],
    },
    events: [],
    webhooks: [],
  };
  recordOutputChanges(draft, current, f);
  if (current.credit) guardCredited(draft, current.credit, f);
  else progressUncredited(draft, terms, current, f, policy);
  settleIfDeep(draft, f, obs.tipHeight, policy);
  const { next, events, webhooks } = draft;
  return { next, events, webhooks, changed: hasChanged(current, next, events) };
}
