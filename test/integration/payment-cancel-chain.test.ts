/**
 * Money paid to a cancelled payment, on the lab chain: real coins to the cancelled address, real
 * blocks, a daemon that forwards. It is handled like a late payment (issue 13): the late-payment
 * policy credits it or holds it for review; either way it is flagged for a human, and uncredited
 * money still reaches the cold wallet: nothing is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payment } from '../../src/payments/payment.js';
import { CANCELLED_MONEY_REASON } from '../../src/payments/state-machine.js';
import type { WebhookEvent } from '../../src/webhooks/outbox.js';
import { LabClient } from '../lab/client.js';
import { type TestDaemon, createSatsPayment, stopTestDaemon } from '../support/daemon.js';
import { DEFAULT_FEES, allSweeps, forwardingDaemon, utxosOf } from '../support/forwarding.js';

let lab: LabClient;

beforeAll(async () => {
  lab = LabClient.fromState();
  await lab.setFeeEstimates({ '6': 1 });
});
afterAll(() => lab.setFeeEstimates(DEFAULT_FEES));

const paymentOf = (d: TestDaemon, id: string) =>
  d.mongo.db.collection<Payment>('payments').findOne({ _id: id }) as Promise<Payment>;

async function balance(d: TestDaemon, userId: string): Promise<number> {
  const res = await d.app.inject({
    method: 'GET',
    url: `/v1/users/${userId}/balance`,
    headers: d.merchant,
  });
  return res.json<{ balance: number }>().balance;
}

const hookTypes = async (d: TestDaemon, id: string) =>
  (await d.mongo.db.collection<WebhookEvent>('webhook_events').find({ paymentId: id }).toArray())
    .map((h) => h.type)
    .sort();

describe('paying a cancelled payment', () => {
  it('under latePayments: review, records the money as late, flags it, credits nothing, and sweeps it to the cold wallet after the window', async () => {
    let offsetMs = 0;
    const d = await forwardingDaemon(
      { SATWATCH_PAYMENTS_LATE_PAYMENTS: 'review' },
      { now: () => new Date(Date.now() + offsetMs) },
    );
    try {
      const p = await createSatsPayment(d, 'cancel-then-pay', 30_000, 3);
      const cancelled = await d.app.inject({
        method: 'POST',
        url: `/v1/payments/${p.id}/cancel`,
        headers: d.merchant,
      });
      expect(cancelled.statusCode).toBe(200);

      // The payer pays anyway (an old QR on their screen), in full, and it confirms deeply.
      const paid = await lab.pay(p.address, 30_000);
      await lab.mine(3);
      const first = await d.watcher.runCycle();
      expect(first.errors).toBe(0);

      const after = await paymentOf(d, p.id);
      expect(after).toMatchObject({
        status: 'cancelled',
        receivedSats: 30_000,
        confirmedSats: 30_000,
        late: true,
        needsReview: true,
      });
      expect(after.reviewReasons).toContain(CANCELLED_MONEY_REASON);
      expect(after.credit).toBeUndefined();
      expect(after.outputs.map((o) => o.txid)).toEqual([paid.txid]);
      expect(await balance(d, 'cancel-then-pay')).toBe(0);
      expect(await hookTypes(d, p.id)).toEqual([
        'payment.cancelled',
        'payment.late',
        'payment.needs_review',
      ]);
      // Inside the monitoring window the coins stay where they are.
      expect((await allSweeps(d)).flatMap((s) => s.inputs.map((i) => i.paymentId))).toEqual([]);

      // Past the monitoring window: swept to the cold wallet as unpaid coins, never lost.
      offsetMs = 61 * 60_000 + 25 * 3600_000;
      const late = await d.watcher.runCycle();
      expect(late.errors).toBe(0);
      const sweeps = await allSweeps(d);
      expect(sweeps.flatMap((s) => s.inputs.map((i) => i.paymentId))).toEqual([p.id]);
      await lab.mine(1);
      const cold = await utxosOf(lab, d.cold);
      expect(cold.map((u) => u.txid)).toContain(sweeps[0]!.txid);
      const swept = await paymentOf(d, p.id);
      expect(swept).toMatchObject({ status: 'cancelled', sweptUnpaid: true, watching: false });
      expect(swept.credit).toBeUndefined();
      expect(await balance(d, 'cancel-then-pay')).toBe(0);
      expect(await hookTypes(d, p.id)).toContain('payment.swept_unpaid');
    } finally {
      await stopTestDaemon(d);
    }
  }, 120_000);

  it('under latePayments: credit (the default), credits the full amount once, like a late payment, and flags it', async () => {
    const d = await forwardingDaemon();
    try {
      const p = await createSatsPayment(d, 'cancel-then-pay-credit', 30_000, 3);
      const cancelled = await d.app.inject({
        method: 'POST',
        url: `/v1/payments/${p.id}/cancel`,
        headers: d.merchant,
      });
      expect(cancelled.statusCode).toBe(200);
      await lab.pay(p.address, 30_000);
      await lab.mine(3);
      expect((await d.watcher.runCycle()).errors).toBe(0);
      expect((await d.watcher.runCycle()).errors).toBe(0);

      const after = await paymentOf(d, p.id);
      // Credited, it is a confirmed payment like any other: the forwarder may already have swept it.
      expect(['confirmed', 'forwarded']).toContain(after.status);
      expect(after).toMatchObject({ late: true, needsReview: true });
      expect(after.reviewReasons).toContain(CANCELLED_MONEY_REASON);
      expect(after.credit?.state).toBe('done');
      expect(await balance(d, 'cancel-then-pay-credit')).toBe(3);
      expect(await hookTypes(d, p.id)).toEqual(
        expect.arrayContaining(['payment.cancelled', 'payment.late', 'payment.confirmed']),
      );
    } finally {
      await stopTestDaemon(d);
    }
  }, 120_000);
});
