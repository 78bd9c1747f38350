import { createHash } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';

/**
 * Fault profiles for reliability tests. A profile is reached through its own base URL
 * (`/faults/<name>/...`), so tests never disturb each other; the plain root stays healthy.
 */
export interface FaultConfig {
  /** Added delay before every answer, in ms. */
  latencyMs?: number;
  /** Probabilities in [0, 1], rolled in this order; their sum must not exceed 1. */
  rate429?: number;
  rate5xx?: number;
  rateTimeout?: number;
  rateTruncated?: number;
  rateMalformed?: number;
  /** How long a "timeout" holds the connection before dropping it (default 30 s). */
  timeoutHoldMs?: number;
  /** Only paths matching this regular expression get faults (default: all). */
  pathPattern?: string;
  /** Seed for a reproducible fault sequence. */
  seed?: number;
  /**
   * A server that lies about blocks: with this probability in [0, 1], a `/block/:hash/raw`
   * answer has one byte of one non-coinbase transaction flipped (the header is untouched, so
   * the hash matches and the merkle root does not). Rolled apart from the rates above.
   */
  tamperBlock?: number;
  /**
   * A server that invents a tip: `/blocks/tip/hash` names a forged block, the real tip with
   * its bits set to 0x1d00ffff (a target its hash does not meet), served at its own hash.
   */
  badPow?: boolean;
}

export type FaultKind =
  'none' | '429' | '5xx' | 'timeout' | 'truncated' | 'malformed' | 'tamperBlock' | 'badPow';

export interface FaultStats {
  requests: number;
  injected: Record<Exclude<FaultKind, 'none'>, number>;
}

/** The bits a forged header claims: mainnet's minimum difficulty, far above regtest's. */
export const FORGED_BITS = 0x1d00ffff;

const sha256d = (data: Uint8Array): Buffer =>
  createHash('sha256').update(createHash('sha256').update(data).digest()).digest();

/** Display hash of an 80-byte header. */
export function headerHash(header: Uint8Array): string {
  return sha256d(header.subarray(0, 80)).reverse().toString('hex');
}

/**
 * A copy of `raw` with one byte flipped inside the first input's outpoint of the second
 * transaction (in the coinbase's locktime when the block has nothing else): the transaction
 * still decodes, its txid changes, the header does not.
 */
export function tamperRawBlock(raw: Buffer): Buffer {
  const block = bitcoin.Block.fromBuffer(raw);
  const txs = block.transactions ?? [];
  const victim = txs.length > 1 ? 1 : 0;
  const count = txs.length;
  let offset = 80 + (count < 0xfd ? 1 : count <= 0xffff ? 3 : 5);
  for (let i = 0; i < victim; i++) offset += txs[i]!.byteLength();
  const tx = txs[victim]!;
  if (victim === 0) {
    // A coinbase's outpoint must stay null: flip a locktime byte instead (its last byte).
    offset += tx.byteLength() - 1;
  } else {
    // version, [marker, flag], input count, then inside the first outpoint's txid.
    offset += 4 + (tx.hasWitnesses() ? 2 : 0) + (tx.ins.length < 0xfd ? 1 : 3) + 7;
  }
  const copy = Buffer.from(raw);
  copy[offset] = copy[offset]! ^ 0x01;
  return copy;
}

/** The block `raw` with its bits set to FORGED_BITS, and the hash of that forged header. */
export function forgeBadPow(raw: Buffer): { hash: string; raw: Buffer } {
  const copy = Buffer.from(raw);
  copy.writeUInt32LE(FORGED_BITS, 72);
  return { hash: headerHash(copy), raw: copy };
}

/** mulberry32: small, fast, good enough to make fault sequences reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultProfile {
  readonly stats: FaultStats = {
    requests: 0,
    injected: {
      '429': 0,
      '5xx': 0,
      timeout: 0,
      truncated: 0,
      malformed: 0,
      tamperBlock: 0,
      badPow: 0,
    },
  };
  /** Forged blocks this profile has named as its tip, by hash. */
  readonly forged = new Map<string, Buffer>();
  private readonly random: () => number;
  private readonly pattern: RegExp | undefined;

  constructor(readonly config: FaultConfig) {
    const total =
      (config.rate429 ?? 0) +
      (config.rate5xx ?? 0) +
      (config.rateTimeout ?? 0) +
      (config.rateTruncated ?? 0) +
      (config.rateMalformed ?? 0);
    if (total > 1 + 1e-9) throw new Error(`fault rates add up to ${total} > 1`);
    const tamper = config.tamperBlock ?? 0;
    if (!(tamper >= 0 && tamper <= 1)) throw new Error(`tamperBlock ${tamper} is not in [0, 1]`);
    this.random = config.seed === undefined ? Math.random : prng(config.seed);
    this.pattern = config.pathPattern === undefined ? undefined : new RegExp(config.pathPattern);
  }

  roll(path: string): FaultKind {
    this.stats.requests++;
    if (this.pattern && !this.pattern.test(path)) return 'none';
    const r = this.random();
    const c = this.config;
    const buckets: [Exclude<FaultKind, 'none'>, number | undefined][] = [
      ['429', c.rate429],
      ['5xx', c.rate5xx],
      ['timeout', c.rateTimeout],
      ['truncated', c.rateTruncated],
      ['malformed', c.rateMalformed],
    ];
    let edge = 0;
    for (const [kind, rate] of buckets) {
      edge += rate ?? 0;
      if (r < edge) {
        this.stats.injected[kind]++;
        return kind;
      }
    }
    return 'none';
  }

  /** Whether this `/block/:hash/raw` answer gets a flipped byte (counted when it does). */
  rollTamper(path: string): boolean {
    const rate = this.config.tamperBlock ?? 0;
    if (rate <= 0 || (this.pattern && !this.pattern.test(path))) return false;
    if (this.random() >= rate) return false;
    this.stats.injected.tamperBlock++;
    return true;
  }
}
