/**
 * Rate providers over real HTTP, against local servers that answer in mempool.space's and
 * Kraken's documented formats (their real hosts are out of reach here), and the API's 503.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CachedRateProvider,
  KrakenRateProvider,
  MempoolRateProvider,
  RateUnavailableError,
} from '../../src/pricing/rates.js';
import { freePort } from '../lab/process.js';
import { type TestDaemon, startTestDaemon, stopTestDaemon } from '../support/daemon.js';
import { type HttpStub, startHttpStub } from '../support/http-stub.js';

let stub: HttpStub;
const mempoolPrices = {
  body: JSON.stringify({ time: 1763700000, USD: 97123, EUR: 89000.5, GBP: 77000 }),
};

beforeAll(async () => {
  stub = await startHttpStub(() => mempoolPrices);
});
afterEach(() => {
  stub.handler = () => mempoolPrices;
  stub.requests.length = 0;
});
afterAll(() => stub.close());

describe('mempool.space prices', () => {
  it('reads the currency from /api/v1/prices', async () => {
    const rate = await new MempoolRateProvider(stub.url, 1000).getRate('EUR');
    expect(rate).toMatchObject({ currency: 'EUR', rate: '89000.5', source: 'mempool' });
    expect(stub.requests[0]?.url).toBe('/api/v1/prices');
  });

  it('refuses a missing, zero or non-numeric price', async () => {
    const provider = new MempoolRateProvider(stub.url, 1000);
    await expect(provider.getRate('JPY')).rejects.toBeInstanceOf(RateUnavailableError);
    stub.handler = () => ({ body: JSON.stringify({ USD: 0 }) });
    await expect(provider.getRate('USD')).rejects.toThrow(/no usable price/);
    stub.handler = () => ({ body: JSON.stringify({ USD: '97,000' }) });
    await expect(provider.getRate('USD')).rejects.toThrow(/no usable price/);
    stub.handler = () => ({ body: '<html>maintenance</html>', type: 'text/html' });
    await expect(provider.getRate('USD')).rejects.toBeInstanceOf(RateUnavailableError);
  });

  it('gives up on a slow answer after its timeout', async () => {
    // A good answer, late: only the timeout can make this reject (no wall-clock assertion).
    stub.handler = () => ({ ...mempoolPrices, delayMs: 1500 });
    await expect(new MempoolRateProvider(stub.url, 200).getRate('USD')).rejects.toThrow(
      /ECONNABORTED|timeout/i,
    );
  });

  it('reports a server error and an unreachable host as unavailable', async () => {
    stub.handler = () => ({ status: 502, body: 'bad gateway' });
    await expect(new MempoolRateProvider(stub.url, 1000).getRate('USD')).rejects.toThrow(
      /HTTP 502|ERR_BAD_RESPONSE/,
    );
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(new MempoolRateProvider(closed, 1000).getRate('USD')).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});

describe('Kraken ticker', () => {
  it('reads the last trade price of the XBT pair', async () => {
    stub.handler = () => ({
      body: JSON.stringify({
        error: [],
        result: { XXBTZUSD: { a: ['97150.00000', '1', '1.000'], c: ['97140.10000', '0.01'] } },
      }),
    });
    const rate = await new KrakenRateProvider(stub.url, 1000).getRate('USD');
    expect(rate).toMatchObject({ currency: 'USD', rate: '97140.10000', source: 'kraken' });
    expect(stub.requests[0]?.url).toBe('/0/public/Ticker?pair=XBTUSD');
  });

  it('refuses an answer that carries an error', async () => {
    stub.handler = () => ({
      body: JSON.stringify({ error: ['EQuery:Unknown asset pair'], result: {} }),
    });
    await expect(new KrakenRateProvider(stub.url, 1000).getRate('ABC')).rejects.toThrow(
      /no usable price/,
    );
  });
});

describe('rate cache', () => {
  it('shares one request among concurrent callers and refreshes after its max age', async () => {
    let now = new Date('2026-11-22T00:00:00Z');
    const cached = new CachedRateProvider(
      new MempoolRateProvider(stub.url, 1000, () => now),
      60_000,
      () => now,
    );
    await Promise.all(Array.from({ length: 10 }, () => cached.getRate('USD')));
    expect(stub.requests).toHaveLength(1);
    now = new Date(now.getTime() + 30_000);
    await cached.getRate('USD');
    expect(stub.requests).toHaveLength(1);
    now = new Date(now.getTime() + 31_000);
    await cached.getRate('USD');
    expect(stub.requests).toHaveLength(2);
  });
});

describe('fiat payments when the rate provider fails', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon({
      SATWATCH_RATES_PROVIDER: 'mempool',
      SATWATCH_RATES_MEMPOOL_URL: stub.url,
      SATWATCH_RATES_TIMEOUT_MS: '300',
      SATWATCH_RATES_MAX_AGE_SECONDS: '1',
    });
  });
  afterAll(() => stopTestDaemon(d));

  const create = (body: object) =>
    d.app.inject({ method: 'POST', url: '/v1/payments', headers: d.merchant, payload: body });

  it('locks the live rate with its source when the provider answers', async () => {
    const res = await create({
      userId: 'u',
      // Cents: USD has two decimals (issue 11 §2 refuses 97.123).
      price: { amount: '97.12', currency: 'USD' },
      credits: 1,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      amountSats: 99_997, // 97.12 / 97123 BTC = 99996.9… sats, rounded up
      rate: { currency: 'USD', rate: '97123', source: 'mempool' },
    });
  });

  it('answers 503 for a fiat price while the provider is slow, writing nothing, and still takes sats', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // let the cached rate age out
    stub.handler = () => ({ ...mempoolPrices, delayMs: 2000 });
    const before = await d.mongo.db.collection('payments').countDocuments();
    const fiat = await create({
      userId: 'u',
      price: { amount: '10', currency: 'USD' },
      credits: 1,
    });
    expect(fiat.statusCode).toBe(503);
    expect(fiat.json()).toMatchObject({ error: 'rate_unavailable' });
    expect(fiat.headers['retry-after']).toBe('30');
    expect(await d.mongo.db.collection('payments').countDocuments()).toBe(before);
    const sats = await create({
      userId: 'u',
      price: { amount: '10000', currency: 'SAT' },
      credits: 1,
    });
    expect(sats.statusCode).toBe(201);
    const btc = await create({
      userId: 'u',
      price: { amount: '0.0001', currency: 'BTC' },
      credits: 1,
    });
    expect(btc.statusCode).toBe(201);
  });
});
