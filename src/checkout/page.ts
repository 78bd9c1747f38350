/**
 * The payer's checkout page: server-rendered HTML in the payer's language, the QR code inline
 * as SVG (drawn once per content, see qr-cache.ts), no inline script or style (a strict
 * Content-Security-Policy holds). Each phase shows only what the payer should do now: no QR,
 * wallet link or copy buttons once the full amount is seen, so nobody pays twice.
 */
import { formatBtc, satsToFiat } from '../pricing/amount.js';
import type { RateRecord } from '../payments/payment.js';
import { CHECKOUT_CSS_URL, CHECKOUT_JS_URL } from './assets.js';
import { type Language, type Translate, translator } from './messages.js';
import { type PayerStatus, type PayerTransaction, renderKey } from './payer-status.js';

/** How often the page asks for the status while something can still change. */
export const POLL_MS = 3000;
/** Underpaid: only late money can still arrive, so the page asks less often. */
export const SLOW_POLL_MS = 15_000;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(language: Language, title: string, body: string): string {
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${CHECKOUT_CSS_URL}">
</head>
<body>
${body}
</body>
</html>
`;
}

/** The fiat value to show beside the BTC amount, when the price was set in fiat. */
function fiatLine(amountSats: number, rate: RateRecord | undefined): string | undefined {
  if (!rate) return undefined;
  return `≈ ${satsToFiat(BigInt(amountSats), rate.rate)} ${rate.currency}`;
}

function countdownText(t: Translate, secondsLeft: number): string {
  if (secondsLeft <= 0) return t('timeUp');
  const m = Math.floor(secondsLeft / 60);
  const s = String(secondsLeft % 60).padStart(2, '0');
  return t('expiresIn', { time: `${m}:${s}` });
}

function copyButton(t: Translate, text: string, label: 'copyAmount' | 'copyAddress'): string {
  return `<button type="button" class="copy" data-copy="${escapeHtml(text)}" data-copied="${escapeHtml(t('copied'))}" aria-label="${escapeHtml(t(label))}">${escapeHtml(t('copy'))}</button>`;
}

function transactionList(t: Translate, transactions: PayerTransaction[]): string {
  if (transactions.length === 0) return '';
  const items = transactions
    .map(({ txid, url }) =>
      url === undefined
        ? `<li><code class="txid">${escapeHtml(txid)}</code></li>`
        : `<li><a class="txid" href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(txid)}</a></li>`,
    )
    .join('');
  return `<div class="transactions" id="transactions"><h2>${escapeHtml(t(transactions.length > 1 ? 'transactionsMany' : 'transactions'))}</h2><ul>${items}</ul></div>`;
}

function backLink(t: Translate, s: PayerStatus): string {
  if (s.redirectUrl === undefined) return '';
  return `<a class="back" id="back" href="${escapeHtml(s.redirectUrl)}">${escapeHtml(t('backTo', { merchant: s.merchantName }))}</a>`;
}

function hint(text: string): string {
  return `<p class="hint" id="hint">${escapeHtml(text)}</p>`;
}

function amountRow(s: PayerStatus, t: Translate, rate: RateRecord | undefined, copy: boolean) {
  const fiat = fiatLine(s.amountSats, rate);
  return `<div class="row">
      <dt>${escapeHtml(t('amount'))}</dt>
      <dd class="copyable"><span><span class="value" id="amount-btc">${s.amountBtc}</span> BTC${fiat !== undefined ? `<span class="fiat" id="fiat">${escapeHtml(fiat)}</span>` : ''}</span>
        ${copy ? copyButton(t, s.amountBtc, 'copyAmount') : ''}</dd>
    </div>`;
}

/** Pending or partial: what to send, where, and the QR for exactly that. */
function payable(s: PayerStatus, t: Translate, qrSvg: string, rate?: RateRecord): string {
  const bip21 = s.rest?.bip21 ?? s.bip21;
  const rest = s.rest;
  const restRows =
    rest === undefined
      ? amountRow(s, t, rate, true)
      : `${amountRow(s, t, rate, false)}
    <div class="row">
      <dt>${escapeHtml(t('received'))}</dt>
      <dd><span class="value" id="received-btc">${formatBtc(s.receivedSats)}</span> BTC</dd>
    </div>
    <div class="row">
      <dt>${escapeHtml(t('stillDue'))}</dt>
      <dd class="copyable"><span><span class="value" id="due-btc">${rest.amountBtc}</span> BTC</span>
        ${copyButton(t, rest.amountBtc, 'copyAmount')}</dd>
    </div>`;
  return `${rest ? hint(t('partialHint', { received: formatBtc(s.receivedSats), rest: rest.amountBtc })) : ''}
  <a class="qr" id="qr" href="${escapeHtml(bip21)}" aria-label="${escapeHtml(t('qrLabel'))}">${qrSvg}</a>
  <dl class="details">
    ${restRows}
    <div class="row">
      <dt>${escapeHtml(t('address'))}</dt>
      <dd class="copyable"><code class="value" id="address">${escapeHtml(s.address)}</code>
        ${copyButton(t, s.address, 'copyAddress')}</dd>
    </div>
  </dl>
  <a class="wallet" id="open-wallet" href="${escapeHtml(bip21)}">${escapeHtml(t('openWallet'))}</a>
  <p class="countdown" id="countdown" data-template="${escapeHtml(t('expiresIn'))}" data-time-up="${escapeHtml(t('timeUp'))}">${escapeHtml(countdownText(t, s.secondsLeft))}</p>
  ${transactionList(t, s.transactions)}`;
}

/** The full amount is seen: progress only, nothing to pay or copy. */
function confirming(s: PayerStatus, t: Translate, rate?: RateRecord): string {
  // With 0 required, an RBF-signalling payment still waits for its first block.
  const required = Math.max(1, s.requiredConfirmations);
  const count = Math.min(s.confirmations, required);
  return `<p class="progress-text" id="confirmations">${escapeHtml(t('confirmations', { count, required }))}</p>
  <progress id="confirmation-progress" max="${required}" value="${count}" aria-labelledby="confirmations"></progress>
  ${hint(t('confirmingHint'))}
  <dl class="details">${amountRow(s, t, rate, false)}</dl>
  ${transactionList(t, s.transactions)}`;
}

function phaseContent(s: PayerStatus, t: Translate, qrSvg: string | undefined, rate?: RateRecord) {
  const merchant = s.merchantName;
  switch (s.phase) {
    case 'pending':
    case 'partial':
      return payable(s, t, qrSvg ?? '', rate);
    case 'confirming':
      return confirming(s, t, rate);
    case 'paid':
      return `<dl class="details">${amountRow(s, t, rate, false)}</dl>
  ${transactionList(t, s.transactions)}
  ${backLink(t, s)}`;
    case 'expired':
      return `${hint(t('expiredHint', { merchant }))}
  ${transactionList(t, s.transactions)}
  ${backLink(t, s)}`;
    case 'underpaid':
      return `${hint(t('underpaidHint', { merchant, received: formatBtc(s.receivedSats), amount: s.amountBtc }))}
  ${transactionList(t, s.transactions)}
  ${backLink(t, s)}`;
    case 'cancelled':
      return `${hint(t('cancelledHint', { merchant }))}
  ${transactionList(t, s.transactions)}
  ${backLink(t, s)}`;
  }
}

/** The QR content the page shows, if any: the rest's when partial, else the full amount's. */
export function pageQrContent(s: Pick<PayerStatus, 'phase' | 'qr' | 'rest'>): string | undefined {
  if (s.phase === 'partial') return s.rest?.qr;
  return s.phase === 'pending' ? s.qr : undefined;
}

export interface CheckoutPageInput {
  status: PayerStatus;
  language: Language;
  /** The QR of pageQrContent(status), drawn (and cached) by the caller. */
  qrSvg?: string;
  rate?: RateRecord;
  statusUrl: string;
}

export function renderCheckoutPage(input: CheckoutPageInput): string {
  const { status: s, language, qrSvg, rate, statusUrl } = input;
  const t = translator(language);
  const pollMs = s.phase === 'underpaid' ? SLOW_POLL_MS : POLL_MS;
  const body = `<main class="card phase-${s.phase}" id="checkout" data-status-url="${escapeHtml(statusUrl)}" data-expires-at="${s.expiresAt}" data-seconds-left="${s.secondsLeft}" data-key="${escapeHtml(renderKey(s))}" data-final="${s.final}" data-poll-ms="${pollMs}">
  <header>
    <p class="merchant">${escapeHtml(s.merchantName)}</p>
    <h1>${escapeHtml(s.description ?? t('heading'))}</h1>
  </header>
  <p class="status status-${s.phase}" id="status" role="status" aria-live="polite">${escapeHtml(t(`status.${s.phase}`))}</p>
  <div id="content">
  ${phaseContent(s, t, qrSvg, rate)}
  </div>
</main>
<script src="${CHECKOUT_JS_URL}" defer></script>`;
  return page(language, t('title', { merchant: s.merchantName }), body);
}

export function renderNotFoundPage(language: Language = 'en'): string {
  const t = translator(language);
  return page(
    language,
    t('notFoundTitle'),
    `<main class="card"><h1>${escapeHtml(t('notFoundTitle'))}</h1><p>${escapeHtml(t('notFoundText'))}</p></main>`,
  );
}
