/** The payer's checkout page and its status JSON, through the real app. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDaemon, startTestDaemon, stopTestDaemon } from '../support/daemon.js';

let d: TestDaemon;
let payment: { id: string; address: string; amountBtc: string; bip21: string };

beforeAll(async () => {
  d = await startTestDaemon({
    SATWATCH_CHECKOUT_MERCHANT_NAME: 'Coffee & <Co>',
    SATWATCH_CHECKOUT_FRAME_ANCESTORS: 'https://shop.example,https://*.shop.example',
  });
  const res = await d.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: d.merchant,
    payload: { userId: 'secret-user-42', packageId: 'starter', description: 'Order #17 <b>' },
  });
  payment = res.json();
});
afterAll(() => stopTestDaemon(d));

describe('GET /pay/:id', () => {
  it('renders the QR code, amount, fiat value and address under a strict CSP', async () => {
    const res = await d.app.inject({ method: 'GET', url: `/pay/${payment.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['cache-control']).toBe('no-store');
    const html = res.body;
    expect(html).toContain('<meta name="viewport"');
    expect(html).toContain(`<code class="value" id="address">${payment.address}</code>`);
    expect(html).toContain(`<span class="value" id="amount-btc">${payment.amountBtc}</span>`);
    expect(html).toContain('≈ 10.00 USD');
    expect(html).toMatch(/<svg[^>]*>/);
    // Merchant-supplied text is escaped, never markup.
    expect(html).toContain('Coffee &#38; &#60;Co&#62;');
    expect(html).toContain('Order #17 &#60;b&#62;');
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('secret-user-42');
    expect(html).not.toMatch(/<script>(?!<\/script>)/); // no inline script
  });

  it('lets only the configured merchant origins embed it', async () => {
    const res = await d.app.inject({ method: 'GET', url: `/pay/${payment.id}` });
    expect(res.headers['content-security-policy']).toMatch(
      /; frame-ancestors https:\/\/shop\.example https:\/\/\*\.shop\.example$/,
    );
  });

  it("speaks the payer's language from Accept-Language, and says the page varies by it", async () => {
    const get = (acceptLanguage?: string) =>
      d.app.inject({
        method: 'GET',
        url: `/pay/${payment.id}`,
        headers: acceptLanguage === undefined ? {} : { 'accept-language': acceptLanguage },
      });
    const english = await get();
    expect(english.headers.vary).toBe('Accept-Language');
    expect(english.body).toContain('<html lang="en">');
    const spanish = await get('es-MX,es;q=0.9,en;q=0.5');
    expect(spanish.headers.vary).toBe('Accept-Language');
    expect(spanish.body).toContain('<html lang="es">');
    expect(spanish.body).toContain('Esperando el pago');
    const german = await get('de-AT');
    expect(german.body).toContain('<html lang="de">');
    expect(german.body).toContain('Warte auf Zahlung');
    const missing = await d.app.inject({
      method: 'GET',
      url: '/pay/pay_unknown',
      headers: { 'accept-language': 'de' },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('Zahlung nicht gefunden');
  });

  it('answers an unknown payment with a 404 page', async () => {
    const res = await d.app.inject({ method: 'GET', url: '/pay/pay_unknown' });
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('Payment not found');
  });

  it('serves its script and stylesheet', async () => {
    const js = await d.app.inject({ method: 'GET', url: '/pay/assets/checkout.js' });
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.body).toContain("getAttribute('data-status-url')");
    const css = await d.app.inject({ method: 'GET', url: '/pay/assets/checkout.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });
});

describe('GET /pay/:id/status', () => {
  it('tells the payer what to pay and nothing private', async () => {
    const res = await d.app.inject({ method: 'GET', url: `/pay/${payment.id}/status` });
    expect(res.statusCode).toBe(200);
    const status = res.json<Record<string, unknown>>();
    expect(status).toMatchObject({
      id: payment.id,
      status: 'pending',
      address: payment.address,
      amountSats: 20_000,
      receivedSats: 0,
      dueSats: 20_000,
      confirmations: 0,
      requiredConfirmations: 3,
      bip21: payment.bip21,
      qr: `BITCOIN:${payment.address.toUpperCase()}?amount=0.0002&label=Coffee%20%26%20%3CCo%3E&message=Order%20%2317%20%3Cb%3E`,
      phase: 'pending',
      final: false,
      transactions: [],
    });
    expect(status).not.toHaveProperty('rest');
    expect(status.secondsLeft).toBeGreaterThan(3500);
    expect(JSON.stringify(status)).not.toContain('secret-user-42');
    expect(Object.keys(status)).not.toEqual(expect.arrayContaining(['userId']));
    expect(status).not.toHaveProperty('derivationPath');
    expect(status).not.toHaveProperty('createdBy');
  });

  it('is 404 for an unknown payment', async () => {
    expect((await d.app.inject({ method: 'GET', url: '/pay/pay_nope/status' })).statusCode).toBe(
      404,
    );
  });
});
