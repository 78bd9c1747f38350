/**
 * Forwarding: sweeps the coins of paid payments from the hot HD addresses to the cold wallet.
 *
 * Never twice: every coin is claimed by exactly one live sweep (a unique key per outpoint), and
 * a sweep's signed transaction is stored before it is broadcast. After a crash the stored
 * transaction is broadcast again (harmless if it already was), never rebuilt; a sweep that was
 * still being built had nothing broadcastable and is abandoned (by the leader at start, or by
 * anyone once `staleBuildSeconds` old), its coins given back. A payment is done only when every
 * one of its coins is in a broadcast or confirmed sweep. Each step of the path is guarded and
 * repeatable: create → claim → store → broadcast → mark broadcast → record on payments.
 *
 * Sweeps signal RBF. One that stays unconfirmed `bumpAfterBlocks` blocks gets a replacement
 * (signed at once in sign mode, offered as a PSBT in psbt mode); original and replacement are a
 * family, both tracked until one confirms, and the other ends `replaced`.
 *
 * The destination always comes from the configuration (cold-destination.ts), never from a
 * stored record; each input is checked unspent (or spent by the family) before a broadcast.
 */
import { randomBytes } from 'node:crypto';
import type { BIP32Interface } from 'bip32';
import { BroadcastRejectedError, type ChainSource } from '../chain/chain-source.js';
import { outpointKey } from '../chain/outpoint.js';
import type { Config } from '../config/config.js';
import type { IssuedPayment, Payment } from '../payments/payment.js';
import { confirmationsOf } from '../payments/state-machine.js';
import {
  type PaymentChange,
  sweepBroadcast,
  sweepConfirmed,
  sweepKindOf,
  sweepNeedsReview,
} from '../payments/sweep-recording.js';
import type { AddressCounter } from '../storage/address-counter.js';
import type { PaymentRepository } from '../storage/payments.js';
import type { WalletAccount } from '../wallet/account.js';
import type { NetworkName } from '../wallet/networks.js';
import type { WatcherLog } from '../watcher/payment-watcher.js';
import { auditCoins } from './coin-audit.js';
import { ColdDestination, type Destination, DestinationMismatchError } from './cold-destination.js';
import { failpoint } from './failpoints.js';
import {
  LIVE,
  SWEPT,
  type Sweep,
  type SweepInputRecord,
  SweepNotFoundError,
  SweepStateError,
  type SweepState,
} from './sweep.js';
import { type InputSpend, bumpPending, familyOf, inputSpendOf } from './sweep-family.js';
import type { SweepStore } from './sweep-store.js';
import { chooseFeeRate } from './tx/fee-rate.js';
import { type SweepPlan, planReplacement, planSweep } from './tx/plan.js';
import { buildSweepPsbt } from './tx/psbt.js';
import { signSweep } from './tx/sign.js';
import { SweepError } from './tx/sweep-error.js';
import { acceptSignedSweep, checkSignedPaysOnly } from './tx/verify.js';

export type { Destination } from './cold-destination.js';

export type ForwardingSettings = Config['forwarding'];

export interface ForwarderDeps {
  repo: PaymentRepository;
  sweeps: SweepStore;
  chain: ChainSource;
  wallet: WalletAccount;
  /** The account's private node, in sign mode only. Never logged, never stored. */
  signer?: BIP32Interface;
  destination: Destination;
  settings: ForwardingSettings;
  log: WatcherLog;
  now?: () => Date;
}

export interface ForwardReport {
  swept: number;
  broadcast: number;
  confirmed: number;
  bumped: number;
  waiting?: string;
  errors: number;
}

/** The chain tip is not known yet (no cycle ran in this process, and the caller gave none). */
export class TipUnknownError extends Error {
  constructor() {
    super('the chain tip is not known yet; try again after a watcher cycle');
    this.name = 'TipUnknownError';
  }
}

function planOf(sweep: Sweep, destination = sweep.destination): SweepPlan {
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

function paymentIdsOf(sweep: Sweep): string[] {
  return [...new Set(sweep.inputs.map((i) => i.paymentId))];
}

export class Forwarder {
  private readonly now: () => Date;
  private readonly network: NetworkName;
  readonly cold: ColdDestination;
  /** The tip of the latest cycle: the forwarder never asks the chain for it (3 requests). */
  private tipHeight: number | undefined;
  private recoveredAtStart = false;

  constructor(private readonly deps: ForwarderDeps) {
    this.now = deps.now ?? (() => new Date());
    this.network = deps.wallet.network;
    this.cold = new ColdDestination(deps.destination);
  }

  get mode(): 'sign' | 'psbt' {
    return this.deps.signer ? 'sign' : 'psbt';
  }

  /**
   * One forwarding cycle of the leader: recovery, then (on a new block only: it costs chain
   * requests) tracking of broadcast sweeps, then sweeping what is due.
   */
  async runCycle(tipHeight: number, options: { newBlock: boolean }): Promise<ForwardReport> {
    this.tipHeight = tipHeight;
    const report: ForwardReport = { swept: 0, broadcast: 0, confirmed: 0, bumped: 0, errors: 0 };
    const step = async (name: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (err) {
        report.errors++;
        this.deps.log.warn({ err }, `forwarding ${name} failed; will retry next cycle`);
      }
    };
    await step('recovery', async () => {
      await this.recover(report, !this.recoveredAtStart);
      this.recoveredAtStart = true;
    });
    if (options.newBlock) await step('tracking', () => this.track(tipHeight, report));
    await step('sweeping', async () => {
      const result = await this.sweepDue(tipHeight, { force: false });
      if (result.sweep) report.swept++;
      if (result.sweep?.state === 'broadcast') report.broadcast++;
      if (result.waiting) report.waiting = result.waiting;
    });
    return report;
  }

  /** Finishes what a crash or an outage interrupted; `atStart`: the first cycle as leader. */
  private async recover(report: ForwardReport, atStart: boolean): Promise<void> {
    const { sweeps } = this.deps;
    await this.abandonStale(atStart);
    // A crash between abandoning a sweep and releasing its claims.
    for (const sweep of await sweeps.abandonedWithClaims()) await this.releaseAbandoned(sweep);
    for (const sweep of await sweeps.inState('signed')) {
      if (await this.broadcast(sweep)) report.broadcast++;
    }
    // A crash between broadcasting and recording on the payments.
    for (const sweep of await sweeps.unrecorded()) await this.recordBroadcast(sweep);
  }

  /**
   * A sweep still `building` stored no transaction, so nothing of it can be on the network:
   * abandon it and give its coins back. Safe whoever built it, even if the builder still runs:
   * its next write (building → signed / awaiting_signature) is guarded and then fails.
   */
  private async abandonStale(all: boolean): Promise<void> {
    const { sweeps, settings } = this.deps;
    const staleMs = settings.staleBuildSeconds * 1000;
    for (const sweep of await sweeps.inState('building')) {
      const age = this.now().getTime() - sweep.createdAt.getTime();
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
      this.deps.log.warn(
        { sweepId: sweep._id, inputs: sweep.inputs.length },
        'stranded sweep abandoned; its coins are swept again',
      );
      await this.releaseAbandoned(sweep);
    }
  }

  private async releaseAbandoned(sweep: Sweep): Promise<void> {
    const { sweeps, repo } = this.deps;
    if (sweep.bumpOf) {
      // The original keeps (or gets back) the coins; older versions moved them at creation.
      await sweeps.transferClaims(sweep._id, sweep.bumpOf);
    } else {
      await sweeps.releaseClaims(sweep._id);
      await repo.reopenSweep(paymentIdsOf(sweep));
    }
    await sweeps.markClaimsReleased(sweep._id);
  }

  /** Confirmations of broadcast sweeps; vanished ones rebroadcast; slow ones fee-bumped. */
  private async track(tipHeight: number, report: ForwardReport): Promise<void> {
    const { chain, sweeps, settings } = this.deps;
    for (const sweep of await sweeps.inState('broadcast')) {
      if (!sweep.txid || !sweep.hex) continue;
      const status = await chain.transactionStatus(sweep.txid);
      if (status.confirmed) {
        await this.settleFamily(sweep, status.blockHeight, status.blockHash);
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
        await this.rebroadcast(sweep);
        continue;
      }
      const waited = tipHeight - sweep.broadcastHeight;
      if (waited >= settings.bumpAfterBlocks && !(await bumpPending(this.deps.sweeps, sweep))) {
        if (await this.bump(sweep)) report.bumped++;
      }
    }
  }

  /** `winner` confirmed: it is the family's sweep; every other live member ends `replaced`. */
  private async settleFamily(
    winner: Sweep,
    blockHeight?: number,
    blockHash?: string,
  ): Promise<void> {
    const { sweeps, log } = this.deps;
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
    await this.recordOnPayments(winner, (p) => sweepConfirmed(p, txid, blockHeight, this.now()));
  }

  /**
   * Sweeps the coins that are due: confirmed outputs of credited payments (and of unpaid ones
   * whose window closed), not claimed by another sweep. `force` (an admin's "forward now")
   * ignores the fee-share limit, never the dust limit.
   */
  async sweepDue(
    tipHeight: number,
    options: { force: boolean; paymentId?: string },
  ): Promise<{ sweep?: Sweep; waiting?: string }> {
    const inputs = await this.dueInputs(tipHeight, options.paymentId);
    return this.sweepInputs(inputs, options.force);
  }

  /**
   * Coins on our receive addresses that no payment or sweep accounts for (money sent after the
   * monitoring window, to an address whose payment never finished being created, or stranded
   * by a lost sweep). Stale `building` sweeps are abandoned first so their coins show.
   */
  async findStray(
    gap: number,
    counter: AddressCounter,
    tipHeight: number,
  ): Promise<SweepInputRecord[]> {
    const { wallet, chain, repo, sweeps, settings } = this.deps;
    await this.abandonStale(false);
    const audit = await auditCoins({ wallet, chain, repo, sweeps, counter }, gap);
    return audit.unaccounted
      .filter((c) => confirmationsOf(c, tipHeight) >= settings.minConfirmations)
      .map((c) => ({
        paymentId: c.paymentId ?? `stray:${c.index}`,
        txid: c.txid,
        vout: c.vout,
        valueSats: c.valueSats,
        scriptType: wallet.scriptType,
        index: c.index,
      }));
  }

  /** Sweeps the given coins in one transaction (at most maxInputsPerSweep of them). */
  async sweepInputs(
    candidates: SweepInputRecord[],
    force: boolean,
  ): Promise<{ sweep?: Sweep; waiting?: string }> {
    const { settings, sweeps, log } = this.deps;
    const inputs = candidates.slice(0, settings.maxInputsPerSweep);
    if (inputs.length === 0) return { waiting: 'nothing to sweep' };
    const feeRate = await this.feeRate();
    const destination = await this.cold.next();
    let plan: SweepPlan;
    try {
      plan = planSweep(
        inputs,
        destination.address,
        feeRate,
        this.network,
        force ? 10_000 : settings.maxFeeShareBps,
      );
    } catch (err) {
      if (!(err instanceof SweepError)) throw err;
      log.info(
        { reason: err.reason, inputs: inputs.length, feeRate },
        `sweep waits: ${err.message}`,
      );
      return { waiting: err.message };
    }
    const sweep: Sweep = {
      _id: `swp_${randomBytes(12).toString('base64url')}`,
      state: 'building',
      mode: this.mode,
      inputs: plan.inputs.map(
        (i) => inputs.find((c) => c.txid === i.txid && c.vout === i.vout) as SweepInputRecord,
      ),
      destination: destination.address,
      ...(destination.index !== undefined && { destinationIndex: destination.index }),
      feeRate: plan.feeRate,
      vsize: plan.vsize,
      feeSats: plan.feeSats,
      valueOutSats: plan.valueOutSats,
      createdAt: this.now(),
      updatedAt: this.now(),
      events: [
        {
          at: this.now(),
          type: 'building',
          cause: `${plan.inputs.length} inputs at ${plan.feeRate} sat/vB`,
        },
      ],
    };
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
    return { sweep: await this.signAndSend(sweep, plan) };
  }

  /**
   * An admin's "forward this payment now": gives back the coins of its rejected sweeps, then
   * sweeps its due outputs at once, whatever their fee share (never below dust). The tip comes
   * from the caller (or the latest cycle): the forwarder never asks the chain for it.
   */
  async forwardNow(
    paymentId: string,
    tipHeight?: number,
  ): Promise<{ sweep?: Sweep; waiting?: string }> {
    const { sweeps, repo } = this.deps;
    const tip = tipHeight ?? this.tipHeight;
    if (tip === undefined) throw new TipUnknownError();
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
    return this.sweepDue(tip, { force: true, paymentId });
  }

  /**
   * psbt mode: the PSBT of a sweep awaiting a signature, rebuilt from the plan with the
   * CONFIGURED destination (a rewritten record is refused, not served).
   */
  async psbtFor(sweepId: string): Promise<string> {
    const sweep = await this.awaitingSignature(sweepId);
    const expected = await this.expectedDestination(sweep);
    return buildSweepPsbt(planOf(sweep, expected), this.sweepAccount(), this.network).toBase64();
  }

  /** psbt mode: the admin's signed PSBT (or raw transaction) for a sweep awaiting signature. */
  async submitSigned(sweepId: string, submitted: string): Promise<Sweep> {
    const sweep = await this.awaitingSignature(sweepId);
    const expected = await this.expectedDestination(sweep);
    const signed = acceptSignedSweep(
      planOf(sweep, expected),
      submitted,
      this.network,
      this.sweepAccount(),
      expected,
    );
    const stored = await this.deps.sweeps.transition(
      sweepId,
      ['awaiting_signature'],
      'signed',
      { hex: signed.hex, txid: signed.txid },
      'signed PSBT submitted',
    );
    if (!stored)
      throw new SweepStateError(sweepId, sweep.state, `sweep ${sweepId} changed meanwhile`);
    failpoint('after-sweep-stored');
    await this.broadcast({ ...sweep, state: 'signed', hex: signed.hex, txid: signed.txid });
    return (await this.deps.sweeps.get(sweepId)) ?? sweep;
  }

  private async awaitingSignature(sweepId: string): Promise<Sweep> {
    const sweep = await this.deps.sweeps.get(sweepId);
    if (!sweep) throw new SweepNotFoundError(sweepId);
    if (sweep.state !== 'awaiting_signature') {
      throw new SweepStateError(
        sweepId,
        sweep.state,
        `sweep ${sweepId} is ${sweep.state}, not awaiting a signature`,
      );
    }
    return sweep;
  }

  /** The configured destination of `sweep`; a mismatch is recorded on it and rethrown. */
  private async expectedDestination(sweep: Sweep): Promise<string> {
    try {
      return await this.cold.expectedFor(sweep);
    } catch (err) {
      if (err instanceof DestinationMismatchError) await this.refuseDestination(sweep, err.message);
      throw err;
    }
  }

  /**
   * Nothing is signed or broadcast to a destination the configuration does not give: a sweep
   * not yet out is rejected (its claims kept: an admin looks); a broadcast one just notes it.
   */
  private async refuseDestination(sweep: Sweep, reason: string): Promise<void> {
    const { sweeps, log } = this.deps;
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

  private async signAndSend(sweep: Sweep, plan: SweepPlan): Promise<Sweep> {
    const { sweeps, signer, log } = this.deps;
    const latest = async () => (await sweeps.get(sweep._id)) ?? sweep;
    let expected: string;
    try {
      expected = await this.expectedDestination(sweep);
    } catch (err) {
      if (err instanceof DestinationMismatchError) return latest();
      throw err;
    }
    const configured = { ...plan, destination: expected };
    const psbt = buildSweepPsbt(configured, this.sweepAccount(), this.network);
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
      if (!stored) await this.dropClaimsIfAbandoned(sweep);
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
      await this.dropClaimsIfAbandoned(sweep);
      return latest();
    }
    failpoint('after-sweep-stored');
    await this.broadcast({ ...sweep, state: 'signed', hex: signed.hex, txid: signed.txid });
    return latest();
  }

  /** Our sweep was abandoned under us (its claims may have come after the release): give them back. */
  private async dropClaimsIfAbandoned(sweep: Sweep): Promise<void> {
    const { sweeps } = this.deps;
    if (sweep.bumpOf || (await sweeps.get(sweep._id))?.state !== 'abandoned') return;
    await sweeps.releaseClaims(sweep._id);
  }

  /** Broadcasts a stored signed sweep and records it; true when it is out. */
  private async broadcast(sweep: Sweep): Promise<boolean> {
    const { chain, sweeps, log } = this.deps;
    if (!sweep.hex || !sweep.txid) return false;
    if (!(await this.paysConfiguredDestination(sweep))) return false;
    const spend = await inputSpendOf(this.deps.chain, this.deps.sweeps, sweep);
    if (spend.kind === 'duplicate' || spend.kind === 'elsewhere') {
      await this.spentByOthers(sweep, spend);
      return false;
    }
    try {
      await chain.broadcast(sweep.hex);
    } catch (err) {
      if (err instanceof BroadcastRejectedError) {
        await this.reject(sweep, err.reason);
        return false;
      }
      // The chain API is down: the sweep stays signed and the next cycle broadcasts it.
      log.warn({ err, sweepId: sweep._id, txid: sweep.txid }, 'sweep broadcast failed; will retry');
      return false;
    }
    failpoint('after-sweep-broadcast');
    const height = this.tipHeight;
    await sweeps.transition(
      sweep._id,
      ['signed'],
      'broadcast',
      { broadcastAt: this.now(), ...(height !== undefined && { broadcastHeight: height }) },
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
    await this.recordBroadcast(sweep);
    return true;
  }

  /** The stored transaction pays the configured destination (else it is refused). */
  private async paysConfiguredDestination(sweep: Sweep): Promise<boolean> {
    try {
      const expected = await this.cold.expectedFor(sweep);
      checkSignedPaysOnly(sweep.hex ?? '', expected, this.network);
      return true;
    } catch (err) {
      if (err instanceof DestinationMismatchError || err instanceof SweepError) {
        await this.refuseDestination(sweep, err.message);
        return false;
      }
      throw err;
    }
  }

  /**
   * The coins are gone another way: never broadcast, never recorded as swept again. The claims
   * stay (no other sweep may try them); a duplicate hands them to the sweep that did spend them.
   */
  private async spentByOthers(
    sweep: Sweep,
    spend: Extract<InputSpend, { kind: 'duplicate' | 'elsewhere' }>,
  ): Promise<void> {
    const { sweeps, repo, log } = this.deps;
    const from: SweepState[] = ['building', 'awaiting_signature', 'signed', 'broadcast'];
    if (spend.kind === 'duplicate') {
      const reason = `its coins were already swept by sweep ${spend.of._id} (${spend.of.txid ?? '?'})`;
      log.error(
        { sweepId: sweep._id, duplicateOf: spend.of._id },
        `sweep not broadcast: ${reason}`,
      );
      await sweeps.transition(sweep._id, from, 'rejected', { error: reason }, reason);
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
    await sweeps.transition(sweep._id, from, 'rejected', { error: reason }, reason);
    for (const id of new Set(spend.spends.map((s) => s.input.paymentId))) {
      await repo.applySweepChange(id, (p) =>
        sweepNeedsReview(p, 'coin spent elsewhere', this.now()),
      );
    }
  }

  private async rebroadcast(sweep: Sweep): Promise<void> {
    const spend = await inputSpendOf(this.deps.chain, this.deps.sweeps, sweep);
    if (spend.kind === 'duplicate' || spend.kind === 'elsewhere') {
      await this.spentByOthers(sweep, spend);
      return;
    }
    if (spend.kind === 'family') {
      // A replacement of it is out: not evicted but replaced; track it as such.
      await this.deps.sweeps.annotate(
        sweep._id,
        { replacedBy: spend.by._id },
        'bumped',
        `spent by ${spend.by.txid ?? '?'}`,
      );
      return;
    }
    if (!(await this.paysConfiguredDestination(sweep))) return;
    try {
      await this.deps.chain.broadcast(sweep.hex ?? '');
    } catch (err) {
      if (err instanceof BroadcastRejectedError) await this.reject(sweep, err.reason);
      else throw err;
    }
  }

  /** The node refused it for good: keep the claims (never risk a second sweep) and ask a human. */
  private async reject(sweep: Sweep, reason: string): Promise<void> {
    const { sweeps, log } = this.deps;
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

  /**
   * A replacement at a higher fee (BIP125), to the configured destination: in sign mode signed
   * and broadcast at once, in psbt mode offered to the admin as a PSBT (`awaiting_signature`
   * with `bumpOf`). The original stays tracked either way.
   */
  private async bump(sweep: Sweep): Promise<boolean> {
    const { sweeps, log } = this.deps;
    let expected: string;
    try {
      expected = await this.expectedDestination(sweep);
    } catch (err) {
      if (err instanceof DestinationMismatchError) return false;
      throw err;
    }
    let plan: SweepPlan;
    try {
      plan = planReplacement(planOf(sweep, expected), await this.feeRate(), this.network);
    } catch (err) {
      if (err instanceof SweepError) return false;
      throw err;
    }
    const replacement: Sweep = {
      _id: `swp_${randomBytes(12).toString('base64url')}`,
      state: 'building',
      mode: this.mode,
      inputs: sweep.inputs,
      destination: expected,
      ...(sweep.destinationIndex !== undefined && { destinationIndex: sweep.destinationIndex }),
      feeRate: plan.feeRate,
      vsize: plan.vsize,
      feeSats: plan.feeSats,
      valueOutSats: plan.valueOutSats,
      bumpOf: sweep._id,
      createdAt: this.now(),
      updatedAt: this.now(),
      events: [
        {
          at: this.now(),
          type: 'building',
          cause: `fee bump of ${sweep.txid ?? sweep._id} to ${plan.feeRate} sat/vB`,
        },
      ],
    };
    failpoint('before-sweep-create');
    await sweeps.create(replacement);
    failpoint('after-sweep-create');
    const sent = await this.signAndSend(replacement, plan);
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

  /**
   * Outputs of payments whose coins may be swept now (credited; unpaid ones after their
   * window), confirmed enough and unclaimed, oldest payments first, at most a sweep's worth.
   */
  private async dueInputs(tipHeight: number, onlyPaymentId?: string): Promise<SweepInputRecord[]> {
    const { repo, sweeps, settings } = this.deps;
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
    await this.releaseOrphanClaims(owners, states);
    await this.closeFinished(payments, owners, states);
    return candidates
      .filter((c) => !owners.has(outpointKey(c)))
      .slice(0, settings.maxInputsPerSweep);
  }

  /**
   * Claims an abandoned sweep still holds: its builder claimed after the sweep was abandoned
   * (it saw that at its next write and stopped) or died before releasing them. They go back,
   * and the coins are due again.
   */
  private async releaseOrphanClaims(
    owners: Map<string, string>,
    states: Map<string, SweepState>,
  ): Promise<void> {
    for (const owner of new Set(owners.values())) {
      if (states.get(owner) !== 'abandoned') continue;
      this.deps.log.warn({ sweepId: owner }, 'claims of an abandoned sweep released');
      await this.deps.sweeps.releaseClaims(owner);
      for (const [key, id] of owners) if (id === owner) owners.delete(key);
    }
  }

  /**
   * A payment no longer watched is done once every output is in a broadcast or confirmed
   * sweep. Claimed is not enough: a claim of a sweep still building may be given back.
   */
  private async closeFinished(
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
        await this.deps.repo.markSweepDone(p._id);
      }
    }
  }

  /** Records a broadcast on its payments (idempotent), then marks the sweep recorded. */
  private async recordBroadcast(sweep: Sweep): Promise<void> {
    const txid = sweep.txid;
    if (txid === undefined) return;
    const recorded = await this.recordOnPayments(sweep, (p) =>
      sweepBroadcast(
        p,
        { txid, destination: sweep.destination, replacement: sweep.bumpOf !== undefined },
        this.now(),
      ),
    );
    failpoint('after-sweep-recorded');
    if (!recorded) return; // retried by the next cycle's recovery
    await this.deps.sweeps.markRecorded(sweep._id);
    failpoint('after-sweep-marked-recorded');
  }

  /** True when every payment took the change (or had nothing to record). */
  private async recordOnPayments(
    sweep: Sweep,
    decide: (payment: Payment) => PaymentChange | null,
  ): Promise<boolean> {
    let ok = true;
    for (const id of paymentIdsOf(sweep)) {
      if (id.startsWith('stray:')) continue;
      try {
        await this.deps.repo.applySweepChange(id, decide);
      } catch (err) {
        ok = false;
        this.deps.log.warn(
          { err, paymentId: id, sweepId: sweep._id },
          'recording the sweep on a payment failed; will retry',
        );
      }
    }
    return ok;
  }

  private async feeRate(): Promise<number> {
    const { settings, chain, log } = this.deps;
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

  private sweepAccount() {
    const { wallet } = this.deps;
    return {
      network: wallet.network,
      derivationPath: wallet.derivationPath,
      ...(wallet.masterFingerprint !== undefined && {
        masterFingerprint: wallet.masterFingerprint,
      }),
      publicNode: wallet.publicNode,
    };
  }
}
