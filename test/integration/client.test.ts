/**
 * The typed client (`satwatch/client`) against a daemon on the lab: a real HTTP listener, the
 * MongoDB wire server, and regtest coins for the balance.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Payment,
  SatwatchApiError,
  type SatwatchClient,
  createSatwatchClient,
  verifyWebhook,
} from '../../src/client/index.js';
import { LabClient } from '../lab/client.js';
import { type TestDaemon, listen, startTestDaemon, stopTestDaemon } from '../support/daemon.js';
import { type HttpStub, startHttpStub } from '../support/http-stub.js';

let d: TestDaemon;
let lab: LabClient;
let client: SatwatchClient;
let baseUrl: string;

beforeAll(async () => {
  lab = LabClient.fromState();
  d = await startTestDaemon({ SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '100000' });
  baseUrl = await listen(d.app);
  client = createSatwatchClient({ baseUrl, apiKey: d.merchantKey });
});
afterAll(() => stopTestDaemon(d));

const run = Date.now().toString(36);

async function refusal(promise: Promise<unknown>): Promise<SatwatchApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SatwatchApiError);
  return err as SatwatchApiError;
}

describe('payments through the client', () => {
  it('creates an order payment, replays it with the same Idempotency-Key, and reads it back', async () => {
    const input = {
      userId: `client-${run}`,
      price: { amount: '25000', currency: 'SAT' },
      credits: 5,
      orderId: `client-order-${run}`,
      metadata: { cart: 'c-1' },
      redirectUrl: 'https://shop.example/thanks',
    };
    const created = await client.createPayment(input, { idempotencyKey: `k-${run}` });
    expect(created).toMatchObject({
      status: 'pending',
      amountSats: 25_000,
      orderId: input.orderId,
      metadata: { cart: 'c-1' },
    });
    const replayed = await client.createPayment(input, { idempotencyKey: `k-${run}` });
    expect(replayed.id).toBe(created.id);
    expect((await client.getPayment(created.id)).address).toBe(created.address);
  });

  it('surfaces refusals as SatwatchApiError with our code and field', async () => {
    const orderId = `taken-${run}`;
    const body = { userId: 'c', price: { amount: '25000', currency: 'SAT' }, credits: 1, orderId };
    await client.createPayment(body);
    const taken = await refusal(client.createPayment(body));
    expect(taken).toMatchObject({ status: 409, code: 'order_id_taken', field: 'orderId' });
    const bad = await refusal(client.createPayment({ ...body, orderId: undefined, credits: 0 }));
    expect(bad).toMatchObject({ status: 400, code: 'invalid_request', field: 'credits' });
    expect((await refusal(client.getPayment('pay_nope'))).status).toBe(404);
    const stranger = createSatwatchClient({ baseUrl, apiKey: 'sw_not-a-key' });
    expect(await refusal(stranger.getPayment('pay_nope'))).toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
  });

  it('lists with filters, pages with the cursor, and walks every page', async () => {
    const userId = `lister-${run}`;
    const made: Payment[] = [];
    for (let i = 0; i < 3; i++)
      made.push(
        await client.createPayment({
          userId,
          price: { amount: '25000', currency: 'SAT' },
          credits: 1,
        }),
      );
    const first = await client.listPayments({ userId, limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const all: string[] = [];
    for await (const p of client.payments({ userId, limit: 2 })) all.push(p.id);
    expect(all).toEqual(made.map((p) => p.id).reverse());

    await client.cancelPayment(made[0]!.id);
    const cancelled = await client.listPayments({ userId, status: 'cancelled' });
    expect(cancelled.items.map((p) => p.id)).toEqual([made[0]!.id]);
  });

  it('cancels an unpaid payment idempotently, and refuses one that was paid', async () => {
    const p = await client.createPayment({
      userId: `cancel-${run}`,
      price: { amount: '25000', currency: 'SAT' },
      credits: 1,
    });
    const once = await client.cancelPayment(p.id);
    expect(once.status).toBe('cancelled');
    expect(await client.cancelPayment(p.id)).toEqual(once);

    const paid = await client.createPayment({
      userId: `cancel-${run}`,
      price: { amount: '25000', currency: 'SAT' },
      credits: 1,
    });
    await lab.pay(paid.address, 25_000);
    await d.watcher.runCycle();
    expect(await refusal(client.cancelPayment(paid.id))).toMatchObject({
      status: 409,
      code: 'payment_not_cancellable',
    });
  }, 60_000);
});

describe('balances through the client', () => {
  it('reads a balance credited by a real payment, and debits it once per Idempotency-Key', async () => {
    const userId = `spender-${run}`;
    const p = await client.createPayment({
      userId,
      price: { amount: '30000', currency: 'SAT' },
      credits: 7,
    });
    expect((await client.balance(userId)).balance).toBe(0);
    await lab.pay(p.address, 30_000);
    await lab.mine(3);
    await d.watcher.runCycle();
    expect((await client.getPayment(p.id)).status).toBe('confirmed');
    expect((await client.balance(userId)).balance).toBe(7);

    const debit = { amount: 5, reason: 'one export' };
    const entry = await client.debit(userId, debit, { idempotencyKey: `d-${run}` });
    expect(entry).toMatchObject({ type: 'debit', amount: -5, balanceAfter: 2 });
    const again = await client.debit(userId, debit, { idempotencyKey: `d-${run}` });
    expect(again.id).toBe(entry.id);
    expect((await client.balance(userId)).balance).toBe(2);
    const over = await refusal(client.debit(userId, debit, { idempotencyKey: `d2-${run}` }));
    expect(over).toMatchObject({ status: 409, code: 'insufficient_balance' });
  }, 60_000);
});

describe('webhook endpoints through the client', () => {
  let hooked: TestDaemon;
  let receiver: HttpStub;
  let hooks: SatwatchClient;

  beforeAll(async () => {
    receiver = await startHttpStub(() => ({ body: '' }));
    // The receiver listens on loopback, which only this setting allows.
    hooked = await startTestDaemon({ SATWATCH_WEBHOOK_ALLOW_PRIVATE_URLS: 'true' });
    hooks = createSatwatchClient({ baseUrl: await listen(hooked.app), apiKey: hooked.merchantKey });
  });
  afterAll(async () => {
    await stopTestDaemon(hooked);
    await receiver.close();
  });

  it('creates, filters, delivers, rotates and deletes an endpoint, and verifies what it received', async () => {
    const created = await hooks.createWebhook({
      url: `${receiver.url}/hooks`,
      events: ['payment.cancelled'],
      description: 'order system',
    });
    expect(created.secret).toMatch(/^whsec_/);
    const listed = await hooks.listWebhooks();
    expect(listed.items.map((e) => e.id)).toContain(created.id);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(await hooks.updateWebhook(created.id, { description: 'orders' })).toMatchObject({
      id: created.id,
      description: 'orders',
      events: ['payment.cancelled'],
      enabled: true,
    });

    const payment = await hooks.createPayment({
      userId: `hooked-${run}`,
      price: { amount: '20000', currency: 'SAT' },
      credits: 1,
    });
    await hooks.cancelPayment(payment.id);
    await hooked.settlement.publishOutbox(payment.id);
    expect(hooked.dispatcher).toBeDefined();
    await hooked.dispatcher!.deliverDue();
    expect(receiver.requests).toHaveLength(1);
    const delivery = receiver.requests[0]!;
    const verified = verifyWebhook(delivery.headers, delivery.body, created.secret);
    expect(verified).toMatchObject({ type: 'payment.cancelled' });
    expect(() =>
      verifyWebhook(delivery.headers, delivery.body, `whsec_${'A'.repeat(43)}=`),
    ).toThrow();

    const deliveries = await hooks.listWebhookDeliveries(created.id);
    expect(deliveries.items).toHaveLength(1);
    await hooks.redeliverWebhook(created.id, deliveries.items[0]!.id);

    const rotated = await hooks.rotateWebhookSecret(created.id, { overlapSeconds: 0 });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);

    await hooks.deleteWebhook(created.id);
    expect(await refusal(hooks.getWebhook(created.id))).toMatchObject({
      status: 404,
      code: 'not_found',
    });
  }, 120_000);

  it('refuses a bad endpoint with our error shape, naming the field', async () => {
    const err = await refusal(hooks.createWebhook({ url: 'not a url' }));
    expect(err).toMatchObject({ status: 400, field: 'url' });
  });
});
