/**
 * The lab's lying-server faults (test/lab/esplora/faults.ts) produce exactly the forgeries the
 * block verification must catch: a tampered transaction under an honest header, and a header
 * whose bits its hash does not meet.
 */
import { describe, expect, it } from 'vitest';
import { parseVerifiedBlock } from '../../src/chain/block.js';
import { BlockVerificationError } from '../../src/chain/chain-source.js';
import {
  FaultProfile,
  FORGED_BITS,
  forgeBadPow,
  headerHash,
  tamperRawBlock,
} from '../lab/esplora/faults.js';
import { buildBlock, syntheticTransaction } from './fixtures/synthetic-block.js';

const refusal = (raw: Uint8Array, hash: string): string => {
  try {
    parseVerifiedBlock(raw, hash);
  } catch (err) {
    if (err instanceof BlockVerificationError) return err.reason;
    throw err;
  }
  throw new Error('the block was accepted');
};

describe('tamperRawBlock', () => {
  it('changes one byte of a non-coinbase transaction and none of the header', () => {
    const { raw, hash } = buildBlock({
      transactions: [syntheticTransaction(), syntheticTransaction({ witness: false })],
    });
    const tampered = tamperRawBlock(raw);
    expect(tampered.subarray(0, 80)).toEqual(raw.subarray(0, 80));
    const changed = [...tampered].flatMap((byte, i) => (byte === raw[i] ? [] : [i]));
    expect(changed).toHaveLength(1);
    expect(headerHash(tampered)).toBe(hash);
    expect(refusal(tampered, hash)).toMatch(/merkle root/);
  });

  it('tampers with the coinbase when the block has nothing else', () => {
    const { raw, hash } = buildBlock();
    expect(refusal(tamperRawBlock(raw), hash)).toMatch(/merkle root/);
  });
});

describe('forgeBadPow', () => {
  it('names a block whose header claims bits its hash does not meet', () => {
    const { raw } = buildBlock({ transactions: [syntheticTransaction()] });
    const forged = forgeBadPow(raw);
    expect(forged.raw.readUInt32LE(72)).toBe(FORGED_BITS);
    expect(forged.raw.subarray(80)).toEqual(raw.subarray(80));
    expect(refusal(forged.raw, forged.hash)).toMatch(/does not meet its target/);
  });
});

describe('FaultProfile.rollTamper', () => {
  it('tampers at the configured rate, reproducibly with a seed, and counts what it did', () => {
    const rolls = (seed: number) => {
      const profile = new FaultProfile({ tamperBlock: 0.5, seed });
      const result = Array.from({ length: 200 }, () => profile.rollTamper('/block/x/raw'));
      return { result, injected: profile.stats.injected.tamperBlock };
    };
    const first = rolls(7);
    expect(rolls(7).result).toEqual(first.result);
    expect(first.injected).toBe(first.result.filter(Boolean).length);
    expect(first.injected).toBeGreaterThan(50);
    expect(first.injected).toBeLessThan(150);
  });

  it('never tampers outside its path pattern or without a rate', () => {
    const scoped = new FaultProfile({ tamperBlock: 1, pathPattern: '^/block/' });
    expect(scoped.rollTamper('/tx/abc')).toBe(false);
    expect(scoped.rollTamper('/block/abc/raw')).toBe(true);
    expect(new FaultProfile({}).rollTamper('/block/abc/raw')).toBe(false);
  });

  it('refuses a rate outside [0, 1]', () => {
    expect(() => new FaultProfile({ tamperBlock: 1.5 })).toThrow(/tamperBlock/);
  });
});
