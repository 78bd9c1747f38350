import { describe, expect, it } from 'vitest';
import { defaultRequestLimit, HOUR_MS, RequestBudget } from '../../src/chain/budget.js';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

describe('RequestBudget', () => {
  it('counts requests in the last hour and what is left of the limit', () => {
    const budget = new RequestBudget(600);
    budget.record(T0);
    budget.record(T0 + 10 * MINUTE, 9);
    expect(budget.used(T0 + 10 * MINUTE)).toBe(10);
    expect(budget.remaining(T0 + 10 * MINUTE)).toBe(590);
  });

  it('forgets requests once they are more than an hour old', () => {
    const budget = new RequestBudget(600);
    budget.record(T0, 5);
    budget.record(T0 + 30 * MINUTE, 3);
    expect(budget.used(T0 + HOUR_MS - 1)).toBe(8);
    expect(budget.used(T0 + HOUR_MS + 1000)).toBe(3);
    expect(budget.used(T0 + 2 * HOUR_MS)).toBe(0);
  });

  it('never answers a negative remainder', () => {
    const budget = new RequestBudget(2);
    budget.record(T0, 5);
    expect(budget.remaining(T0)).toBe(0);
  });

  it('answers Infinity when unlimited, and still counts', () => {
    const budget = new RequestBudget(null);
    budget.record(T0, 1_000_000);
    expect(budget.remaining(T0)).toBe(Infinity);
    expect(budget.used(T0)).toBe(1_000_000);
  });

  it('keeps a one-cycle-per-30-seconds load with 20 watched checkouts under 700 an hour', () => {
    // 1 tip request + 20 mempool checks every 30 s would be 2,520 an hour: the budget says stop.
    const budget = new RequestBudget(600);
    let sent = 0;
    for (let t = T0; t < T0 + 2 * HOUR_MS; t += 30_000) {
      budget.record(t);
      sent++;
      for (let i = 0; i < 20 && budget.remaining(t) > 0; i++) {
        budget.record(t);
        sent++;
      }
      // The tip requests are never skipped, so they may go past 600, but not past the cap.
      expect(budget.used(t)).toBeLessThan(700);
    }
    expect(sent).toBeGreaterThan(600);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new RequestBudget(0)).toThrow(RangeError);
    expect(() => new RequestBudget(1.5)).toThrow(RangeError);
  });
});

describe('defaultRequestLimit', () => {
  it('is 600 when a base URL is Blockstream’s or mempool.space’s public API', () => {
    expect(defaultRequestLimit(['https://blockstream.info/api'])).toBe(600);
    expect(defaultRequestLimit(['http://127.0.0.1:3002', 'https://mempool.space/api'])).toBe(600);
    expect(defaultRequestLimit(['https://blockstream.info/testnet/api'])).toBe(600);
  });

  it('counts subdomains of the public services as public', () => {
    expect(defaultRequestLimit(['https://signet.mempool.space/api'])).toBe(600);
    expect(defaultRequestLimit(['https://API.Blockstream.info/api'])).toBe(600);
  });

  it('is unlimited for one’s own server and look-alike hosts', () => {
    expect(defaultRequestLimit(['http://localhost:3000'])).toBeNull();
    expect(defaultRequestLimit(['https://notblockstream.info/api'])).toBeNull();
    expect(defaultRequestLimit(['https://mempool.space.evil.example/api'])).toBeNull();
    expect(defaultRequestLimit([])).toBeNull();
  });
});
