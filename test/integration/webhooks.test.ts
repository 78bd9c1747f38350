/**
 * Webhooks from the MongoDB outbox (the lab's wire server) to a real local HTTP receiver that
 * verifies every signature: delivery, the retry schedule on a stepped clock, final failures,
 * the delivery log, redelivery, and two replicas sharing the outbox.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../../src/webhooks/dispatcher.js';
import { WebhookOutbox } from '../../src/storage/webhook-outbox.js';
import type { WebhookEvent } from '../../src/webhooks/outbox.js';
import { verifySignature } from '../../src/webhooks/signature.js';
import { LabClient } from '../lab/client.js';
import { type HttpStub, startHttpStub } from '../support/http-stub.js';

const SECRET = `whsec_${randomBytes(24).toString('hex')}`;
const START = new Date('2030-01-01T00:00:00.000Z');

let clients: MongoClient[] = [];
let db: Db;
let outbox: WebhookOutbox;
let clock: Date;
let stub: HttpStub;
let received: Received[];
let logs: { obj: object; msg: string }[];

const now = () => clock;
const unix = (d: Date) => Math.floor(d.getTime() / 1000);
const advance = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};

interface WebhookJson {
  id: string;
  type: string;
  createdAt: string;
  isRedelivery: boolean;
  data: unknown;
}

interface Received {
  id: string;
  body: string;
  json: WebhookJson;
  headers: http.IncomingHttpHeaders;
  verified: boolean;
}

type Respond = (id: string, nth: number) => { status?: number; delayMs?: number };

/** The merchant's receiver: checks the signature (401 if bad), records, answers per `respond`. */
function receive(respond: Respond = () => ({})): void {
  stub.handler = (req, body) => {
    const id = String(req.headers['satwatch-event-id']);
    const verified = verifySignature(
      SECRET,
      String(req.headers['satwatch-signature']),
      body,
      unix(clock),
    );
    received.push({
      id,
      body,
      json: JSON.parse(body) as WebhookJson,
      headers: req.headers,
      verified,
    });
    const nth = received.filter((r) => r.id === id).length;
    const answer = verified ? respond(id, nth) : { status: 401 };
    return {
      status: answer.status ?? 200,
      body: '{"ok":true}',
      ...(answer.delayMs !== undefined && { delayMs: answer.delayMs }),
    };
  };
}

function dispatcher(options: Partial<WebhookDispatcherOptions> = {}): WebhookDispatcher {
  return new WebhookDispatcher({
    outbox,
    url: `${stub.url}/hooks/satwatch`,
    secret: SECRET,
    timeoutMs: 2000,
    maxAttempts: 10,
    // The bare schedule, so the steps below stay short (the 3-day stretch: retry-plan tests).
    retryWindowSeconds: 0,
    now,
    log: {
      info: (obj, msg) => logs.push({ obj, msg }),
      warn: (obj, msg) => logs.push({ obj, msg }),
    },
    ...options,
  });
}

async function event(id: string): Promise<WebhookEvent> {
  const doc = await outbox.get(id);
  if (!doc) throw new Error(`no event ${id}`);
  return doc;
}

async function enqueue(
  id: string,
  data: unknown = { paymentId: 'pay_1', amountSats: 150_000 },
  paymentId = 'pay_1',
) {
  expect(await outbox.enqueue({ id, type: 'payment.confirmed', paymentId, data })).toBe(true);
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}

async function connect(): Promise<MongoClient> {
  const client = new MongoClient(LabClient.fromState().mongoUrl, { maxPoolSize: 20 });
  await client.connect();
  clients.push(client);
  return client;
}

beforeAll(async () => {
  db = (await connect()).db(`webhooks_${randomBytes(6).toString('hex')}`);
  outbox = new WebhookOutbox(db, now);
  await outbox.ensureIndexes();
  stub = await startHttpStub(() => ({ body: '' }));
});

afterAll(async () => {
  await db.dropDatabase();
  await stub.close();
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

beforeEach(async () => {
  await outbox.collection.deleteMany({});
  clock = START;
  received = [];
  logs = [];
  stub.requests.length = 0;
  receive();
});

describe('webhook outbox', () => {
  it('enqueues an id once under 20 concurrent enqueues from two connections', async () => {
    const other = new WebhookOutbox((await connect()).db(db.databaseName), now);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? other : outbox).enqueue({
          id: 'pay_1:1',
          type: 'payment.confirming',
          paymentId: 'pay_1',
          data: { attempt: i },
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await outbox.collection.countDocuments()).toBe(1);
    const doc = await event('pay_1:1');
    expect(doc).toMatchObject({
      _id: 'pay_1:1',
      type: 'payment.confirming',
      paymentId: 'pay_1',
      state: 'pending',
      attempts: 0,
      redelivery: false,
      deliveries: [],
      createdAt: START,
      nextAttemptAt: START,
    });
    const winner = results.indexOf(true);
    expect(doc.data).toEqual({ attempt: winner });
    // A later enqueue of the same id changes nothing.
    expect(
      await outbox.enqueue({ id: 'pay_1:1', type: 'payment.expired', data: { other: true } }),
    ).toBe(false);
    expect((await event('pay_1:1')).type).toBe('payment.confirming');
  });

  it('stores data as the JSON it sends, and refuses what is not JSON or a bad id', async () => {
    await enqueue('pay_1:2', { at: new Date('2030-01-02T03:04:05.678Z'), skip: undefined, n: 1 });
    expect((await event('pay_1:2')).data).toEqual({ at: '2030-01-02T03:04:05.678Z', n: 1 });
    await expect(
      outbox.enqueue({ id: 'pay_1:3', type: 'payment.confirmed', data: { sats: 1n } }),
    ).rejects.toThrow(TypeError);
    await expect(
      outbox.enqueue({ id: 'has space', type: 'payment.confirmed', data: {} }),
    ).rejects.toThrow(/event id/);
    await expect(
      outbox.enqueue({ id: 'x'.repeat(101), type: 'payment.confirmed', data: {} }),
    ).rejects.toThrow(/event id/);
    await expect(
      outbox.enqueue({ id: 'pay_1:4', type: 'payment.unknown' as 'payment.late', data: {} }),
    ).rejects.toThrow(/unknown webhook event type/);
    expect(await outbox.collection.countDocuments()).toBe(1);
  });
});

describe('webhook delivery', () => {
  it('POSTs the signed event to a receiver that verifies it, oldest first, and marks it delivered', async () => {
    for (let i = 1; i <= 3; i++) {
      await enqueue(`pay_1:${i}`, { seq: i, amountSats: 150_000, note: 'café ₿' });
      advance(1);
    }
    const sentAt = clock;
    const t0 = performance.now();
    expect(await dispatcher().deliverDue()).toEqual({ delivered: 3, retrying: 0, failed: 0 });
    const elapsed = performance.now() - t0;

    expect(received.map((r) => r.id)).toEqual(['pay_1:1', 'pay_1:2', 'pay_1:3']);
    const first = received[0]!;
    expect(first.verified).toBe(true);
    expect(stub.requests[0]).toMatchObject({ method: 'POST', url: '/hooks/satwatch' });
    expect(first.headers).toMatchObject({
      'content-type': 'application/json',
      'satwatch-event-id': 'pay_1:1',
      'satwatch-event-type': 'payment.confirmed',
      'user-agent': 'satwatch',
    });
    expect(first.headers['satwatch-signature']).toMatch(
      new RegExp(`^t=${unix(sentAt)},v1=[0-9a-f]{64}$`),
    );
    // Exactly these fields, in this order.
    expect(first.body).toBe(
      JSON.stringify({
        id: 'pay_1:1',
        type: 'payment.confirmed',
        createdAt: START.toISOString(),
        isRedelivery: false,
        data: { seq: 1, amountSats: 150_000, note: 'café ₿' },
      }),
    );
    // The signature covers the body: the receiver's check fails for any other bytes.
    expect(
      verifySignature(
        SECRET,
        String(first.headers['satwatch-signature']),
        first.body.replace('150000', '150001'),
        unix(clock),
      ),
    ).toBe(false);

    const doc = await event('pay_1:1');
    expect(doc).toMatchObject({ state: 'delivered', attempts: 1, deliveredAt: sentAt });
    expect(doc.lockedUntil).toBeUndefined();
    expect(doc.lockId).toBeUndefined();
    expect(doc.deliveries).toEqual([
      {
        at: sentAt,
        attempt: 1,
        status: 200,
        durationMs: expect.any(Number) as number,
        redelivery: false,
      },
    ]);
    expect(doc.deliveries[0]!.durationMs).toBeLessThanOrEqual(Math.ceil(elapsed));
    expect(logs.filter((l) => l.msg === 'webhook delivered')).toHaveLength(3);

    // Nothing is due any more.
    expect(await dispatcher().deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    expect(received).toHaveLength(3);
  });

  it('follows the full retry schedule on 500 and fails after maxAttempts', async () => {
    receive(() => ({ status: 500 }));
    await enqueue('pay_1:1');
    const d = dispatcher({ maxAttempts: 8 });
    const schedule = [10, 60, 300, 900, 1800, 3600, 7200];
    for (const [i, seconds] of schedule.entries()) {
      const attemptAt = clock;
      expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
      const doc = await event('pay_1:1');
      expect(doc).toMatchObject({ state: 'pending', attempts: i + 1 });
      expect(doc.nextAttemptAt).toEqual(new Date(attemptAt.getTime() + seconds * 1000));
      expect(doc.lockedUntil).toBeUndefined();
      // Not due a millisecond early.
      advance(seconds * 1000 - 1);
      expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
      advance(1);
    }
    expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 1 });
    const doc = await event('pay_1:1');
    expect(doc).toMatchObject({ state: 'failed', attempts: 8 });
    expect(doc.deliveries.map((x) => [x.attempt, x.status])).toEqual(
      Array.from({ length: 8 }, (_, i) => [i + 1, 500]),
    );
    expect(received).toHaveLength(8);
    expect(received.every((r) => r.verified)).toBe(true);
    expect(logs.at(-1)!.msg).toMatch(/failed after 8 attempts \(HTTP 500\)/);

    // Failed stays failed: nothing more is sent, however late.
    advance(30 * 24 * 3600 * 1000);
    expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    expect(received).toHaveLength(8);
  });

  it.each([503, 429, 408])(
    'retries on %i, then delivers when the receiver recovers',
    async (status) => {
      receive((_, nth) => (nth <= 2 ? { status } : {}));
      await enqueue('pay_1:1');
      const d = dispatcher({ maxAttempts: 3 });
      expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
      expect((await event('pay_1:1')).nextAttemptAt).toEqual(new Date(START.getTime() + 10_000));
      advance(10_000);
      expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
      expect((await event('pay_1:1')).nextAttemptAt).toEqual(new Date(START.getTime() + 70_000));
      advance(60_000);
      expect(await d.deliverDue()).toEqual({ delivered: 1, retrying: 0, failed: 0 });
      const doc = await event('pay_1:1');
      expect(doc.state).toBe('delivered');
      expect(doc.deliveries.map((x) => x.status)).toEqual([status, status, 200]);
    },
  );

  it.each([503, 429, 408])('fails on %i after maxAttempts', async (status) => {
    receive(() => ({ status }));
    await enqueue('pay_1:1');
    const d = dispatcher({ maxAttempts: 2 });
    expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    advance(10_000);
    expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 1 });
    expect(await event('pay_1:1')).toMatchObject({ state: 'failed', attempts: 2 });
  });

  it('retries when the connection is refused, recording the error', async () => {
    await enqueue('pay_1:1');
    const d = dispatcher({ url: `http://127.0.0.1:${await closedPort()}/hooks` });
    expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    const doc = await event('pay_1:1');
    expect(doc).toMatchObject({ state: 'pending', attempts: 1 });
    expect(doc.nextAttemptAt).toEqual(new Date(START.getTime() + 10_000));
    expect(doc.deliveries).toHaveLength(1);
    expect(doc.deliveries[0]!.status).toBeUndefined();
    expect(doc.deliveries[0]!.error).toMatch(/ECONNREFUSED/);
    advance(10_000);
    // The receiver is back: the same dispatcher settings with the right URL deliver it.
    expect(await dispatcher().deliverDue()).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    expect((await event('pay_1:1')).deliveries.map((x) => x.status ?? x.error)).toEqual([
      expect.stringMatching(/ECONNREFUSED/) as string,
      200,
    ]);
  });

  it('gives up on a receiver slower than timeoutMs and retries later', async () => {
    receive((_, nth) => (nth === 1 ? { delayMs: 1500 } : {}));
    await enqueue('pay_1:1');
    const d = dispatcher({ timeoutMs: 300 });
    // The late answer is a 200: only the timeout makes this a retry (no wall-clock assertion).
    expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    const doc = await event('pay_1:1');
    expect(doc.deliveries[0]!.error).toBe('timed out after 300 ms');
    expect(doc.deliveries[0]!.durationMs).toBeGreaterThanOrEqual(250);
    expect(doc.deliveries[0]!.durationMs).toBeLessThan(1200);
    expect(doc.nextAttemptAt).toEqual(new Date(START.getTime() + 10_000));
    advance(10_000);
    expect(await d.deliverDue()).toEqual({ delivered: 1, retrying: 0, failed: 0 });
  });

  it.each([400, 401, 404, 410, 422, 302])(
    'fails at once on %i without retrying, and says so',
    async (status) => {
      receive(() => ({ status }));
      await enqueue('pay_1:1');
      const d = dispatcher();
      expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 1 });
      const doc = await event('pay_1:1');
      expect(doc).toMatchObject({ state: 'failed', attempts: 1 });
      expect(doc.deliveries).toEqual([
        {
          at: START,
          attempt: 1,
          status,
          error: expect.stringMatching(/not retried/) as string,
          durationMs: expect.any(Number) as number,
          redelivery: false,
        },
      ]);
      expect(logs.at(-1)!.msg).toMatch(new RegExp(`${status}.*not retried.*redeliver`));
      advance(24 * 3600 * 1000);
      expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
      expect(received).toHaveLength(1);
    },
  );

  it('keeps the newest 20 attempts in the delivery log', async () => {
    receive(() => ({ status: 502 }));
    await enqueue('pay_1:1');
    const d = dispatcher({ maxAttempts: 25 });
    for (let i = 0; i < 25; i++) {
      await d.deliverDue();
      advance(2 * 3600 * 1000);
    }
    const doc = await event('pay_1:1');
    expect(doc).toMatchObject({ state: 'failed', attempts: 25 });
    expect(doc.deliveries).toHaveLength(20);
    expect(doc.deliveries.map((x) => x.attempt)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 6),
    );
    for (const entry of doc.deliveries) {
      expect(entry).toEqual({
        at: new Date(START.getTime() + (entry.attempt - 1) * 2 * 3600 * 1000),
        attempt: entry.attempt,
        status: 502,
        durationMs: expect.any(Number) as number,
        redelivery: false,
      });
    }
    expect(received).toHaveLength(25);
  });

  it('redelivers on request with isRedelivery true: delivered and failed events alike', async () => {
    receive((id) =>
      id === 'pay_1:2' && received.filter((r) => r.id === id).length === 1 ? { status: 410 } : {},
    );
    await enqueue('pay_1:1');
    advance(1);
    await enqueue('pay_1:2');
    const d = dispatcher();
    expect(await d.deliverDue()).toEqual({ delivered: 1, retrying: 0, failed: 1 });

    advance(60_000);
    expect(await outbox.redeliver('pay_1:1')).toBe(true);
    expect(await outbox.redeliver('pay_1:2')).toBe(true);
    expect(await outbox.redeliver('nope:1')).toBe(false);
    const pending = await event('pay_1:1');
    expect(pending).toMatchObject({
      state: 'pending',
      redelivery: true,
      attempts: 0,
      nextAttemptAt: clock,
    });
    expect(pending.deliveredAt).toBeUndefined();

    expect(await d.deliverDue()).toEqual({ delivered: 2, retrying: 0, failed: 0 });
    expect(received.map((r) => [r.id, r.json.isRedelivery, r.verified])).toEqual([
      ['pay_1:1', false, true],
      ['pay_1:2', false, true],
      ['pay_1:1', true, true],
      ['pay_1:2', true, true],
    ]);
    // The same event: same id, createdAt and data; only isRedelivery and the signature differ.
    expect({ ...received[2]!.json, isRedelivery: false }).toEqual(received[0]!.json);
    for (const id of ['pay_1:1', 'pay_1:2']) {
      const doc = await event(id);
      expect(doc).toMatchObject({ state: 'delivered', attempts: 1, deliveredAt: clock });
      expect(doc.deliveries.map((x) => [x.attempt, x.redelivery])).toEqual([
        [1, false],
        [1, true],
      ]);
    }
  });

  it('sends a redelivery requested while an attempt is in flight, after that attempt', async () => {
    let arrived: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    receive((_, nth) => {
      if (nth === 1) {
        arrived();
        return { delayMs: 300 };
      }
      return {};
    });
    await enqueue('pay_1:1');
    const d = dispatcher();
    const first = d.deliverDue();
    await inFlight;
    expect(await outbox.redeliver('pay_1:1')).toBe(true);
    // A second replica must not send it while the first attempt is still out.
    expect(await dispatcher().deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    // That attempt's 200 did not settle the redelivery request: the same loop, having released
    // its lock, takes the event again and sends the redelivery.
    expect(await first).toEqual({ delivered: 2, retrying: 0, failed: 0 });
    expect(received.map((r) => r.json.isRedelivery)).toEqual([false, true]);
    expect(logs.map((l) => l.msg)).toContain(
      'webhook attempt logged only: a redelivery was requested while it was in flight',
    );
    expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    const doc = await event('pay_1:1');
    expect(doc.state).toBe('delivered');
    expect(doc.deliveries.map((x) => x.redelivery)).toEqual([false, true]);
  });

  it('delivers each of 30 events exactly once with two replicas dispatching concurrently', async () => {
    receive(() => ({ delayMs: 5 }));
    for (let i = 0; i < 30; i++) {
      // Thirty payments: one payment's events go one after another (see the order tests).
      await enqueue(`pay_${i}:1`, { i }, `pay_${i}`);
      advance(1);
    }
    const replicaOutbox = new WebhookOutbox((await connect()).db(db.databaseName), now);
    const replicas = [dispatcher(), dispatcher({ outbox: replicaOutbox })];
    // Each replica runs three overlapping loops, as timers on a busy process might.
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => replicas[i % 2]!.deliverDue(100)),
    );
    expect(results.reduce((sum, r) => sum + r.delivered, 0)).toBe(30);
    expect(results.every((r) => r.retrying === 0 && r.failed === 0)).toBe(true);
    // Both replicas took part.
    expect(results.filter((r, i) => i % 2 === 0).some((r) => r.delivered > 0)).toBe(true);
    expect(results.filter((r, i) => i % 2 === 1).some((r) => r.delivered > 0)).toBe(true);

    const perId = new Map<string, number>();
    for (const r of received) perId.set(r.id, (perId.get(r.id) ?? 0) + 1);
    expect(perId.size).toBe(30);
    expect([...perId.values()].every((n) => n === 1)).toBe(true);
    expect(received.every((r) => r.verified)).toBe(true);
    const docs = await outbox.collection.find().toArray();
    expect(docs.every((doc) => doc.state === 'delivered' && doc.deliveries.length === 1)).toBe(
      true,
    );
  });

  it('does not let one failing event hold up the others in the same call', async () => {
    const behaviour: Record<string, { status?: number; delayMs?: number }> = {
      'pay_1:1': { status: 500 },
      'pay_1:2': { delayMs: 1000 },
      'pay_1:3': { status: 400 },
      'pay_1:4': {},
      'pay_1:5': { status: 503 },
      'pay_1:6': {},
    };
    receive((id) => behaviour[id] ?? {});
    // Each on its own payment: events of one payment wait for each other (see the order test).
    for (const [i, id] of Object.keys(behaviour).entries()) {
      await enqueue(id, undefined, `pay_${i}`);
      advance(1);
    }
    expect(await dispatcher({ timeoutMs: 300 }).deliverDue()).toEqual({
      delivered: 2,
      retrying: 3,
      failed: 1,
    });
    const states = Object.fromEntries(
      (await outbox.collection.find().toArray()).map((doc) => [doc._id, doc.state]),
    );
    expect(states).toEqual({
      'pay_1:1': 'pending',
      'pay_1:2': 'pending',
      'pay_1:3': 'failed',
      'pay_1:4': 'delivered',
      'pay_1:5': 'pending',
      'pay_1:6': 'delivered',
    });
  });

  it('holds a later event of a payment until the earlier one is delivered, other payments go on', async () => {
    // pay_1:1 fails twice (503), then the receiver recovers.
    receive((id, nth) => (id === 'pay_1:1' && nth <= 2 ? { status: 503 } : {}));
    await enqueue('pay_1:1');
    advance(1);
    await enqueue('pay_1:2');
    advance(1);
    await enqueue('pay_2:1', undefined, 'pay_2');
    const d = dispatcher();
    expect(await d.deliverDue()).toEqual({ delivered: 1, retrying: 1, failed: 0 });
    expect(received.map((r) => r.id)).toEqual(['pay_1:1', 'pay_2:1']);
    expect((await event('pay_1:2')).attempts).toBe(0);
    advance(10_000);
    expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    advance(60_000);
    expect(await d.deliverDue()).toEqual({ delivered: 2, retrying: 0, failed: 0 });
    expect(received.map((r) => r.id)).toEqual([
      'pay_1:1',
      'pay_2:1',
      'pay_1:1',
      'pay_1:1',
      'pay_1:2',
    ]);
  });

  it('lets the later event go once the earlier one is given up', async () => {
    receive((id) => (id === 'pay_1:1' ? { status: 500 } : {}));
    await enqueue('pay_1:1');
    advance(1);
    await enqueue('pay_1:2');
    const d = dispatcher({ maxAttempts: 2 });
    expect(await d.deliverDue()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    advance(10_000);
    expect(await d.deliverDue()).toEqual({ delivered: 1, retrying: 0, failed: 1 });
    expect(received.map((r) => r.id)).toEqual(['pay_1:1', 'pay_1:1', 'pay_1:2']);
  });

  it('keeps retrying for at least 3 days by default, within maxAttempts', async () => {
    receive(() => ({ status: 500 }));
    await enqueue('pay_1:1');
    const d = dispatcher({ maxAttempts: 12, retryWindowSeconds: undefined });
    let failed = 0;
    while (failed === 0) {
      const doc = await event('pay_1:1');
      clock = doc.nextAttemptAt;
      failed = (await d.deliverDue()).failed;
    }
    expect(received).toHaveLength(12);
    expect(clock.getTime() - START.getTime()).toBeGreaterThanOrEqual(3 * 24 * 3600 * 1000);
    // The quick retries come first.
    const doc = await event('pay_1:1');
    expect(doc.deliveries[1]!.at.getTime() - doc.deliveries[0]!.at.getTime()).toBe(10_000);
  });

  it('respects the limit per call', async () => {
    for (let i = 1; i <= 5; i++) await enqueue(`pay_1:${i}`);
    expect(await dispatcher().deliverDue(2)).toEqual({ delivered: 2, retrying: 0, failed: 0 });
    expect(await dispatcher().deliverDue(10)).toEqual({ delivered: 3, retrying: 0, failed: 0 });
  });

  it('never stores or logs the secret, nor the URL credentials and query', async () => {
    const behaviour: Record<string, { status?: number; delayMs?: number }> = {
      'pay_1:1': {},
      'pay_1:2': { status: 400 },
      'pay_1:3': { status: 500 },
      'pay_1:4': { delayMs: 1000 },
    };
    receive((id) => behaviour[id] ?? {});
    for (const [i, id] of Object.keys(behaviour).entries()) {
      await enqueue(id, { id, secretLooking: false }, `pay_${i}`);
    }
    const url = new URL(stub.url);
    const withCredentials = `http://hookuser:hookpass@${url.host}/hooks?token=querytoken123`;
    const result = await dispatcher({ url: withCredentials, timeoutMs: 300 }).deliverDue();
    expect(result).toEqual({ delivered: 1, retrying: 2, failed: 1 });
    await enqueue('pay_1:5');
    await dispatcher({
      url: `http://127.0.0.1:${await closedPort()}/?token=querytoken123`,
    }).deliverDue();

    const stored = JSON.stringify(await outbox.collection.find().toArray());
    const logged = JSON.stringify(logs);
    expect(stored).toMatch(/ECONNREFUSED/);
    expect(stored).toMatch(/timed out/);
    expect(logged).toMatch(/not retried/);
    for (const text of [stored, logged]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('hookpass');
      expect(text).not.toContain('querytoken123');
      expect(text).not.toMatch(/v1=[0-9a-f]{64}/);
    }
  });
});
