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
 *   pending ──merchant cancels, nothing seen──▶ cancelled   (later money: late, review, never credited)
 */
import type { ChainTransaction } from '../chain/chain-source.js';
import type { PaymentEvent, PaymentStatus } from './payment.js';

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

/** One output paying the payment's address. */
export interface PaidOutput {
  txid: string;
  vout: number;
  valueSats: number;
  blockHeight?: number;
  blockHash?: string;
  signalsRbf: boolean;
  firstSeenAt: Date;
  /** First seen after the expiry (and its grace): late money. */
  late: boolean;
  /**
   * First seen already confirmed in a block below the payment's `createdAtHeight`: history of
   * the address from before the payment existed. Recorded, never counted or credited.
   */
  old?: boolean;
  /**
   * While unconfirmed: the outpoints its transaction spends (`txid:vout`), so a block spending
   * one of them in another transaction shows the payment was double-spent.
   */
  spends?: string[];
}

export interface CreditDue {
  state: 'due' | 'done';
  credits: number;
  /** The confirmed sats the credit was based on: less than this later means a reorg took money back. */
  basisSats: number;
  dueAt: Date;
  doneAt?: Date;
  manual?: { by: string; reason: string };
}

/** What the watcher tracks on a payment. */
export interface TrackedState {
  status: PaymentStatus;
  outputs: PaidOutput[];
  receivedSats: number;
  confirmedSats: number;
  confirmations: number;
  late: boolean;
  overpaidSats: number;
  manual: boolean;
  needsReview: boolean;
  reviewReasons: string[];
  credit?: CreditDue;
  watching: boolean;
}

export interface PaymentTerms {
  address: string;
  amountSats: number;
  credits: number;
  requiredConfirmations: number;
  expiresAt: Date;
  /**
   * The chain tip height when the payment was created. Outputs first seen confirmed below it
   * are older than the payment and never count. Absent on payments made before it was recorded.
   */
  createdAtHeight?: number;
}

export const OLD_FUNDS_REASON = 'funds older than the payment';
/** The review reason of money paid to a cancelled payment (see cancellation.ts). */
export const CANCELLED_MONEY_REASON = 'money arrived after the payment was cancelled';

export interface Policy {
  underpaymentToleranceBps: number;
  expiryGraceMs: number;
  monitoringMs: number;
  latePayments: 'credit' | 'review';
  creditMode: 'fixed' | 'proportional';
  settledConfirmations: number;
}

export interface Observation {
  tipHeight: number;
  /** Every transaction the chain shows for the address now (mempool and confirmed). */
  transactions: ChainTransaction[];
  now: Date;
}

export interface Evaluation {
  next: TrackedState;
  events: PaymentEvent[];
  webhooks: WebhookType[];
  changed: boolean;
}

export function initialTrackedState(): TrackedState {
  return {
    status: 'pending',
    outputs: [],
    receivedSats: 0,
    confirmedSats: 0,
    confirmations: 0,
    late: false,
    overpaidSats: 0,
    manual: false,
    needsReview: false,
    reviewReasons: [],
    watching: true,
  };
}

export function confirmationsOf(
  output: Pick<PaidOutput, 'blockHeight'>,
  tipHeight: number,
): number {
  return output.blockHeight === undefined ? 0 : Math.max(0, tipHeight - output.blockHeight + 1);
}

/** An output counts toward the amount once deep enough; with N = 0, RBF-signalling ones still need 1. */
export function outputCounts(output: PaidOutput, required: number, tipHeight: number): boolean {
  const needed = required === 0 && output.signalsRbf ? 1 : required;
  return confirmationsOf(output, tipHeight) >= needed;
}

/** The least the payer may send: the amount less the configured tolerance, rounded in the payer's favour. */
export function amountThreshold(amountSats: number, toleranceBps: number): number {
  return amountSats - Math.floor((amountSats * toleranceBps) / 10_000);
}

export function creditsFor(
  terms: PaymentTerms,
  confirmedSats: number,
  mode: Policy['creditMode'],
): number {
  if (mode === 'fixed') return terms.credits;
  return Number((BigInt(terms.credits) * BigInt(confirmedSats)) / BigInt(terms.amountSats));
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

const sum = (outputs: PaidOutput[]) => outputs.reduce((s, o) => s + o.valueSats, 0);

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

/** The payment's next state given what the chain shows now. */
export function evaluatePayment(
  terms: PaymentTerms,
  current: TrackedState,
  obs: Observation,
  policy: Policy,
): Evaluation {
  const { now, tipHeight } = obs;
  const required = terms.requiredConfirmations;
  const cancelled = current.status === 'cancelled';
  const observed = observeOutputs(terms, current.outputs, obs, policy, cancelled);
  // Old outputs are recorded for the admin but take no part in status or credit.
  const outputs = observed.filter((o) => o.old !== true);
  const counted = outputs.filter((o) => outputCounts(o, required, tipHeight));
  const onTime = outputs.filter((o) => !o.late);
  const receivedSats = sum(outputs);
  const confirmedSats = sum(counted);
  const onTimeReceived = sum(onTime);
  const onTimeConfirmed = sum(counted.filter((o) => !o.late));
  const confirmations =
    outputs.length === 0 ? 0 : Math.min(...outputs.map((o) => confirmationsOf(o, tipHeight)));
  const threshold = amountThreshold(terms.amountSats, policy.underpaymentToleranceBps);
  const expired = now.getTime() >= terms.expiresAt.getTime() + policy.expiryGraceMs;
  const windowOver =
    now.getTime() > terms.expiresAt.getTime() + policy.expiryGraceMs + policy.monitoringMs;

  const next: TrackedState = {
    ...current,
    outputs: observed,
    receivedSats,
    confirmedSats,
    confirmations,
    overpaidSats: Math.max(0, receivedSats - terms.amountSats),
    reviewReasons: [...current.reviewReasons],
  };
  const events: PaymentEvent[] = [];
  const webhooks: WebhookType[] = [];
  const flagReview = (reason: string) => {
    if (next.reviewReasons.includes(reason)) return;
    next.reviewReasons.push(reason);
    if (!next.needsReview) webhooks.push('payment.needs_review');
    next.needsReview = true;
    events.push({ at: now, type: 'needs_review', cause: reason });
  };

  const before = new Set(current.outputs.map((o) => `${o.txid}:${o.vout}`));
  const after = new Set(observed.map((o) => `${o.txid}:${o.vout}`));
  for (const o of observed) {
    if (!before.has(`${o.txid}:${o.vout}`)) {
      const note = o.old ? ' (older than the payment: not counted)' : o.late ? ' (late)' : '';
      events.push({
        at: now,
        type: 'output_seen',
        cause: `${o.txid}:${o.vout} pays ${o.valueSats} sats${note}`,
      });
    }
  }
  if (observed.some((o) => o.old === true)) flagReview(OLD_FUNDS_REASON);
  if (!next.watching && outputs.some((o) => !before.has(`${o.txid}:${o.vout}`))) {
    // New money on a payment no longer watched (the block scan finds any old address): its
    // confirmations are followed again until it is deep enough.
    next.watching = true;
    events.push({ at: now, type: 'reopened', cause: 'new money arrived; watched again' });
  }
  for (const o of current.outputs) {
    if (!after.has(`${o.txid}:${o.vout}`)) {
      events.push({
        at: now,
        type: 'output_dropped',
        cause: `${o.txid}:${o.vout} (${o.valueSats} sats) disappeared: replaced, double-spent or reorged out`,
      });
    }
  }

  if (current.credit) {
    // Credited: money never goes back automatically. Losing credited funds needs a human.
    if (confirmedSats < current.credit.basisSats) {
      flagReview('a reorg or double spend removed funds of a credited payment');
    }
  } else {
    let status: PaymentStatus;
    let creditNow = false;
    const usesLateMoney = confirmedSats >= threshold && onTimeConfirmed < threshold;
    // Money first seen after the monitoring window (a block scan finds any old address) is
    // never credited automatically, whatever the late-payment policy.
    const windowEnd = terms.expiresAt.getTime() + policy.expiryGraceMs + policy.monitoringMs;
    const beyondWindow = outputs.some((o) => o.late && o.firstSeenAt.getTime() > windowEnd);
    if (cancelled) {
      // The merchant withdrew the offer: whatever arrives is a human's decision (cancellation.ts).
      status = 'cancelled';
      if (outputs.length > 0) flagReview(CANCELLED_MONEY_REASON);
    } else if (confirmedSats >= threshold) {
      if (usesLateMoney && beyondWindow) {
        status = onTimeReceived > 0 ? 'underpaid' : 'expired';
        flagReview('money arrived after the monitoring window; awaits review');
      } else if (usesLateMoney && policy.latePayments === 'review') {
        status = onTimeReceived > 0 ? 'underpaid' : 'expired';
        flagReview('late payment awaits review (latePayments: review)');
      } else {
        status = 'confirmed';
        creditNow = true;
      }
    } else if (receivedSats === 0) {
      status = expired ? 'expired' : 'pending';
    } else if (!expired || onTimeReceived >= threshold) {
      status = 'confirming';
    } else {
      status = onTimeReceived > 0 ? 'underpaid' : 'expired';
      // Proportional mode credits what arrived in time, once all of it is confirmed.
      const allCounted = outputs.every((o) => outputCounts(o, required, tipHeight));
      if (
        policy.creditMode === 'proportional' &&
        allCounted &&
        onTimeConfirmed > 0 &&
        !outputs.some((o) => o.late)
      ) {
        creditNow = creditsFor(terms, confirmedSats, 'proportional') > 0;
      }
    }
    if (beyondWindow) flagReview('money arrived after the monitoring window; awaits review');
    if (outputs.some((o) => o.late) && !current.late) {
      next.late = true;
      webhooks.push('payment.late');
      events.push({ at: now, type: 'late', cause: 'money arrived after the payment expired' });
    }
    if (status !== current.status) {
      next.status = status;
      events.push({
        at: now,
        type: 'status',
        from: current.status,
        to: status,
        cause: describeStatusChange(status, next, terms),
      });
      const hook = webhookFor(status);
      if (hook) webhooks.push(hook);
    }
    if (creditNow) {
      next.credit = {
        state: 'due',
        credits: creditsFor(terms, confirmedSats, policy.creditMode),
        basisSats: confirmedSats,
        dueAt: now,
      };
      events.push({
        at: now,
        type: 'credit_due',
        cause: `${next.credit.credits} credits for ${confirmedSats} confirmed sats`,
      });
    } else if (
      next.watching &&
      windowOver &&
      outputs.every((o) => outputCounts(o, required, tipHeight))
    ) {
      // Past the monitoring window with nothing in flight: stop polling this address.
      next.watching = false;
      events.push({ at: now, type: 'closed', cause: 'monitoring window over' });
    }
  }

  // Credited and buried deep enough: reorgs that deep are not worth polling for.
  const settled =
    outputs.length > 0 &&
    observed.every((o) => confirmationsOf(o, tipHeight) >= policy.settledConfirmations);
  // Old funds need a human but no more polling: they cannot change what was credited.
  const reviewKeepsWatching =
    next.needsReview && next.reviewReasons.some((r) => r !== OLD_FUNDS_REASON);
  if (next.credit && settled && !reviewKeepsWatching && next.watching) {
    next.watching = false;
    events.push({
      at: now,
      type: 'settled',
      cause: `${policy.settledConfirmations}+ confirmations; no longer watched`,
    });
  }

  const changed =
    events.length > 0 ||
    next.status !== current.status ||
    next.confirmations !== current.confirmations ||
    next.confirmedSats !== current.confirmedSats ||
    next.watching !== current.watching ||
    JSON.stringify(next.outputs) !== JSON.stringify(current.outputs);
  return { next, events, webhooks, changed };
}
