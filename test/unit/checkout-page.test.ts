/**
 * The checkout page as rendered for each phase and language. Chromium covers the same states
 * end to end (test/integration/checkout-browser.test.ts); `cancelled` is covered here until
 * the merchant's cancel exists.
 */
import { describe, expect, it } from 'vitest';
import type { IssuedPayment } from '../../src/payments/payment.js';
import { type PayerStatus, payerStatus } from '../../src/checkout/payer-status.js';
import { pageQrContent, renderCheckoutPage, renderNotFoundPage } from '../../src/checkout/page.js';
import type { Language } from '../../src/checkout/messages.js';
import {
  ADDRESS,
  NOW,
  checkoutPayment,
  ctx,
  options,
  output,
  tx,
} from './fixtures/checkout-payment.js';

const QR = '<svg id="qr-svg"></svg>';

function statusOf(overrides: Partial<IssuedPayment>, extra: Partial<PayerStatus> = {}) {
  return {
    ...payerStatus(checkoutPayment(overrides), ctx, NOW, {
      ...options,
      explorerUrl: 'https://mempool.space/tx/{txid}',
    }),
    ...extra,
  };
}

function render(status: PayerStatus, language: Language = 'en'): string {
  const qr = pageQrContent(status);
  return renderCheckoutPage({
    status,
    language,
    ...(qr !== undefined && { qrSvg: QR }),
    statusUrl: '/pay/pay_test/status',
  });
}

const copyButtons = (html: string) => html.match(/<button[^>]*class="copy"/g)?.length ?? 0;
const paying = ['id="qr"', 'id="open-wallet"', QR];

describe('checkout page', () => {
  it('shows a pending payment with its QR, wallet link, copy buttons and countdown', () => {
    const html = render(statusOf({}));
    for (const part of paying) expect(html).toContain(part);
    expect(copyButtons(html)).toBe(2);
    expect(html).toContain('aria-label="Copy address"');
    expect(html).toContain('>Waiting for payment</p>');
    expect(html).toContain('Expires in 59:00');
    expect(html).toContain('data-final="false"');
    // A new release's page never runs with the previous release's cached script or style.
    expect(html).toMatch(/<script src="\/pay\/assets\/checkout\.js\?v=[0-9a-f]{12}" defer>/);
    expect(html).toMatch(/href="\/pay\/assets\/checkout\.css\?v=[0-9a-f]{12}"/);
  });

  it('asks a partial payer for the rest, its QR and wallet link carrying the rest', () => {
    const s = statusOf({
      status: 'confirming',
      receivedSats: 10_000,
      outputs: [output(tx(1), 10_000)],
    });
    expect(pageQrContent(s)).toBe(s.rest?.qr);
    const html = render(s);
    expect(html).toContain('Partial payment received');
    expect(html).toContain(
      '0.00010000 BTC received. Send 0.00020000 BTC more to the same address to complete it.',
    );
    expect(html).toContain(`href="bitcoin:${ADDRESS}?amount=0.0002&#38;label=Lab%20Coffee`);
    expect(html).not.toContain('amount=0.0003');
    expect(html).toContain('<span class="value" id="due-btc">0.00020000</span>');
    expect(html).toContain('data-copy="0.00020000"');
    expect(copyButtons(html)).toBe(2);
  });

  it('once the full amount is seen, shows progress and the transaction instead of ways to pay', () => {
    const s = statusOf({
      status: 'confirming',
      receivedSats: 30_000,
      confirmations: 1,
      outputs: [output(tx(1), 30_000)],
    });
    expect(pageQrContent(s)).toBeUndefined();
    const html = render(s);
    for (const part of paying) expect(html).not.toContain(part);
    expect(copyButtons(html)).toBe(0);
    expect(html).toContain('1 of 3 confirmations');
    expect(html).toContain('<progress id="confirmation-progress" max="3" value="1"');
    expect(html).toContain(`href="https://mempool.space/tx/${tx(1)}"`);
  });

  it('shows a paid payment without copy buttons, with a way back to the merchant if given', () => {
    const s = statusOf({
      status: 'confirmed',
      receivedSats: 30_000,
      outputs: [output(tx(1), 30_000)],
    });
    const html = render(s);
    expect(html).toContain('Paid. Thank you!');
    expect(copyButtons(html)).toBe(0);
    for (const part of paying) expect(html).not.toContain(part);
    expect(html).not.toContain('id="back"');
    const back = render({ ...s, redirectUrl: 'https://shop.example/thanks?o=1&x="' });
    expect(back).toContain(
      '<a class="back" id="back" href="https://shop.example/thanks?o=1&#38;x=&#34;">Back to Lab Coffee</a>',
    );
    expect(back).toContain('data-final="true"');
  });

  it('says an expired request is over and what to do if one paid late, with the way back', () => {
    const s = statusOf({ status: 'expired' }, { redirectUrl: 'https://shop.example/cart' });
    const html = render(s);
    expect(html).toContain('This payment request has expired');
    expect(html).toContain(
      'If you paid after it expired, your money is not lost: contact Lab Coffee',
    );
    expect(html).toContain('Back to Lab Coffee');
    for (const part of paying) expect(html).not.toContain(part);
  });

  it('says an underpaid request got too little, and asks the payer not to send more', () => {
    const s = statusOf({
      status: 'underpaid',
      receivedSats: 10_000,
      outputs: [output(tx(1), 10_000)],
    });
    const html = render(s);
    expect(html).toContain('0.00010000 of 0.00030000 BTC arrived before the request expired');
    expect(html).toContain('data-poll-ms="15000"');
    for (const part of paying) expect(html).not.toContain(part);
  });

  it('says a cancelled request was cancelled and that money sent to it is not lost', () => {
    const s = statusOf({ status: 'cancelled' }, { redirectUrl: 'https://shop.example/cart' });
    expect(s.phase).toBe('cancelled');
    const html = render(s);
    expect(html).toContain('This payment request was cancelled');
    expect(html).toContain('Lab Coffee cancelled this payment request: do not send money to it.');
    expect(html).toContain('Back to Lab Coffee');
    expect(html).toContain('class="status status-cancelled"');
    expect(html).toContain('data-final="true"');
    for (const part of paying) expect(html).not.toContain(part);
  });

  it('speaks the negotiated language and says which in the lang attribute', () => {
    const de = render(statusOf({}), 'de');
    expect(de).toContain('<html lang="de">');
    expect(de).toContain('Warte auf Zahlung');
    expect(de).toContain('In Wallet öffnen');
    const es = render(statusOf({ status: 'confirmed', receivedSats: 30_000 }), 'es');
    expect(es).toContain('<html lang="es">');
    expect(es).toContain('Pagado. ¡Gracias!');
    expect(renderNotFoundPage('de')).toContain('Zahlung nicht gefunden');
  });

  it('escapes merchant text wherever it lands', () => {
    const s = {
      ...statusOf({ status: 'expired', description: '<b>x</b>' }),
      merchantName: 'A&B <Shop>',
    };
    const html = render(s);
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('<Shop>');
    expect(html).toContain('contact A&#38;B &#60;Shop&#62;');
  });
});
