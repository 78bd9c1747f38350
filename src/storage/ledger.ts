/**
 * Balances and their ledger in MongoDB, exactly once per operation, without multi-document
 * transactions. Every step is a single-document write and the whole is safe to stop at any line:
 *
 * - `users`: `{ _id: userId, balance, seq, createdAt, updatedAt }`, one read is a consistent
 *   snapshot of (balance, seq).
 * - `ledger`: entry `_id = "<userId>:<seq>"`, so only one operation can take each sequence
 *   number; a unique index on `opId` makes each operation recordable once.
 *
 * An operation is first recorded as entry `seq + 1` (with the balance after it), then applied to
 * the user with an update guarded on `seq`. Whoever finds a recorded-but-unapplied entry (the
 * writer crashed, or is mid-way) applies it the same guarded way, so per user there is at most
 * one such entry and every entry is applied exactly once.
 */
import type { Collection, Db } from 'mongodb';
import {
  type Applied,
  type BalanceView,
  type Debit,
  type LedgerEntry,
  type LedgerOp,
  type LedgerStore,
  type PaymentCredit,
  type ReconcileMismatch,
  type UserDoc,
  InsufficientBalanceError,
  LedgerConflictError,
  creditOpId,
  debitOpId,
} from '../ledger/ledger.js';
import {
  entryId,
  isSameOperation,
  reconcileMismatch,
  validateOperation,
} from '../ledger/ledger-rules.js';
import { isDuplicateKey } from './mongo.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** More rounds than any real contention needs; only a broken database gets here. */
const MAX_ROUNDS = 10_000;

export class Ledger implements LedgerStore {
  private readonly users: Collection<UserDoc>;
  private readonly ledger: Collection<LedgerEntry>;

  constructor(
    db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.users = db.collection<UserDoc>('users');
    this.ledger = db.collection<LedgerEntry>('ledger');
  }

  async ensureIndexes(): Promise<void> {
    await this.ledger.createIndex({ opId: 1 }, { unique: true, name: 'op_unique' }, {});
    await this.ledger.createIndex({ userId: 1, seq: -1 }, { name: 'user_seq' }, {});
    // Date ranges of the accounting export.
    await this.ledger.createIndex({ createdAt: 1, _id: 1 }, { name: 'created' }, {});
  }

  /** Applies `op` exactly once per `opId`; a repeat returns the recorded entry as a replay. */
  async apply(op: LedgerOp): Promise<Applied> {
    validateOperation(op);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // (a) Already recorded: the same operation again, or a misuse of its id.
      const recorded = await this.replay(op);
      if (recorded) return recorded;

      // (b) One read: balance and seq as of one instant. No document yet means nothing yet.
      const user = await this.users.findOne({ _id: op.userId });
      const balance = user?.balance ?? 0;
      const seq = user?.seq ?? 0;

      // (c) The next entry is recorded but not applied: apply it first, then look again.
      const pending = await this.ledger.findOne({ _id: entryId(op.userId, seq + 1) });
      if (pending) {
        if (!user) await this.createUser(op.userId);
        await this.rollForward(pending);
        continue;
      }

      // (d) Never below zero for a debit, and never beyond exact integers.
      const balanceAfter = balance + op.amount;
      if (op.type === 'debit' && balanceAfter < 0) {
        // A retry that lost the race to its own original must replay it, not refuse it.
        if (await this.ledger.findOne({ opId: op.opId }, { projection: { _id: 1 } })) continue;
        throw new InsufficientBalanceError(balance, -op.amount);
      }
      if (!Number.isSafeInteger(balanceAfter)) {
        throw new RangeError(`balance of ${op.userId} would leave the exact integer range`);
      }

      // (e) Record the entry as seq + 1. Losing either unique key means someone else moved first.
      if (!user) await this.createUser(op.userId);
      const entry: LedgerEntry = {
        _id: entryId(op.userId, seq + 1),
        userId: op.userId,
        seq: seq + 1,
        opId: op.opId,
        type: op.type,
        amount: op.amount,
        balanceAfter,
        ...(op.paymentId !== undefined && { paymentId: op.paymentId }),
        reason: op.reason,
        ...(op.actor !== undefined && { actor: op.actor }),
        ...(op.requestHash !== undefined && { requestHash: op.requestHash }),
        createdAt: this.now(),
      };
      try {
        await this.ledger.insertOne(entry);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Lost a race for this seq: wait a little, at random, so a crowd of writers spreads out.
        await sleep(Math.random() * Math.min(2 ** round, 50));
        continue;
      }

      // (f) Apply it; if nobody matched, a helper in (c) already did.
      await this.rollForward(entry);
      return { entry, replayed: false };
    }
    throw new Error(`ledger of ${op.userId} did not settle after ${MAX_ROUNDS} rounds`);
  }

  /** Credits a confirmed payment once, whoever calls and however often. */
  async creditPayment(input: PaymentCredit): Promise<Applied> {
    return this.apply({
      opId: creditOpId(input.paymentId),
      userId: input.userId,
      type: 'credit',
      amount: input.credits,
      reason: input.reason,
      paymentId: input.paymentId,
      ...(input.actor !== undefined && { actor: input.actor }),
    });
  }

  /** Whether the debit with this idempotency key was applied (its retry is a replay). */
  async hasDebit(userId: string, idempotencyKey: string): Promise<boolean> {
    const opId = debitOpId(userId, idempotencyKey);
    return (await this.ledger.findOne({ opId }, { projection: { _id: 1 } })) !== null;
  }

  /** Spends `amount` (positive) once per user and idempotency key; never below zero. */
  async debit(input: Debit): Promise<Applied> {
    if (!Number.isSafeInteger(input.amount) || input.amount < 1) {
      throw new RangeError(`a debit amount must be a positive safe integer`);
    }
    if (input.idempotencyKey.length === 0) throw new TypeError('idempotencyKey must not be empty');
    return this.apply({
      opId: debitOpId(input.userId, input.idempotencyKey),
      userId: input.userId,
      type: 'debit',
      amount: -input.amount,
      reason: input.reason,
      requestHash: input.requestHash,
      ...(input.actor !== undefined && { actor: input.actor }),
    });
  }

  async balance(userId: string): Promise<BalanceView> {
    await this.settle(userId);
    const user = await this.users.findOne({ _id: userId });
    return {
      userId,
      balance: user?.balance ?? 0,
      seq: user?.seq ?? 0,
      updatedAt: user?.updatedAt ?? null,
    };
  }

  /** A user's entries, newest first, `limit` of them before `beforeSeq` (exclusive). */
  async entries(userId: string, limit: number, beforeSeq?: number): Promise<LedgerEntry[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError('limit must be ≥ 1');
    if (beforeSeq !== undefined && !Number.isSafeInteger(beforeSeq)) {
      throw new RangeError('beforeSeq must be an integer');
    }
    await this.settle(userId);
    return this.ledger
      .find(beforeSeq === undefined ? { userId } : { userId, seq: { $lt: beforeSeq } })
      .sort({ seq: -1 })
      .limit(limit)
      .toArray();
  }

  /** Applies the recorded-but-unapplied entry, if there is one (there is at most one). */
  async settle(userId: string): Promise<void> {
    const user = await this.users.findOne({ _id: userId });
    if (!user) return;
    const pending = await this.ledger.findOne({ _id: entryId(userId, user.seq + 1) });
    if (pending) await this.rollForward(pending);
  }

  /**
   * Settles every user, then checks balance = sum of the ledger = the chain's last balanceAfter.
   * Safe beside live traffic: it audits only the entries up to the seq of one read of the user,
   * and those never change once applied.
   */
  async reconcile(): Promise<{ users: number; mismatches: ReconcileMismatch[] }> {
    const mismatches: ReconcileMismatch[] = [];
    let users = 0;
    const ids = this.users.find({}, { projection: { _id: 1 } }).sort({ _id: 1 });
    for await (const { _id: userId } of ids) {
      users += 1;
      await this.settle(userId);
      const user = await this.users.findOne({ _id: userId });
      if (!user) continue;
      const links = await this.ledger
        .find(
          { userId, seq: { $lte: user.seq } },
          { projection: { seq: 1, amount: 1, balanceAfter: 1 } },
        )
        .sort({ seq: 1 })
        .toArray();
      const mismatch = reconcileMismatch(userId, user, links);
      if (mismatch) mismatches.push(mismatch);
    }
    return { users, mismatches };
  }

  /** (a) The entry already recorded for `op.opId`, rolled forward if it is the next one. */
  private async replay(op: LedgerOp): Promise<Applied | null> {
    const recorded = await this.ledger.findOne({ opId: op.opId });
    if (!recorded) return null;
    if (!isSameOperation(recorded, op)) {
      throw new LedgerConflictError(`operation ${op.opId} was already used for another operation`);
    }
    const user = await this.users.findOne({ _id: recorded.userId });
    if (user?.seq === recorded.seq - 1) await this.rollForward(recorded);
    return { entry: recorded, replayed: true };
  }

  /** Moves the user from `entry.seq - 1` to `entry.seq`; a no-op if it is already there. */
  private async rollForward(entry: LedgerEntry): Promise<void> {
    await this.users.updateOne(
      { _id: entry.userId, seq: entry.seq - 1 },
      { $set: { seq: entry.seq, updatedAt: this.now() }, $inc: { balance: entry.amount } },
    );
  }

  private async createUser(userId: string): Promise<void> {
    const doc = { balance: 0, seq: 0, createdAt: this.now(), updatedAt: null };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.users.updateOne({ _id: userId }, { $setOnInsert: doc }, { upsert: true });
        return;
      } catch (err) {
        // Two first-ever upserts raced; the document exists now, which is all we wanted.
        if (!isDuplicateKey(err) || attempt >= 3) throw err;
      }
    }
  }
}
