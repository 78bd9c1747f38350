/**
 * Creating and reading payments. Creation never hands out an address twice, never hands out one
 * with chain history, and never consumes an index for a refused request: the input is priced
 * first and the chain tip read (`createdAtHeight`), then the payment record is inserted (its
 * unique idempotency key makes it the reservation), then a fresh index is allocated atomically
 * (checked on the chain, see address-issuer.ts) and the address set once on the record.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ChainSource } from '../chain/chain-source.js';
import type { RateProvider } from '../pricing/rates.js';
import type { WalletAccount } from '../wallet/account.js';
import {
  AddressCheckUnavailableError,
  AddressIssuer,
  type IssuerLog,
  type ReceiveIndexCounter,
} from './address-issuer.js';
import { type IssuedPayment, type Payment, isIssued } from './payment.js';
import {
  AddressTakenError,
  DuplicateIdempotencyKeyError,
  DuplicateOrderIdError,
  type PaymentPage,
  type PaymentSearch,
  type PaymentStore,
} from './payment-store.js';
import { cancelPayment } from './cancellation.js';
import { type OrderFields, OrderIdTakenError, orderProblem, orderView } from './order.js';
import { PaymentInputError, type QuoteLimits, type QuoteRequest, quotePayment } from './quote.js';
import { initialTrackedState } from './state-machine.js';

/** A checkout view is recorded at most this often per payment. */
const VIEW_THROTTLE_MS = 10_000;
export interface CreatePaymentInput extends QuoteRequest, OrderFields {
  userId: string;
  description?: string;
}

export interface CreateContext {
  apiKeyId: string;
  idempotencyKey?: string;
}

export class IdempotencyConflictError extends Error {
  constructor() {
    super('Idempotency-Key was already used with a different request');
    this.name = 'IdempotencyConflictError';
  }
}

export class IdempotencyInProgressError extends Error {
  constructor() {
    super('a request with this Idempotency-Key is still being processed; retry shortly');
    this.name = 'IdempotencyInProgressError';
  }
}

/** The chain tip height could not be read: nothing was created. */
export class ChainTipUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the chain API cannot be reached to read the tip height; try again shortly', { cause });
    this.name = 'ChainTipUnavailableError';
  }
}

export interface PaymentServiceOptions {
  repo: PaymentStore;
  counter: ReceiveIndexCounter;
  wallet: WalletAccount;
  /** Every address is checked for chain history before it is issued. */
  chain: Pick<ChainSource, 'addressTransactions'>;
  /** The chain tip height now: recorded as the payment's `createdAtHeight`. */
  currentHeight: () => Promise<number>;
  /** Unused addresses in a row that end the gap scan on an empty database (default 20). */
  gapLimit?: number;
  log?: IssuerLog;
  rates: RateProvider;
  limits: QuoteLimits;
  expiryMinutes: number;
  requiredConfirmations: number;
  now?: () => Date;
  /** How long a retry waits for the first request to finish before answering 409. */
  replayWaitMs?: number;
  /** After this long without an address, the first request is presumed dead and a retry finishes it. */
  staleAfterMs?: number;
}

/** The merchant list's filters: they combine. */
export type PaymentListFilter = Pick<
  PaymentSearch,
  'status' | 'userId' | 'orderId' | 'from' | 'to'
>;

export type { PaymentPage };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Idempotency keys belong to the API key that sent them: the stored scope is `<apiKeyId>:<key>`
 * (key ids hold no colon), so one merchant key can never replay another's payment.
 */
export function idempotencyScope(apiKeyId: string, idempotencyKey: string): string {
  return `${apiKeyId}:${idempotencyKey}`;
}

export function newPaymentId(): string {
  return `pay_${randomBytes(16).toString('base64url')}`;
}

export class PaymentService {
  private readonly now: () => Date;
  private readonly issuer: AddressIssuer;

  constructor(private readonly options: PaymentServiceOptions) {
    this.now = options.now ?? (() => new Date());
    this.issuer = new AddressIssuer({
      counter: options.counter,
      wallet: options.wallet,
      chain: options.chain,
      ...(options.gapLimit !== undefined && { gapLimit: options.gapLimit }),
      ...(options.log && { log: options.log }),
    });
  }

  async create(
    input: CreatePaymentInput,
    ctx: CreateContext,
  ): Promise<{ payment: IssuedPayment; replayed: boolean }> {
    const requestHash = createHash('sha256').update(canonicalJson(input)).digest('hex');
    const key = ctx.idempotencyKey;
    const scope = key === undefined ? undefined : idempotencyScope(ctx.apiKeyId, key);
    if (key !== undefined) {
      const existing = await this.findIdempotent(ctx.apiKeyId, key);
      if (existing) return { payment: await this.replay(existing, requestHash), replayed: true };
    }

    const problem = orderProblem(input);
    if (problem) throw new PaymentInputError(problem.field, problem.message);
    const quote = await quotePayment(input, this.options.limits, this.options.rates);
    let createdAtHeight: number;
    try {
      createdAtHeight = await this.options.currentHeight();
    } catch (err) {
      throw new ChainTipUnavailableError(err);
    }
    const now = this.now();
    const payment: Payment = {
      _id: newPaymentId(),
      userId: input.userId,
      ...initialTrackedState(),
      version: 0,
      outbox: [],
      network: this.options.wallet.network,
      amountSats: quote.amountSats,
      credits: quote.credits,
      price: quote.price,
      ...(quote.rate && { rate: quote.rate }),
      ...(quote.packageId !== undefined && { packageId: quote.packageId }),
      // The merchant's own words win; a package's description is the fallback.
      ...((input.description ?? quote.description) !== undefined && {
        description: input.description ?? quote.description,
      }),
      ...orderView(input),
      requiredConfirmations: this.options.requiredConfirmations,
      createdAt: now,
      createdAtHeight,
      expiresAt: new Date(now.getTime() + this.options.expiryMinutes * 60_000),
      createdBy: ctx.apiKeyId,
      ...(scope !== undefined && { idempotencyScope: scope }),
      requestHash,
      events: [
        { at: now, type: 'created', to: 'pending', cause: `created by API key ${ctx.apiKeyId}` },
      ],
    };
    try {
      await this.options.repo.insert(payment);
    } catch (err) {
      const duplicateOrder = err instanceof DuplicateOrderIdError;
      if (!(err instanceof DuplicateIdempotencyKeyError || duplicateOrder)) throw err;
      // A concurrent request with the same key won the insert (either unique index may say so).
      const winner = key === undefined ? null : await this.findIdempotent(ctx.apiKeyId, key);
      if (!winner) {
        if (duplicateOrder) throw new OrderIdTakenError(input.orderId ?? '');
        throw new IdempotencyConflictError();
      }
      return { payment: await this.replay(winner, requestHash), replayed: true };
    }
    try {
      return { payment: await this.issueAddress(payment), replayed: false };
    } catch (err) {
      // No address could be checked: drop the reservation so a retry starts afresh.
      if (err instanceof AddressCheckUnavailableError)
        await this.options.repo.discardUnissued(payment._id).catch(() => undefined);
      throw err;
    }
  }

  /** Whether this API key already sent `idempotencyKey` (its retry is a replay, not new work). */
  async hasIdempotent(apiKeyId: string, idempotencyKey: string): Promise<boolean> {
    return (await this.findIdempotent(apiKeyId, idempotencyKey)) !== null;
  }

  /**
   * The payment this API key made with `idempotencyKey`. Payments stored before keys were
   * scoped hold the bare key; they still answer their own creator's retries.
   */
  private async findIdempotent(apiKeyId: string, idempotencyKey: string): Promise<Payment | null> {
    const { repo } = this.options;
    const scoped = await repo.findByIdempotencyScope(idempotencyScope(apiKeyId, idempotencyKey));
    if (scoped) {
      // Only a legacy bare key that happens to look scoped can belong to another key id.
      if (scoped.createdBy !== apiKeyId) throw new IdempotencyConflictError();
      return scoped;
    }
    const legacy = await repo.findByIdempotencyScope(idempotencyKey);
    return legacy?.createdBy === apiKeyId ? legacy : null;
  }

  get(id: string): Promise<Payment | null> {
    return this.options.repo.findById(id);
  }

  /**
   * Notes that the payer is looking at the checkout (the watcher checks the mempool of watched
   * checkouts); written at most once per VIEW_THROTTLE_MS per payment.
   */
  async markViewed(payment: Payment): Promise<void> {
    const now = this.now();
    if (payment.lastViewedAt && now.getTime() - payment.lastViewedAt.getTime() < VIEW_THROTTLE_MS)
      return;
    await this.options.repo.markViewed(payment._id, now, VIEW_THROTTLE_MS);
  }

  /** The merchant's list: filters combine, newest first; `cursor` is a page's `nextCursor`. */
  list(filter: PaymentListFilter, limit: number, cursor?: string): Promise<PaymentPage> {
    return this.options.repo.search(filter, limit, cursor);
  }

  /**
   * Cancels an unpaid payment for the merchant (see cancellation.ts); cancelling again answers
   * the same. Null if there is no such payment.
   */
  async cancel(id: string, actor: string): Promise<IssuedPayment | null> {
    const { repo } = this.options;
    const outcome = await repo.applyDecided(id, (current) =>
      isIssued(current) ? cancelPayment(current, actor, this.now()) : null,
    );
    if (outcome === 'missing') return null;
    const payment = await repo.findById(id);
    return payment && isIssued(payment) ? payment : null;
  }

  private async issueAddress(payment: Payment): Promise<IssuedPayment> {
    const { wallet, repo } = this.options;
    for (let attempt = 0; attempt < 5; attempt++) {
      const { index, ...derived } = await this.issuer.next();
      const derivation = {
        index,
        path: derived.path,
        scriptType: wallet.scriptType,
        accountFingerprint: wallet.accountFingerprint,
        ...(wallet.masterFingerprint !== undefined && {
          masterFingerprint: wallet.masterFingerprint,
        }),
      };
      try {
        if (await repo.assignAddress(payment._id, derived.address, derivation)) {
          return { ...payment, address: derived.address, derivation };
        }
      } catch (err) {
        // The counter fell behind addresses already used (e.g. restored from an old backup):
        // the unique index refused the address; take the next index.
        if (err instanceof AddressTakenError) continue;
        throw err;
      }
      const current = await repo.findById(payment._id);
      if (current && isIssued(current)) return current;
    }
    throw new Error(`could not issue a fresh address for payment ${payment._id}`);
  }

  private async replay(existing: Payment, requestHash: string): Promise<IssuedPayment> {
    if (existing.requestHash !== requestHash) throw new IdempotencyConflictError();
    const waitMs = this.options.replayWaitMs ?? 5_000;
    const staleAfterMs = this.options.staleAfterMs ?? 30_000;
    const deadline = Date.now() + waitMs;
    let current: Payment | null = existing;
    while (current && !isIssued(current)) {
      if (this.now().getTime() - current.createdAt.getTime() > staleAfterMs)
        return this.issueAddress(current);
      if (Date.now() > deadline) throw new IdempotencyInProgressError();
      await sleep(20);
      current = await this.options.repo.findById(existing._id);
    }
    // The first request failed before issuing and dropped its reservation: retry afresh.
    if (!current) throw new IdempotencyInProgressError();
    return current;
  }
}
