/**
 * Settlement: what happens to a payment once the chain has been read. Due credits are applied to
 * the ledger (exactly once: the ledger's operation id is the payment's, and marking the credit
 * done is a version-guarded transition), webhook events written with payment changes are copied
 * into the webhook outbox, and the admin's two actions ("check now", "confirm by hand") run the
 * same steps for one payment. Used by the watcher's cycle, the admin routes and `satwatch rescan`.
 */
import type { LedgerStore } from '../ledger/ledger.js';
import { creditApplied, ledgerCreditFor } from '../payments/crediting.js';
import { confirmManually } from '../payments/manual-confirmation.js';
import { type IssuedPayment, isIssued } from '../payments/payment.js';
import { type ViewContext, merchantView } from '../payments/views.js';
import type { PaymentStore } from '../payments/payment-store.js';
import type { OutboxWriter } from '../webhooks/ports.js';
import { AlreadyCreditedError, PaymentNotFoundError } from './settlement-errors.js';

export { AlreadyCreditedError, PaymentNotFoundError } from './settlement-errors.js';

/** Re-reads the chain for one payment and applies the normal rules (the watcher's address check). */
export interface PaymentCheck {
  tipHeight(): Promise<number>;
  check(payment: IssuedPayment, tipHeight: number): Promise<'unchanged' | 'changed'>;
}

/** What settlement writes to the log (pino's shape). */
export interface SettlementLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SettlementDeps {
  repo: PaymentStore;
  ledger: Pick<LedgerStore, 'creditPayment'>;
  outbox: OutboxWriter;
  view: ViewContext;
  /** The admin's "check now"; absent where nobody checks (the settlement steps still run). */
  check?: PaymentCheck;
  log: SettlementLog;
  now?: () => Date;
}

export class Settlement {
  private readonly now: () => Date;

  constructor(private readonly deps: SettlementDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Applies due credits to the ledger (exactly once per payment) and marks them done. */
  async creditDue(onlyId?: string): Promise<{ credited: number; errors: number }> {
    const { repo, ledger, log } = this.deps;
    const due = await repo.listCreditDue(onlyId);
    let credited = 0;
    let errors = 0;
    for (const payment of due) {
      const credit = payment.credit;
      if (credit?.state !== 'due') continue;
      try {
        let entryId = 'none (0 credits)';
        if (credit.credits > 0) {
          const { entry } = await ledger.creditPayment(ledgerCreditFor(payment, credit));
          entryId = entry._id;
        }
        const outcome = await repo.applyDecided(payment._id, (p) =>
          creditApplied(p, entryId, this.now()),
        );
        if (outcome === 'changed') {
          credited++;
          log.info(
            { paymentId: payment._id, userId: payment.userId, credits: credit.credits, entryId },
            'payment credited',
          );
        }
      } catch (err) {
        errors++;
        log.error({ err, paymentId: payment._id }, 'crediting failed; will retry next cycle');
      }
    }
    return { credited, errors };
  }

  /** Copies webhook events written with payment changes into the webhook outbox (idempotent). */
  async publishOutbox(onlyId?: string): Promise<number> {
    const { repo, outbox, view, log } = this.deps;
    const payments = await repo.listWithOutbox(onlyId);
    let published = 0;
    for (const payment of payments) {
      if (!isIssued(payment)) continue;
      for (const ref of payment.outbox) {
        try {
          await outbox.enqueue({
            id: ref.id,
            type: ref.type,
            paymentId: payment._id,
            data: { payment: merchantView(payment, view) },
          });
          await repo.removeFromOutbox(payment._id, ref.id);
          published++;
        } catch (err) {
          log.warn(
            { err, paymentId: payment._id, event: ref.id },
            'publishing a webhook failed; will retry',
          );
        }
      }
    }
    return published;
  }

  /** An admin's "check now": re-reads the chain for one payment and applies the normal rules. */
  async checkNow(id: string): Promise<IssuedPayment> {
    const payment = await this.issued(id);
    const { check } = this.deps;
    if (check) await check.check(payment, await check.tipHeight()); // lost races retried inside
    await this.settle(id);
    return this.issued(id);
  }

  /** An admin's forced confirmation: credits regardless of the chain, recorded as manual. */
  async confirmManually(id: string, adminId: string, reason: string): Promise<IssuedPayment> {
    const payment = await this.issued(id);
    if (payment.credit) throw new AlreadyCreditedError(id);
    await this.deps.repo.applyDecided(
      id,
      (p) => confirmManually(p, { adminId, reason }, this.now()),
      5,
    );
    await this.settle(id);
    const done = await this.issued(id);
    if (!done.manual) throw new AlreadyCreditedError(id); // the watcher credited it in between
    return done;
  }

  private async settle(id: string): Promise<void> {
    await this.creditDue(id);
    await this.publishOutbox(id);
  }

  private async issued(id: string): Promise<IssuedPayment> {
    const payment = await this.deps.repo.findById(id);
    if (!payment || !isIssued(payment)) throw new PaymentNotFoundError(id);
    return payment;
  }
}
