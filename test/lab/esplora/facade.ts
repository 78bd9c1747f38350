/**
 * Blockstream esplora's HTTP API (API.md) answered from btcd's RPC. Shapes, status codes and
 * plain-text bodies follow esplora, quirks included: unknown txids are 404 on /tx/:txid but
 * `{"confirmed":false}` on /tx/:txid/status.
 */
import * as bitcoin from 'bitcoinjs-lib';
import type { BtcdRpc } from '../rpc.js';
import { RpcError, searchRawTransactions } from '../rpc.js';
import {
  type EsploraStatus,
  type EsploraTx,
  type EsploraVout,
  formatTx,
  formatVout,
  inputTxid,
} from './format.js';

export interface Reply {
  status: number;
  type: 'text' | 'json' | 'binary';
  /** text: string; binary: Buffer; json: any JSON value */
  body: unknown;
}

const text = (body: string, status = 200): Reply => ({ status, type: 'text', body });
const json = (body: unknown): Reply => ({ status: 200, type: 'json', body });
const notFound = (what: string): Reply => text(`${what} not found`, 404);

const HEX64 = /^[0-9a-f]{64}$/i;
const FEE_TARGETS = [1, 2, 3, 4, 5, 6, 10, 20, 25, 144, 504, 1008];
const MEMPOOL_PAGE = 50;
const CHAIN_PAGE = 25;

interface RawTxVerbose {
  hex: string;
  txid: string;
  blockhash?: string;
  confirmations?: number;
  blocktime?: number;
}

interface BlockHeader {
  hash: string;
  height: number;
  time: number;
  confirmations: number;
}

interface LoadedBlock {
  hash: string;
  raw: Buffer;
  block: bitcoin.Block;
  height: number;
  inBestChain: boolean;
}

/** Difficulty relative to the minimum target (bits 0x1d00ffff), as bitcoind reports it. */
function difficulty(bits: number): number {
  const exponent = bits >>> 24;
  const mantissa = bits & 0xffffff;
  return (0xffff / mantissa) * 2 ** (8 * (0x1d - exponent));
}

function blockJson({ hash, raw, block, height }: LoadedBlock) {
  const prev = Buffer.from(block.prevHash ?? new Uint8Array(32))
    .reverse()
    .toString('hex');
  return {
    id: hash,
    height,
    version: block.version,
    timestamp: block.timestamp,
    tx_count: block.transactions?.length ?? 0,
    size: raw.length,
    weight: block.weight(),
    merkle_root: Buffer.from(block.merkleRoot ?? new Uint8Array(32))
      .reverse()
      .toString('hex'),
    previousblockhash: /^0+$/.test(prev) ? null : prev,
    nonce: block.nonce,
    bits: block.bits,
    difficulty: difficulty(block.bits),
  };
}

interface HistoryEntry {
  tx: bitcoin.Transaction;
  txid: string;
  status: EsploraStatus;
}

/** Bounded cache for immutable data (raw transactions by txid, headers by hash). */
class Cache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    if (this.map.size >= this.limit) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
  }
}

export class EsploraFacade {
  private readonly rawTx = new Cache<string>(100_000);
  private readonly headers = new Cache<{ height: number; time: number }>(100_000);
  /** Set by the lab to make fee estimates deterministic; null means "ask btcd". */
  feeEstimatesOverride: Record<string, number> | null = null;

  constructor(private readonly rpc: BtcdRpc) {}

  async handle(method: string, path: string, body: string): Promise<Reply> {
    const p = path.split('?')[0]!.replace(/\/+$/, '');
    const seg = p.split('/').slice(1).map(decodeURIComponent);
    try {
      if (method === 'POST' && p === '/tx') return await this.broadcast(body);
      if (method !== 'GET') return text('Method not allowed', 405);
      return await this.route(seg);
    } catch (err) {
      if (err instanceof RpcError)
        return text(`RPC error: ${JSON.stringify({ code: err.code, message: err.message })}`, 400);
      throw err;
    }
  }

  private async route(seg: string[]): Promise<Reply> {
    const [a, b, c, d] = seg;
    switch (a) {
      case 'blocks':
        if (b === 'tip' && c === 'height' && seg.length === 3)
          return text(String(await this.rpc.call<number>('getblockcount')));
        if (b === 'tip' && c === 'hash' && seg.length === 3)
          return text(await this.rpc.call<string>('getbestblockhash'));
        if (seg.length <= 2) return this.blocks(b);
        break;
      case 'block-height':
        if (seg.length === 2 && b !== undefined) return this.blockAtHeight(b);
        break;
      case 'block':
        if (b !== undefined) return this.block(b, seg.slice(2));
        break;
      case 'tx':
        if (b !== undefined) return this.tx(b, c, d, seg.length);
        break;
      case 'address':
        if (b !== undefined) return this.address(b, seg.slice(2));
        break;
      case 'mempool':
        if (seg.length === 1) return this.mempool();
        if (b === 'txids' && seg.length === 2)
          return json(await this.rpc.call<string[]>('getrawmempool'));
        break;
      case 'fee-estimates':
        if (seg.length === 1) return json(await this.feeEstimates());
        break;
    }
    return text('Not found', 404);
  }

  // ---- blocks -------------------------------------------------------------------------

  private async blockAtHeight(heightText: string): Promise<Reply> {
    if (!/^\d+$/.test(heightText)) return text('Invalid height', 400);
    try {
      return text(await this.rpc.call<string>('getblockhash', Number(heightText)));
    } catch (err) {
      if (err instanceof RpcError) return notFound('Block');
      throw err;
    }
  }

  private async blocks(start: string | undefined): Promise<Reply> {
    const tip = await this.rpc.call<number>('getblockcount');
    if (start !== undefined && !/^\d+$/.test(start)) return text('Invalid height', 400);
    const from = Math.min(start === undefined ? tip : Number(start), tip);
    const list = [];
    for (let h = from; h >= 0 && h > from - 10; h--) {
      const loaded = await this.loadBlock(await this.rpc.call<string>('getblockhash', h));
      if (loaded) list.push(blockJson(loaded));
    }
    return json(list);
  }

  private async block(hash: string, rest: string[]): Promise<Reply> {
    if (!HEX64.test(hash)) return text('Invalid hex string', 400);
    const loaded = await this.loadBlock(hash);
    if (!loaded) return notFound('Block');
    const txs = loaded.block.transactions ?? [];
    const [what, arg] = rest;
    if (what === undefined) return json(blockJson(loaded));
    if (what === 'status' && rest.length === 1) {
      if (!loaded.inBestChain) return json({ in_best_chain: false });
      const tip = await this.rpc.call<number>('getblockcount');
      const next =
        loaded.height < tip ? await this.rpc.call<string>('getblockhash', loaded.height + 1) : null;
      return json({ in_best_chain: true, height: loaded.height, next_best: next });
    }
    if (what === 'txids' && rest.length === 1) return json(txs.map((tx) => tx.getId()));
    if (what === 'txid' && arg !== undefined && rest.length === 2) {
      const tx = /^\d+$/.test(arg) ? txs[Number(arg)] : undefined;
      return tx === undefined ? notFound('Transaction') : text(tx.getId());
    }
    if (what === 'header' && rest.length === 1)
      return text(loaded.raw.subarray(0, 80).toString('hex'));
    if (what === 'raw' && rest.length === 1)
      return { status: 200, type: 'binary', body: loaded.raw };
    if (what === 'txs' && rest.length <= 2) {
      const start = arg === undefined ? 0 : Number(arg);
      if (!Number.isInteger(start) || start < 0 || start % CHAIN_PAGE !== 0) {
        return text('start index must be a multipication of 25', 400);
      }
      if (start >= txs.length && start > 0) return text('start index out of range', 400);
      const page = txs.slice(start, start + CHAIN_PAGE);
      return json(await Promise.all(page.map((tx) => this.formatWithPrevouts(tx, undefined))));
    }
    return text('Not found', 404);
  }

  /** Any block btcd knows, in the best chain or not (verbose getblock refuses orphaned blocks). */
  private async loadBlock(hash: string): Promise<LoadedBlock | undefined> {
    let hex: string;
    try {
      hex = await this.rpc.call<string>('getblock', hash, 0);
    } catch (err) {
      if (err instanceof RpcError) return undefined;
      throw err;
    }
    const raw = Buffer.from(hex, 'hex');
    const block = bitcoin.Block.fromBuffer(raw);
    try {
      const height = (await this.header(hash)).height;
      return { hash, raw, block, height, inBestChain: await this.inBestChain(hash, height) };
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      // btcd answers headers only for the best chain; an orphan sits one above its parent.
      const parent = Buffer.from(block.prevHash ?? new Uint8Array(32))
        .reverse()
        .toString('hex');
      const height = (await this.header(parent).catch(() => ({ height: -2 }))).height + 1;
      return { hash, raw, block, height, inBestChain: false };
    }
  }

  private async inBestChain(hash: string, height: number): Promise<boolean> {
    try {
      return (await this.rpc.call<string>('getblockhash', height)) === hash;
    } catch {
      return false;
    }
  }

  // ---- transactions -------------------------------------------------------------------

  private async broadcast(body: string): Promise<Reply> {
    const hex = body.trim();
    try {
      return text(await this.rpc.call<string>('sendrawtransaction', hex));
    } catch (err) {
      if (err instanceof RpcError) {
        return text(
          `sendrawtransaction RPC error: ${JSON.stringify({ code: err.code, message: err.message })}`,
          400,
        );
      }
      throw err;
    }
  }

  private async tx(
    txid: string,
    what: string | undefined,
    arg: string | undefined,
    depth: number,
  ): Promise<Reply> {
    if (!HEX64.test(txid)) return text('Invalid hex string', 400);
    const verbose = await this.getTxVerbose(txid);
    if (what === 'status' && depth === 3) {
      return json(verbose ? await this.statusOf(verbose) : { confirmed: false });
    }
    if (!verbose) return notFound('Transaction');
    if (what === undefined) {
      return json(
        await this.formatWithPrevouts(
          bitcoin.Transaction.fromHex(verbose.hex),
          await this.statusOf(verbose),
        ),
      );
    }
    if (what === 'hex' && depth === 3) return text(verbose.hex);
    if (what === 'raw' && depth === 3)
      return { status: 200, type: 'binary', body: Buffer.from(verbose.hex, 'hex') };
    if (what === 'outspends' && depth === 3)
      return json(await this.outspends(bitcoin.Transaction.fromHex(verbose.hex), txid));
    if (what === 'outspend' && arg !== undefined && depth === 4) {
      const tx = bitcoin.Transaction.fromHex(verbose.hex);
      const vout = Number(arg);
      if (!Number.isInteger(vout) || vout < 0 || vout >= tx.outs.length) return notFound('Output');
      return json((await this.outspends(tx, txid, vout))[0]);
    }
    return text('Not found', 404);
  }

  private async getTxVerbose(txid: string): Promise<RawTxVerbose | undefined> {
    try {
      const verbose = await this.rpc.call<RawTxVerbose>('getrawtransaction', txid, 1);
      this.rawTx.set(txid, verbose.hex);
      return verbose;
    } catch (err) {
      if (err instanceof RpcError && err.code === -5) return undefined;
      throw err;
    }
  }

  private async rawHex(txid: string): Promise<string> {
    const cached = this.rawTx.get(txid);
    if (cached) return cached;
    const hex = await this.rpc.call<string>('getrawtransaction', txid, 0);
    this.rawTx.set(txid, hex);
    return hex;
  }

  private async header(hash: string): Promise<{ height: number; time: number }> {
    const cached = this.headers.get(hash);
    if (cached) return cached;
    const h = await this.rpc.call<BlockHeader>('getblockheader', hash, true);
    const value = { height: h.height, time: h.time };
    this.headers.set(hash, value);
    return value;
  }

  private async statusOf(v: {
    blockhash?: string;
    confirmations?: number;
  }): Promise<EsploraStatus> {
    if (!v.blockhash || !v.confirmations) return { confirmed: false };
    const h = await this.header(v.blockhash);
    return { confirmed: true, block_height: h.height, block_hash: v.blockhash, block_time: h.time };
  }

  private async formatWithPrevouts(
    tx: bitcoin.Transaction,
    status: EsploraStatus | undefined,
  ): Promise<EsploraTx> {
    const prevouts: (EsploraVout | null)[] = tx.isCoinbase()
      ? tx.ins.map(() => null)
      : await Promise.all(
          tx.ins.map(async (input) => {
            const parent = bitcoin.Transaction.fromHex(await this.rawHex(inputTxid(input)));
            const out = parent.outs[input.index];
            return out ? formatVout(out.script, out.value) : null;
          }),
        );
    return formatTx(tx, prevouts, status);
  }

  private async outspends(tx: bitcoin.Transaction, txid: string, only?: number) {
    const indexes = only === undefined ? tx.outs.map((_, i) => i) : [only];
    return Promise.all(
      indexes.map(async (vout) => {
        let address: string;
        try {
          address = bitcoin.address.fromOutputScript(
            tx.outs[vout]!.script,
            bitcoin.networks.regtest,
          );
        } catch {
          return { spent: false }; // no address (OP_RETURN, bare scripts): nothing indexes its spends
        }
        const spender = await this.findSpender(address, txid, vout);
        if (!spender) return { spent: false };
        const verbose = await this.getTxVerbose(spender.txid);
        return {
          spent: true,
          txid: spender.txid,
          vin: spender.vin,
          status: verbose ? await this.statusOf(verbose) : { confirmed: false },
        };
      }),
    );
  }

  /** btcd has no spent index: walk the address history (raw, newest first) for the spending input. */
  private async findSpender(
    address: string,
    txid: string,
    vout: number,
  ): Promise<{ txid: string; vin: number } | undefined> {
    for await (const page of searchRawTransactions<string>(this.rpc, address, 0, true)) {
      for (const hex of page) {
        const candidate = bitcoin.Transaction.fromHex(hex);
        const vin = candidate.ins.findIndex(
          (input) => input.index === vout && inputTxid(input) === txid,
        );
        if (vin >= 0) return { txid: candidate.getId(), vin };
      }
    }
    return undefined;
  }

  // ---- addresses ----------------------------------------------------------------------

  private async address(address: string, rest: string[]): Promise<Reply> {
    try {
      bitcoin.address.toOutputScript(address, bitcoin.networks.regtest);
    } catch {
      return text('Invalid Bitcoin address', 400);
    }
    const [what, sub, lastSeen] = rest;
    const history = await this.history(address);
    const mempool = history.filter((e) => !e.status.confirmed);
    const chain = history.filter((e) => e.status.confirmed);
    const format = (entries: HistoryEntry[]) =>
      Promise.all(entries.map((e) => this.formatWithPrevouts(e.tx, e.status)));

    if (what === undefined) return json(this.addressStats(address, history));
    if (what === 'utxo' && rest.length === 1) return json(this.utxos(address, history));
    if (what === 'txs') {
      if (sub === undefined)
        return json(
          await format([...mempool.slice(0, MEMPOOL_PAGE), ...chain.slice(0, CHAIN_PAGE)]),
        );
      if (sub === 'mempool' && rest.length === 2)
        return json(await format(mempool.slice(0, MEMPOOL_PAGE)));
      if (sub === 'chain' && rest.length <= 3) {
        let start = 0;
        if (lastSeen !== undefined) {
          if (!HEX64.test(lastSeen)) return text('Invalid hex string', 400);
          const index = chain.findIndex((e) => e.txid === lastSeen);
          start = index < 0 ? chain.length : index + 1;
        }
        return json(await format(chain.slice(start, start + CHAIN_PAGE)));
      }
    }
    return text('Not found', 404);
  }

  /** Every transaction touching the address, mempool first, then confirmed newest first. */
  private async history(address: string): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = [];
    for await (const page of searchRawTransactions<RawTxVerbose>(this.rpc, address, 1, true)) {
      for (const v of page) {
        this.rawTx.set(v.txid, v.hex);
        entries.push({
          tx: bitcoin.Transaction.fromHex(v.hex),
          txid: v.txid,
          status: await this.statusOf(v),
        });
      }
    }
    const mempool = entries.filter((e) => !e.status.confirmed);
    const chain = entries.filter((e) => e.status.confirmed);
    chain.sort((x, y) => (y.status.block_height ?? 0) - (x.status.block_height ?? 0));
    return [...mempool, ...chain];
  }

  private fundedOutputs(address: string, history: HistoryEntry[]) {
    const script = Buffer.from(bitcoin.address.toOutputScript(address, bitcoin.networks.regtest));
    const outputs: { txid: string; vout: number; value: number; status: EsploraStatus }[] = [];
    for (const e of history) {
      e.tx.outs.forEach((out, vout) => {
        if (script.equals(out.script))
          outputs.push({ txid: e.txid, vout, value: Number(out.value), status: e.status });
      });
    }
    return outputs;
  }

  private spendsOf(history: HistoryEntry[]) {
    const spends = new Map<string, EsploraStatus>();
    for (const e of history) {
      if (e.tx.isCoinbase()) continue;
      for (const input of e.tx.ins) spends.set(`${inputTxid(input)}:${input.index}`, e.status);
    }
    return spends;
  }

  private utxos(address: string, history: HistoryEntry[]) {
    const spends = this.spendsOf(history);
    return this.fundedOutputs(address, history).filter((o) => !spends.has(`${o.txid}:${o.vout}`));
  }

  private addressStats(address: string, history: HistoryEntry[]) {
    const spends = this.spendsOf(history);
    const stats = (confirmed: boolean) => {
      const funded = this.fundedOutputs(address, history).filter(
        (o) => o.status.confirmed === confirmed,
      );
      const allFunded = this.fundedOutputs(address, history);
      const spent = allFunded.filter(
        (o) => spends.get(`${o.txid}:${o.vout}`)?.confirmed === confirmed,
      );
      return {
        funded_txo_count: funded.length,
        funded_txo_sum: funded.reduce((s, o) => s + o.value, 0),
        spent_txo_count: spent.length,
        spent_txo_sum: spent.reduce((s, o) => s + o.value, 0),
        tx_count: history.filter((e) => e.status.confirmed === confirmed).length,
      };
    };
    return { address, chain_stats: stats(true), mempool_stats: stats(false) };
  }

  // ---- mempool and fees ---------------------------------------------------------------

  private async mempool(): Promise<Reply> {
    const pool = await this.rpc.call<Record<string, { vsize?: number; size: number; fee: number }>>(
      'getrawmempool',
      true,
    );
    const entries = Object.values(pool).map((e) => ({
      vsize: e.vsize ?? e.size,
      fee: Math.round(e.fee * 1e8),
    }));
    const histogram = new Map<number, number>();
    for (const e of entries) {
      const rate = Math.floor(e.fee / e.vsize);
      histogram.set(rate, (histogram.get(rate) ?? 0) + e.vsize);
    }
    return json({
      count: entries.length,
      vsize: entries.reduce((s, e) => s + e.vsize, 0),
      total_fee: entries.reduce((s, e) => s + e.fee, 0),
      fee_histogram: [...histogram.entries()].sort((x, y) => y[0] - x[0]),
    });
  }

  private async feeEstimates(): Promise<Record<string, number>> {
    if (this.feeEstimatesOverride) return this.feeEstimatesOverride;
    const estimates: Record<string, number> = {};
    for (const target of FEE_TARGETS) {
      try {
        const btcPerKb = await this.rpc.call<number>('estimatefee', target);
        // BTC/kB to sat/vB: 1e8 sat per BTC, 1000 vB per kB.
        if (btcPerKb > 0) estimates[String(target)] = Math.round(btcPerKb * 1e8) / 1000;
      } catch {
        // btcd has no estimate yet for this target; esplora omits it.
      }
    }
    return estimates;
  }
}
