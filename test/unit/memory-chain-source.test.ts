/**
 * The in-memory chain source's driver API: what watcher unit tests rely on beyond the contract
 * suite (which runs over it in memory-chain-contract.test.ts).
 */
import { randomBytes } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { BroadcastRejectedError, ChainSourceError } from '../../src/chain/chain-source.js';
import { freshKey, signSpend } from '../lab/keys.js';
import { MemoryChainSource, scriptOf } from '../support/memory-chain-source.js';

const address = (): string => freshKey().address;

describe('MemoryChainSource', () => {
  it('starts with a genesis block at height 0 whose hash is 64 hex digits', async () => {
    const chain = new MemoryChainSource();
    expect(await chain.tip()).toEqual({ height: 0, hash: await chain.blockHashAt(0) });
    expect(await chain.tipHash()).toMatch(/^[0-9a-f]{64}$/);
    expect(await chain.tipHeight()).toBe(0);
  });

  it('lists a payment in the address mempool until a block confirms it', async () => {
    const chain = new MemoryChainSource();
    const to = address();
    const txid = chain.pay(to, 25_000);
    expect((await chain.addressMempool(to)).map((tx) => tx.txid)).toEqual([txid]);
    expect(await chain.transactionStatus(txid)).toEqual({ confirmed: false });
    const [hash] = chain.mine();
    expect(await chain.addressMempool(to)).toEqual([]);
    expect(await chain.transactionStatus(txid)).toEqual({
      confirmed: true,
      blockHeight: 1,
      blockHash: hash,
      blockTime: expect.any(Number) as number,
    });
  });

  it('serves a mined block with the coinbase first and the paying output by script', async () => {
    const chain = new MemoryChainSource();
    const to = address();
    const txid = chain.pay(to, 25_000);
    const [hash] = chain.mine();
    const block = await chain.block(hash!);
    expect(block?.prevHash).toBe(await chain.blockHashAt(0));
    expect(block?.transactions[0]?.spends).toEqual([]);
    const paid = block?.transactions.find((tx) => tx.txid === txid);
    expect(paid?.outputs).toEqual([{ vout: 0, script: scriptOf(to), valueSats: 25_000 }]);
    expect(paid?.spends).toHaveLength(1);
  });

  it('pays a raw script as well as an address', async () => {
    const chain = new MemoryChainSource();
    const txid = chain.payMany([
      { to: '6a0568656c6c6f', sats: 0 },
      { to: Buffer.from(freshKey().output), sats: 1_000 },
    ]);
    const tx = await chain.transaction(txid);
    expect(tx?.outputs[0]).toEqual({ vout: 0, script: '6a0568656c6c6f', valueSats: 0 });
    expect(tx?.outputs[1]?.address).toMatch(/^bcrt1q/);
  });

  it('leaves excluded transactions in the mempool when mining', async () => {
    const chain = new MemoryChainSource();
    const kept = chain.pay(address(), 1_000);
    const mined = chain.pay(address(), 2_000);
    chain.mine(1, { exclude: [kept] });
    expect(chain.mempoolTxids).toEqual([kept]);
    expect((await chain.transactionStatus(mined)).confirmed).toBe(true);
  });

  it('mines only the included transactions into the first block', async () => {
    const chain = new MemoryChainSource();
    const a = chain.pay(address(), 1_000);
    const b = chain.pay(address(), 2_000);
    const [first, second] = chain.mine(2, { include: [b] });
    expect((await chain.block(first!))?.transactions.map((t) => t.txid)).toContain(b);
    expect((await chain.block(second!))?.transactions.map((t) => t.txid)).toContain(a);
  });

  it('replaces a payment: the old one is gone and the new one spends the same input', async () => {
    const chain = new MemoryChainSource();
    const to = address();
    const old = chain.pay(to, 10_000);
    const spent = (await chain.transaction(old))!.spends[0]!;
    const replacement = chain.replace(old);
    expect(await chain.transaction(old)).toBeUndefined();
    expect(await chain.addressMempool(to)).toEqual([]);
    expect(await chain.outspend(spent.txid, spent.vout)).toEqual({
      spent: true,
      txid: replacement,
    });
  });

  it('returns a disconnected block’s transactions to the mempool, unconfirmed', async () => {
    const chain = new MemoryChainSource();
    const to = address();
    const txid = chain.pay(to, 10_000);
    chain.mine(2);
    expect(chain.disconnect(2)).toBe(0);
    expect(await chain.blockHashAt(1)).toBeUndefined();
    expect(await chain.transactionStatus(txid)).toEqual({ confirmed: false });
    expect((await chain.addressMempool(to)).map((t) => t.txid)).toEqual([txid]);
  });

  it('forgets dropped transactions on a disconnect', async () => {
    const chain = new MemoryChainSource();
    const txid = chain.pay(address(), 10_000);
    chain.mine();
    chain.disconnect(1, { drop: true });
    expect(await chain.transaction(txid)).toBeUndefined();
  });

  it('changes the hash at a height on a reorg and confirms the transaction again', async () => {
    const chain = new MemoryChainSource();
    const txid = chain.pay(address(), 10_000);
    const [old] = chain.mine();
    const fresh = chain.reorg(1);
    expect(fresh).toHaveLength(2);
    expect(await chain.blockHashAt(1)).toBe(fresh[0]);
    expect(fresh[0]).not.toBe(old);
    expect((await chain.transactionStatus(txid)).blockHash).toBe(fresh[0]);
    // The stale block is still served by hash, as a server that saw it would.
    expect((await chain.block(old!))?.hash).toBe(old);
  });

  it('goes back to the invalidated branch on reconsider', async () => {
    const chain = new MemoryChainSource();
    const txid = chain.pay(address(), 10_000);
    const [block] = chain.mine();
    chain.invalidate(block!);
    expect(await chain.transactionStatus(txid)).toEqual({ confirmed: false });
    chain.reconsider(block!);
    expect((await chain.transactionStatus(txid)).blockHash).toBe(block);
    expect(chain.mempoolTxids).toEqual([]);
  });

  it('evicts a mempool double spend when the block with the original comes back', async () => {
    const chain = new MemoryChainSource();
    const coin = { txid: chain.pay(address(), 80_000), vout: 0 };
    const original = chain.pay(address(), 70_000, { spends: [coin] });
    const [block] = chain.mine();
    chain.invalidate(block!, { drop: [original] });
    const rival = chain.pay(address(), 69_000, { spends: [coin] });
    expect(await chain.outspend(coin.txid, coin.vout)).toEqual({ spent: true, txid: rival });
    chain.reconsider(block!);
    expect(await chain.transaction(rival)).toBeUndefined();
    expect(await chain.outspend(coin.txid, coin.vout)).toEqual({ spent: true, txid: original });
    expect((await chain.transactionStatus(original)).blockHash).toBe(block);
  });

  it('drops the descendants of a replaced transaction with it', async () => {
    const chain = new MemoryChainSource();
    const parent = chain.pay(address(), 50_000);
    const child = chain.pay(address(), 40_000, { spends: [{ txid: parent, vout: 0 }] });
    chain.replace(parent);
    expect(await chain.transaction(child)).toBeUndefined();
  });

  it('lists a spend from an address in its history and mempool', async () => {
    const chain = new MemoryChainSource();
    const from = address();
    const funding = chain.pay(from, 50_000);
    chain.mine();
    const spend = chain.pay(address(), 49_000, { spends: [{ txid: funding, vout: 0 }] });
    expect((await chain.addressTransactions(from)).map((t) => t.txid)).toEqual([spend, funding]);
    expect((await chain.addressMempool(from)).map((t) => t.txid)).toEqual([spend]);
  });

  it('keeps every payment apart with thousands of addresses', async () => {
    const chain = new MemoryChainSource();
    // Made-up witness programs: deriving 2,000 keys would cost more than the lookups.
    const addresses = Array.from({ length: 2_000 }, () =>
      bitcoin.address.toBech32(randomBytes(20), 0, 'bcrt'),
    );
    for (const to of addresses) chain.pay(to, 1_000);
    chain.mine();
    for (const to of addresses) chain.pay(to, 2_000);
    for (const to of addresses) expect(await chain.addressTransactions(to)).toHaveLength(2);
  }, 60_000);

  it('accepts a signed spend of a paid coin and refuses a second spend of it', async () => {
    const chain = new MemoryChainSource();
    const owner = freshKey();
    const coin = { txid: chain.pay(owner.address, 50_000), vout: 0, value: 50_000 };
    const spend = signSpend(owner, coin, address(), 500);
    expect(await chain.broadcast(spend.toHex())).toBe(spend.getId());
    expect(await chain.broadcast(spend.toHex())).toBe(spend.getId());
    expect((await chain.transaction(spend.getId()))?.feeSats).toBe(500);
    const rival = signSpend(owner, coin, address(), 900);
    await expect(chain.broadcast(rival.toHex())).rejects.toBeInstanceOf(BroadcastRejectedError);
    chain.mine();
    await expect(chain.broadcast(rival.toHex())).rejects.toThrow(/missingorspent/);
  });

  it('refuses a spend with a bad signature or of a coin that does not exist', async () => {
    const chain = new MemoryChainSource();
    const owner = freshKey();
    const coin = { txid: chain.pay(owner.address, 50_000), vout: 0, value: 50_000 };
    const bad = signSpend(owner, coin, address(), 500);
    const sig = Buffer.from(bad.ins[0]!.witness[0]!);
    sig[10] = sig[10]! ^ 0x01;
    bad.ins[0]!.witness[0] = sig;
    await expect(chain.broadcast(bad.toHex())).rejects.toThrow(/signature/i);
    const ghost = signSpend(
      owner,
      { txid: randomBytes(32).toString('hex'), vout: 0, value: 50_000 },
      address(),
      500,
    );
    await expect(chain.broadcast(ghost.toHex())).rejects.toBeInstanceOf(BroadcastRejectedError);
  });

  it('counts calls by method and can be told to fail the next one', async () => {
    const chain = new MemoryChainSource();
    await chain.tipHash();
    await chain.tipHash();
    await chain.block('00'.repeat(32));
    expect(chain.calls.tipHash).toBe(2);
    expect(chain.calls.block).toBe(1);
    expect(chain.totalCalls()).toBe(3);
    chain.failNext('tipHash');
    await expect(chain.tipHash()).rejects.toBeInstanceOf(ChainSourceError);
    expect(await chain.tipHash()).toMatch(/^[0-9a-f]{64}$/);
    chain.resetCalls();
    expect(chain.totalCalls()).toBe(0);
  });
});
