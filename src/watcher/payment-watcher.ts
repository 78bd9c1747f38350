/**
 * One watcher cycle: read the tip, re-evaluate every watched payment against the chain, credit
 * newly confirmed payments, sweep to the cold wallet, publish webhooks to the outbox. Every write is guarded
 * (payment version, credit state, ledger operation id), so two cycles running at once — two
 * replicas, or an admin racing the watcher — change nothing twice. One payment or chain call
 * failing never stops the others.
 */
import type { ChainSource } from '../chain/chain-source.js';
import type { ForwardReport, Forwarder } from '../forwarding/forwarder.js';
import type { Ledger } from '../ledger/ledger.js';
import type { IssuedPayment, OutboxRef, Payment, ViewContext } from '../payments/payment.js';
import { isIssued, merchantView } from '../payments/payment.js';
import {
  type CreditDue,
  type PaymentTerms,
  type Policy,
  type TrackedState,
  type WebhookType,
  evaluatePayment,
} from '../payments/state-machine.js';
import type { PaymentRepository } from '../storage/payments.js';
import type { WebhookDispatcher } from '../webhooks/dispatcher.js';
import type { WebhookOutbox } from '../webhooks/outbox.js';

export interface WatcherLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WatcherDeps {
  repo: PaymentRepository;
  chain: ChainSource;
  ledger: Ledger;
  outbox: WebhookOutbox;
  /** Absent when no webhook URL is configured: events still go to the outbox. */
  dispatcher?: WebhookDispatcher;
  /** Absent when forwarding is off. */
  forwarder?: Forwarder;
  policy: Policy;
  view: ViewContext;
  concurrency: number;
  log: WatcherLog;
  now?: () => Date;
  /** Told about every finished cycle (metrics). Must not throw. */
  onCycle?: (report: CycleReport) => void;
  /** Told about a cycle that threw (e.g. MongoDB unreachable) after `durationMs`. Must not throw. */
  onCycleFailed?: (durationMs: number) => void;
}

export interface CycleReport {
  tipHeight: number | null;
  checked: number;
  changed: number;
  conflicts: number;
  credited: number;
  published: number;
  forwarding: ForwardReport | null;
  errors: number;
  durationMs: number;
}

export class AlreadyCreditedError extends Error {
  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} is already credited`);
    this.name = 'AlreadyCreditedError';
  }
}

export class PaymentNotFoundError extends Error {
  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} not found`);
    this.name = 'PaymentNotFoundError';
  }
}

const TRACKED_KEYS = [
  'status',
  'outputs',
  'receivedSats',
  'confirmedSats',
  'confirmations',
  'late',
  'overpaidSats',
  'manual',
  'needsReview',
  'reviewReasons',
  'credit',
  'watching',
] as const satisfies readonly (keyof TrackedState)[];

export function trackedStateOf(payment: Payment): TrackedState {
  const state: Record<string, unknown> = {};
  for (const key of TRACKED_KEYS) if (payment[key] !== undefined) state[key] = payment[key];
  return state as unknown as TrackedState;
}

export function termsOf(payment: IssuedPayment): PaymentTerms {
  return {
    address: payment.address,
    amountSats: payment.amountSats,
    credits: payment.credits,
    requiredConfirmations: payment.requiredConfirmations,
    expiresAt: payment.expiresAt,
  };
}

/** Runs `worker` over `items` with at most `limit` at a time. */
async function forEachLimit<T>(
  items: T[],
  limit: number,
  worker: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) await worker(items[i] as T);
    }),
  );
}

export class PaymentWatcher {
  private readonly now: () => Date;

  constructor(private readonly deps: WatcherDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async runCycle(): Promise<CycleReport> {
    const started = performance.now();
    let report: CycleReport;
    try {
      report = await this.cycle(started);
    } catch (err) {
      this.deps.onCycleFailed?.(performance.now() - started);
      throw err;
    }
    this.deps.onCycle?.(report);
    return report;
  }

  private async cycle(started: number): Promise<CycleReport> {
    const { log } = this.deps;
    const report: CycleReport = {
      tipHeight: null,
      checked: 0,
      changed: 0,
      conflicts: 0,
      credited: 0,
      published: 0,
      forwarding: null,
      errors: 0,
      durationMs: 0,
    };
    try {
      report.tipHeight = (await this.deps.chain.tip()).height;
    } catch (err) {
      report.errors++;
      log.warn({ err }, 'chain tip unavailable; skipping payment checks this cycle');
    }
    if (report.tipHeight !== null) {
      const tipHeight = report.tipHeight;
      const payments = await this.deps.repo.listWatching();
      await forEachLimit(payments, this.deps.concurrency, async (payment) => {
        try {
          const outcome = await this.check(payment, tipHeight);
          report.checked++;
          if (outcome === 'changed') report.changed++;
          if (outcome === 'conflict') report.conflicts++;
        } catch (err) {
          report.errors++;
          log.warn({ err, paymentId: payment._id }, 'payment check failed; will retry next cycle');
        }
      });
    }
    const credit = await this.creditDue();
    report.credited = credit.credited;
    report.errors += credit.errors;
    if (this.deps.forwarder && report.tipHeight !== null) {
      report.forwarding = await this.deps.forwarder.runCycle(report.tipHeight, { newBlock: true });
      report.errors += report.forwarding.errors;
    }
    report.published = await this.publishOutbox();
    report.durationMs = Math.round(performance.now() - started);
    log.info({ ...report }, 'watcher cycle done');
    return report;
  }

  /**
   * Sends due webhooks. Not part of the cycle, so a slow receiver never delays crediting; every
   * replica may run it (claims are atomic), leader or not.
   */
  async deliverWebhooks(): Promise<{ delivered: number; retrying: number; failed: number }> {
    if (!this.deps.dispatcher) return { delivered: 0, retrying: 0, failed: 0 };
    return this.deps.dispatcher.deliverDue();
  }

  /** Re-evaluates one payment against the chain; writes only if something changed. */
  async check(
    payment: IssuedPayment,
    tipHeight: number,
  ): Promise<'unchanged' | 'changed' | 'conflict'> {
    const transactions = await this.deps.chain.addressTransactions(payment.address);
    const now = this.now();
    const evaluation = evaluatePayment(
      termsOf(payment),
      trackedStateOf(payment),
      { tipHeight, transactions, now },
      this.deps.policy,
    );
    if (!evaluation.changed) return 'unchanged';
    const outbox = this.outboxRefs(payment, evaluation.webhooks);
    const updated = await this.deps.repo.applyTrackedState(
      payment,
      evaluation.next,
      evaluation.events,
      outbox,
      now,
    );
    if (!updated) return 'conflict';
    for (const event of evaluation.events) {
      this.deps.log.info(
        { paymentId: payment._id, event: event.type, cause: event.cause },
        'payment event',
      );
    }
    return 'changed';
  }

  /** An admin's "check now": re-reads the chain for one payment and applies the normal rules. */
  async checkNow(id: string): Promise<IssuedPayment> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const payment = await this.deps.repo.findById(id);
      if (!payment || !isIssued(payment)) throw new PaymentNotFoundError(id);
      const { height } = await this.deps.chain.tip();
      if ((await this.check(payment, height)) !== 'conflict') break;
    }
    await this.creditDue(id);
    await this.publishOutbox(id);
    return this.issued(id);
  }

  /** An admin's forced confirmation: credits regardless of the chain, recorded as manual. */
  async confirmManually(id: string, adminId: string, reason: string): Promise<IssuedPayment> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const payment = await this.issued(id);
      if (payment.credit) throw new AlreadyCreditedError(id);
      const now = this.now();
      const credit: CreditDue = {
        state: 'due',
        credits: payment.credits,
        basisSats: payment.confirmedSats,
        dueAt: now,
        manual: { by: adminId, reason },
      };
      const event = {
        at: now,
        type: 'manual_confirm',
        from: payment.status,
        to: 'confirmed' as const,
        actor: adminId,
        cause: `confirmed by admin ${adminId}: ${reason}`,
      };
      const outbox = this.outboxRefs(payment, ['payment.manually_confirmed', 'payment.confirmed']);
      if (await this.deps.repo.forceConfirm(payment, credit, event, outbox)) break;
    }
    await this.creditDue(id);
    await this.publishOutbox(id);
    const done = await this.issued(id);
    if (!done.manual) throw new AlreadyCreditedError(id); // the watcher credited it in between
    return done;
  }

  /** Applies due credits to the ledger (exactly once per payment) and marks them done. */
  async creditDue(onlyId?: string): Promise<{ credited: number; errors: number }> {
    const due = await this.deps.repo.listCreditDue(onlyId);
    let credited = 0;
    let errors = 0;
    for (const payment of due) {
      const credit = payment.credit;
      if (credit?.state !== 'due') continue;
      try {
        let entryId = 'none (0 credits)';
        if (credit.credits > 0) {
          const { entry } = await this.deps.ledger.creditPayment({
            paymentId: payment._id,
            userId: payment.userId,
            credits: credit.credits,
            reason: credit.manual
              ? `manual confirmation: ${credit.manual.reason}`
              : `payment ${payment._id}`,
            ...(credit.manual && { actor: credit.manual.by }),
          });
          entryId = entry._id;
        }
        if (await this.deps.repo.markCreditDone(payment._id, entryId, this.now())) {
          credited++;
          this.deps.log.info(
            { paymentId: payment._id, userId: payment.userId, credits: credit.credits, entryId },
            'payment credited',
          );
        }
      } catch (err) {
        errors++;
        this.deps.log.error(
          { err, paymentId: payment._id },
          'crediting failed; will retry next cycle',
        );
      }
    }
    return { credited, errors };
  }

  /** Copies webhook events written with payment changes into the webhook outbox (idempotent). */
  async publishOutbox(onlyId?: string): Promise<number> {
    const payments = await this.deps.repo.listWithOutbox(onlyId);
    let published = 0;
    for (const payment of payments) {
      if (!isIssued(payment)) continue;
      for (const ref of payment.outbox) {
        try {
          await this.deps.outbox.enqueue({
            id: ref.id,
            type: ref.type,
            paymentId: payment._id,
            data: { payment: merchantView(payment, this.deps.view) },
          });
          await this.deps.repo.removeFromOutbox(payment._id, ref.id);
          published++;
        } catch (err) {
          this.deps.log.warn(
            { err, paymentId: payment._id, event: ref.id },
            'publishing a webhook failed; will retry',
          );
        }
      }
    }
    return published;
  }

  private outboxRefs(payment: Payment, types: WebhookType[]): OutboxRef[] {
    // Deterministic ids: the same transition can only ever produce the same event.
    return types.map((type) => ({ id: `${payment._id}:${payment.version + 1}:${type}`, type }));
  }

  private async issued(id: string): Promise<IssuedPayment> {
    const payment = await this.deps.repo.findById(id);
    if (!payment || !isIssued(payment)) throw new PaymentNotFoundError(id);
    return payment;
  }
}
