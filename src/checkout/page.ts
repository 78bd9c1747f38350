/**
 * The payer's checkout page: server-rendered HTML with the QR code inline as SVG, no inline
 * script or style (a strict Content-Security-Policy holds), live status from a small script.
 */
import QRCode from 'qrcode';
import { satsToFiat } from '../pricing/amount.js';
import type { IssuedPayment } from '../payments/payment.js';
import { checkoutView } from '../payments/views.js';

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/pay/assets/checkout.css">
</head>
<body>
${body}
</body>
</html>
`;
}

/** The fiat value to show beside the BTC amount, when the price was set in fiat. */
function fiatLine(payment: IssuedPayment): string | undefined {
  if (!payment.rate) return undefined;
  const value = satsToFiat(BigInt(payment.amountSats), payment.rate.rate);
  return `≈ ${value} ${payment.rate.currency}`;
}

export async function renderCheckoutPage(
  payment: IssuedPayment,
  ctx: { publicUrl: string; merchantName: string },
  now: Date,
): Promise<string> {
  const view = checkoutView(payment, ctx, now);
  const qrSvg = await QRCode.toString(view.qr, {
    type: 'svg',
    errorCorrectionLevel: 'M',
    margin: 2,
  });
  const fiat = fiatLine(payment);
  const statusUrl = `/pay/${encodeURIComponent(payment._id)}/status`;
  const body = `<main class="card" id="checkout" data-status-url="${escapeHtml(statusUrl)}" data-expires-at="${view.expiresAt}">
  <header>
    <p class="merchant">${escapeHtml(view.merchantName)}</p>
    ${view.description !== undefined ? `<h1>${escapeHtml(view.description)}</h1>` : '<h1>Bitcoin payment</h1>'}
  </header>
  <p class="status status-${view.status}" id="status" role="status" aria-live="polite">Waiting for payment</p>
  <a class="qr" id="qr" href="${escapeHtml(view.bip21)}" aria-label="Bitcoin payment QR code; tap to open your wallet">${qrSvg}</a>
  <dl class="details">
    <div class="row">
      <dt>Amount</dt>
      <dd><span class="value" id="amount-btc">${view.amountBtc}</span> BTC
        <button type="button" class="copy" data-copy="${view.amountBtc}" aria-label="Copy amount">Copy</button>
        ${fiat !== undefined ? `<span class="fiat" id="fiat">${escapeHtml(fiat)}</span>` : ''}
      </dd>
    </div>
    <div class="row" id="due-row" hidden>
      <dt>Still due</dt>
      <dd><span class="value" id="due-btc"></span> BTC</dd>
    </div>
    <div class="row">
      <dt>Address</dt>
      <dd><code class="value" id="address">${escapeHtml(view.address)}</code>
        <button type="button" class="copy" data-copy="${escapeHtml(view.address)}" aria-label="Copy address">Copy</button>
      </dd>
    </div>
  </dl>
  <a class="wallet" id="open-wallet" href="${escapeHtml(view.bip21)}">Open in wallet</a>
  <p class="countdown" id="countdown"></p>
  <p class="confirmations" id="confirmations" hidden></p>
</main>
<script src="/pay/assets/checkout.js" defer></script>`;
  return page(`Pay ${view.merchantName}`, body);
}

export function renderNotFoundPage(): string {
  return page(
    'Payment not found',
    '<main class="card"><h1>Payment not found</h1><p>Check the link you were given, or ask the merchant for a new one.</p></main>',
  );
}
