/**
 * The checkout page in a real headless Chromium (Debian's, driven by playwright-core): the page
 * shows the address and amount, and its QR code decodes back to the payment's BIP21 URI.
 * Screenshots land in test-artifacts/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import jsQRModule from 'jsqr';
import { type Browser, chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabClient } from '../lab/client.js';
import { CHROMIUM_PATH } from '../lab/install.js';
import { repoRoot } from '../lab/paths.js';
import { freePort } from '../lab/process.js';
import { type TestDaemon, startTestDaemon, stopTestDaemon } from '../support/daemon.js';

const artifacts = path.join(repoRoot, 'test-artifacts');
let d: TestDaemon;
let browser: Browser;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  d = await startTestDaemon({
    SATWATCH_PUBLIC_URL: base,
    SATWATCH_CHECKOUT_MERCHANT_NAME: 'Lab Coffee',
  });
  await d.app.listen({ host: '127.0.0.1', port });
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
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

describe('checkout page in Chromium', () => {
  it('shows the address and amount, and its QR decodes to the BIP21 URI', async () => {
    const res = await d.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: d.merchant,
      payload: {
        userId: 'browser-user',
        price: { amount: '0.00123456', currency: 'BTC' },
        credits: 7,
        description: 'Flat white',
      },
    });
    const payment = res.json<{
      id: string;
      address: string;
      amountBtc: string;
      bip21: string;
      checkoutUrl: string;
    }>();
    expect(payment.checkoutUrl).toBe(`${base}/pay/${payment.id}`);

    const page = await browser.newPage({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(payment.checkoutUrl);

    expect(await page.textContent('#address')).toBe(payment.address);
    expect(await page.textContent('#amount-btc')).toBe('0.00123456');
    expect(await page.textContent('h1')).toBe('Flat white');
    // The script ran: live status and countdown are filled in.
    await page.waitForFunction(
      "document.getElementById('countdown').textContent.startsWith('Expires in')",
    );
    expect(await page.textContent('#status')).toBe('Waiting for payment');
    expect(await page.getAttribute('#open-wallet', 'href')).toBe(payment.bip21);

    const qr = decodeQr(await page.locator('#qr').screenshot());
    expect(qr).toBe(
      `BITCOIN:${payment.address.toUpperCase()}?amount=0.00123456&label=Lab%20Coffee&message=Flat%20white`,
    );
    expect(qr!.replace(/^BITCOIN:[A-Z0-9]+/, `bitcoin:${payment.address}`)).toBe(payment.bip21);

    // Readable on a phone: nothing wider than the viewport.
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - window.innerWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);

    writeFileSync(
      path.join(artifacts, 'checkout-phone.png'),
      await page.screenshot({ fullPage: true }),
    );
    await page.setViewportSize({ width: 1280, height: 900 });
    writeFileSync(
      path.join(artifacts, 'checkout-desktop.png'),
      await page.screenshot({ fullPage: true }),
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('follows the payment live: seen, confirming n/N, paid', async () => {
    const lab = LabClient.fromState();
    const payment = (
      await d.app.inject({
        method: 'POST',
        url: '/v1/payments',
        headers: d.merchant,
        payload: { userId: 'live-user', price: { amount: '30000', currency: 'SAT' }, credits: 1 },
      })
    ).json<{ address: string; checkoutUrl: string }>();
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(payment.checkoutUrl);
    await page.waitForSelector('#status:text("Waiting for payment")');

    await lab.pay(payment.address, 30_000);
    await d.watcher.runCycle();
    await page.waitForSelector('#status:text("Payment seen, waiting for confirmation")', {
      timeout: 10_000,
    });

    await lab.mine(1);
    await d.watcher.runCycle();
    await page.waitForSelector('#status:text("Confirming: 1 of 3")', { timeout: 10_000 });
    expect(await page.textContent('#confirmations')).toBe('Confirmations: 1/3');

    await lab.mine(2);
    await d.watcher.runCycle();
    await page.waitForSelector('#status:text("Paid. Thank you!")', { timeout: 10_000 });
    expect(await page.isVisible('#qr')).toBe(false);
    writeFileSync(
      path.join(artifacts, 'checkout-paid.png'),
      await page.screenshot({ fullPage: true }),
    );
    await page.close();
  });
});
