/**
 * Forwarding integrity on the lab: only credited payments are forwarded and unpaid coins are
 * swept unpaid after their window (issue 9 §3); psbt-mode fee bumps, and the outspend check
 * before a broadcast (§5); tracking only on new blocks; the destination always from the
 * configuration, pinned in the database (issue 11 §1).
 */
import * as bitcoin from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EsploraChainSource } from '../../src/chain/esplora.js';
import { createDaemon } from '../../src/daemon.js';
import { planSweep } from '../../src/forwarding/tx/plan.js';
import { buildSweepPsbt } from '../../src/forwarding/tx/psbt.js';
import type { Payment } from '../../src/payments/payment.js';
import type { Sweep } from '../../src/forwarding/sweep.js';
import { bip32 } from '../../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../../src/wallet/networks.js';
import type { WebhookEvent } from '../../src/webhooks/outbox.js';
import { LabClient } from '../lab/client.js';
import { freshKey, signSpend } from '../lab/keys.js';
import {
  ACCOUNT_PATH,
  type TestDaemon,
  independentAddress,
  newTestWallet,
  stopTestDaemon,
} from '../support/daemon.js';
import {
  DEFAULT_FEES,
  allSweeps,
  cycleAtNewBlock,
  forwardingDaemon,
  mempoolHas,
  paidPayments,
  utxosOf,
} from '../support/forwarding.js';
import { spawnSatwatch } from '../support/satwatch-process.js';

let lab: LabClient;
const REGTEST = BITCOIN_NETWORKS.regtest;

beforeAll(async () => {
  lab = LabClient.fromState();
  await lab.setFeeEstimates(DEFAULT_FEES);
});
afterAll(() => lab.setFeeEstimates(null));

const paymentOf = (d: TestDaemon, id: string) =>
  d.mongo.db.collection<Payment>('payments').findOne({ _id: id }) as Promise<Payment>;

const setSweep = (d: TestDaemon, id: string, set: Partial<Sweep>) =>
  d.mongo.db.collection<Sweep>('sweeps').updateOne({ _id: id }, { $set: set });

/** Signs a sweep PSBT like a hardware wallet holding the master key. */
function hardwareSigned(d: TestDaemon, base64: string): string {
  const psbt = bitcoin.Psbt.fromBase64(base64, { network: REGTEST });
  psbt.signAllInputsHD(bip32.fromSeed(d.testWallet.seed, REGTEST));
  return psbt.toBase64();
}

async function downloadPsbt(d: TestDaemon, sweepId: string) {
  return d.app.inject({ method: 'GET', url: `/v1/admin/sweeps/${sweepId}/psbt`, headers: d.admin });
}

async function submitPsbt(d: TestDaemon, sweepId: string, psbt: string) {
  return d.app.inject({
    method: 'POST',
    url: `/v1/admin/sweeps/${sweepId}/psbt`,
    headers: d.admin,
    payload: { psbt },
  });
}

/** Makes a broadcast sweep look stuck: blocks went by, and fees rose. */
async function makeStuck(d: TestDaemon, sweep: Sweep): Promise<void> {
  await setSweep(d, sweep._id, { broadcastHeight: (await lab.tipHeight()) - 10 });
  await lab.setFeeEstimates({ '6': 6 });
}

describe('only credited payments are forwarded', () => {
  it('sweeps 5,000 of 20,000 sats only after the window closed, as swept-unpaid, never forwarded', async () => {
    let offsetMs = 0;
    const d = await forwardingDaemon({}, { now: () => new Date(Date.now() + offsetMs) });
    // Cheap fees: 5,000 sats are worth sweeping (the fee-share rule is another matter).
    await lab.setFeeEstimates({ '6': 1 });
    try {
      const [partial, full] = await paidPayments(lab, d, [20_000, 30_000], {
        paid: [5_000, 30_000],
      });
      await d.watcher.runCycle();
      // The fully paid one is credited and forwarded; the partial one waits.
      const swept = () =>
        allSweeps(d).then((all) => all.flatMap((s) => s.inputs.map((i) => i.paymentId)));
      expect(await swept()).toEqual([full!.id]);
      expect((await paymentOf(d, partial!.id)).status).toBe('confirming');

      offsetMs = 61 * 60_000 + 61_000; // past the expiry and its grace
      await d.watcher.runCycle();
      expect((await paymentOf(d, partial!.id)).status).toBe('underpaid');
      expect(await swept()).toEqual([full!.id]); // still inside the monitoring window

      offsetMs += 25 * 3600_000; // past the monitoring window
      await d.watcher.runCycle();
      expect(await swept()).toEqual([full!.id, partial!.id]);
      const unpaid = await paymentOf(d, partial!.id);
      expect(unpaid).toMatchObject({ status: 'underpaid', sweptUnpaid: true, watching: false });
      expect(unpaid.events.map((e) => e.type)).toContain('swept_unpaid');
      expect(unpaid.events.map((e) => e.type)).not.toContain('forwarded');
      const hooks = await d.mongo.db
        .collection<WebhookEvent>('webhook_events')
        .find({ paymentId: partial!.id })
        .toArray();
      expect(hooks.map((h) => h.type)).toContain('payment.swept_unpaid');
      expect(hooks.map((h) => h.type)).not.toContain('payment.forwarded');

      // The credited one: forwarded only after confirmed.
      const credited = await paymentOf(d, full!.id);
      const confirmedAt = credited.events.findIndex((e) => e.to === 'confirmed');
      const forwardedAt = credited.events.findIndex((e) => e.type === 'forwarded');
      expect(confirmedAt).toBeGreaterThanOrEqual(0);
      expect(forwardedAt).toBeGreaterThan(confirmedAt);
    } finally {
      await lab.setFeeEstimates(DEFAULT_FEES);
      await stopTestDaemon(d);
    }
  }, 60_000);
});

describe('fee bumps in psbt mode', () => {
  async function stuckPsbtSweep() {
    const d = await forwardingDaemon({ SATWATCH_FORWARDING_MODE: 'psbt' });
    await lab.setFeeEstimates({ '6': 1 });
    const [p] = await paidPayments(lab, d, [80_000]);
    await d.watcher.runCycle();
    const [sweep] = await allSweeps(d);
    const signed = await submitPsbt(
      d,
      sweep!._id,
      hardwareSigned(d, (await downloadPsbt(d, sweep!._id)).json<{ psbt: string }>().psbt),
    );
    expect(signed.json()).toMatchObject({ state: 'broadcast', feeRate: 1 });
    const original = (await d.sweeps.get(sweep!._id))!;
    await makeStuck(d, original);
    expect((await cycleAtNewBlock(lab, d)).bumped).toBe(1);
    const replacement = (await allSweeps(d)).find((s) => s.bumpOf === original._id)!;
    return { d, p: p!, original, replacement };
  }

  it('offers a replacement PSBT, tracks both, and the replacement confirming wins', async () => {
    const { d, p, original, replacement } = await stuckPsbtSweep();
    try {
      expect(replacement).toMatchObject({ state: 'awaiting_signature', feeRate: 6, mode: 'psbt' });
      const listed = await d.app.inject({
        method: 'GET',
        url: '/v1/admin/sweeps?state=awaiting_signature',
        headers: d.admin,
      });
      expect(listed.json<{ items: unknown[] }>().items).toEqual([
        expect.objectContaining({ id: replacement._id, bumpOf: original._id }),
      ]);
      const stillOut = (await d.sweeps.get(original._id))!;
      expect(stillOut.state).toBe('broadcast');
      expect(stillOut.events.map((e) => e.type)).toContain('bump_offered');
      // No second offer while one waits.
      expect((await d.watcher.runCycle()).forwarding?.bumped).toBe(0);

      const psbt = (await downloadPsbt(d, replacement._id)).json<{ psbt: string }>().psbt;
      const submitted = await submitPsbt(d, replacement._id, hardwareSigned(d, psbt));
      expect(submitted.statusCode, submitted.body).toBe(200);
      const out = submitted.json<{ txid: string; state: string }>();
      expect(out.state).toBe('broadcast');
      expect(await mempoolHas(lab, out.txid)).toBe(true);
      expect(await d.sweeps.get(original._id)).toMatchObject({
        state: 'broadcast',
        replacedBy: replacement._id,
      });

      await lab.mine(1);
      await d.watcher.runCycle();
      expect((await d.sweeps.get(replacement._id))?.state).toBe('confirmed');
      expect((await d.sweeps.get(original._id))?.state).toBe('replaced');
      const payment = await paymentOf(d, p.id);
      expect(payment.events.filter((e) => e.type === 'forwarded')).toHaveLength(1);
      expect(payment.events.filter((e) => e.type === 'sweep_replaced')).toHaveLength(1);
      expect(payment.sweepTxid).toBe(out.txid);
      const confirmed = (await d.sweeps.get(replacement._id))!;
      expect(await utxosOf(lab, d.config.forwarding.coldAddress!)).toEqual([
        expect.objectContaining({ txid: out.txid, value: 80_000 - confirmed.feeSats }),
      ]);
    } finally {
      await lab.setFeeEstimates(DEFAULT_FEES);
      await stopTestDaemon(d);
    }
  }, 60_000);

  it('lets the original win when it confirms first: the offered replacement ends replaced', async () => {
    const { d, p, original, replacement } = await stuckPsbtSweep();
    try {
      const offered = (await downloadPsbt(d, replacement._id)).json<{ psbt: string }>().psbt;
      await lab.mine(1);
      await d.watcher.runCycle();
      expect((await d.sweeps.get(original._id))?.state).toBe('confirmed');
      expect((await d.sweeps.get(replacement._id))?.state).toBe('replaced');
      const late = await submitPsbt(d, replacement._id, hardwareSigned(d, offered));
      expect(late.statusCode).toBe(409);
      const payment = await paymentOf(d, p.id);
      expect(payment.sweepTxid).toBe(original.txid);
      expect(payment.events.filter((e) => e.type === 'forwarded')).toHaveLength(1);
    } finally {
      await lab.setFeeEstimates(DEFAULT_FEES);
      await stopTestDaemon(d);
    }
  }, 60_000);
});

describe('inputs checked unspent before a broadcast', () => {
  it('does not broadcast a sweep whose coin was spent elsewhere, and flags the payment', async () => {
    const d = await forwardingDaemon();
    try {
      const [p] = await paidPayments(lab, d, [45_000]);
      const issued = await paymentOf(d, p!.id);
      const paidTx = (await d.chain.addressTransactions(p!.address))[0]!;
      const vout = paidTx.outputs.find((o) => o.address === p!.address)!.vout;
      // Someone with the hot key spends the coin before the forwarder does.
      const key = bip32
        .fromSeed(d.testWallet.seed, REGTEST)
        .derivePath(`${ACCOUNT_PATH}/0/${issued.derivation!.index}`);
      const owner = {
        key,
        address: p!.address,
        output: bitcoin.address.toOutputScript(p!.address, REGTEST),
      };
      const thief = freshKey().address;
      const spend = signSpend(owner, { txid: paidTx.txid, vout, value: 45_000 }, thief, 500);
      await d.chain.broadcast(spend.toHex());

      await d.watcher.runCycle();
      const [sweep] = await allSweeps(d);
      expect(sweep).toMatchObject({ state: 'rejected' });
      expect(sweep!.error).toMatch(/spent elsewhere/);
      expect(await mempoolHas(lab, sweep!.txid!)).toBe(false);
      const payment = await paymentOf(d, p!.id);
      expect(payment.needsReview).toBe(true);
      expect(payment.reviewReasons).toContain('coin spent elsewhere');
      expect(payment.events.map((e) => e.type)).not.toContain('forwarded');
      // Never recorded as swept on later cycles either.
      await d.watcher.runCycle();
      expect((await paymentOf(d, p!.id)).events.map((e) => e.type)).not.toContain('forwarded');
    } finally {
      await stopTestDaemon(d);
    }
  }, 60_000);

  it('never records a coin as swept twice when the same inputs rebuild the same transaction', async () => {
    const d = await forwardingDaemon();
    try {
      const [p] = await paidPayments(lab, d, [52_000]);
      await d.watcher.runCycle();
      await lab.mine(1);
      await d.watcher.runCycle();
      const [first] = await allSweeps(d);
      expect(first).toMatchObject({ state: 'confirmed' });
      // The claim is lost (as a stranded-sweep recovery could lose it): the coin looks due again.
      await d.mongo.db.collection('sweep_claims').deleteMany({});
      await d.mongo.db
        .collection<Payment>('payments')
        .updateOne({ _id: p!.id }, { $unset: { sweepDone: '' } });
      await d.watcher.runCycle();
      const all = await allSweeps(d);
      expect(all).toHaveLength(2);
      // Deterministic signatures: the same inputs, fee and destination give the same txid.
      expect(all[1]!.txid).toBe(first!.txid);
      expect(all[1]).toMatchObject({ state: 'rejected' });
      const payment = await paymentOf(d, p!.id);
      expect(payment.events.filter((e) => e.type === 'forwarded')).toHaveLength(1);
      expect(payment.events.filter((e) => e.type === 'sweep_confirmed')).toHaveLength(1);
    } finally {
      await stopTestDaemon(d);
    }
  }, 60_000);
});

describe('tracking on new blocks only', () => {
  it('asks the chain nothing about broadcast sweeps in a cycle without a new block, and never for the tip', async () => {
    const d = await forwardingDaemon();
    try {
      await paidPayments(lab, d, [33_000]);
      await d.watcher.runCycle();
      expect((await allSweeps(d))[0]).toMatchObject({ state: 'broadcast' });
      if (!(d.chain instanceof EsploraChainSource)) throw new Error('expected the Esplora source');
      const tip = await lab.tipHeight();
      d.chain.resetStats();
      await d.forwarder!.runCycle(tip, { newBlock: false });
      expect(d.chain.stats().calls).toEqual({});
      await d.forwarder!.runCycle(tip, { newBlock: true });
      const calls = d.chain.stats().calls;
      expect(calls['/tx/:txid/status']).toBe(1);
      expect(calls['/blocks/tip/height']).toBeUndefined();
    } finally {
      await stopTestDaemon(d);
    }
  }, 60_000);
});

describe('the destination comes from the configuration', () => {
  it('refuses to sign a fee bump of a sweep rewritten to a foreign address (sign mode)', async () => {
    const d = await forwardingDaemon();
    try {
      await lab.setFeeEstimates({ '6': 1 });
      await paidPayments(lab, d, [81_000]);
      await d.watcher.runCycle();
      const [sweep] = await allSweeps(d);
      const foreign = freshKey().address;
      await setSweep(d, sweep!._id, { destination: foreign });
      await makeStuck(d, sweep!);
      expect((await cycleAtNewBlock(lab, d)).bumped).toBe(0);
      const all = await allSweeps(d);
      expect(all).toHaveLength(1);
      expect(all[0]!.events.map((e) => e.type)).toContain('destination_refused');
      expect(await mempoolHas(lab, sweep!.txid!)).toBe(true);
      expect(await utxosOf(lab, foreign)).toEqual([]);
    } finally {
      await lab.setFeeEstimates(DEFAULT_FEES);
      await stopTestDaemon(d);
    }
  }, 60_000);

  it('refuses a fee bump to a cold xpub index that was never handed out', async () => {
    const coldWallet = newTestWallet();
    const d = await forwardingDaemon({ SATWATCH_FORWARDING_COLD_XPUB: coldWallet.vpub });
    try {
      await lab.setFeeEstimates({ '6': 1 });
      await paidPayments(lab, d, [82_000]);
      await d.watcher.runCycle();
      const [sweep] = await allSweeps(d);
      expect(sweep).toMatchObject({ destinationIndex: 0 });
      const foreign = await independentAddress(coldWallet, 999);
      await setSweep(d, sweep!._id, { destination: foreign, destinationIndex: 999 });
      await makeStuck(d, sweep!);
      expect((await cycleAtNewBlock(lab, d)).bumped).toBe(0);
      expect(await allSweeps(d)).toHaveLength(1);
      expect((await d.sweeps.get(sweep!._id))!.events.map((e) => e.type)).toContain(
        'destination_refused',
      );
      expect(await utxosOf(lab, foreign)).toEqual([]);
    } finally {
      await lab.setFeeEstimates(DEFAULT_FEES);
      await stopTestDaemon(d);
    }
  }, 60_000);

  it('refuses to serve or accept a PSBT of a sweep rewritten to a foreign address (psbt mode)', async () => {
    const d = await forwardingDaemon({ SATWATCH_FORWARDING_MODE: 'psbt' });
    try {
      await paidPayments(lab, d, [64_000]);
      await d.watcher.runCycle();
      const [sweep] = await allSweeps(d);
      const foreign = freshKey().address;
      await setSweep(d, sweep!._id, { destination: foreign });

      const download = await downloadPsbt(d, sweep!._id);
      expect(download.statusCode).toBe(409);
      expect(download.json()).toMatchObject({ error: 'destination_mismatch' });

      // A PSBT paying the foreign address, signed by the right keys: still refused.
      const plan = planSweep(
        sweep!.inputs.map(({ txid, vout, valueSats, scriptType, index }) => ({
          txid,
          vout,
          valueSats,
          scriptType,
          index,
        })),
        foreign,
        sweep!.feeRate,
        'regtest',
        10_000,
      );
      const psbt = buildSweepPsbt(
        plan,
        {
          network: 'regtest',
          derivationPath: ACCOUNT_PATH,
          masterFingerprint: d.testWallet.masterFingerprint,
          publicNode: d.wallet.publicNode,
        },
        'regtest',
      );
      const submitted = await submitPsbt(d, sweep!._id, hardwareSigned(d, psbt.toBase64()));
      expect(submitted.statusCode).toBeGreaterThanOrEqual(400);
      expect(submitted.statusCode).toBeLessThan(500);
      expect((await d.sweeps.get(sweep!._id))?.state).toBe('rejected');
      expect(await utxosOf(lab, foreign)).toEqual([]);
      expect(await lab.rpc.call<string[]>('getrawmempool')).not.toContain(
        bitcoin.Psbt.fromBase64(hardwareSigned(d, psbt.toBase64()), { network: REGTEST })
          .finalizeAllInputs()
          .extractTransaction()
          .getId(),
      );
    } finally {
      await stopTestDaemon(d);
    }
  }, 60_000);

  it('refuses to start with a changed cold address, and accepts it with the flag', async () => {
    const d = await forwardingDaemon();
    try {
      const other = freshKey().address;
      const changed = {
        ...d.config,
        forwarding: { ...d.config.forwarding, coldAddress: other },
      };
      await expect(createDaemon(changed)).rejects.toThrow(/forwarding\.coldAddress/);
      const accepted = await createDaemon(changed, { acceptNewColdDestination: true });
      await accepted.close();
      const hooks = await d.mongo.db
        .collection<WebhookEvent>('webhook_events')
        .find({ type: 'destination.changed' })
        .toArray();
      expect(hooks).toHaveLength(1);
      expect(hooks[0]!.data).toMatchObject({ destination: { coldAddress: other } });
      // Now pinned: the same configuration starts without the flag; the old one does not.
      await (await createDaemon(changed)).close();
      await expect(createDaemon(d.config)).rejects.toThrow(/forwarding\.coldAddress/);

      // The command line, as an operator runs it.
      const third = freshKey().address;
      const env = { ...d.env, SATWATCH_FORWARDING_COLD_ADDRESS: third };
      const refused = spawnSatwatch(['serve', '--watcher-only'], env);
      expect(await refused.exited).toBe(1);
      expect(refused.output().stderr).toMatch(
        /forwarding\.coldAddress.*--accept-new-cold-destination/s,
      );
      const flagged = spawnSatwatch(
        ['serve', '--watcher-only', '--accept-new-cold-destination'],
        env,
      );
      try {
        await flagged.waitForLine(/cold destination CHANGED/, 60_000);
      } finally {
        flagged.child.kill('SIGKILL');
        await flagged.exited;
      }
      const fourth = freshKey().address;
      const viaEnv = spawnSatwatch(['serve', '--watcher-only'], {
        ...d.env,
        SATWATCH_FORWARDING_COLD_ADDRESS: fourth,
        SATWATCH_ACCEPT_NEW_COLD_DESTINATION: '1',
      });
      try {
        await viaEnv.waitForLine(/cold destination CHANGED/, 60_000);
      } finally {
        viaEnv.child.kill('SIGKILL');
        await viaEnv.exited;
      }
    } finally {
      await d.mongo.db.collection('leases').deleteMany({});
      await stopTestDaemon(d);
    }
  }, 120_000);
});
