/**
 * The ledger's pure rules: what a valid operation is, when a recorded entry is the same
 * operation again, and what a user's entry chain must look like. No I/O here.
 */

export type LedgerEntryKind = 'credit' | 'debit' | 'adjustment';

/** The fields of an operation that decide whether a replay is the same operation. */
export interface OperationIdentity {
  opId: string;
  userId: string;
  type: LedgerEntryKind;
  amount: number;
  requestHash?: string;
}

export interface OperationInput extends OperationIdentity {
  reason: string;
  paymentId?: string;
  actor?: string;
}

const KINDS: readonly string[] = ['credit', 'debit', 'adjustment'];

/** `<userId>:<seq>`: one document per sequence number, so two entries can never share one. */
export function entryId(userId: string, seq: number): string {
  return `${userId}:${seq}`;
}

function requireText(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${name} must be a non-empty string`);
  }
}

/**
 * Refuses what can only be a programming error: zero or fractional amounts, a credit that
 * takes away, a debit that adds, amounts beyond exact integer range.
 */
export function validateOperation(op: OperationInput): void {
  requireText(op.opId, 'opId');
  requireText(op.userId, 'userId');
  requireText(op.reason, 'reason');
  if (!KINDS.includes(op.type)) throw new TypeError(`type must be one of ${KINDS.join(', ')}`);
  if (!Number.isSafeInteger(op.amount)) {
    throw new RangeError(`amount must be a safe integer, got ${String(op.amount)}`);
  }
  if (op.amount === 0) throw new RangeError('amount must not be zero');
  if (op.type === 'credit' && op.amount < 0) throw new RangeError('a credit must be positive');
  if (op.type === 'debit' && op.amount > 0) throw new RangeError('a debit must be negative');
  for (const [name, value] of [
    ['paymentId', op.paymentId],
    ['actor', op.actor],
    ['requestHash', op.requestHash],
  ] as const) {
    if (value !== undefined) requireText(value, name);
  }
}

/** True when a recorded entry is this operation again (reason and actor may differ on retries). */
export function isSameOperation(recorded: OperationIdentity, op: OperationIdentity): boolean {
  return (
    recorded.opId === op.opId &&
    recorded.userId === op.userId &&
    recorded.type === op.type &&
    recorded.amount === op.amount &&
    recorded.requestHash === op.requestHash
  );
}

export interface ChainLink {
  seq: number;
  amount: number;
  balanceAfter: number;
}

export interface ChainAudit {
  /** sum of the amounts */
  sum: number;
  count: number;
  lastSeq: number;
  lastBalanceAfter: number;
  /** seqs are 1..count without gaps, and each balanceAfter is the previous one plus the amount */
  intact: boolean;
}

/** Audits one user's entries, given in ascending seq order. */
export function auditChain(links: Iterable<ChainLink>): ChainAudit {
  let sum = 0;
  let count = 0;
  let lastSeq = 0;
  let lastBalanceAfter = 0;
  let intact = true;
  for (const link of links) {
    count += 1;
    sum += link.amount;
    if (link.seq !== count || link.balanceAfter !== lastBalanceAfter + link.amount) intact = false;
    lastSeq = link.seq;
    lastBalanceAfter = link.balanceAfter;
  }
  return { sum, count, lastSeq, lastBalanceAfter, intact };
}

/** A user whose balance and ledger entries disagree. */
export interface ReconcileMismatch {
  userId: string;
  balance: number;
  ledgerSum: number;
  seq: number;
  entries: number;
}

/**
 * Reconcile's verdict on one user: their entries (ascending seq, up to `account.seq`) must form
 * an intact chain whose count, sum and last balance match the account; a mismatch otherwise.
 */
export function reconcileMismatch(
  userId: string,
  account: { balance: number; seq: number },
  links: Iterable<ChainLink>,
): ReconcileMismatch | undefined {
  const audit = auditChain(links);
  const matches =
    audit.intact &&
    audit.count === account.seq &&
    audit.sum === account.balance &&
    audit.lastBalanceAfter === account.balance;
  if (matches) return undefined;
  return {
    userId,
    balance: account.balance,
    ledgerSum: audit.sum,
    seq: account.seq,
    entries: audit.count,
  };
}
