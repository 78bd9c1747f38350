/**
 * The merchant balances API (balance, ledger, debit) through Fastify, on the lab's MongoDB wire
 * server, in an app prepared like src/app.ts (strict bodies, coerced query strings, one error shape).
 */
import { randomBytes } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyVerifier, hashApiKey, newApiKey } from '../../src/api/auth.js';
import { prepareApi } from '../../src/api/prepare.js';
import { debitRequestHash, usersRoutes } from '../../src/api/users-routes.js';
import type { LedgerEntry } from '../../src/ledger/ledger.js';
import { Ledger } from '../../src/storage/ledger.js';
import { LabClient } from '../lab/client.js';

const merchantKey = newApiKey();
const adminKey = newApiKey();
const merchant = { authorization: `Bearer ${merchantKey}` };

let client: MongoClient;
let db: Db;
let ledger: Ledger;
let app: FastifyInstance;

beforeAll(async () => {
  client = new MongoClient(LabClient.fromState().mongoUrl);
  await client.connect();
  db = client.db(`users_api_${randomBytes(6).toString('hex')}`);
  ledger = new Ledger(db);
  await ledger.ensureIndexes();
  // User ids may be 128 characters (more once percent-encoded): src/app.ts sets the same router option.
  app = Fastify({ routerOptions: { maxParamLength: 400 } });
  prepareApi(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'satwatch', version: 'test' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(usersRoutes, {
    ledger,
    auth: new ApiKeyVerifier([
      { id: 'm', role: 'merchant', sha256: hashApiKey(merchantKey) },
      { id: 'a', role: 'admin', sha256: hashApiKey(adminKey) },
    ]),
  });
  await app.ready();
});

afterAll(async () => {
  await app.close();
  await db.dropDatabase();
  await client.close();
});

interface EntryJson {
  id: string;
  seq: number;
  type: string;
  amount: number;
  balanceAfter: number;
  paymentId?: string;
  reason: string;
  createdAt: string;
}

const newUser = () => `user_${randomBytes(4).toString('hex')}`;

async function fund(userId: string, credits: number): Promise<LedgerEntry> {
  const paymentId = `pay_${randomBytes(6).toString('hex')}`;
  return (await ledger.creditPayment({ paymentId, userId, credits, reason: 'payment confirmed' }))
    .entry;
}

function debit(userId: string, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: `/v1/users/${userId}/debit`,
    headers: { ...merchant, ...headers },
    payload: body as object,
  });
}

function get(url: string, headers: Record<string, string> = merchant) {
  return app.inject({ method: 'GET', url, headers });
}

async function counts(): Promise<{ entries: number; users: number }> {
  return {
    entries: await db.collection('ledger').countDocuments(),
    users: await db.collection('users').countDocuments(),
  };
}

describe('GET /v1/users/:id/balance', () => {
  it('answers 0 with no update time for a user never credited, writing nothing', async () => {
    const before = await counts();
    const userId = newUser();
    const res = await get(`/v1/users/${userId}/balance`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId, balance: 0, updatedAt: null });
    expect(await counts()).toEqual(before);
  });

  it('answers the balance and when it last changed', async () => {
    const userId = newUser();
    await fund(userId, 70);
    await fund(userId, 5);
    const body = (await get(`/v1/users/${userId}/balance`)).json<{
      balance: number;
      updatedAt: string;
    }>();
    expect(body.balance).toBe(75);
    expect(Date.now() - Date.parse(body.updatedAt)).toBeLessThan(60_000);
  });

  it('accepts user ids with the characters payments accept, percent-encoded or not', async () => {
    const userId = 'shop:alice.b-c_d@example';
    await fund(userId, 3);
    expect((await get(`/v1/users/${userId}/balance`)).json()).toMatchObject({ userId, balance: 3 });
    expect((await get(`/v1/users/${encodeURIComponent(userId)}/balance`)).json()).toMatchObject({
      userId,
      balance: 3,
    });
  });

  it('accepts a user id of 128 characters, the most payments accept', async () => {
    const userId = `${'@'.repeat(100)}${'u'.repeat(28)}`;
    await fund(userId, 4);
    const res = await get(`/v1/users/${encodeURIComponent(userId)}/balance`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ userId, balance: 4 });
  });
});

describe('GET /v1/users/:id/ledger', () => {
  it('lists entries newest first, 20 by default, with a cursor to the next page', async () => {
    const userId = newUser();
    const first = await fund(userId, 1000);
    for (let i = 1; i <= 24; i++) {
      await ledger.debit({
        userId,
        amount: i,
        idempotencyKey: `k${i}`,
        reason: `spend ${i}`,
        requestHash: 'h',
      });
    }
    const page1 = (await get(`/v1/users/${userId}/ledger`)).json<{
      items: EntryJson[];
      nextCursor: string | null;
    }>();
    expect(page1.items.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 25 - i));
    expect(page1.items[0]).toEqual({
      id: `${userId}:25`,
      seq: 25,
      type: 'debit',
      amount: -24,
      balanceAfter: 1000 - (24 * 25) / 2,
      reason: 'spend 24',
      createdAt: expect.any(String) as string,
    });
    expect(page1.nextCursor).toEqual(expect.any(String));

    const page2 = (
      await get(`/v1/users/${userId}/ledger?limit=5&cursor=${page1.nextCursor!}`)
    ).json<{ items: EntryJson[]; nextCursor: string | null }>();
    expect(page2.items.map((e) => e.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(page2.nextCursor).toBeNull();
    expect(page2.items[4]).toEqual({
      id: first._id,
      seq: 1,
      type: 'credit',
      amount: 1000,
      balanceAfter: 1000,
      paymentId: first.paymentId,
      reason: 'payment confirmed',
      createdAt: first.createdAt.toISOString(),
    });
  });

  it('answers an empty page for a user never credited', async () => {
    const res = await get(`/v1/users/${newUser()}/ledger?limit=100`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ items: [], nextCursor: null });
  });

  it('ends with a null cursor when the last page is exactly full', async () => {
    const userId = newUser();
    await fund(userId, 1);
    await fund(userId, 2);
    const page = (await get(`/v1/users/${userId}/ledger?limit=2`)).json<{
      nextCursor: string | null;
    }>();
    expect(page.nextCursor).toBeNull();
  });
});

describe('POST /v1/users/:id/debit', () => {
  it('spends credits and answers 201 with the entry, recording the API key as actor', async () => {
    const userId = newUser();
    await fund(userId, 100);
    const res = await debit(
      userId,
      { amount: 30, reason: 'image render' },
      { 'idempotency-key': 'r-1' },
    );
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(res.json()).toEqual({
      id: `${userId}:2`,
      seq: 2,
      type: 'debit',
      amount: -30,
      balanceAfter: 70,
      reason: 'image render',
      createdAt: expect.any(String) as string,
    });
    const stored = await db.collection<LedgerEntry>('ledger').findOne({ _id: `${userId}:2` });
    expect(stored).toMatchObject({
      opId: `debit:${userId}:r-1`,
      actor: 'm',
      requestHash: debitRequestHash(userId, { amount: 30, reason: 'image render' }),
    });
    expect((await get(`/v1/users/${userId}/balance`)).json()).toMatchObject({ balance: 70 });
  });

  it('returns the same entry for a retry with the same key and body, marked as a replay', async () => {
    const userId = newUser();
    await fund(userId, 100);
    const body = { amount: 10, reason: 'retry me' };
    const first = await debit(userId, body, { 'idempotency-key': 'same' });
    const again = await debit(
      userId,
      { reason: 'retry me', amount: 10 },
      { 'idempotency-key': 'same' },
    );
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect((await get(`/v1/users/${userId}/balance`)).json()).toMatchObject({ balance: 90 });
  });

  it('refuses the same key with another body with 422, writing nothing', async () => {
    const userId = newUser();
    await fund(userId, 100);
    await debit(userId, { amount: 10, reason: 'a' }, { 'idempotency-key': 'k' });
    const before = await counts();
    for (const body of [
      { amount: 11, reason: 'a' },
      { amount: 10, reason: 'b' },
    ]) {
      const res = await debit(userId, body, { 'idempotency-key': 'k' });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ error: 'idempotency_conflict', field: 'Idempotency-Key' });
    }
    expect(await counts()).toEqual(before);
  });

  it('lets another user use the same key', async () => {
    const [a, b] = [newUser(), newUser()];
    await fund(a, 10);
    await fund(b, 10);
    expect(
      (await debit(a, { amount: 1, reason: 'x' }, { 'idempotency-key': 'k' })).statusCode,
    ).toBe(201);
    expect(
      (await debit(b, { amount: 1, reason: 'x' }, { 'idempotency-key': 'k' })).statusCode,
    ).toBe(201);
  });

  it('refuses an overdraft with 409, writing nothing', async () => {
    const userId = newUser();
    await fund(userId, 20);
    const before = await counts();
    const res = await debit(userId, { amount: 21, reason: 'too much' }, { 'idempotency-key': 'o' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      error: 'insufficient_balance',
      message: 'balance 20 is less than the 21 requested',
    });
    expect(await counts()).toEqual(before);
    const stranger = await debit(newUser(), { amount: 1, reason: 'x' }, { 'idempotency-key': 'o' });
    expect(stranger.statusCode).toBe(409);
    expect(await counts()).toEqual(before);
  });

  it('applies one debit for 20 concurrent retries of the same request', async () => {
    const userId = newUser();
    await fund(userId, 50);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        debit(userId, { amount: 50, reason: 'everything' }, { 'idempotency-key': 'race' }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort((x, y) => x - y)).toEqual([
      ...Array<number>(19).fill(200),
      201,
    ]);
    expect(new Set(results.map((r) => r.json<EntryJson>().id)).size).toBe(1);
    expect(await db.collection('ledger').countDocuments({ userId })).toBe(2);
    expect((await get(`/v1/users/${userId}/balance`)).json()).toMatchObject({ balance: 0 });
  });
});

describe('bad input', () => {
  const key = { 'idempotency-key': 'bad-input' };
  const bodyCases: [string, unknown, string][] = [
    ['a missing amount', { reason: 'r' }, 'amount'],
    ['a zero amount', { amount: 0, reason: 'r' }, 'amount'],
    ['a negative amount', { amount: -5, reason: 'r' }, 'amount'],
    ['a fractional amount', { amount: 1.5, reason: 'r' }, 'amount'],
    ['an amount as a string', { amount: '10', reason: 'r' }, 'amount'],
    ['an amount beyond safe integers', { amount: 2 ** 53, reason: 'r' }, 'amount'],
    ['a missing reason', { amount: 1 }, 'reason'],
    ['an empty reason', { amount: 1, reason: '' }, 'reason'],
    ['a reason that is too long', { amount: 1, reason: 'x'.repeat(201) }, 'reason'],
    ['a reason that is not text', { amount: 1, reason: 7 }, 'reason'],
    ['an unknown field', { amount: 1, reason: 'r', userId: 'someone' }, 'userId'],
    ['a body that is not an object', [1, 2], 'body'],
  ];

  it.each(bodyCases)(
    'refuses a debit with %s: 400 naming the field, nothing written',
    async (_n, body, field) => {
      const userId = newUser();
      await fund(userId, 100);
      const before = await counts();
      const res = await debit(userId, body, key);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_request', field });
      expect(res.json<{ message: string }>().message).toContain(field);
      expect(await counts()).toEqual(before);
    },
  );

  // A body that is not JSON answers 415 since issue 11 §2 (it answered 400 before).
  it('refuses a debit without a body (400), or with a body that is not JSON (415)', async () => {
    const userId = newUser();
    await fund(userId, 100);
    const before = await counts();
    const empty = await app.inject({
      method: 'POST',
      url: `/v1/users/${userId}/debit`,
      headers: { ...merchant, ...key },
    });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ field: 'body' });
    const form = await app.inject({
      method: 'POST',
      url: `/v1/users/${userId}/debit`,
      headers: { ...merchant, ...key, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'amount=1&reason=r',
    });
    expect(form.statusCode).toBe(415);
    expect(form.json()).toMatchObject({ error: 'unsupported_media_type', field: 'content-type' });
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['missing', {}],
    ['empty', { 'idempotency-key': '' }],
    ['too long', { 'idempotency-key': 'k'.repeat(256) }],
    ['with a space', { 'idempotency-key': 'a b' }],
  ])('refuses a debit with an Idempotency-Key %s: 400 naming it', async (_n, headers) => {
    const userId = newUser();
    await fund(userId, 100);
    const before = await counts();
    const res = await debit(userId, { amount: 1, reason: 'r' }, headers);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_request', field: 'idempotency-key' });
    expect(await counts()).toEqual(before);
  });

  const badIds = [
    ['odd characters', 'a%20b%3Cc%3E'],
    ['129 characters', 'u'.repeat(129)],
    ['an empty id', ''],
  ];

  it.each(badIds)('refuses a user id with %s on every endpoint: 400 naming id', async (_n, id) => {
    const before = await counts();
    for (const res of [
      await get(`/v1/users/${id}/balance`),
      await get(`/v1/users/${id}/ledger`),
      await debit(id, { amount: 1, reason: 'r' }, key),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_request', field: 'id' });
    }
    expect(await counts()).toEqual(before);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1.5', 'limit'],
    ['cursor=0', 'cursor'],
    ['cursor=-3', 'cursor'],
    ['cursor=abc', 'cursor'],
    ['cursor=1234567890123456', 'cursor'],
    ['page=2', 'page'],
  ])('refuses a ledger query with %s: 400 naming %s', async (query, field) => {
    const res = await get(`/v1/users/${newUser()}/ledger?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_request', field });
  });
});

describe('authentication', () => {
  it('answers 401 without a key or with an unknown one, on every endpoint, writing nothing', async () => {
    const userId = newUser();
    await fund(userId, 100);
    const before = await counts();
    const headerSets: Record<string, string>[] = [{}, { authorization: 'Bearer sw_not-a-key' }];
    for (const headers of headerSets) {
      const responses = [
        await get(`/v1/users/${userId}/balance`, headers),
        await get(`/v1/users/${userId}/ledger`, headers),
        await app.inject({
          method: 'POST',
          url: `/v1/users/${userId}/debit`,
          headers: { ...headers, 'idempotency-key': 'auth' },
          payload: { amount: 1, reason: 'r' },
        }),
      ];
      for (const res of responses) {
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ error: 'unauthorized' });
      }
    }
    expect(await counts()).toEqual(before);
  });

  it('answers 403 to an admin key: these are merchant endpoints', async () => {
    const res = await get(`/v1/users/${newUser()}/balance`, {
      authorization: `Bearer ${adminKey}`,
    });
    expect(res.statusCode).toBe(403);
  });
});

describe('API documentation', () => {
  it('documents the three endpoints under the balances tag', () => {
    const doc = app.swagger() as {
      paths: Record<string, Record<string, { tags?: string[]; responses?: object }>>;
    };
    for (const [path, method] of [
      ['/v1/users/{id}/balance', 'get'],
      ['/v1/users/{id}/ledger', 'get'],
      ['/v1/users/{id}/debit', 'post'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.tags).toEqual(['balances']);
    }
    expect(Object.keys(doc.paths['/v1/users/{id}/debit']!.post!.responses!)).toEqual(
      expect.arrayContaining(['200', '201', '400', '401', '409', '422']),
    );
  });
});
