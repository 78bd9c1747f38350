/**
 * ChainSource over Blockstream esplora's HTTP API (API.md; also served by mempool.space and
 * electrs). Failover across base URLs, bounded retries with exponential backoff and jitter,
 * at most `maxConcurrency` requests in flight, an optional bearer token, and every answer
 * validated at the edge: a body that does not have the shape we depend on is treated like an
 * outage (retried), never guessed at.
 *
 * Retry model: one *round* tries every base URL once, starting with the last one that answered;
 * failing over to the next URL is immediate. After a round in which no URL answered, the client
 * waits (backoff with jitter, or the server's Retry-After, both capped at `maxDelayMs`) and
 * starts another round, up to `retries` more rounds. The worst case for one call is therefore
 * (retries + 1) × urls × timeoutMs + retries × maxDelayMs.
 */
import axios, { type AxiosInstance } from 'axios';
import * as bitcoin from 'bitcoinjs-lib';
import { type EsploraUrlSettings, esploraUrls } from './public-esplora.js';
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
  type TxOutput,
  type TxStatus,
  type VerifiedBlock,
} from './chain-source.js';

/** The daemon settings an Esplora source is built from (a structural slice of its config). */
export interface EsploraSettings extends EsploraUrlSettings {
  chain: EsploraUrlSettings['chain'] & {
    timeoutMs: number;
    maxConcurrency: number;
    retries: number;
    bearerToken?: string;
  };
}

export interface EsploraChainSourceOptions {
  /** Esplora API roots, e.g. `https://blockstream.info/api`; tried in order. */
  baseUrls: string[];
  /** Per HTTP request, wall clock. */
  timeoutMs: number;
  /** HTTP requests in flight at once, per instance. */
  maxConcurrency: number;
  /** Extra rounds over the base URLs after the first one fails. */
  retries: number;
  /** Sent as `Authorization: Bearer <token>`; never appears in errors. */
  bearerToken?: string;
  /** When set, addresses are checked against it before any request. */
  network?: NetworkName;
  /** First backoff wait (default 200 ms); doubles every round. */
  baseDelayMs?: number;
  /** Longest single wait, Retry-After included (default 2000 ms). */
  maxDelayMs?: number;
  /** Every HTTP request sent (each attempt) is recorded here. */
  budget?: RequestBudget;
  /**
   * Told of every raw block refused by verification, with the host that served it (for the
   * daemon's log), also when the next base URL then serves the block.
   */
  onBlockRefused?: (refusal: BlockVerificationError) => void;
  /** For tests: how to wait, the jitter source in [0, 1), and the clock (ms) the budget reads. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** What one HTTP attempt came to. */
export type EsploraOutcome =
  | 'ok'
  | 'answer'
  | 'rate-limited'
  | 'server-error'
  | 'unexpected-status'
  | 'timeout'
  | 'network'
  | 'truncated'
  | 'malformed'
  /** A raw block that failed verification (wrong hash, merkle root or proof of work). */
  | 'invalid-block';

export interface EsploraStats {
  /** Logical calls (one `transaction()` is one call, however many attempts it took). */
  calls: Record<string, number>;
  /** HTTP requests sent, by endpoint pattern (e.g. `/address/:a/txs`). */
  requests: Record<string, number>;
  /** HTTP requests by what they came to. */
  outcomes: Partial<Record<EsploraOutcome, number>>;
  /** Calls that ended in ChainSourceError, by endpoint pattern. */
  failures: Record<string, number>;
  /** Requests beyond each call's first. */
  retries: number;
  /** Raw blocks refused by verification, by the host of the base URL that served them. */
  refusedBlocks: Record<string, number>;
}

interface Answer {
  status: number;
  /** The body as text (for a binary request, only when the status is not 2xx). */
  body: string;
  /** The body as bytes, for a binary request. */
  bytes?: Uint8Array;
}

/** A block the server sent that is not the block asked for: the next base URL is tried. */
class InvalidBlock extends Error {
  override readonly name = 'InvalidBlock';
  constructor(readonly refusal: BlockVerificationError) {
    super(refusal.reason);
  }
}

/** A body without the shape we depend on: treated like an outage and retried. */
class MalformedAnswer extends Error {
  override readonly name = 'MalformedAnswer';
}

type AttemptResult =
  | { kind: 'answer'; answer: Answer }
  | { kind: 'failed'; outcome: EsploraOutcome; status?: number; retryAfterMs?: number };

const HEX64 = /^[0-9a-f]{64}$/;
const HEX = /^(?:[0-9a-f]{2})*$/;
/** Esplora's confirmed-history page size (`/address/:a/txs` and `/txs/chain/:last_seen`). */
const CHAIN_PAGE = 25;
/** BIP125: an input with a sequence below this signals replaceability. */
const RBF_SEQUENCE_LIMIT = 0xfffffffe;
const MAX_REASON_LENGTH = 500;
/** Sanity cap on history paging (25 × 4000 = 100 000 confirmed transactions). */
const MAX_PAGES = 4000;

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

/** A counting semaphore: at most `limit` holders at once, first come first served. */
class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

// ---- validation at the edge -------------------------------------------------------------

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new MalformedAnswer('body is not valid JSON');
  }
}

function readStatus(value: unknown): TxStatus {
  if (!isRecord(value) || typeof value.confirmed !== 'boolean')
    throw new MalformedAnswer('status has no confirmed flag');
  if (!value.confirmed) return { confirmed: false };
  const { block_height: height, block_hash: hash, block_time: time } = value;
  if (!isNonNegativeInt(height) || typeof hash !== 'string' || !HEX64.test(hash))
    throw new MalformedAnswer('confirmed status without block height and hash');
  const status: TxStatus = { confirmed: true, blockHeight: height, blockHash: hash };
  if (time !== undefined && time !== null) {
    if (!isNonNegativeInt(time)) throw new MalformedAnswer('block_time is not a timestamp');
    status.blockTime = time;
  }
  return status;
}

function readOutput(value: unknown, vout: number): TxOutput {
  if (!isRecord(value)) throw new MalformedAnswer('vout entry is not an object');
  const { scriptpubkey: script, scriptpubkey_address: address, value: sats } = value;
  if (typeof script !== 'string' || !HEX.test(script))
    throw new MalformedAnswer('vout scriptpubkey is not hex');
  if (!isNonNegativeInt(sats)) throw new MalformedAnswer('vout value is not whole sats');
  const output: TxOutput = { vout, script, valueSats: sats };
  if (address !== undefined && address !== null) {
    if (typeof address !== 'string' || address.length === 0)
      throw new MalformedAnswer('vout scriptpubkey_address is not a string');
    output.address = address;
  }
  return output;
}

function readTransaction(value: unknown): ChainTransaction {
  if (!isRecord(value)) throw new MalformedAnswer('transaction is not an object');
  const { txid, status, vin, vout, fee, weight } = value;
  if (typeof txid !== 'string' || !HEX64.test(txid))
    throw new MalformedAnswer('transaction has no txid');
  if (!Array.isArray(vin) || !Array.isArray(vout))
    throw new MalformedAnswer('transaction has no vin or vout list');
  const spends: { txid: string; vout: number }[] = [];
  const signalsRbf = vin
    .map((input: unknown) => {
      if (!isRecord(input) || !isNonNegativeInt(input.sequence))
        throw new MalformedAnswer('vin entry has no sequence');
      if (input.is_coinbase !== true) {
        if (
          typeof input.txid !== 'string' ||
          !HEX64.test(input.txid) ||
          !isNonNegativeInt(input.vout)
        )
          throw new MalformedAnswer('vin entry has no outpoint');
        spends.push({ txid: input.txid, vout: input.vout });
      }
      return input.sequence < RBF_SEQUENCE_LIMIT;
    })
    .some(Boolean);
  const tx: ChainTransaction = {
    txid,
    status: readStatus(status),
    outputs: vout.map((out: unknown, index) => readOutput(out, index)),
    spends,
    signalsRbf,
  };
  if (fee !== undefined && fee !== null) {
    if (!isNonNegativeInt(fee)) throw new MalformedAnswer('fee is not whole sats');
    tx.feeSats = fee;
  }
  if (weight !== undefined && weight !== null) {
    if (!isNonNegativeInt(weight) || weight === 0) throw new MalformedAnswer('weight is invalid');
    tx.vsize = Math.ceil(weight / 4);
  }
  return tx;
}

function readTransactionList(body: string): ChainTransaction[] {
  const list = parseJson(body);
  if (!Array.isArray(list)) throw new MalformedAnswer('expected a list of transactions');
  return list.map(readTransaction);
}

function readHash(body: string): string {
  const hash = body.trim();
  if (!HEX64.test(hash)) throw new MalformedAnswer('expected a block hash');
  return hash;
}

function readHeight(body: string): number {
  const text = body.trim();
  if (!/^\d{1,10}$/.test(text)) throw new MalformedAnswer('expected a block height');
  return Number(text);
}

/** `sendrawtransaction RPC error: {"code":-26,"message":"…"}`, a JSON body, or plain text. */
export function parseRejection(body: string): { code: number | undefined; reason: string } {
  const text = body.trim();
  const embedded = /RPC error:\s*(\{.*\})\s*$/s.exec(text)?.[1];
  for (const candidate of [embedded, text]) {
    if (candidate === undefined) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(candidate) as unknown;
    } catch {
      continue;
    }
    if (!isRecord(parsed)) continue;
    const inner = isRecord(parsed.error) ? parsed.error : parsed;
    const message = [inner.message, inner.error, parsed.error].find(
      (m): m is string => typeof m === 'string' && m.length > 0,
    );
    const code =
      typeof inner.code === 'number' && Number.isInteger(inner.code) ? inner.code : undefined;
    if (message !== undefined) return { code, reason: message.slice(0, MAX_REASON_LENGTH) };
  }
  return { code: undefined, reason: (text || 'no reason given').slice(0, MAX_REASON_LENGTH) };
}

/** Rejections that mean "the node already has this transaction": the broadcast did its job. */
const ALREADY_KNOWN =
  /already have transaction|txn-already-in-mempool|txn-already-known|already in block ?chain|transaction already exists/i;

function txidOf(rawHex: string): string | undefined {
  try {
    return bitcoin.Transaction.fromHex(rawHex).getId();
  } catch {
    return undefined;
  }
}

function retryAfterMs(header: unknown, now: number): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function classifyError(err: unknown): EsploraOutcome {
  if (!axios.isAxiosError(err)) return 'network';
  switch (err.code) {
    case 'ECONNABORTED':
    case 'ETIMEDOUT':
    case 'ERR_CANCELED':
      return 'timeout';
    case 'ERR_BAD_RESPONSE':
      return 'truncated';
    default:
      // A connection closed in the middle of a body surfaces as a reset while reading it.
      return err.response === undefined ? 'network' : 'truncated';
  }
}

// ---- the client -------------------------------------------------------------------------

export class EsploraChainSource implements ChainSource {
  readonly baseUrls: readonly string[];
  readonly network: NetworkName | undefined;
  /** host[:port] of each base URL, for error messages (no path, no credentials). */
  private readonly hosts: readonly string[];
  /** Kept only to scrub it from server text we quote (a server may echo request headers). */
  private readonly token: string | undefined;
  private readonly http: AxiosInstance;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly semaphore: Semaphore;
  /** Every request sent is recorded in it (absent: not counted against any budget). */
  readonly budget: RequestBudget | undefined;
  private readonly onBlockRefused: ((refusal: BlockVerificationError) => void) | undefined;
  /** Index of the base URL that answered last; every call starts there. */
  private preferred = 0;
  private counters: EsploraStats = EsploraChainSource.emptyStats();

  constructor(options: EsploraChainSourceOptions) {
    if (options.baseUrls.length === 0) throw new Error('EsploraChainSource needs a base URL');
    this.baseUrls = options.baseUrls.map((raw) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error('an esplora base URL is not a URL');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`esplora base URL for ${url.host} must be http or https`);
      return raw.replace(/\/+$/, '');
    });
    for (const [name, value, min] of [
      ['timeoutMs', options.timeoutMs, 1],
      ['maxConcurrency', options.maxConcurrency, 1],
      ['retries', options.retries, 0],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < min)
        throw new Error(`EsploraChainSource ${name} must be an integer ≥ ${min}`);
    }
    this.hosts = this.baseUrls.map((url) => new URL(url).host);
    this.network = options.network;
    this.timeoutMs = options.timeoutMs;
    this.retries = options.retries;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 2000;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.budget = options.budget;
    this.onBlockRefused = options.onBlockRefused;
    this.semaphore = new Semaphore(options.maxConcurrency);
    const headers: Record<string, string> = { accept: 'application/json, text/plain' };
    this.token = options.bearerToken === '' ? undefined : options.bearerToken;
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    this.http = axios.create({
      timeout: options.timeoutMs,
      headers,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      // A redirect could carry the token elsewhere; esplora never redirects.
      maxRedirects: 0,
    });
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
    return structuredClone(this.counters);
  }

  resetStats(): void {
    this.counters = EsploraChainSource.emptyStats();
  }

  /** The base URL calls start with (the last one that answered). */
  get currentBaseUrl(): string {
    return this.baseUrls[this.preferred] ?? '';
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
    return this.call('/blocks/tip/hash', '/blocks/tip/hash', (a) =>
      this.ok(a, '/blocks/tip/hash', readHash),
    );
  }

  async tipHeight(): Promise<number> {
    return this.call('/blocks/tip/height', '/blocks/tip/height', (a) =>
      this.ok(a, '/blocks/tip/height', readHeight),
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
    return this.call(
      endpoint,
      `/block/${id}/raw`,
      (a) => {
        if (a.status === 404) return undefined;
        // Any other non-2xx status ends the call as `ok` decides (it throws).
        if (a.status < 200 || a.status >= 300) this.ok(a, endpoint, () => undefined);
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
    return this.call(endpoint, `/address/${encodeURIComponent(address)}/txs/mempool`, (a) =>
      this.ok(a, endpoint, (body) => {
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
    return this.call(endpoint, `/block-height/${height}`, (a) =>
      a.status === 404 ? undefined : this.ok(a, endpoint, readHash),
    );
  }

  async addressTransactions(address: string): Promise<ChainTransaction[]> {
    this.checkAddress(address);
    const base = `/address/${encodeURIComponent(address)}/txs`;
    const first = await this.call('/address/:a/txs', base, (a) =>
      this.ok(a, '/address/:a/txs', readTransactionList),
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
      confirmed = await this.call(endpoint, `${base}/chain/${lastSeen}`, (a) =>
        this.ok(a, endpoint, readTransactionList),
      );
      const fresh = confirmed.filter(add).length;
      if (confirmed.length > 0 && fresh === 0)
        throw new ChainSourceError('address history paging made no progress', endpoint);
    }
    return [...byTxid.values()];
  }

  async transactionStatus(txid: string): Promise<TxStatus> {
    const endpoint = '/tx/:txid/status';
    return this.call(endpoint, `/tx/${this.checkTxid(txid, endpoint)}/status`, (a) =>
      this.ok(a, endpoint, (body) => readStatus(parseJson(body))),
    );
  }

  async transaction(txid: string): Promise<ChainTransaction | undefined> {
    const endpoint = '/tx/:txid';
    const id = this.checkTxid(txid, endpoint);
    return this.call(endpoint, `/tx/${id}`, (a) =>
      a.status === 404
        ? undefined
        : this.ok(a, endpoint, (body) => {
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
    return this.call(
      endpoint,
      '/tx',
      (a) => {
        if (a.status === 400) {
          const { code, reason } = parseRejection(this.redact(a.body));
          const txid = ALREADY_KNOWN.test(reason) ? txidOf(hex) : undefined;
          if (txid !== undefined) return txid;
          throw new BroadcastRejectedError(code, reason);
        }
        return this.ok(a, endpoint, readHash);
      },
      { postBody: hex },
    );
  }

  async feeEstimates(): Promise<Record<string, number>> {
    const endpoint = '/fee-estimates';
    return this.call(endpoint, endpoint, (a) =>
      this.ok(a, endpoint, (body) => {
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
    return this.call(endpoint, `/tx/${id}/outspend/${vout}`, (a) =>
      this.ok(a, endpoint, (body) => {
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

  // ---- plumbing -------------------------------------------------------------------------

  private static emptyStats(): EsploraStats {
    return {
      calls: {},
      requests: {},
      outcomes: {},
      failures: {},
      retries: 0,
      refusedBlocks: {},
    };
  }

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

  /** A 2xx body through `read`; any other status the caller did not handle is a definitive error. */
  private ok<T>(answer: Answer, endpoint: string, read: (body: string) => T): T {
    if (answer.status >= 200 && answer.status < 300) return read(answer.body);
    throw new ChainSourceError(
      `esplora answered ${answer.status} on ${endpoint}: ${this.redact(answer.body.trim()).slice(0, 200)}`,
      endpoint,
      answer.status,
    );
  }

  /** Server text with the bearer token blanked out, before it goes into any error. */
  private redact(text: string): string {
    return this.token === undefined ? text : text.split(this.token).join('[redacted]');
  }

  private bump(table: Record<string, number>, key: string): void {
    table[key] = (table[key] ?? 0) + 1;
  }

  private record(outcome: EsploraOutcome): void {
    this.counters.outcomes[outcome] = (this.counters.outcomes[outcome] ?? 0) + 1;
  }

  private backoff(round: number, retryAfter: number | undefined): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (round - 1));
    const jittered = ceiling / 2 + (this.random() * ceiling) / 2;
    return Math.min(this.maxDelayMs, Math.max(jittered, retryAfter ?? 0));
  }

  /**
   * Runs one logical call: `read` turns an answer (2xx, or a 4xx other than 408/425/429) into
   * the result, may throw MalformedAnswer to have it retried, or any other error to end the
   * call at once.
   */
  private async call<T>(
    endpoint: string,
    path: string,
    read: (answer: Answer) => T,
    request: { postBody?: string; binary?: boolean } = {},
  ): Promise<T> {
    this.bump(this.counters.calls, endpoint);
    const count = this.baseUrls.length;
    let attempts = 0;
    let lastOutcome: EsploraOutcome = 'network';
    let lastStatus: number | undefined;
    let lastHost = '';
    let retryAfter: number | undefined;
    /** Base URLs that served an invalid block: a lie is not retried within the call. */
    const refused = new Map<number, BlockVerificationError>();
    for (let round = 0; round <= this.retries && refused.size < count; round++) {
      if (round > 0) await this.sleep(this.backoff(round, retryAfter));
      retryAfter = undefined;
      const start = this.preferred;
      for (let i = 0; i < count; i++) {
        const index = (start + i) % count;
        if (refused.has(index)) continue;
        if (attempts++ > 0) this.counters.retries++;
        const result = await this.attempt(index, endpoint, path, request);
        lastHost = this.hosts[index] ?? '';
        if (result.kind === 'failed') {
          this.record(result.outcome);
          lastOutcome = result.outcome;
          if (result.status !== undefined) lastStatus = result.status;
          if (result.retryAfterMs !== undefined)
            retryAfter = Math.max(retryAfter ?? 0, result.retryAfterMs);
          continue;
        }
        let value: T;
        try {
          value = read(result.answer);
        } catch (err) {
          if (err instanceof MalformedAnswer) {
            this.record('malformed');
            lastOutcome = 'malformed';
            lastStatus = result.answer.status;
            continue;
          }
          if (err instanceof InvalidBlock) {
            this.record('invalid-block');
            this.bump(this.counters.refusedBlocks, lastHost);
            const refusal = new BlockVerificationError(
              err.refusal.hash,
              err.refusal.reason,
              lastHost,
            );
            refused.set(index, refusal);
            this.onBlockRefused?.(refusal);
            lastOutcome = 'invalid-block';
            continue;
          }
          this.record('answer');
          this.preferred = index;
          if (err instanceof ChainSourceError) this.bump(this.counters.failures, endpoint);
          throw err;
        }
        this.record(result.answer.status < 300 ? 'ok' : 'answer');
        this.preferred = index;
        return value;
      }
    }
    this.bump(this.counters.failures, endpoint);
    // A server that lied outranks one that was down: the caller learns a block was forged.
    const refusal = [...refused.values()].at(-1);
    if (refusal !== undefined) throw refusal;
    const statusText = lastStatus === undefined ? '' : `, last status ${lastStatus}`;
    throw new ChainSourceError(
      `esplora ${endpoint} failed after ${attempts} attempts (last: ${lastOutcome} from ${lastHost}${statusText})`,
      endpoint,
      lastStatus,
    );
  }

  private async attempt(
    index: number,
    endpoint: string,
    path: string,
    request: { postBody?: string; binary?: boolean },
  ): Promise<AttemptResult> {
    const { postBody, binary = false } = request;
    return this.semaphore.run(async () => {
      this.bump(this.counters.requests, endpoint);
      this.budget?.record(this.now());
      const url = `${this.baseUrls[index] ?? ''}${path}`;
      let status: number;
      let body: unknown;
      let retryAfterHeader: unknown;
      try {
        const response = await this.http.request<unknown>({
          url,
          method: postBody === undefined ? 'GET' : 'POST',
          data: postBody,
          headers: postBody === undefined ? {} : { 'content-type': 'text/plain' },
          ...(binary && { responseType: 'arraybuffer' as const }),
          // `timeout` is reset by socket activity; the signal bounds the whole exchange.
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = response.status;
        body = response.data;
        retryAfterHeader = response.headers['retry-after'];
      } catch (err) {
        return { kind: 'failed', outcome: classifyError(err) };
      }
      if (status === 429 || status === 425 || status === 408) {
        return {
          kind: 'failed',
          outcome: 'rate-limited',
          status,
          retryAfterMs: retryAfterMs(retryAfterHeader, Date.now()),
        };
      }
      if (status >= 500) return { kind: 'failed', outcome: 'server-error', status };
      if (status < 200 || (status >= 300 && status < 400))
        return { kind: 'failed', outcome: 'unexpected-status', status };
      if (binary) {
        // Node's adapter hands a Buffer; a browser-style adapter an ArrayBuffer.
        const bytes =
          body instanceof Uint8Array
            ? body
            : body instanceof ArrayBuffer
              ? new Uint8Array(body)
              : undefined;
        if (bytes === undefined) return { kind: 'failed', outcome: 'malformed', status };
        const text = status < 300 ? '' : Buffer.from(bytes).toString('utf8');
        return { kind: 'answer', answer: { status, body: text, bytes } };
      }
      if (typeof body !== 'string') return { kind: 'failed', outcome: 'malformed', status };
      return { kind: 'answer', answer: { status, body } };
    });
  }
}
