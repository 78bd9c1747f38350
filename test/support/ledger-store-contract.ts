/**
 * The LedgerStore contract: exactly once per operation id, never below zero, a gapless numbered
 * chain per user. The MongoDB ledger passes it on the lab
 * (test/integration/ledger-store-contract.test.ts), the in-memory ledger in the unit project
 * (test/unit/memory-ledger-store.test.ts). Every test uses users of its own.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  InsufficientBalanceError,
  LedgerConflictError,
  type LedgerStore,
} from '../../src/ledger/ledger.js';

const unique = (prefix: string): string => `${prefix}_${randomBytes(6).toString('hex')}`;

export function ledgerStoreContract(name: string, makeStore: () => Promise<LedgerStore>): void {
  describe(`${name} keeps the LedgerStore contract`, () => {
    it('credits a payment once, however often it is asked', async () => {
      const ledger = await makeStore();
      const userId = unique('user');
      const credit = { paymentId: unique('pay'), userId, credits: 7, reason: 'payment' };
      const first = await ledger.creditPayment(credit);
      const again = await ledger.creditPayment({ ...credit, reason: 'retry' });
      const concurrent = await Promise.all([
        ledger.creditPayment(credit),
        ledger.creditPayment(credit),
      ]);
      expect(first.replayed).toBe(false);
      expect(again).toMatchObject({ replayed: true, entry: { _id: first.entry._id } });
      expect(concurrent.every((a) => a.replayed)).toBe(true);
      expect(await ledger.balance(userId)).toMatchObject({ balance: 7, seq: 1 });
      expect(first.entry).toMatchObject({ userId, seq: 1, amount: 7, balanceAfter: 7 });
    });

    it('refuses a different operation under an operation id already used', async () => {
      const ledger = await makeStore();
      const userId = unique('user');
      const paymentId = unique('pay');
      await ledger.creditPayment({ paymentId, userId, credits: 5, reason: 'payment' });
      await expect(
        ledger.creditPayment({ paymentId, userId, credits: 6, reason: 'payment' }),
      ).rejects.toBeInstanceOf(LedgerConflictError);
      expect((await ledger.balance(userId)).balance).toBe(5);
    });

    it('applies concurrent distinct operations each once, numbered without gaps', async () => {
      const ledger = await makeStore();
      const userId = unique('user');
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          ledger.creditPayment({ paymentId: unique('pay'), userId, credits: i + 1, reason: 'p' }),
        ),
      );
      expect(await ledger.balance(userId)).toMatchObject({ balance: 21, seq: 6 });
      const entries = await ledger.entries(userId, 10);
      expect(entries.map((e) => e.seq)).toEqual([6, 5, 4, 3, 2, 1]);
      expect(entries[0]?.balanceAfter).toBe(21);
      const older = await ledger.entries(userId, 2, 5);
      expect(older.map((e) => e.seq)).toEqual([4, 3]);
    });

    it('never debits below zero, and replays a debit retried with its key', async () => {
      const ledger = await makeStore();
      const userId = unique('user');
      await ledger.creditPayment({ paymentId: unique('pay'), userId, credits: 10, reason: 'p' });
      const debit = {
        userId,
        amount: 8,
        idempotencyKey: unique('key'),
        reason: 'spend',
        requestHash: 'h1',
      };
      expect(await ledger.hasDebit(userId, debit.idempotencyKey)).toBe(false);
      expect((await ledger.debit(debit)).entry).toMatchObject({ amount: -8, balanceAfter: 2 });
      expect(await ledger.hasDebit(userId, debit.idempotencyKey)).toBe(true);
      expect((await ledger.debit(debit)).replayed).toBe(true);
      await expect(
        ledger.debit({ ...debit, idempotencyKey: unique('key'), amount: 3 }),
      ).rejects.toBeInstanceOf(InsufficientBalanceError);
      await expect(ledger.debit({ ...debit, requestHash: 'h2' })).rejects.toBeInstanceOf(
        LedgerConflictError,
      );
      expect(await ledger.balance(userId)).toMatchObject({ balance: 2, seq: 2 });
    });

    it('refuses zero and fractional amounts, writing nothing', async () => {
      const ledger = await makeStore();
      const userId = unique('user');
      await expect(
        ledger.creditPayment({ paymentId: unique('pay'), userId, credits: 0, reason: 'p' }),
      ).rejects.toThrow(RangeError);
      await expect(
        ledger.debit({ userId, amount: 1.5, idempotencyKey: 'k', reason: 'r', requestHash: 'h' }),
      ).rejects.toThrow(RangeError);
      expect(await ledger.balance(userId)).toMatchObject({ balance: 0, seq: 0, updatedAt: null });
    });

    it('reconciles to no mismatch after credits and debits', async () => {
      const ledger = await makeStore();
      const userId = unique('user');
      await ledger.creditPayment({ paymentId: unique('pay'), userId, credits: 4, reason: 'p' });
      await ledger.debit({ userId, amount: 1, idempotencyKey: 'k', reason: 'r', requestHash: 'h' });
      const { users, mismatches } = await ledger.reconcile();
      expect(users).toBeGreaterThanOrEqual(1);
      expect(mismatches.filter((m) => m.userId === userId)).toEqual([]);
    });
  });
}
