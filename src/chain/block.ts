/**
 * Verifying a raw block from an untrusted server (pure, no I/O). A block passes when
 *   (a) it decodes completely, with nothing after its last transaction;
 *   (b) the double-SHA256 of its header is the hash we asked for;
 *   (c) its transactions hash to the header's merkle root (no CVE-2012-2459 duplicate trick),
 *       and to the coinbase's witness commitment when any transaction carries a witness;
 *   (d) the header's hash meets the target in its own bits, and those bits are no easier than
 *       the network's proof-of-work limit.
 * (b)–(d) mean a server can withhold or delay a block but cannot make one up without mining it.
 * What the header alone cannot tell (the parent link, the height, the expected difficulty) is
 * the caller's, with its header chain; `checkDifficultyTransition` is the mainnet rule for bits.
 */
import { hash } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';
import type { NetworkName } from '../wallet/networks.js';
import {
  type BlockTransaction,
  BlockVerificationError,
  type VerifiedBlock,
} from './chain-source.js';

/** BIP125: an input with a sequence below this signals replaceability. */
const RBF_SEQUENCE_LIMIT = 0xfffffffe;
const HEX64 = /^[0-9a-f]{64}$/;

/** The easiest target (compact bits) each network accepts. */
export const POW_LIMIT_BITS: Record<NetworkName, number> = {
  mainnet: 0x1d00ffff,
  testnet: 0x1d00ffff,
  signet: 0x1e0377ae,
  regtest: 0x207fffff,
};

/** Mainnet retargets every 2016 blocks, by at most a factor of 4 either way. */
export const RETARGET_INTERVAL = 2016;
const RETARGET_FACTOR = 4n;

export interface ParseBlockOptions {
  /** When set, a header whose bits are easier than this network's limit is refused. */
  network?: NetworkName;
}

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** Hashes are shown byte-reversed (the RPC and Esplora convention). */
const toDisplayHex = (bytes: Uint8Array): string => toHex(Uint8Array.from(bytes).reverse());

/**
 * The block `raw` if it is the block `expectedHash` names, reduced to what matching needs;
 * BlockVerificationError with the reason otherwise.
 */
export function parseVerifiedBlock(
  raw: Uint8Array,
  expectedHash: string,
  options: ParseBlockOptions = {},
): VerifiedBlock {
  const wanted = expectedHash.toLowerCase();
  const refuse = (reason: string): never => {
    throw new BlockVerificationError(wanted, reason);
  };
  if (!HEX64.test(wanted)) refuse('the expected hash is not 64 hex digits');
  if (raw.length < 80) refuse(`${raw.length} bytes is shorter than a block header`);

  let block: bitcoin.Block;
  try {
    block = bitcoin.Block.fromBuffer(raw);
  } catch (err) {
    return refuse(`undecodable: ${err instanceof Error ? err.message : String(err)}`);
  }
  const id = toDisplayHex(sha256d(raw.subarray(0, 80)));
  if (id !== wanted) refuse(`header hashes to ${id}`);
  const txs = block.transactions ?? [];
  if (txs.length === 0) refuse('no transactions');
  const hashes = transactionHashes(raw, txs);
  if (hashes === undefined) return refuse(`bytes after the last transaction`);
  if (!txs[0]?.isCoinbase()) refuse('the first transaction is not a coinbase');
  if (txs.slice(1).some((tx) => tx.isCoinbase())) refuse('a coinbase after the first transaction');
  const { prevHash, merkleRoot } = block;
  if (prevHash === undefined || merkleRoot === undefined) return refuse('incomplete header');
  const txRoot = merkleRootOf(hashes.txids);
  if (txRoot.mutated || !txRoot.root.equals(merkleRoot))
    refuse('transactions do not match the merkle root');
  const witness = checkWitnessCommitment(txs, hashes.wtxids);
  if (witness !== undefined) refuse(witness);
  if (!block.checkProofOfWork())
    refuse(`hash does not meet its target (bits ${hex32(block.bits)})`);
  if (options.network !== undefined) {
    const limit = POW_LIMIT_BITS[options.network];
    if (targetOf(block.bits) > targetOf(limit))
      refuse(`bits ${hex32(block.bits)} are easier than the ${options.network} limit`);
  }

  return {
    hash: id,
    prevHash: toDisplayHex(prevHash),
    merkleRoot: toDisplayHex(merkleRoot),
    bits: block.bits,
    time: block.timestamp,
    transactions: txs.map((tx, i) => toBlockTransaction(tx, hashes.txids[i] ?? Buffer.alloc(32))),
  };
}

function toBlockTransaction(tx: bitcoin.Transaction, hash: Uint8Array): BlockTransaction {
  const coinbase = tx.isCoinbase();
  return {
    txid: toDisplayHex(hash),
    outputs: tx.outs.map((out, vout) => ({
      vout,
      script: toHex(out.script),
      valueSats: Number(out.value),
    })),
    spends: coinbase
      ? []
      : tx.ins.map((input) => ({ txid: toDisplayHex(input.hash), vout: input.index })),
    signalsRbf: tx.ins.some((input) => input.sequence < RBF_SEQUENCE_LIMIT),
  };
}

// ---- hashing ------------------------------------------------------------------------------
// bitcoinjs hashes by re-serializing each transaction and running a JavaScript SHA-256: about
// 0.8 s for a 1.5 MB block. The same hashes from slices of the bytes we received, with Node's
// native SHA-256, take a few milliseconds.

function sha256d(...parts: Uint8Array[]): Buffer {
  // One-shot hashing: a createHash object per call costs more than hashing a transaction.
  const data = parts.length === 1 ? (parts[0] ?? new Uint8Array()) : Buffer.concat(parts);
  return hash('sha256', hash('sha256', data, 'buffer'), 'buffer');
}

/**
 * Txids and wtxids from each transaction's bytes in `raw`, located by the decoded lengths;
 * undefined when the decoded transactions do not end exactly where `raw` does. A segwit
 * transaction's txid covers its bytes without the marker, flag and witnesses.
 */
function transactionHashes(
  raw: Uint8Array,
  txs: bitcoin.Transaction[],
): { txids: Buffer[]; wtxids: Buffer[] } | undefined {
  const countBytes = txs.length < 0xfd ? 1 : txs.length <= 0xffff ? 3 : 5;
  let offset = 80 + countBytes;
  const txids: Buffer[] = [];
  const wtxids: Buffer[] = [];
  for (const tx of txs) {
    const total = tx.byteLength(true);
    const end = offset + total;
    if (end > raw.length) return undefined;
    const whole = raw.subarray(offset, end);
    if (tx.hasWitnesses()) {
      const stripped = tx.byteLength(false);
      txids.push(
        sha256d(
          whole.subarray(0, 4),
          whole.subarray(6, 6 + stripped - 8),
          whole.subarray(total - 4),
        ),
      );
      wtxids.push(sha256d(whole));
    } else {
      const hash = sha256d(whole);
      txids.push(hash);
      wtxids.push(hash);
    }
    offset = end;
  }
  return offset === raw.length ? { txids, wtxids } : undefined;
}

/** Bitcoin Core's ComputeMerkleRoot, with its CVE-2012-2459 mutation flag. */
function merkleRootOf(hashes: Buffer[]): { root: Buffer; mutated: boolean } {
  let level = hashes;
  let mutated = false;
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] ?? Buffer.alloc(32);
      const right = level[i + 1];
      if (right?.equals(left)) mutated = true;
      next.push(sha256d(left, right ?? left));
    }
    level = next;
  }
  return { root: level[0] ?? Buffer.alloc(32), mutated };
}

const WITNESS_COMMITMENT_PREFIX = Buffer.from('6a24aa21a9ed', 'hex');

/**
 * BIP141: the coinbase's last output starting with the commitment header commits to the
 * wtxids (the coinbase's counted as zero) and the coinbase's 32-byte witness reserved value.
 * Without a commitment no transaction may carry a witness. The reason it fails, or undefined.
 */
function checkWitnessCommitment(txs: bitcoin.Transaction[], wtxids: Buffer[]): string | undefined {
  const coinbase = txs[0];
  if (coinbase === undefined) return 'no coinbase';
  const commitment = coinbase.outs
    .filter(
      (out) =>
        out.script.length >= 38 &&
        Buffer.from(out.script.subarray(0, 6)).equals(WITNESS_COMMITMENT_PREFIX),
    )
    .at(-1);
  if (commitment === undefined) {
    return txs.some((tx) => tx.hasWitnesses())
      ? 'witness data without a witness commitment'
      : undefined;
  }
  const reserved = coinbase.ins[0]?.witness ?? [];
  if (reserved.length !== 1 || reserved[0]?.length !== 32)
    return 'the coinbase witness reserved value is not one 32-byte item';
  const root = merkleRootOf([Buffer.alloc(32), ...wtxids.slice(1)]).root;
  const expected = sha256d(root, reserved[0]);
  return expected.equals(commitment.script.subarray(6, 38))
    ? undefined
    : 'transactions do not match the witness commitment';
}

// ---- difficulty ---------------------------------------------------------------------------

export type DifficultyVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Whether a header at `height` may carry `bits` after a parent with `prevBits`. Mainnet only:
 * bits stay put between retargets, and at a retarget the target moves by at most ×4 (computed
 * as Bitcoin Core does, so the compact encoding's rounding is allowed) and stays within the
 * proof-of-work limit. Testnet's minimum-difficulty blocks, signet and regtest are not checked.
 */
export function checkDifficultyTransition(
  network: NetworkName,
  height: number,
  prevBits: number,
  bits: number,
): DifficultyVerdict {
  if (network !== 'mainnet') return { ok: true };
  if (!Number.isSafeInteger(height) || height < 1)
    return { ok: false, reason: `height ${height} has no parent` };
  if (height % RETARGET_INTERVAL !== 0) {
    return bits === prevBits
      ? { ok: true }
      : {
          ok: false,
          reason: `bits changed from ${hex32(prevBits)} to ${hex32(bits)} at height ${height}, not a retarget height`,
        };
  }
  const previous = targetOf(prevBits);
  const next = targetOf(bits);
  const limit = targetOf(POW_LIMIT_BITS.mainnet);
  if (previous <= 0n || next <= 0n) return { ok: false, reason: 'bits encode no valid target' };
  const ceiling = min(previous * RETARGET_FACTOR, limit);
  const floor = targetOf(compactOf(previous / RETARGET_FACTOR));
  if (next > ceiling || next < floor)
    return {
      ok: false,
      reason: `retarget at height ${height} from ${hex32(prevBits)} to ${hex32(bits)} exceeds a factor of 4`,
    };
  return { ok: true };
}

/** The target a compact `bits` value encodes; 0 for a negative or overflowing encoding. */
export function targetOf(bits: number): bigint {
  const size = bits >>> 24;
  const word = BigInt(bits & 0x007fffff);
  if ((bits & 0x00800000) !== 0 || size > 34) return 0n;
  return size <= 3 ? word >> BigInt(8 * (3 - size)) : word << BigInt(8 * (size - 3));
}

/** Bitcoin Core's GetCompact: the compact encoding of `target`, rounding down. */
export function compactOf(target: bigint): number {
  let size = target === 0n ? 0 : Math.ceil(target.toString(16).length / 2);
  let word =
    size <= 3 ? Number(target << BigInt(8 * (3 - size))) : Number(target >> BigInt(8 * (size - 3)));
  if ((word & 0x00800000) !== 0) {
    word >>>= 8;
    size++;
  }
  return ((size << 24) | word) >>> 0;
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
