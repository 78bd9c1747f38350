/**
 * An in-memory LedgerStore for unit tests of settlement and the watcher. It keeps the rules
 * storage/ledger.ts gets from MongoDB: one entry per operation id (a repeat is a replay, a
 * different operation under the same id a LedgerConflictError), entries numbered per user
 * without gaps, and a debit never taking a balance below zero. Each operation runs to the end
 * without awaiting, so two callers cannot interleave inside one. It passes the same contract
 * suite as the MongoDB ledger (test/support/ledger-store-contract.ts).
 */
import {
  type Applied,
  type BalanceView,
  type Debit,
  type LedgerEntry,
  type LedgerOp,
  type LedgerStore,
  type PaymentCredit,
  type ReconcileMismatch,
  InsufficientBalanceError,
  LedgerConflictError,
  creditOpId,
  debitOpId,
} from '../../src/ledger/ledger.js';
import {
  entryId,
  isSameOperation,
  reconcileMismatch,
  validateOperation,
} from '../../src/ledger/ledger-rules.js';

interface Account {
  balance: number;
  seq: number;
  updatedAt: Date | null;
  entries: LedgerEntry[];
}

export class MemoryLedgerStore implements LedgerStore {
  private readonly accounts = new Map<string, Account>();
  private readonly byOpId = new Map<string, LedgerEntry>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  apply(op: LedgerOp): Promise<Applied> {
    // A throw in the executor rejects the promise, as the MongoDB ledger's errors do.
    return new Promise((resolve) => {
      resolve(this.applyNow(op));
    });
  }

  creditPayment(input: PaymentCredit): Promise<Applied> {
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

  hasDebit(userId: string, idempotencyKey: string): Promise<boolean> {
    return Promise.resolve(this.byOpId.has(debitOpId(userId, idempotencyKey)));
  }

  debit(input: Debit): Promise<Applied> {
    if (!Number.isSafeInteger(input.amount) || input.amount < 1) {
      return Promise.reject(new RangeError(`a debit amount must be a positive safe integer`));
    }
    if (input.idempotencyKey.length === 0) {
      return Promise.reject(new TypeError('idempotencyKey must not be empty'));
    }
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

  balance(userId: string): Promise<BalanceView> {
    const account = this.accounts.get(userId);
    return Promise.resolve({
      userId,
      balance: account?.balance ?? 0,
      seq: account?.seq ?? 0,
      updatedAt: account?.updatedAt ?? null,
    });
  }

  entries(userId: string, limit: number, beforeSeq?: number): Promise<LedgerEntry[]> {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      return Promise.reject(new RangeError('limit must be ≥ 1'));
    }
    if (beforeSeq !== undefined && !Number.isSafeInteger(beforeSeq)) {
      return Promise.reject(new RangeError('beforeSeq must be an integer'));
    }
    const all = this.accounts.get(userId)?.entries ?? [];
    return Promise.resolve(
      all
        .filter((e) => beforeSeq === undefined || e.seq < beforeSeq)
        .reverse()
        .slice(0, limit)
        .map((e) => structuredClone(e)),
    );
  }

  /** Nothing is ever recorded without being applied here. */
  settle(): Promise<void> {
    return Promise.resolve();
  }

  reconcile(): Promise<{ users: number; mismatches: ReconcileMismatch[] }> {
    const mismatches: ReconcileMismatch[] = [];
    const ids = [...this.accounts.keys()].sort();
    for (const userId of ids) {
      const account = this.accounts.get(userId)!;
      const mismatch = reconcileMismatch(userId, account, account.entries);
      if (mismatch) mismatches.push(mismatch);
    }
    return Promise.resolve({ users: ids.length, mismatches });
  }

  private applyNow(op: LedgerOp): Applied {
    validateOperation(op);
    const recorded = this.byOpId.get(op.opId);
    if (recorded) {
      if (!isSameOperation(recorded, op)) {
        throw new LedgerConflictError(
          `operation ${op.opId} was already used for another operation`,
        );
      }
      return { entry: structuredClone(recorded), replayed: true };
    }
    const account = this.accounts.get(op.userId) ?? {
      balance: 0,
      seq: 0,
      updatedAt: null,
      entries: [],
    };
    const balanceAfter = account.balance + op.amount;
    if (op.type === 'debit' && balanceAfter < 0) {
      throw new InsufficientBalanceError(account.balance, -op.amount);
    }
    if (!Number.isSafeInteger(balanceAfter)) {
      throw new RangeError(`balance of ${op.userId} would leave the exact integer range`);
    }
    const at = this.now();
    const entry: LedgerEntry = {
      _id: entryId(op.userId, account.seq + 1),
      userId: op.userId,
      seq: account.seq + 1,
      opId: op.opId,
      type: op.type,
      amount: op.amount,
      balanceAfter,
      ...(op.paymentId !== undefined && { paymentId: op.paymentId }),
      reason: op.reason,
      ...(op.actor !== undefined && { actor: op.actor }),
      ...(op.requestHash !== undefined && { requestHash: op.requestHash }),
      createdAt: at,
    };
    account.entries.push(entry);
    account.balance = balanceAfter;
    account.seq = entry.seq;
    account.updatedAt = at;
    this.accounts.set(op.userId, account);
    this.byOpId.set(op.opId, entry);
    return { entry: structuredClone(entry), replayed: false };
  }
}
