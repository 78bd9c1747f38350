/**
 * The block scan's write sequence killed at each step (SIGKILL at a named failpoint, see
 * src/watcher/scan-failpoints.ts) in a real watcher process on the lab, then finished by a clean
 * watcher: every payment credited exactly once, the scan position at the chain's tip, and the
 * header chain holding exactly the best chain's blocks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../src/ledger/ledger.js';
import type { Payment } from '../../src/payments/payment.js';
import type { ScanFailpoint } from '../../src/watcher/scan-failpoints.js';
import { LabClient } from '../lab/client.js';
import {
  type TestDaemon,
  createSatsPayment,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';
import { spawnSatwatch } from '../support/satwatch-process.js';

const lab = LabClient.fromState();
let d: TestDaemon | undefined;

afterEach(async () => {
  await stopTestDaemon(d);
  d = undefined;
});

/** A watcher process that must die at `point` (SIGKILL: exit code null). */
async function killedAt(daemon: TestDaemon, point: ScanFailpoint): Promise<void> {
  const child = spawnSatwatch(['serve', '--watcher-only'], {
    ...daemon.env,
    SATWATCH_FAILPOINT: point,
    SATWATCH_WATCHER_INTERVAL_SECONDS: '1',
    SATWATCH_WATCHER_LEASE_SECONDS: '6',
  });
  const timer = setTimeout(() => child.child.kill('SIGKILL'), 60_000);
  try {
    expect(await child.exited).toBeNull();
    expect(child.output().stdout).not.toContain('watcher cycle done');
  } finally {
    clearTimeout(timer);
  }
  await daemon.mongo.db.collection('leases').deleteMany({});
}

async function expectConsistent(daemon: TestDaemon, ids: string[], credits: number) {
  const db = daemon.mongo.db;
  const payments = await db
    .collection<Payment>('payments')
    .find({ _id: { $in: ids } })
    .toArray();
  for (const p of payments) {
    expect(p.credit?.state, p._id).toBe('done');
    expect(p.needsReview).toBe(false);
    expect(await db.collection<LedgerEntry>('ledger').countDocuments({ paymentId: p._id })).toBe(1);
  }
  const balance = (await daemon.ledger.balance('crash')).balance;
  expect(balance).toBe(credits);
  const state = await db.collection('chain_state').findOne({});
  expect(state?.tipHeight).toBe(await lab.tipHeight());
  expect(state?.tipHash).toBe(await lab.rpc.call<string>('getbestblockhash'));
  // Every stored header at or above the first payment block is on the best chain.
  for (const h of await db
    .collection<{ _id: string; height: number }>('chain_headers')
    .find({})
    .toArray()) {
    if (h.height < 0) continue;
    expect(await lab.rpc.call<string>('getblockhash', h.height), `header at ${h.height}`).toBe(
      h._id,
    );
  }
}

describe('the block scan killed mid-write', () => {
  for (const point of ['after-block-payments', 'after-block-header'] as const) {
    it(`recovers from a kill at ${point}: each payment credited once, position at the tip`, async () => {
      d = await startTestDaemon();
      await d.watcher.runCycle(); // the scan starts here
      const made = [];
      for (let i = 0; i < 3; i++) made.push(await createSatsPayment(d, 'crash', 20_000 + i, 2));
      await lab.payMany(made.map((p) => ({ address: p.address, sats: p.amountSats })));
      await lab.mine(3);
      await killedAt(d, point);
      await d.watcher.runCycle();
      await d.watcher.runCycle();
      await expectConsistent(
        d,
        made.map((p) => p.id),
        6,
      );
    });
  }

  it('recovers from a kill at after-reorg-payments: the new branch holds the money, no review', async () => {
    d = await startTestDaemon();
    await d.watcher.runCycle();
    const p = await createSatsPayment(d, 'crash', 20_000, 2);
    const paid = await lab.pay(p.address, 20_000);
    const old = await lab.mine(3);
    await d.watcher.runCycle();
    await lab.invalidateBlock(old[0]!);
    if (!(await lab.rpc.call<string[]>('getrawmempool')).includes(paid.txid))
      await lab.rpc.call('sendrawtransaction', paid.hex);
    await lab.mine(4);
    await killedAt(d, 'after-reorg-payments');
    await d.watcher.runCycle();
    await expectConsistent(d, [p.id], 2);
    const after = await d.mongo.db.collection<Payment>('payments').findOne({ _id: p.id });
    expect(after?.outputs[0]?.blockHeight).toBe((await lab.tipHeight()) - 3);
  });
});
