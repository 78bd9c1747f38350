/**
 * The request budget over a simulated hour: the real watcher and MongoDB, the in-memory chain
 * source (every call recorded in the daemon's RequestBudget at the test clock), 30-second
 * cycles, and 20 checkouts whose payers keep their pages open the whole hour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainSource } from '../../src/chain/chain-source.js';
import type { RequestBudget } from '../../src/chain/budget.js';
import type { Payment } from '../../src/payments/payment.js';
import { CHAIN_SOURCE_METHODS, MemoryChainSource } from '../support/memory-chain-source.js';
import {
  type TestDaemon,
  createSatsPayment,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';

/** Counts every chain call in a budget, at the test's clock: what Esplora does per request. */
function metered(inner: MemoryChainSource, now: () => Date) {
  const meter: { budget?: RequestBudget } = {};
  const source = {} as Record<string, unknown>;
  for (const method of CHAIN_SOURCE_METHODS) {
    source[method] = (...args: unknown[]) => {
      meter.budget?.record(now().getTime());
      return (inner[method] as (...a: unknown[]) => unknown).apply(inner, args);
    };
  }
  return { chain: source as unknown as ChainSource, meter };
}

const LIMIT = 600;
const INTERVAL_S = 30;
let d: TestDaemon;
let clock: Date;
let memory: MemoryChainSource;
let meter: { budget?: RequestBudget };

beforeAll(async () => {
  memory = new MemoryChainSource();
  memory.mine(5);
  clock = new Date();
  const wrapped = metered(memory, () => clock);
  meter = wrapped.meter;
  d = await startTestDaemon(
    {
      SATWATCH_CHAIN_MAX_REQUESTS_PER_HOUR: String(LIMIT),
      SATWATCH_WATCHER_INTERVAL_SECONDS: String(INTERVAL_S),
      SATWATCH_PAYMENTS_EXPIRY_MINUTES: '180',
      // The simulated hour's 2,400 page polls come from one client in a few real seconds.
      SATWATCH_RATE_LIMIT_CHECKOUT_PER_MINUTE: '100000',
      SATWATCH_RATE_LIMIT_GLOBAL_PER_MINUTE: '100000',
    },
    { chain: wrapped.chain, now: () => clock },
  );
  meter.budget = d.budget;
});

afterAll(() => stopTestDaemon(d));

describe('the request budget', () => {
  it('keeps an hour of 30-second cycles with 20 watched checkouts under the limit, and still sees a payment', async () => {
    expect(d.budget.limit).toBe(LIMIT);
    const checkouts = [];
    for (let i = 0; i < 20; i++) checkouts.push(await createSatsPayment(d, `b-${i}`, 20_000, 1));
    let mempoolChecks = 0;
    let deferred = 0;
    let peak = 0;
    let paidAt: number | undefined;
    let seenAt: number | undefined;
    const cycles = 3600 / INTERVAL_S;
    for (let c = 0; c < cycles; c++) {
      // Every payer's page polls its status: each checkout counts as watched all hour.
      for (const p of checkouts) await d.app.inject({ method: 'GET', url: `/pay/${p.id}/status` });
      if (c > 0 && c % 20 === 0) memory.mine(1); // a block every 10 minutes
      if (c === 61) {
        memory.pay(checkouts[7]!.address, 20_000);
        paidAt = c;
      }
      const report = await d.watcher.runCycle();
      expect(report.errors).toBe(0);
      mempoolChecks += report.mempoolChecks;
      deferred += report.mempoolDeferred;
      peak = Math.max(peak, d.budget.used(clock.getTime()));
      if (seenAt === undefined && paidAt !== undefined) {
        const p = await d.mongo.db
          .collection<Payment>('payments')
          .findOne({ _id: checkouts[7]!.id });
        if (p?.receivedSats === 20_000) seenAt = c;
      }
      clock = new Date(clock.getTime() + INTERVAL_S * 1000);
    }
    expect(peak).toBeLessThanOrEqual(LIMIT);
    expect(mempoolChecks).toBeGreaterThan(100); // the budget is used, not just saved
    expect(deferred).toBeGreaterThan(0); // 20 checkouts × 120 cycles would be 2,400 checks
    // Seen in the mempool within a few cycles, or at the latest by the next block (10 min).
    expect(seenAt).toBeDefined();
    expect(seenAt! - paidAt!).toBeLessThanOrEqual(20);
  }, 300_000);
});
