/**
 * An in-memory PaymentStore for unit tests of the payment flows (the watcher, settlement, the
 * forwarder). It keeps the rules storage/payments.ts gets from MongoDB: one payment per address
 * and per idempotency scope (the unique indexes), a change written only at the version it was
 * read at, and documents copied in and out so a caller never holds the stored one. It passes
 * the same contract suite as the MongoDB repository (test/support/payment-store-contract.ts).
 */
import type { IssuedPayment, Payment } from '../../src/payments/payment.js';
import type { PaymentChange } from '../../src/payments/payment-change.js';
import { outboxRefs } from '../../src/payments/payment-events.js';
import {
  AddressTakenError,
  DuplicateIdempotencyKeyError,
  type PaymentPage,
  type PaymentSearch,
  type PaymentStore,
  decideAndApply,
} from '../../src/payments/payment-store.js';
import { decodeCursor, nextCursor } from '../../src/storage/cursor.js';
import { copy, setFields } from './stored-document.js';

/** A second document with an `_id` taken (MongoDB's duplicate key on `_id`). */
export class DuplicatePaymentIdError extends Error {
  constructor(readonly id: string) {
    super(`a payment with id ${id} exists`);
    this.name = 'DuplicatePaymentIdError';
  }
}

/** `address: { $exists: true }`: a field MongoDB stored as null exists too. */
const hasAddress = (p: Payment): p is IssuedPayment => 'address' in p && p.address !== undefined;

/** Newest first by (createdAt, _id), as the MongoDB listings sort. */
function newestFirst(a: Payment, b: Payment): number {
  const byTime = b.createdAt.getTime() - a.createdAt.getTime();
  if (byTime !== 0) return byTime;
  return a._id < b._id ? 1 : a._id > b._id ? -1 : 0;
}

function afterCursorOf(cursor: string | undefined): (p: Payment) => boolean {
  if (cursor === undefined) return () => true;
  const { createdAt, id } = decodeCursor(cursor);
  const t = createdAt.getTime();
  return (p) => p.createdAt.getTime() < t || (p.createdAt.getTime() === t && p._id < id);
}

export class MemoryPaymentStore implements PaymentStore {
  private readonly docs = new Map<string, Payment>();

  /** Every stored payment, copied (tests). */
  all(): Payment[] {
    return [...this.docs.values()].map(copy);
  }

  insert(payment: Payment): Promise<void> {
    const others = [...this.docs.values()];
    if (
      payment.idempotencyScope !== undefined &&
      others.some((p) => p.idempotencyScope === payment.idempotencyScope)
    )
      return Promise.reject(new DuplicateIdempotencyKeyError());
    if (this.docs.has(payment._id)) return Promise.reject(new DuplicatePaymentIdError(payment._id));
    if (payment.address !== undefined && others.some((p) => p.address === payment.address))
      return Promise.reject(new AddressTakenError(payment.address));
    this.docs.set(payment._id, copy(payment));
    return Promise.resolve();
  }

  findById(id: string): Promise<Payment | null> {
    const doc = this.docs.get(id);
    return Promise.resolve(doc ? copy(doc) : null);
  }

  findByAddresses(addresses: string[]): Promise<IssuedPayment[]> {
    const wanted = new Set(addresses);
    return this.select((p) => wanted.has(p.address));
  }

  findByIdempotencyScope(scope: string): Promise<Payment | null> {
    const doc = [...this.docs.values()].find((p) => p.idempotencyScope === scope);
    return Promise.resolve(doc ? copy(doc) : null);
  }

  assignAddress(
    id: string,
    address: string,
    derivation: IssuedPayment['derivation'],
  ): Promise<boolean> {
    const doc = this.docs.get(id);
    if (!doc || hasAddress(doc)) return Promise.resolve(false);
    if ([...this.docs.values()].some((p) => p.address === address))
      return Promise.reject(new AddressTakenError(address));
    setFields(doc, { address, derivation });
    return Promise.resolve(true);
  }

  discardUnissued(id: string): Promise<boolean> {
    const doc = this.docs.get(id);
    if (!doc || hasAddress(doc)) return Promise.resolve(false);
    this.docs.delete(id);
    return Promise.resolve(true);
  }

  listByUser(userId: string, limit: number, cursor?: string): Promise<PaymentPage> {
    const after = afterCursorOf(cursor);
    return this.page((p) => p.userId === userId && after(p), limit);
  }

  async *issuedAddresses(createdSince?: Date): AsyncIterable<Pick<Payment, 'address' | 'network'>> {
    const issued = await this.select(
      (p) => createdSince === undefined || p.createdAt.getTime() >= createdSince.getTime(),
    );
    for (const p of issued) yield { address: p.address, network: p.network };
  }

  listWatching(): Promise<IssuedPayment[]> {
    return this.select((p) => p.watching);
  }

  async findIdsByAddresses(addresses: string[]): Promise<{ _id: string; address: string }[]> {
    return (await this.findByAddresses(addresses)).map((p) => ({ _id: p._id, address: p.address }));
  }

  findByIds(ids: string[]): Promise<IssuedPayment[]> {
    const wanted = new Set(ids);
    return this.select((p) => wanted.has(p._id));
  }

  listConfirmedIn(blockHashes: string[]): Promise<IssuedPayment[]> {
    const hashes = new Set(blockHashes);
    return this.select((p) =>
      p.outputs.some((o) => o.blockHash !== undefined && hashes.has(o.blockHash)),
    );
  }

  listWithUnconfirmedOutputs(): Promise<IssuedPayment[]> {
    return this.select((p) => p.watching && p.outputs.some((o) => o.blockHeight === undefined));
  }

  listInFlight(): Promise<IssuedPayment[]> {
    return this.select((p) => p.watching && p.outputs.length > 0);
  }

  listWindowOver(windowOverBefore: Date): Promise<IssuedPayment[]> {
    return this.select(
      (p) =>
        p.watching && p.expiresAt.getTime() < windowOverBefore.getTime() && p.credit === undefined,
    );
  }

  listExpiring(expiredBefore: Date): Promise<IssuedPayment[]> {
    return this.select(
      (p) =>
        (p.status === 'pending' || p.status === 'confirming') &&
        p.expiresAt.getTime() < expiredBefore.getTime() &&
        p.credit === undefined,
    );
  }

  async listAwaited(viewedSince: Date, createdSince: Date): Promise<IssuedPayment[]> {
    const docs = await this.select(
      (p) =>
        ((p.lastViewedAt !== undefined && p.lastViewedAt.getTime() >= viewedSince.getTime()) ||
          p.createdAt.getTime() >= createdSince.getTime()) &&
        (p.status === 'pending' || p.status === 'confirming'),
    );
    const key = (p: Payment) => Math.max(p.lastViewedAt?.getTime() ?? 0, p.createdAt.getTime());
    return docs.sort((a, b) => key(b) - key(a));
  }

  markViewed(id: string, now: Date, throttleMs: number): Promise<void> {
    const doc = this.docs.get(id);
    if (
      doc &&
      (doc.lastViewedAt === undefined || doc.lastViewedAt.getTime() < now.getTime() - throttleMs)
    )
      setFields(doc, { lastViewedAt: now });
    return Promise.resolve();
  }

  anyIssued(): Promise<boolean> {
    return Promise.resolve([...this.docs.values()].some(hasAddress));
  }

  listWatchingCreatedBefore(before: Date): Promise<IssuedPayment[]> {
    return this.select((p) => p.watching && p.createdAt.getTime() < before.getTime());
  }

  applyChange(payment: Payment, change: PaymentChange): Promise<Payment | null> {
    const doc = this.docs.get(payment._id);
    if (doc?.version !== payment.version) return Promise.resolve(null);
    setFields(doc, { ...change.next, version: payment.version + 1 });
    doc.events.push(...copy(change.events));
    doc.outbox.push(...copy(outboxRefs(payment, change.webhooks)));
    return Promise.resolve(copy(doc));
  }

  applyDecided(
    id: string,
    decide: (payment: Payment) => PaymentChange | null,
    attempts = 10,
  ): Promise<'changed' | 'unchanged' | 'missing'> {
    return decideAndApply(this, id, decide, attempts);
  }

  listCreditDue(id?: string): Promise<Payment[]> {
    return this.selectAll((p) => p.credit?.state === 'due' && (id === undefined || p._id === id));
  }

  listWithOutbox(id?: string): Promise<Payment[]> {
    return this.selectAll((p) => p.outbox.length > 0 && (id === undefined || p._id === id));
  }

  removeFromOutbox(id: string, refId: string): Promise<void> {
    const doc = this.docs.get(id);
    if (doc) doc.outbox = doc.outbox.filter((ref) => ref.id !== refId);
    return Promise.resolve();
  }

  search(filter: PaymentSearch, limit: number, cursor?: string): Promise<PaymentPage> {
    const after = afterCursorOf(cursor);
    const from = filter.from?.getTime();
    const to = filter.to?.getTime();
    return this.page(
      (p) =>
        (!filter.status || p.status === filter.status) &&
        (!filter.userId || p.userId === filter.userId) &&
        (from === undefined || p.createdAt.getTime() >= from) &&
        (to === undefined || p.createdAt.getTime() < to) &&
        (filter.late === undefined || p.late === filter.late) &&
        (filter.needsReview === undefined || p.needsReview === filter.needsReview) &&
        (filter.manual === undefined || p.manual === filter.manual) &&
        (filter.overpaid === undefined ||
          (filter.overpaid ? p.overpaidSats > 0 : p.overpaidSats === 0)) &&
        after(p),
      limit,
    );
  }

  async listForwardable(id?: string): Promise<IssuedPayment[]> {
    const docs = await this.select(
      (p) => p.outputs.length > 0 && p.sweepDone !== true && (id === undefined || p._id === id),
    );
    return docs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  markSweepDone(id: string): Promise<void> {
    const doc = this.docs.get(id);
    if (doc) doc.sweepDone = true;
    return Promise.resolve();
  }

  reopenSweep(ids: string[]): Promise<void> {
    for (const id of ids) {
      const doc = this.docs.get(id);
      if (doc?.sweepDone === true) delete doc.sweepDone;
    }
    return Promise.resolve();
  }

  async applySweepChange(
    id: string,
    decide: (payment: Payment) => PaymentChange | null,
  ): Promise<boolean> {
    return (await this.applyDecided(id, decide)) !== 'missing';
  }

  /** Issued payments matching `match`, copied, in insertion order. */
  private select(match: (p: IssuedPayment) => boolean): Promise<IssuedPayment[]> {
    return Promise.resolve(
      [...this.docs.values()].filter((p) => hasAddress(p) && match(p)).map(copy) as IssuedPayment[],
    );
  }

  private selectAll(match: (p: Payment) => boolean): Promise<Payment[]> {
    return Promise.resolve([...this.docs.values()].filter(match).map(copy));
  }

  private async page(match: (p: IssuedPayment) => boolean, limit: number): Promise<PaymentPage> {
    const items = (await this.select(match)).sort(newestFirst).slice(0, limit);
    return { items, nextCursor: nextCursor(items, limit) };
  }
}
