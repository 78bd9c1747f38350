/**
 * The PaymentStore contract: what the payment flows rely on from any store. The MongoDB
 * repository passes it on the lab (test/integration/payment-store-contract.test.ts), the
 * in-memory store in the unit project (test/unit/memory-payment-store.test.ts), so flow tests
 * built on the memory store stand for MongoDB. Each test makes payments with ids and users of
 * its own, so the suite may share one database between tests.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Derivation, IssuedPayment, Payment } from '../../src/payments/payment.js';
import type { PaymentChange } from '../../src/payments/payment-change.js';
import {
  AddressTakenError,
  DuplicateIdempotencyKeyError,
  type PaymentStore,
} from '../../src/payments/payment-store.js';
import { paymentFixture } from './payment-fixture.js';

const unique = (prefix: string): string => `${prefix}_${randomBytes(6).toString('hex')}`;

const derivation = (index: number): Derivation => ({
  index,
  path: `m/84'/1'/0'/0/${index}`,
  scriptType: 'p2wpkh',
  accountFingerprint: '0badf00d',
});

/** A payment nobody issued an address for yet. */
function unissued(overrides: Partial<Payment> = {}): Payment {
  return paymentFixture({
    _id: unique('pay'),
    userId: unique('user'),
    version: 0,
    watching: true,
    ...overrides,
  });
}

/** An issued payment (an address of its own), as the watcher sees them. */
function issued(overrides: Partial<Payment> = {}): IssuedPayment {
  return unissued({
    address: unique('bcrt1q'),
    derivation: derivation(0),
    ...overrides,
  }) as IssuedPayment;
}

const confirmingChange = (): PaymentChange => ({
  next: { status: 'confirming', receivedSats: 20_000 },
  events: [
    { at: new Date(), type: 'status', cause: 'contract', from: 'pending', to: 'confirming' },
  ],
  webhooks: ['payment.confirming'],
});

const ids = (payments: { _id: string }[]): string[] => payments.map((p) => p._id).sort();

export function paymentStoreContract(name: string, makeStore: () => Promise<PaymentStore>): void {
  describe(`${name} keeps the PaymentStore contract`, () => {
    it('returns what was inserted, and a copy the caller cannot change in place', async () => {
      const store = await makeStore();
      const payment = issued();
      await store.insert(payment);
      const read = await store.findById(payment._id);
      expect(read).toEqual(payment);
      read!.events.push({ at: new Date(), type: 'late', cause: 'caller' });
      expect((await store.findById(payment._id))?.events).toEqual([]);
      expect(await store.findById(unique('pay'))).toBeNull();
    });

    it('refuses a second payment with the same idempotency scope, keeping the first', async () => {
      const store = await makeStore();
      const scope = unique('scope');
      const first = unissued({ idempotencyScope: scope });
      await store.insert(first);
      await expect(store.insert(unissued({ idempotencyScope: scope }))).rejects.toBeInstanceOf(
        DuplicateIdempotencyKeyError,
      );
      expect((await store.findByIdempotencyScope(scope))?._id).toBe(first._id);
    });

    it('refuses a second payment with the same id', async () => {
      const store = await makeStore();
      const payment = unissued();
      await store.insert(payment);
      await expect(store.insert({ ...payment, userId: 'someone else' })).rejects.toThrow();
      expect((await store.findById(payment._id))?.userId).toBe(payment.userId);
    });

    it('assigns an address once, and never the same address to two payments', async () => {
      const store = await makeStore();
      const a = unissued();
      const b = unissued();
      await store.insert(a);
      await store.insert(b);
      const address = unique('bcrt1q');
      expect(await store.assignAddress(a._id, address, derivation(1))).toBe(true);
      expect(await store.assignAddress(a._id, unique('bcrt1q'), derivation(2))).toBe(false);
      await expect(store.assignAddress(b._id, address, derivation(3))).rejects.toBeInstanceOf(
        AddressTakenError,
      );
      expect(await store.findById(a._id)).toMatchObject({ address, derivation: derivation(1) });
      expect((await store.findById(b._id))?.address).toBeUndefined();
      expect(ids(await store.findByAddresses([address]))).toEqual([a._id]);
      expect(await store.findIdsByAddresses([address])).toEqual([{ _id: a._id, address }]);
    });

    it('discards a payment only while it has no address', async () => {
      const store = await makeStore();
      const bare = unissued();
      const done = issued();
      await store.insert(bare);
      await store.insert(done);
      expect(await store.discardUnissued(bare._id)).toBe(true);
      expect(await store.discardUnissued(done._id)).toBe(false);
      expect(await store.findById(bare._id)).toBeNull();
      expect(await store.findById(done._id)).not.toBeNull();
    });

    it('writes a change only at the version it was read at, with its events and outbox', async () => {
      const store = await makeStore();
      const payment = issued();
      await store.insert(payment);
      const written = await store.applyChange(payment, confirmingChange());
      expect(written).toMatchObject({ status: 'confirming', receivedSats: 20_000, version: 1 });
      expect(written?.events.map((e) => e.type)).toEqual(['status']);
      expect(written?.outbox.map((r) => r.type)).toEqual(['payment.confirming']);
      // A second writer that read version 0 lost the race: nothing of its change is written.
      const stale = await store.applyChange(payment, {
        next: { status: 'expired' },
        events: [{ at: new Date(), type: 'status', cause: 'stale' }],
        webhooks: ['payment.expired'],
      });
      expect(stale).toBeNull();
      const stored = await store.findById(payment._id);
      expect(stored).toMatchObject({ status: 'confirming', version: 1 });
      expect(stored?.events).toHaveLength(1);
      expect(stored?.outbox).toHaveLength(1);
    });

    it('decides again on the fresh payment after losing a race', async () => {
      const store = await makeStore();
      const payment = issued();
      await store.insert(payment);
      const seen: number[] = [];
      const outcome = await store.applyDecided(payment._id, (p) => {
        seen.push(p.version);
        if (seen.length === 1) {
          // Another writer gets in between this read and the write.
          void store.applyChange(p, confirmingChange());
        }
        return { next: { needsReview: true }, events: [], webhooks: [] };
      });
      expect(outcome).toBe('changed');
      expect(seen).toEqual([0, 1]);
      expect(await store.findById(payment._id)).toMatchObject({
        status: 'confirming',
        needsReview: true,
        version: 2,
      });
      expect(await store.applyDecided(payment._id, () => null)).toBe('unchanged');
      expect(await store.applyDecided(unique('pay'), () => confirmingChange())).toBe('missing');
      expect(await store.applySweepChange(unique('pay'), () => confirmingChange())).toBe(false);
    });

    it("lists a user's issued payments newest first, a page at a time", async () => {
      const store = await makeStore();
      const userId = unique('user');
      const base = Date.parse('2026-03-01T00:00:00Z');
      const made: IssuedPayment[] = [];
      for (let i = 0; i < 5; i++) {
        made.push(issued({ userId, createdAt: new Date(base + (i % 3) * 1000) }));
      }
      for (const p of made) await store.insert(p);
      await store.insert(unissued({ userId }));
      const expected = [...made]
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a._id < b._id ? 1 : -1))
        .map((p) => p._id);
      const first = await store.listByUser(userId, 2);
      expect(first.items.map((p) => p._id)).toEqual(expected.slice(0, 2));
      const second = await store.listByUser(userId, 2, first.nextCursor!);
      expect(second.items.map((p) => p._id)).toEqual(expected.slice(2, 4));
      const third = await store.listByUser(userId, 2, second.nextCursor!);
      expect(third.items.map((p) => p._id)).toEqual(expected.slice(4));
      expect(third.nextCursor).toBeNull();
      const searched = await store.search({ userId }, 10);
      expect(searched.items.map((p) => p._id)).toEqual(expected);
    });

    it('finds the payments the block scan asks for by block, output and flight', async () => {
      const store = await makeStore();
      const block = unique('block');
      const at = new Date();
      const confirmed = issued({
        outputs: [
          {
            txid: 'aa',
            vout: 0,
            valueSats: 1,
            blockHeight: 7,
            blockHash: block,
            signalsRbf: false,
            firstSeenAt: at,
            late: false,
          },
        ],
      });
      const unconfirmed = issued({
        outputs: [
          { txid: 'bb', vout: 1, valueSats: 1, signalsRbf: false, firstSeenAt: at, late: false },
        ],
      });
      const closed = issued({
        ...unconfirmed,
        _id: unique('pay'),
        address: unique('bcrt1q'),
        watching: false,
      });
      const unpaid = issued();
      for (const p of [confirmed, unconfirmed, closed, unpaid]) await store.insert(p);
      const mine = new Set([confirmed._id, unconfirmed._id, closed._id, unpaid._id]);
      const only = (list: { _id: string }[]) => ids(list.filter((p) => mine.has(p._id)));
      expect(only(await store.listConfirmedIn([block]))).toEqual([confirmed._id]);
      expect(only(await store.listWithUnconfirmedOutputs())).toEqual([unconfirmed._id]);
      expect(only(await store.listInFlight())).toEqual(ids([confirmed, unconfirmed]));
      expect(only(await store.listWatching())).toEqual(ids([confirmed, unconfirmed, unpaid]));
      expect(only(await store.findByIds([...mine]))).toEqual(
        ids([confirmed, unconfirmed, closed, unpaid]),
      );
      expect(await store.anyIssued()).toBe(true);
      const addresses: string[] = [];
      for await (const a of store.issuedAddresses()) addresses.push(a.address!);
      expect(addresses).toEqual(expect.arrayContaining([confirmed.address, unpaid.address]));
    });

    it('lists due credits and pending webhooks until they are done', async () => {
      const store = await makeStore();
      const due = issued({
        credit: { state: 'due', credits: 1, basisSats: 20_000, dueAt: new Date() },
        outbox: [{ id: unique('ref'), type: 'payment.confirmed' }],
      });
      const done = issued({
        credit: { state: 'done', credits: 1, basisSats: 20_000, dueAt: new Date() },
      });
      await store.insert(due);
      await store.insert(done);
      expect(ids(await store.listCreditDue(due._id))).toEqual([due._id]);
      expect(await store.listCreditDue(done._id)).toEqual([]);
      expect(ids(await store.listWithOutbox(due._id))).toEqual([due._id]);
      await store.removeFromOutbox(due._id, due.outbox[0]!.id);
      expect(await store.listWithOutbox(due._id)).toEqual([]);
    });

    it('lists paid payments to sweep until their sweep is done, and again when reopened', async () => {
      const store = await makeStore();
      const at = new Date();
      const paid = issued({
        outputs: [
          {
            txid: 'cc',
            vout: 0,
            valueSats: 5,
            blockHeight: 3,
            blockHash: 'h',
            signalsRbf: false,
            firstSeenAt: at,
            late: false,
          },
        ],
      });
      await store.insert(paid);
      await store.insert(issued());
      expect(ids(await store.listForwardable(paid._id))).toEqual([paid._id]);
      await store.markSweepDone(paid._id);
      expect(await store.listForwardable(paid._id)).toEqual([]);
      await store.reopenSweep([paid._id]);
      expect(ids(await store.listForwardable(paid._id))).toEqual([paid._id]);
    });

    it('notes a checkout view at most once per throttle period', async () => {
      const store = await makeStore();
      const payment = issued({ createdAt: new Date('2020-01-01T00:00:00Z') });
      await store.insert(payment);
      const t0 = new Date('2026-05-01T00:00:00Z');
      await store.markViewed(payment._id, t0, 60_000);
      await store.markViewed(payment._id, new Date(t0.getTime() + 30_000), 60_000);
      expect((await store.findById(payment._id))?.lastViewedAt).toEqual(t0);
      const later = new Date(t0.getTime() + 61_000);
      await store.markViewed(payment._id, later, 60_000);
      expect((await store.findById(payment._id))?.lastViewedAt).toEqual(later);
      const awaited = await store.listAwaited(t0, new Date('2030-01-01T00:00:00Z'));
      expect(awaited.map((p) => p._id)).toContain(payment._id);
    });

    it('lists waiting payments past their expiry, but not credited ones', async () => {
      const store = await makeStore();
      const expiresAt = new Date('2021-01-01T00:00:00Z');
      const waiting = issued({ expiresAt });
      const credited = issued({
        expiresAt,
        credit: { state: 'due', credits: 1, basisSats: 1, dueAt: expiresAt },
      });
      const confirmed = issued({ expiresAt, status: 'confirmed' });
      for (const p of [waiting, credited, confirmed]) await store.insert(p);
      const mine = new Set([waiting._id, credited._id, confirmed._id]);
      const expiring = await store.listExpiring(new Date('2021-01-02T00:00:00Z'));
      expect(ids(expiring.filter((p) => mine.has(p._id)))).toEqual([waiting._id]);
      // The bound is exact: expired one millisecond before it counts, at it does not.
      const justBefore = await store.listExpiring(new Date(expiresAt.getTime() + 1));
      expect(justBefore.map((p) => p._id)).toContain(waiting._id);
      const at = await store.listExpiring(expiresAt);
      expect(at.map((p) => p._id)).not.toContain(waiting._id);
      const over = await store.listWindowOver(new Date('2021-01-02T00:00:00Z'));
      expect(ids(over.filter((p) => mine.has(p._id)))).toEqual(ids([waiting, confirmed]));
    });

    it('keeps the time bounds of the scan queries exact', async () => {
      const store = await makeStore();
      const t = new Date('2019-07-01T00:00:00Z');
      const p = issued({ createdAt: t, expiresAt: t });
      await store.insert(p);
      const has = (list: { _id: string }[]) => list.some((x) => x._id === p._id);
      expect(has(await store.listWindowOver(new Date(t.getTime() + 1)))).toBe(true);
      expect(has(await store.listWindowOver(t))).toBe(false);
      expect(has(await store.listWatchingCreatedBefore(new Date(t.getTime() + 1)))).toBe(true);
      expect(has(await store.listWatchingCreatedBefore(t))).toBe(false);
      const since = async (d: Date) => {
        const found: (string | undefined)[] = [];
        for await (const a of store.issuedAddresses(d)) found.push(a.address);
        return found.includes(p.address);
      };
      expect(await since(t)).toBe(true);
      expect(await since(new Date(t.getTime() + 1))).toBe(false);
    });

    it('filters the admin search by status, flags, overpayment and creation time', async () => {
      const store = await makeStore();
      const userId = unique('user');
      const t = new Date('2026-04-01T00:00:00Z');
      const plain = issued({ userId, createdAt: t });
      const flagged = issued({
        userId,
        createdAt: new Date(t.getTime() + 1000),
        status: 'confirmed',
        late: true,
        needsReview: true,
        manual: true,
        overpaidSats: 5,
      });
      await store.insert(plain);
      await store.insert(flagged);
      const found = async (filter: Parameters<PaymentStore['search']>[0]) =>
        (await store.search({ userId, ...filter }, 10)).items.map((x) => x._id);
      expect(await found({ status: 'confirmed' })).toEqual([flagged._id]);
      expect(await found({ late: true })).toEqual([flagged._id]);
      expect(await found({ late: false })).toEqual([plain._id]);
      expect(await found({ needsReview: true })).toEqual([flagged._id]);
      expect(await found({ manual: false })).toEqual([plain._id]);
      expect(await found({ overpaid: true })).toEqual([flagged._id]);
      expect(await found({ overpaid: false })).toEqual([plain._id]);
      expect(await found({ from: new Date(t.getTime() + 1) })).toEqual([flagged._id]);
      expect(await found({ to: new Date(t.getTime() + 1000) })).toEqual([plain._id]);
      expect(await found({ from: t, to: new Date(t.getTime() + 1001) })).toEqual([
        flagged._id,
        plain._id,
      ]);
    });
  });
}
