/**
 * Payments as orders through the merchant API, on the lab's MongoDB wire server: order ids,
 * metadata and redirect URLs stored and shown everywhere, the filtered list, and cancelling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentNotCancellableError, cancelPayment } from '../../src/payments/cancellation.js';
import type { Payment } from '../../src/payments/payment.js';
import { PaymentRepository } from '../../src/storage/payments.js';
import type { WebhookEvent } from '../../src/webhooks/outbox.js';
import { type TestDaemon, startTestDaemon, stopTestDaemon } from '../support/daemon.js';

let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon({ SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '100000' });
});
afterAll(() => stopTestDaemon(d));

interface PaymentJson {
  id: string;
  status: string;
  userId: string;
  orderId?: string;
  metadata?: Record<string, unknown>;
  redirectUrl?: string;
  createdAt: string;
  cancelledAt?: string;
}

interface ErrorJson {
  error: string;
  message: string;
  field?: string;
}

let seq = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${seq++}`;

function create(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return d.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: { ...d.merchant, ...headers },
    payload: { price: { amount: '20000', currency: 'SAT' }, credits: 1, ...body },
  });
}

async function created(body: Record<string, unknown>): Promise<PaymentJson> {
  const res = await create(body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PaymentJson>();
}

const get = (url: string, headers = d.merchant) => d.app.inject({ method: 'GET', url, headers });
const cancel = (id: string) =>
  d.app.inject({ method: 'POST', url: `/v1/payments/${id}/cancel`, headers: d.merchant });

describe('order fields', () => {
  it('stores orderId, metadata and redirectUrl and shows them to the merchant, the admin and the webhook', async () => {
    const orderId = unique('order');
    const metadata = { cart: { items: [{ sku: 'tee-l', qty: 2 }] }, channel: 'web' };
    const p = await created({
      userId: 'order-fields',
      orderId,
      metadata,
      redirectUrl: 'https://shop.example/orders/42',
    });
    expect(p).toMatchObject({ orderId, metadata, redirectUrl: 'https://shop.example/orders/42' });
    expect((await get(`/v1/payments/${p.id}`)).json()).toMatchObject({ orderId, metadata });
    expect((await get(`/v1/admin/payments/${p.id}`, d.admin)).json()).toMatchObject({
      orderId,
      metadata,
      redirectUrl: 'https://shop.example/orders/42',
    });
    // The payer sees where to go back to, and nothing else of the order.
    const status = (await get(`/pay/${p.id}/status`, {} as typeof d.merchant)).json<
      Record<string, unknown>
    >();
    expect(status.redirectUrl).toBe('https://shop.example/orders/42');
    expect(status).not.toHaveProperty('orderId');
    expect(status).not.toHaveProperty('metadata');

    // Webhook payloads carry the merchant view (a cancel makes one right away).
    expect((await cancel(p.id)).statusCode).toBe(200);
    await d.settlement.publishOutbox(p.id);
    const events = await d.mongo.db
      .collection<WebhookEvent>('webhook_events')
      .find({ paymentId: p.id })
      .toArray();
    expect(events.map((e) => e.type)).toEqual(['payment.cancelled']);
    expect(events[0]?.data).toMatchObject({
      payment: { id: p.id, status: 'cancelled', orderId, metadata },
    });
  });

  it('refuses a second payment with the same orderId (409 naming orderId) and writes nothing', async () => {
    const orderId = unique('dup');
    await created({ userId: 'dup-order', orderId });
    const res = await create({ userId: 'dup-order', orderId });
    expect(res.statusCode).toBe(409);
    expect(res.json<ErrorJson>()).toMatchObject({ error: 'order_id_taken', field: 'orderId' });
    const all = await d.mongo.db.collection('payments').countDocuments({ orderId });
    expect(all).toBe(1);
  });

  it('replays a retried create with the same Idempotency-Key and orderId', async () => {
    const orderId = unique('retry');
    const headers = { 'idempotency-key': unique('key') };
    const first = await create({ userId: 'retry-order', orderId }, headers);
    const second = await create({ userId: 'retry-order', orderId }, headers);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.json<PaymentJson>().id).toBe(first.json<PaymentJson>().id);
  });

  it('gives each of concurrent creates with one orderId and no key a clear answer: one payment', async () => {
    const orderId = unique('race');
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => create({ userId: 'race-order', orderId })),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409, 409, 409]);
  });

  it.each([
    [{ metadata: { blob: 'x'.repeat(5000) } }, 'metadata'],
    [{ metadata: { a: { b: { c: { d: { e: 1 } } } } } }, 'metadata'],
    [{ metadata: { 'a.b': 1 } }, 'metadata.a.b'],
    [{ metadata: ['not', 'an', 'object'] }, 'metadata'],
    [{ redirectUrl: 'http://shop.example/back' }, 'redirectUrl'],
    [{ redirectUrl: 'not a url' }, 'redirectUrl'],
    [{ orderId: '' }, 'orderId'],
    [{ orderId: 'x'.repeat(101) }, 'orderId'],
    [{ orderId: 'tab\there' }, 'orderId'],
  ])('refuses bad order fields %j with 400 naming %s, writing nothing', async (body, field) => {
    const before = await d.mongo.db.collection('payments').countDocuments();
    const res = await create({ userId: 'bad-order', ...body });
    expect(res.statusCode).toBe(400);
    expect(res.json<ErrorJson>()).toMatchObject({ error: 'invalid_request', field });
    expect(await d.mongo.db.collection('payments').countDocuments()).toBe(before);
  });
});

describe('GET /v1/payments with filters', () => {
  const user = unique('lister');
  let made: PaymentJson[] = [];

  beforeAll(async () => {
    made = [];
    for (let i = 0; i < 5; i++)
      made.push(await created({ userId: user, orderId: unique(`list-${i}`) }));
    expect((await cancel(made[1]!.id)).statusCode).toBe(200);
    expect((await cancel(made[3]!.id)).statusCode).toBe(200);
  });

  const list = async (query: string) => {
    const res = await get(`/v1/payments?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: PaymentJson[]; nextCursor: string | null }>();
  };

  it("still lists a user's payments newest first with userId alone", async () => {
    const page = await list(`userId=${user}`);
    expect(page.items.map((p) => p.id)).toEqual(made.map((p) => p.id).reverse());
  });

  it('finds a payment by orderId', async () => {
    const page = await list(`orderId=${made[2]!.orderId}`);
    expect(page.items.map((p) => p.id)).toEqual([made[2]!.id]);
  });

  it('combines status and userId', async () => {
    const page = await list(`userId=${user}&status=cancelled`);
    expect(page.items.map((p) => p.id)).toEqual([made[3]!.id, made[1]!.id]);
    const pending = await list(`userId=${user}&status=pending`);
    expect(pending.items.map((p) => p.id)).toEqual([made[4]!.id, made[2]!.id, made[0]!.id]);
  });

  it('filters by creation time, createdFrom inclusive and createdTo exclusive', async () => {
    const from = made[1]!.createdAt;
    const to = made[3]!.createdAt;
    const page = await list(
      `userId=${user}&createdFrom=${encodeURIComponent(from)}&createdTo=${encodeURIComponent(to)}`,
    );
    const expected = made.filter((p) => p.createdAt >= from && p.createdAt < to).map((p) => p.id);
    expect(page.items.map((p) => p.id)).toEqual(expected.reverse());
    expect(page.items.length).toBeGreaterThan(0);
  });

  it('pages through the filtered list with the cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: PaymentJson[]; nextCursor: string | null } = await list(
        `userId=${user}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(made.map((p) => p.id).reverse());
  });

  it('lists without any filter', async () => {
    const page = await list('limit=100');
    expect(page.items.map((p) => p.id)).toEqual(expect.arrayContaining(made.map((p) => p.id)));
  });

  it.each([
    ['status=paid', 'status'],
    ['createdFrom=yesterday', 'createdFrom'],
    ['createdFrom=2026-05-02&createdTo=2026-05-01', 'createdFrom'],
    ['orderId=', 'orderId'],
    ['cursor=nonsense', 'cursor'],
    ['color=red', 'color'],
  ])('refuses %s with 400 naming %s', async (query, field) => {
    const res = await get(`/v1/payments?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json<ErrorJson>().field).toBe(field);
  });
});

describe('POST /v1/payments/:id/cancel', () => {
  it('cancels a pending payment, and cancelling again answers the same without a second event', async () => {
    const p = await created({ userId: 'canceller' });
    const first = await cancel(p.id);
    expect(first.statusCode).toBe(200);
    const body = first.json<PaymentJson>();
    expect(body).toMatchObject({ id: p.id, status: 'cancelled' });
    expect(body.cancelledAt).toBeDefined();
    const again = await cancel(p.id);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(body);
    const admin = (await get(`/v1/admin/payments/${p.id}`, d.admin)).json<{
      events: { type: string; to?: string; actor?: string }[];
    }>();
    const cancels = admin.events.filter((e) => e.to === 'cancelled');
    expect(cancels).toEqual([expect.objectContaining({ actor: 'merchant-test' })]);
    // The checkout shows it as cancelled.
    const status = (await get(`/pay/${p.id}/status`, {} as typeof d.merchant)).json<{
      status: string;
    }>();
    expect(status.status).toBe('cancelled');
  });

  it('loses a race with a watcher write that saw money: 409, and the money stays counted', async () => {
    const p = await created({ userId: 'cancel-race' });
    const payments = d.mongo.db.collection<Payment>('payments');
    // The watcher records an output between the cancel's read and its guarded write.
    const repo = new PaymentRepository(d.mongo.db);
    const read = repo.findById.bind(repo);
    let raced = false;
    repo.findById = async (id) => {
      const seen = await read(id);
      if (seen && !raced) {
        raced = true;
        await payments.updateOne(
          { _id: id },
          { $set: { status: 'confirming', receivedSats: 20_000 }, $inc: { version: 1 } },
        );
      }
      return seen;
    };
    const attempt = repo.applyDecided(p.id, (current) =>
      cancelPayment(current, 'merchant-test', new Date()),
    );
    await expect(attempt).rejects.toThrow(PaymentNotCancellableError);
    const after = await payments.findOne({ _id: p.id });
    expect(after).toMatchObject({ status: 'confirming', receivedSats: 20_000 });
    expect(after?.events.some((e) => e.to === 'cancelled')).toBe(false);
  });

  it('answers 404 for an unknown payment', async () => {
    const res = await cancel('pay_doesnotexist');
    expect(res.statusCode).toBe(404);
  });

  it('refuses (409) a payment that has seen money, and changes nothing', async () => {
    const p = await created({ userId: 'cancel-late' });
    await d.mongo.db
      .collection<{ _id: string }>('payments')
      .updateOne({ _id: p.id }, { $set: { status: 'confirming', receivedSats: 500 } });
    const res = await cancel(p.id);
    expect(res.statusCode).toBe(409);
    expect(res.json<ErrorJson>()).toMatchObject({ error: 'payment_not_cancellable' });
    expect((await get(`/v1/payments/${p.id}`)).json<PaymentJson>().status).toBe('confirming');
  });

  it('needs a merchant key', async () => {
    const p = await created({ userId: 'cancel-auth' });
    const none = await d.app.inject({ method: 'POST', url: `/v1/payments/${p.id}/cancel` });
    expect(none.statusCode).toBe(401);
    const admin = await d.app.inject({
      method: 'POST',
      url: `/v1/payments/${p.id}/cancel`,
      headers: d.admin,
    });
    expect(admin.statusCode).toBe(403);
  });
});

describe('the OpenAPI document', () => {
  it('describes the order fields, the list filters and the cancel route', async () => {
    const doc = (await d.ops.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>();
    expect(doc.paths['/v1/payments/{id}/cancel']?.post).toBeDefined();
    const params = doc.paths['/v1/payments']?.get?.parameters?.map((p) => p.name) ?? [];
    expect(params).toEqual(
      expect.arrayContaining(['status', 'orderId', 'userId', 'createdFrom', 'createdTo']),
    );
    const payment = Object.values(doc.components.schemas).find(
      (s) => s.properties?.derivationPath !== undefined && s.properties.watching === undefined,
    );
    expect(Object.keys(payment?.properties ?? {})).toEqual(
      expect.arrayContaining(['orderId', 'metadata', 'redirectUrl', 'cancelledAt']),
    );
  });
});
