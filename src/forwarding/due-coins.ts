/**
 * Which coins are due for a sweep: confirmed outputs of credited payments (and of unpaid ones
 * whose window closed), unclaimed by another sweep. On the way, claims an abandoned sweep still
 * holds are released, and payments whose every coin is swept are closed.
 */
import { outpointKey } from '../chain/outpoint.js';
import type { IssuedPayment } from '../payments/payment.js';
import { confirmationsOf } from '../payments/state-machine.js';
import { sweepKindOf } from '../payments/sweep-recording.js';
import type { ForwardingContext } from './forwarding-context.js';
import { SWEPT, type SweepInputRecord, type SweepState } from './sweep.js';

/**
 * Outputs of payments whose coins may be swept now (credited; unpaid ones after their
 * window), confirmed enough and unclaimed, oldest payments first, at most a sweep's worth.
 */
export async function dueInputs(
  ctx: ForwardingContext,
  tipHeight: number,
  onlyPaymentId?: string,
): Promise<SweepInputRecord[]> {
  const { repo, sweeps, settings } = ctx;
  const payments = (await repo.listForwardable(onlyPaymentId)).filter(
    (p) => sweepKindOf(p) !== undefined,
  );
  const candidates: SweepInputRecord[] = [];
  for (const payment of payments) {
    const needed = Math.max(settings.minConfirmations, payment.requiredConfirmations);
    for (const output of payment.outputs) {
      if (confirmationsOf(output, tipHeight) < needed) continue;
      candidates.push({
        paymentId: payment._id,
        txid: output.txid,
        vout: output.vout,
        valueSats: output.valueSats,
        scriptType: payment.derivation.scriptType,
        index: payment.derivation.index,
      });
    }
  }
  const owners = await sweeps.claimOwners(payments.flatMap((p) => p.outputs.map(outpointKey)));
  const states = await sweeps.statesOf([...new Set(owners.values())]);
  await releaseOrphanClaims(ctx, owners, states);
  await closeFinished(ctx, payments, owners, states);
  return candidates.filter((c) => !owners.has(outpointKey(c))).slice(0, settings.maxInputsPerSweep);
}

/**
 * Claims an abandoned sweep still holds: its builder claimed after the sweep was abandoned
 * (it saw that at its next write and stopped) or died before releasing them. They go back,
 * and the coins are due again.
 */
async function releaseOrphanClaims(
  ctx: ForwardingContext,
  owners: Map<string, string>,
  states: Map<string, SweepState>,
): Promise<void> {
  for (const owner of new Set(owners.values())) {
    if (states.get(owner) !== 'abandoned') continue;
    ctx.log.warn({ sweepId: owner }, 'claims of an abandoned sweep released');
    await ctx.sweeps.releaseClaims(owner);
    for (const [key, id] of owners) if (id === owner) owners.delete(key);
  }
}

/**
 * A payment no longer watched is done once every output is in a broadcast or confirmed
 * sweep. Claimed is not enough: a claim of a sweep still building may be given back.
 */
async function closeFinished(
  ctx: ForwardingContext,
  payments: IssuedPayment[],
  owners: Map<string, string>,
  states: Map<string, SweepState>,
): Promise<void> {
  const swept = (key: string) => {
    const owner = owners.get(key);
    const state = owner === undefined ? undefined : states.get(owner);
    return state !== undefined && SWEPT.includes(state);
  };
  for (const p of payments) {
    if (!p.watching && p.outputs.length > 0 && p.outputs.every((o) => swept(outpointKey(o)))) {
      await ctx.repo.markSweepDone(p._id);
    }
  }
}
