/**
 * What the payer is asked to do now. The payment's status says where the money is; the payer
 * needs a phase: pay, send the rest, wait for confirmations, done, or stop (expired, cancelled,
 * underpaid), and whether the page should keep asking (`final`: nothing can change any more
 * that the payer would act on). Plain functions: no clock reads, no I/O.
 */
import { formatBtc } from '../pricing/amount.js';
import type { IssuedPayment, PaymentStatus } from '../payments/payment.js';
import { amountThreshold } from '../payments/state-machine.js';
import { type ViewContext, bip21Uri, checkoutView, qrContent } from '../payments/views.js';
import { explorerTxUrl } from './explorer.js';

export const PAYER_PHASES = [
  'pending',
  'partial',
  'confirming',
  'paid',
  'expired',
  'underpaid',
  'cancelled',
] as const;
export type PayerPhase = (typeof PAYER_PHASES)[number];

/** `cancelled` arrives with the merchant's cancel; the page knows it already. */
export type PayerFacingStatus = PaymentStatus | 'cancelled';

export interface PayerTransaction {
  txid: string;
  /** On the configured block explorer, when there is one. */
  url?: string;
}

/** The rest of a partial payment: what is still to send, as its own BIP21 and QR content. */
export interface PayerRest {
  amountSats: number;
  amountBtc: string;
  bip21: string;
  qr: string;
}

type CheckoutView = ReturnType<typeof checkoutView>;

// A type, not an interface: the route's response type (from its JSON schema) needs it assignable
// to an open object.
export type PayerStatus = Omit<CheckoutView, 'status'> & {
  status: PayerFacingStatus;
  /** Where "Back to <merchant>" leads, when the merchant gave one. */
  redirectUrl?: string;
  phase: PayerPhase;
  /** Nothing the payer would act on can change any more: the page stops polling. */
  final: boolean;
  rest?: PayerRest;
  transactions: PayerTransaction[];
};

export interface PayerStatusOptions {
  /** The share the payer may fall short by and still have paid (payments.underpaymentToleranceBps). */
  underpaymentToleranceBps: number;
  /** A block explorer's transaction URL with `{txid}`; none: txids are shown without links. */
  explorerUrl?: string;
}

function phaseOf(
  status: PayerFacingStatus,
  receivedSats: number,
  threshold: number,
  secondsLeft: number,
): PayerPhase {
  switch (status) {
    case 'confirmed':
    case 'forwarded':
      return 'paid';
    case 'expired':
    case 'underpaid':
    case 'cancelled':
      return status;
    case 'confirming':
      return receivedSats < threshold ? 'partial' : 'confirming';
    case 'pending':
      // The watcher marks it expired on its next cycle; the payer should stop paying now.
      return secondsLeft > 0 ? 'pending' : 'expired';
  }
}

/**
 * Paid, expired and cancelled payments no longer change for the payer (late money is the
 * merchant's to settle, and the page says so). An underpaid payment may still receive the
 * rest while its address is watched; once the monitoring window closes, nothing more counts.
 */
function isFinal(status: PayerFacingStatus, watching: boolean): boolean {
  switch (status) {
    case 'confirmed':
    case 'forwarded':
    case 'expired':
    case 'cancelled':
      return true;
    case 'underpaid':
      return !watching;
    case 'pending':
    case 'confirming':
      return false;
  }
}

/** The transactions that paid this payment, first seen first (old funds are not the payer's). */
function transactionsOf(payment: IssuedPayment, explorerUrl?: string): PayerTransaction[] {
  const outputs = payment.outputs
    .filter((o) => o.old !== true)
    .sort((a, b) => a.firstSeenAt.getTime() - b.firstSeenAt.getTime());
  const txids = [...new Set(outputs.map((o) => o.txid))];
  return txids.map((txid) => {
    const url = explorerTxUrl(explorerUrl, txid);
    return { txid, ...(url !== undefined && { url }) };
  });
}

export function payerStatus(
  payment: IssuedPayment,
  ctx: ViewContext,
  now: Date,
  options: PayerStatusOptions,
): PayerStatus {
  const view: CheckoutView & { redirectUrl?: string } = checkoutView(payment, ctx, now);
  const status: PayerFacingStatus = view.status;
  const threshold = amountThreshold(payment.amountSats, options.underpaymentToleranceBps);
  const phase = phaseOf(status, payment.receivedSats, threshold, view.secondsLeft);
  let rest: PayerRest | undefined;
  if (phase === 'partial') {
    const sats = payment.amountSats - payment.receivedSats;
    const bip21 = bip21Uri(payment.address, sats, ctx.merchantName, payment.description);
    rest = {
      amountSats: sats,
      amountBtc: formatBtc(sats),
      bip21,
      qr: qrContent(bip21, payment.address),
    };
  }
  return {
    ...view,
    status,
    phase,
    final: isFinal(status, payment.watching),
    ...(rest && { rest }),
    transactions: transactionsOf(payment, options.explorerUrl),
  };
}

/**
 * What the page was drawn from: when a poll brings a different key, the page fetches itself
 * again (checkout.js computes the same key from the status JSON).
 */
export function renderKey(
  s: Pick<PayerStatus, 'phase' | 'receivedSats' | 'confirmations' | 'transactions'>,
): string {
  return [s.phase, s.receivedSats, s.confirmations, s.transactions.length].join('|');
}
