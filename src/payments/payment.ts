/** The payment record and the views the merchant API and the checkout page show of it. */
import { formatBtc, formatBtcShort } from '../pricing/amount.js';
import type { NetworkName } from '../wallet/networks.js';
import type { ScriptType } from '../wallet/extended-key.js';
import { type OrderFields, orderView } from './order.js';
import type { Quote } from './quote.js';
import type { TrackedState, WebhookType } from './state-machine.js';

export const PAYMENT_STATUSES = [
  'pending',
  'confirming',
  'confirmed',
  'forwarded',
  'expired',
  'underpaid',
  'cancelled',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export interface PaymentEvent {
  at: Date;
  type: string;
  cause: string;
  from?: PaymentStatus;
  to?: PaymentStatus;
  actor?: string;
}

export interface PriceRecord {
  amount: string;
  /** SAT, BTC or a fiat code */
  currency: string;
}

export interface RateRecord {
  currency: string;
  rate: string;
  source: string;
  fetchedAt: Date;
}

export interface Derivation {
  index: number;
  path: string;
  scriptType: ScriptType;
  accountFingerprint: string;
  masterFingerprint?: string;
}

/** A webhook waiting to be copied into the outbox; written atomically with the change it reports. */
export interface OutboxRef {
  id: string;
  type: WebhookType;
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

/** BIP21 URI; the amount in BTC without trailing zeros, text parts percent-encoded (RFC 3986). */
export function bip21Uri(address: string, sats: number, label?: string, message?: string): string {
  const params = [`amount=${formatBtcShort(sats)}`];
  if (label) params.push(`label=${encodeURIComponent(label)}`);
  if (message) params.push(`message=${encodeURIComponent(message)}`);
  return `bitcoin:${address}?${params.join('&')}`;
}

/**
 * What goes into the QR code: bech32 addresses upper-cased (with the scheme) so the QR can use
 * its compact alphanumeric mode; base58 addresses are case-sensitive and stay as they are.
 */
export function qrContent(uri: string, address: string): string {
  if (!/^(bc|tb|bcrt)1/.test(address)) return uri;
  return `BITCOIN:${address.toUpperCase()}${uri.slice(`bitcoin:${address}`.length)}`;
}

export interface ViewContext {
  publicUrl: string;
  merchantName: string;
}

export function checkoutUrl(payment: Pick<Payment, '_id'>, ctx: ViewContext): string {
  return `${ctx.publicUrl.replace(/\/$/, '')}/pay/${payment._id}`;
}

/** The merchant API's view of a payment. */
export function merchantView(payment: IssuedPayment, ctx: ViewContext) {
  return {
    id: payment._id,
    status: payment.status,
    userId: payment.userId,
    address: payment.address,
    amountSats: payment.amountSats,
    amountBtc: formatBtc(payment.amountSats),
    bip21: bip21Uri(payment.address, payment.amountSats, ctx.merchantName, payment.description),
    checkoutUrl: checkoutUrl(payment, ctx),
    credits: payment.credits,
    price: payment.price,
    ...(payment.rate && {
      rate: { ...payment.rate, fetchedAt: payment.rate.fetchedAt.toISOString() },
    }),
    ...(payment.packageId !== undefined && { packageId: payment.packageId }),
    ...(payment.description !== undefined && { description: payment.description }),
    ...orderView(payment),
    requiredConfirmations: payment.requiredConfirmations,
    receivedSats: payment.receivedSats,
    confirmedSats: payment.confirmedSats,
    confirmations: payment.confirmations,
    late: payment.late,
    overpaidSats: payment.overpaidSats,
    manual: payment.manual,
    needsReview: payment.needsReview,
    creditedCredits: payment.credit?.state === 'done' ? payment.credit.credits : 0,
    network: payment.network,
    derivationPath: payment.derivation.path,
    createdAt: payment.createdAt.toISOString(),
    expiresAt: payment.expiresAt.toISOString(),
    ...(payment.cancelledAt && { cancelledAt: payment.cancelledAt.toISOString() }),
  };
}

/** The payer's view: nothing about the user, the merchant's metadata or the wallet. */
export function checkoutView(payment: IssuedPayment, ctx: ViewContext, now: Date) {
  const uri = bip21Uri(payment.address, payment.amountSats, ctx.merchantName, payment.description);
  return {
    id: payment._id,
    status: payment.status,
    address: payment.address,
    amountSats: payment.amountSats,
    amountBtc: formatBtc(payment.amountSats),
    receivedSats: payment.receivedSats,
    dueSats: Math.max(0, payment.amountSats - payment.receivedSats),
    confirmations: payment.confirmations,
    requiredConfirmations: payment.requiredConfirmations,
    bip21: uri,
    qr: qrContent(uri, payment.address),
    price: payment.price,
    merchantName: ctx.merchantName,
    ...(payment.description !== undefined && { description: payment.description }),
    // Where "Back to the merchant" leads; the payer sees nothing else of the order.
    ...(payment.redirectUrl !== undefined && { redirectUrl: payment.redirectUrl }),
    expiresAt: payment.expiresAt.toISOString(),
    secondsLeft: Math.max(0, Math.floor((payment.expiresAt.getTime() - now.getTime()) / 1000)),
  };
}

/** Everything an admin may see: the merchant view plus history, outputs and internals. */
export function adminView(payment: IssuedPayment, ctx: ViewContext) {
  return {
    ...merchantView(payment, ctx),
    createdBy: payment.createdBy,
    ...(payment.createdAtHeight !== undefined && { createdAtHeight: payment.createdAtHeight }),
    watching: payment.watching,
    reviewReasons: payment.reviewReasons,
    ...(payment.lastCheckedAt && { lastCheckedAt: payment.lastCheckedAt.toISOString() }),
    ...(payment.credit && {
      credit: {
        state: payment.credit.state,
        credits: payment.credit.credits,
        basisSats: payment.credit.basisSats,
        dueAt: payment.credit.dueAt.toISOString(),
        ...(payment.credit.doneAt && { doneAt: payment.credit.doneAt.toISOString() }),
        ...(payment.credit.manual && { manual: payment.credit.manual }),
      },
    }),
    outputs: payment.outputs.map((o) => ({
      txid: o.txid,
      vout: o.vout,
      valueSats: o.valueSats,
      ...(o.blockHeight !== undefined && { blockHeight: o.blockHeight }),
      ...(o.blockHash !== undefined && { blockHash: o.blockHash }),
      signalsRbf: o.signalsRbf,
      late: o.late,
      ...(o.old === true && { old: true }),
      firstSeenAt: o.firstSeenAt.toISOString(),
    })),
    events: payment.events.map((e) => ({ ...e, at: e.at.toISOString() })),
  };
}
