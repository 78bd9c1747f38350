/**
 * The block scan's logic, fast: the real watcher and MongoDB (the lab's wire server), with the
 * in-memory chain source (it passes the ChainSource contract suite) standing in for Esplora,
 * so blocks, reorgs, replacements and drops are made at will and every chain call is counted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { IssuedPayment, Payment } from '../../src/payments/payment.js';
import type { CycleReport } from '../../src/watcher/payment-watcher.js';
import { MemoryChainSource } from '../support/memory-chain-source.js';
import {
  type TestDaemon,
  createSatsPayment,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';

let d: TestDaemon | undefined;
let chain: MemoryChainSource;
let clock: Date;

afterEach(async () => {
  await stopTestDaemon(d);
  d = undefined;
});

async function start(env: Record<string, string> = {}): Promise<TestDaemon> {
  chain = new MemoryChainSource();
  chain.mine(10);
  clock = new Date();
  d = await startTestDaemon(
    { SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '100000', ...env },
    { chain, now: () => clock },
  );
  return d;
}

const later = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};

async function cycle(daemon: TestDaemon = d!): Promise<CycleReport> {
  const report = await daemon.watcher.runCycle();
  expect(report.errors).toBe(0);
  return report;
}

async function stored(id: string): Promise<IssuedPayment> {
  return (await d!.mongo.db.collection<Payment>('payments').findOne({ _id: id })) as IssuedPayment;
}

const create = (user: string, sats: number) => createSatsPayment(d!, user, sats, 5);

describe('request cost', () => {
  it('costs one request per idle cycle and tip + one block fetch per new block, whatever the number of payments', async () => {
    await start();
    await cycle(); // the scan starts at the tip
    for (let i = 0; i < 30; i++) await create(`idle-${i}`, 10_000);
    later(10 * 60_000); // nobody is looking at these checkouts any more
    chain.resetCalls();
    await cycle();
    await cycle();
    expect(chain.totalCalls()).toBe(2);
    expect(chain.calls.tipHash).toBe(2);

    chain.resetCalls();
    chain.mine(1);
    const report = await cycle();
    expect(report.blocksApplied).toBe(1);
    expect(chain.calls.tipHash + chain.calls.block).toBe(chain.totalCalls());
    expect(chain.totalCalls()).toBe(2);
  });

  it('adds one status request per tracked unconfirmed transaction a new block does not include', async () => {
    await start();
    await cycle();
    const p = await create('tracked', 20_000);
    const txid = chain.pay(p.address, 20_000);
    await cycle(); // new checkout: its mempool is looked at
    expect((await stored(p.id)).status).toBe('confirming');
    later(10 * 60_000);
    chain.resetCalls();
    chain.mine(1, { exclude: [txid] });
    await cycle();
    expect(chain.calls).toMatchObject({ tipHash: 1, block: 1, transaction: 1 });
    expect(chain.totalCalls()).toBe(3);
  });
});

describe('payments found by blocks', () => {
  it('confirms a mempool payment from the block, credits it at 3 confirmations, once', async () => {
    await start();
    await cycle();
    const p = await create('flow', 30_000);
    chain.pay(p.address, 30_000);
    await cycle();
    expect(await stored(p.id)).toMatchObject({ status: 'confirming', receivedSats: 30_000 });
    chain.mine(1);
    await cycle();
    expect(await stored(p.id)).toMatchObject({ status: 'confirming', confirmations: 1 });
    chain.mine(2);
    const report = await cycle();
    expect(report.credited).toBe(1);
    expect(await stored(p.id)).toMatchObject({ status: 'confirmed', confirmations: 3 });
    chain.mine(1);
    await cycle();
    expect((await d!.ledger.balance('flow')).balance).toBe(5);
  });

  it('finds a payment to an address whose payment expired three days ago, records it, and holds it for review', async () => {
    await start();
    await cycle();
    const p = await create('old', 25_000);
    later(3 * 24 * 3600_000);
    await cycle();
    expect((await stored(p.id)).status).toBe('expired');
    chain.pay(p.address, 25_000);
    chain.mine(3);
    await cycle();
    expect(await stored(p.id)).toMatchObject({
      status: 'expired',
      late: true,
      needsReview: true,
      receivedSats: 25_000,
      confirmedSats: 25_000,
    });
    expect((await d!.ledger.balance('old')).balance).toBe(0);
  });

  it('applying the same blocks again (rescan) changes nothing', async () => {
    await start();
    await cycle();
    const p = await create('again', 30_000);
    chain.pay(p.address, 30_000);
    chain.mine(3);
    await cycle();
    const before = await stored(p.id);
    expect(before.status).toBe('confirmed');
    const result = await d!.watcher.rescan(1, chain.tipHeightNow, () => undefined);
    expect(result.blocks).toBe(chain.tipHeightNow);
    expect(result.changed).toBe(0);
    expect((await stored(p.id)).version).toBe(before.version);
  });
});

describe('transactions that go away', () => {
  it('drops a payment transaction replaced in a block (a double spend), falling back to pending', async () => {
    await start();
    await cycle();
    const p = await create('conflict', 20_000);
    const txid = chain.pay(p.address, 20_000);
    await cycle();
    expect((await stored(p.id)).outputs[0]?.spends).toHaveLength(1);
    later(10 * 60_000); // no mempool checks: only the block can tell
    chain.replace(txid);
    chain.mine(1);
    chain.resetCalls();
    await cycle();
    expect(await stored(p.id)).toMatchObject({ status: 'pending', receivedSats: 0 });
    expect(chain.calls.transaction).toBe(0); // the block itself showed the conflict
  });

  it('drops a transaction that left the mempool once a block comes without it', async () => {
    await start();
    await cycle();
    const p = await create('dropped', 20_000);
    const txid = chain.pay(p.address, 20_000);
    await cycle();
    later(10 * 60_000);
    chain.dropFromMempool(txid);
    chain.mine(1);
    await cycle();
    expect(await stored(p.id)).toMatchObject({ status: 'pending', outputs: [] });
  });

  it('sees a replacement at once while the payer watches the checkout', async () => {
    await start();
    await cycle();
    const p = await create('watched', 20_000);
    const txid = chain.pay(p.address, 20_000);
    await cycle();
    later(10 * 60_000);
    await d!.app.inject({ method: 'GET', url: `/pay/${p.id}/status` });
    chain.replace(txid);
    await cycle();
    expect(await stored(p.id)).toMatchObject({ status: 'pending', receivedSats: 0 });
  });
});

describe('reorgs', () => {
  it('rolls confirmations back before credit and applies the new branch', async () => {
    await start();
    await cycle();
    const p = await create('reorg-early', 20_000);
    const txid = chain.pay(p.address, 20_000);
    chain.mine(1);
    await cycle();
    expect(await stored(p.id)).toMatchObject({ status: 'confirming', confirmations: 1 });
    chain.reorg(1, { exclude: [txid] }); // the new branch leaves it in the mempool
    const report = await cycle();
    expect(report.blocksDisconnected).toBe(1);
    expect(await stored(p.id)).toMatchObject({
      status: 'confirming',
      confirmations: 0,
      confirmedSats: 0,
    });
    chain.mine(3);
    await cycle();
    expect(await stored(p.id)).toMatchObject({ status: 'confirmed', confirmations: 3 });
  });

  it('flags a credited payment for review when a reorg drops its transaction', async () => {
    await start();
    await cycle();
    const p = await create('reorg-late', 20_000);
    chain.pay(p.address, 20_000);
    chain.mine(3);
    await cycle();
    expect((await stored(p.id)).credit?.state).toBe('done');
    chain.reorg(3, { drop: true, blocks: 4 });
    await cycle();
    expect(await stored(p.id)).toMatchObject({
      status: 'confirmed',
      needsReview: true,
      confirmedSats: 0,
    });
    expect((await d!.ledger.balance('reorg-late')).balance).toBe(5);
  });

  it('moves a credited payment to the new branch of a 3-block reorg without a false review flag', async () => {
    await start();
    await cycle();
    const p = await create('reorg-moved', 20_000);
    chain.pay(p.address, 20_000);
    chain.mine(3);
    await cycle();
    const before = await stored(p.id);
    expect(before.credit?.state).toBe('done');
    chain.reorg(3, { blocks: 4 }); // the transaction is mined again in the new branch
    const report = await cycle();
    expect(report).toMatchObject({ blocksDisconnected: 3, blocksApplied: 4 });
    const after = await stored(p.id);
    expect(after).toMatchObject({ status: 'confirmed', needsReview: false, confirmations: 4 });
    expect(after.outputs[0]?.blockHash).not.toBe(before.outputs[0]?.blockHash);
    expect(after.outputs[0]?.blockHash).toBe(await chain.blockHashAt(chain.tipHeightNow - 3));
  });

  it('follows a shorter chain after blocks are invalidated', async () => {
    await start();
    await cycle();
    const p = await create('invalidated', 20_000);
    chain.pay(p.address, 20_000);
    const [first] = chain.mine(2);
    await cycle();
    expect((await stored(p.id)).confirmations).toBe(2);
    chain.invalidate(first!);
    const report = await cycle();
    expect(report.tipHeight).toBe(chain.tipHeightNow);
    expect(await stored(p.id)).toMatchObject({ confirmations: 0, confirmedSats: 0 });
    chain.reconsider(first!);
    await cycle();
    expect((await stored(p.id)).confirmations).toBe(2);
  });
});

describe('downtime', () => {
  it('catches up on blocks mined while stopped, one block request each plus the tip', async () => {
    await start();
    await cycle();
    const payments = [];
    for (let i = 0; i < 5; i++) payments.push(await create(`gap-${i}`, 10_000 + i));
    later(10 * 60_000);
    for (const [i, p] of payments.entries()) {
      chain.pay(p.address, 10_000 + i);
      chain.mine(30);
    }
    chain.resetCalls();
    const report = await cycle();
    expect(report.blocksApplied).toBe(150);
    expect(chain.calls.block).toBe(150);
    expect(chain.calls.tipHash).toBe(1);
    for (const p of payments) expect((await stored(p.id)).credit?.state).toBe('done');
  });

  it('goes forward by height when the gap is longer than the walk-back bound', async () => {
    await start({});
    await cycle();
    const p = await create('long-gap', 10_000);
    chain.pay(p.address, 10_000);
    chain.mine(600);
    await cycle();
    expect(await stored(p.id)).toMatchObject({ status: 'confirmed' });
    expect((await d!.mongo.db.collection('chain_state').findOne({}))?.tipHeight).toBe(
      chain.tipHeightNow,
    );
  });
});
