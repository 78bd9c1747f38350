/** The admin webhook API through Fastify, on the lab's MongoDB wire server. */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiKeyVerifier, hashApiKey, newApiKey } from '../../src/api/auth.js';
import { prepareApi } from '../../src/api/prepare.js';
import { webhookRoutes } from '../../src/api/webhooks-routes.js';
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.js';
import { WebhookOutbox } from '../../src/storage/webhook-outbox.js';
import { LabClient } from '../lab/client.js';
import { type HttpStub, startHttpStub } from '../support/http-stub.js';

const START = new Date('2030-01-01T00:00:00.000Z');
const adminKey = newApiKey();
const merchantKey = newApiKey();
const admin = { authorization: `Bearer ${adminKey}` };
const merchant = { authorization: `Bearer ${merchantKey}` };

let client: MongoClient;
let db: Db;
let outbox: WebhookOutbox;
let app: FastifyInstance;
let stub: HttpStub;
let clock: Date;
const now = () => clock;

interface EventJson {
  id: string;
  type: string;
  paymentId?: string;
  state: string;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string;
  deliveredAt?: string;
  isRedelivery: boolean;
  data: unknown;
  deliveries: {
    at: string;
    attempt: number;
    status?: number;
    error?: string;
    durationMs: number;
    redelivery: boolean;
  }[];
}

interface PageJson {
  items: EventJson[];
  nextCursor: string | null;
}

interface ErrorJson {
  error: string;
  message: string;
  field?: string;
}

async function buildTestApp(): Promise<FastifyInstance> {
  const fastify = Fastify();
  prepareApi(fastify);
  await fastify.register(webhookRoutes, {
    outbox,
    auth: new ApiKeyVerifier([
      { id: 'admin-test', role: 'admin', sha256: hashApiKey(adminKey) },
      { id: 'merchant-test', role: 'merchant', sha256: hashApiKey(merchantKey) },
    ]),
  });
  await fastify.ready();
  return fastify;
}

function list(query = '', headers: Record<string, string> = admin) {
  return app.inject({ method: 'GET', url: `/v1/admin/webhooks${query}`, headers });
}

function redeliver(id: string, headers: Record<string, string> = admin) {
  return app.inject({
    method: 'POST',
    url: `/v1/admin/webhooks/${encodeURIComponent(id)}/redeliver`,
    headers,
  });
}

beforeAll(async () => {
  client = new MongoClient(LabClient.fromState().mongoUrl);
  await client.connect();
  db = client.db(`webhooks_api_${randomBytes(6).toString('hex')}`);
  outbox = new WebhookOutbox(db, now);
  await outbox.ensureIndexes();
  stub = await startHttpStub(() => ({ body: '' }));
  app = await buildTestApp();
});

afterAll(async () => {
  await app.close();
  await stub.close();
  await db.dropDatabase();
  await client.close();
});

beforeEach(async () => {
  await outbox.collection.deleteMany({});
  clock = START;
  stub.handler = () => ({ body: '{}' });
});

/** Five events on two payments: pay_a:1 delivered, pay_a:2 failed (400), the rest pending. */
async function seed(): Promise<void> {
  const events = [
    { id: 'pay_a:1', type: 'payment.confirming', paymentId: 'pay_a' },
    { id: 'pay_a:2', type: 'payment.confirmed', paymentId: 'pay_a' },
    { id: 'pay_b:1', type: 'payment.expired', paymentId: 'pay_b' },
    { id: 'pay_b:2', type: 'payment.late', paymentId: 'pay_b' },
    { id: 'sys:1', type: 'payment.needs_review' },
  ] as const;
  for (const [i, e] of events.entries()) {
    await outbox.enqueue({ ...e, data: { seq: i, nested: { ok: true, list: [1, 'two'] } } });
    clock = new Date(clock.getTime() + 1000);
  }
  stub.handler = (req) => ({
    status: req.headers['satwatch-event-id'] === 'pay_a:2' ? 400 : 200,
    body: '{}',
  });
  const dispatcher = new WebhookDispatcher({
    outbox,
    url: stub.url,
    secret: 'whsec_api_test_secret_0123',
    timeoutMs: 2000,
    maxAttempts: 5,
    now,
  });
  expect(await dispatcher.deliverDue(2)).toEqual({ delivered: 1, retrying: 0, failed: 1 });
}

describe('GET /v1/admin/webhooks', () => {
  it('lists events newest first with their delivery log', async () => {
    await seed();
    const res = await list();
    expect(res.statusCode).toBe(200);
    const page = res.json<PageJson>();
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((e) => e.id)).toEqual([
      'sys:1',
      'pay_b:2',
      'pay_b:1',
      'pay_a:2',
      'pay_a:1',
    ]);
    const delivered = page.items.find((e) => e.id === 'pay_a:1')!;
    expect(delivered).toEqual({
      id: 'pay_a:1',
      type: 'payment.confirming',
      paymentId: 'pay_a',
      state: 'delivered',
      attempts: 1,
      createdAt: START.toISOString(),
      nextAttemptAt: START.toISOString(),
      deliveredAt: clock.toISOString(),
      isRedelivery: false,
      data: { seq: 0, nested: { ok: true, list: [1, 'two'] } },
      deliveries: [
        {
          at: clock.toISOString(),
          attempt: 1,
          status: 200,
          durationMs: expect.any(Number) as number,
          redelivery: false,
        },
      ],
    });
    const failed = page.items.find((e) => e.id === 'pay_a:2')!;
    expect(failed.state).toBe('failed');
    expect(failed.deliveries[0]).toMatchObject({
      status: 400,
      error: expect.stringMatching(/not retried/) as string,
    });
    const system = page.items.find((e) => e.id === 'sys:1')!;
    expect(system.paymentId).toBeUndefined();
    expect(system).toMatchObject({ state: 'pending', attempts: 0, deliveries: [] });
    // Internal fields stay inside.
    expect(res.body).not.toMatch(/lockId|lockedUntil|_id/);
  });

  it('filters by state and by payment', async () => {
    await seed();
    const ids = async (query: string) =>
      (await list(query)).json<PageJson>().items.map((e) => e.id);
    expect(await ids('?state=pending')).toEqual(['sys:1', 'pay_b:2', 'pay_b:1']);
    expect(await ids('?state=failed')).toEqual(['pay_a:2']);
    expect(await ids('?state=delivered')).toEqual(['pay_a:1']);
    expect(await ids('?paymentId=pay_b')).toEqual(['pay_b:2', 'pay_b:1']);
    expect(await ids('?paymentId=pay_a&state=failed')).toEqual(['pay_a:2']);
    expect(await ids('?paymentId=pay_none')).toEqual([]);
  });

  it('pages with limit and cursor, each event once', async () => {
    await seed();
    // Two events in the same millisecond: the id breaks the tie.
    clock = new Date(START.getTime() + 2000);
    await outbox.enqueue({ id: 'pay_c:1', type: 'payment.underpaid', data: {} });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await list(query);
      expect(res.statusCode).toBe(200);
      const page: PageJson = res.json<PageJson>();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual(['sys:1', 'pay_b:2', 'pay_c:1', 'pay_b:1', 'pay_a:2', 'pay_a:1']);
    expect(pages).toBe(4);
  });

  it('answers 400 naming the field for bad query values', async () => {
    const cases: [string, string][] = [
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?limit=ten', 'limit'],
      ['?limit=1.5', 'limit'],
      ['?state=done', 'state'],
      ['?paymentId=', 'paymentId'],
      ['?cursor=not-a-cursor', 'cursor'],
      [`?cursor=${'x'.repeat(401)}`, 'cursor'],
      ['?colour=blue', 'colour'],
    ];
    for (const [query, field] of cases) {
      const res = await list(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json<ErrorJson>(), query).toMatchObject({ error: 'invalid_request', field });
    }
    expect((await list('?state=done')).json<ErrorJson>().message).toBe(
      'state must be one of pending, delivered, failed',
    );
  });

  it('answers 401 without a recognised key and 403 to a merchant key', async () => {
    const none = await list('', {});
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.json<ErrorJson>().error).toBe('unauthorized');
    expect((await list('', { authorization: 'Bearer sw_wrong' })).statusCode).toBe(401);
    const forbidden = await list('', merchant);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json<ErrorJson>()).toMatchObject({ error: 'forbidden' });
  });
});

describe('POST /v1/admin/webhooks/:id/redeliver', () => {
  it('queues the event again (202) and the dispatcher resends it as a redelivery', async () => {
    await seed();
    clock = new Date(clock.getTime() + 60_000);
    const res = await redeliver('pay_a:2');
    expect(res.statusCode).toBe(202);
    expect(res.json<EventJson>()).toMatchObject({
      id: 'pay_a:2',
      state: 'pending',
      attempts: 0,
      isRedelivery: true,
      nextAttemptAt: clock.toISOString(),
      deliveries: [{ attempt: 1, status: 400 }],
    });

    stub.handler = () => ({ body: '{}' });
    stub.requests.length = 0;
    const dispatcher = new WebhookDispatcher({
      outbox,
      url: stub.url,
      secret: 'whsec_api_test_secret_0123',
      timeoutMs: 2000,
      maxAttempts: 5,
      now,
    });
    await dispatcher.deliverDue(1);
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]!.headers['satwatch-event-id']).toBe('pay_a:2');
    expect(JSON.parse(stub.requests[0]!.body)).toMatchObject({ id: 'pay_a:2', isRedelivery: true });

    const [after] = (await list('?paymentId=pay_a&state=delivered'))
      .json<PageJson>()
      .items.filter((e) => e.id === 'pay_a:2');
    expect(after?.deliveries.map((d) => [d.status, d.redelivery])).toEqual([
      [400, false],
      [200, true],
    ]);
  });

  it('answers 404 for an unknown id, 401 and 403 without an admin key', async () => {
    await seed();
    const missing = await redeliver('pay_zz:9');
    expect(missing.statusCode).toBe(404);
    expect(missing.json<ErrorJson>()).toEqual({
      error: 'not_found',
      message: 'webhook event not found',
    });
    expect((await redeliver('pay_a:1', {})).statusCode).toBe(401);
    expect((await redeliver('pay_a:1', merchant)).statusCode).toBe(403);
    // Neither changed anything.
    expect((await outbox.get('pay_a:1'))?.state).toBe('delivered');
    expect(await outbox.collection.countDocuments()).toBe(5);
  });

  it('routes every id the outbox accepts (up to 100 characters)', async () => {
    const longest = `pay_${'x'.repeat(94)}:1`;
    expect(longest).toHaveLength(100);
    expect(await outbox.enqueue({ id: longest, type: 'payment.confirmed', data: {} })).toBe(true);
    expect((await redeliver(longest)).statusCode).toBe(202);
    expect((await redeliver(`pay_${'y'.repeat(94)}:1`)).statusCode).toBe(404);
    // Longer ids cannot exist; Fastify's router refuses such a path itself (maxParamLength).
    expect((await redeliver('x'.repeat(101))).statusCode).toBe(414);
  });
});
