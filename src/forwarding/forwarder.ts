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
import type { BIP32Interface } from 'bip32';
import type { ChainSource } from '../chain/chain-source.js';
import { confirmationsOf } from '../payments/state-machine.js';
import type { IndexCounter } from '../wallet/index-counter.js';
import type { PaymentStore } from '../payments/payment-store.js';
import type { WalletAccount } from '../wallet/account.js';
import { auditCoins } from './coin-audit.js';
import { ColdDestination, type Destination } from './cold-destination.js';
import { expectedDestination } from './destination-guard.js';
import { dueInputs } from './due-coins.js';
import { failpoint } from './failpoints.js';
import {
  type ForwardReport,
  type ForwardingContext,
  type ForwardingLog,
  type ForwardingOptions,
  modeOf,
} from './forwarding-context.js';
import { type Sweep, type SweepInputRecord, SweepNotFoundError, SweepStateError } from './sweep.js';
import { broadcast } from './sweep-broadcast.js';
import { planOf, sweepAccount, sweepInputs } from './sweep-builder.js';
import { abandonStale, recover, retryRejected } from './sweep-recovery.js';
import type { SweepStore } from './sweep-store.js';
import { track } from './sweep-tracking.js';
import { buildSweepPsbt } from './tx/psbt.js';
import { acceptSignedSweep } from './tx/verify.js';

export type { Destination } from './cold-destination.js';
export type { ForwardReport, ForwardingLog, ForwardingOptions } from './forwarding-context.js';

export interface ForwarderDeps {
  repo: PaymentStore;
  sweeps: SweepStore;
  chain: ChainSource;
  wallet: WalletAccount;
  /** The account's private node, in sign mode only. Never logged, never stored. */
  signer?: BIP32Interface;
  destination: Destination;
  settings: ForwardingOptions;
  log: ForwardingLog;
  now?: () => Date;
}

/** The chain tip is not known yet (no cycle ran in this process, and the caller gave none). */
export class TipUnknownError extends Error {
  constructor() {
    super('the chain tip is not known yet; try again after a watcher cycle');
    this.name = 'TipUnknownError';
  }
}

export class Forwarder {
  readonly cold: ColdDestination;
  private readonly ctx: ForwardingContext;
  private recoveredAtStart = false;

  constructor(deps: ForwarderDeps) {
    const { destination, now, ...ports } = deps;
    this.cold = new ColdDestination(destination);
    this.ctx = {
      ...ports,
      cold: this.cold,
      now: now ?? (() => new Date()),
      network: deps.wallet.network,
      tipHeight: undefined,
    };
  }

  get mode(): 'sign' | 'psbt' {
    return modeOf(this.ctx);
  }

  /**
   * One forwarding cycle of the leader: recovery, then (on a new block only: it costs chain
   * requests) tracking of broadcast sweeps, then sweeping what is due.
   */
  async runCycle(tipHeight: number, options: { newBlock: boolean }): Promise<ForwardReport> {
    this.ctx.tipHeight = tipHeight;
    const report: ForwardReport = { swept: 0, broadcast: 0, confirmed: 0, bumped: 0, errors: 0 };
    const step = async (name: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (err) {
        report.errors++;
        this.ctx.log.warn({ err }, `forwarding ${name} failed; will retry next cycle`);
      }
    };
    await step('recovery', async () => {
      await recover(this.ctx, report, !this.recoveredAtStart);
      this.recoveredAtStart = true;
    });
    if (options.newBlock) await step('tracking', () => track(this.ctx, tipHeight, report));
    await step('sweeping', async () => {
      const result = await this.sweepDue(tipHeight, { force: false });
      if (result.sweep) report.swept++;
      if (result.sweep?.state === 'broadcast') report.broadcast++;
      if (result.waiting) report.waiting = result.waiting;
    });
    return report;
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
    const inputs = await dueInputs(this.ctx, tipHeight, options.paymentId);
    return this.sweepInputs(inputs, options.force);
  }

  /**
   * Coins on our receive addresses that no payment or sweep accounts for (money sent after the
   * monitoring window, to an address whose payment never finished being created, or stranded
   * by a lost sweep). Stale `building` sweeps are abandoned first so their coins show.
   */
  async findStray(
    gap: number,
    counter: IndexCounter,
    tipHeight: number,
  ): Promise<SweepInputRecord[]> {
    const { wallet, chain, repo, sweeps, settings } = this.ctx;
    await abandonStale(this.ctx, false);
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
  sweepInputs(
    candidates: SweepInputRecord[],
    force: boolean,
  ): Promise<{ sweep?: Sweep; waiting?: string }> {
    return sweepInputs(this.ctx, candidates, force);
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
    const tip = tipHeight ?? this.ctx.tipHeight;
    if (tip === undefined) throw new TipUnknownError();
    await retryRejected(this.ctx, paymentId);
    return this.sweepDue(tip, { force: true, paymentId });
  }

  /**
   * psbt mode: the PSBT of a sweep awaiting a signature, rebuilt from the plan with the
   * CONFIGURED destination (a rewritten record is refused, not served).
   */
  async psbtFor(sweepId: string): Promise<string> {
    const sweep = await this.awaitingSignature(sweepId);
    const expected = await expectedDestination(this.ctx, sweep);
    return buildSweepPsbt(
      planOf(sweep, expected),
      sweepAccount(this.ctx),
      this.ctx.network,
    ).toBase64();
  }

  /** psbt mode: the admin's signed PSBT (or raw transaction) for a sweep awaiting signature. */
  async submitSigned(sweepId: string, submitted: string): Promise<Sweep> {
    const sweep = await this.awaitingSignature(sweepId);
    const expected = await expectedDestination(this.ctx, sweep);
    const signed = acceptSignedSweep(
      planOf(sweep, expected),
      submitted,
      this.ctx.network,
      sweepAccount(this.ctx),
      expected,
    );
    const stored = await this.ctx.sweeps.transition(
      sweepId,
      ['awaiting_signature'],
      'signed',
      { hex: signed.hex, txid: signed.txid },
      'signed PSBT submitted',
    );
    if (!stored)
      throw new SweepStateError(sweepId, sweep.state, `sweep ${sweepId} changed meanwhile`);
    failpoint('after-sweep-stored');
    await broadcast(this.ctx, { ...sweep, state: 'signed', hex: signed.hex, txid: signed.txid });
    return (await this.ctx.sweeps.get(sweepId)) ?? sweep;
  }

  private async awaitingSignature(sweepId: string): Promise<Sweep> {
    const sweep = await this.ctx.sweeps.get(sweepId);
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
}
