/**
 * The port the payment flows (the payment service, the watcher, the admin routes, the coin audit)
 * depend on: what they read and write of payments. storage/payments.ts keeps it in MongoDB, where
 * unique indexes enforce the address and idempotency-key rules below.
 */
import type { Derivation, IssuedPayment, Payment, PaymentStatus } from './payment.js';
import type { PaymentChange } from './payment-change.js';

/** A payment kept changing under a writer: the change is retried later (next cycle, or by the caller). */
export class PaymentChangeConflictError extends Error {
  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} kept changing while a change was applied to it`);
    this.name = 'PaymentChangeConflictError';
  }
}

export class DuplicateIdempotencyKeyError extends Error {
  constructor() {
    super('a payment with this idempotency key exists');
    this.name = 'DuplicateIdempotencyKeyError';
  }
}

/** The unique `orderId` index refused the insert: another payment has this order id. */
export class DuplicateOrderIdError extends Error {
  constructor() {
    super('a payment with this orderId exists');
    this.name = 'DuplicateOrderIdError';
  }
}

export class AddressTakenError extends Error {
  constructor(readonly address: string) {
    super(`address ${address} is already used by another payment`);
    this.name = 'AddressTakenError';
  }
}

/** One page of a newest-first listing; `nextCursor` is opaque (null after the last page). */
export interface PaymentPage {
  items: IssuedPayment[];
  nextCursor: string | null;
}

/** The admin listing's filters. */
export interface PaymentSearch {
  status?: PaymentStatus;
  userId?: string;
  orderId?: string;
  from?: Date;
  to?: Date;
  late?: boolean;
  needsReview?: boolean;
  manual?: boolean;
  overpaid?: boolean;
}

export interface PaymentStore {
  /** Throws DuplicateIdempotencyKeyError or DuplicateOrderIdError when either is taken. */
  insert(payment: Payment): Promise<void>;
  findById(id: string): Promise<Payment | null>;
  findByAddresses(addresses: string[]): Promise<IssuedPayment[]>;
  findByIdempotencyScope(scope: string): Promise<Payment | null>;
  /** False if the payment already had one; throws AddressTakenError if another payment has it. */
  assignAddress(id: string, address: string, derivation: Derivation): Promise<boolean>;
  discardUnissued(id: string): Promise<boolean>;
  /** A user's issued payments, newest first; `cursor` is a page's `nextCursor`. */
  listByUser(userId: string, limit: number, cursor?: string): Promise<PaymentPage>;
  /** Every issued address (or those created since `createdSince`), streamed. */
  issuedAddresses(createdSince?: Date): AsyncIterable<Pick<Payment, 'address' | 'network'>>;
  listWatching(): Promise<IssuedPayment[]>;
  findIdsByAddresses(addresses: string[]): Promise<{ _id: string; address: string }[]>;
  findByIds(ids: string[]): Promise<IssuedPayment[]>;
  listConfirmedIn(blockHashes: string[]): Promise<IssuedPayment[]>;
  listWithUnconfirmedOutputs(): Promise<IssuedPayment[]>;
  listInFlight(): Promise<IssuedPayment[]>;
  listWindowOver(windowOverBefore: Date): Promise<IssuedPayment[]>;
  listExpiring(expiredBefore: Date): Promise<IssuedPayment[]>;
  listAwaited(viewedSince: Date, createdSince: Date): Promise<IssuedPayment[]>;
  markViewed(id: string, now: Date, throttleMs: number): Promise<void>;
  anyIssued(): Promise<boolean>;
  listWatchingCreatedBefore(before: Date): Promise<IssuedPayment[]>;
  /**
   * Writes a transition's change if nobody wrote since `payment.version` was read; null when
   * another writer got there first.
   */
  applyChange(payment: Payment, change: PaymentChange): Promise<Payment | null>;
  /**
   * Reads, decides and applies guarded on the version, deciding again after a lost race; throws
   * PaymentChangeConflictError when the payment keeps changing.
   */
  applyDecided(
    id: string,
    decide: (payment: Payment) => PaymentChange | null,
    attempts?: number,
  ): Promise<'changed' | 'unchanged' | 'missing'>;
  listCreditDue(id?: string): Promise<Payment[]>;
  listWithOutbox(id?: string): Promise<Payment[]>;
  removeFromOutbox(id: string, refId: string): Promise<void>;
  /** Admin listing: filters, newest first; `cursor` is a page's `nextCursor`. */
  search(filter: PaymentSearch, limit: number, cursor?: string): Promise<PaymentPage>;
  listForwardable(id?: string): Promise<IssuedPayment[]>;
  markSweepDone(id: string): Promise<void>;
  reopenSweep(ids: string[]): Promise<void>;
  applySweepChange(
    id: string,
    decide: (payment: Payment) => PaymentChange | null,
  ): Promise<boolean>;
}

/**
 * The read-decide-apply loop every store's `applyDecided` runs: reads the payment, asks `decide`
 * for the change and applies it guarded on the version; after a lost race `decide` is asked again
 * on the fresh payment. `decide` returning null means nothing (more) to change.
 */
export async function decideAndApply(
  store: Pick<PaymentStore, 'findById' | 'applyChange'>,
  id: string,
  decide: (payment: Payment) => PaymentChange | null,
  attempts = 10,
): Promise<'changed' | 'unchanged' | 'missing'> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const payment = await store.findById(id);
    if (!payment) return 'missing';
    const change = decide(payment);
    if (!change) return 'unchanged';
    if (await store.applyChange(payment, change)) return 'changed';
  }
  throw new PaymentChangeConflictError(id);
}
