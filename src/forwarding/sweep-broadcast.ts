/**
 * Broadcasting a stored signed sweep, and rebroadcasting one mempools forgot. Before either, the
 * transaction must pay the configured destination and its coins must be unspent (or spent by
 * its own family); a node's refusal keeps the claims and asks a human.
 */
import { BroadcastRejectedError } from '../chain/chain-source.js';
import { outpointKey } from '../chain/outpoint.js';
import { sweepNeedsReview } from '../payments/sweep-recording.js';
import { paysConfiguredDestination } from './destination-guard.js';
import { failpoint } from './failpoints.js';
import type { ForwardingContext } from './forwarding-context.js';
import { LIVE, SWEPT, type Sweep } from './sweep.js';
import { type InputSpend, inputSpendOf } from './sweep-family.js';
import { recordBroadcast } from './sweep-records.js';

/** Broadcasts a stored signed sweep and records it; true when it is out. */
export async function broadcast(ctx: ForwardingContext, sweep: Sweep): Promise<boolean> {
  const { chain, sweeps, log } = ctx;
  if (!sweep.hex || !sweep.txid) return false;
  if (!(await paysConfiguredDestination(ctx, sweep))) return false;
  const spend = await inputSpendOf(ctx.chain, ctx.sweeps, sweep);
  if (spend.kind === 'duplicate' || spend.kind === 'elsewhere') {
    await spentByOthers(ctx, sweep, spend);
    return false;
  }
  try {
    await chain.broadcast(sweep.hex);
  } catch (err) {
    if (err instanceof BroadcastRejectedError) {
      await reject(ctx, sweep, err.reason);
      return false;
    }
    // The chain API is down: the sweep stays signed and the next cycle broadcasts it.
    log.warn({ err, sweepId: sweep._id, txid: sweep.txid }, 'sweep broadcast failed; will retry');
    return false;
  }
  failpoint('after-sweep-broadcast');
  const height = ctx.tipHeight;
  await sweeps.transition(
    sweep._id,
    ['signed'],
    'broadcast',
    { broadcastAt: ctx.now(), ...(height !== undefined && { broadcastHeight: height }) },
    `broadcast${height !== undefined ? ` at height ${height}` : ''}`,
  );
  failpoint('after-sweep-marked-broadcast');
  if (sweep.bumpOf) {
    // The replacement is in charge of the coins now; the original stays tracked until one
    // of them confirms (a miner may still have the original).
    await sweeps.reassignClaims(sweep.inputs.map(outpointKey), sweep._id);
    await sweeps.annotate(
      sweep.bumpOf,
      { replacedBy: sweep._id },
      'bumped',
      `replacement ${sweep.txid} broadcast; both tracked until one confirms`,
    );
  }
  log.info(
    {
      sweepId: sweep._id,
      txid: sweep.txid,
      inputs: sweep.inputs.length,
      feeSats: sweep.feeSats,
      feeRate: sweep.feeRate,
      ...(sweep.bumpOf && { bumpOf: sweep.bumpOf }),
    },
    'sweep broadcast',
  );
  await recordBroadcast(ctx, sweep);
  return true;
}

/**
 * The coins are gone another way: never broadcast, never recorded as swept again. The claims
 * stay (no other sweep may try them); a duplicate hands them to the sweep that did spend them.
 */
async function spentByOthers(
  ctx: ForwardingContext,
  sweep: Sweep,
  spend: Extract<InputSpend, { kind: 'duplicate' | 'elsewhere' }>,
): Promise<void> {
  const { sweeps, repo, log } = ctx;
  if (spend.kind === 'duplicate') {
    const reason = `its coins were already swept by sweep ${spend.of._id} (${spend.of.txid ?? '?'})`;
    log.error({ sweepId: sweep._id, duplicateOf: spend.of._id }, `sweep not broadcast: ${reason}`);
    await sweeps.transition(sweep._id, LIVE, 'rejected', { error: reason }, reason);
    if (SWEPT.includes(spend.of.state))
      await sweeps.reassignClaims(sweep.inputs.map(outpointKey), spend.of._id);
    return;
  }
  const detail = spend.spends.map((s) => `${outpointKey(s.input)} by ${s.txid}`).join(', ');
  const reason = `coin spent elsewhere: ${detail}`;
  log.error(
    { sweepId: sweep._id, spends: detail },
    'sweep not broadcast: a coin was spent elsewhere',
  );
  await sweeps.transition(sweep._id, LIVE, 'rejected', { error: reason }, reason);
  for (const id of new Set(spend.spends.map((s) => s.input.paymentId))) {
    await repo.applySweepChange(id, (p) => sweepNeedsReview(p, 'coin spent elsewhere', ctx.now()));
  }
}

export async function rebroadcast(ctx: ForwardingContext, sweep: Sweep): Promise<void> {
  const spend = await inputSpendOf(ctx.chain, ctx.sweeps, sweep);
  if (spend.kind === 'duplicate' || spend.kind === 'elsewhere') {
    await spentByOthers(ctx, sweep, spend);
    return;
  }
  if (spend.kind === 'family') {
    // A replacement of it is out: not evicted but replaced; track it as such.
    await ctx.sweeps.annotate(
      sweep._id,
      { replacedBy: spend.by._id },
      'bumped',
      `spent by ${spend.by.txid ?? '?'}`,
    );
    return;
  }
  if (!(await paysConfiguredDestination(ctx, sweep))) return;
  try {
    await ctx.chain.broadcast(sweep.hex ?? '');
  } catch (err) {
    if (err instanceof BroadcastRejectedError) await reject(ctx, sweep, err.reason);
    else throw err;
  }
}

/** The node refused it for good: keep the claims (never risk a second sweep) and ask a human. */
async function reject(ctx: ForwardingContext, sweep: Sweep, reason: string): Promise<void> {
  const { sweeps, log } = ctx;
  if (sweep.bumpOf) {
    // A refused replacement (often: the original was mined first) leaves the original in
    // charge of the coins, and tracked again.
    await sweeps.reassignClaims(sweep.inputs.map(outpointKey), sweep.bumpOf);
    await sweeps.clearReplacedBy(sweep.bumpOf);
    await sweeps.transition(
      sweep.bumpOf,
      ['replaced'],
      'broadcast',
      {},
      `its replacement ${sweep.txid ?? ''} was refused`,
    );
  }
  await sweeps.transition(
    sweep._id,
    [sweep.state],
    'rejected',
    { error: reason },
    `rejected: ${reason}`,
  );
  log.error(
    { sweepId: sweep._id, txid: sweep.txid, reason },
    'sweep rejected by the node; retry it from the admin API once the cause is fixed',
  );
}
