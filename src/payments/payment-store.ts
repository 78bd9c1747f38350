/**
 * The port the payment flows (the payment service, the watcher, the admin routes, the coin audit)
 * depend on: what they read and write of payments. storage/payments.ts keeps it in MongoDB, where
 * unique indexes enforce the address and idempotency-key rules below.
 */
import type {
  Derivation,
  IssuedPayment,
  OutboxRef,
  Payment,
  PaymentEvent,
  PaymentStatus,
} from './payment.js';
import type { CreditDue, TrackedState } from './state-machine.js';
import type { PaymentChange } from './sweep-recording.js';

export class DuplicateIdempotencyKeyError extends Error {
  constructor() {
    super('a payment with this idempotency key exists');
    this.name = 'DuplicateIdempotencyKeyError';
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
  from?: Date;
  to?: Date;
  late?: boolean;
  needsReview?: boolean;
  manual?: boolean;
  overpaid?: boolean;
}

export interface PaymentStore {
  /** Throws DuplicateIdempotencyKeyError when the idempotency scope is taken. */
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
  /** Writes `next` if nobody wrote since `payment.version`; null when another writer did. */
  applyTrackedState(
    payment: Payment,
    next: TrackedState,
    events: PaymentEvent[],
    outbox: OutboxRef[],
    now: Date,
    evaluatedHeight?: number,
  ): Promise<Payment | null>;
  forceConfirm(
    payment: Payment,
    credit: CreditDue,
    event: PaymentEvent,
    outbox: OutboxRef[],
  ): Promise<Payment | null>;
  listCreditDue(id?: string): Promise<Payment[]>;
  markCreditDone(id: string, entryId: string, now: Date): Promise<boolean>;
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
