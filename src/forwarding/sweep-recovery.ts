/**
 * Recovery: finishing what a crash or an outage interrupted. A sweep still `building` stored no
 * transaction, so nothing of it can be on the network: it is abandoned and its coins given back;
 * a `signed` one is broadcast (again); a broadcast not yet recorded on its payments is recorded.
 */
import type { ForwardReport, ForwardingContext } from './forwarding-context.js';
import type { Sweep } from './sweep.js';
import { broadcast } from './sweep-broadcast.js';
import { paymentIdsOf, recordBroadcast } from './sweep-records.js';

/** Finishes what a crash or an outage interrupted; `atStart`: the first cycle as leader. */
export async function recover(
  ctx: ForwardingContext,
  report: ForwardReport,
  atStart: boolean,
): Promise<void> {
  const { sweeps } = ctx;
  await abandonStale(ctx, atStart);
  // A crash between abandoning a sweep and releasing its claims.
  for (const sweep of await sweeps.abandonedWithClaims()) await releaseAbandoned(ctx, sweep);
  for (const sweep of await sweeps.inState('signed')) {
    if (await broadcast(ctx, sweep)) report.broadcast++;
  }
  // A crash between broadcasting and recording on the payments.
  for (const sweep of await sweeps.unrecorded()) await recordBroadcast(ctx, sweep);
}

/**
 * A sweep still `building` stored no transaction, so nothing of it can be on the network:
 * abandon it and give its coins back. Safe whoever built it, even if the builder still runs:
 * its next write (building → signed / awaiting_signature) is guarded and then fails.
 */
export async function abandonStale(ctx: ForwardingContext, all: boolean): Promise<void> {
  const { sweeps, settings } = ctx;
  const staleMs = settings.staleBuildSeconds * 1000;
  for (const sweep of await sweeps.inState('building')) {
    const age = ctx.now().getTime() - sweep.createdAt.getTime();
    if (!all && age < staleMs) continue;
    const cause = all
      ? 'abandoned at start by the leader: its builder stopped before storing a transaction'
      : `still building after ${settings.staleBuildSeconds} s: its builder stopped before storing a transaction`;
    if (
      !(await sweeps.transition(
        sweep._id,
        ['building'],
        'abandoned',
        { claimsReleased: false },
        cause,
      ))
    )
      continue;
    ctx.log.warn(
      { sweepId: sweep._id, inputs: sweep.inputs.length },
      'stranded sweep abandoned; its coins are swept again',
    );
    await releaseAbandoned(ctx, sweep);
  }
}

async function releaseAbandoned(ctx: ForwardingContext, sweep: Sweep): Promise<void> {
  const { sweeps, repo } = ctx;
  if (sweep.bumpOf) {
    // The original keeps (or gets back) the coins; older versions moved them at creation.
    await sweeps.transferClaims(sweep._id, sweep.bumpOf);
  } else {
    await sweeps.releaseClaims(sweep._id);
    await repo.reopenSweep(paymentIdsOf(sweep));
  }
  await sweeps.markClaimsReleased(sweep._id);
}

/** An admin retries `paymentId`: its rejected sweeps are abandoned and their coins given back. */
export async function retryRejected(ctx: ForwardingContext, paymentId: string): Promise<void> {
  const { sweeps, repo } = ctx;
  for (const rejected of await sweeps.inState('rejected')) {
    if (!rejected.inputs.some((i) => i.paymentId === paymentId)) continue;
    if (
      await sweeps.transition(
        rejected._id,
        ['rejected'],
        'abandoned',
        { claimsReleased: false },
        'retried by an admin',
      )
    ) {
      await sweeps.releaseClaims(rejected._id);
      await repo.reopenSweep(paymentIdsOf(rejected));
      await sweeps.markClaimsReleased(rejected._id);
    }
  }
}
