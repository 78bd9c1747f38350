/** The merchant payments API through Fastify, on the lab's MongoDB wire server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type TestDaemon,
  independentAddress,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';

let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon();
});
afterAll(() => stopTestDaemon(d));

interface PaymentJson {
  id: string;
  status: string;
  userId: string;
  address: string;
  amountSats: number;
  amountBtc: string;
  bip21: string;
  checkoutUrl: string;
  credits: number;
  price: { amount: string; currency: string };
  rate?: { currency: string; rate: string; source: string; fetchedAt: string };
  packageId?: string;
  requiredConfirmations: number;
  derivationPath: string;
  createdAt: string;
  expiresAt: string;
}

async function create(body: unknown, headers: Record<string, string> = {}) {
  return d.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: { ...d.merchant, ...headers },
    payload: body as object,
  });
}

async function counterValue(): Promise<number> {
  const doc = await d.mongo.db
    .collection<{ _id: string; next: number }>('counters')
    .findOne({ _id: `receive:${d.wallet.accountFingerprint}` });
  return doc?.next ?? 0;
}

describe('POST /v1/payments', () => {
  it('creates a sats-priced payment with a fresh address from the merchant wallet', async () => {
    const res = await create({
      userId: 'alice',
      price: { amount: '150000', currency: 'SAT' },
      credits: 42,
    });
    expect(res.statusCode).toBe(201);
    const p = res.json<PaymentJson>();
    expect(p).toMatchObject({
      status: 'pending',
      userId: 'alice',
      amountSats: 150_000,
      amountBtc: '0.00150000',
      credits: 42,
      price: { amount: '150000', currency: 'SAT' },
      requiredConfirmations: 3,
    });
    expect(p.id).toMatch(/^pay_[A-Za-z0-9_-]{22}$/);
    const index = Number(p.derivationPath.split('/').pop());
    expect(p.derivationPath).toBe(`m/84'/1'/0'/0/${index}`);
    expect(p.address).toBe(await independentAddress(d.testWallet, index));
    expect(p.bip21).toBe(`bitcoin:${p.address}?amount=0.0015&label=satwatch`);
    expect(p.checkoutUrl).toBe(`http://127.0.0.1:8080/pay/${p.id}`);
    expect(Date.parse(p.expiresAt) - Date.parse(p.createdAt)).toBe(60 * 60_000);
  });

  it('prices a fiat package at the configured rate, rounding up, and stores the rate', async () => {
    const res = await create({ userId: 'bob', packageId: 'starter' });
    expect(res.statusCode).toBe(201);
    const p = res.json<PaymentJson>();
    expect(p).toMatchObject({
      amountSats: 20_000,
      credits: 100,
      packageId: 'starter',
      price: { amount: '10.00', currency: 'USD' },
    });
    expect(p.rate).toMatchObject({ currency: 'USD', rate: '50000', source: 'fixed' });
    expect(p.bip21).toBe(
      `bitcoin:${p.address}?amount=0.0002&label=satwatch&message=Starter%20pack`,
    );
  });

  it('prices in BTC and in another fiat currency exactly', async () => {
    const btc = (
      await create({
        userId: 'carol',
        price: { amount: '0.00012345', currency: 'BTC' },
        credits: 1,
      })
    ).json<PaymentJson>();
    expect(btc.amountSats).toBe(12_345);
    const eur = (
      await create({ userId: 'carol', price: { amount: '9.99', currency: 'EUR' }, credits: 1 })
    ).json<PaymentJson>();
    expect(eur.amountSats).toBe(22_200); // 9.99 / 45000.50 BTC = 22199.75… sats, rounded up
  });

  it('never hands out the same address twice, with consecutive indexes', async () => {
    const before = await counterValue();
    const made = [];
    for (let i = 0; i < 5; i++)
      made.push((await create({ userId: 'dave', packageId: 'sats' })).json<PaymentJson>());
    expect(new Set(made.map((p) => p.address)).size).toBe(5);
    expect(made.map((p) => Number(p.derivationPath.split('/').pop()))).toEqual(
      [0, 1, 2, 3, 4].map((i) => before + i),
    );
  });
});

describe('reading payments', () => {
  it('GET /v1/payments/:id returns the payment, and 404 for an unknown id', async () => {
    const created = (await create({ userId: 'erin', packageId: 'sats' })).json<PaymentJson>();
    const res = await d.app.inject({
      method: 'GET',
      url: `/v1/payments/${created.id}`,
      headers: d.merchant,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(created);
    const missing = await d.app.inject({
      method: 'GET',
      url: '/v1/payments/pay_doesnotexist0000000000',
      headers: d.merchant,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'not_found', message: 'payment not found' });
  });

  it("GET /v1/payments?userId= pages a user's payments newest first", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await create({ userId: 'frank', packageId: 'sats' })).json<PaymentJson>().id);
    const page1 = (
      await d.app.inject({
        method: 'GET',
        url: '/v1/payments?userId=frank&limit=3',
        headers: d.merchant,
      })
    ).json<{ items: PaymentJson[]; nextCursor: string }>();
    expect(page1.items).toHaveLength(3);
    const page2 = (
      await d.app.inject({
        method: 'GET',
        url: `/v1/payments?userId=frank&limit=3&cursor=${page1.nextCursor}`,
        headers: d.merchant,
      })
    ).json<{ items: PaymentJson[]; nextCursor: string | null }>();
    expect(page2.items).toHaveLength(2);
    expect(page2.nextCursor).toBeNull();
    expect([...page1.items, ...page2.items].map((p) => p.id)).toEqual([...ids].reverse());
    expect([...page1.items, ...page2.items].every((p) => p.userId === 'frank')).toBe(true);
  });

  it('answers 400 naming the field for a bad limit or cursor', async () => {
    const limit = await d.app.inject({
      method: 'GET',
      url: '/v1/payments?userId=frank&limit=1000',
      headers: d.merchant,
    });
    expect(limit.statusCode).toBe(400);
    expect(limit.json()).toMatchObject({ field: 'limit' });
    const cursor = await d.app.inject({
      method: 'GET',
      url: '/v1/payments?userId=frank&cursor=bogus',
      headers: d.merchant,
    });
    expect(cursor.json()).toMatchObject({ field: 'cursor' });
  });
});

describe('authentication', () => {
  it('answers 401 without a key and with an unknown key', async () => {
    const none = await d.app.inject({
      method: 'POST',
      url: '/v1/payments',
      payload: { userId: 'x', packageId: 'sats' },
    });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const wrong = await d.app.inject({
      method: 'GET',
      url: '/v1/payments?userId=x',
      headers: { authorization: 'Bearer sw_not-a-real-key' },
    });
    expect(wrong.statusCode).toBe(401);
  });

  it('answers 403 to an admin key on the merchant create endpoint', async () => {
    const res = await d.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: d.admin,
      payload: { userId: 'x', packageId: 'sats' },
    });
    expect(res.statusCode).toBe(403);
  });
});

describe('bad input', () => {
  const cases: [string, unknown, string][] = [
    ['an unknown package', { userId: 'u', packageId: 'gold' }, 'packageId'],
    [
      'a negative amount',
      { userId: 'u', price: { amount: '-5', currency: 'SAT' }, credits: 1 },
      'price.amount',
    ],
    [
      'a zero amount',
      { userId: 'u', price: { amount: '0', currency: 'BTC' }, credits: 1 },
      'price.amount',
    ],
    [
      'fractional sats',
      { userId: 'u', price: { amount: '1500.5', currency: 'SAT' }, credits: 1 },
      'price.amount',
    ],
    [
      'a number instead of a decimal string',
      { userId: 'u', price: { amount: 1500, currency: 'SAT' }, credits: 1 },
      'price.amount',
    ],
    [
      'more than 8 BTC decimals',
      { userId: 'u', price: { amount: '0.000000001', currency: 'BTC' }, credits: 1 },
      'price.amount',
    ],
    [
      'an absurd amount',
      { userId: 'u', price: { amount: '99999999', currency: 'BTC' }, credits: 1 },
      'price.amount',
    ],
    [
      'an absurdly long amount',
      { userId: 'u', price: { amount: '1'.repeat(40), currency: 'SAT' }, credits: 1 },
      'price.amount',
    ],
    [
      'an amount below the minimum',
      { userId: 'u', price: { amount: '100', currency: 'SAT' }, credits: 1 },
      'price.amount',
    ],
    [
      'an unknown currency',
      { userId: 'u', price: { amount: '10', currency: 'XYZ' }, credits: 1 },
      'price.currency',
    ],
    [
      'a lower-case currency',
      { userId: 'u', price: { amount: '10', currency: 'usd' }, credits: 1 },
      'price.currency',
    ],
    [
      'non-integer credits',
      { userId: 'u', price: { amount: '5000', currency: 'SAT' }, credits: 1.5 },
      'credits',
    ],
    [
      'zero credits',
      { userId: 'u', price: { amount: '5000', currency: 'SAT' }, credits: 0 },
      'credits',
    ],
    [
      'credits as a string',
      { userId: 'u', price: { amount: '5000', currency: 'SAT' }, credits: '5' },
      'credits',
    ],
    [
      'a price without credits',
      { userId: 'u', price: { amount: '5000', currency: 'SAT' } },
      'credits',
    ],
    [
      'both a package and a price',
      { userId: 'u', packageId: 'sats', price: { amount: '5000', currency: 'SAT' } },
      'price',
    ],
    ['neither a package nor a price', { userId: 'u' }, 'packageId'],
    ['a missing user id', { packageId: 'sats' }, 'userId'],
    ['an empty user id', { userId: '', packageId: 'sats' }, 'userId'],
    ['a user id with odd characters', { userId: 'a b<c>', packageId: 'sats' }, 'userId'],
    ['an unknown field', { userId: 'u', packageId: 'sats', amount: 5 }, 'amount'],
    [
      'a description that is too long',
      { userId: 'u', packageId: 'sats', description: 'x'.repeat(201) },
      'description',
    ],
  ];

  it.each(cases)(
    'refuses %s with 400 naming the field, writing nothing',
    async (_name, body, field) => {
      const paymentsBefore = await d.mongo.db.collection('payments').countDocuments();
      const counterBefore = await counterValue();
      const res = await create(body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_request', field });
      expect(res.json<{ message: string }>().message).toContain(field);
      expect(await d.mongo.db.collection('payments').countDocuments()).toBe(paymentsBefore);
      expect(await counterValue()).toBe(counterBefore);
    },
  );

  // Issue 11 §2 replaced the 400s for a wrong content type (now 415) and an oversized body (now
  // 413): the HTTP codes clients and proxies understand, in our error shape.
  it('refuses a wrong content type (415), malformed JSON and an empty body (400), an oversized body (413)', async () => {
    const paymentsBefore = await d.mongo.db.collection('payments').countDocuments();
    const send = (payload: string, type: string) =>
      d.app.inject({
        method: 'POST',
        url: '/v1/payments',
        headers: { ...d.merchant, 'content-type': type },
        payload,
      });
    const form = await send('userId=u', 'application/x-www-form-urlencoded');
    expect(form.statusCode).toBe(415);
    expect(form.json()).toEqual({
      error: 'unsupported_media_type',
      message: 'content-type must be application/json',
      field: 'content-type',
    });
    expect((await send('{"userId": ', 'application/json')).json()).toMatchObject({ field: 'body' });
    expect((await send('', 'application/json')).json()).toMatchObject({ field: 'body' });
    const huge = JSON.stringify({
      userId: 'u',
      packageId: 'sats',
      description: 'x'.repeat(20_000),
    });
    const big = await send(huge, 'application/json');
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({
      error: 'payload_too_large',
      message: 'body is too large',
      field: 'body',
    });
    expect(await d.mongo.db.collection('payments').countDocuments()).toBe(paymentsBefore);
  });

  it('refuses a malformed Idempotency-Key', async () => {
    const res = await create(
      { userId: 'u', packageId: 'sats' },
      { 'idempotency-key': 'k'.repeat(300) },
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field: 'idempotency-key' });
  });
});

describe('idempotency', () => {
  it('returns the same payment for a retried request, marked as a replay', async () => {
    const body = { userId: 'gina', packageId: 'sats' };
    const first = await create(body, { 'idempotency-key': 'order-1001' });
    const again = await create(body, { 'idempotency-key': 'order-1001' });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
  });

  it('refuses to reuse a key for a different request with 422', async () => {
    await create({ userId: 'gina', packageId: 'sats' }, { 'idempotency-key': 'order-1002' });
    const res = await create(
      { userId: 'gina', packageId: 'starter' },
      { 'idempotency-key': 'order-1002' },
    );
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'idempotency_conflict', field: 'Idempotency-Key' });
  });

  it('yields one payment and one address index for 25 concurrent retries', async () => {
    const counterBefore = await counterValue();
    const results = await Promise.all(
      Array.from({ length: 25 }, () =>
        create({ userId: 'hank', packageId: 'sats' }, { 'idempotency-key': 'order-race' }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort((a, b) => a - b)).toEqual([
      ...Array<number>(24).fill(200),
      201,
    ]);
    expect(new Set(results.map((r) => r.json<PaymentJson>().id)).size).toBe(1);
    expect(
      await d.mongo.db
        .collection('payments')
        .countDocuments({ idempotencyScope: 'merchant-test:order-race' }),
    ).toBe(1);
    expect(await counterValue()).toBe(counterBefore + 1);
  });
});

describe('API documentation', () => {
  it('serves an OpenAPI document generated from the route schemas, and its UI, on the ops listener', async () => {
    const doc = (await d.ops.inject({ method: 'GET', url: '/openapi.json' })).json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/payments',
        '/v1/payments/{id}',
        '/pay/{id}',
        '/pay/{id}/status',
      ]),
    );
    expect(doc.paths['/v1/payments']).toHaveProperty('post.requestBody');
    const ui = await d.ops.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/html/);
  });
});

describe('the OpenAPI document (issue 11 §8)', () => {
  interface Operation {
    operationId?: string;
    security?: unknown[];
    responses: Record<string, unknown>;
    requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  }
  let doc: {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, unknown> };
    webhooks: Record<string, { post: Operation }>;
  };
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ name: `${method} ${path}`, op })),
    );
  beforeAll(async () => {
    doc = (await d.ops.inject({ method: 'GET', url: '/openapi.json' })).json();
  });

  it('names every operation and every shared component', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Error', 'Payment', 'CheckoutStatus', 'AdminPayment']),
    );
    expect(JSON.stringify(doc)).not.toMatch(/def-\d/);
  });

  it('documents the statuses any operation can answer, each with its schema', () => {
    for (const { name, op } of operations()) {
      expect(Object.keys(op.responses), name).toContain('429');
      if (op.security)
        expect(Object.keys(op.responses), name).toEqual(expect.arrayContaining(['401', '403']));
      if (op.requestBody)
        expect(Object.keys(op.responses), name).toEqual(
          expect.arrayContaining(['400', '413', '415']),
        );
    }
  });

  it('says which fields exclude or need each other', () => {
    const body = (path: string) =>
      doc.paths[path]?.post?.requestBody?.content['application/json']?.schema;
    expect(body('/v1/payments')).toHaveProperty('oneOf');
    expect(body('/v1/admin/payments/{id}/confirm')).toHaveProperty('anyOf');
    expect(body('/v1/admin/sweeps/{id}/psbt')).toHaveProperty('oneOf');
  });

  it('describes every webhook event', () => {
    expect(Object.keys(doc.webhooks)).toEqual(
      expect.arrayContaining(['payment.confirmed', 'payment.expired', 'payment.late']),
    );
    expect(doc.webhooks['payment.confirmed']?.post.requestBody).toBeDefined();
  });
});

describe('rate limiting', () => {
  it('limits payment creation per API key', async () => {
    const limited = await startTestDaemon({ SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        const res = await limited.app.inject({
          method: 'POST',
          url: '/v1/payments',
          headers: limited.merchant,
          payload: { userId: 'u', packageId: 'sats' },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([201, 201, 201, 429]);
    } finally {
      await stopTestDaemon(limited);
    }
  });
});
