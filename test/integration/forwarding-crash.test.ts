/**
 * Sweeps and crashes, on the lab (issue 9 §2): a watcher process killed with SIGKILL at every
 * failpoint of the sweep path, a sweep left `building` by a dead process, and coins a lost
 * sweep stranded. Whatever the crash, the coins end swept exactly once: the cold wallet
 * receives them once, nothing stays on the hot addresses, no coin is spent twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Failpoint, SWEEP_FAILPOINTS } from '../../src/forwarding/failpoints.js';
import { auditCoins } from '../../src/forwarding/coin-audit.js';
import type { Payment } from '../../src/payments/payment.js';
import type { Sweep } from '../../src/forwarding/sweep.js';
import { LabClient } from '../lab/client.js';
import { type TestDaemon, startReplica, stopTestDaemon } from '../support/daemon.js';
import {
  DEFAULT_FEES,
  type MadePayment,
  allSweeps,
  forwardingDaemon,
  paidPayments,
  utxosOf,
} from '../support/forwarding.js';
import { spawnSatwatch } from '../support/satwatch-process.js';

let lab: LabClient;

beforeAll(async () => {
  lab = LabClient.fromState();
  await lab.setFeeEstimates(DEFAULT_FEES);
});
afterAll(() => lab.setFeeEstimates(null));

/** A watcher process of `d`'s configuration that dies (SIGKILL) at `point`. */
async function crashAt(d: TestDaemon, point: Failpoint): Promise<void> {
  const child = spawnSatwatch(['serve', '--watcher-only'], {
    ...d.env,
    SATWATCH_WATCHER_INTERVAL_SECONDS: '1',
    SATWATCH_FAILPOINT: point,
  });
  expect(await child.exited, child.output().stderr.slice(-500)).toBeNull();
}

/** The money invariant: every paid coin left the hot wallet in one confirmed sweep, once. */
async function expectSweptExactlyOnce(
  d: TestDaemon & { cold: string },
  made: MadePayment[],
  total: number,
): Promise<void> {
  const sweeps = await allSweeps(d);
  const confirmed = sweeps.filter((s) => s.state === 'confirmed');
  expect(confirmed, JSON.stringify(sweeps.map((s) => [s.state, s.events]))).toHaveLength(1);
  const sweep = confirmed[0]!;
  // No other sweep is live: abandoned ones stored nothing broadcastable.
  expect(sweeps.filter((s) => s !== sweep).map((s) => s.state)).toEqual(
    sweeps.filter((s) => s !== sweep).map(() => 'abandoned'),
  );
  const cold = await utxosOf(lab, d.cold);
  expect(cold).toEqual([
    expect.objectContaining({ txid: sweep.txid, value: total - sweep.feeSats }),
  ]);
  for (const p of made) expect(await utxosOf(lab, p.address), p.address).toEqual([]);
  const payments = await d.mongo.db
    .collection<Payment>('payments')
    .find({ _id: { $in: made.map((m) => m.id) } })
    .toArray();
  for (const p of payments) {
    expect(p.status).toBe('forwarded');
    expect(p.sweepTxid).toBe(sweep.txid);
    expect(p.events.filter((e) => e.type === 'forwarded')).toHaveLength(1);
  }
  const audit = await auditCoins(d, 5);
  expect([...audit.unaccounted, ...audit.awaitingSweep, ...audit.inSweeps]).toEqual([]);
}

/** Cycles of a daemon (a restarted leader) until a sweep is out, then one block. */
async function recoverAndConfirm(d: Pick<TestDaemon, 'watcher' | 'mongo'>): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await d.watcher.runCycle();
    const sweeps = await allSweeps(d);
    if (sweeps.some((s) => s.state === 'broadcast')) break;
  }
  await lab.mine(1);
  await d.watcher.runCycle();
}

describe('a watcher killed at every point of the sweep path', () => {
  const signPoints = SWEEP_FAILPOINTS.filter((p) => p !== 'after-sweep-psbt-stored');
  for (const point of signPoints) {
    it(`sweeps the coins exactly once when it dies at ${point}`, async () => {
      const d = await forwardingDaemon();
      try {
        const amounts = [61_000, 39_000];
        const made = await paidPayments(lab, d, amounts);
        await crashAt(d, point);
        // Restart: the in-process daemon's first cycle is a leader's start.
        await recoverAndConfirm(d);
        await expectSweptExactlyOnce(d, made, 100_000);
      } finally {
        await stopTestDaemon(d);
      }
    }, 120_000);
  }

  it('keeps a psbt-mode sweep that died after storing its PSBT for the admin, and sweeps it once', async () => {
    const d = await forwardingDaemon({ SATWATCH_FORWARDING_MODE: 'psbt' });
    try {
      const made = await paidPayments(lab, d, [50_000]);
      await crashAt(d, 'after-sweep-psbt-stored');
      await d.watcher.runCycle(); // the leader's start does not abandon a stored PSBT
      const [sweep] = await allSweeps(d);
      expect(sweep).toMatchObject({ state: 'awaiting_signature' });
      const { Psbt } = await import('bitcoinjs-lib');
      const { bip32 } = await import('../../src/wallet/extended-key.js');
      const { BITCOIN_NETWORKS } = await import('../../src/wallet/networks.js');
      const download = await d.app.inject({
        method: 'GET',
        url: `/v1/admin/sweeps/${sweep!._id}/psbt`,
        headers: d.admin,
      });
      const psbt = Psbt.fromBase64(download.json<{ psbt: string }>().psbt, {
        network: BITCOIN_NETWORKS.regtest,
      });
      psbt.signAllInputsHD(bip32.fromSeed(d.testWallet.seed, BITCOIN_NETWORKS.regtest));
      const submitted = await d.app.inject({
        method: 'POST',
        url: `/v1/admin/sweeps/${sweep!._id}/psbt`,
        headers: d.admin,
        payload: { psbt: psbt.toBase64() },
      });
      expect(submitted.statusCode, submitted.body).toBe(200);
      await lab.mine(1);
      await d.watcher.runCycle();
      await expectSweptExactlyOnce(d, made, 50_000);
    } finally {
      await stopTestDaemon(d);
    }
  }, 120_000);
});

describe('a watcher killed at every point of a fee bump', () => {
  const bumpPoints: Failpoint[] = [
    'after-sweep-create',
    'after-sweep-stored',
    'after-sweep-broadcast',
    'after-sweep-marked-broadcast',
    'after-sweep-recorded',
  ];
  for (const point of bumpPoints) {
    it(`ends with one of original and replacement confirmed, swept once, when it dies at ${point}`, async () => {
      const d = await forwardingDaemon();
      try {
        await lab.setFeeEstimates({ '6': 1 });
        const made = await paidPayments(lab, d, [90_000]);
        await d.watcher.runCycle();
        const [original] = await allSweeps(d);
        expect(original).toMatchObject({ state: 'broadcast', feeRate: 1 });
        // Stuck: blocks went by without it, and fees rose. The next cycle bumps it.
        await d.mongo.db
          .collection<Sweep>('sweeps')
          .updateOne(
            { _id: original!._id },
            { $set: { broadcastHeight: (await lab.tipHeight()) - 10 } },
          );
        await lab.setFeeEstimates({ '6': 6 });
        await crashAt(d, point);
        // A freshly started leader (d itself has run a cycle already: it is not starting).
        const restarted = await startReplica(d);
        try {
          await recoverAndConfirm(restarted);
        } finally {
          await restarted.close();
        }

        const sweeps = await allSweeps(d);
        const confirmed = sweeps.filter((s) => s.state === 'confirmed');
        expect(confirmed, JSON.stringify(sweeps.map((s) => [s.state, s.events]))).toHaveLength(1);
        const winner = confirmed[0]!;
        expect(winner.bumpOf).toBe(original!._id); // the bump went out and won
        for (const s of sweeps.filter((x) => x !== winner)) {
          expect(['replaced', 'abandoned']).toContain(s.state);
        }
        expect(await utxosOf(lab, d.cold)).toEqual([
          expect.objectContaining({ txid: winner.txid, value: 90_000 - winner.feeSats }),
        ]);
        expect(await utxosOf(lab, made[0]!.address)).toEqual([]);
        const payment = await d.repo.findById(made[0]!.id);
        expect(payment?.sweepTxid).toBe(winner.txid);
        expect(payment?.events.filter((e) => e.type === 'forwarded')).toHaveLength(1);
        expect(payment?.events.filter((e) => e.type === 'sweep_replaced')).toHaveLength(1);
      } finally {
        await lab.setFeeEstimates(DEFAULT_FEES);
        await stopTestDaemon(d);
      }
    }, 120_000);
  }
});

describe('a sweep left building by a process that died', () => {
  it('is abandoned once older than staleBuildSeconds, and its closed payment is swept again', async () => {
    let offsetMs = 0;
    const d = await forwardingDaemon(
      { SATWATCH_FORWARDING_STALE_BUILD_SECONDS: '120' },
      { now: () => new Date(Date.now() + offsetMs) },
    );
    try {
      await d.watcher.runCycle(); // this leader has started: its start-up recovery is done
      // Deep enough to be settled at once: the payment is no longer watched once credited.
      const made = await paidPayments(lab, d, [70_000], { confirm: 7 });
      const tip = await lab.tipHeight();
      const [issued] = await d.repo.listWatching();
      await d.watcher.check(issued!, tip);
      await d.settlement.creditDue();
      const payment = (await d.repo.findById(made[0]!.id))!;
      expect(payment).toMatchObject({ status: 'confirmed', watching: false });
      // What another process that died right after claiming the coins leaves behind.
      const inputs = payment.outputs.map((o) => ({
        paymentId: payment._id,
        txid: o.txid,
        vout: o.vout,
        valueSats: o.valueSats,
        scriptType: payment.derivation!.scriptType,
        index: payment.derivation!.index,
      }));
      const strandedId = 'swp_stranded_by_a_dead_process';
      await d.sweeps.create({
        _id: strandedId,
        state: 'building',
        mode: 'sign',
        inputs,
        destination: d.cold,
        feeRate: 3.5,
        vsize: 110,
        feeSats: 385,
        valueOutSats: 70_000 - 385,
        createdAt: new Date(),
        updatedAt: new Date(),
        events: [],
      });
      expect(await d.sweeps.claim(strandedId, inputs)).toBe(true);

      await d.watcher.runCycle(); // young: left alone (its builder may still be working)
      expect((await d.sweeps.get(strandedId))?.state).toBe('building');
      // Claimed by a sweep still building is not swept: the payment must stay open.
      expect((await d.repo.findById(payment._id))?.sweepDone).not.toBe(true);

      offsetMs = 301_000; // past 120 s (and past the 5 minutes the old code waited)
      await d.watcher.runCycle();
      expect(await d.sweeps.get(strandedId)).toMatchObject({
        state: 'abandoned',
        claimsReleased: true,
      });
      await lab.mine(1);
      await d.watcher.runCycle();
      await expectSweptExactlyOnce(d, made, 70_000);
    } finally {
      await stopTestDaemon(d);
    }
  }, 120_000);
});

describe('coins stranded by a lost sweep', () => {
  it('are reported by reconcile with their sats, found by sweep-stray, and swept once', async () => {
    const d = await forwardingDaemon();
    try {
      const made = await paidPayments(lab, d, [114_500], { confirm: 0 });
      // What the old bug left behind: the payment marked swept, its coin still on the hot address.
      await d.mongo.db
        .collection<Payment>('payments')
        .updateOne({ _id: made[0]!.id }, { $set: { sweepDone: true } });
      await lab.mine(3);
      await d.watcher.runCycle();
      expect(await allSweeps(d)).toEqual([]);

      const before = spawnSatwatch(['reconcile', '--gap', '3'], d.env);
      expect(await before.exited).toBe(2);
      expect(before.output().stdout).toContain('114500 sats unaccounted');
      expect(before.output().stdout).toMatch(/MISMATCH coin [0-9a-f]{64}:\d+ \(114500 sats\)/);

      const dry = spawnSatwatch(['sweep-stray', '--dry-run', '--gap', '3'], d.env);
      expect(await dry.exited).toBe(0);
      expect(dry.output().stdout).toContain('1 stray coins, 114500 sats');

      const real = spawnSatwatch(['sweep-stray', '--gap', '3'], d.env);
      expect(await real.exited).toBe(0);
      expect(real.output().stdout).toMatch(/sweep swp_\S+ broadcast/);
      const [sweep] = await allSweeps(d);
      expect(sweep!.inputs).toEqual([expect.objectContaining({ paymentId: made[0]!.id })]);

      const after = spawnSatwatch(['reconcile', '--gap', '3'], d.env);
      expect(await after.exited).toBe(0);
      await lab.mine(1);
      await d.watcher.runCycle();
      await expectSweptExactlyOnce(d, made, 114_500);
    } finally {
      await stopTestDaemon(d);
    }
  }, 120_000);
});
