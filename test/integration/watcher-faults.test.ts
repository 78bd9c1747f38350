/**
 * The watcher against a misbehaving chain API (the lab facade's fault injection): cycles
 * survive 429 storms, 5xx, timeouts and malformed bodies, nothing is corrupted or credited
 * early, and progress resumes once the faults stop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payment } from '../../src/payments/payment.js';
import type { LedgerEntry } from '../../src/ledger/ledger.js';
import { LabClient } from '../lab/client.js';
import { type TestDaemon, startTestDaemon, stopTestDaemon } from '../support/daemon.js';

const PROFILE = 'watcher-faults';
let lab: LabClient;
let d: TestDaemon;

beforeAll(async () => {
  lab = LabClient.fromState();
  const faulty = await lab.faults(PROFILE, {});
  d = await startTestDaemon({
    SATWATCH_CHAIN_ESPLORA_URLS: faulty,
    SATWATCH_CHAIN_TIMEOUT_MS: '400',
    SATWATCH_CHAIN_RETRIES: '1',
    SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '100000',
  });
});

afterAll(async () => {
  await stopTestDaemon(d);
  await lab.clearFaults(PROFILE);
});

async function create(userId: string, sats: number): Promise<{ id: string; address: string }> {
  const res = await d.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: d.merchant,
    payload: { userId, price: { amount: String(sats), currency: 'SAT' }, credits: 3 },
  });
  return res.json();
}

const payments = () => d.mongo.db.collection<Payment>('payments').find({}).toArray();

describe('watcher under chain API faults', () => {
  it('survives a storm of every fault kind without corrupting anything, then catches up', async () => {
    const made = [];
    for (let i = 0; i < 12; i++) made.push(await create(`faulty-${i % 3}`, 20_000 + i));
    await lab.payMany(made.map((p, i) => ({ address: p.address, sats: 20_000 + i })));
    await lab.mine(3);

    await lab.faults(PROFILE, {
      rate429: 0.25,
      rate5xx: 0.2,
      rateTimeout: 0.1,
      timeoutHoldMs: 1500,
      rateTruncated: 0.1,
      rateMalformed: 0.15,
      seed: 42,
    });
    const reports = [];
    for (let i = 0; i < 8; i++) reports.push(await d.watcher.runCycle());
    const stats = await lab.faultStats(PROFILE);
    const kinds = Object.entries(stats.injected)
      .filter(([, n]) => n > 0)
      .map(([kind]) => kind);
    expect(kinds.length, `fault kinds injected: ${kinds.join(', ')}`).toBeGreaterThanOrEqual(4);
    expect(reports.some((r) => r.errors > 0)).toBe(true);

    // Nothing is half-done or wrong: every credit taken so far is complete and backed by 3 confirmations.
    for (const p of await payments()) {
      if (p.credit) {
        expect(p.status).toBe('confirmed');
        expect(p.confirmedSats).toBe(p.amountSats);
      }
      expect(['pending', 'confirming', 'confirmed']).toContain(p.status);
    }

    // All faults off: the next cycles credit everything, each once.
    await lab.faults(PROFILE, {});
    await d.watcher.runCycle();
    await d.watcher.runCycle();
    const after = await payments();
    expect(after.filter((p) => p.credit?.state === 'done')).toHaveLength(12);
    const entries = await d.mongo.db.collection<LedgerEntry>('ledger').find({}).toArray();
    expect(entries).toHaveLength(12);
    for (const user of ['faulty-0', 'faulty-1', 'faulty-2'])
      expect((await d.ledger.balance(user)).balance).toBe(12);
  });

  it('skips a cycle whose tip cannot be read, and still credits what is due', async () => {
    await lab.faults(PROFILE, { rate5xx: 1 });
    const report = await d.watcher.runCycle();
    expect(report.tipHeight).toBeNull();
    expect(report.errors).toBeGreaterThan(0);
    await lab.faults(PROFILE, {});
    expect((await d.watcher.runCycle()).tipHeight).toBe(await lab.tipHeight());
  });
});
