import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { feeShares, spreadsheetSafe } from '../../src/accounting/rows.js';
import type { SweepInputRecord } from '../../src/forwarding/sweep.js';

const input = (paymentId: string, valueSats: number): SweepInputRecord => ({
  paymentId,
  valueSats,
  txid: 'ab'.repeat(32),
  vout: 0,
  scriptType: 'p2wpkh',
  index: 0,
});

describe("a sweep's fee shared among its payments", () => {
  it('goes in proportion to the value swept from each payment', () => {
    const shares = feeShares({ feeSats: 300, inputs: [input('a', 100_000), input('b', 200_000)] });
    expect(Object.fromEntries(shares)).toEqual({ a: 100, b: 200 });
  });

  it('adds the odd sats to the largest remainders, so the shares sum to the fee exactly', () => {
    const shares = feeShares({
      feeSats: 100,
      inputs: [input('a', 1), input('b', 1), input('c', 1)],
    });
    expect(Object.fromEntries(shares)).toEqual({ a: 34, b: 33, c: 33 });
  });

  it('always sums to the fee and leaves no share more than one sat off its exact part', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.array(
          fc.tuple(fc.constantFrom('p1', 'p2', 'p3', 'p4'), fc.integer({ min: 1, max: 2.1e15 })),
          {
            minLength: 1,
            maxLength: 12,
          },
        ),
        (feeSats, pairs) => {
          const inputs = pairs.map(([id, v]) => input(id, v));
          const shares = feeShares({ feeSats, inputs });
          expect([...shares.values()].reduce((a, b) => a + b, 0)).toBe(feeSats);
          const total = inputs.reduce((s, i) => s + BigInt(i.valueSats), 0n);
          for (const [id, share] of shares) {
            const value = inputs
              .filter((i) => i.paymentId === id)
              .reduce((s, i) => s + BigInt(i.valueSats), 0n);
            const floor = (BigInt(feeSats) * value) / total;
            expect(BigInt(share) - floor).toBeGreaterThanOrEqual(0n);
            expect(BigInt(share) - floor).toBeLessThanOrEqual(1n);
          }
        },
      ),
    );
  });
});

describe('text a user chose, in a spreadsheet', () => {
  it('cannot start a formula', () => {
    for (const text of ['=HYPERLINK("x")', '+1', '-2+3', '@SUM(A1)', '\tx'])
      expect(spreadsheetSafe(text)).toBe(`'${text}`);
    expect(spreadsheetSafe('alice')).toBe('alice');
    expect(spreadsheetSafe(undefined)).toBe('');
  });
});
