/**
 * Tracking broadcast sweeps, once per new block: a confirmed one settles its fee-bump family, a
 * vanished one is broadcast again, a slow one gets a replacement at a higher fee.
 */
import { outpointKey } from '../chain/outpoint.js';
import { sweepConfirmed } from '../payments/sweep-recording.js';
import type { ForwardReport, ForwardingContext } from './forwarding-context.js';
import { LIVE, type Sweep } from './sweep.js';
import { rebroadcast } from './sweep-broadcast.js';
import { bump } from './sweep-builder.js';
import { bumpPending, familyOf } from './sweep-family.js';
import { recordOnPayments } from './sweep-records.js';

/** Confirmations of broadcast sweeps; vanished ones rebroadcast; slow ones fee-bumped. */
export async function track(
  ctx: ForwardingContext,
  tipHeight: number,
  report: ForwardReport,
): Promise<void> {
  const { chain, sweeps, settings } = ctx;
  for (const sweep of await sweeps.inState('broadcast')) {
    if (!sweep.txid || !sweep.hex) continue;
    const status = await chain.transactionStatus(sweep.txid);
    if (status.confirmed) {
      await settleFamily(ctx, sweep, status.blockHeight, status.blockHash);
      report.confirmed++;
      continue;
    }
    // Superseded by a broadcast replacement: only its confirmation (a miner's choice) matters.
    if (sweep.replacedBy) continue;
    if (sweep.broadcastHeight === undefined) {
      await sweeps.annotate(
        sweep._id,
        { broadcastHeight: tipHeight },
        'tracked',
        `tracked from height ${tipHeight}`,
      );
      continue;
    }
    if (!(await chain.transaction(sweep.txid))) {
      // Evicted from mempools (or reorged out): the same transaction again.
      await rebroadcast(ctx, sweep);
      continue;
    }
    const waited = tipHeight - sweep.broadcastHeight;
    if (waited >= settings.bumpAfterBlocks && !(await bumpPending(ctx.sweeps, sweep))) {
      if (await bump(ctx, sweep)) report.bumped++;
    }
  }
}

/** `winner` confirmed: it is the family's sweep; every other live member ends `replaced`. */
async function settleFamily(
  ctx: ForwardingContext,
  winner: Sweep,
  blockHeight?: number,
  blockHash?: string,
): Promise<void> {
  const { sweeps, log } = ctx;
  const txid = winner.txid ?? '';
  await sweeps.transition(
    winner._id,
    ['broadcast'],
    'confirmed',
    {
      ...(blockHeight !== undefined && { confirmedHeight: blockHeight }),
      ...(blockHash !== undefined && { confirmedBlockHash: blockHash }),
    },
    `confirmed in block ${blockHeight ?? '?'}`,
  );
  for (const other of await familyOf(sweeps, winner)) {
    if (!LIVE.includes(other.state)) continue;
    await sweeps.transition(
      other._id,
      [other.state],
      'replaced',
      { replacedBy: winner._id },
      `${txid} confirmed instead`,
    );
  }
  await sweeps.reassignClaims(winner.inputs.map(outpointKey), winner._id);
  log.info({ sweepId: winner._id, txid, blockHeight }, 'sweep confirmed');
  await recordOnPayments(ctx, winner, (p) => sweepConfirmed(p, txid, blockHeight, ctx.now()));
}
