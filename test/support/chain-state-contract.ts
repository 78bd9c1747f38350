/**
 * The ChainState contract (the block scan's position and header chain): the scan starts once,
 * the position moves only from the hash the mover read, headers are kept by hash and pruned by
 * height. The MongoDB store passes it on the lab (test/integration/chain-state-contract.test.ts),
 * the in-memory one in the unit project (test/unit/memory-chain-state.test.ts). Each test gets
 * a store of its own: the scan position is one document per database.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ChainState, KEPT_HEADERS, type StoredHeader } from '../../src/storage/chain-state.js';

const hash = (): string => randomBytes(32).toString('hex');

function header(height: number, prevHash = hash()): StoredHeader {
  return { _id: hash(), height, prevHash, bits: 0x207fffff, time: 1_700_000_000 + height };
}

export function chainStateContract(name: string, makeStore: () => Promise<ChainState>): void {
  describe(`${name} keeps the ChainState contract`, () => {
    it('starts the scan once: a second start gets the state in force', async () => {
      const store = await makeStore();
      expect(await store.scanState()).toBeNull();
      const base = header(100);
      const at = new Date('2026-02-01T00:00:00Z');
      const before = new Date('2026-01-31T00:00:00Z');
      const first = await store.initialize(base, at, before);
      expect(first).toMatchObject({ tipHash: base._id, tipHeight: 100 });
      const second = await store.initialize(header(200), new Date());
      expect(second).toEqual(first);
      expect(await store.scanState()).toEqual({
        _id: 'scan',
        tipHash: base._id,
        tipHeight: 100,
        updatedAt: at,
        catchUp: { before, done: false },
      });
      await store.markCatchUpDone();
      expect((await store.scanState())?.catchUp?.done).toBe(true);
    });

    it('moves the position only from the hash the mover read', async () => {
      const store = await makeStore();
      const base = header(10);
      await store.initialize(base, new Date());
      const next = { hash: hash(), height: 11 };
      expect(await store.moveTip(base._id, next, new Date())).toBe(true);
      // A second scanner that read the old position loses.
      expect(await store.moveTip(base._id, { hash: hash(), height: 11 }, new Date())).toBe(false);
      expect(await store.scanState()).toMatchObject({ tipHash: next.hash, tipHeight: 11 });
    });

    it('keeps headers by hash, deletes and prunes them', async () => {
      const store = await makeStore();
      const tip = 5000;
      const old = header(tip - KEPT_HEADERS - 1);
      const kept = header(tip - KEPT_HEADERS);
      const gone = header(tip);
      for (const h of [old, kept, gone]) await store.saveHeader(h);
      await store.saveHeader(kept); // idempotent
      expect((await store.allHeaders()).get(kept._id)).toEqual(kept);
      await store.deleteHeaders([gone._id]);
      await store.prune(tip);
      const left = await store.allHeaders();
      expect([...left.keys()]).toEqual([kept._id]);
    });
  });
}
