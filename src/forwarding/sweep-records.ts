/**
 * Recording a sweep on its payments: broadcast (then the sweep is marked recorded) and confirmed.
 * Each payment takes the change through a version-guarded update, so a retry after a crash or a
 * failed write records nothing twice.
 */
import type { Payment } from '../payments/payment.js';
import { type PaymentChange, sweepBroadcast } from '../payments/sweep-recording.js';
import { failpoint } from './failpoints.js';
import type { ForwardingContext } from './forwarding-context.js';
import type { Sweep } from './sweep.js';

/** The payments whose coins `sweep` spends. */
export function paymentIdsOf(sweep: Sweep): string[] {
  return [...new Set(sweep.inputs.map((i) => i.paymentId))];
}

/** Records a broadcast on its payments (idempotent), then marks the sweep recorded. */
export async function recordBroadcast(ctx: ForwardingContext, sweep: Sweep): Promise<void> {
  const txid = sweep.txid;
  if (txid === undefined) return;
  const recorded = await recordOnPayments(ctx, sweep, (p) =>
    sweepBroadcast(
      p,
      { txid, destination: sweep.destination, replacement: sweep.bumpOf !== undefined },
      ctx.now(),
    ),
  );
  failpoint('after-sweep-recorded');
  if (!recorded) return; // retried by the next cycle's recovery
  await ctx.sweeps.markRecorded(sweep._id);
  failpoint('after-sweep-marked-recorded');
}

/** True when every payment took the change (or had nothing to record). */
export async function recordOnPayments(
  ctx: ForwardingContext,
  sweep: Sweep,
  decide: (payment: Payment) => PaymentChange | null,
): Promise<boolean> {
  let ok = true;
  for (const id of paymentIdsOf(sweep)) {
    if (id.startsWith('stray:')) continue;
    try {
      await ctx.repo.applySweepChange(id, decide);
    } catch (err) {
      ok = false;
      ctx.log.warn(
        { err, paymentId: id, sweepId: sweep._id },
        'recording the sweep on a payment failed; will retry',
      );
    }
  }
  return ok;
}
