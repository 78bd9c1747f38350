/**
 * The checkout page in a real headless Chromium (Debian's, driven by playwright-core), in each
 * state a payer meets: pending, partial, confirming, paid, expired, underpaid. Each state is
 * looked at on a phone and a desktop (and in dark mode), screenshotted into test-artifacts/,
 * checked with axe-core (no serious or critical violation), and its QR, where there is one,
 * decoded back to the BIP21 it must carry. `cancelled` is covered by test/unit/checkout-page.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import jsQRModule from 'jsqr';
import { type Browser, type Page, chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabClient } from '../lab/client.js';
import { CHROMIUM_PATH } from '../lab/install.js';
import { repoRoot } from '../lab/paths.js';
import { freePort } from '../lab/process.js';
import { type TestDaemon, startTestDaemon, stopTestDaemon } from '../support/daemon.js';

const artifacts = path.join(repoRoot, 'test-artifacts');
const EXPLORER = 'https://explorer.example/tx/{txid}';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
let d: TestDaemon;
let browser: Browser;
let base: string;
let lab: LabClient;
// The daemon's clock runs this far ahead of the real one: expiry without waiting an hour.
let clockOffsetMs = 0;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  d = await startTestDaemon(
    {
      SATWATCH_PUBLIC_URL: base,
      SATWATCH_CHECKOUT_MERCHANT_NAME: 'Lab Coffee',
      SATWATCH_CHECKOUT_EXPLORER_URL: EXPLORER,
    },
    { now: () => new Date(Date.now() + clockOffsetMs) },
  );
  await d.app.listen({ host: '127.0.0.1', port });
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  lab = LabClient.fromState();
  mkdirSync(artifacts, { recursive: true });
});

afterAll(async () => {
  await browser.close();
  await stopTestDaemon(d);
});

// jsqr is CommonJS: under NodeNext its default export arrives as `.default`.
const jsQR = jsQRModule.default;

function decodeQr(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}

interface CreatedPayment {
  id: string;
  address: string;
  amountBtc: string;
  bip21: string;
  checkoutUrl: string;
}

async function createPayment(sats: number, description?: string): Promise<CreatedPayment> {
  const res = await d.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: d.merchant,
    payload: {
      userId: 'browser-user',
      price: { amount: String(sats), currency: 'SAT' },
      credits: 1,
      ...(description !== undefined && { description }),
    },
  });
  expect(res.statusCode).toBe(201);
  return res.json<CreatedPayment>();
}

/** What the QR must decode to: the BIP21 with the bech32 address upper-cased (QR alphanumeric). */
function qrOf(address: string, amount: string, description?: string): string {
  const message = description === undefined ? '' : `&message=${encodeURIComponent(description)}`;
  return `BITCOIN:${address.toUpperCase()}?amount=${amount}&label=Lab%20Coffee${message}`;
}

/** A page in a context of its own (axe opens helper pages in the same context). */
async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2 });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  return { page, errors };
}

const closePage = (page: Page) => page.context().close();

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/**
 * Looks at the page in its current state on a phone, a desktop and a dark desktop: screenshots,
 * axe, nothing wider than a phone, and the QR (when `qr` is given) decoding to that content.
 */
async function lookAt(page: Page, state: string, qr?: string): Promise<void> {
  for (const [size, viewport, scheme] of [
    ['phone', PHONE, 'light'],
    ['desktop', DESKTOP, 'light'],
    ['desktop-dark', DESKTOP, 'dark'],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.emulateMedia({ colorScheme: scheme });
    writeFileSync(
      path.join(artifacts, `checkout-${state}-${size}.png`),
      await page.screenshot({ fullPage: true }),
    );
    expect(await seriousViolations(page), `${state} ${size}`).toEqual([]);
    if (size === 'phone') {
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow, `${state} fits a phone`).toBeLessThanOrEqual(0);
    }
    if (qr !== undefined) {
      expect(decodeQr(await page.locator('#qr').screenshot()), `${state} ${size} QR`).toBe(qr);
    } else {
      expect(await page.locator('#qr').count(), `${state}: no QR`).toBe(0);
    }
  }
  await page.setViewportSize(PHONE);
  await page.emulateMedia({ colorScheme: 'light' });
}

const statusText = (page: Page) => page.textContent('#status');
const waitForStatus = (page: Page, text: string) =>
  page.waitForSelector(`#status:text-is(${JSON.stringify(text)})`, { timeout: 30_000 });

/** Nothing the payer could pay with or copy once the full amount is seen. */
async function expectNothingToPay(page: Page): Promise<void> {
  expect(await page.locator('#qr').count()).toBe(0);
  expect(await page.locator('#open-wallet').count()).toBe(0);
  expect(await page.locator('button.copy').count()).toBe(0);
}

describe('checkout page in Chromium', () => {
  it('shows a pending payment whose QR decodes to its BIP21, copy buttons beside the values', async () => {
    const payment = await createPayment(123_456, 'Flat white');
    expect(payment.checkoutUrl).toBe(`${base}/pay/${payment.id}`);
    const { page, errors } = await openPage(payment.checkoutUrl);

    expect(await page.textContent('#address')).toBe(payment.address);
    expect(await page.textContent('#amount-btc')).toBe('0.00123456');
    expect(await page.textContent('h1')).toBe('Flat white');
    expect(await statusText(page)).toBe('Waiting for payment');
    await page.waitForFunction(
      "document.getElementById('countdown').textContent.startsWith('Expires in')",
    );
    expect(await page.getAttribute('#open-wallet', 'href')).toBe(payment.bip21);
    const qr = qrOf(payment.address, '0.00123456', 'Flat white');
    await lookAt(page, 'pending', qr);
    expect(
      decodeQr(await page.locator('#qr').screenshot())!.replace(
        /^BITCOIN:[A-Z0-9]+/,
        `bitcoin:${payment.address}`,
      ),
    ).toBe(payment.bip21);

    // On a desktop each Copy button sits beside its value on one line, never below it.
    await page.setViewportSize(DESKTOP);
    const layout = await page.evaluate<{ beside: boolean; oneLine: boolean }[]>(`
      [...document.querySelectorAll('.copyable')].map((row) => {
        const value = row.firstElementChild.getBoundingClientRect();
        const button = row.querySelector('button');
        const box = button.getBoundingClientRect();
        return {
          beside: box.left >= value.right && box.top < value.bottom,
          oneLine: button.scrollWidth <= button.clientWidth && box.height < 48,
        };
      })`);
    expect(layout).toEqual([
      { beside: true, oneLine: true },
      { beside: true, oneLine: true },
    ]);
    expect(errors).toEqual([]);
    await closePage(page);
  });

  it('follows a payer from a partial payment to paid: rest QR, progress, txids, then stops polling', async () => {
    const payment = await createPayment(30_000);
    const { page, errors } = await openPage(payment.checkoutUrl);
    let statusReads = 0;
    page.on('request', (r) => {
      if (r.url().endsWith('/status')) statusReads++;
    });
    expect(await statusText(page)).toBe('Waiting for payment');

    const first = await lab.pay(payment.address, 10_000);
    await d.watcher.runCycle();
    await waitForStatus(page, 'Partial payment received');
    expect(await page.textContent('#due-btc')).toBe('0.00020000');
    expect(await page.textContent('#hint')).toBe(
      '0.00010000 BTC received. Send 0.00020000 BTC more to the same address to complete it.',
    );
    const rest = qrOf(payment.address, '0.0002');
    expect(await page.getAttribute('#open-wallet', 'href')).toBe(
      `bitcoin:${payment.address}?amount=0.0002&label=Lab%20Coffee`,
    );
    await lookAt(page, 'partial', rest);

    const second = await lab.pay(payment.address, 20_000);
    await d.watcher.runCycle();
    await waitForStatus(page, 'Payment received, waiting for confirmations');
    await expectNothingToPay(page);
    expect(await page.textContent('#confirmations')).toBe('0 of 3 confirmations');
    const anchors = await page.locator('#transactions a').all();
    const links = await Promise.all(anchors.map((a) => a.getAttribute('href')));
    expect(links).toEqual(
      [first.txid, second.txid].map((txid) => EXPLORER.replace('{txid}', txid)),
    );

    await lab.mine(1);
    await d.watcher.runCycle();
    await page.waitForSelector('#confirmations:text("1 of 3 confirmations")', { timeout: 30_000 });
    expect(await page.getAttribute('#confirmation-progress', 'value')).toBe('1');
    await expectNothingToPay(page);
    await lookAt(page, 'confirming');

    await lab.mine(2);
    await d.watcher.runCycle();
    await waitForStatus(page, 'Paid. Thank you!');
    await expectNothingToPay(page);
    await lookAt(page, 'paid');

    // Paid is final for the payer: the page stops asking (forwarding is off here, so the
    // payment stays `confirmed` for good).
    await page.waitForSelector('#checkout[data-final="true"]');
    statusReads = 0;
    await page.waitForTimeout(7_000); // more than two polling intervals
    expect(statusReads).toBe(0);
    expect(errors).toEqual([]);
    await closePage(page);
  });

  it('speaks German to a German browser', async () => {
    const payment = await createPayment(25_000);
    const context = await browser.newContext({ locale: 'de-DE', viewport: PHONE });
    const page = await context.newPage();
    const response = await page.goto(payment.checkoutUrl);
    expect(response?.headers().vary).toContain('Accept-Language');
    expect(await page.getAttribute('html', 'lang')).toBe('de');
    expect(await statusText(page)).toBe('Warte auf Zahlung');
    expect(await page.textContent('#open-wallet')).toBe('In Wallet öffnen');
    await context.close();
  });

  it('tells the payer of an expired or underpaid request what happened and what to do', async () => {
    const unpaid = await createPayment(30_000);
    const short = await createPayment(30_000);
    await lab.pay(short.address, 10_000);
    await d.watcher.runCycle();
    const shortPage = (await openPage(short.checkoutUrl)).page;
    await waitForStatus(shortPage, 'Partial payment received');
    const unpaidPage = await openPage(unpaid.checkoutUrl);

    // Two hours on: both requests are past their expiry and grace.
    clockOffsetMs += 2 * 3600_000;
    await d.watcher.runCycle();

    await waitForStatus(unpaidPage.page, 'This payment request has expired');
    expect(await unpaidPage.page.textContent('#hint')).toContain(
      'If you paid after it expired, your money is not lost: contact Lab Coffee',
    );
    await expectNothingToPay(unpaidPage.page);
    await unpaidPage.page.waitForSelector('#checkout[data-final="true"]');
    await lookAt(unpaidPage.page, 'expired');
    expect(unpaidPage.errors).toEqual([]);

    await waitForStatus(shortPage, 'Not enough was paid in time');
    expect(await shortPage.textContent('#hint')).toContain(
      '0.00010000 of 0.00030000 BTC arrived before the request expired',
    );
    await expectNothingToPay(shortPage);
    // Still watched for late money: the page keeps asking, more slowly.
    expect(await shortPage.getAttribute('#checkout', 'data-final')).toBe('false');
    expect(await shortPage.getAttribute('#checkout', 'data-poll-ms')).toBe('15000');
    await lookAt(shortPage, 'underpaid');
    await closePage(shortPage);
    await closePage(unpaidPage.page);
  });
});
