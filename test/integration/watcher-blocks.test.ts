/**
 * The block scan on the real lab (btcd regtest, the Esplora facade, the MongoDB wire server):
 * big blocks, a transaction paying hundreds of payments, downtime with blocks and with a reorg,
 * a payment long after its expiry, and servers that lie about blocks. Request counts come from
 * the Esplora source's own tallies, so "one request per block" is measured, not assumed.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EsploraChainSource } from '../../src/chain/esplora.js';
import { type Daemon, createDaemon } from '../../src/daemon.js';
import type { IssuedPayment, Payment } from '../../src/payments/payment.js';
import type { CycleReport } from '../../src/watcher/payment-watcher.js';
import { LabClient } from '../lab/client.js';
import { freshKey, signSpend } from '../lab/keys.js';
import { parseExposition, valueOf } from '../support/prometheus.js';
import {
  type TestDaemon,
  createSatsPayment,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';

const lab = LabClient.fromState();
const UNLIMITED = { SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '1000000' };
/** Everything started in a test, closed after it (databases dropped once). */
let cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  cleanup = [];
});

async function daemon(env: Record<string, string> = {}, now?: () => Date): Promise<TestDaemon> {
  const d = await startTestDaemon({ ...UNLIMITED, ...env }, now ? { now } : {});
  cleanup.push(() => stopTestDaemon(d));
  return d;
}

/** Stops `d` (its database stays) and starts it again, as an operator's restart would. */
async function restart(d: TestDaemon, now?: () => Date): Promise<Daemon> {
  await d.close();
  const again = await createDaemon(d.config, now ? { now } : {});
  cleanup.pop();
  cleanup.push(async () => {
    await again.mongo.db.dropDatabase();
    await again.close();
  });
  return again;
}

function esplora(d: Daemon): EsploraChainSource {
  if (!(d.chain instanceof EsploraChainSource)) throw new Error('expected the Esplora source');
  return d.chain;
}

async function cycle(d: Daemon): Promise<CycleReport> {
  const report = await d.watcher.runCycle();
  expect(report.errors).toBe(0);
  return report;
}

const payments = (d: Daemon) => d.mongo.db.collection<Payment>('payments');
const stored = async (d: Daemon, id: string) =>
  (await payments(d).findOne({ _id: id })) as IssuedPayment;

/** A clock that is `offsetMs` ahead of real time (checkouts created now are not "new" then). */
const ahead = (offsetMs: number) => () => new Date(Date.now() + offsetMs);

describe('downtime', () => {
  it('catches up on 150 blocks mined while stopped with one request per block plus the tip', async () => {
    const d = await daemon();
    await cycle(d); // the scan starts at the tip
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await createSatsPayment(d, `gap-${i}`, 20_000 + i, 2));
    await lab.payMany(made.map((p) => ({ address: p.address, sats: p.amountSats })));
    const d2 = await restart(d, ahead(10 * 60_000)); // no checkout is new or watched any more
    await lab.mine(150);

    const report = await cycle(d2);
    expect(report.blocksApplied).toBe(150);
    const { requests } = esplora(d2).stats();
    expect(requests['/block/:hash/raw']).toBe(150);
    expect(requests['/blocks/tip/hash']).toBe(1);
    expect(Object.values(requests).reduce((s, n) => s + n, 0)).toBe(151);
    for (const p of made) expect((await stored(d2, p.id)).credit?.state).toBe('done');
  });

  it('undoes a 3-block reorg that happened while stopped and follows the money to the new branch', async () => {
    const d = await daemon();
    await cycle(d);
    const p = await createSatsPayment(d, 'reorg-stopped', 30_000, 3);
    const paid = await lab.pay(p.address, 30_000);
    const old = await lab.mine(3);
    await cycle(d);
    expect((await stored(d, p.id)).credit?.state).toBe('done');

    const d2 = await restart(d);
    await lab.invalidateBlock(old[0]!);
    // btcd may or may not return the transaction to its mempool: make sure it is there.
    const mempool = await lab.rpc.call<string[]>('getrawmempool');
    if (!mempool.includes(paid.txid)) await lab.rpc.call('sendrawtransaction', paid.hex);
    const fresh = await lab.mine(4);

    const report = await cycle(d2);
    expect(report).toMatchObject({ blocksDisconnected: 3, blocksApplied: 4 });
    const after = await stored(d2, p.id);
    expect(after).toMatchObject({ status: 'confirmed', needsReview: false, confirmations: 4 });
    expect(after.outputs[0]?.blockHash).toBe(fresh[0]);
    expect((await d2.ledger.balance('reorg-stopped')).balance).toBe(3);
    const headers = d2.mongo.db.collection('chain_headers');
    expect(await headers.countDocuments({ _id: { $in: old } as never })).toBe(0);
  });
});

describe('big blocks', () => {
  it('matches a block of more than 2,000 transactions, several paying our payments, with one request', async () => {
    const d = await daemon();
    await cycle(d);
    const FEE = 250;
    const TXS = 2000;
    const ours: { id: string; address: string; amountSats: number }[] = [];
    for (let i = 0; i < 8; i++) ours.push(await createSatsPayment(d, `big-${i}`, 21_000 + i, 4));
    // Fund 2,000 coins of a key of our own in one transaction, then spend each in its own.
    const owner = freshKey();
    const values = Array.from(
      { length: TXS },
      (_, i) => (ours[i] ? ours[i].amountSats : 5000) + FEE,
    );
    const funding = await lab.payMany(values.map((sats) => ({ address: owner.address, sats })));
    await lab.mine(1);
    for (let vout = 0; vout < TXS; vout++) {
      const to = ours[vout]?.address ?? owner.address;
      const tx = signSpend(owner, { txid: funding.txid, vout, value: values[vout]! }, to, FEE);
      await lab.rpc.call('sendrawtransaction', tx.toHex());
    }
    const d2 = await restart(d, ahead(10 * 60_000));
    const [big] = await lab.mine(3);
    const block = await d2.chain.block(big!);
    expect(block!.transactions.length).toBeGreaterThan(TXS);
    esplora(d2).resetStats();

    const report = await cycle(d2);
    expect(report.blocksApplied).toBe(4); // the funding block, then the big one and two more
    expect(esplora(d2).stats().requests['/block/:hash/raw']).toBe(4);
    for (const p of ours) {
      expect(await stored(d2, p.id)).toMatchObject({
        status: 'confirmed',
        receivedSats: p.amountSats,
        credit: { state: 'done' },
      });
    }
  }, 300_000);

  it('credits 500 payments paid by one transaction with 500 outputs', async () => {
    const d = await daemon();
    await cycle(d);
    const made = [];
    for (let i = 0; i < 500; i++)
      made.push(await createSatsPayment(d, `fan-${i % 25}`, 10_000 + i, 1));
    await lab.payMany(made.map((p) => ({ address: p.address, sats: p.amountSats })));
    const d2 = await restart(d, ahead(10 * 60_000));
    await lab.mine(3);
    const report = await cycle(d2);
    expect(report.credited).toBe(500);
    expect(esplora(d2).stats().requests['/block/:hash/raw']).toBe(3);
    expect(await payments(d2).countDocuments({ 'credit.state': 'done' })).toBe(500);
    for (let u = 0; u < 25; u++) expect((await d2.ledger.balance(`fan-${u}`)).balance).toBe(20);
  }, 300_000);
});

describe('old addresses', () => {
  it('finds a payment to an address whose payment expired three days earlier, records it and holds it for review', async () => {
    let clock = new Date(Date.now() - 3 * 24 * 3600_000 - 2 * 3600_000);
    const d = await daemon({}, () => clock);
    const p = await createSatsPayment(d, 'three-days', 25_000, 5);
    clock = new Date();
    await cycle(d);
    expect((await stored(d, p.id)).status).toBe('expired');

    await lab.pay(p.address, 25_000);
    await lab.mine(3);
    await cycle(d);
    expect(await stored(d, p.id)).toMatchObject({
      status: 'expired',
      late: true,
      needsReview: true,
      receivedSats: 25_000,
      confirmedSats: 25_000,
    });
    expect((await d.ledger.balance('three-days')).balance).toBe(0);
  });
});

describe('servers that lie about blocks', () => {
  it('refuses a tampered block, counts it, takes the block from the next URL, and credits only real money', async () => {
    const profile = `tamper-${randomBytes(4).toString('hex')}`;
    const bad = await lab.faults(profile, { tamperBlock: 1 });
    cleanup.push(() => lab.clearFaults(profile));
    const d = await daemon({ SATWATCH_CHAIN_ESPLORA_URLS: `${bad},${lab.esploraUrl}` });
    await cycle(d);
    const p = await createSatsPayment(d, 'tampered', 20_000, 2);
    await lab.pay(p.address, 20_000);
    await lab.mine(3);
    const report = await cycle(d);
    expect(report.blocksApplied).toBe(3);
    expect((await lab.faultStats(profile)).injected.tamperBlock).toBeGreaterThanOrEqual(1);
    const refused = Object.values(esplora(d).stats().refusedBlocks).reduce((s, n) => s + n, 0);
    expect(refused).toBeGreaterThanOrEqual(1);
    expect((await stored(d, p.id)).credit?.state).toBe('done');
    const metrics = parseExposition((await d.ops.inject({ method: 'GET', url: '/metrics' })).body);
    expect(
      Object.entries(esplora(d).stats().refusedBlocks).every(
        ([host, n]) => valueOf(metrics, 'satwatch_chain_blocks_refused_total', { host }) === n,
      ),
    ).toBe(true);
  });

  it('applies nothing from a server that only sends tampered blocks, and counts the refusal', async () => {
    const profile = `tamper-only-${randomBytes(4).toString('hex')}`;
    const bad = await lab.faults(profile, { tamperBlock: 1 });
    cleanup.push(() => lab.clearFaults(profile));
    const d = await daemon({ SATWATCH_CHAIN_ESPLORA_URLS: bad });
    await d.watcher.runCycle();
    const p = await createSatsPayment(d, 'tampered-only', 20_000, 2);
    await lab.pay(p.address, 20_000);
    const d2 = await restart(d, ahead(10 * 60_000)); // no mempool look: only blocks could tell
    await lab.mine(3);
    const report = await d2.watcher.runCycle();
    expect(report.blocksRefused).toBe(1);
    expect(report.blocksApplied).toBe(0);
    expect(await stored(d2, p.id)).toMatchObject({ status: 'pending', outputs: [] });
    const metrics = parseExposition((await d2.ops.inject({ method: 'GET', url: '/metrics' })).body);
    expect(valueOf(metrics, 'satwatch_watcher_blocks_refused_total')).toBe(1);
  });

  it('never applies an invented tip whose proof of work does not meet its bits', async () => {
    const profile = `badpow-${randomBytes(4).toString('hex')}`;
    const bad = await lab.faults(profile, { badPow: true });
    cleanup.push(() => lab.clearFaults(profile));
    const d = await daemon({ SATWATCH_CHAIN_ESPLORA_URLS: `${bad},${lab.esploraUrl}` });
    await d.watcher.runCycle();
    const before = await d.mongo.db.collection('chain_state').findOne({});
    await lab.mine(1);
    const report = await d.watcher.runCycle();
    expect(report.blocksApplied).toBe(0);
    expect(report.errors).toBeGreaterThan(0);
    const after = await d.mongo.db.collection('chain_state').findOne({});
    expect(after?.tipHash).toBe(before?.tipHash);
    expect((await lab.faultStats(profile)).injected.badPow).toBeGreaterThanOrEqual(1);
  });
});
