import { describe, expect, it } from 'vitest';
import type { Payment } from '../../src/payments/payment.js';
import {
  sweepBroadcast,
  sweepConfirmed,
  sweepKindOf,
  sweepNeedsReview,
} from '../../src/payments/sweep-recording.js';
import { paymentFixture } from '../support/payment-fixture.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const TX_A = 'a'.repeat(64);
const TX_B = 'b'.repeat(64);

const payment = paymentFixture;

const credited = { state: 'done' as const, credits: 1, basisSats: 20_000, dueAt: NOW };

/** Applies a change the way the repository does. */
function apply(p: Payment, change: ReturnType<typeof sweepBroadcast>): Payment {
  if (!change) return p;
  return { ...p, ...change.next, version: p.version + 1, events: [...p.events, ...change.events] };
}

describe('which payments may be swept', () => {
  it('sweeps credited payments, and unpaid ones only once their window closed', () => {
    expect(sweepKindOf(payment({ status: 'confirmed', credit: credited }))).toBe('forward');
    expect(sweepKindOf(payment({ status: 'confirming' }))).toBeUndefined();
    expect(
      sweepKindOf(payment({ status: 'confirmed', credit: { ...credited, state: 'due' } })),
    ).toBeUndefined();
    expect(sweepKindOf(payment({ status: 'underpaid', watching: true }))).toBeUndefined();
    expect(sweepKindOf(payment({ status: 'underpaid', watching: false }))).toBe('unpaid');
    expect(sweepKindOf(payment({ status: 'expired', watching: false }))).toBe('unpaid');
  });
});

describe('recording a sweep on a payment', () => {
  const out = { txid: TX_A, destination: 'bcrt1qcold', replacement: false };

  it('forwards a confirmed payment once, with its webhook, whatever the repeats', () => {
    const p = payment({ status: 'confirmed', credit: credited });
    const change = sweepBroadcast(p, out, NOW)!;
    expect(change.next).toEqual({ status: 'forwarded', sweepTxid: TX_A });
    expect(change.webhooks).toEqual(['payment.forwarded']);
    expect(sweepBroadcast(apply(p, change), out, NOW)).toBeNull();
  });

  it('records a fee bump as sweep_replaced, and the confirmed transaction as the sweep', () => {
    const forwarded = apply(
      payment({ status: 'confirmed', credit: credited }),
      sweepBroadcast(payment({ status: 'confirmed', credit: credited }), out, NOW),
    );
    const bump = sweepBroadcast(forwarded, { ...out, txid: TX_B, replacement: true }, NOW)!;
    expect(bump.events.map((e) => e.type)).toEqual(['sweep_replaced']);
    expect(bump.next).toEqual({});
    const bumped = apply(forwarded, bump);
    expect(bumped.events.filter((e) => e.type === 'forwarded')).toHaveLength(1);
    const confirmed = sweepConfirmed(bumped, TX_B, 100, NOW)!;
    expect(confirmed.next).toEqual({ sweepTxid: TX_B });
    expect(sweepConfirmed(apply(bumped, confirmed), TX_B, 100, NOW)).toBeNull();
  });

  it('marks an unpaid payment swept-unpaid, never forwarded', () => {
    const change = sweepBroadcast(payment({ status: 'underpaid', watching: false }), out, NOW)!;
    expect(change.next).toEqual({ sweptUnpaid: true, sweepTxid: TX_A });
    expect(change.events.map((e) => e.type)).toEqual(['swept_unpaid']);
    expect(change.webhooks).toEqual(['payment.swept_unpaid']);
  });

  it('flags a payment for review once per reason', () => {
    const p = payment({ status: 'confirmed', credit: credited });
    const change = sweepNeedsReview(p, 'coin spent elsewhere', NOW)!;
    expect(change.next).toEqual({ needsReview: true, reviewReasons: ['coin spent elsewhere'] });
    expect(change.webhooks).toEqual(['payment.needs_review']);
    const flagged = { ...p, ...change.next };
    expect(sweepNeedsReview(flagged, 'coin spent elsewhere', NOW)).toBeNull();
  });
});
