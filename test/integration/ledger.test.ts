/**
 * The balance ledger on the lab's MongoDB wire server: exactly once per operation, a gapless
 * chain of entries, never below zero, and recovery from a writer stopped between its two writes.
 */
import { randomBytes } from 'node:crypto';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InsufficientBalanceError,
  LedgerConflictError,
  type LedgerEntry,
  type LedgerOp,
  type UserDoc,
} from '../../src/ledger/ledger.js';
import { Ledger } from '../../src/storage/ledger.js';
import { LabClient } from '../lab/client.js';

const databaseName = `ledger_${randomBytes(6).toString('hex')}`;
const clients: MongoClient[] = [];
let db: Db;
let ledger: Ledger;

async function connect(): Promise<MongoClient> {
  const client = new MongoClient(LabClient.fromState().mongoUrl, { maxPoolSize: 10 });
  await client.connect();
  clients.push(client);
  return client;
}

beforeAll(async () => {
  db = (await connect()).db(databaseName);
  ledger = new Ledger(db);
  await ledger.ensureIndexes();
});

afterAll(async () => {
  await db.dropDatabase();
  await Promise.all(clients.map((c) => c.close()));
});

const ledgerDocs = () => db.collection<LedgerEntry>('ledger');
const userDocs = () => db.collection<UserDoc>('users');
const newUser = () => `user_${randomBytes(4).toString('hex')}`;
const newOpId = () => `op_${randomBytes(6).toString('hex')}`;

function credit(userId: string, amount: number, opId = newOpId()) {
  return ledger.apply({ opId, userId, type: 'credit', amount, reason: 'test credit' });
}

function debit(userId: string, amount: number, key = newOpId()) {
  return ledger.debit({ userId, amount, idempotencyKey: key, reason: 'spend', requestHash: key });
}

async function counts(): Promise<{ entries: number; users: number }> {
  return {
    entries: await ledgerDocs().countDocuments(),
    users: await userDocs().countDocuments(),
  };
}

/** Every invariant of one user's ledger; returns the entries, oldest first. */
async function expectConsistent(userId: string): Promise<LedgerEntry[]> {
  await ledger.settle(userId);
  const entries = await ledgerDocs().find({ userId }).sort({ seq: 1 }).toArray();
  const user = await userDocs().findOne({ _id: userId });
  expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
  let running = 0;
  for (const e of entries) {
    running += e.amount;
    expect(e.balanceAfter).toBe(running);
    expect(e.balanceAfter).toBeGreaterThanOrEqual(0);
    expect(e._id).toBe(`${userId}:${e.seq}`);
  }
  expect(user?.seq ?? 0).toBe(entries.length);
  expect(user?.balance ?? 0).toBe(running);
  expect(entries.at(-1)?.balanceAfter ?? 0).toBe(running);
  return entries;
}

/** What step (e) leaves behind when the writer dies before step (f): an entry, not applied. */
async function recordWithoutApplying(op: LedgerOp): Promise<LedgerEntry> {
  const user = await userDocs().findOne({ _id: op.userId });
  const seq = (user?.seq ?? 0) + 1;
  const entry: LedgerEntry = {
    _id: `${op.userId}:${seq}`,
    userId: op.userId,
    seq,
    opId: op.opId,
    type: op.type,
    amount: op.amount,
    balanceAfter: (user?.balance ?? 0) + op.amount,
    reason: op.reason,
    createdAt: new Date(),
  };
  await ledgerDocs().insertOne(entry);
  return entry;
}

describe('applying operations', () => {
  it('records credits and debits as a gapless chain whose balanceAfter ends at the balance', async () => {
    const userId = newUser();
    await credit(userId, 100);
    await debit(userId, 30);
    await credit(userId, 5);
    await debit(userId, 75);
    await ledger.apply({
      opId: newOpId(),
      userId,
      type: 'adjustment',
      amount: 7,
      reason: 'goodwill',
      actor: 'admin-1',
    });
    const entries = await expectConsistent(userId);
    expect(entries.map((e) => [e.type, e.amount, e.balanceAfter])).toEqual([
      ['credit', 100, 100],
      ['debit', -30, 70],
      ['credit', 5, 75],
      ['debit', -75, 0],
      ['adjustment', 7, 7],
    ]);
    expect(entries[4]).toMatchObject({ reason: 'goodwill', actor: 'admin-1' });
    expect(await ledger.balance(userId)).toMatchObject({ userId, balance: 7, seq: 5 });
  });

  it('credits a payment once, however often and by whomever creditPayment is called', async () => {
    const userId = newUser();
    const paymentId = `pay_${randomBytes(8).toString('hex')}`;
    const first = await ledger.creditPayment({
      paymentId,
      userId,
      credits: 100,
      reason: 'payment confirmed',
    });
    const again = await ledger.creditPayment({
      paymentId,
      userId,
      credits: 100,
      reason: 'manual confirm',
      actor: 'admin-1',
    });
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.entry).toEqual(first.entry);
    expect(first.entry).toMatchObject({
      opId: `credit:${paymentId}`,
      paymentId,
      type: 'credit',
      amount: 100,
      balanceAfter: 100,
      seq: 1,
    });
    expect(await ledgerDocs().countDocuments({ paymentId })).toBe(1);
    expect((await ledger.balance(userId)).balance).toBe(100);
  });

  it('refuses a payment credit replayed with another amount or user', async () => {
    const paymentId = `pay_${randomBytes(8).toString('hex')}`;
    const userId = newUser();
    await ledger.creditPayment({ paymentId, userId, credits: 10, reason: 'paid' });
    await expect(
      ledger.creditPayment({ paymentId, userId, credits: 11, reason: 'paid' }),
    ).rejects.toBeInstanceOf(LedgerConflictError);
    await expect(
      ledger.creditPayment({ paymentId, userId: newUser(), credits: 10, reason: 'paid' }),
    ).rejects.toBeInstanceOf(LedgerConflictError);
    expect((await ledger.balance(userId)).balance).toBe(10);
  });

  it('refuses a debit beyond the balance and writes nothing', async () => {
    const userId = newUser();
    await credit(userId, 50);
    const before = await counts();
    const error = await debit(userId, 51).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientBalanceError);
    expect(error).toMatchObject({ balance: 50, requested: 51 });
    expect(await counts()).toEqual(before);
    expect((await ledger.balance(userId)).balance).toBe(50);
  });

  it('refuses a debit for a user it has never seen without creating the user', async () => {
    const userId = newUser();
    const before = await counts();
    await expect(debit(userId, 1)).rejects.toMatchObject({ balance: 0, requested: 1 });
    expect(await counts()).toEqual(before);
    expect(await userDocs().findOne({ _id: userId })).toBeNull();
  });

  it('lets a debit take the balance to exactly zero', async () => {
    const userId = newUser();
    await credit(userId, 40);
    const { entry } = await debit(userId, 40);
    expect(entry).toMatchObject({ type: 'debit', amount: -40, balanceAfter: 0 });
    expect((await ledger.balance(userId)).balance).toBe(0);
  });

  it('replays a debit retried with the same key and request, and refuses another request', async () => {
    const userId = newUser();
    await credit(userId, 100);
    const args = { userId, amount: 10, idempotencyKey: 'k1', reason: 'a', requestHash: 'h1' };
    const first = await ledger.debit(args);
    const again = await ledger.debit(args);
    expect(first).toMatchObject({ replayed: false, entry: { opId: `debit:${userId}:k1` } });
    expect(again).toEqual({ entry: first.entry, replayed: true });
    await expect(ledger.debit({ ...args, requestHash: 'h2' })).rejects.toBeInstanceOf(
      LedgerConflictError,
    );
    expect(await expectConsistent(userId)).toHaveLength(2);
  });

  it('scopes debit keys per user', async () => {
    const [a, b] = [newUser(), newUser()];
    await credit(a, 10);
    await credit(b, 10);
    await ledger.debit({
      userId: a,
      amount: 3,
      idempotencyKey: 'same',
      reason: 'x',
      requestHash: 'h',
    });
    const other = await ledger.debit({
      userId: b,
      amount: 3,
      idempotencyKey: 'same',
      reason: 'x',
      requestHash: 'h',
    });
    expect(other.replayed).toBe(false);
    expect((await ledger.balance(b)).balance).toBe(7);
  });

  it('keeps debit keys apart for user ids and keys containing colons', async () => {
    const prefix = newUser();
    const a = `${prefix}:x`; // user "<prefix>:x" with key "k" against user "<prefix>" with key "x:k"
    await credit(a, 10);
    await credit(prefix, 10);
    const args = { amount: 1, reason: 'x', requestHash: 'h' };
    await ledger.debit({ ...args, userId: a, idempotencyKey: 'k' });
    const other = await ledger.debit({ ...args, userId: prefix, idempotencyKey: 'x:k' });
    expect(other.replayed).toBe(false);
    expect((await ledger.balance(a)).balance).toBe(9);
    expect((await ledger.balance(prefix)).balance).toBe(9);
  });

  it.each([
    ['a zero credit', { type: 'credit', amount: 0 }],
    ['a negative credit', { type: 'credit', amount: -5 }],
    ['a positive debit', { type: 'debit', amount: 5 }],
    ['a zero adjustment', { type: 'adjustment', amount: 0 }],
    ['a fractional amount', { type: 'credit', amount: 1.5 }],
    ['an unsafe integer', { type: 'credit', amount: 2 ** 53 }],
    ['a NaN amount', { type: 'credit', amount: Number.NaN }],
    ['an unknown type', { type: 'refund', amount: 5 }],
    ['an empty user id', { type: 'credit', amount: 5, userId: '' }],
    ['an empty reason', { type: 'credit', amount: 5, reason: '' }],
  ])('refuses %s as a programming error, writing nothing', async (_name, fields) => {
    const before = await counts();
    const op = { opId: newOpId(), userId: newUser(), reason: 'r', ...fields } as LedgerOp;
    await expect(ledger.apply(op)).rejects.toThrow(/amount|type|userId|reason|credit|debit/);
    await expect(ledger.apply(op)).rejects.toBeInstanceOf(Error);
    expect(await counts()).toEqual(before);
  });

  it('refuses debit amounts that are not positive safe integers', async () => {
    const userId = newUser();
    await credit(userId, 10);
    for (const amount of [0, -1, 0.5, 2 ** 53]) {
      await expect(debit(userId, amount)).rejects.toBeInstanceOf(RangeError);
    }
    expect((await ledger.balance(userId)).seq).toBe(1);
  });

  it('keeps balances exact beyond 32 bits and refuses to leave the safe integer range', async () => {
    const userId = newUser();
    await credit(userId, 2 ** 31 - 1);
    await credit(userId, 10);
    await credit(userId, 1_000_000_000_000);
    const expected = 2 ** 31 - 1 + 10 + 1_000_000_000_000;
    expect((await ledger.balance(userId)).balance).toBe(expected);
    await credit(userId, Number.MAX_SAFE_INTEGER - expected);
    expect((await ledger.balance(userId)).balance).toBe(Number.MAX_SAFE_INTEGER);
    await expect(credit(userId, 1)).rejects.toBeInstanceOf(RangeError);
    await debit(userId, Number.MAX_SAFE_INTEGER);
    expect(await expectConsistent(userId)).toHaveLength(5);
  });
});

describe('reading', () => {
  it('answers balance 0 and no update time for an unknown user, writing nothing', async () => {
    const before = await counts();
    const userId = newUser();
    expect(await ledger.balance(userId)).toEqual({ userId, balance: 0, seq: 0, updatedAt: null });
    expect(await ledger.entries(userId, 10)).toEqual([]);
    expect(await counts()).toEqual(before);
  });

  it('stamps the update time from the injected clock', async () => {
    const at = new Date('2030-01-02T03:04:05.000Z');
    const clocked = new Ledger(db, () => at);
    const userId = newUser();
    const { entry } = await clocked.apply({
      opId: newOpId(),
      userId,
      type: 'credit',
      amount: 1,
      reason: 'r',
    });
    expect(entry.createdAt).toEqual(at);
    expect(await ledger.balance(userId)).toEqual({ userId, balance: 1, seq: 1, updatedAt: at });
  });

  it('lists entries newest first, a page at a time before a sequence number', async () => {
    const userId = newUser();
    for (let i = 1; i <= 7; i++) await credit(userId, i);
    const page1 = await ledger.entries(userId, 3);
    expect(page1.map((e) => e.seq)).toEqual([7, 6, 5]);
    const page2 = await ledger.entries(userId, 3, 5);
    expect(page2.map((e) => e.seq)).toEqual([4, 3, 2]);
    const page3 = await ledger.entries(userId, 3, 2);
    expect(page3.map((e) => e.seq)).toEqual([1]);
    expect(await ledger.entries(userId, 3, 1)).toEqual([]);
  });
});

describe('concurrency', () => {
  it('applies each of 300 concurrent operations from 10 connections exactly once, never below zero', async () => {
    const userId = newUser();
    await credit(userId, 500, `${userId}:opening`);
    const ledgers = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const l = new Ledger((await connect()).db(databaseName));
        return l;
      }),
    );
    type Call = { opId: string; kind: 'credit' | 'debit'; amount: number };
    const distinct: Call[] = [
      ...Array.from({ length: 150 }, (_, i) => ({
        opId: `c${i}`,
        kind: 'credit' as const,
        amount: 1 + (i % 20),
      })),
      // Debits add up to more than all credits, so some must be refused.
      ...Array.from({ length: 80 }, (_, i) => ({
        opId: `d${i}`,
        kind: 'debit' as const,
        amount: 20 + (i % 30),
      })),
    ];
    const duplicates = Array.from({ length: 70 }, (_, i) => distinct[(i * 37) % distinct.length]!);
    const calls = [...distinct, ...duplicates]
      .map((call, i) => ({ call, order: (i * 7919) % 300 }))
      .sort((a, b) => a.order - b.order)
      .map(({ call }) => call);
    expect(calls).toHaveLength(300);

    const started = performance.now();
    const results = await Promise.allSettled(
      calls.map((call, i) => {
        const l = ledgers[i % ledgers.length]!;
        return call.kind === 'credit'
          ? l.apply({
              opId: `${userId}:${call.opId}`,
              userId,
              type: 'credit',
              amount: call.amount,
              reason: 'r',
            })
          : l.debit({
              userId,
              amount: call.amount,
              idempotencyKey: call.opId,
              reason: 'r',
              requestHash: `h${call.opId}`,
            });
      }),
    );
    const elapsedMs = performance.now() - started;
    console.info(`300 concurrent ledger operations: ${elapsedMs.toFixed(0)} ms`);

    const byOp = new Map<
      string,
      PromiseSettledResult<{ entry: LedgerEntry; replayed: boolean }>[]
    >();
    calls.forEach((call, i) => byOp.set(call.opId, [...(byOp.get(call.opId) ?? []), results[i]!]));
    const stored = await ledgerDocs().find({ userId }).toArray();
    let expectedBalance = 500;
    let refusedDebits = 0;
    for (const call of distinct) {
      const outcomes = byOp.get(call.opId)!;
      const applied = outcomes.filter((r) => r.status === 'fulfilled').map((r) => r.value);
      for (const r of outcomes) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InsufficientBalanceError);
      }
      const entries = stored.filter((e) => e.opId.endsWith(`:${call.opId}`));
      if (call.kind === 'credit') expect(applied.length).toBe(outcomes.length);
      if (applied.length === 0) {
        refusedDebits += 1;
        expect(entries).toHaveLength(0);
        continue;
      }
      expect(entries).toHaveLength(1);
      expect(applied.filter((a) => !a.replayed)).toHaveLength(1);
      for (const a of applied) expect(a.entry._id).toBe(entries[0]!._id);
      expectedBalance += call.kind === 'credit' ? call.amount : -call.amount;
    }
    expect(refusedDebits).toBeGreaterThan(0);
    expect(refusedDebits).toBeLessThan(80);

    const chain = await expectConsistent(userId);
    expect(chain).toHaveLength(1 + distinct.length - refusedDebits);
    expect((await ledger.balance(userId)).balance).toBe(expectedBalance);
    // 300 operations under load: a generous limit; the test waits on results, not the clock.
  }, 600_000);

  it('keeps two users interleaved on the same connections apart', async () => {
    const [a, b] = [newUser(), newUser()];
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? credit(a, 1 + i) : credit(b, 1000 + i))),
    );
    await Promise.all(Array.from({ length: 10 }, (_, i) => debit(i % 2 === 0 ? a : b, 3)));
    const ea = await expectConsistent(a);
    const eb = await expectConsistent(b);
    expect(ea).toHaveLength(35);
    expect(eb).toHaveLength(35);
    expect(ea.every((e) => e.userId === a)).toBe(true);
    expect((await ledger.balance(a)).balance).toBe(
      Array.from({ length: 30 }, (_, k) => 1 + 2 * k).reduce((s, x) => s + x, 0) - 15,
    );
    expect((await ledger.balance(b)).balance).toBe(
      Array.from({ length: 30 }, (_, k) => 1001 + 2 * k).reduce((s, x) => s + x, 0) - 15,
    );
  });

  it('replays 20 concurrent retries of a debit that spends the whole balance, none refused', async () => {
    const userId = newUser();
    await credit(userId, 25);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        ledger.debit({ userId, amount: 25, idempotencyKey: 'all', reason: 'r', requestHash: 'h' }),
      ),
    );
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.entry._id)).size).toBe(1);
    expect(await expectConsistent(userId)).toHaveLength(2);
  });
  it('credits each payment once when replicas and a manual confirm race on 10 connections', async () => {
    const userId = newUser();
    const replicas = await Promise.all(
      Array.from({ length: 10 }, async () => new Ledger((await connect()).db(databaseName))),
    );
    const payments = Array.from({ length: 20 }, (_, i) => ({
      paymentId: `pay_${userId}_${i}`,
      credits: 10 + i,
    }));
    const results = await Promise.all(
      replicas.flatMap((replica, r) =>
        payments.map((p) =>
          replica.creditPayment({
            ...p,
            userId,
            reason: r === 0 ? 'manual confirm' : 'payment confirmed',
            ...(r === 0 && { actor: 'admin-1' }),
          }),
        ),
      ),
    );
    expect(results.filter((x) => !x.replayed)).toHaveLength(payments.length);
    const chain = await expectConsistent(userId);
    expect(chain.map((e) => e.paymentId).sort()).toEqual(payments.map((p) => p.paymentId).sort());
    expect((await ledger.balance(userId)).balance).toBe(
      payments.reduce((sum, p) => sum + p.credits, 0),
    );
  });
});

describe('reconcile beside live traffic', () => {
  it('reports nothing amiss while operations are being applied', async () => {
    const userId = newUser();
    const traffic = new AbortController();
    const reports: Awaited<ReturnType<Ledger['reconcile']>>[] = [];
    const auditor = (async () => {
      while (!traffic.signal.aborted) reports.push(await ledger.reconcile());
    })();
    await Promise.all(Array.from({ length: 100 }, (_, i) => credit(userId, 1 + i)));
    traffic.abort();
    await auditor;
    expect(reports.length).toBeGreaterThan(0);
    for (const report of reports) expect(report.mismatches).toEqual([]);
    expect(await expectConsistent(userId)).toHaveLength(100);
  });
});

describe('recovery from a writer stopped between recording and applying', () => {
  async function crashedUser() {
    const userId = newUser();
    await credit(userId, 100);
    await debit(userId, 30);
    const op: LedgerOp = { opId: newOpId(), userId, type: 'credit', amount: 12, reason: 'crash' };
    const entry = await recordWithoutApplying(op);
    expect(await userDocs().findOne({ _id: userId })).toMatchObject({ balance: 70, seq: 2 });
    return { userId, op, entry };
  }

  it('balance() applies the recorded entry, once', async () => {
    const { userId } = await crashedUser();
    expect(await ledger.balance(userId)).toMatchObject({ balance: 82, seq: 3 });
    expect(await ledger.balance(userId)).toMatchObject({ balance: 82, seq: 3 });
    await expectConsistent(userId);
  });

  it('the next operation applies the recorded entry first and chains after it', async () => {
    const { userId } = await crashedUser();
    const { entry } = await credit(userId, 1);
    expect(entry).toMatchObject({ seq: 4, balanceAfter: 83 });
    expect(await expectConsistent(userId)).toHaveLength(4);
  });

  it('a debit sees the balance including the recorded entry', async () => {
    const { userId } = await crashedUser();
    const { entry } = await debit(userId, 82);
    expect(entry).toMatchObject({ seq: 4, balanceAfter: 0 });
    await expectConsistent(userId);
  });

  it('a retry of the stopped operation replays it and applies it once', async () => {
    const { userId, op, entry } = await crashedUser();
    const results = await Promise.all(Array.from({ length: 5 }, () => ledger.apply(op)));
    for (const r of results) expect(r).toMatchObject({ replayed: true, entry: { _id: entry._id } });
    expect(await ledger.balance(userId)).toMatchObject({ balance: 82, seq: 3 });
    await expectConsistent(userId);
  });

  it('reconcile() applies the recorded entry and then finds nothing amiss', async () => {
    const { userId } = await crashedUser();
    const report = await ledger.reconcile();
    expect(report.users).toBeGreaterThan(0);
    expect(report.mismatches).toEqual([]);
    expect(await ledger.balance(userId)).toMatchObject({ balance: 82, seq: 3 });
  });

  it('an operation retried after a crash before anything was recorded applies once', async () => {
    const userId = newUser();
    // The writer created the user and died before step (e).
    await userDocs().insertOne({
      _id: userId,
      balance: 0,
      seq: 0,
      createdAt: new Date(),
      updatedAt: null,
    });
    expect(await ledger.balance(userId)).toMatchObject({ balance: 0, seq: 0 });
    const opId = newOpId();
    await credit(userId, 9, opId);
    await credit(userId, 9, opId);
    expect(await expectConsistent(userId)).toHaveLength(1);
  });
});

describe('reconcile', () => {
  it('reports a user whose balance no longer matches the ledger', async () => {
    const userId = newUser();
    await credit(userId, 10);
    await credit(userId, 20);
    await userDocs().updateOne({ _id: userId }, { $inc: { balance: 5 } });
    const { mismatches } = await ledger.reconcile();
    expect(mismatches).toContainEqual({ userId, balance: 35, ledgerSum: 30, seq: 2, entries: 2 });
    await userDocs().updateOne({ _id: userId }, { $inc: { balance: -5 } });
    expect((await ledger.reconcile()).mismatches.map((m) => m.userId)).not.toContain(userId);
  });

  it('reports a ledger with a missing entry', async () => {
    const userId = newUser();
    await credit(userId, 10);
    await credit(userId, 20);
    await credit(userId, 30);
    await ledgerDocs().deleteOne({ _id: `${userId}:2` });
    const { mismatches } = await ledger.reconcile();
    expect(mismatches).toContainEqual({ userId, balance: 60, ledgerSum: 40, seq: 3, entries: 2 });
    await ledgerDocs().deleteMany({ userId });
    await userDocs().deleteOne({ _id: userId });
  });
});
