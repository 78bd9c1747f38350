/**
 * Every change the watcher makes to a payment goes through here: an edit of its stored outputs
 * (a block confirmed one, a reorg unconfirmed one, the mempool showed a new one, a double spend
 * removed one, or none at all when only the height moved), then `evaluatePayment` on the result,
 * then the version-guarded write. On a lost race the payment is read again and the same edit
 * re-applied, so an edit is idempotent and never lost to a concurrent writer.
 */
import type { ChainTransaction } from '../chain/chain-source.js';
import type { IssuedPayment, Payment } from '../payments/payment.js';
import {
  type PaidOutput,
  type PaymentTerms,
  type Policy,
  type TrackedState,
  evaluatePayment,
} from '../payments/state-machine.js';
import type { PaymentStore } from '../payments/payment-store.js';
import type { WatcherLog } from './watcher-log.js';

/** An output as the chain shows it now; `firstSeenAt` and `late` are kept from the stored one. */
export interface ObservedOutput {
  txid: string;
  vout: number;
  valueSats: number;
  signalsRbf: boolean;
  blockHeight?: number | undefined;
  blockHash?: string | undefined;
  spends?: string[] | undefined;
}

/** The outputs the payment has after the change, from the ones it has now. */
export type OutputEdit = (outputs: readonly PaidOutput[]) => ObservedOutput[];

export const keepOutputs: OutputEdit = (outputs) => [...outputs];

/** A payment could not be written after repeated lost races; the step is retried next cycle. */
export class PaymentWriteConflictError extends Error {
  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} kept changing under the watcher`);
    this.name = 'PaymentWriteConflictError';
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
    ...(payment.createdAtHeight !== undefined && { createdAtHeight: payment.createdAtHeight }),
  };
}

function parseOutpoint(key: string): { txid: string; vout: number } {
  const at = key.lastIndexOf(':');
  return { txid: key.slice(0, at), vout: Number(key.slice(at + 1)) };
}

/** The transactions the state machine expects, rebuilt from a payment's outputs. */
export function transactionsOf(address: string, outputs: ObservedOutput[]): ChainTransaction[] {
  const byTxid = new Map<string, ChainTransaction>();
  for (const o of outputs) {
    let tx = byTxid.get(o.txid);
    if (!tx) {
      const confirmed = o.blockHeight !== undefined;
      tx = {
        txid: o.txid,
        status: confirmed
          ? {
              confirmed: true,
              blockHeight: o.blockHeight,
              ...(o.blockHash !== undefined && { blockHash: o.blockHash }),
            }
          : { confirmed: false },
        outputs: [],
        spends: confirmed ? [] : (o.spends ?? []).map(parseOutpoint),
        signalsRbf: o.signalsRbf,
      };
      byTxid.set(o.txid, tx);
    }
    if (!tx.outputs.some((x) => x.vout === o.vout))
      tx.outputs.push({ vout: o.vout, address, script: '', valueSats: o.valueSats });
  }
  return [...byTxid.values()];
}

export interface UpdateOptions {
  /**
   * Evaluate at exactly this height (after a reorg lowered the chain); otherwise at least the
   * height the payment was last evaluated at, so a scanner running behind never lowers a count.
   */
  force?: boolean;
}

export interface PaymentUpdaterDeps {
  repo: PaymentStore;
  policy: Policy;
  log: WatcherLog;
  now: () => Date;
}

export type UpdateOutcome = 'unchanged' | 'changed';

export class PaymentUpdater {
  constructor(private readonly deps: PaymentUpdaterDeps) {}

  /**
   * Applies `edit` to the payment and evaluates it at `height`; writes only when something
   * changed. `payment` is the copy already read (saves a read); lost races re-read it.
   */
  async update(
    payment: IssuedPayment,
    edit: OutputEdit,
    height: number,
    options: UpdateOptions = {},
  ): Promise<UpdateOutcome> {
    let current: IssuedPayment | null = payment;
    for (let attempt = 0; attempt < 6; attempt++) {
      if (!current) return 'unchanged';
      const outcome = await this.tryUpdate(current, edit, height, options);
      if (outcome !== 'conflict') return outcome;
      current = (await this.deps.repo.findById(payment._id)) as IssuedPayment | null;
    }
    throw new PaymentWriteConflictError(payment._id);
  }

  private async tryUpdate(
    payment: IssuedPayment,
    edit: OutputEdit,
    height: number,
    options: UpdateOptions,
  ): Promise<UpdateOutcome | 'conflict'> {
    const outputs = edit(payment.outputs);
    const highestOutput = Math.max(-1, ...outputs.map((o) => o.blockHeight ?? -1));
    const tipHeight = options.force
      ? Math.max(height, highestOutput)
      : Math.max(height, highestOutput, payment.evaluatedHeight ?? -1);
    const now = this.deps.now();
    const evaluation = evaluatePayment(
      termsOf(payment),
      trackedStateOf(payment),
      { tipHeight, transactions: transactionsOf(payment.address, outputs), now },
      this.deps.policy,
    );
    if (!evaluation.changed && (!options.force || payment.evaluatedHeight === tipHeight))
      return 'unchanged';
    const { next, events, webhooks } = evaluation;
    const updated = await this.deps.repo.applyChange(payment, {
      next: { ...next, lastCheckedAt: now, evaluatedHeight: tipHeight },
      events,
      webhooks,
    });
    if (!updated) return 'conflict';
    for (const event of evaluation.events) {
      this.deps.log.info(
        { paymentId: payment._id, event: event.type, cause: event.cause },
        'payment event',
      );
    }
    return 'changed';
  }
}

/** Runs `worker` over `items` with at most `limit` at a time. */
export async function forEachLimit<T>(
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
