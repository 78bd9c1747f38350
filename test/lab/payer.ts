/**
 * The lab's payer: a one-key P2WPKH wallet (bitcoinjs-lib) that owns btcd's mining address,
 * so tests can pay any address any amount, with or without RBF, replace a payment and mine.
 * All operations run one at a time (the wallet's coin set is shared state).
 */
import { randomBytes } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';
import type { BIP32Interface } from 'bip32';
import { regtest as network, signingKey } from './keys.js';
import type { BtcdRpc } from './rpc.js';
import { RpcError, searchRawTransactions } from './rpc.js';

const COINBASE_MATURITY = 100;
const DUST_LIMIT = 546;
const SEQUENCE_RBF = 0xfffffffd;
const SEQUENCE_FINAL = 0xffffffff;

export interface PayOutput {
  address: string;
  sats: number;
}
export interface PayOptions {
  /** Signal BIP125 replaceability (default true). */
  rbf?: boolean;
  /** Fee rate in sat/vB (default 2). */
  feeRate?: number;
}
export interface PaidTx {
  txid: string;
  hex: string;
  fee: number;
  vsize: number;
  feeRate: number;
}

interface Coin {
  txid: string;
  vout: number;
  value: number;
  /** null while unconfirmed */
  height: number | null;
  coinbase: boolean;
}

interface SentTx {
  inputs: Coin[];
  outputs: PayOutput[];
  rbf: boolean;
  fee: number;
  vsize: number;
}

export class PayerWallet {
  readonly key: BIP32Interface;
  readonly address: string;
  private readonly outputScript: Uint8Array;
  private coins = new Map<string, Coin>();
  private sent = new Map<string, SentTx>();
  private stale = true;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly rpc: BtcdRpc,
    privateKeyHex: string,
  ) {
    this.key = signingKey(Buffer.from(privateKeyHex, 'hex'));
    const payment = bitcoin.payments.p2wpkh({ pubkey: this.key.publicKey, network });
    if (!payment.address || !payment.output) throw new Error('cannot derive payer address');
    this.address = payment.address;
    this.outputScript = payment.output;
  }

  static newPrivateKeyHex(): string {
    return randomBytes(32).toString('hex');
  }

  static addressOf(privateKeyHex: string): string {
    const key = signingKey(Buffer.from(privateKeyHex, 'hex'));
    const address = bitcoin.payments.p2wpkh({ pubkey: key.publicKey, network }).address;
    if (!address) throw new Error('cannot derive payer address');
    return address;
  }

  pay(outputs: PayOutput[], options: PayOptions = {}): Promise<PaidTx> {
    return this.serial(async () => {
      const rbf = options.rbf ?? true;
      const feeRate = options.feeRate ?? 2;
      return this.withResyncOnConflict(() => this.buildAndSend(outputs, [], rbf, feeRate));
    });
  }

  /** Replaces an RBF payment made by this wallet: same inputs, new outputs (default: back to the payer), higher fee. */
  replace(
    txid: string,
    options: { outputs?: PayOutput[]; feeRate?: number } = {},
  ): Promise<PaidTx> {
    return this.serial(async () => {
      const original = this.sent.get(txid);
      if (!original) throw new Error(`transaction ${txid} was not made by the payer`);
      const outputs = options.outputs ?? [];
      const feeRate = options.feeRate ?? Math.ceil(original.fee / original.vsize) + 5;
      const paid = await this.buildAndSend(outputs, original.inputs, true, feeRate);
      this.stale = true; // the replaced transaction's change (and its descendants) are gone
      return paid;
    });
  }

  mine(blocks: number, address?: string): Promise<string[]> {
    return this.serial(async () => {
      if (address !== undefined)
        throw new Error('mining to another address is not supported by btcd');
      const hashes = await this.rpc.call<string[]>('generate', blocks);
      for (const hash of hashes) await this.addCoinbase(hash);
      return hashes;
    });
  }

  /** Forgets cached coins; used after chain changes made behind the wallet's back (reorgs). */
  invalidate<T>(change: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      try {
        return await change();
      } finally {
        this.stale = true;
      }
    });
  }

  async balance(): Promise<{ confirmed: number; unconfirmed: number; coins: number }> {
    return this.serial(async () => {
      await this.syncIfStale();
      let confirmed = 0;
      let unconfirmed = 0;
      for (const coin of this.coins.values()) {
        if (coin.height === null) unconfirmed += coin.value;
        else confirmed += coin.value;
      }
      return { confirmed, unconfirmed, coins: this.coins.size };
    });
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const result = this.queue.then(op, op);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async withResyncOnConflict<T>(op: () => Promise<T>): Promise<T> {
    await this.syncIfStale();
    try {
      return await op();
    } catch (err) {
      // Someone mined, reorged or spent behind our back: rebuild the coin set once and retry.
      if (!(err instanceof RpcError)) throw err;
      this.stale = true;
      await this.syncIfStale();
      return op();
    }
  }

  private async buildAndSend(
    outputs: PayOutput[],
    fixedInputs: Coin[],
    rbf: boolean,
    feeRate: number,
  ): Promise<PaidTx> {
    for (const o of outputs) {
      if (!Number.isSafeInteger(o.sats) || o.sats <= 0) throw new Error(`bad amount ${o.sats}`);
    }
    const scripts = outputs.map((o) => bitcoin.address.toOutputScript(o.address, network));
    const target = outputs.reduce((sum, o) => sum + o.sats, 0);
    const outputsVsize = scripts.reduce((sum, s) => sum + 9 + s.length, 0);
    const estimate = (nIn: number, withChange: boolean) =>
      Math.ceil((11 + nIn * 68 + outputsVsize + (withChange ? 31 : 0)) * feeRate);

    const inputs = [...fixedInputs];
    const used = new Set(inputs.map((c) => `${c.txid}:${c.vout}`));
    const spendable = await this.spendableCoins(used);
    let total = inputs.reduce((sum, c) => sum + c.value, 0);
    while (total < target + estimate(inputs.length, true) || inputs.length === 0) {
      const next = spendable.shift();
      if (!next) throw new Error(`payer has too few coins for ${target} sats`);
      inputs.push(next);
      total += next.value;
    }
    let fee = estimate(inputs.length, true);
    let change = total - target - fee;
    if (change < DUST_LIMIT) {
      fee = total - target;
      change = 0;
    }

    const psbt = new bitcoin.Psbt({ network });
    for (const coin of inputs) {
      psbt.addInput({
        hash: coin.txid,
        index: coin.vout,
        sequence: rbf ? SEQUENCE_RBF : SEQUENCE_FINAL,
        witnessUtxo: { script: this.outputScript, value: BigInt(coin.value) },
      });
    }
    scripts.forEach((script, i) => psbt.addOutput({ script, value: BigInt(outputs[i]!.sats) }));
    if (change > 0) psbt.addOutput({ script: this.outputScript, value: BigInt(change) });
    psbt.signAllInputs(this.key);
    psbt.finalizeAllInputs();
    const tx = psbt.extractTransaction();
    const hex = tx.toHex();
    const txid = await this.rpc.call<string>('sendrawtransaction', hex);

    for (const coin of inputs) this.coins.delete(`${coin.txid}:${coin.vout}`);
    if (change > 0) {
      const vout = outputs.length;
      this.coins.set(`${txid}:${vout}`, {
        txid,
        vout,
        value: change,
        height: null,
        coinbase: false,
      });
    }
    const vsize = tx.virtualSize();
    this.sent.set(txid, { inputs, outputs, rbf, fee, vsize });
    return { txid, hex, fee, vsize, feeRate: fee / vsize };
  }

  /** Confirmed coins first (largest first), then our own unconfirmed change. */
  private async spendableCoins(exclude: Set<string>): Promise<Coin[]> {
    const tip = await this.rpc.call<number>('getblockcount');
    const coins = [...this.coins.values()].filter(
      (c) =>
        !exclude.has(`${c.txid}:${c.vout}`) &&
        !(c.coinbase && (c.height === null || tip + 1 - c.height < COINBASE_MATURITY)),
    );
    return coins.sort((a, b) => {
      if ((a.height === null) !== (b.height === null)) return a.height === null ? 1 : -1;
      return b.value - a.value;
    });
  }

  private async addCoinbase(blockHash: string): Promise<void> {
    const block = bitcoin.Block.fromHex(await this.rpc.call<string>('getblock', blockHash, 0));
    const coinbase = block.transactions?.[0];
    if (!coinbase) return;
    const height = (await this.rpc.call<{ height: number }>('getblockheader', blockHash, true))
      .height;
    const txid = coinbase.getId();
    coinbase.outs.forEach((out, vout) => {
      if (Buffer.from(out.script).equals(this.outputScript)) {
        this.coins.set(`${txid}:${vout}`, {
          txid,
          vout,
          value: Number(out.value),
          height,
          coinbase: true,
        });
      }
    });
  }

  /** Rebuilds the coin set from the address index: every output to us not spent by a tx of ours. */
  private async syncIfStale(): Promise<void> {
    if (!this.stale) return;
    const tip = await this.rpc.call<number>('getblockcount');
    const coins = new Map<string, Coin>();
    const spent = new Set<string>();
    type Entry = { hex: string; txid: string; confirmations?: number };
    for await (const page of searchRawTransactions<Entry>(this.rpc, this.address, 1, false)) {
      for (const entry of page) {
        const tx = bitcoin.Transaction.fromHex(entry.hex);
        const confirmations = entry.confirmations ?? 0;
        const height = confirmations > 0 ? tip - confirmations + 1 : null;
        const coinbase = tx.isCoinbase();
        if (!coinbase) {
          for (const input of tx.ins) {
            spent.add(`${Buffer.from(input.hash).reverse().toString('hex')}:${input.index}`);
          }
        }
        tx.outs.forEach((out, vout) => {
          if (Buffer.from(out.script).equals(this.outputScript)) {
            const value = Number(out.value);
            coins.set(`${entry.txid}:${vout}`, { txid: entry.txid, vout, value, height, coinbase });
          }
        });
      }
    }
    for (const key of spent) coins.delete(key);
    this.coins = coins;
    this.stale = false;
  }
}
