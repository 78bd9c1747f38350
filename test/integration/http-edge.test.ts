/**
 * The public HTTP edge (issue 11 §2): authentication before validation, one error shape for
 * every refusal (Fastify's and Node's included), and rate limits that cannot be dodged.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, newApiKey } from '../../src/api/auth.js';
import { debitRequestHash } from '../../src/api/users-routes.js';
import { verifySignature } from '../../src/webhooks/signature.js';
import { type TestDaemon, listen, startTestDaemon, stopTestDaemon } from '../support/daemon.js';
import { startHttpStub } from '../support/http-stub.js';

const body = { userId: 'edge', packageId: 'sats' };

function create(d: TestDaemon, authorization: string, headers: Record<string, string> = {}) {
  return d.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: { authorization, ...headers },
    payload: body,
  });
}

/** Sends raw bytes and resolves with the raw answer (for what Node refuses before Fastify). */
function raw(base: string, text: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(text);
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => {
      resolve(answer);
    });
    socket.on('error', reject);
  });
}

function jsonOf(answer: string): unknown {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
}

describe('authentication comes first', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon();
  });
  afterAll(() => stopTestDaemon(d));

  it('answers 401 to a list request without a key, before checking its query', async () => {
    const res = await d.app.inject({ method: 'GET', url: '/v1/payments' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'unauthorized' });
  });

  it('answers 403 to a wrong-role key even when the body is also bad', async () => {
    const res = await d.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: d.admin,
      payload: { nonsense: true },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: 'forbidden' });
  });

  it('accepts the scheme name in any case and refuses a header that is not Bearer', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      const res = await create(d, `${scheme} ${d.merchantKey}`);
      expect(res.statusCode, scheme).toBe(201);
    }
    const basic = await create(d, `Basic ${d.merchantKey}`);
    expect(basic.statusCode).toBe(401);
    expect(basic.json()).toMatchObject({ error: 'unauthorized' });
  });
});

describe('rate limits', () => {
  it('counts payment creation per verified key: extra spaces or another case share the bucket', async () => {
    const d = await startTestDaemon({ SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '3' });
    try {
      const statuses = [];
      for (const header of [
        `Bearer ${d.merchantKey}`,
        `Bearer  ${d.merchantKey}`,
        `bearer ${d.merchantKey}`,
        `Bearer   ${d.merchantKey}`,
      ])
        statuses.push((await create(d, header)).statusCode);
      expect(statuses).toEqual([201, 201, 201, 429]);
    } finally {
      await stopTestDaemon(d);
    }
  });

  it('answers an idempotent replay while the caller is over the limit', async () => {
    const d = await startTestDaemon({ SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '2' });
    try {
      const auth = d.merchant.authorization;
      const first = await create(d, auth, { 'idempotency-key': 'order-1' });
      expect(first.statusCode).toBe(201);
      expect((await create(d, auth, { 'idempotency-key': 'order-2' })).statusCode).toBe(201);
      const limited = await create(d, auth, { 'idempotency-key': 'order-3' });
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toMatchObject({ error: 'rate_limited' });
      const replay = await create(d, auth, { 'idempotency-key': 'order-1' });
      expect(replay.statusCode).toBe(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json<{ id: string }>().id).toBe(first.json<{ id: string }>().id);
    } finally {
      await stopTestDaemon(d);
    }
  });

  it('limits every other route globally, per key', async () => {
    const d = await startTestDaemon({ SATWATCH_RATE_LIMIT_GLOBAL_PER_MINUTE: '3' });
    try {
      const read = () =>
        d.app.inject({ method: 'GET', url: '/v1/payments/pay_none', headers: d.merchant });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await read()).statusCode);
      expect(statuses).toEqual([404, 404, 404, 429]);
      // The admin key has a bucket of its own.
      const admin = await d.app.inject({
        method: 'GET',
        url: '/v1/admin/payments/pay_none',
        headers: d.admin,
      });
      expect(admin.statusCode).toBe(404);
    } finally {
      await stopTestDaemon(d);
    }
  });

  it('limits debits with their own setting', async () => {
    const d = await startTestDaemon({ SATWATCH_RATE_LIMIT_DEBIT_PER_MINUTE: '1' });
    try {
      const debit = (key: string) =>
        d.app.inject({
          method: 'POST',
          url: '/v1/users/nobody/debit',
          headers: { ...d.merchant, 'idempotency-key': key },
          payload: { amount: 1, reason: 'test' },
        });
      expect((await debit('d1')).statusCode).toBe(409); // insufficient balance, but counted
      expect((await debit('d2')).statusCode).toBe(429);
      // A retry of a debit that was applied is answered even over the limit.
      await d.ledger.creditPayment({
        paymentId: 'pay_edge',
        userId: 'rich',
        credits: 10,
        reason: 'test',
      });
      const spend = (key: string) =>
        d.app.inject({
          method: 'POST',
          url: '/v1/users/rich/debit',
          headers: { ...d.merchant, 'idempotency-key': key },
          payload: { amount: 1, reason: 'test' },
        });
      expect((await spend('r1')).statusCode).toBe(429); // the key's bucket is spent
      await d.ledger.debit({
        userId: 'rich',
        amount: 1,
        idempotencyKey: 'r2',
        reason: 'test',
        requestHash: debitRequestHash('rich', { amount: 1, reason: 'test' }),
      });
      const replay = await spend('r2');
      expect(replay.statusCode).toBe(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
    } finally {
      await stopTestDaemon(d);
    }
  });

  it('limits the public checkout per client address, honouring trustProxy', async () => {
    const d = await startTestDaemon({
      SATWATCH_RATE_LIMIT_CHECKOUT_PER_MINUTE: '2',
      SATWATCH_HTTP_TRUST_PROXY: 'true',
    });
    try {
      const status = (ip: string, url: string) =>
        d.app
          .inject({ method: 'GET', url, headers: { 'x-forwarded-for': ip } })
          .then((r) => r.statusCode);
      for (const url of ['/pay/pay_none/status', '/pay/pay_none']) {
        expect(await status('203.0.113.1', url)).toBe(404);
        expect(await status('203.0.113.1', url)).toBe(404);
        expect(await status('203.0.113.1', url)).toBe(429);
        expect(await status('203.0.113.2', url)).toBe(404);
      }
    } finally {
      await stopTestDaemon(d);
    }
  });

  it('refuses a client address after too many failed authentications, even with a good key', async () => {
    const d = await startTestDaemon({ SATWATCH_RATE_LIMIT_FAILED_AUTH_PER_MINUTE: '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await create(d, `Bearer ${newApiKey()}`)).statusCode);
      statuses.push((await create(d, d.merchant.authorization)).statusCode);
      expect(statuses).toEqual([401, 401, 401, 429]);
      const res = await create(d, d.merchant.authorization);
      expect(res.json()).toMatchObject({ error: 'rate_limited' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await stopTestDaemon(d);
    }
  });
});

describe('idempotency keys belong to their API key', () => {
  const keyA = newApiKey();
  const keyB = newApiKey();
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon({
      SATWATCH_API_KEYS: JSON.stringify([
        { id: 'shop-a', role: 'merchant', sha256: hashApiKey(keyA) },
        { id: 'shop-b', role: 'merchant', sha256: hashApiKey(keyB) },
      ]),
    });
  });
  afterAll(() => stopTestDaemon(d));

  const idOf = (res: { json: () => unknown }) => (res.json() as { id: string }).id;

  it("never replays another key's payment", async () => {
    const mine = await create(d, `Bearer ${keyA}`, { 'idempotency-key': 'shared-1' });
    expect(mine.statusCode).toBe(201);
    const theirs = await create(d, `Bearer ${keyB}`, { 'idempotency-key': 'shared-1' });
    expect(theirs.statusCode).toBe(201);
    expect(idOf(theirs)).not.toBe(idOf(mine));
    const again = await create(d, `Bearer ${keyB}`, { 'idempotency-key': 'shared-1' });
    expect(again.statusCode).toBe(200);
    expect(idOf(again)).toBe(idOf(theirs));
  });

  it('still replays a payment stored before keys were scoped, for its own key only', async () => {
    const made = await create(d, `Bearer ${keyB}`, { 'idempotency-key': 'tmp-legacy' });
    const id = idOf(made);
    // Stored the old way: the bare Idempotency-Key.
    await d.mongo.db
      .collection<{ _id: string }>('payments')
      .updateOne({ _id: id }, { $set: { idempotencyScope: 'legacy-7' } });
    const replay = await create(d, `Bearer ${keyB}`, { 'idempotency-key': 'legacy-7' });
    expect(replay.statusCode).toBe(200);
    expect(idOf(replay)).toBe(id);
    const stranger = await create(d, `Bearer ${keyA}`, { 'idempotency-key': 'legacy-7' });
    expect(stranger.statusCode).toBe(201);
    expect(idOf(stranger)).not.toBe(id);
  });
});

describe('one error shape for every refusal', () => {
  let d: TestDaemon;
  let base: string;
  beforeAll(async () => {
    d = await startTestDaemon();
    base = await listen(d.app);
  });
  afterAll(() => stopTestDaemon(d));

  it('answers an over-long URL with 414', async () => {
    const res = await d.app.inject({
      method: 'GET',
      url: `/v1/payments/${'x'.repeat(9000)}`,
      headers: d.merchant,
    });
    expect(res.statusCode).toBe(414);
    expect(res.json()).toMatchObject({ error: 'uri_too_long' });
  });

  it('answers headers too large with 431 in our shape, over a real socket', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${base}/healthz`,
        { headers: { 'x-big': 'y'.repeat(20_000) } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body: text });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(431);
    expect(JSON.parse(answer.body)).toEqual({
      error: 'headers_too_large',
      message: 'the request headers are too large',
    });
  });

  it('answers an unknown method with 405 in our shape, never 400', async () => {
    const answer = await raw(base, 'FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(Number(answer.split(' ')[1])).toBe(405);
    expect(jsonOf(answer)).toMatchObject({ error: 'method_not_allowed' });
  });

  it('answers a known path asked with another method 405 with Allow, an unknown path 404', async () => {
    const del = await d.app.inject({ method: 'DELETE', url: '/v1/payments', headers: d.merchant });
    expect(del.statusCode).toBe(405);
    expect(del.headers.allow).toBe('GET, HEAD, POST');
    expect(del.json()).toMatchObject({ error: 'method_not_allowed' });
    // QUERY carries a body: Fastify reads it before routing, and still answers 405, not 400.
    const query = await fetch(`${base}/healthz`, { method: 'QUERY' });
    expect(query.status).toBe(405);
    const none = await d.app.inject({ method: 'GET', url: '/v2/nothing' });
    expect(none.statusCode).toBe(404);
    expect(none.json()).toMatchObject({ error: 'not_found' });
  });

  it('answers a limit with 429 in our shape and says when to retry', async () => {
    const limited = await startTestDaemon({ SATWATCH_RATE_LIMIT_GLOBAL_PER_MINUTE: '1' });
    try {
      await limited.app.inject({ method: 'GET', url: '/pay/pay_none/status' });
      const res = await limited.app.inject({
        method: 'GET',
        url: '/v1/payments/pay_none',
        headers: limited.merchant,
      });
      expect(res.statusCode).toBe(404); // a bucket per key: the public read did not count here
      const again = await limited.app.inject({
        method: 'GET',
        url: '/v1/payments/pay_none',
        headers: limited.merchant,
      });
      expect(again.statusCode).toBe(429);
      expect(again.json()).toEqual({
        error: 'rate_limited',
        message: 'too many requests; retry later',
      });
      expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await stopTestDaemon(limited);
    }
  });
});

describe('input rules', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon({
      SATWATCH_RATES_FIXED: JSON.stringify({ USD: '50000', JPY: '7500000' }),
    });
  });
  afterAll(() => stopTestDaemon(d));

  const pay = (payload: object) =>
    d.app.inject({ method: 'POST', url: '/v1/payments', headers: d.merchant, payload });

  it.each([
    ['a control character', 'Order\u0007 42'],
    ['a newline', 'line one\nline two'],
    ['a right-to-left override', 'invoice \u202egnp.exe'],
    ['a bidi isolate', 'pay \u2066here\u2069'],
  ])('refuses a description with %s, naming it and writing nothing', async (_name, text) => {
    const before = await d.mongo.db.collection('payments').countDocuments();
    const res = await pay({ userId: 'u', packageId: 'sats', description: text });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_request', field: 'description' });
    expect(await d.mongo.db.collection('payments').countDocuments()).toBe(before);
  });

  it('keeps a description in any script, with emoji', async () => {
    const res = await pay({ userId: 'u', packageId: 'sats', description: 'Café ☕ — 東京 مرحبا' });
    expect(res.statusCode).toBe(201);
  });

  it.each([
    ['USD', '25.123', 400],
    ['USD', '25.12', 201],
    ['JPY', '1500.5', 400],
    ['JPY', '1500', 201],
  ])('%s %s answers %i (the currency’s minor unit)', async (currency, amount, status) => {
    const res = await pay({ userId: 'u', price: { amount, currency }, credits: 1 });
    expect(res.statusCode).toBe(status);
    if (status === 400) expect(res.json()).toMatchObject({ field: 'price.amount' });
  });
});

describe('webhook secret rotation', () => {
  it('signs events with the first of webhooks.secrets', async () => {
    const [newest, older] = ['n'.repeat(40), 'o'.repeat(40)];
    const stub = await startHttpStub(() => ({ body: '{"ok":true}' }));
    const d = await startTestDaemon({
      SATWATCH_WEBHOOK_URL: `${stub.url}/hook`,
      SATWATCH_WEBHOOK_SECRETS: `${newest},${older}`,
    });
    try {
      await d.outbox.enqueue({
        id: 'pay_rot:1',
        type: 'payment.confirmed',
        paymentId: 'pay_rot',
        data: { payment: { id: 'pay_rot' } },
      });
      expect(await d.dispatcher?.deliverDue()).toMatchObject({ delivered: 1 });
      const [request] = stub.requests;
      const header = String(request?.headers['satwatch-signature']);
      const now = Math.floor(Date.now() / 1000);
      expect(verifySignature(newest, header, request?.body ?? '', now)).toBe(true);
      expect(verifySignature(older, header, request?.body ?? '', now)).toBe(false);
    } finally {
      await stopTestDaemon(d);
      await stub.close();
    }
  });
});
