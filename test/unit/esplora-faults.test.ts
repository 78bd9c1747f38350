import { describe, expect, it } from 'vitest';
import { FaultProfile } from '../lab/esplora/faults.js';

describe('fault profiles', () => {
  it('repeat the same fault sequence for the same seed', () => {
    const config = { rate429: 0.2, rate5xx: 0.2, rateTimeout: 0.1, rateMalformed: 0.1, seed: 42 };
    const a = new FaultProfile(config);
    const b = new FaultProfile(config);
    const rolls = (p: FaultProfile) => Array.from({ length: 200 }, () => p.roll('/x'));
    const sequence = rolls(a);
    expect(rolls(b)).toEqual(sequence);
    expect(new Set(sequence)).toEqual(new Set(['none', '429', '5xx', 'timeout', 'malformed']));
  });

  it('inject at roughly the configured rate and count what they injected', () => {
    const p = new FaultProfile({ rate5xx: 0.3, seed: 7 });
    const n = 5000;
    for (let i = 0; i < n; i++) p.roll('/tx/abc');
    expect(p.stats.requests).toBe(n);
    expect(p.stats.injected['5xx'] / n).toBeGreaterThan(0.27);
    expect(p.stats.injected['5xx'] / n).toBeLessThan(0.33);
  });

  it('refuse rates that add up to more than 1', () => {
    expect(() => new FaultProfile({ rate429: 0.6, rate5xx: 0.6 })).toThrow(/> 1/);
  });

  it('leave paths outside the pattern alone', () => {
    const p = new FaultProfile({ rate429: 1, pathPattern: '^/address/' });
    expect(p.roll('/blocks/tip/height')).toBe('none');
    expect(p.roll('/address/bcrt1q/utxo')).toBe('429');
  });
});
