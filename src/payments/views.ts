/**
 * What the merchant API, the admin API and the checkout page show of a payment: each view picks
 * its fields on purpose, so a new field on the record is never published by accident.
 */
import { formatBtc, formatBtcShort } from '../pricing/amount.js';
import { orderView } from './order.js';
import type { IssuedPayment, Payment } from './payment.js';

/** The rate providers there are (pricing/), as the API documents them. */
type RateSourceName = 'fixed' | 'mempool' | 'kraken';

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
    price: { ...payment.price },
    ...(payment.rate && {
      rate: {
        ...payment.rate,
        // Stored as the provider's name; the API documents the providers there are.
        source: payment.rate.source as RateSourceName,
        fetchedAt: payment.rate.fetchedAt.toISOString(),
      },
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
    price: { ...payment.price },
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
