/**
 * The chain source contract (in the spirit of LND's chainntnfs interface tests): every backend
 * the watcher can run on (Esplora today, Bitcoin Core RPC later, the in-memory source of the
 * unit tests) must pass these tests. Call `chainSourceContract(name, setup)` with the source and
 * a driver that moves the chain under it: `labDriver` for the lab (integration project), the
 * memory source's own driver in the unit project.
 *
 * On the lab other test files mine blocks on the same chain, so nothing here assumes an exact
 * tip: tips are compared with what the node says before and after, and "confirmed" means "in a
 * block at or below the one we mined".
 */
import { randomBytes } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BroadcastRejectedError,
  type ChainSource,
  type ChainTransaction,
} from '../../src/chain/chain-source.js';
import type { LabClient } from '../lab/client.js';
import { freshKey, signSpend, type TestKey, voutPaying } from '../lab/keys.js';

/** A payment the driver made: one output of `sats` to the address, at `vout`. */
export interface DriverPayment {
  txid: string;
  vout: number;
  fee: number;
  vsize: number;
  /** Outputs of the whole transaction (change included). */
  outputCount: number;
}

/** Moves the chain under a source, and tells what the node behind it knows (the truth). */
export interface ChainDriver {
  pay(address: string, sats: number, options?: { rbf?: boolean }): Promise<DriverPayment>;
  /** Replaces an RBF payment; the money goes elsewhere. */
  replace(txid: string): Promise<{ txid: string }>;
  mine(blocks?: number): Promise<string[]>;
  /** The block and its descendants leave the best chain (bitcoind's invalidateblock). */
  invalidate(hash: string): Promise<void>;
  reconsider(hash: string): Promise<void>;
  bestHash(): Promise<string>;
  tipHeight(): Promise<number>;
  hashAt(height: number): Promise<string>;
  heightOf(hash: string): Promise<number>;
  setFeeEstimates(estimates: Record<string, number> | null): Promise<void>;
}

export interface ContractSetup {
  source: ChainSource;
  driver: ChainDriver;
}

/** The lab as a driver: the payer wallet, btcd's RPC for the truth. */
export function labDriver(lab: LabClient): ChainDriver {
  return {
    async pay(address, sats, options = {}) {
      const paid = await lab.pay(address, sats, options);
      return {
        txid: paid.txid,
        vout: voutPaying(paid.hex, address),
        fee: paid.fee,
        vsize: paid.vsize,
        outputCount: bitcoin.Transaction.fromHex(paid.hex).outs.length,
      };
    },
    replace: (txid) => lab.replace(txid),
    mine: (blocks = 1) => lab.mine(blocks),
    async invalidate(hash) {
      await lab.invalidateBlock(hash);
    },
    async reconsider(hash) {
      await lab.reconsiderBlock(hash);
    },
    bestHash: () => lab.rpc.call<string>('getbestblockhash'),
    tipHeight: () => lab.tipHeight(),
    hashAt: (height) => lab.rpc.call<string>('getblockhash', height),
    heightOf: async (hash) =>
      (await lab.rpc.call<{ height: number }>('getblockheader', hash, true)).height,
    setFeeEstimates: (estimates) => lab.setFeeEstimates(estimates),
  };
}

export function chainSourceContract(
  name: string,
  setup: () => ContractSetup | Promise<ContractSetup>,
): void {
  describe(`${name} meets the chain source contract`, () => {
    let node: ChainDriver;
    let source: ChainSource;

    beforeAll(async () => {
      ({ source, driver: node } = await setup());
    });

    const nodeHashAt = (height: number) => node.hashAt(height);
    const nodeHeightOf = (hash: string) => node.heightOf(hash);
    const only = (txs: ChainTransaction[], txid: string): ChainTransaction => {
      const found = txs.filter((tx) => tx.txid === txid);
      expect(found, `transactions with txid ${txid}`).toHaveLength(1);
      return found[0]!;
    };

    /** A coin owned by a fresh key, paid by the lab's payer (unconfirmed). */
    async function ownedCoin(
      sats: number,
    ): Promise<{ owner: TestKey; coin: { txid: string; vout: number; value: number } }> {
      const owner = freshKey();
      const paid = await node.pay(owner.address, sats);
      return { owner, coin: { txid: paid.txid, vout: paid.vout, value: sats } };
    }

    it('reports the tip btcd has, with the hash of that height', async () => {
      const before = await node.tipHeight();
      const tip = await source.tip();
      const after = await node.tipHeight();
      expect(tip.height).toBeGreaterThanOrEqual(before);
      expect(tip.height).toBeLessThanOrEqual(after);
      expect(tip.hash).toBe(await nodeHashAt(tip.height));
    });

    it('gives the hash of the tip block for the tip height', async () => {
      const tip = await source.tip();
      expect(await source.blockHashAt(tip.height)).toBe(tip.hash);
    });

    it('gives the same block hashes as btcd below the tip', async () => {
      const tip = await source.tip();
      for (const height of [0, 1, tip.height - 1]) {
        expect(await source.blockHashAt(height)).toBe(await nodeHashAt(height));
      }
    });

    it('answers undefined for a height far above the tip', async () => {
      const tip = await source.tip();
      expect(await source.blockHashAt(tip.height + 1000)).toBeUndefined();
    });

    it('lists a fresh payment as unconfirmed, with its outputs, fee and size', async () => {
      const key = freshKey();
      const paid = await node.pay(key.address, 123_456);
      const tx = only(await source.addressTransactions(key.address), paid.txid);
      expect(tx.status).toEqual({ confirmed: false });
      const vout = paid.vout;
      expect(tx.outputs.find((o) => o.vout === vout)).toEqual({
        vout,
        address: key.address,
        script: Buffer.from(key.output).toString('hex'),
        valueSats: 123_456,
      });
      expect(tx.outputs).toHaveLength(paid.outputCount);
      expect(tx.feeSats).toBe(paid.fee);
      expect(tx.vsize).toBe(paid.vsize);
    });

    it('lists a payment as confirmed, with block height, hash and time, once it is mined', async () => {
      const key = freshKey();
      const paid = await node.pay(key.address, 54_321);
      const [mined] = (await node.mine(1)) as [string];
      const minedHeight = await nodeHeightOf(mined);
      const tx = only(await source.addressTransactions(key.address), paid.txid);
      expect(tx.status.confirmed).toBe(true);
      // Another test may have mined it a moment earlier: at or below our block, never above.
      expect(tx.status.blockHeight).toBeLessThanOrEqual(minedHeight);
      expect(tx.status.blockHash).toBe(await nodeHashAt(tx.status.blockHeight!));
      expect(tx.status.blockTime).toEqual(expect.any(Number));
      expect(await source.transactionStatus(paid.txid)).toEqual(tx.status);
    });

    it('returns a known transaction by txid, as the address history shows it', async () => {
      const key = freshKey();
      const paid = await node.pay(key.address, 77_000);
      const tx = await source.transaction(paid.txid);
      const listed = only(await source.addressTransactions(key.address), paid.txid);
      // The status may move between the two reads if another test mines; the rest may not.
      expect({ ...tx, status: undefined }).toEqual({ ...listed, status: undefined });
      expect(tx?.txid).toBe(paid.txid);
      expect(tx?.feeSats).toBe(paid.fee);
    });

    it('answers {confirmed: false} for the status of a txid nobody has seen', async () => {
      expect(await source.transactionStatus(randomBytes(32).toString('hex'))).toEqual({
        confirmed: false,
      });
    });

    it('answers undefined for a transaction nobody has seen', async () => {
      expect(await source.transaction(randomBytes(32).toString('hex'))).toBeUndefined();
    });

    it('answers an empty history for an address nobody has paid', async () => {
      expect(await source.addressTransactions(freshKey().address)).toEqual([]);
    });

    it('returns every transaction of an address with more than 25 confirmed ones, once each', async () => {
      const busy = freshKey().address;
      const confirmed: string[] = [];
      for (let i = 0; i < 30; i++) {
        confirmed.push((await node.pay(busy, 10_000 + i)).txid);
        if (i % 6 === 5) await node.mine(1);
      }
      const pending = (await node.pay(busy, 20_000)).txid;
      const txs = await source.addressTransactions(busy);
      expect(txs.map((tx) => tx.txid).sort()).toEqual([...confirmed, pending].sort());
      for (const tx of txs) {
        expect(tx.status.confirmed, tx.txid).toBe(tx.txid !== pending);
        const out = tx.outputs.find((o) => o.address === busy);
        expect(out?.valueSats).toBe(
          tx.txid === pending ? 20_000 : 10_000 + confirmed.indexOf(tx.txid),
        );
      }
    });

    it('flags a transaction whose inputs signal BIP125 replaceability', async () => {
      const key = freshKey();
      const paid = await node.pay(key.address, 40_000);
      expect(only(await source.addressTransactions(key.address), paid.txid).signalsRbf).toBe(true);
    });

    it('does not flag a transaction with final sequence numbers as replaceable', async () => {
      const key = freshKey();
      const paid = await node.pay(key.address, 40_000, { rbf: false });
      expect(only(await source.addressTransactions(key.address), paid.txid).signalsRbf).toBe(false);
    });

    it('forgets a payment once it is replaced by fee (RBF)', async () => {
      const key = freshKey();
      const original = await node.pay(key.address, 90_000);
      expect((await source.addressTransactions(key.address)).map((t) => t.txid)).toEqual([
        original.txid,
      ]);
      const replacement = await node.replace(original.txid);
      expect(await source.addressTransactions(key.address)).toEqual([]);
      expect(await source.transaction(original.txid)).toBeUndefined();
      expect(await source.transactionStatus(original.txid)).toEqual({ confirmed: false });
      expect((await source.transaction(replacement.txid))?.txid).toBe(replacement.txid);
    });

    it('broadcasts a valid transaction and returns its txid', async () => {
      const { owner, coin } = await ownedCoin(60_000);
      const to = freshKey().address;
      const spend = signSpend(owner, coin, to, 1_000);
      expect(await source.broadcast(spend.toHex())).toBe(spend.getId());
      const seen = await source.transaction(spend.getId());
      expect(seen?.outputs).toEqual([
        {
          vout: 0,
          address: to,
          script: expect.stringMatching(/^0014[0-9a-f]{40}$/) as string,
          valueSats: 59_000,
        },
      ]);
    });

    it('lists a transaction spending from the address in its history', async () => {
      const { owner, coin } = await ownedCoin(60_000);
      const spend = signSpend(owner, coin, freshKey().address, 1_000);
      await source.broadcast(spend.toHex());
      const txids = (await source.addressTransactions(owner.address)).map((t) => t.txid);
      expect(txids.sort()).toEqual([coin.txid, spend.getId()].sort());
    });

    it('tells whether an output is spent, and by which transaction (mempool or chain)', async () => {
      const { owner, coin } = await ownedCoin(60_000);
      expect(await source.outspend(coin.txid, coin.vout)).toEqual({ spent: false });
      const spend = signSpend(owner, coin, freshKey().address, 1_000);
      await source.broadcast(spend.toHex());
      expect(await source.outspend(coin.txid, coin.vout)).toEqual({
        spent: true,
        txid: spend.getId(),
      });
      await node.mine(1);
      expect(await source.outspend(coin.txid, coin.vout)).toEqual({
        spent: true,
        txid: spend.getId(),
      });
    });

    it('returns the txid again when the same transaction is broadcast twice', async () => {
      const { owner, coin } = await ownedCoin(60_000);
      const spend = signSpend(owner, coin, freshKey().address, 1_000);
      expect(await source.broadcast(spend.toHex())).toBe(spend.getId());
      expect(await source.broadcast(spend.toHex())).toBe(spend.getId());
    });

    it('rejects a transaction with a bad signature with the node’s code and reason', async () => {
      const { owner, coin } = await ownedCoin(60_000);
      const bad = signSpend(owner, coin, freshKey().address, 1_000);
      const sig = Buffer.from(bad.ins[0]!.witness[0]!);
      sig[10] = sig[10]! ^ 0x01; // inside r of the DER signature
      bad.ins[0]!.witness[0] = sig;
      const error = await source.broadcast(bad.toHex()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BroadcastRejectedError);
      const rejected = error as BroadcastRejectedError;
      expect(rejected.code).toEqual(expect.any(Number));
      expect(rejected.reason).toMatch(/signature|script/i);
      expect(await source.transaction(bad.getId())).toBeUndefined();
    });

    it('rejects a transaction spending a coin that does not exist', async () => {
      const owner = freshKey();
      const spend = signSpend(
        owner,
        { txid: randomBytes(32).toString('hex'), vout: 0, value: 50_000 },
        freshKey().address,
        1_000,
      );
      await expect(source.broadcast(spend.toHex())).rejects.toBeInstanceOf(BroadcastRejectedError);
    });

    it('returns fee estimates as positive sat/vB numbers keyed by confirmation target', async () => {
      const estimates = await source.feeEstimates();
      for (const [target, rate] of Object.entries(estimates)) {
        expect(target).toMatch(/^\d+$/);
        expect(rate).toBeGreaterThan(0);
      }
    });

    it('returns the fee estimates the node serves', async () => {
      const pinned = { '1': 25.5, '6': 10.1, '144': 1 };
      await node.setFeeEstimates(pinned);
      try {
        expect(await source.feeEstimates()).toEqual(pinned);
      } finally {
        await node.setFeeEstimates(null);
      }
    });

    // ---- what the block scan relies on ------------------------------------------------

    it('gives the node’s best block hash as the tip hash, and its height as the tip height', async () => {
      expect(await source.tipHash()).toBe(await node.bestHash());
      expect(await source.tipHeight()).toBe(await node.tipHeight());
    });

    it('serves a mined block with the transaction we paid and the paying output’s script', async () => {
      const key = freshKey();
      const paid = await node.pay(key.address, 66_000);
      const [hash] = (await node.mine(1)) as [string];
      const height = await nodeHeightOf(hash);
      const block = await source.block(hash);
      expect(block?.hash).toBe(hash);
      expect(block?.prevHash).toBe(await nodeHashAt(height - 1));
      expect(block?.transactions[0]?.spends).toEqual([]);
      const tx = block?.transactions.find((t) => t.txid === paid.txid);
      expect(tx?.outputs[paid.vout]).toEqual({
        vout: paid.vout,
        script: Buffer.from(key.output).toString('hex'),
        valueSats: 66_000,
      });
      expect(tx?.spends.length).toBeGreaterThan(0);
      expect(tx?.signalsRbf).toBe(true);
    });

    it('answers undefined for a block hash nobody has seen', async () => {
      expect(await source.block(randomBytes(32).toString('hex'))).toBeUndefined();
    });

    it('lists an unconfirmed payment in the address mempool, and not once it is mined', async () => {
      const key = freshKey();
      const paid = await node.pay(key.address, 31_000);
      const pending = await source.addressMempool(key.address);
      expect(pending.map((tx) => tx.txid)).toEqual([paid.txid]);
      expect(pending[0]?.status).toEqual({ confirmed: false });
      expect(pending[0]?.outputs[paid.vout]?.valueSats).toBe(31_000);
      await node.mine(1);
      expect(await source.addressMempool(key.address)).toEqual([]);
    });

    it('answers an empty mempool for an address nobody has paid', async () => {
      expect(await source.addressMempool(freshKey().address)).toEqual([]);
    });

    it('turns a confirmed transaction unconfirmed when its block is disconnected', async () => {
      const key = freshKey();
      const paid = await node.pay(key.address, 52_000);
      const [hash] = (await node.mine(1)) as [string];
      expect((await source.transactionStatus(paid.txid)).blockHash).toBe(hash);
      await node.invalidate(hash);
      try {
        expect(await source.transactionStatus(paid.txid)).toEqual({ confirmed: false });
        expect(only(await source.addressTransactions(key.address), paid.txid).status).toEqual({
          confirmed: false,
        });
        expect((await source.addressMempool(key.address)).map((tx) => tx.txid)).toEqual([
          paid.txid,
        ]);
      } finally {
        await node.reconsider(hash);
      }
      expect((await source.transactionStatus(paid.txid)).blockHash).toBe(hash);
    });

    it('gives another hash at a height after a reorg replaces its block', async () => {
      const key = freshKey();
      const paid = await node.pay(key.address, 48_000);
      const [old] = (await node.mine(1)) as [string];
      const height = await nodeHeightOf(old);
      expect(await source.blockHashAt(height)).toBe(old);
      await node.invalidate(old);
      // A new payment makes the replacing block differ from the invalidated one.
      await node.pay(freshKey().address, 10_000);
      const [replacement] = (await node.mine(1)) as [string];
      expect(replacement).not.toBe(old);
      expect(await nodeHeightOf(replacement)).toBe(height);
      expect(await source.blockHashAt(height)).toBe(replacement);
      expect(await source.tipHash()).toBe(await node.bestHash());
      const status = await source.transactionStatus(paid.txid);
      expect(status).toMatchObject({ confirmed: true, blockHeight: height });
      expect(status.blockHash).toBe(replacement);
    });
  });
}
