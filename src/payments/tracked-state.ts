/**
 * What the watcher tracks on a payment, the terms it is judged by, and the arithmetic of
 * confirmations and credit that every transition shares. Plain data and pure functions.
 */
import type { PaymentStatus } from './payment-events.js';

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
  /** The ledger entry that applied it (written once it is done). */
  entryId?: string;
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
