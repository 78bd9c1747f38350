/**
 * Forwarding on the lab: sweeps are real transactions that btcd (with --rejectnonstd) accepts
 * and mines; the cold wallet's balance is checked on chain. Crash points kill a real watcher
 * process between storing and broadcasting a sweep, and between broadcasting and recording it.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import * as bitcoin from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payment } from '../../src/payments/payment.js';
import type { Sweep } from '../../src/forwarding/sweep.js';
import { bip32 } from '../../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../../src/wallet/networks.js';
import { LabClient } from '../lab/client.js';
import { freshKey } from '../lab/keys.js';
import {
  type TestDaemon,
  independentAddress,
  newTestWallet,
  startReplica,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';
import { startHttpStub } from '../support/http-stub.js';
import { spawnSatwatch } from '../support/satwatch-process.js';
import { cycleAtNewBlock, forwardingDaemon, paidPayments } from '../support/forwarding.js';

let lab: LabClient;

beforeAll(async () => {
  lab = LabClient.fromState();
  await lab.setFeeEstimates({ '1': 20, '3': 8, '6': 3.5, '144': 1 });
});
afterAll(() => lab.setFeeEstimates(null));

const sweeps = (d: TestDaemon) =>
  d.mongo.db.collection<Sweep>('sweeps').find({}).sort({ createdAt: 1 }).toArray();

async function coldUtxos(
  address: string,
): Promise<{ txid: string; value: number; status: { confirmed: boolean } }[]> {
  return (await fetch(`${lab.esploraUrl}/address/${address}/utxo`)).json() as Promise<
    { txid: string; value: number; status: { confirmed: boolean } }[]
  >;
}

async function mempoolHas(txid: string): Promise<boolean> {
  return (await lab.rpc.call<string[]>('getrawmempool')).includes(txid);
}

describe('sweeping in sign mode', () => {
  let d: TestDaemon & { cold: string };
  beforeAll(async () => {
    d = await forwardingDaemon();
  });
  afterAll(() => stopTestDaemon(d));

  it('sweeps a single credited payment to the cold address, at the estimated fee rate', async () => {
    const [p] = await paidPayments(lab, d, [150_000]);
    const report = await d.watcher.runCycle();
    expect(report.credited).toBe(1);
    expect(report.forwarding).toMatchObject({ swept: 1, broadcast: 1, errors: 0 });
    const [sweep] = await sweeps(d);
    expect(sweep).toMatchObject({
      state: 'broadcast',
      feeRate: 3.5,
      inputs: [expect.objectContaining({ paymentId: p!.id, valueSats: 150_000 })],
    });
    expect(await mempoolHas(sweep!.txid!)).toBe(true);
    const tx = bitcoin.Transaction.fromHex(sweep!.hex!);
    expect(tx.ins.every((i) => i.sequence === 0xfffffffd)).toBe(true);
    expect(sweep!.feeSats / tx.virtualSize()).toBeGreaterThanOrEqual(3.5);
    expect(sweep!.feeSats / tx.virtualSize()).toBeLessThan(4.5);

    const payment = await d.mongo.db.collection<Payment>('payments').findOne({ _id: p!.id });
    expect(payment).toMatchObject({ status: 'forwarded', sweepTxid: sweep!.txid });

    await lab.mine(1);
    expect((await d.watcher.runCycle()).forwarding?.confirmed).toBe(1);
    expect((await d.sweeps.get(sweep!._id))?.state).toBe('confirmed');
    expect(await coldUtxos(d.cold)).toEqual([
      expect.objectContaining({
        txid: sweep!.txid,
        value: 150_000 - sweep!.feeSats,
        status: expect.objectContaining({ confirmed: true }) as unknown,
      }),
    ]);
  });

  it('sweeps a batch of 20 payments in one transaction that btcd accepts', async () => {
    const amounts = Array.from({ length: 20 }, (_, i) => 20_000 + i * 1000);
    const made = await paidPayments(lab, d, amounts);
    const before = (await sweeps(d)).length;
    await d.watcher.runCycle();
    const sweep = (await sweeps(d))[before]!;
    expect(sweep.inputs).toHaveLength(20);
    expect(sweep.state).toBe('broadcast');
    const total = amounts.reduce((s, a) => s + a, 0);
    expect(sweep.valueOutSats).toBe(total - sweep.feeSats);
    await lab.mine(1);
    await d.watcher.runCycle();
    const utxo = (await coldUtxos(d.cold)).find((u) => u.txid === sweep.txid);
    expect(utxo?.value).toBe(total - sweep.feeSats);
    const forwarded = await d.mongo.db
      .collection<Payment>('payments')
      .countDocuments({ _id: { $in: made.map((m) => m.id) }, status: 'forwarded' });
    expect(forwarded).toBe(20);
  });

  it('never sweeps a coin twice, even when two replicas sweep at the same time', async () => {
    await paidPayments(lab, d, [40_000, 41_000, 42_000]);
    await d.watcher.runCycle(); // credits and sweeps
    const replica = await startReplica(d);
    try {
      await paidPayments(lab, d, [43_000, 44_000]);
      // Credit first, then race only the sweeping step.
      await d.settlement.creditDue();
      const tip = await lab.tipHeight();
      await Promise.all([
        d.forwarder!.sweepDue(tip, { force: false }),
        replica.forwarder!.sweepDue(tip, { force: false }),
        d.forwarder!.sweepDue(tip, { force: false }),
      ]);
    } finally {
      await replica.close();
    }
    const live = (await sweeps(d)).filter((s) => !['abandoned', 'replaced'].includes(s.state));
    const outpoints = live.flatMap((s) => s.inputs.map((i) => `${i.txid}:${i.vout}`));
    expect(new Set(outpoints).size).toBe(outpoints.length);
  });

  it('lets an uneconomic sweep wait, then batches it with a later payment', async () => {
    await lab.setFeeEstimates({ '6': 40 });
    try {
      const [small] = await paidPayments(lab, d, [3_000]);
      const report = await d.watcher.runCycle();
      expect(report.forwarding?.waiting).toMatch(/fee|uneconomic/i);
      expect((await sweeps(d)).some((s) => s.inputs.some((i) => i.paymentId === small!.id))).toBe(
        false,
      );
      const [big] = await paidPayments(lab, d, [2_000_000]);
      await d.watcher.runCycle();
      const batch = (await sweeps(d)).find((s) => s.inputs.some((i) => i.paymentId === big!.id))!;
      expect(batch.inputs.map((i) => i.paymentId)).toEqual(
        expect.arrayContaining([small!.id, big!.id]),
      );
      expect(batch.valueOutSats).toBeGreaterThan(294);
    } finally {
      await lab.setFeeEstimates({ '1': 20, '3': 8, '6': 3.5, '144': 1 });
    }
  });

  it('replaces a sweep stuck at a low fee, tracks both until one confirms, and records one forwarded', async () => {
    await lab.setFeeEstimates({ '6': 1 });
    const [p] = await paidPayments(lab, d, [80_000]);
    await d.watcher.runCycle();
    const stuck = (await sweeps(d)).at(-1)!;
    expect(stuck).toMatchObject({ state: 'broadcast', feeRate: 1 });
    await lab.setFeeEstimates({ '6': 6 });
    // Pretend blocks went by without it (btcd would mine it in the next block otherwise).
    const tip = await lab.tipHeight();
    await d.mongo.db
      .collection<Sweep>('sweeps')
      .updateOne({ _id: stuck._id }, { $set: { broadcastHeight: tip - 10 } });
    expect((await cycleAtNewBlock(lab, d)).bumped).toBe(1);
    const after = await sweeps(d);
    const replacement = after.find((s) => s.bumpOf === stuck._id)!;
    expect(replacement).toMatchObject({ state: 'broadcast', feeRate: 6 });
    // The original stays tracked (a miner may still have it) until one of them confirms.
    expect(after.find((s) => s._id === stuck._id)).toMatchObject({
      state: 'broadcast',
      replacedBy: replacement._id,
    });
    expect(await mempoolHas(replacement.txid!)).toBe(true);
    expect(await mempoolHas(stuck.txid!)).toBe(false);
    expect((await fetch(`${lab.esploraUrl}/tx/${stuck.txid!}`)).status).toBe(404);
    expect(replacement.feeSats).toBeGreaterThan(stuck.feeSats + replacement.vsize - 1);
    await lab.mine(1);
    await d.watcher.runCycle();
    expect((await d.sweeps.get(replacement._id))?.state).toBe('confirmed');
    expect((await d.sweeps.get(stuck._id))?.state).toBe('replaced');
    const payment = await d.mongo.db.collection<Payment>('payments').findOne({ _id: p!.id });
    expect(payment?.events.filter((e) => e.type === 'forwarded')).toHaveLength(1);
    expect(payment?.events.filter((e) => e.type === 'sweep_replaced')).toHaveLength(1);
    expect(payment?.sweepTxid).toBe(replacement.txid);
    await lab.setFeeEstimates({ '1': 20, '3': 8, '6': 3.5, '144': 1 });
  });
});

describe('a chain API failure during broadcast', () => {
  it('leaves the signed sweep for the next cycle to broadcast', async () => {
    const profile = 'forwarding-broadcast';
    const base = await lab.faults(profile, {});
    const d = await forwardingDaemon({
      SATWATCH_CHAIN_ESPLORA_URLS: base,
      SATWATCH_CHAIN_RETRIES: '0',
    });
    try {
      await paidPayments(lab, d, [60_000]);
      await lab.faults(profile, { rate5xx: 1, pathPattern: '^/tx$' }); // POST /tx only
      const report = await d.watcher.runCycle();
      expect(report.credited).toBe(1);
      const [sweep] = await sweeps(d);
      expect(sweep).toMatchObject({ state: 'signed' });
      expect(await mempoolHas(sweep!.txid!)).toBe(false);
      await lab.faults(profile, {});
      expect((await d.watcher.runCycle()).forwarding?.broadcast).toBe(1);
      expect((await d.sweeps.get(sweep!._id))?.state).toBe('broadcast');
      expect(await mempoolHas(sweep!.txid!)).toBe(true);
      expect(await sweeps(d)).toHaveLength(1);
    } finally {
      await stopTestDaemon(d);
      await lab.clearFaults(profile);
    }
  });
});

describe('crash safety', () => {
  for (const point of ['after-sweep-stored', 'after-sweep-broadcast'] as const) {
    it(`ends with exactly one sweep on chain when the watcher dies ${point.replace('after-sweep-', 'after the sweep is ')}`, async () => {
      const d = await forwardingDaemon();
      try {
        const [p] = await paidPayments(lab, d, [90_000]);
        // The child process credits and sweeps, and dies at the failpoint.
        const child = spawnSatwatch(['serve', '--watcher-only'], {
          ...d.env,
          SATWATCH_WALLET_XPRV: d.testWallet.tprv,
          SATWATCH_FORWARDING_MODE: 'sign',
          SATWATCH_FORWARDING_COLD_ADDRESS: d.cold,
          SATWATCH_FAILPOINT: point,
        });
        expect(await child.exited).toBeNull(); // killed by SIGKILL at the failpoint
        const [sweep] = await sweeps(d);
        expect(sweep).toMatchObject({ state: 'signed' });
        expect(await mempoolHas(sweep!.txid!)).toBe(point === 'after-sweep-broadcast');

        // Restart: the stored transaction is broadcast (again), never rebuilt.
        await d.watcher.runCycle();
        await d.watcher.runCycle();
        const all = await sweeps(d);
        expect(all).toHaveLength(1);
        expect(all[0]).toMatchObject({ state: 'broadcast', txid: sweep!.txid });
        await lab.mine(1);
        await d.watcher.runCycle();
        const utxos = await coldUtxos(d.cold);
        expect(utxos).toHaveLength(1);
        expect(utxos[0]).toMatchObject({ txid: sweep!.txid, value: 90_000 - sweep!.feeSats });
        expect(
          (await d.mongo.db.collection<Payment>('payments').findOne({ _id: p!.id }))?.status,
        ).toBe('forwarded');
      } finally {
        await stopTestDaemon(d);
      }
    }, 60_000);
  }
});

describe('psbt mode (watch-only)', () => {
  it('hands out a PSBT that a signer elsewhere completes, then broadcasts it', async () => {
    const wallet = newTestWallet();
    const cold = freshKey().address;
    const d = await startTestDaemon(
      {
        SATWATCH_FORWARDING_MODE: 'psbt',
        SATWATCH_FORWARDING_COLD_ADDRESS: cold,
        SATWATCH_WALLET_MASTER_FINGERPRINT: wallet.masterFingerprint,
        SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '100000',
      },
      {},
      wallet,
    );
    try {
      await paidPayments(lab, d, [70_000, 30_000]);
      await d.watcher.runCycle();
      const [sweep] = await sweeps(d);
      expect(sweep).toMatchObject({ state: 'awaiting_signature', mode: 'psbt' });
      const download = await d.app.inject({
        method: 'GET',
        url: `/v1/admin/sweeps/${sweep!._id}/psbt`,
        headers: d.admin,
      });
      const psbt = bitcoin.Psbt.fromBase64(download.json<{ psbt: string }>().psbt, {
        network: BITCOIN_NETWORKS.regtest,
      });
      // The "hardware wallet": the master key, finding its keys through the PSBT's derivation paths.
      psbt.signAllInputsHD(bip32.fromSeed(wallet.seed, BITCOIN_NETWORKS.regtest));

      const refused = await d.app.inject({
        method: 'POST',
        url: `/v1/admin/sweeps/${sweep!._id}/psbt`,
        headers: d.admin,
        payload: { rawTx: 'deadbeefdeadbeef' },
      });
      expect(refused.statusCode).toBe(400);

      const submitted = await d.app.inject({
        method: 'POST',
        url: `/v1/admin/sweeps/${sweep!._id}/psbt`,
        headers: d.admin,
        payload: { psbt: psbt.toBase64() },
      });
      expect(submitted.statusCode).toBe(200);
      expect(submitted.json()).toMatchObject({ state: 'broadcast' });
      await lab.mine(1);
      await d.watcher.runCycle();
      expect((await d.sweeps.get(sweep!._id))?.state).toBe('confirmed');
      expect((await coldUtxos(cold))[0]?.value).toBe(100_000 - sweep!.feeSats);
      expect(
        (
          await d.app.inject({
            method: 'GET',
            url: `/v1/admin/sweeps/${sweep!._id}/psbt`,
            headers: d.admin,
          })
        ).statusCode,
      ).toBe(409);
    } finally {
      await stopTestDaemon(d);
    }
  });
});

describe('secrets in logs and responses', () => {
  it('never shows a configured secret or a key in debug logs or API answers over a full payment flow', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const webhookSecret = `whsec_${randomBytes(16).toString('hex')}`;
    const bearerToken = `esplora_${randomBytes(16).toString('hex')}`;
    const receiver = await startHttpStub(() => ({ status: 204, body: '' }));
    const d = await forwardingDaemon(
      {
        SATWATCH_WEBHOOK_URL: receiver.url,
        SATWATCH_WEBHOOK_SECRET: webhookSecret,
        SATWATCH_CHAIN_BEARER_TOKEN: bearerToken,
      },
      { logger: { level: 'trace' }, logDestination: sink },
    );
    const answers: string[] = [];
    try {
      // Every request through the real HTTP stack, as a merchant app and an admin would.
      const call = async (
        method: 'GET' | 'POST',
        url: string,
        headers: Record<string, string>,
        payload?: object,
      ) => {
        const res = await d.app.inject({ method, url, headers, ...(payload && { payload }) });
        answers.push(JSON.stringify(res.headers), res.body);
        return res;
      };
      const created = (
        await call('POST', '/v1/payments', d.merchant, {
          userId: 'secretive',
          price: { amount: '55000', currency: 'SAT' },
          credits: 1,
        })
      ).json<{ id: string; address: string }>();
      await call('GET', `/pay/${created.id}`, {});
      await lab.pay(created.address, 55_000);
      await lab.mine(3);
      await d.watcher.runCycle();
      await d.loop.deliverWebhooks();
      await lab.mine(1);
      await d.watcher.runCycle();
      expect((await sweeps(d))[0]?.state).toBe('confirmed');
      await call('GET', `/v1/payments/${created.id}`, d.merchant);
      await call('GET', '/v1/users/secretive/ledger', d.merchant);
      await call('GET', `/v1/admin/payments/${created.id}`, d.admin);
      await call('GET', '/v1/admin/sweeps', d.admin);
      await call('GET', '/v1/admin/webhooks', d.admin);
      for (const url of ['/readyz', '/metrics', '/openapi.json']) {
        const res = await d.ops.inject({ method: 'GET', url });
        answers.push(JSON.stringify(res.headers), res.body);
      }
      await call('GET', '/v1/payments?userId=secretive', { authorization: 'Bearer sw_wrong-key' });
      expect(receiver.requests.length).toBeGreaterThan(0);

      const log = lines.join('');
      expect(log).toContain('sweep broadcast');
      expect(d.log.level).toBe('trace'); // everything the daemon logs was written
      const payment = await d.mongo.db.collection<Payment>('payments').findOne({ _id: created.id });
      const account = bip32
        .fromSeed(d.testWallet.seed, BITCOIN_NETWORKS.regtest)
        .derivePath("m/84'/1'/0'");
      const inputKey = account.derive(0).derive(payment!.derivation!.index);
      const secrets = {
        xprv: d.testWallet.tprv,
        'xprv body': d.testWallet.tprv.slice(4, 40),
        seed: d.testWallet.seed.toString('hex'),
        'input private key': Buffer.from(inputKey.privateKey!).toString('hex'),
        'input WIF': inputKey.toWIF(),
        'account private key': Buffer.from(account.privateKey!).toString('hex'),
        'merchant API key': d.merchantKey,
        'admin API key': d.adminKey,
        'webhook secret': webhookSecret,
        'chain bearer token': bearerToken,
      };
      for (const [name, secret] of Object.entries(secrets)) {
        expect(log.includes(secret), `${name} in the logs`).toBe(false);
        expect(
          answers.some((a) => a.includes(secret)),
          `${name} in an API answer`,
        ).toBe(false);
      }
    } finally {
      await stopTestDaemon(d);
      await receiver.close();
    }
  });
});

describe('a cold xpub as destination', () => {
  it('sends every sweep to a fresh address of the cold wallet', async () => {
    const coldWallet = newTestWallet();
    const d = await forwardingDaemon({
      SATWATCH_FORWARDING_COLD_XPUB: coldWallet.vpub,
    });
    try {
      await paidPayments(lab, d, [50_000]);
      await d.watcher.runCycle();
      await paidPayments(lab, d, [60_000]);
      await d.watcher.runCycle();
      const [first, second] = await sweeps(d);
      expect([first?.destinationIndex, second?.destinationIndex]).toEqual([0, 1]);
      expect(first?.destination).toBe(await independentAddress(coldWallet, 0));
      expect(second?.destination).toBe(await independentAddress(coldWallet, 1));
    } finally {
      await stopTestDaemon(d);
    }
  });
});

describe('the admin forwarding API', () => {
  let d: TestDaemon & { cold: string };
  beforeAll(async () => {
    d = await forwardingDaemon();
  });
  afterAll(() => stopTestDaemon(d));

  it('lists sweeps and shows one with its signed transaction', async () => {
    await paidPayments(lab, d, [45_000]);
    await d.watcher.runCycle();
    const list = await d.app.inject({
      method: 'GET',
      url: '/v1/admin/sweeps?state=broadcast',
      headers: d.admin,
    });
    const items = list.json<{ items: { id: string; state: string; txid: string }[] }>().items;
    expect(items).toHaveLength(1);
    const detail = await d.app.inject({
      method: 'GET',
      url: `/v1/admin/sweeps/${items[0]!.id}`,
      headers: d.admin,
    });
    expect(bitcoin.Transaction.fromHex(detail.json<{ hex: string }>().hex).getId()).toBe(
      items[0]!.txid,
    );
    expect(
      (await d.app.inject({ method: 'GET', url: '/v1/admin/sweeps', headers: d.merchant }))
        .statusCode,
    ).toBe(403);
    expect(
      (
        await d.app.inject({ method: 'GET', url: '/v1/admin/sweeps?state=lost', headers: d.admin })
      ).json(),
    ).toMatchObject({ field: 'state' });
    expect(
      (await d.app.inject({ method: 'GET', url: '/v1/admin/sweeps/swp_nope', headers: d.admin }))
        .statusCode,
    ).toBe(404);
  });

  it('forwards a payment now on request, even one too small to sweep economically', async () => {
    await lab.setFeeEstimates({ '6': 40 });
    try {
      // At 40 sat/vB the fee eats over 40 % of 10,000 sats: it waits, unless an admin insists.
      const [small] = await paidPayments(lab, d, [10_000]);
      const report = await d.watcher.runCycle();
      expect(report.forwarding?.waiting).toBeDefined();
      const res = await d.app.inject({
        method: 'POST',
        url: `/v1/admin/payments/${small!.id}/forward`,
        headers: d.admin,
      });
      expect(res.statusCode).toBe(200);
      const { sweep } = res.json<{ sweep: { state: string; inputs: { paymentId: string }[] } }>();
      expect(sweep).toMatchObject({ state: 'broadcast', inputs: [{ paymentId: small!.id }] });
    } finally {
      await lab.setFeeEstimates({ '1': 20, '3': 8, '6': 3.5, '144': 1 });
    }
  });

  it('answers 409 when forwarding is off', async () => {
    const off = await startTestDaemon();
    try {
      const res = await off.app.inject({
        method: 'POST',
        url: '/v1/admin/payments/pay_x/forward',
        headers: off.admin,
      });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ error: 'forwarding_off' });
    } finally {
      await stopTestDaemon(off);
    }
  });
});

describe('satwatch sweep-stray', () => {
  it('finds coins no payment accounts for, lists them with --dry-run, and sweeps them', async () => {
    const d = await forwardingDaemon();
    try {
      // One payment issued, so index 0 is known; coins arrive at index 3, which no payment has.
      await paidPayments(lab, d, [30_000]);
      await d.watcher.runCycle();
      const strayAddress = d.wallet.receiveAddress(3).address;
      await lab.pay(strayAddress, 12_345);
      await lab.mine(1);
      const env = {
        ...d.env,
        SATWATCH_WALLET_XPRV: d.testWallet.tprv,
        SATWATCH_FORWARDING_MODE: 'sign',
        SATWATCH_FORWARDING_COLD_ADDRESS: d.cold,
      };
      const dry = spawnSatwatch(['sweep-stray', '--dry-run', '--gap', '5'], env);
      expect(await dry.exited).toBe(0);
      expect(dry.output().stdout).toContain("m/84'/1'/0'/0/3\t");
      expect(dry.output().stdout).toContain('1 stray coins, 12345 sats');
      const before = (await sweeps(d)).length;
      expect(before).toBe(1); // the dry run swept nothing

      const real = spawnSatwatch(['sweep-stray', '--gap', '5'], env);
      expect(await real.exited).toBe(0);
      expect(real.output().stdout).toMatch(/sweep swp_\S+ broadcast: [0-9a-f]{64}/);
      const stray = (await sweeps(d)).at(-1)!;
      expect(stray.inputs).toEqual([
        expect.objectContaining({ paymentId: 'stray:3', valueSats: 12_345 }),
      ]);
      await lab.mine(1);
      expect((await coldUtxos(d.cold)).find((u) => u.txid === stray.txid)?.value).toBe(
        12_345 - stray.feeSats,
      );
    } finally {
      await stopTestDaemon(d);
    }
  }, 60_000);
});
