/**
 * ChainSource over Blockstream esplora's HTTP API (API.md; also served by mempool.space and
 * electrs). The HTTP side (failover, retries, concurrency, the token) is EsploraTransport's;
 * the answers are read at the edge by esplora-answers.ts.
 */
import * as bitcoin from 'bitcoinjs-lib';
import { BITCOIN_NETWORKS, type NetworkName } from '../wallet/networks.js';
import { parseVerifiedBlock } from './block.js';
import type { RequestBudget } from './budget.js';
import {
  BlockVerificationError,
  BroadcastRejectedError,
  type ChainSource,
  ChainSourceError,
  type ChainTip,
  type ChainTransaction,
  type Outspend,
  type TxStatus,
  type VerifiedBlock,
} from './chain-source.js';
import {
  ALREADY_KNOWN,
  HEX,
  HEX64,
  InvalidBlock,
  MalformedAnswer,
  isRecord,
  parseJson,
  parseRejection,
  readHash,
  readHeight,
  readStatus,
  readTransaction,
  readTransactionList,
  txidOf,
} from './esplora-answers.js';
import {
  type EsploraStats,
  EsploraTransport,
  type EsploraTransportOptions,
} from './esplora-transport.js';
import { type EsploraUrlSettings, esploraUrls } from './public-esplora.js';

export { parseRejection } from './esplora-answers.js';
export type { EsploraOutcome, EsploraStats } from './esplora-transport.js';

export interface EsploraSettings extends EsploraUrlSettings {
  chain: EsploraUrlSettings['chain'] & {
    timeoutMs: number;
    maxConcurrency: number;
    retries: number;
    bearerToken?: string;
  };
}

export interface EsploraChainSourceOptions extends EsploraTransportOptions {
  /** When set, addresses are checked against it before any request. */
  network?: NetworkName;
}

/** Esplora's confirmed-history page size (`/address/:a/txs` and `/txs/chain/:last_seen`). */
const CHAIN_PAGE = 25;
/** Sanity cap on history paging (25 × 4000 = 100 000 confirmed transactions). */
const MAX_PAGES = 4000;

export class EsploraChainSource implements ChainSource {
  readonly baseUrls: readonly string[];
  readonly network: NetworkName | undefined;
  /** Every request sent is recorded in it (absent: not counted against any budget). */
  readonly budget: RequestBudget | undefined;
  private readonly transport: EsploraTransport;

  constructor(options: EsploraChainSourceOptions) {
    this.transport = new EsploraTransport(options);
    this.baseUrls = this.transport.baseUrls;
    this.budget = this.transport.budget;
    this.network = options.network;
  }

  /** From the daemon's settings (`chain.*`, public defaults for the network). */
  static fromConfig(
    config: EsploraSettings,
    extra: Partial<EsploraChainSourceOptions> = {},
  ): EsploraChainSource {
    return new EsploraChainSource({
      baseUrls: esploraUrls(config),
      timeoutMs: config.chain.timeoutMs,
      maxConcurrency: config.chain.maxConcurrency,
      retries: config.chain.retries,
      bearerToken: config.chain.bearerToken,
      network: config.network,
      ...extra,
    });
  }
  /** A copy of the counters since construction or the last `resetStats()`. */
  stats(): EsploraStats {
    return this.transport.stats();
  }

  resetStats(): void {
    this.transport.resetStats();
  }

  /** The base URL calls start with (the last one that answered). */
  get currentBaseUrl(): string {
    return this.transport.currentBaseUrl;
  }

  // ---- ChainSource ----------------------------------------------------------------------

  /**
   * Height and hash come from two requests; a block arriving between them would pair a height
   * with another block's hash, so the height is read again after the hash and must not have
   * moved. If the chain keeps moving, the hash is taken at the second height.
   */
  async tip(): Promise<ChainTip> {
    let height = await this.tipHeight();
    for (let attempt = 0; attempt < 3; attempt++) {
      const hash = await this.tipHash();
      const after = await this.tipHeight();
      if (after === height) return { height, hash };
      height = after;
    }
    const hash = await this.blockHashAt(height);
    if (hash === undefined)
      throw new ChainSourceError('the tip moved below its own height', '/block-height/:h');
    return { height, hash };
  }

  /** One request: the block scan's per-cycle cost. */
  async tipHash(): Promise<string> {
    return this.transport.call('/blocks/tip/hash', '/blocks/tip/hash', (a) =>
      this.transport.ok(a, '/blocks/tip/hash', readHash),
    );
  }

  async tipHeight(): Promise<number> {
    return this.transport.call('/blocks/tip/height', '/blocks/tip/height', (a) =>
      this.transport.ok(a, '/blocks/tip/height', readHeight),
    );
  }

  /**
   * One request per base URL tried: the raw block, verified (hash, merkle root, witness
   * commitment, proof of work, and the network's difficulty limit when the network is known).
   * A server whose block fails is counted in `refusedBlocks`, not asked again in this call, and
   * the next one is tried; when every server that answered lied, BlockVerificationError.
   */
  async block(hash: string): Promise<VerifiedBlock | undefined> {
    const endpoint = '/block/:hash/raw';
    const id = this.checkHash(hash, endpoint);
    return this.transport.call(
      endpoint,
      `/block/${id}/raw`,
      (a) => {
        if (a.status === 404) return undefined;
        // Any other non-2xx status ends the call as `ok` decides (it throws).
        if (a.status < 200 || a.status >= 300) this.transport.ok(a, endpoint, () => undefined);
        if (a.bytes === undefined) throw new MalformedAnswer('no block bytes');
        try {
          return parseVerifiedBlock(
            a.bytes,
            id,
            this.network === undefined ? {} : { network: this.network },
          );
        } catch (err) {
          if (err instanceof BlockVerificationError) throw new InvalidBlock(err);
          throw err;
        }
      },
      { binary: true },
    );
  }

  /** Unconfirmed transactions of `address`, newest first (Esplora answers at most 50). */
  async addressMempool(address: string): Promise<ChainTransaction[]> {
    const endpoint = '/address/:a/txs/mempool';
    this.checkAddress(address, endpoint);
    return this.transport.call(
      endpoint,
      `/address/${encodeURIComponent(address)}/txs/mempool`,
      (a) =>
        this.transport.ok(a, endpoint, (body) => {
          const txs = readTransactionList(body);
          if (txs.some((tx) => tx.status.confirmed))
            throw new MalformedAnswer('a confirmed transaction in a mempool list');
          return txs;
        }),
    );
  }

  async blockHashAt(height: number): Promise<string | undefined> {
    if (!Number.isSafeInteger(height) || height < 0)
      throw new RangeError(`block height must be a non-negative integer, got ${height}`);
    const endpoint = '/block-height/:h';
    return this.transport.call(endpoint, `/block-height/${height}`, (a) =>
      a.status === 404 ? undefined : this.transport.ok(a, endpoint, readHash),
    );
  }

  async addressTransactions(address: string): Promise<ChainTransaction[]> {
    this.checkAddress(address);
    const base = `/address/${encodeURIComponent(address)}/txs`;
    const first = await this.transport.call('/address/:a/txs', base, (a) =>
      this.transport.ok(a, '/address/:a/txs', readTransactionList),
    );
    const byTxid = new Map<string, ChainTransaction>();
    const add = (tx: ChainTransaction): boolean => {
      const known = byTxid.get(tx.txid);
      // Paging races new blocks: the confirmed sighting of a transaction wins.
      if (known && (known.status.confirmed || !tx.status.confirmed)) return false;
      byTxid.set(tx.txid, tx);
      return known === undefined;
    };
    first.forEach(add);

    let confirmed = first.filter((tx) => tx.status.confirmed);
    const endpoint = '/address/:a/txs/chain/:last';
    for (let page = 0; confirmed.length >= CHAIN_PAGE; page++) {
      if (page >= MAX_PAGES)
        throw new ChainSourceError(`address history longer than ${MAX_PAGES} pages`, endpoint);
      const lastSeen = confirmed.at(-1)?.txid ?? '';
      confirmed = await this.transport.call(endpoint, `${base}/chain/${lastSeen}`, (a) =>
        this.transport.ok(a, endpoint, readTransactionList),
      );
      const fresh = confirmed.filter(add).length;
      if (confirmed.length > 0 && fresh === 0)
        throw new ChainSourceError('address history paging made no progress', endpoint);
    }
    return [...byTxid.values()];
  }

  async transactionStatus(txid: string): Promise<TxStatus> {
    const endpoint = '/tx/:txid/status';
    return this.transport.call(endpoint, `/tx/${this.checkTxid(txid, endpoint)}/status`, (a) =>
      this.transport.ok(a, endpoint, (body) => readStatus(parseJson(body))),
    );
  }

  async transaction(txid: string): Promise<ChainTransaction | undefined> {
    const endpoint = '/tx/:txid';
    const id = this.checkTxid(txid, endpoint);
    return this.transport.call(endpoint, `/tx/${id}`, (a) =>
      a.status === 404
        ? undefined
        : this.transport.ok(a, endpoint, (body) => {
            const tx = readTransaction(parseJson(body));
            if (tx.txid !== id) throw new MalformedAnswer('answer is about another transaction');
            return tx;
          }),
    );
  }

  /**
   * A 400 is the node's verdict and is not retried; outages are (the same transaction sent
   * twice is harmless). A transaction the node already has, in its mempool or chain, counts as
   * broadcast: a retry after a lost answer must not turn a success into a rejection.
   */
  async broadcast(rawHex: string): Promise<string> {
    const hex = rawHex.trim().toLowerCase();
    const endpoint = '/tx (POST)';
    if (hex.length === 0 || !HEX.test(hex))
      throw new BroadcastRejectedError(undefined, 'not a hex-encoded transaction');
    return this.transport.call(
      endpoint,
      '/tx',
      (a) => {
        if (a.status === 400) {
          const { code, reason } = parseRejection(this.transport.redact(a.body));
          const txid = ALREADY_KNOWN.test(reason) ? txidOf(hex) : undefined;
          if (txid !== undefined) return txid;
          throw new BroadcastRejectedError(code, reason);
        }
        return this.transport.ok(a, endpoint, readHash);
      },
      { postBody: hex },
    );
  }

  async feeEstimates(): Promise<Record<string, number>> {
    const endpoint = '/fee-estimates';
    return this.transport.call(endpoint, endpoint, (a) =>
      this.transport.ok(a, endpoint, (body) => {
        const parsed = parseJson(body);
        if (!isRecord(parsed)) throw new MalformedAnswer('fee estimates are not an object');
        const estimates: Record<string, number> = {};
        for (const [target, rate] of Object.entries(parsed)) {
          if (!/^\d+$/.test(target) || typeof rate !== 'number' || !Number.isFinite(rate))
            throw new MalformedAnswer('fee estimates map targets to numbers');
          if (rate > 0) estimates[target] = rate;
        }
        return estimates;
      }),
    );
  }

  async outspend(txid: string, vout: number): Promise<Outspend> {
    const endpoint = '/tx/:txid/outspend/:vout';
    const id = this.checkTxid(txid, endpoint);
    if (!Number.isSafeInteger(vout) || vout < 0)
      throw new RangeError(`output index must be a non-negative integer, got ${vout}`);
    return this.transport.call(endpoint, `/tx/${id}/outspend/${vout}`, (a) =>
      this.transport.ok(a, endpoint, (body) => {
        const parsed = parseJson(body);
        if (!isRecord(parsed) || typeof parsed.spent !== 'boolean')
          throw new MalformedAnswer('outspend answer has no "spent" flag');
        if (!parsed.spent) return { spent: false };
        if (typeof parsed.txid !== 'string' || !HEX64.test(parsed.txid))
          throw new MalformedAnswer('a spent outspend answer names no spending txid');
        return { spent: true, txid: parsed.txid };
      }),
    );
  }
  // ---- input checks ---------------------------------------------------------------------

  private checkHash(hash: string, endpoint: string): string {
    const normal = hash.toLowerCase();
    if (!HEX64.test(normal))
      throw new ChainSourceError('not a block hash (64 hex digits)', endpoint);
    return normal;
  }

  private checkTxid(txid: string, endpoint: string): string {
    const normal = txid.toLowerCase();
    if (!HEX64.test(normal)) throw new ChainSourceError('not a txid (64 hex digits)', endpoint);
    return normal;
  }

  private checkAddress(address: string, endpoint = '/address/:a/txs'): void {
    if (this.network === undefined) {
      if (address.length === 0 || /[\s/?#]/.test(address))
        throw new ChainSourceError('not an address', endpoint);
      return;
    }
    try {
      bitcoin.address.toOutputScript(address, BITCOIN_NETWORKS[this.network]);
    } catch {
      throw new ChainSourceError(`not a ${this.network} address`, endpoint);
    }
  }
}
