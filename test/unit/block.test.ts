/**
 * Raw block verification: real mainnet blocks pass; any byte a server changes is caught.
 */
import * as bitcoin from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import {
  checkDifficultyTransition,
  compactOf,
  parseVerifiedBlock,
  targetOf,
} from '../../src/chain/block.js';
import { BlockVerificationError } from '../../src/chain/chain-source.js';
import {
  GENESIS_HASH,
  GENESIS_HEX,
  BLOCK_1_HASH,
  BLOCK_1_HEX,
  BLOCK_170_HASH,
  BLOCK_170_HEX,
} from './fixtures/mainnet-blocks.js';
import { blockOfSize, buildBlock, syntheticTransaction } from './fixtures/synthetic-block.js';

const raw = (hex: string): Buffer => Buffer.from(hex, 'hex');

function refusal(bytes: Uint8Array, hash: string, network?: 'mainnet'): BlockVerificationError {
  try {
    parseVerifiedBlock(bytes, hash, network && { network });
  } catch (err) {
    expect(err).toBeInstanceOf(BlockVerificationError);
    return err as BlockVerificationError;
  }
  throw new Error('the block was accepted');
}

/** Offset of transaction `index` in a raw block (after the header and the count varint). */
function txOffset(block: bitcoin.Block, index: number): number {
  const txs = block.transactions!;
  let offset = 80 + (txs.length < 0xfd ? 1 : 3);
  for (let i = 0; i < index; i++) offset += txs[i]!.byteLength();
  return offset;
}

describe('parseVerifiedBlock on mainnet blocks', () => {
  it('accepts the genesis block with its coinbase and no spends', () => {
    const block = parseVerifiedBlock(raw(GENESIS_HEX), GENESIS_HASH, { network: 'mainnet' });
    expect(block).toMatchObject({
      hash: GENESIS_HASH,
      prevHash: '00'.repeat(32),
      merkleRoot: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
      bits: 0x1d00ffff,
      time: 1231006505,
    });
    expect(block.transactions).toEqual([
      {
        txid: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
        outputs: [
          {
            vout: 0,
            script: expect.stringMatching(
              /^4104678afdb0fe5548271967f1a67130b7105cd6a828e0.*ac$/,
            ) as string,
            valueSats: 5_000_000_000,
          },
        ],
        spends: [],
        signalsRbf: false,
      },
    ]);
  });

  it('accepts block 1, linked to the genesis block', () => {
    const block = parseVerifiedBlock(raw(BLOCK_1_HEX), BLOCK_1_HASH);
    expect(block.prevHash).toBe(GENESIS_HASH);
    expect(block.transactions).toHaveLength(1);
  });

  it('accepts block 170 and reads the first bitcoin payment’s spend and outputs', () => {
    const block = parseVerifiedBlock(raw(BLOCK_170_HEX), BLOCK_170_HASH.toUpperCase());
    expect(block.hash).toBe(BLOCK_170_HASH);
    const payment = block.transactions[1]!;
    expect(payment.txid).toBe('f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16');
    expect(payment.spends).toEqual([
      { txid: '0437cd7f8525ceed2324359c2d0ba26006d92d856a9c20fa0241106ee5a597c9', vout: 0 },
    ]);
    expect(payment.outputs.map((o) => o.valueSats)).toEqual([1_000_000_000, 4_000_000_000]);
    expect(payment.signalsRbf).toBe(false);
  });

  it('refuses a block under another hash than the one asked for', () => {
    expect(refusal(raw(BLOCK_1_HEX), GENESIS_HASH).reason).toMatch(/header hashes to/);
  });

  it('refuses a block with one byte of a transaction changed', () => {
    const bytes = raw(BLOCK_170_HEX);
    const block = bitcoin.Block.fromBuffer(bytes);
    bytes[txOffset(block, 1) + 10]! ^= 0x01; // inside the payment's input outpoint
    expect(refusal(bytes, BLOCK_170_HASH).reason).toMatch(/merkle root/);
  });

  it('refuses a block with one header byte changed (the hash no longer matches)', () => {
    const bytes = raw(GENESIS_HEX);
    bytes[70]! ^= 0x01; // the timestamp
    expect(refusal(bytes, GENESIS_HASH).reason).toMatch(/header hashes to/);
  });

  it('refuses a header whose hash does not meet its bits, even under its own hash', () => {
    const bytes = raw(GENESIS_HEX);
    bytes.writeUInt32LE(0x1c00ffff, 72); // a harder target than the genesis hash meets
    const forged = bitcoin.Block.fromBuffer(bytes).getId();
    expect(refusal(bytes, forged).reason).toMatch(/does not meet its target/);
  });

  it('refuses truncated bytes, trailing bytes and a header alone', () => {
    const bytes = raw(BLOCK_1_HEX);
    expect(refusal(bytes.subarray(0, bytes.length - 3), BLOCK_1_HASH).reason).toMatch(
      /undecodable/,
    );
    expect(refusal(Buffer.concat([bytes, Buffer.from([0])]), BLOCK_1_HASH).reason).toMatch(
      /after the last transaction/,
    );
    expect(refusal(bytes.subarray(0, 80), BLOCK_1_HASH).reason).toMatch(/no transactions/);
    expect(refusal(bytes.subarray(0, 40), BLOCK_1_HASH).reason).toMatch(
      /shorter than a block header/,
    );
  });
});

describe('parseVerifiedBlock on synthetic segwit blocks', () => {
  it('accepts a segwit block with a witness commitment and reads scripts as lower-case hex', () => {
    const script = Buffer.from(`0014${'ab'.repeat(20)}`, 'hex');
    const tx = syntheticTransaction({ outputs: [{ script, sats: 42_000 }], sequence: 0xffffffff });
    const { raw: bytes, hash } = buildBlock({ transactions: [tx] });
    const block = parseVerifiedBlock(bytes, hash, { network: 'regtest' });
    expect(block.transactions[1]).toEqual({
      txid: tx.getId(),
      outputs: [{ vout: 0, script: `0014${'ab'.repeat(20)}`, valueSats: 42_000 }],
      spends: [{ txid: expect.stringMatching(/^[0-9a-f]{64}$/) as string, vout: 0 }],
      signalsRbf: false,
    });
  });

  it('flags a transaction with any input sequence below 0xfffffffe as replaceable', () => {
    const tx = syntheticTransaction({ sequence: 0xfffffffd });
    const { raw: bytes, hash } = buildBlock({ transactions: [tx] });
    expect(parseVerifiedBlock(bytes, hash).transactions[1]?.signalsRbf).toBe(true);
  });

  it('refuses a block whose witness data was changed (the witness commitment breaks)', () => {
    const { block, raw: bytes, hash } = buildBlock({ transactions: [syntheticTransaction()] });
    const tx = block.transactions![1]!;
    // The witness sits just before the 4 locktime bytes; the txid (and merkle root) ignore it.
    bytes[txOffset(block, 1) + tx.byteLength() - 10]! ^= 0x01;
    expect(refusal(bytes, hash).reason).toMatch(/witness commitment/);
  });

  it('refuses a block whose bits are easier than the network allows', () => {
    const { raw: bytes, hash } = buildBlock();
    expect(refusal(bytes, hash, 'mainnet').reason).toMatch(/easier than the mainnet limit/);
    expect(parseVerifiedBlock(bytes, hash, { network: 'regtest' }).hash).toBe(hash);
  });

  it('refuses a duplicated last transaction (the CVE-2012-2459 merkle trick)', () => {
    const a = syntheticTransaction({ witness: false });
    const b = syntheticTransaction({ witness: false });
    const honest = buildBlock({ transactions: [a, b] });
    // Three transactions hash to the same root as four with the last one repeated.
    const mutated = buildBlock({ transactions: [a, b, b] });
    mutated.block.transactions = [...honest.block.transactions!, b];
    mutated.block.merkleRoot = honest.block.merkleRoot;
    mutated.block.nonce = honest.block.nonce;
    mutated.block.timestamp = honest.block.timestamp;
    const bytes = Buffer.from(mutated.block.toBuffer());
    expect(refusal(bytes, honest.hash).reason).toMatch(/merkle root/);
  });

  it('reads a 1.5 MB block of thousands of transactions', () => {
    const { raw: bytes, hash } = blockOfSize(1_500_000);
    const block = parseVerifiedBlock(bytes, hash);
    expect(bytes.length).toBeGreaterThanOrEqual(1_500_000);
    expect(block.transactions.length).toBeGreaterThan(3_000);
  }, 120_000);
});

describe('checkDifficultyTransition', () => {
  const bits = 0x1d00ffff;

  it('allows unchanged bits between retargets on mainnet', () => {
    expect(checkDifficultyTransition('mainnet', 2017, bits, bits)).toEqual({ ok: true });
  });

  it('refuses changed bits away from a retarget height on mainnet', () => {
    const verdict = checkDifficultyTransition('mainnet', 2015, 0x1b0404cb, 0x1b0404cc);
    expect(verdict).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a retarget/) as string,
    });
  });

  it('allows a real retarget (block 32256: 0x1d00ffff to 0x1d00d86a)', () => {
    expect(checkDifficultyTransition('mainnet', 32256, 0x1d00ffff, 0x1d00d86a)).toEqual({
      ok: true,
    });
  });

  it('allows the target to move by exactly four times either way, and refuses more', () => {
    const prev = 0x1b0404cb;
    const target = targetOf(prev);
    const up = compactOf(target * 4n);
    const down = compactOf(target / 4n);
    expect(checkDifficultyTransition('mainnet', 4032, prev, up)).toEqual({ ok: true });
    expect(checkDifficultyTransition('mainnet', 4032, prev, down)).toEqual({ ok: true });
    expect(checkDifficultyTransition('mainnet', 4032, prev, compactOf(target * 5n)).ok).toBe(false);
    expect(checkDifficultyTransition('mainnet', 4032, prev, compactOf(target / 5n)).ok).toBe(false);
  });

  it('refuses a retarget above the proof-of-work limit', () => {
    expect(checkDifficultyTransition('mainnet', 4032, 0x1d00ffff, 0x1d01fffe).ok).toBe(false);
  });

  it('does not check testnet, signet or regtest', () => {
    for (const network of ['testnet', 'signet', 'regtest'] as const) {
      expect(checkDifficultyTransition(network, 5, 0x1d00ffff, 0x207fffff)).toEqual({ ok: true });
    }
  });

  it('round-trips compact targets as Bitcoin Core encodes them', () => {
    for (const value of [0x1d00ffff, 0x1b0404cb, 0x207fffff, 0x1e0377ae, 0x03123456]) {
      expect(compactOf(targetOf(value))).toBe(value);
    }
    expect(compactOf(0x80n)).toBe(0x02008000);
  });
});
