import { describe, expect, it } from 'vitest';
import type { ChainTransaction } from '../../src/chain/chain-source.js';
import { PaymentNotCancellableError, cancelPayment } from '../../src/payments/cancellation.js';
import {
  METADATA_MAX_BYTES,
  type Metadata,
  metadataProblem,
  orderProblem,
  redirectUrlProblem,
} from '../../src/payments/order.js';
import { sweepKindOf } from '../../src/payments/sweep-recording.js';
import {
  CANCELLED_MONEY_REASON,
  type Policy,
  type TrackedState,
  evaluatePayment,
  initialTrackedState,
} from '../../src/payments/state-machine.js';

const T0 = new Date('2026-11-22T12:00:00Z');
const minutes = (m: number) => new Date(T0.getTime() + m * 60_000);
const ADDRESS = 'bcrt1qcancelled';
const terms = {
  address: ADDRESS,
  amountSats: 100_000,
  credits: 10,
  requiredConfirmations: 3,
  expiresAt: minutes(60),
};
const policy: Policy = {
  underpaymentToleranceBps: 0,
  expiryGraceMs: 60_000,
  monitoringMs: 24 * 3600_000,
  latePayments: 'credit',
  creditMode: 'fixed',
  settledConfirmations: 6,
};

function paying(txid: string, valueSats: number, blockHeight?: number): ChainTransaction {
  return {
    txid,
    spends: [],
    signalsRbf: false,
    status:
      blockHeight === undefined
        ? { confirmed: false }
        : { confirmed: true, blockHeight, blockHash: `h${blockHeight}` },
    outputs: [{ vout: 0, address: ADDRESS, script: '00', valueSats }],
  };
}

const cancelledState = (): TrackedState => ({ ...initialTrackedState(), status: 'cancelled' });

describe('order fields', () => {
  it('accepts a small nested metadata object', () => {
    expect(metadataProblem({ cart: { items: [{ sku: 'a', qty: 2 }] }, note: null })).toBe(
      undefined,
    );
  });

  it('refuses metadata larger than 4 KiB as JSON, naming metadata', () => {
    const big: Metadata = { blob: 'x'.repeat(METADATA_MAX_BYTES) };
    expect(metadataProblem(big)).toMatchObject({ field: 'metadata' });
  });

  it('counts the size in UTF-8 bytes, not characters', () => {
    const text = 'é'.repeat(Math.ceil(METADATA_MAX_BYTES / 2));
    expect(text.length).toBeLessThan(METADATA_MAX_BYTES);
    expect(metadataProblem({ text })).toMatchObject({ field: 'metadata' });
  });

  it('refuses metadata nested deeper than four levels', () => {
    expect(metadataProblem({ a: { b: { c: { d: 1 } } } })).toBe(undefined);
    expect(metadataProblem({ a: { b: { c: { d: { e: 1 } } } } })).toMatchObject({
      field: 'metadata',
    });
    expect(metadataProblem({ a: [[[[1]]]] })).toMatchObject({ field: 'metadata' });
  });

  it('refuses keys MongoDB would read as operators or paths, naming the key', () => {
    expect(metadataProblem({ a: { $where: 1 } })).toMatchObject({ field: 'metadata.a.$where' });
    expect(metadataProblem({ 'a.b': 1 })).toMatchObject({ field: 'metadata.a.b' });
    expect(metadataProblem({ list: [{ '': 1 }] })).toMatchObject({ field: 'metadata.list.0.' });
  });

  it('takes https redirect URLs, and http only for loopback hosts', () => {
    expect(redirectUrlProblem('https://shop.example/orders/1')).toBe(undefined);
    expect(redirectUrlProblem('http://localhost:3000/done')).toBe(undefined);
    expect(redirectUrlProblem('http://127.0.0.1/done')).toBe(undefined);
    expect(redirectUrlProblem('http://[::1]:8080/')).toBe(undefined);
    expect(redirectUrlProblem('http://shop.example/')).toMatchObject({ field: 'redirectUrl' });
    expect(redirectUrlProblem('javascript:alert(1)')).toMatchObject({ field: 'redirectUrl' });
    expect(redirectUrlProblem('/relative')).toMatchObject({ field: 'redirectUrl' });
    expect(redirectUrlProblem('https://user:pw@shop.example/')).toMatchObject({
      field: 'redirectUrl',
    });
  });

  it('reports the first problem of the order fields', () => {
    expect(orderProblem({ orderId: 'o-1' })).toBe(undefined);
    expect(orderProblem({ redirectUrl: 'ftp://x' })).toMatchObject({ field: 'redirectUrl' });
  });
});

describe('cancelling a payment', () => {
  const pending = { _id: 'pay_1', status: 'pending' as const, receivedSats: 0 };

  it('moves a pending payment with nothing received to cancelled with a webhook', () => {
    const change = cancelPayment(pending, 'merchant-key', T0);
    expect(change).toEqual({
      next: { status: 'cancelled', cancelledAt: T0 },
      events: [
        {
          at: T0,
          type: 'status',
          from: 'pending',
          to: 'cancelled',
          cause: 'cancelled by API key merchant-key',
          actor: 'merchant-key',
        },
      ],
      webhooks: ['payment.cancelled'],
    });
  });

  it('changes nothing on a payment already cancelled', () => {
    expect(cancelPayment({ ...pending, status: 'cancelled' }, 'k', T0)).toBe(null);
  });

  it('refuses a payment that has seen money or is closed', () => {
    for (const status of ['confirming', 'confirmed', 'forwarded', 'expired', 'underpaid'] as const)
      expect(() => cancelPayment({ ...pending, status }, 'k', T0)).toThrow(
        PaymentNotCancellableError,
      );
    expect(() => cancelPayment({ ...pending, receivedSats: 1 }, 'k', T0)).toThrow(
      PaymentNotCancellableError,
    );
  });
});

describe('money paid to a cancelled payment', () => {
  it('is late and flagged for review when seen, and credited like a late payment once the full amount confirms (latePayments: credit)', () => {
    const seen = evaluatePayment(
      terms,
      cancelledState(),
      { tipHeight: 100, transactions: [paying('t1', 100_000)], now: minutes(5) },
      policy,
    );
    expect(seen.next).toMatchObject({
      status: 'cancelled',
      receivedSats: 100_000,
      late: true,
      needsReview: true,
      reviewReasons: [CANCELLED_MONEY_REASON],
    });
    expect(seen.next.outputs[0]?.late).toBe(true);
    expect(seen.webhooks.sort()).toEqual(['payment.late', 'payment.needs_review']);

    const deep = evaluatePayment(
      terms,
      seen.next,
      { tipHeight: 110, transactions: [paying('t1', 100_000, 101)], now: minutes(30) },
      policy,
    );
    expect(deep.next.status).toBe('confirmed');
    expect(deep.next.credit).toMatchObject({ state: 'due', credits: 10, basisSats: 100_000 });
    expect(deep.next.reviewReasons).toContain(CANCELLED_MONEY_REASON);
    expect(deep.webhooks).toEqual(['payment.confirmed']);
  });

  it('stays cancelled and uncredited when only part of the amount arrives', () => {
    const part = evaluatePayment(
      terms,
      cancelledState(),
      { tipHeight: 110, transactions: [paying('t1', 60_000, 101)], now: minutes(30) },
      policy,
    );
    expect(part.next).toMatchObject({ status: 'cancelled', late: true, needsReview: true });
    expect(part.next.credit).toBeUndefined();
  });

  it('is never credited under latePayments: review, and is swept as unpaid after the window', () => {
    let state = cancelledState();
    for (const [tip, at] of [
      [100, 5],
      [103, 30],
      [110, 90],
      [200, 60 * 26],
    ] as const) {
      state = evaluatePayment(
        terms,
        state,
        { tipHeight: tip, transactions: [paying('t1', 150_000, 100)], now: minutes(at) },
        { ...policy, latePayments: 'review' },
      ).next;
      expect(state.status).toBe('cancelled');
      expect(state.credit).toBeUndefined();
    }
    // Past the monitoring window with everything confirmed: no longer polled, and its coins are
    // swept to the cold wallet as unpaid, never lost.
    expect(state.watching).toBe(false);
    expect(sweepKindOf(state)).toBe('unpaid');
  });

  it('leaves a cancelled payment with nothing paid quiet', () => {
    const quiet = evaluatePayment(
      terms,
      cancelledState(),
      { tipHeight: 100, transactions: [], now: minutes(90) },
      policy,
    );
    expect(quiet.next.status).toBe('cancelled');
    expect(quiet.webhooks).toEqual([]);
    expect(quiet.changed).toBe(false);
  });
});
