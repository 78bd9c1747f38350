import { describe, expect, it } from 'vitest';
import { creditApplied, ledgerCreditFor } from '../../src/payments/crediting.js';
import { confirmManually } from '../../src/payments/manual-confirmation.js';
import type { Payment } from '../../src/payments/payment.js';
import type { PaymentChange } from '../../src/payments/payment-change.js';
import { outboxRefs } from '../../src/payments/payment-events.js';
import { sweepBroadcast } from '../../src/payments/sweep-recording.js';
import { paymentFixture } from '../support/payment-fixture.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const LATER = new Date('2026-01-01T00:05:00Z');

const payment = (overrides: Partial<Payment> = {}) => paymentFixture({ credits: 7, ...overrides });

/** Applies a change the way the repository does: fields set, events appended, version moved on. */
function apply(p: Payment, change: PaymentChange | null): Payment {
  if (!change) return p;
  return {
    ...p,
    ...change.next,
    version: p.version + 1,
    events: [...p.events, ...change.events],
    outbox: [...p.outbox, ...outboxRefs(p, change.webhooks)],
  };
}

describe('confirming a payment by hand', () => {
  it('confirms an uncredited payment with its full credits due, recorded as the admin’s', () => {
    const p = payment({ status: 'underpaid', confirmedSats: 5_000 });
    const change = confirmManually(p, { adminId: 'adm_1', reason: 'paid by card' }, NOW);
    expect(change?.next).toEqual({
      status: 'confirmed',
      manual: true,
      credit: {
        state: 'due',
        credits: 7,
        basisSats: 5_000,
        dueAt: NOW,
        manual: { by: 'adm_1', reason: 'paid by card' },
      },
    });
    expect(change?.events).toEqual([
      {
        at: NOW,
        type: 'manual_confirm',
        from: 'underpaid',
        to: 'confirmed',
        actor: 'adm_1',
        cause: 'confirmed by admin adm_1: paid by card',
      },
    ]);
    expect(change?.webhooks).toEqual(['payment.manually_confirmed', 'payment.confirmed']);
  });

  it('changes nothing on a payment that already has a credit', () => {
    const p = payment({ credit: { state: 'due', credits: 7, basisSats: 20_000, dueAt: NOW } });
    expect(confirmManually(p, { adminId: 'adm_1', reason: 'x' }, NOW)).toBeNull();
  });
});

describe('crediting a payment', () => {
  const due = { state: 'due' as const, credits: 7, basisSats: 20_000, dueAt: NOW };

  it('marks a due credit done with its ledger entry, once', () => {
    const p = payment({ status: 'confirmed', credit: due });
    const change = creditApplied(p, 'entry_9', LATER);
    expect(change).toEqual({
      next: { credit: { ...due, state: 'done', doneAt: LATER, entryId: 'entry_9' } },
      events: [{ at: LATER, type: 'credited', cause: 'ledger entry entry_9' }],
      webhooks: [],
    });
    expect(creditApplied(apply(p, change), 'entry_9', LATER)).toBeNull();
  });

  it('has nothing to mark on a payment without a credit', () => {
    expect(creditApplied(payment(), 'entry_9', LATER)).toBeNull();
  });

  it('asks the ledger for the payment’s credits, naming the admin of a manual confirmation', () => {
    const p = payment();
    expect(ledgerCreditFor(p, due)).toEqual({
      paymentId: 'pay_1',
      userId: 'u',
      credits: 7,
      reason: 'payment pay_1',
    });
    expect(ledgerCreditFor(p, { ...due, manual: { by: 'adm_1', reason: 'card' } })).toEqual({
      paymentId: 'pay_1',
      userId: 'u',
      credits: 7,
      reason: 'manual confirmation: card',
      actor: 'adm_1',
    });
  });
});

describe('outbox ids', () => {
  it('are made of the payment, the version the change writes and the webhook type', () => {
    expect(outboxRefs({ _id: 'pay_1', version: 3 }, ['payment.confirmed', 'payment.late'])).toEqual(
      [
        { id: 'pay_1:4:payment.confirmed', type: 'payment.confirmed' },
        { id: 'pay_1:4:payment.late', type: 'payment.late' },
      ],
    );
  });

  it('are the same for the same change, so a repeated write cannot send a webhook twice', () => {
    const p = payment({ credit: { state: 'done', credits: 7, basisSats: 20_000, dueAt: NOW } });
    p.status = 'confirmed';
    const sweep = { txid: 'a'.repeat(64), destination: 'bcrt1qcold', replacement: false };
    const first = apply(p, sweepBroadcast(p, sweep, NOW));
    const again = apply(p, sweepBroadcast(p, sweep, LATER));
    expect(first.outbox).toEqual(again.outbox);
    expect(first.outbox).toEqual([{ id: `pay_1:4:payment.forwarded`, type: 'payment.forwarded' }]);
  });
});
