import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChainLink,
  type OperationInput,
  auditChain,
  entryId,
  isSameOperation,
  validateOperation,
} from '../../src/ledger/ledger-rules.js';
import { debitRequestHash } from '../../src/api/users-routes.js';

const base: OperationInput = {
  opId: 'op-1',
  userId: 'alice',
  type: 'credit',
  amount: 10,
  reason: 'paid',
};

/** A well-formed chain from signed amounts. */
function chainOf(amounts: number[]): ChainLink[] {
  let balance = 0;
  return amounts.map((amount, i) => {
    balance += amount;
    return { seq: i + 1, amount, balanceAfter: balance };
  });
}

describe('validateOperation', () => {
  it('accepts a credit, a debit and adjustments of either sign', () => {
    for (const op of [
      base,
      { ...base, type: 'debit' as const, amount: -10, requestHash: 'h' },
      { ...base, type: 'adjustment' as const, amount: 3, actor: 'admin' },
      { ...base, type: 'adjustment' as const, amount: -3, paymentId: 'pay_1' },
      { ...base, amount: Number.MAX_SAFE_INTEGER },
    ]) {
      expect(() => {
        validateOperation(op);
      }).not.toThrow();
    }
  });

  it.each([
    ['a zero amount', { amount: 0 }, RangeError],
    ['a zero adjustment', { type: 'adjustment', amount: 0 }, RangeError],
    ['a negative credit', { amount: -1 }, RangeError],
    ['a positive debit', { type: 'debit', amount: 1 }, RangeError],
    ['a fractional amount', { amount: 0.1 }, RangeError],
    ['an amount beyond safe integers', { amount: 2 ** 53 }, RangeError],
    ['an infinite amount', { amount: Infinity }, RangeError],
    ['an amount as text', { amount: '10' }, RangeError],
    ['an unknown type', { type: 'gift' }, TypeError],
    ['an empty opId', { opId: '' }, TypeError],
    ['an empty userId', { userId: '' }, TypeError],
    ['an empty reason', { reason: '' }, TypeError],
    ['an empty actor', { actor: '' }, TypeError],
    ['an empty paymentId', { paymentId: '' }, TypeError],
  ])('refuses %s', (_name, fields, kind) => {
    expect(() => {
      validateOperation({ ...base, ...fields } as OperationInput);
    }).toThrow(kind);
  });
});

describe('isSameOperation', () => {
  it('treats a retry with another reason or actor as the same operation', () => {
    expect(isSameOperation(base, { ...base, reason: 'manual', actor: 'admin' } as never)).toBe(
      true,
    );
  });

  it.each([
    ['user', { userId: 'bob' }],
    ['amount', { amount: 11 }],
    ['type', { type: 'adjustment' }],
    ['request', { requestHash: 'other' }],
  ])('tells operations apart by %s', (_name, fields) => {
    expect(isSameOperation(base, { ...base, ...fields } as OperationInput)).toBe(false);
  });
});

describe('entryId', () => {
  it('never gives two (user, seq) pairs the same id, even for user ids containing colons', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', ':', '1') }),
        fc.nat(1000),
        fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', ':', '1') }),
        fc.nat(1000),
        (u1, s1, u2, s2) => {
          fc.pre(u1 !== u2 || s1 !== s2);
          expect(entryId(u1, s1)).not.toBe(entryId(u2, s2));
        },
      ),
    );
  });
});

describe('auditChain', () => {
  const amounts = fc.array(
    fc.integer({ min: -1000, max: 1000 }).filter((n) => n !== 0),
    { maxLength: 40 },
  );

  it('finds any well-formed chain intact, its sum equal to its last balanceAfter', () => {
    fc.assert(
      fc.property(amounts, (list) => {
        const audit = auditChain(chainOf(list));
        expect(audit.intact).toBe(true);
        expect(audit.count).toBe(list.length);
        expect(audit.lastSeq).toBe(list.length);
        expect(audit.sum).toBe(list.reduce((s, a) => s + a, 0));
        expect(audit.lastBalanceAfter).toBe(audit.sum);
      }),
    );
  });

  // A missing last entry leaves a shorter, intact chain: reconcile compares the count with seq.
  it('finds a gap where an entry before the last is missing', () => {
    fc.assert(
      fc.property(amounts, fc.nat(), (list, pick) => {
        fc.pre(list.length >= 2);
        const chain = chainOf(list);
        chain.splice(pick % (chain.length - 1), 1);
        expect(auditChain(chain).intact).toBe(false);
      }),
    );
  });

  it('finds a balanceAfter that does not follow from the one before', () => {
    fc.assert(
      fc.property(amounts, fc.nat(), fc.integer({ min: 1, max: 5 }), (list, pick, delta) => {
        fc.pre(list.length >= 1);
        const chain = chainOf(list);
        chain[pick % chain.length]!.balanceAfter += delta;
        expect(auditChain(chain).intact).toBe(false);
      }),
    );
  });

  it('reports an empty ledger as intact with sum 0', () => {
    expect(auditChain([])).toEqual({
      sum: 0,
      count: 0,
      lastSeq: 0,
      lastBalanceAfter: 0,
      intact: true,
    });
  });
});

describe('debitRequestHash', () => {
  it('depends on user, amount and reason, not on the order fields arrive in', () => {
    const h = debitRequestHash('alice', { amount: 5, reason: 'x' });
    expect(debitRequestHash('alice', { reason: 'x', amount: 5 })).toBe(h);
    expect(debitRequestHash('bob', { amount: 5, reason: 'x' })).not.toBe(h);
    expect(debitRequestHash('alice', { amount: 6, reason: 'x' })).not.toBe(h);
    expect(debitRequestHash('alice', { amount: 5, reason: 'y' })).not.toBe(h);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
  });
});
