/**
 * The watcher end to end on the lab: real payments from the payer wallet, real blocks, the
 * Esplora facade, MongoDB, and a webhook receiver that verifies every signature. Time is a
 * controllable clock so expiry and the monitoring window can be crossed without waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleReport } from '../../src/watcher/payment-watcher.js';
import { verifySignature } from '../../src/webhooks/signature.js';
import { LabClient } from '../lab/client.js';
import {
  type TestDaemon,
  createSatsPayment,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';
import { type HttpStub, startHttpStub } from '../support/http-stub.js';

const SECRET = 'whsec_test_0123456789abcdef0123456789';
let lab: LabClient;
let receiver: HttpStub;
let d: TestDaemon;
let clock: Date;
const received: { id: string; type: string; data: { payment: Record<string, unknown> } }[] = [];

beforeAll(async () => {
  lab = LabClient.fromState();
  receiver = await startHttpStub((req, body) => {
    const header = String(req.headers['satwatch-signature'] ?? '');
    // Signed with the daemon's (test) clock, which jumps ahead across expiries.
    if (!verifySignature(SECRET, header, body, Math.floor(clock.getTime() / 1000)))
      return { status: 401, body: 'bad signature' };
    const event = JSON.parse(body) as (typeof received)[number];
    expect(req.headers['satwatch-event-id']).toBe(event.id);
    received.push(event);
    return { status: 204, body: '' };
  });
  clock = new Date();
  d = await startTestDaemon(
    { SATWATCH_WEBHOOK_URL: receiver.url, SATWATCH_WEBHOOK_SECRET: SECRET },
    { now: () => clock },
  );
});

afterAll(async () => {
  await stopTestDaemon(d);
  await receiver.close();
});

interface PaymentJson {
  id: string;
  address: string;
  status: string;
  receivedSats: number;
  confirmedSats: number;
  confirmations: number;
  late: boolean;
  overpaidSats: number;
  manual: boolean;
  needsReview: boolean;
  creditedCredits: number;
}

const createPayment = (userId: string, sats: number, credits = 5) =>
  createSatsPayment<PaymentJson>(d, userId, sats, credits);

async function payment(id: string): Promise<PaymentJson> {
  return (
    await d.app.inject({ method: 'GET', url: `/v1/payments/${id}`, headers: d.merchant })
  ).json();
}

async function balance(userId: string): Promise<number> {
  return (
    await d.app.inject({ method: 'GET', url: `/v1/users/${userId}/balance`, headers: d.merchant })
  ).json<{ balance: number }>().balance;
}

async function ledger(userId: string) {
  return (
    await d.app.inject({ method: 'GET', url: `/v1/users/${userId}/ledger`, headers: d.merchant })
  ).json<{
    items: { type: string; amount: number; balanceAfter: number; paymentId?: string }[];
  }>().items;
}

/** A watcher cycle, then webhook delivery (the daemon schedules both every interval). */
async function cycle(): Promise<CycleReport> {
  const report = await d.watcher.runCycle();
  expect(report.errors).toBe(0);
  await d.loop.deliverWebhooks();
  return report;
}

/** Webhook types received for a payment; events of one cycle have no defined order, so sorted. */
const eventsFor = (id: string) =>
  received
    .filter((e) => e.data.payment.id === id)
    .map((e) => e.type)
    .sort();

describe('the full path', () => {
  it('goes pending → confirming in one cycle → confirmed and credited once at the third confirmation, with signed webhooks', async () => {
    const p = await createPayment('full-path', 50_000, 5);
    await lab.pay(p.address, 50_000);
    await cycle();
    expect(await payment(p.id)).toMatchObject({
      status: 'confirming',
      receivedSats: 50_000,
      confirmations: 0,
    });

    await lab.mine(1);
    await cycle();
    expect(await payment(p.id)).toMatchObject({ status: 'confirming', confirmations: 1 });
    await lab.mine(1);
    await cycle();
    expect((await payment(p.id)).status).toBe('confirming');
    expect(await balance('full-path')).toBe(0);

    await lab.mine(1);
    const report = await cycle();
    expect(report.credited).toBe(1);
    expect(await payment(p.id)).toMatchObject({
      status: 'confirmed',
      confirmations: 3,
      confirmedSats: 50_000,
      creditedCredits: 5,
    });
    expect(await balance('full-path')).toBe(5);
    expect(await ledger('full-path')).toEqual([
      expect.objectContaining({ type: 'credit', amount: 5, balanceAfter: 5, paymentId: p.id }),
    ]);

    // More cycles, more blocks: nothing is credited again.
    await lab.mine(1);
    await cycle();
    await cycle();
    expect(await balance('full-path')).toBe(5);
    expect(await ledger('full-path')).toHaveLength(1);
    expect(eventsFor(p.id)).toEqual(['payment.confirmed', 'payment.confirming']);
  });
});

describe('amounts', () => {
  it('adds a top-up to a partial payment, and the checkout shows what is still due', async () => {
    const p = await createPayment('partial', 40_000);
    await lab.pay(p.address, 15_000);
    await cycle();
    const status = (await d.app.inject({ method: 'GET', url: `/pay/${p.id}/status` })).json<{
      receivedSats: number;
      dueSats: number;
      status: string;
    }>();
    expect(status).toMatchObject({ status: 'confirming', receivedSats: 15_000, dueSats: 25_000 });
    await lab.pay(p.address, 25_000);
    await lab.mine(3);
    await cycle();
    expect(await payment(p.id)).toMatchObject({ status: 'confirmed', receivedSats: 40_000 });
    expect(await balance('partial')).toBe(5);
  });

  it('records an overpayment and credits the package', async () => {
    const p = await createPayment('over', 30_000);
    await lab.pay(p.address, 45_000);
    await lab.mine(3);
    await cycle();
    expect(await payment(p.id)).toMatchObject({
      status: 'confirmed',
      overpaidSats: 15_000,
      creditedCredits: 5,
    });
  });
});

describe('expiry', () => {
  const pastExpiry = () => {
    clock = new Date(clock.getTime() + 62 * 60_000);
  };

  it('marks a payment underpaid at expiry when too little arrived', async () => {
    const p = await createPayment('short', 60_000);
    await lab.pay(p.address, 20_000);
    await lab.mine(3);
    await cycle();
    pastExpiry();
    await cycle();
    expect(await payment(p.id)).toMatchObject({ status: 'underpaid', receivedSats: 20_000 });
    expect(eventsFor(p.id)).toEqual(['payment.confirming', 'payment.underpaid']);
    expect(await balance('short')).toBe(0);
  });

  it('expires a payment nothing was paid to', async () => {
    const p = await createPayment('nothing', 10_000);
    await cycle();
    pastExpiry();
    await cycle();
    expect((await payment(p.id)).status).toBe('expired');
    expect(eventsFor(p.id)).toEqual(['payment.expired']);
  });

  it('credits a late payment inside the monitoring window, flagged late', async () => {
    const p = await createPayment('late', 25_000);
    pastExpiry();
    await cycle();
    expect((await payment(p.id)).status).toBe('expired');
    await lab.pay(p.address, 25_000);
    await lab.mine(3);
    await cycle();
    expect(await payment(p.id)).toMatchObject({
      status: 'confirmed',
      late: true,
      creditedCredits: 5,
    });
    expect(await balance('late')).toBe(5);
    expect(eventsFor(p.id)).toEqual(['payment.confirmed', 'payment.expired', 'payment.late']);
  });
});

describe('transactions that go away', () => {
  it('drops a replaced (RBF) transaction and falls back to pending', async () => {
    const p = await createPayment('rbf', 20_000);
    const { txid } = await lab.pay(p.address, 20_000);
    await cycle();
    expect((await payment(p.id)).status).toBe('confirming');
    await lab.replace(txid); // the money goes back to the payer instead
    await cycle();
    expect(await payment(p.id)).toMatchObject({ status: 'pending', receivedSats: 0 });
    const detail = (
      await d.app.inject({ method: 'GET', url: `/v1/admin/payments/${p.id}`, headers: d.admin })
    ).json<{ events: { type: string; cause: string }[] }>();
    expect(detail.events.find((e) => e.type === 'output_dropped')?.cause).toContain(txid);
  });

  it('rolls back confirmations on a reorg before crediting', async () => {
    const p = await createPayment('reorg-early', 20_000);
    await lab.pay(p.address, 20_000);
    const [block] = await lab.mine(1);
    await cycle();
    expect(await payment(p.id)).toMatchObject({ status: 'confirming', confirmations: 1 });
    await lab.invalidateBlock(block!);
    try {
      await cycle();
      expect(await payment(p.id)).toMatchObject({
        status: 'confirming',
        confirmations: 0,
        confirmedSats: 0,
      });
    } finally {
      await lab.reconsiderBlock(block!);
    }
  });

  it('flags a credited payment for review when a reorg takes its transaction away, debiting nobody', async () => {
    const p = await createPayment('reorg-late', 20_000);
    await lab.pay(p.address, 20_000);
    const [block] = await lab.mine(3);
    await cycle();
    expect(await payment(p.id)).toMatchObject({ status: 'confirmed', creditedCredits: 5 });
    await lab.invalidateBlock(block!);
    try {
      await cycle();
      expect(await payment(p.id)).toMatchObject({
        status: 'confirmed',
        needsReview: true,
        confirmedSats: 0,
      });
      expect(await balance('reorg-late')).toBe(5);
      expect(await ledger('reorg-late')).toHaveLength(1);
      expect(eventsFor(p.id)).toContain('payment.needs_review');
    } finally {
      await lab.reconsiderBlock(block!);
    }
  });
});

describe('manual confirmation', () => {
  const confirm = (id: string, body: object) =>
    d.app.inject({
      method: 'POST',
      url: `/v1/admin/payments/${id}/confirm`,
      headers: d.admin,
      payload: body,
    });

  it('re-checks the chain now without force', async () => {
    const p = await createPayment('recheck', 20_000);
    await lab.pay(p.address, 20_000);
    await lab.mine(3);
    const res = await confirm(p.id, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'confirmed', manual: false, creditedCredits: 5 });
    expect(await balance('recheck')).toBe(5);
  });

  it('confirms and credits by force with a reason, once, recorded with the admin key id', async () => {
    const p = await createPayment('forced', 20_000);
    const res = await confirm(p.id, { force: true, reason: 'paid by bank transfer' });
    expect(res.statusCode).toBe(200);
    const detail = res.json<{
      manual: boolean;
      status: string;
      credit: { manual: { by: string; reason: string } };
      events: { type: string; actor?: string }[];
    }>();
    expect(detail).toMatchObject({
      status: 'confirmed',
      manual: true,
      credit: { manual: { by: 'admin-test', reason: 'paid by bank transfer' } },
    });
    expect(detail.events.find((e) => e.type === 'manual_confirm')?.actor).toBe('admin-test');
    expect((await confirm(p.id, { force: true, reason: 'again' })).statusCode).toBe(409);
    await cycle();
    expect(await balance('forced')).toBe(5);
    expect(eventsFor(p.id)).toEqual(
      expect.arrayContaining(['payment.manually_confirmed', 'payment.confirmed']),
    );
  });

  it('credits exactly once when a forced confirmation races the watcher', async () => {
    for (let i = 0; i < 5; i++) {
      const user = `race-${i}`;
      const p = await createPayment(user, 20_000);
      await lab.pay(p.address, 20_000);
      await lab.mine(3);
      const [, forced] = await Promise.all([
        d.watcher.runCycle(),
        confirm(p.id, { force: true, reason: 'race test' }),
      ]);
      expect([200, 409]).toContain(forced.statusCode);
      await cycle();
      expect(await balance(user)).toBe(5);
      expect(await ledger(user)).toHaveLength(1);
    }
  });

  it('refuses force without a reason, an unknown payment, and a merchant key', async () => {
    const p = await createPayment('refusals', 20_000);
    expect((await confirm(p.id, { force: true })).json()).toMatchObject({ field: 'reason' });
    expect((await confirm('pay_nope', { force: true, reason: 'no such payment' })).statusCode).toBe(
      404,
    );
    const asMerchant = await d.app.inject({
      method: 'POST',
      url: `/v1/admin/payments/${p.id}/confirm`,
      headers: d.merchant,
      payload: {},
    });
    expect(asMerchant.statusCode).toBe(403);
    expect(
      (await confirm(p.id, { force: 'yes', reason: 'a string, not a flag' })).json(),
    ).toMatchObject({
      field: 'force',
    });
    expect(
      await d.mongo.db.collection('payments').countDocuments({ _id: p.id as never, manual: true }),
    ).toBe(0);
  });
});

describe('admin listing', () => {
  it('filters by status, user and flags, at most 100 a page', async () => {
    const list = (qs: string) =>
      d.app.inject({ method: 'GET', url: `/v1/admin/payments?${qs}`, headers: d.admin });
    const confirmed = (await list('status=confirmed&limit=100')).json<{
      items: { status: string }[];
    }>();
    expect(confirmed.items.length).toBeGreaterThan(0);
    expect(confirmed.items.every((p) => p.status === 'confirmed')).toBe(true);
    const late = (await list('late=true')).json<{ items: { userId: string; late: boolean }[] }>();
    expect(late.items.map((p) => p.userId)).toContain('late');
    expect(
      (await list('userId=forced')).json<{ items: { manual: boolean }[] }>().items[0]?.manual,
    ).toBe(true);
    expect((await list('limit=101')).json()).toMatchObject({ field: 'limit' });
    expect((await list('status=paid')).json()).toMatchObject({ field: 'status' });
    expect((await list('from=yesterday')).json()).toMatchObject({ field: 'from' });
  });
});

describe('late payments under the review policy', () => {
  it('records late money and holds it for review instead of crediting, until an admin confirms', async () => {
    let reviewClock = new Date();
    const strict = await startTestDaemon(
      { SATWATCH_PAYMENTS_LATE_PAYMENTS: 'review' },
      { now: () => reviewClock },
    );
    try {
      const created = (
        await strict.app.inject({
          method: 'POST',
          url: '/v1/payments',
          headers: strict.merchant,
          payload: { userId: 'reviewed', price: { amount: '25000', currency: 'SAT' }, credits: 5 },
        })
      ).json<PaymentJson>();
      reviewClock = new Date(reviewClock.getTime() + 62 * 60_000);
      await strict.watcher.runCycle();
      await lab.pay(created.address, 25_000);
      await lab.mine(3);
      await strict.watcher.runCycle();
      const held = (
        await strict.app.inject({
          method: 'GET',
          url: `/v1/payments/${created.id}`,
          headers: strict.merchant,
        })
      ).json<PaymentJson>();
      expect(held).toMatchObject({
        status: 'expired',
        late: true,
        needsReview: true,
        confirmedSats: 25_000,
        creditedCredits: 0,
      });
      expect((await strict.ledger.balance('reviewed')).balance).toBe(0);

      const confirmed = await strict.app.inject({
        method: 'POST',
        url: `/v1/admin/payments/${created.id}/confirm`,
        headers: strict.admin,
        payload: { force: true, reason: 'late payment accepted' },
      });
      expect(confirmed.json()).toMatchObject({
        status: 'confirmed',
        manual: true,
        creditedCredits: 5,
      });
      await strict.watcher.runCycle();
      expect((await strict.ledger.balance('reviewed')).balance).toBe(5);
    } finally {
      await stopTestDaemon(strict);
    }
  });
});
