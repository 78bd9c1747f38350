/**
 * Nothing is signed or broadcast to a destination the configuration does not give: the expected
 * destination of a sweep always comes from cold-destination.ts, never from its stored record.
 */
import { DestinationMismatchError } from './cold-destination.js';
import type { ForwardingContext } from './forwarding-context.js';
import type { Sweep } from './sweep.js';
import { SweepError } from './tx/sweep-error.js';
import { checkSignedPaysOnly } from './tx/verify.js';

/** The configured destination of `sweep`; a mismatch is recorded on it and rethrown. */
export async function expectedDestination(ctx: ForwardingContext, sweep: Sweep): Promise<string> {
  try {
    return await ctx.cold.expectedFor(sweep);
  } catch (err) {
    if (err instanceof DestinationMismatchError) await refuseDestination(ctx, sweep, err.message);
    throw err;
  }
}

/**
 * Nothing is signed or broadcast to a destination the configuration does not give: a sweep
 * not yet out is rejected (its claims kept: an admin looks); a broadcast one just notes it.
 */
export async function refuseDestination(
  ctx: ForwardingContext,
  sweep: Sweep,
  reason: string,
): Promise<void> {
  const { sweeps, log } = ctx;
  log.error(
    { sweepId: sweep._id, destination: sweep.destination, reason },
    'sweep refused: its destination is not the configured cold destination',
  );
  const cause = `refused: ${reason}`;
  if (['building', 'awaiting_signature', 'signed'].includes(sweep.state)) {
    const rejected = await sweeps.transition(
      sweep._id,
      [sweep.state],
      'rejected',
      { error: reason },
      cause,
    );
    if (rejected) return;
  }
  // Once per reason: tracking retries every block, the record says it once.
  if (sweep.events.at(-1)?.cause !== cause) {
    await sweeps.annotate(sweep._id, {}, 'destination_refused', cause);
  }
}

/** The stored transaction pays the configured destination (else it is refused). */
export async function paysConfiguredDestination(
  ctx: ForwardingContext,
  sweep: Sweep,
): Promise<boolean> {
  try {
    const expected = await ctx.cold.expectedFor(sweep);
    checkSignedPaysOnly(sweep.hex ?? '', expected, ctx.network);
    return true;
  } catch (err) {
    if (err instanceof DestinationMismatchError || err instanceof SweepError) {
      await refuseDestination(ctx, sweep, err.message);
      return false;
    }
    throw err;
  }
}
