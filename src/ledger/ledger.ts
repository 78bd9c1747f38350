/**
 * The balance ledger's records, errors and port: what an entry and an operation are, and what
 * the flows may ask of the ledger (`LedgerStore`). The pure rules are in ledger-rules.ts, the
 * MongoDB store (exactly once, without multi-document transactions) in storage/ledger.ts.
 */
import type { ReconcileMismatch } from './ledger-rules.js';

export type LedgerEntryType = 'credit' | 'debit' | 'adjustment';

export interface LedgerEntry {
  _id: string;
  userId: string;
  seq: number;
  opId: string;
  type: LedgerEntryType;
  /** signed: debits are negative */
  amount: number;
  balanceAfter: number;
  paymentId?: string;
  reason: string;
  actor?: string;
  requestHash?: string;
  createdAt: Date;
}

export interface LedgerOp {
  opId: string;
  userId: string;
  type: LedgerEntryType;
  /** signed: negative for a debit, positive for a credit, either for an adjustment; never 0 */
  amount: number;
  reason: string;
  paymentId?: string;
  actor?: string;
  requestHash?: string;
}

/** A user's balance document in `users`. */
export interface UserDoc {
  _id: string;
  balance: number;
  seq: number;
  createdAt: Date;
  /** when the balance last changed; null before the first entry */
  updatedAt: Date | null;
}

export class InsufficientBalanceError extends Error {
  constructor(
    readonly balance: number,
    readonly requested: number,
  ) {
    super(`insufficient balance: ${balance} available, ${requested} requested`);
    this.name = 'InsufficientBalanceError';
  }
}

/**
 * A debit's operation id. The user id is encoded so it holds no ':' and (user "a:b", key "c")
 * and (user "a", key "b:c") cannot share an operation id; ids without ':' or '@' read as they are.
 */
export function debitOpId(userId: string, idempotencyKey: string): string {
  return `debit:${encodeURIComponent(userId)}:${idempotencyKey}`;
}

/** A payment's credit operation id: one credit per payment, whoever applies it. */
export function creditOpId(paymentId: string): string {
  return `credit:${paymentId}`;
}

/** The operation id was already used for a different user, amount, type or request. */
export class LedgerConflictError extends Error {
  constructor(message = 'this operation id was already used for a different operation') {
    super(message);
    this.name = 'LedgerConflictError';
  }
}

export interface Applied {
  entry: LedgerEntry;
  replayed: boolean;
}

export interface BalanceView {
  userId: string;
  balance: number;
  seq: number;
  updatedAt: Date | null;
}

export type { ReconcileMismatch };

/** A confirmed payment's credit to its user. */
export interface PaymentCredit {
  paymentId: string;
  userId: string;
  credits: number;
  reason: string;
  actor?: string;
}

/** A spend of `amount` (positive) credits, once per user and idempotency key. */
export interface Debit {
  userId: string;
  amount: number;
  idempotencyKey: string;
  reason: string;
  requestHash: string;
  actor?: string;
}

/**
 * What the flows (the API, settlement, reconcile) need of the ledger; storage/ledger.ts keeps it
 * in MongoDB, exactly once per operation (see there).
 */
export interface LedgerStore {
  /** Applies `op` exactly once per `opId`; a repeat returns the recorded entry as a replay. */
  apply(op: LedgerOp): Promise<Applied>;
  /** Credits a confirmed payment once, whoever calls and however often. */
  creditPayment(input: PaymentCredit): Promise<Applied>;
  /** Whether the debit with this idempotency key was applied (its retry is a replay). */
  hasDebit(userId: string, idempotencyKey: string): Promise<boolean>;
  /** Spends `amount` (positive) once per user and idempotency key; never below zero. */
  debit(input: Debit): Promise<Applied>;
  balance(userId: string): Promise<BalanceView>;
  /** A user's entries, newest first, `limit` of them before `beforeSeq` (exclusive). */
  entries(userId: string, limit: number, beforeSeq?: number): Promise<LedgerEntry[]>;
  /** Applies the recorded-but-unapplied entry, if there is one (there is at most one). */
  settle(userId: string): Promise<void>;
  /** Settles every user, then checks balance = sum of the ledger = the chain's last balanceAfter. */
  reconcile(): Promise<{ users: number; mismatches: ReconcileMismatch[] }>;
}
