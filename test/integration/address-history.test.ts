/**
 * No payment is ever given an address with chain history, and old money on a payment's address
 * is never credited (issue 9 §1). On the lab: a wallet key whose first addresses were paid (and
 * partly swept) before the daemon's database existed, a chain API that fails address lookups,
 * and a payment whose address holds money older than the payment.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SweepInput, planSweep } from '../../src/forwarding/tx/plan.js';
import { buildSweepPsbt } from '../../src/forwarding/tx/psbt.js';
import { signSweep } from '../../src/forwarding/tx/sign.js';
import type { Payment } from '../../src/payments/payment.js';
import { ChainStateStore } from '../../src/storage/chain-state.js';
import { EsploraChainSource } from '../../src/chain/esplora.js';
import { LabClient } from '../lab/client.js';
import {
  type TestDaemon,
  createSatsPayment,
  independentAddress,
  newTestWallet,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';
import { logSink } from '../support/log-sink.js';
import { makeWallet } from '../support/sweep-wallet.js';
import { voutPaying } from '../lab/keys.js';

let lab: LabClient;
beforeAll(() => {
  lab = LabClient.fromState();
});

const indexOf = (p: { derivationPath: string }) => Number(p.derivationPath.split('/').pop());

/** Pays receive addresses `indexes` of the wallet in one transaction and mines it. */
async function payIndexes(
  seed: Buffer,
  indexes: number[],
  sats: number,
): Promise<(SweepInput & { address: string })[]> {
  const account = makeWallet(seed).account('p2wpkh');
  const coins = indexes.map((index) => ({ index, address: account.address(index) }));
  const paid = await lab.payMany(coins.map((c) => ({ address: c.address, sats })));
  await lab.mine(1);
  return coins.map((c) => ({
    ...c,
    txid: paid.txid,
    vout: voutPaying(paid.hex, c.address),
    valueSats: sats,
    scriptType: 'p2wpkh' as const,
  }));
}

/** Spends `inputs` to an address outside the wallet, as an earlier deployment's sweep would. */
async function sweepAway(seed: Buffer, inputs: SweepInput[]): Promise<void> {
  const account = makeWallet(seed).account('p2wpkh');
  const outside = makeWallet().account('p2wpkh').address(0);
  const plan = planSweep(inputs, outside, 2, 'regtest', 10_000);
  const signed = signSweep(buildSweepPsbt(plan, account.sweep, 'regtest'), plan, account.node);
  await lab.rpc.call<string>('sendrawtransaction', signed.hex);
  await lab.mine(1);
}

describe('a wallet key with history on an empty database', () => {
  const wallet = newTestWallet();
  const logs = logSink();
  let d: TestDaemon;

  beforeAll(async () => {
    // An earlier deployment used the first 5 addresses; 3 of them were swept since.
    const coins = await payIndexes(wallet.seed, [0, 1, 2, 3, 4], 30_000);
    expect(coins.map((c) => c.address)).toEqual(
      await Promise.all([0, 1, 2, 3, 4].map((i) => independentAddress(wallet, i))),
    );
    await sweepAway(wallet.seed, coins.slice(0, 3));
    d = await startTestDaemon({}, { logger: { level: 'info' }, logDestination: logs.sink }, wallet);
  });
  afterAll(() => stopTestDaemon(d));

  it('scans the key before issuing its first address, and issues the first payment past the used ones', async () => {
    const tip = await lab.tipHeight();
    const first = await createSatsPayment<{ id: string; derivationPath: string }>(
      d,
      'restored-user',
      20_000,
      2,
    );
    expect(indexOf(first)).toBeGreaterThanOrEqual(5);
    const stored = await d.repo.findById(first.id);
    expect(stored?.createdAtHeight).toBe(tip);

    const scan = logs.find(/^address gap scan/);
    expect(scan).toHaveLength(1);
    expect(scan[0]).toMatchObject({ skipped: 5, gapLimit: 20 });
    expect(scan[0]!.msg).toBe(
      'address gap scan: 5 receive addresses skipped (the key has chain history)',
    );
    // The scan moved the counter: the first payment did not have to skip addresses one by one.
    expect(logs.find('receive address already has chain history; index skipped')).toEqual([]);
  });
});

describe('the gap scan', () => {
  const wallet = newTestWallet();
  const logs = logSink();
  let d: TestDaemon;

  beforeAll(async () => {
    await payIndexes(wallet.seed, [0, 2, 6], 12_000);
    d = await startTestDaemon(
      { SATWATCH_WALLET_GAP_LIMIT: '3' },
      { logger: { level: 'info' }, logDestination: logs.sink },
      wallet,
    );
  });
  afterAll(() => stopTestDaemon(d));

  it('stops after wallet.gapLimit unused addresses in a row; the check before issue catches what lies beyond', async () => {
    const indexes = [];
    for (const i of [1, 2, 3, 4])
      indexes.push(indexOf(await createSatsPayment(d, `u-gap-${i}`, 20_000, 1)));
    // 0 and 2 found by the scan (3, 4, 5 unused end it); 6 lies past the gap and is skipped at issue.
    expect(indexes).toEqual([3, 4, 5, 7]);
    expect(logs.find(/^address gap scan/)[0]).toMatchObject({ skipped: 3, gapLimit: 3 });
    expect(
      logs.find('receive address already has chain history; index skipped').map((r) => r.index),
    ).toEqual([6]);
  });
});

describe('issuing addresses', () => {
  const wallet = newTestWallet();
  const logs = logSink();
  const profile = `alloc-${randomBytes(4).toString('hex')}`;
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startTestDaemon(
      { SATWATCH_CHAIN_ESPLORA_URLS: await lab.faults(profile, {}), SATWATCH_CHAIN_RETRIES: '0' },
      { logger: { level: 'info' }, logDestination: logs.sink },
      wallet,
    );
  });
  afterAll(async () => {
    await stopTestDaemon(d);
    await lab.clearFaults(profile);
  });

  it('skips an address that received money after start, burning its index and recording nothing', async () => {
    // A first payment: the database's counter exists from now on (no more gap scans).
    await createSatsPayment(d, 'u-first', 20_000, 1);
    const next = await d.counter.peek(d.wallet.accountFingerprint);
    // Someone paid the next two addresses before any payment was given them.
    const coins = await payIndexes(wallet.seed, [next, next + 1], 15_000);
    const p = await createSatsPayment<{ id: string; derivationPath: string; address: string }>(
      d,
      'u-skip',
      20_000,
      1,
    );
    expect(indexOf(p)).toBe(next + 2);
    expect(p.address).toBe(await independentAddress(wallet, next + 2));
    const skipped = logs.find('receive address already has chain history; index skipped');
    expect(skipped.map((r) => r.index)).toEqual([next, next + 1]);
    for (const c of coins)
      expect(
        await d.mongo.db.collection<Payment>('payments').countDocuments({ address: c.address }),
      ).toBe(0);
  });

  it("stamps creations with the block scan's height, asking the chain for no tip", async () => {
    const chain = d.chain;
    if (!(chain instanceof EsploraChainSource)) throw new Error('expected the Esplora source');
    await lab.mine(1);
    await d.watcher.runCycle(); // the scan moves to the new tip
    const scanned = (await new ChainStateStore(d.mongo.db).scanState())?.tipHeight;
    expect(scanned).toBe(await lab.tipHeight());
    const tipReads = () =>
      (chain.stats().calls['/blocks/tip/hash'] ?? 0) +
      (chain.stats().calls['/blocks/tip/height'] ?? 0);
    const before = tipReads();
    const made = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => createSatsPayment<{ id: string }>(d, `u-burst-${i}`, 20_000, 1)),
    );
    expect(tipReads() - before).toBe(0);
    for (const p of made) expect((await d.repo.findById(p.id))?.createdAtHeight).toBe(scanned);
  });

  it('answers 503 in the error shape and writes nothing while the chain cannot be asked', async () => {
    const before = await d.counter.peek(d.wallet.accountFingerprint);
    const paymentsBefore = await d.mongo.db.collection<Payment>('payments').countDocuments();
    await lab.faults(profile, { rate5xx: 1, pathPattern: '^/address/' });
    const res = await d.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: { ...d.merchant, 'idempotency-key': `k-${randomBytes(4).toString('hex')}` },
      payload: { userId: 'u-down', price: { amount: '20000', currency: 'SAT' }, credits: 1 },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      error: 'chain_unavailable',
      message: expect.any(String) as unknown,
    });
    expect(res.headers['retry-after']).toBeDefined();
    expect(await d.mongo.db.collection<Payment>('payments').countDocuments()).toBe(paymentsBefore);
    // The index allocated for the check was given back: no gap in the wallet.
    expect(await d.counter.peek(d.wallet.accountFingerprint)).toBe(before);

    await lab.faults(profile, {});
    const ok = await createSatsPayment<{ derivationPath: string }>(d, 'u-down', 20_000, 1);
    expect(indexOf(ok)).toBe(before);
  });
});

describe('the receive counter', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon();
  });
  afterAll(() => stopTestDaemon(d));

  it('only moves forward when a gap scan advances it, and gives back only the last index', async () => {
    const fp = `test-${randomBytes(4).toString('hex')}`;
    expect(await d.counter.exists(fp)).toBe(false);
    await d.counter.advanceTo(fp, 7);
    await Promise.all([d.counter.advanceTo(fp, 5), d.counter.advanceTo(fp, 3)]);
    expect(await d.counter.peek(fp)).toBe(7);
    const [first, second] = [await d.counter.allocate(fp), await d.counter.allocate(fp)];
    expect([first, second]).toEqual([7, 8]);
    expect(await d.counter.release(fp, first)).toBe(false); // another index came after it
    expect(await d.counter.release(fp, second)).toBe(true);
    expect(await d.counter.allocate(fp)).toBe(8);
  });
});

describe('money older than the payment', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon();
  });
  afterAll(() => stopTestDaemon(d));

  it('is recorded on the payment, flagged for review and never credited', async () => {
    const p = await createSatsPayment<{ id: string; address: string }>(d, 'u-old', 25_000, 4);
    // The address gets money that confirms before the payment's recorded creation height, as a
    // payment created after a restore on a used address would see it.
    await lab.pay(p.address, 25_000);
    await lab.mine(3);
    const createdAtHeight = (await lab.tipHeight()) + 1;
    await d.mongo.db
      .collection<Payment>('payments')
      .updateOne({ _id: p.id }, { $set: { createdAtHeight } });

    await d.watcher.runCycle();
    await lab.mine(3);
    await d.watcher.runCycle();

    const stored = (await d.repo.findById(p.id)) as Payment;
    expect(stored.credit).toBeUndefined();
    expect(stored).toMatchObject({
      status: 'pending',
      receivedSats: 0,
      confirmedSats: 0,
      needsReview: true,
      reviewReasons: ['funds older than the payment'],
    });
    expect(stored.outputs).toEqual([
      expect.objectContaining({ valueSats: 25_000, old: true }) as unknown,
    ]);
    expect((await d.ledger.balance('u-old')).balance).toBe(0);

    const admin = await d.app.inject({
      method: 'GET',
      url: `/v1/admin/payments/${p.id}`,
      headers: d.admin,
    });
    expect(admin.json()).toMatchObject({
      createdAtHeight,
      needsReview: true,
      outputs: [{ valueSats: 25_000, old: true }],
    });
  });
});
