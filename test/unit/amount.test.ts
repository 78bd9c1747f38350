import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  btcToSats,
  fiatToSats,
  formatBtc,
  formatBtcShort,
  parseDecimal,
  satsToFiat,
} from '../../src/pricing/amount.js';

describe('exact amounts', () => {
  it('converts BTC strings to sats exactly', () => {
    expect(btcToSats('0.0015')).toBe(150_000n);
    expect(btcToSats('21000000')).toBe(2_100_000_000_000_000n);
    expect(btcToSats('0.00000001')).toBe(1n);
    expect(() => btcToSats('0.000000001')).toThrow(/more than 8 decimals/);
  });

  it('refuses anything but a plain decimal', () => {
    for (const bad of ['', '-1', '1e5', '01', '1.', '.5', ' 1', '1,5', 'NaN', '0x10']) {
      expect(() => parseDecimal(bad), bad).toThrow(/plain decimal/);
    }
  });

  it('converts fiat to sats rounding up once', () => {
    expect(fiatToSats('100', '50000')).toBe(200_000n);
    expect(fiatToSats('10.00', '30000')).toBe(33_334n); // 33333.33… rounds up
    expect(fiatToSats('0.01', '97123.45')).toBe(11n); // 10.296… rounds up
    expect(() => fiatToSats('1', '0')).toThrow(/zero/);
  });

  it('never charges less than the fiat price, and never a whole sat more', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 9n }), // cents
        fc.bigInt({ min: 100n, max: 10n ** 12n }), // rate in cents per BTC
        (cents, rateCents) => {
          const amount = `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
          const rate = `${rateCents / 100n}.${(rateCents % 100n).toString().padStart(2, '0')}`;
          const sats = fiatToSats(amount, rate);
          // sats * rate >= amount * 1e8 > (sats - 1) * rate, in integer cents
          expect(sats * rateCents >= cents * 100_000_000n).toBe(true);
          expect((sats - 1n) * rateCents < cents * 100_000_000n).toBe(true);
        },
      ),
    );
  });

  it('formats sats as BTC with 8 decimals, and without trailing zeros for BIP21', () => {
    expect(formatBtc(150_000n)).toBe('0.00150000');
    expect(formatBtc(1)).toBe('0.00000001');
    expect(formatBtc(2_100_000_000_000_000n)).toBe('21000000.00000000');
    expect(formatBtcShort(150_000n)).toBe('0.0015');
    expect(formatBtcShort(100_000_000n)).toBe('1');
  });

  it('round-trips BTC strings through sats', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2_100_000_000_000_000n }), (sats) => {
        expect(btcToSats(formatBtc(sats))).toBe(sats);
      }),
    );
  });

  it('shows a fiat value rounded half up', () => {
    expect(satsToFiat(33_334n, '30000')).toBe('10.00');
    expect(satsToFiat(150_000n, '97123.45')).toBe('145.69');
    expect(satsToFiat(1n, '50000', 2)).toBe('0.00');
  });
});
