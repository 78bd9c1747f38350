import { describe, expect, it } from 'vitest';
import { Cached } from '../../src/observability/cached.js';

function counter() {
  let loads = 0;
  let clock = 0;
  const cached = new Cached(
    () => Promise.resolve(++loads),
    1000,
    () => undefined,
    () => clock,
  );
  return { cached, loads: () => loads, advance: (ms: number) => (clock += ms) };
}

describe('a cached figure', () => {
  it('is loaded once while fresh, and concurrent first reads share one load', async () => {
    const c = counter();
    expect(await Promise.all([c.cached.get(), c.cached.get()])).toEqual([1, 1]);
    c.advance(999);
    expect(await c.cached.get()).toBe(1);
    expect(c.loads()).toBe(1);
  });

  it('is served stale while a refresh runs, then the refreshed value', async () => {
    const c = counter();
    await c.cached.get();
    c.advance(1000);
    expect(await c.cached.get()).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await c.cached.get()).toBe(2);
  });

  it('waits for the load when the value is far too old', async () => {
    const c = counter();
    await c.cached.get();
    c.advance(120_000);
    expect(await c.cached.get()).toBe(2);
  });

  it('passes a failed first load to the caller', async () => {
    const cached = new Cached(() => Promise.reject(new Error('down')), 1000);
    await expect(cached.get()).rejects.toThrow('down');
  });
});
