/** What the checkout asks of the payer in each state, and when its polling may stop. */
import { describe, expect, it } from 'vitest';
import type { IssuedPayment } from '../../src/payments/payment.js';
import {
  ADDRESS,
  NOW,
  checkoutPayment,
  ctx,
  options,
  output,
  tx,
} from './fixtures/checkout-payment.js';
import { payerStatus, renderKey } from '../../src/checkout/payer-status.js';
import { explorerTemplate, explorerTxUrl } from '../../src/checkout/explorer.js';

describe('payerStatus', () => {
  it('asks for the full amount while nothing is paid, and keeps polling', () => {
    const s = payerStatus(checkoutPayment(), ctx, NOW, options);
    expect(s).toMatchObject({ phase: 'pending', final: false, transactions: [] });
    expect(s.rest).toBeUndefined();
  });

  it('asks a partial payer for the rest, with a BIP21 and QR content for that rest', () => {
    const payment = checkoutPayment({
      status: 'confirming',
      receivedSats: 10_000,
      outputs: [output(tx(1), 10_000)],
    });
    const s = payerStatus(payment, ctx, NOW, options);
    expect(s.phase).toBe('partial');
    expect(s.final).toBe(false);
    expect(s.rest).toEqual({
      amountSats: 20_000,
      amountBtc: '0.00020000',
      bip21: `bitcoin:${ADDRESS}?amount=0.0002&label=Lab%20Coffee&message=Flat%20white`,
      qr: `BITCOIN:${ADDRESS.toUpperCase()}?amount=0.0002&label=Lab%20Coffee&message=Flat%20white`,
    });
    // The full amount's BIP21 stays what it was (merchants may show it).
    expect(s.bip21).toContain('amount=0.0003');
  });

  it('treats a payment short by less than the tolerance as fully seen', () => {
    const payment = checkoutPayment({
      status: 'confirming',
      receivedSats: 29_900,
      outputs: [output(tx(1), 29_900)],
    });
    expect(payerStatus(payment, ctx, NOW, options).phase).toBe('partial');
    expect(payerStatus(payment, ctx, NOW, { underpaymentToleranceBps: 100 }).phase).toBe(
      'confirming',
    );
  });

  it('shows confirmations with the transactions, linked to the explorer when there is one', () => {
    const payment = checkoutPayment({
      status: 'confirming',
      receivedSats: 30_000,
      confirmations: 1,
      outputs: [
        output(tx(2), 20_000, { firstSeenAt: new Date(NOW.getTime() + 1000) }),
        output(tx(1), 10_000),
        output(tx(1), 0, { vout: 1 }),
        output(tx(3), 5_000, { old: true }),
      ],
    });
    const s = payerStatus(payment, ctx, NOW, {
      ...options,
      explorerUrl: 'https://mempool.space/tx/{txid}',
    });
    expect(s.phase).toBe('confirming');
    expect(s.rest).toBeUndefined();
    // First seen first, each once, and funds older than the payment are not the payer's.
    expect(s.transactions).toEqual([
      { txid: tx(1), url: `https://mempool.space/tx/${tx(1)}` },
      { txid: tx(2), url: `https://mempool.space/tx/${tx(2)}` },
    ]);
    expect(payerStatus(payment, ctx, NOW, options).transactions).toEqual([
      { txid: tx(1) },
      { txid: tx(2) },
    ]);
  });

  it('calls confirmed and forwarded paid, and stops polling there', () => {
    for (const status of ['confirmed', 'forwarded'] as const) {
      const s = payerStatus(checkoutPayment({ status, receivedSats: 30_000 }), ctx, NOW, options);
      expect(s).toMatchObject({ phase: 'paid', final: true });
    }
  });

  it('stops polling on expiry, even while late money could still be recorded', () => {
    const s = payerStatus(
      checkoutPayment({ status: 'expired', watching: true }),
      ctx,
      NOW,
      options,
    );
    expect(s).toMatchObject({ phase: 'expired', final: true });
  });

  it('shows a pending payment past its expiry as expired, but polls until the watcher agrees', () => {
    const later = new Date(NOW.getTime() + 3_600_000);
    const s = payerStatus(checkoutPayment(), ctx, later, options);
    expect(s).toMatchObject({ status: 'pending', phase: 'expired', final: false, secondsLeft: 0 });
  });

  it('keeps polling an underpaid payment while its address is watched, and stops after', () => {
    const underpaid = { status: 'underpaid' as const, receivedSats: 10_000 };
    const watched = payerStatus(
      checkoutPayment({ ...underpaid, watching: true }),
      ctx,
      NOW,
      options,
    );
    expect(watched).toMatchObject({ phase: 'underpaid', final: false });
    const closed = payerStatus(
      checkoutPayment({ ...underpaid, watching: false }),
      ctx,
      NOW,
      options,
    );
    expect(closed).toMatchObject({ phase: 'underpaid', final: true });
  });

  it('shows a cancelled payment as cancelled, final', () => {
    // `cancelled` comes with the merchant's cancel; the checkout handles it already.
    const payment = checkoutPayment({ status: 'cancelled' as IssuedPayment['status'] });
    expect(payerStatus(payment, ctx, NOW, options)).toMatchObject({
      phase: 'cancelled',
      final: true,
    });
  });

  it('changes its render key when anything the page shows changes', () => {
    const base = payerStatus(checkoutPayment(), ctx, NOW, options);
    const seen = payerStatus(
      checkoutPayment({
        status: 'confirming',
        receivedSats: 30_000,
        outputs: [output(tx(1), 30_000)],
      }),
      ctx,
      NOW,
      options,
    );
    const deeper = { ...seen, confirmations: 1 };
    expect(new Set([renderKey(base), renderKey(seen), renderKey(deeper)]).size).toBe(3);
  });
});

describe('block explorer links', () => {
  it('default to mempool.space per public network and to none on regtest', () => {
    expect(explorerTemplate('mainnet')).toBe('https://mempool.space/tx/{txid}');
    expect(explorerTemplate('testnet')).toBe('https://mempool.space/testnet/tx/{txid}');
    expect(explorerTemplate('signet')).toBe('https://mempool.space/signet/tx/{txid}');
    expect(explorerTemplate('regtest')).toBeUndefined();
  });

  it('follow the configured template, and an empty one turns them off', () => {
    expect(explorerTemplate('regtest', 'http://localhost:3002/tx/{txid}')).toBe(
      'http://localhost:3002/tx/{txid}',
    );
    expect(explorerTemplate('mainnet', '')).toBeUndefined();
    expect(explorerTxUrl('https://x.example/tx/{txid}?ref=shop', 'ab')).toBe(
      'https://x.example/tx/ab?ref=shop',
    );
  });
});
