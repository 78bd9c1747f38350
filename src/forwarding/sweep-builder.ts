/**
 * Building a sweep: plan it (fee rate from the chain's estimates), store it `building`, claim its
 * coins, then store the PSBT (psbt mode) or the signed transaction (sign mode) before any
 * broadcast. Also the BIP125 fee bump of a sweep that stays unconfirmed.
 */
import { randomBytes } from 'node:crypto';
import { DestinationMismatchError } from './cold-destination.js';
import { expectedDestination } from './destination-guard.js';
import { failpoint } from './failpoints.js';
import { type ForwardingContext, modeOf } from './forwarding-context.js';
import type { Sweep, SweepInputRecord } from './sweep.js';
import { broadcast } from './sweep-broadcast.js';
import { chooseFeeRate } from './tx/fee-rate.js';
import { type SweepPlan, planReplacement, planSweep } from './tx/plan.js';
import { buildSweepPsbt } from './tx/psbt.js';
import type { SweepAccount } from './tx/scripts.js';
import { signSweep } from './tx/sign.js';
import { SweepError } from './tx/sweep-error.js';

type NewSweepFields = Pick<Sweep, 'inputs' | 'destination' | 'destinationIndex' | 'bumpOf'> &
  ReturnType<typeof amountsOf>;

/** A sweep record in its first state, `building` (nothing stored to broadcast yet). */
function newSweep(ctx: ForwardingContext, fields: NewSweepFields, cause: string): Sweep {
  return {
    _id: `swp_${randomBytes(12).toString('base64url')}`,
    state: 'building',
    mode: modeOf(ctx),
    ...fields,
    createdAt: ctx.now(),
    updatedAt: ctx.now(),
    events: [{ at: ctx.now(), type: 'building', cause }],
  };
}

function amountsOf(plan: SweepPlan): Pick<Sweep, 'feeRate' | 'vsize' | 'feeSats' | 'valueOutSats'> {
  return {
    feeRate: plan.feeRate,
    vsize: plan.vsize,
    feeSats: plan.feeSats,
    valueOutSats: plan.valueOutSats,
  };
}

/** The plan a stored sweep was built from, paying `destination` (the configured one). */
export function planOf(sweep: Sweep, destination = sweep.destination): SweepPlan {
  return {
    inputs: sweep.inputs.map(({ txid, vout, valueSats, scriptType, index }) => ({
      txid,
      vout,
      valueSats,
      scriptType,
      index,
    })),
    destination,
    feeRate: sweep.feeRate,
    vsize: sweep.vsize,
    feeSats: sweep.feeSats,
    valueOutSats: sweep.valueOutSats,
  };
}

/** Sweeps the given coins in one transaction (at most maxInputsPerSweep of them). */
export async function sweepInputs(
  ctx: ForwardingContext,
  candidates: SweepInputRecord[],
  force: boolean,
): Promise<{ sweep?: Sweep; waiting?: string }> {
  const { settings, sweeps, log } = ctx;
  const inputs = candidates.slice(0, settings.maxInputsPerSweep);
  if (inputs.length === 0) return { waiting: 'nothing to sweep' };
  const feeRate = await currentFeeRate(ctx);
  const destination = await ctx.cold.next();
  let plan: SweepPlan;
  try {
    plan = planSweep(
      inputs,
      destination.address,
      feeRate,
      ctx.network,
      force ? 10_000 : settings.maxFeeShareBps,
    );
  } catch (err) {
    if (!(err instanceof SweepError)) throw err;
    log.info({ reason: err.reason, inputs: inputs.length, feeRate }, `sweep waits: ${err.message}`);
    return { waiting: err.message };
  }
  const sweep = newSweep(
    ctx,
    {
      inputs: plan.inputs.map(
        (i) => inputs.find((c) => c.txid === i.txid && c.vout === i.vout) as SweepInputRecord,
      ),
      destination: destination.address,
      ...(destination.index !== undefined && { destinationIndex: destination.index }),
      ...amountsOf(plan),
    },
    `${plan.inputs.length} inputs at ${plan.feeRate} sat/vB`,
  );
  failpoint('before-sweep-create');
  await sweeps.create(sweep);
  failpoint('after-sweep-create');
  if (!(await sweeps.claim(sweep._id, sweep.inputs))) {
    // Another forwarder (a replica) claimed some of these coins first; claim() took none.
    await sweeps.transition(
      sweep._id,
      ['building'],
      'abandoned',
      { claimsReleased: true },
      'coins claimed by another sweep',
    );
    return { waiting: 'coins claimed by another sweep' };
  }
  failpoint('after-sweep-claim');
  return { sweep: await signAndSend(ctx, sweep, plan) };
}

async function signAndSend(ctx: ForwardingContext, sweep: Sweep, plan: SweepPlan): Promise<Sweep> {
  const { sweeps, signer, log } = ctx;
  const latest = async () => (await sweeps.get(sweep._id)) ?? sweep;
  let expected: string;
  try {
    expected = await expectedDestination(ctx, sweep);
  } catch (err) {
    if (err instanceof DestinationMismatchError) return latest();
    throw err;
  }
  const configured = { ...plan, destination: expected };
  const psbt = buildSweepPsbt(configured, sweepAccount(ctx), ctx.network);
  if (!signer) {
    const stored = await sweeps.transition(
      sweep._id,
      ['building'],
      'awaiting_signature',
      { psbt: psbt.toBase64() },
      sweep.bumpOf
        ? `fee bump PSBT at ${plan.feeRate} sat/vB ready for an admin to sign`
        : 'PSBT ready for an admin to sign',
    );
    failpoint('after-sweep-psbt-stored');
    if (!stored) await dropClaimsIfAbandoned(ctx, sweep);
    if (stored) {
      log.info(
        {
          sweepId: sweep._id,
          inputs: plan.inputs.length,
          ...(sweep.bumpOf && { bumpOf: sweep.bumpOf }),
        },
        sweep.bumpOf ? 'fee bump PSBT awaits a signature' : 'sweep PSBT awaits a signature',
      );
    }
    return latest();
  }
  const signed = signSweep(psbt, configured, signer, expected);
  // Write-ahead: the exact transaction is on disk before anyone can see it on the network.
  // Guarded: a sweep abandoned meanwhile (its builder looked dead) is never broadcast.
  const stored = await sweeps.transition(
    sweep._id,
    ['building'],
    'signed',
    { hex: signed.hex, txid: signed.txid },
    `signed ${signed.txid}`,
  );
  if (!stored) {
    log.warn({ sweepId: sweep._id }, 'sweep abandoned while it was being signed; not broadcast');
    await dropClaimsIfAbandoned(ctx, sweep);
    return latest();
  }
  failpoint('after-sweep-stored');
  await broadcast(ctx, { ...sweep, state: 'signed', hex: signed.hex, txid: signed.txid });
  return latest();
}

/** Our sweep was abandoned under us (its claims may have come after the release): give them back. */
async function dropClaimsIfAbandoned(ctx: ForwardingContext, sweep: Sweep): Promise<void> {
  const { sweeps } = ctx;
  if (sweep.bumpOf || (await sweeps.get(sweep._id))?.state !== 'abandoned') return;
  await sweeps.releaseClaims(sweep._id);
}

/**
 * A replacement at a higher fee (BIP125), to the configured destination: in sign mode signed
 * and broadcast at once, in psbt mode offered to the admin as a PSBT (`awaiting_signature`
 * with `bumpOf`). The original stays tracked either way.
 */
export async function bump(ctx: ForwardingContext, sweep: Sweep): Promise<boolean> {
  const { sweeps, log } = ctx;
  let expected: string;
  try {
    expected = await expectedDestination(ctx, sweep);
  } catch (err) {
    if (err instanceof DestinationMismatchError) return false;
    throw err;
  }
  let plan: SweepPlan;
  try {
    plan = planReplacement(planOf(sweep, expected), await currentFeeRate(ctx), ctx.network);
  } catch (err) {
    if (err instanceof SweepError) return false;
    throw err;
  }
  const replacement = newSweep(
    ctx,
    {
      inputs: sweep.inputs,
      destination: expected,
      ...(sweep.destinationIndex !== undefined && { destinationIndex: sweep.destinationIndex }),
      ...amountsOf(plan),
      bumpOf: sweep._id,
    },
    `fee bump of ${sweep.txid ?? sweep._id} to ${plan.feeRate} sat/vB`,
  );
  failpoint('before-sweep-create');
  await sweeps.create(replacement);
  failpoint('after-sweep-create');
  const sent = await signAndSend(ctx, replacement, plan);
  if (sent.state === 'awaiting_signature') {
    await sweeps.annotate(
      sweep._id,
      {},
      'bump_offered',
      `replacement ${replacement._id} at ${plan.feeRate} sat/vB awaits a signature`,
    );
    log.warn(
      { sweepId: sweep._id, replacement: replacement._id, feeRate: plan.feeRate },
      'sweep unconfirmed too long: a fee bump PSBT awaits an admin signature',
    );
    return true;
  }
  return sent.state === 'broadcast';
}

async function currentFeeRate(ctx: ForwardingContext): Promise<number> {
  const { settings, chain, log } = ctx;
  let estimates: Record<string, number> = {};
  try {
    estimates = await chain.feeEstimates();
  } catch (err) {
    log.warn({ err }, 'fee estimates unavailable; using the fallback fee rate');
  }
  return chooseFeeRate(estimates, settings.feeTargetBlocks, {
    min: settings.minFeeRate,
    max: settings.maxFeeRate,
    fallback: settings.fallbackFeeRate,
  });
}

export function sweepAccount(ctx: ForwardingContext): SweepAccount {
  const { wallet } = ctx;
  return {
    network: wallet.network,
    derivationPath: wallet.derivationPath,
    ...(wallet.masterFingerprint !== undefined && {
      masterFingerprint: wallet.masterFingerprint,
    }),
    publicNode: wallet.publicNode,
  };
}
