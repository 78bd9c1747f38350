/**
 * The SweepStore contract: one sweep per coin, all claims or none, state changes only from the
 * state the caller saw and only along SWEEP_TRANSITIONS. The MongoDB repository passes it on the
 * lab (test/integration/sweep-store-contract.test.ts), the in-memory store in the unit project
 * (test/unit/memory-sweep-store.test.ts). Every test uses sweeps and coins of its own.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Sweep,
  type SweepInputRecord,
  SweepTransitionError,
} from '../../src/forwarding/sweep.js';
import type { SweepStore } from '../../src/forwarding/sweep-store.js';

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

function coin(paymentId = `pay_${hex(4)}`): SweepInputRecord {
  return { paymentId, txid: hex(32), vout: 0, valueSats: 10_000, scriptType: 'p2wpkh', index: 0 };
}

function sweep(inputs: SweepInputRecord[], overrides: Partial<Sweep> = {}): Sweep {
  const at = new Date();
  return {
    _id: `swp_${hex(6)}`,
    state: 'building',
    mode: 'sign',
    inputs,
    destination: 'bcrt1qdestination',
    feeRate: 2,
    vsize: 110,
    feeSats: 220,
    valueOutSats: inputs.reduce((sum, i) => sum + i.valueSats, 0) - 220,
    createdAt: at,
    updatedAt: at,
    events: [{ at, type: 'building', cause: 'contract' }],
    ...overrides,
  };
}

const key = (c: SweepInputRecord) => `${c.txid}:${c.vout}`;

export function sweepStoreContract(name: string, makeStore: () => Promise<SweepStore>): void {
  describe(`${name} keeps the SweepStore contract`, () => {
    it('returns a created sweep, and refuses a second sweep with its id', async () => {
      const store = await makeStore();
      const s = sweep([coin()]);
      await store.create(s);
      expect(await store.get(s._id)).toEqual(s);
      await expect(store.create({ ...s, feeRate: 9 })).rejects.toThrow();
      expect((await store.get(s._id))?.feeRate).toBe(2);
      expect(await store.get(`swp_${hex(6)}`)).toBeNull();
    });

    it('lets one sweep at a time claim a coin, and claims all of a sweep or none', async () => {
      const store = await makeStore();
      const [a, b, c] = [coin(), coin(), coin()];
      expect(await store.claim('swp_first', [a, b])).toBe(true);
      // c is free but b is taken: nothing of the second sweep's claim stays.
      expect(await store.claim('swp_second', [c, b])).toBe(false);
      const owners = await store.claimOwners([key(a), key(b), key(c)]);
      expect(owners).toEqual(
        new Map([
          [key(a), 'swp_first'],
          [key(b), 'swp_first'],
        ]),
      );
      await store.releaseClaims('swp_first');
      expect(await store.claim('swp_second', [c, b])).toBe(true);
      expect((await store.claimOwners([key(b)])).get(key(b))).toBe('swp_second');
    });

    it('hands claims on to another sweep of the family', async () => {
      const store = await makeStore();
      const [a, b] = [coin(), coin()];
      const first = `swp_${hex(4)}`;
      const bump = `swp_${hex(4)}`;
      expect(await store.claim(first, [a, b])).toBe(true);
      await store.transferClaims(first, bump);
      expect([...(await store.claimOwners([key(a), key(b)])).values()]).toEqual([bump, bump]);
      await store.reassignClaims([key(a)], first);
      const owners = await store.claimOwners([key(a), key(b)]);
      expect([owners.get(key(a)), owners.get(key(b))]).toEqual([first, bump]);
    });

    it('moves a sweep along the table, records the event, and not from a state it left', async () => {
      const store = await makeStore();
      const s = sweep([coin()]);
      await store.create(s);
      expect(await store.transition(s._id, ['building'], 'signed', { txid: 'cd' }, 'signed')).toBe(
        true,
      );
      const signed = await store.get(s._id);
      expect(signed).toMatchObject({ state: 'signed', txid: 'cd' });
      expect(signed?.events.at(-1)).toMatchObject({ type: 'signed', cause: 'signed' });
      // A second mover that still thinks it is building loses.
      expect(await store.transition(s._id, ['building'], 'abandoned', {}, 'stale')).toBe(false);
      expect((await store.get(s._id))?.state).toBe('signed');
      expect(await store.transition(`swp_${hex(6)}`, ['building'], 'signed', {}, 'x')).toBe(false);
    });

    it('refuses a move SWEEP_TRANSITIONS does not allow, writing nothing', async () => {
      const store = await makeStore();
      const s = sweep([coin()]);
      await store.create(s);
      await expect(
        store.transition(s._id, ['building'], 'confirmed', { error: 'x' }, 'skipped ahead'),
      ).rejects.toBeInstanceOf(SweepTransitionError);
      expect(await store.get(s._id)).toEqual(s);
    });

    it('finds sweeps by state (oldest first), txid, bump and id', async () => {
      const store = await makeStore();
      const older = sweep([coin()], { createdAt: new Date('2026-01-01T00:00:00Z') });
      const newer = sweep([coin()], { createdAt: new Date('2026-01-02T00:00:00Z') });
      const txid = hex(32);
      const bump = sweep([coin()], { bumpOf: older._id, txid });
      for (const s of [newer, older, bump]) await store.create(s);
      const mine = new Set([older._id, newer._id, bump._id]);
      const building = (await store.inState('building')).filter((s) => mine.has(s._id));
      expect(building.map((s) => s._id)).toEqual([older._id, newer._id, bump._id]);
      expect((await store.withTxid(txid)).map((s) => s._id)).toEqual([bump._id]);
      expect((await store.bumpsOf(older._id)).map((s) => s._id)).toEqual([bump._id]);
      await store.transition(newer._id, ['building'], 'abandoned', {}, 'stale');
      expect(await store.statesOf([older._id, newer._id, 'swp_none'])).toEqual(
        new Map([
          [older._id, 'building'],
          [newer._id, 'abandoned'],
        ]),
      );
    });

    it('lists abandoned sweeps until their claims are released, broadcast ones until recorded', async () => {
      const store = await makeStore();
      const gone = sweep([coin()]);
      const sent = sweep([coin()]);
      await store.create(gone);
      await store.create(sent);
      const ids = async (list: Promise<Sweep[]>) =>
        (await list).map((s) => s._id).filter((id) => id === gone._id || id === sent._id);
      await store.transition(gone._id, ['building'], 'abandoned', { claimsReleased: false }, 'x');
      expect(await ids(store.abandonedWithClaims())).toEqual([gone._id]);
      await store.markClaimsReleased(gone._id);
      expect(await ids(store.abandonedWithClaims())).toEqual([]);

      await store.transition(sent._id, ['building'], 'signed', { hex: '00' }, 'signed');
      await store.transition(sent._id, ['signed'], 'broadcast', {}, 'sent');
      expect(await ids(store.unrecorded())).toEqual([sent._id]);
      await store.markRecorded(sent._id);
      expect(await ids(store.unrecorded())).toEqual([]);
    });

    it('annotates without moving, and clears a replacement', async () => {
      const store = await makeStore();
      const s = sweep([coin()], { replacedBy: 'swp_other' });
      await store.create(s);
      await store.annotate(s._id, { error: 'fee too low' }, 'note', 'admin looked');
      const noted = await store.get(s._id);
      expect(noted).toMatchObject({ state: 'building', error: 'fee too low' });
      expect(noted?.events.at(-1)).toMatchObject({ type: 'note', cause: 'admin looked' });
      await store.clearReplacedBy(s._id);
      expect((await store.get(s._id))?.replacedBy).toBeUndefined();
    });
  });
}
