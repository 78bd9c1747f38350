/**
 * An in-memory ChainSource for fast unit tests of the watcher: a chain of blocks with fake but
 * well-formed hashes, a mempool, and a driver API (pay, mine, replace, reorg, invalidate) in
 * the lab's vocabulary. It passes the same contract suite as the Esplora source
 * (test/unit/memory-chain-source.test.ts), so what a watcher test proves on it holds on Esplora.
 *
 * Chain rules it keeps, because the watcher relies on them: a block's transactions leave the
 * mempool and evict what conflicts with them; a disconnected block's transactions go back to the
 * mempool (unless dropped); the best chain is the longest valid one, first seen on a tie. It
 * checks P2WPKH signatures on broadcast (so a forged spend is refused like btcd does) and trusts
 * every other script type.
 */
import { createHash } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import {
  BroadcastRejectedError,
  type BlockTransaction,
  type ChainSource,
  ChainSourceError,
  type ChainTip,
  type ChainTransaction,
  type TxStatus,
  type VerifiedBlock,
} from '../../src/chain/chain-source.js';

/** Every ChainSource method, the keys of `calls`. */
export type ChainSourceMethod = keyof ChainSource;

export const CHAIN_SOURCE_METHODS: readonly ChainSourceMethod[] = [
  'tip',
  'tipHash',
  'tipHeight',
  'block',
  'addressMempool',
  'blockHashAt',
  'addressTransactions',
  'transactionStatus',
  'transaction',
  'broadcast',
  'feeEstimates',
  'outspend',
];

export interface Outpoint {
  txid: string;
  vout: number;
}

/** Where a driver payment goes: an address of the source's network, or a scriptPubKey. */
export type PayTarget = string | Uint8Array;

export interface PayOutput {
  to: PayTarget;
  sats: number;
}

export interface MemoryPayOptions {
  /** Signal BIP125 replaceability (default true, as the lab's payer does). */
  rbf?: boolean;
  /** Fee recorded on the transaction (default 282 sats, 2 sat/vB at 141 vB). */
  feeSats?: number;
  /** The outpoints to spend (default: one fresh fake coin nobody else spends). */
  spends?: Outpoint[];
}

export interface MineOptions {
  /** Only these mempool transactions go into the first block (default: the whole mempool). */
  include?: string[];
  /** These mempool transactions stay out of the blocks. */
  exclude?: string[];
}

export interface DisconnectOptions {
  /** true: none of the disconnected transactions returns to the mempool; or just these txids. */
  drop?: boolean | string[];
}

export interface ReorgOptions extends DisconnectOptions, MineOptions {
  /** Blocks of the new branch (default depth + 1, so it wins). */
  blocks?: number;
}

export interface MemoryChainSourceOptions {
  /** Addresses are read and shown for this network (default regtest). */
  network?: bitcoin.Network;
  /** Block time of height h, Unix seconds (default 1 700 000 000 + 600 h). */
  blockTime?: (height: number) => number;
  /** Starting fee estimates (default a small ladder). */
  feeEstimates?: Record<string, number>;
}

interface StoredTx {
  txid: string;
  outputs: { vout: number; script: string; valueSats: number }[];
  spends: Outpoint[];
  signalsRbf: boolean;
  feeSats?: number;
  vsize?: number;
  coinbase: boolean;
}

interface StoredBlock {
  hash: string;
  prevHash: string;
  height: number;
  merkleRoot: string;
  bits: number;
  time: number;
  txs: StoredTx[];
}

/** Regtest's proof-of-work limit, the bits of every block here. */
const REGTEST_BITS = 0x207fffff;
const ZERO_HASH = '0'.repeat(64);
const RBF_SEQUENCE_LIMIT = 0xfffffffe;
/** Esplora answers at most 50 mempool transactions per address. */
const MEMPOOL_PAGE = 50;
const DEFAULT_FEE_SATS = 282;
const DEFAULT_VSIZE = 141;
const HEX64 = /^[0-9a-f]{64}$/;

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');
const key = (o: Outpoint): string => `${o.txid}:${o.vout}`;
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The scriptPubKey of `address` on `network`, lower-case hex. */
export function scriptOf(address: string, network: bitcoin.Network = bitcoin.networks.regtest) {
  return toHex(bitcoin.address.toOutputScript(address, network));
}

export class MemoryChainSource implements ChainSource {
  /** Calls per ChainSource method since construction or `resetCalls()`. */
  readonly calls: Record<ChainSourceMethod, number> = MemoryChainSource.zeroCalls();
  readonly network: bitcoin.Network;
  private readonly blockTime: (height: number) => number;
  private fees: Record<string, number>;
  /** Every block ever made, stale ones included (a server still serves them by hash). */
  private readonly blocks = new Map<string, StoredBlock>();
  /** The best chain: hash by height. */
  private active: string[] = [];
  private readonly invalid = new Set<string>();
  /** Insertion order is arrival order. */
  private readonly mempool = new Map<string, StoredTx>();
  /** Arrival number of each mempool transaction (newest first is Esplora's order). */
  private readonly arrival = new Map<string, number>();
  private arrivals = 0;
  /** Confirmed transactions of the best chain, with the height of their block. */
  private readonly confirmed = new Map<string, { tx: StoredTx; height: number }>();
  // Indexes over the live transactions (mempool and best chain), so address and spend lookups
  // stay cheap in watcher tests with thousands of payments.
  /** scriptPubKey → txids with an output paying it. */
  private readonly payers = new Map<string, Set<string>>();
  /** `txid:vout` → the txid spending it. */
  private readonly spentBy = new Map<string, string>();
  private readonly failures = new Map<ChainSourceMethod, Error[]>();
  private counter = 0;

  constructor(options: MemoryChainSourceOptions = {}) {
    this.network = options.network ?? bitcoin.networks.regtest;
    this.blockTime = options.blockTime ?? ((height) => 1_700_000_000 + 600 * height);
    this.fees = { ...(options.feeEstimates ?? { '1': 20, '3': 10, '6': 5, '144': 1 }) };
    this.connect(this.makeBlock(ZERO_HASH, 0, []));
  }

  // ---- driver API -------------------------------------------------------------------------

  get tipHeightNow(): number {
    return this.active.length - 1;
  }

  get tipHashNow(): string {
    return this.active.at(-1) ?? ZERO_HASH;
  }

  /** Txids in the mempool, in arrival order. */
  get mempoolTxids(): string[] {
    return [...this.mempool.keys()];
  }

  /** The best-chain hash at `height`, without counting a call. */
  hashAtHeight(height: number): string | undefined {
    return this.active[height];
  }

  /** The height of any block this source made (best chain or stale), without counting a call. */
  heightOf(hash: string): number | undefined {
    return this.blocks.get(hash)?.height;
  }

  /** A transaction as `transaction()` shows it, without counting a call. */
  inspect(txid: string): ChainTransaction | undefined {
    const tx = this.known(txid);
    return tx && this.view(tx);
  }

  resetCalls(): void {
    for (const method of CHAIN_SOURCE_METHODS) this.calls[method] = 0;
  }

  /** Total calls over all methods. */
  totalCalls(): number {
    return CHAIN_SOURCE_METHODS.reduce((sum, m) => sum + this.calls[m], 0);
  }

  /** The next call of `method` throws `error` (default a ChainSourceError, like an outage). */
  failNext(method: ChainSourceMethod, error?: Error): void {
    const queue = this.failures.get(method) ?? [];
    queue.push(error ?? new ChainSourceError(`injected failure of ${method}`, method));
    this.failures.set(method, queue);
  }

  setFeeEstimates(estimates: Record<string, number>): void {
    this.fees = { ...estimates };
  }

  /** A mempool transaction paying `sats` to `to`; returns its txid. */
  pay(to: PayTarget, sats: number, options: MemoryPayOptions = {}): string {
    return this.payMany([{ to, sats }], options);
  }

  /** One mempool transaction with an output per entry, in order (vout = index). */
  payMany(outputs: PayOutput[], options: MemoryPayOptions = {}): string {
    if (outputs.length === 0) throw new Error('a payment needs at least one output');
    const spends = options.spends ?? [{ txid: this.fakeId('coin'), vout: 0 }];
    for (const spend of spends) {
      const by = this.spenderOf(spend);
      if (by !== undefined) throw new Error(`${key(spend)} is already spent by ${by}`);
    }
    const tx: StoredTx = {
      txid: this.fakeId('tx'),
      outputs: outputs.map((o, vout) => ({
        vout,
        script: this.scriptFor(o.to),
        valueSats: o.sats,
      })),
      spends: spends.map((s) => ({ ...s })),
      signalsRbf: options.rbf ?? true,
      feeSats: options.feeSats ?? DEFAULT_FEE_SATS,
      vsize: DEFAULT_VSIZE,
      coinbase: false,
    };
    for (const o of tx.outputs) {
      if (!Number.isSafeInteger(o.valueSats) || o.valueSats < 0)
        throw new Error(`output value must be whole sats, got ${o.valueSats}`);
    }
    this.admit(tx);
    this.index(tx);
    return tx.txid;
  }

  /**
   * Replaces a mempool transaction (RBF): a new one spending the same inputs with `outputs`
   * (default: the same value back to a fake payer script). The old one and its descendants
   * leave the mempool. Returns the new txid.
   */
  replace(txid: string, outputs?: PayOutput[], options: Omit<MemoryPayOptions, 'spends'> = {}) {
    const old = this.mempool.get(txid);
    if (old === undefined) throw new Error(`${txid} is not in the mempool`);
    this.evict(txid);
    const total = old.outputs.reduce((s, o) => s + o.valueSats, 0);
    return this.payMany(outputs ?? [{ to: this.payerScript(), sats: Math.max(0, total - 100) }], {
      ...options,
      feeSats: options.feeSats ?? (old.feeSats ?? DEFAULT_FEE_SATS) + 100,
      spends: old.spends,
    });
  }

  /** Removes a mempool transaction and its descendants (expired, evicted, replaced elsewhere). */
  dropFromMempool(txid: string): void {
    if (!this.mempool.has(txid)) throw new Error(`${txid} is not in the mempool`);
    this.evict(txid);
  }

  /** Mines `n` blocks on the tip; the mempool goes into the first one. Returns their hashes. */
  mine(n = 1, options: MineOptions = {}): string[] {
    const hashes: string[] = [];
    for (let i = 0; i < n; i++) {
      const excluded = new Set(options.exclude ?? []);
      const wanted = i === 0 && options.include ? new Set(options.include) : undefined;
      for (const txid of wanted ?? []) {
        if (!this.mempool.has(txid)) throw new Error(`${txid} is not in the mempool`);
      }
      const txs = [...this.mempool.values()].filter(
        (tx) => !excluded.has(tx.txid) && (wanted === undefined || wanted.has(tx.txid)),
      );
      const block = this.makeBlock(this.tipHashNow, this.active.length, txs);
      this.connect(block);
      hashes.push(block.hash);
    }
    return hashes;
  }

  /**
   * Pops the last `n` blocks (they become stale, and stay invalid until `reconsider`). Their
   * transactions return to the mempool unless `drop` says otherwise. Returns the new tip height.
   * Like `invalidateblock`, it is an invalidation: should a longer valid stale branch exist
   * (one brought back by `reconsider`), that branch becomes the best chain.
   */
  disconnect(n = 1, options: DisconnectOptions = {}): number {
    if (!Number.isSafeInteger(n) || n < 1 || n > this.tipHeightNow)
      throw new Error(`cannot disconnect ${n} blocks above genesis at height ${this.tipHeightNow}`);
    const first = this.active[this.active.length - n];
    if (first === undefined) throw new Error('no such block');
    return this.invalidate(first, options);
  }

  /** Disconnects `depth` blocks and mines a new branch of `blocks` (default depth + 1). */
  reorg(depth: number, options: ReorgOptions = {}): string[] {
    this.disconnect(depth, options);
    return this.mine(options.blocks ?? depth + 1, options);
  }

  /** Like bitcoind's `invalidateblock`: the block and its descendants leave the best chain. */
  invalidate(hash: string, options: DisconnectOptions = {}): number {
    if (!this.blocks.has(hash)) throw new Error(`unknown block ${hash}`);
    if (hash === this.active[0]) throw new Error('cannot invalidate the genesis block');
    this.invalid.add(hash);
    const height = this.active.indexOf(hash);
    if (height >= 0) {
      const dropped = new Set<string>();
      while (this.active.length > height) {
        for (const txid of this.disconnectTip()) dropped.add(txid);
      }
      const { drop } = options;
      const forget = drop === true ? [...dropped] : Array.isArray(drop) ? drop : [];
      for (const txid of forget) if (this.mempool.has(txid)) this.evict(txid);
    }
    // As bitcoind does, a longer valid stale branch (if any) becomes the best chain.
    this.activateBestChain();
    return this.tipHeightNow;
  }

  /** Like `reconsiderblock`: the block is valid again; the longest chain wins. */
  reconsider(hash: string): number {
    if (!this.blocks.has(hash)) throw new Error(`unknown block ${hash}`);
    this.invalid.delete(hash);
    this.activateBestChain();
    return this.tipHeightNow;
  }

  // ---- ChainSource ------------------------------------------------------------------------

  async tip(): Promise<ChainTip> {
    this.enter('tip');
    return Promise.resolve({ height: this.tipHeightNow, hash: this.tipHashNow });
  }

  async tipHash(): Promise<string> {
    this.enter('tipHash');
    return Promise.resolve(this.tipHashNow);
  }

  async tipHeight(): Promise<number> {
    this.enter('tipHeight');
    return Promise.resolve(this.tipHeightNow);
  }

  async block(hash: string): Promise<VerifiedBlock | undefined> {
    this.enter('block');
    const block = this.blocks.get(hash.toLowerCase());
    if (block === undefined) return Promise.resolve(undefined);
    return Promise.resolve({
      hash: block.hash,
      prevHash: block.prevHash,
      merkleRoot: block.merkleRoot,
      bits: block.bits,
      time: block.time,
      transactions: block.txs.map((tx): BlockTransaction => ({
        txid: tx.txid,
        outputs: tx.outputs.map((o) => ({ ...o })),
        spends: tx.spends.map((s) => ({ ...s })),
        signalsRbf: tx.signalsRbf,
      })),
    });
  }

  async addressMempool(address: string): Promise<ChainTransaction[]> {
    this.enter('addressMempool');
    const script = this.checkAddress(address);
    const txs = this.pendingOf(this.touching(script));
    return Promise.resolve(txs.slice(0, MEMPOOL_PAGE).map((tx) => this.view(tx)));
  }

  async blockHashAt(height: number): Promise<string | undefined> {
    this.enter('blockHashAt');
    if (!Number.isSafeInteger(height) || height < 0)
      throw new RangeError(`block height must be a non-negative integer, got ${height}`);
    return Promise.resolve(this.active[height]);
  }

  /** Esplora's order: mempool newest first, then confirmed newest first. */
  async addressTransactions(address: string): Promise<ChainTransaction[]> {
    this.enter('addressTransactions');
    const script = this.checkAddress(address);
    const touching = this.touching(script);
    const pending = this.pendingOf(touching);
    const mined = [...touching]
      .flatMap((txid) => this.confirmed.get(txid) ?? [])
      .sort((a, b) => b.height - a.height)
      .map(({ tx }) => tx);
    return Promise.resolve([...pending, ...mined].map((tx) => this.view(tx)));
  }

  async transactionStatus(txid: string): Promise<TxStatus> {
    this.enter('transactionStatus');
    return Promise.resolve(this.statusOf(this.checkTxid(txid)));
  }

  async transaction(txid: string): Promise<ChainTransaction | undefined> {
    this.enter('transaction');
    const tx = this.known(this.checkTxid(txid));
    return Promise.resolve(tx && this.view(tx));
  }

  /**
   * Decodes the transaction, refuses what btcd would for the reasons a watcher test meets
   * (missing or spent inputs, a double spend of a mempool coin, a bad P2WPKH signature, more
   * out than in) and puts it in the mempool. One already known is a success.
   */
  async broadcast(rawHex: string): Promise<string> {
    this.enter('broadcast');
    let decoded: bitcoin.Transaction;
    try {
      decoded = bitcoin.Transaction.fromHex(rawHex.trim());
    } catch {
      throw new BroadcastRejectedError(-22, 'TX decode failed');
    }
    const txid = decoded.getId();
    if (this.known(txid)) return Promise.resolve(txid);
    if (decoded.isCoinbase()) throw new BroadcastRejectedError(-26, 'coinbase');
    let inSats = 0;
    const spends: Outpoint[] = [];
    for (const [index, input] of decoded.ins.entries()) {
      const outpoint = { txid: toHex(Uint8Array.from(input.hash).reverse()), vout: input.index };
      const prevout = this.outputAt(outpoint);
      if (prevout === undefined)
        throw new BroadcastRejectedError(-25, 'bad-txns-inputs-missingorspent');
      const spender = this.spenderOf(outpoint);
      if (spender !== undefined) {
        if (this.confirmed.has(spender))
          throw new BroadcastRejectedError(-25, 'bad-txns-inputs-missingorspent');
        throw new BroadcastRejectedError(-26, 'txn-mempool-conflict');
      }
      verifyP2wpkhInput(decoded, index, prevout);
      inSats += prevout.valueSats;
      spends.push(outpoint);
    }
    const outputs = decoded.outs.map((o, vout) => ({
      vout,
      script: toHex(o.script),
      valueSats: Number(o.value),
    }));
    const outSats = outputs.reduce((s, o) => s + o.valueSats, 0);
    if (outSats > inSats) throw new BroadcastRejectedError(-26, 'bad-txns-in-belowout');
    const tx: StoredTx = {
      txid,
      outputs,
      spends,
      signalsRbf: decoded.ins.some((i) => i.sequence < RBF_SEQUENCE_LIMIT),
      feeSats: inSats - outSats,
      vsize: decoded.virtualSize(),
      coinbase: false,
    };
    this.admit(tx);
    this.index(tx);
    return Promise.resolve(txid);
  }

  async feeEstimates(): Promise<Record<string, number>> {
    this.enter('feeEstimates');
    return Promise.resolve({ ...this.fees });
  }

  async outspend(txid: string, vout: number): Promise<{ spent: boolean; txid?: string }> {
    this.enter('outspend');
    const by = this.spenderOf({ txid: this.checkTxid(txid), vout });
    return Promise.resolve(by === undefined ? { spent: false } : { spent: true, txid: by });
  }

  // ---- internals --------------------------------------------------------------------------

  private static zeroCalls(): Record<ChainSourceMethod, number> {
    return Object.fromEntries(CHAIN_SOURCE_METHODS.map((m) => [m, 0])) as Record<
      ChainSourceMethod,
      number
    >;
  }

  private enter(method: ChainSourceMethod): void {
    this.calls[method]++;
    const error = this.failures.get(method)?.shift();
    if (error !== undefined) throw error;
  }

  private fakeId(kind: string): string {
    return sha256Hex(`memory-chain:${kind}:${++this.counter}`);
  }

  private payerScript(): string {
    return `0014${sha256Hex('memory-chain:payer').slice(0, 40)}`;
  }

  private scriptFor(to: PayTarget): string {
    if (typeof to !== 'string') return toHex(to);
    try {
      return this.scriptOfAddress(to);
    } catch {
      if (/^(?:[0-9a-fA-F]{2})+$/.test(to)) return to.toLowerCase();
      throw new Error(`${to} is neither an address of this network nor a hex script`);
    }
  }

  private checkAddress(address: string): string {
    try {
      return this.scriptOfAddress(address);
    } catch {
      throw new ChainSourceError('not an address of this network', '/address/:a/txs');
    }
  }

  private checkTxid(txid: string): string {
    const normal = txid.toLowerCase();
    if (!HEX64.test(normal)) throw new ChainSourceError('not a txid (64 hex digits)', '/tx/:txid');
    return normal;
  }

  private makeBlock(prevHash: string, height: number, txs: StoredTx[]): StoredBlock {
    const coinbase: StoredTx = {
      txid: this.fakeId('coinbase'),
      outputs: [{ vout: 0, script: this.payerScript(), valueSats: 5_000_000_000 }],
      spends: [],
      signalsRbf: false,
      coinbase: true,
    };
    const all = [coinbase, ...txs.map((tx) => ({ ...tx }))];
    const block: StoredBlock = {
      hash: this.fakeId('block'),
      prevHash,
      height,
      merkleRoot: sha256Hex(all.map((tx) => tx.txid).join('')),
      bits: REGTEST_BITS,
      time: this.blockTime(height),
      txs: all,
    };
    this.blocks.set(block.hash, block);
    return block;
  }

  /** Appends `block` to the best chain: its transactions and their conflicts leave the mempool. */
  private connect(block: StoredBlock): void {
    if (block.prevHash !== this.tipHashNow && this.active.length > 0)
      throw new Error(`block ${block.hash} does not build on the tip`);
    this.active.push(block.hash);
    for (const tx of block.txs) {
      for (const spend of tx.spends) {
        const rival = this.mempoolSpenderOf(spend);
        if (rival !== undefined && rival !== tx.txid) this.evict(rival);
      }
      // From the mempool it is indexed already; from a stale block after a drop it is not.
      if (!this.mempool.delete(tx.txid)) this.index(tx);
      this.arrival.delete(tx.txid);
      this.confirmed.set(tx.txid, { tx, height: block.height });
    }
  }

  /** Pops the tip; its transactions go back to the mempool, ahead of what is there. */
  private disconnectTip(): string[] {
    const hash = this.active.pop();
    const block = hash === undefined ? undefined : this.blocks.get(hash);
    if (block === undefined) throw new Error('nothing to disconnect');
    const back = block.txs.filter((tx) => !tx.coinbase);
    for (const tx of block.txs) this.confirmed.delete(tx.txid);
    const rest = [...this.mempool.values()];
    this.mempool.clear();
    this.arrival.clear();
    for (const tx of [...back, ...rest]) this.admit(tx);
    // A disconnected coinbase is gone, and so are its descendants (their coin no longer exists).
    for (const tx of block.txs.filter((t) => t.coinbase)) {
      this.unindex(tx);
      for (const child of this.childrenOf(tx)) this.evict(child);
    }
    return back.map((tx) => tx.txid);
  }

  /** Switches to the longest chain of valid blocks, keeping the current one on a tie. */
  private activateBestChain(): void {
    let best: StoredBlock | undefined;
    for (const block of this.blocks.values()) {
      if (!this.isValid(block)) continue;
      if (best === undefined || block.height > best.height) best = block;
    }
    if (best === undefined || best.height <= this.tipHeightNow) return;
    const branch: StoredBlock[] = [];
    let cursor: StoredBlock | undefined = best;
    while (cursor !== undefined && this.active[cursor.height] !== cursor.hash) {
      branch.unshift(cursor);
      cursor = this.blocks.get(cursor.prevHash);
    }
    if (cursor === undefined) throw new Error('a branch does not reach genesis');
    while (this.active.length > cursor.height + 1) this.disconnectTip();
    for (const block of branch) this.connect(block);
  }

  private isValid(block: StoredBlock): boolean {
    for (let b: StoredBlock | undefined = block; b !== undefined; b = this.blocks.get(b.prevHash)) {
      if (this.invalid.has(b.hash)) return false;
    }
    return true;
  }

  /** Removes a mempool transaction and everything in the mempool that spends from it. */
  private evict(txid: string): void {
    const tx = this.mempool.get(txid);
    if (tx === undefined) return;
    this.mempool.delete(txid);
    this.arrival.delete(txid);
    this.unindex(tx);
    for (const child of this.childrenOf(tx)) this.evict(child);
  }

  /** Mempool transactions spending an output of `tx`. */
  private childrenOf(tx: StoredTx): string[] {
    return tx.outputs.flatMap((o) => {
      const child = this.spentBy.get(key({ txid: tx.txid, vout: o.vout }));
      return child !== undefined && this.mempool.has(child) ? [child] : [];
    });
  }

  // bitcoinjs address codecs cost a fraction of a millisecond each (fromOutputScript tries every
  // type and throws); watcher tests convert the same few thousand addresses over and over.
  private readonly scripts = new Map<string, string>();
  private readonly addresses = new Map<string, string | null>();

  /** Throws for an address of another network, like `scriptOf`. */
  private scriptOfAddress(address: string): string {
    let script = this.scripts.get(address);
    if (script === undefined) {
      script = scriptOf(address, this.network);
      this.scripts.set(address, script);
      this.addresses.set(script, address);
    }
    return script;
  }

  private addressOfScript(script: string): string | undefined {
    let address = this.addresses.get(script);
    if (address === undefined) {
      address = addressOf(script, this.network) ?? null;
      this.addresses.set(script, address);
    }
    return address ?? undefined;
  }

  private admit(tx: StoredTx): void {
    this.mempool.set(tx.txid, tx);
    this.arrival.set(tx.txid, ++this.arrivals);
  }

  /** The mempool transactions among `txids`, newest first. */
  private pendingOf(txids: Set<string>): StoredTx[] {
    return [...txids]
      .flatMap((txid) => this.mempool.get(txid) ?? [])
      .sort((a, b) => (this.arrival.get(b.txid) ?? 0) - (this.arrival.get(a.txid) ?? 0));
  }

  private index(tx: StoredTx): void {
    for (const o of tx.outputs) {
      const set = this.payers.get(o.script) ?? new Set<string>();
      set.add(tx.txid);
      this.payers.set(o.script, set);
    }
    for (const spend of tx.spends) this.spentBy.set(key(spend), tx.txid);
  }

  private unindex(tx: StoredTx): void {
    for (const o of tx.outputs) {
      const set = this.payers.get(o.script);
      set?.delete(tx.txid);
      if (set?.size === 0) this.payers.delete(o.script);
    }
    for (const spend of tx.spends) {
      if (this.spentBy.get(key(spend)) === tx.txid) this.spentBy.delete(key(spend));
    }
  }

  /** Live txids paying to `script` or spending an output that paid it. */
  private touching(script: string): Set<string> {
    const found = new Set<string>();
    for (const txid of this.payers.get(script) ?? []) {
      found.add(txid);
      for (const o of this.known(txid)?.outputs ?? []) {
        if (o.script !== script) continue;
        const spender = this.spentBy.get(key({ txid, vout: o.vout }));
        if (spender !== undefined && this.known(spender) !== undefined) found.add(spender);
      }
    }
    return found;
  }

  private known(txid: string): StoredTx | undefined {
    return this.mempool.get(txid) ?? this.confirmed.get(txid)?.tx;
  }

  private outputAt(outpoint: Outpoint): StoredTx['outputs'][number] | undefined {
    return this.known(outpoint.txid)?.outputs[outpoint.vout];
  }

  private mempoolSpenderOf(outpoint: Outpoint): string | undefined {
    const by = this.spentBy.get(key(outpoint));
    return by !== undefined && this.mempool.has(by) ? by : undefined;
  }

  /** The live (mempool or best-chain) transaction spending `outpoint`. */
  private spenderOf(outpoint: Outpoint): string | undefined {
    const by = this.spentBy.get(key(outpoint));
    return by !== undefined && this.known(by) !== undefined ? by : undefined;
  }

  private statusOf(txid: string): TxStatus {
    const entry = this.confirmed.get(txid);
    if (entry === undefined) return { confirmed: false };
    const hash = this.active[entry.height];
    const block = hash === undefined ? undefined : this.blocks.get(hash);
    if (block === undefined) return { confirmed: false };
    return {
      confirmed: true,
      blockHeight: block.height,
      blockHash: block.hash,
      blockTime: block.time,
    };
  }

  private view(tx: StoredTx): ChainTransaction {
    const out: ChainTransaction = {
      txid: tx.txid,
      status: this.statusOf(tx.txid),
      outputs: tx.outputs.map((o) => {
        const address = this.addressOfScript(o.script);
        return address === undefined ? { ...o } : { ...o, address };
      }),
      spends: tx.spends.map((s) => ({ ...s })),
      signalsRbf: tx.signalsRbf,
    };
    if (tx.feeSats !== undefined) out.feeSats = tx.feeSats;
    if (tx.vsize !== undefined) out.vsize = tx.vsize;
    return out;
  }
}

function addressOf(script: string, network: bitcoin.Network): string | undefined {
  try {
    return bitcoin.address.fromOutputScript(Buffer.from(script, 'hex'), network);
  } catch {
    return undefined;
  }
}

const P2WPKH = /^0014([0-9a-f]{40})$/;

/** Checks the witness of an input spending a P2WPKH output; other script types are trusted. */
function verifyP2wpkhInput(
  tx: bitcoin.Transaction,
  index: number,
  prevout: { script: string; valueSats: number },
): void {
  const hash160 = P2WPKH.exec(prevout.script)?.[1];
  if (hash160 === undefined) return;
  const refuse = (why: string): never => {
    throw new BroadcastRejectedError(-26, `mandatory-script-verify-flag-failed (${why})`);
  };
  const [sig, pubkey] = tx.ins[index]?.witness ?? [];
  if (sig === undefined || pubkey === undefined) return refuse('Witness program mismatch');
  if (toHex(bitcoin.crypto.hash160(pubkey)) !== hash160)
    return refuse('Witness program hash mismatch');
  let decoded: { signature: Uint8Array; hashType: number };
  try {
    decoded = bitcoin.script.signature.decode(sig);
  } catch {
    return refuse('Non-canonical DER signature');
  }
  const scriptCode = bitcoin.payments.p2pkh({ hash: Buffer.from(hash160, 'hex') }).output;
  if (scriptCode === undefined) return refuse('Witness program mismatch');
  const digest = tx.hashForWitnessV0(
    index,
    scriptCode,
    BigInt(prevout.valueSats),
    decoded.hashType,
  );
  if (!ecc.verify(digest, pubkey, decoded.signature))
    refuse('Signature must be zero for failed CHECK(MULTI)SIG operation');
}
