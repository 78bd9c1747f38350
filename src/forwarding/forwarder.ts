/**
 * Forwarding: sweeps the coins of paid payments from the hot HD addresses to the cold wallet.
 *
 * Never twice: every coin is claimed by exactly one live sweep (a unique key per outpoint), and
 * a sweep's signed transaction is stored before it is broadcast. After a crash the stored
 * transaction is broadcast again (harmless if it already was), never rebuilt; a sweep that was
 * still being built had nothing broadcastable and is abandoned. Sweeps signal RBF and are
 * replaced at a higher fee when they stay unconfirmed too long.
 */
import { randomBytes } from 'node:crypto';
import type { BIP32Interface } from 'bip32';
import { BroadcastRejectedError, type ChainSource } from '../chain/chain-source.js';
import type { Config } from '../config/config.js';
import type { IssuedPayment } from '../payments/payment.js';
import { confirmationsOf } from '../payments/state-machine.js';
import type { AddressCounter } from '../storage/address-counter.js';
import type { PaymentRepository } from '../storage/payments.js';
import {
  type Sweep,
  type SweepInputRecord,
  type SweepRepository,
  type SweepState,
  outpointKey,
} from '../storage/sweeps.js';
import type { WalletAccount } from '../wallet/account.js';
import type { NetworkName } from '../wallet/networks.js';
import type { WatcherLog } from '../watcher/payment-watcher.js';
import { failpoint } from './failpoints.js';
import {
  type SweepPlan,
  SweepError,
  acceptSignedSweep,
  buildSweepPsbt,
  chooseFeeRate,
  planReplacement,
  planSweep,
  signSweep,
} from './sweep-tx.js';

export type ForwardingSettings = Config['forwarding'];

/** Where sweeps go: one fixed address, or a fresh address of the cold xpub for each sweep. */
export type Destination =
  | { kind: 'address'; address: string }
  | { kind: 'xpub'; account: WalletAccount; counter: AddressCounter };

export interface ForwarderDeps {
  repo: PaymentRepository;
  sweeps: SweepRepository;
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

/** Building for longer than this means the builder died: nothing of it was broadcastable. */
const STALE_BUILD_MS = 5 * 60_000;

export class SweepStateError extends Error {
  constructor(
    readonly sweepId: string,
    readonly state: SweepState,
    message: string,
  ) {
    super(message);
    this.name = 'SweepStateError';
  }
}

function planOf(sweep: Sweep): SweepPlan {
  return {
    inputs: sweep.inputs.map(({ txid, vout, valueSats, scriptType, index }) => ({
      txid,
      vout,
      valueSats,
      scriptType,
      index,
    })),
    destination: sweep.destination,
    feeRate: sweep.feeRate,
    vsize: sweep.vsize,
    feeSats: sweep.feeSats,
    valueOutSats: sweep.valueOutSats,
  };
}

export class Forwarder {
  private readonly now: () => Date;
  private readonly network: NetworkName;

  constructor(private readonly deps: ForwarderDeps) {
    this.now = deps.now ?? (() => new Date());
    this.network = deps.wallet.network;
  }

  get mode(): 'sign' | 'psbt' {
    return this.deps.signer ? 'sign' : 'psbt';
  }

  async runCycle(tipHeight: number): Promise<ForwardReport> {
    const report: ForwardReport = { swept: 0, broadcast: 0, confirmed: 0, bumped: 0, errors: 0 };
    const step = async (name: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (err) {
        report.errors++;
        this.deps.log.warn({ err }, `forwarding ${name} failed; will retry next cycle`);
      }
    };
    await step('recovery', () => this.recover(report));
    await step('tracking', () => this.track(tipHeight, report));
    await step('sweeping', async () => {
      const result = await this.sweepDue(tipHeight, { force: false });
      if (result.sweep) report.swept++;
      if (result.sweep?.state === 'broadcast') report.broadcast++;
      if (result.waiting) report.waiting = result.waiting;
    });
    return report;
  }

  /** Finishes what a crash or an outage interrupted. */
  private async recover(report: ForwardReport): Promise<void> {
    const { sweeps } = this.deps;
    for (const sweep of await sweeps.inState('building')) {
      if (this.now().getTime() - sweep.createdAt.getTime() < STALE_BUILD_MS) continue;
      // No transaction was stored, so none can have been broadcast: give the coins back.
      if (sweep.bumpOf) await sweeps.transferClaims(sweep._id, sweep.bumpOf);
      else await sweeps.releaseClaims(sweep._id);
      await sweeps.transition(
        sweep._id,
        ['building'],
        'abandoned',
        {},
        'the builder stopped before storing a transaction',
      );
    }
    for (const sweep of await sweeps.inState('signed')) {
      if (await this.broadcast(sweep)) report.broadcast++;
    }
  }

  /** Confirmations of broadcast sweeps; vanished ones rebroadcast; slow ones fee-bumped. */
  private async track(tipHeight: number, report: ForwardReport): Promise<void> {
    const { chain, sweeps, settings } = this.deps;
    for (const sweep of await sweeps.inState('broadcast')) {
      if (!sweep.txid || !sweep.hex) continue;
      const status = await chain.transactionStatus(sweep.txid);
      if (status.confirmed) {
        await sweeps.transition(
          sweep._id,
          ['broadcast'],
          'confirmed',
          {
            ...(status.blockHeight !== undefined && { confirmedHeight: status.blockHeight }),
            ...(status.blockHash !== undefined && { confirmedBlockHash: status.blockHash }),
          },
          `confirmed in block ${status.blockHeight ?? '?'}`,
        );
        await this.recordOnPayments(
          sweep,
          'sweep_confirmed',
          `sweep ${sweep.txid} confirmed in block ${status.blockHeight ?? '?'}`,
        );
        report.confirmed++;
        continue;
      }
      if (!(await chain.transaction(sweep.txid))) {
        // Evicted from mempools (or reorged out): the same transaction again.
        await this.rebroadcast(sweep);
        continue;
      }
      const waited = tipHeight - (sweep.broadcastHeight ?? tipHeight);
      if (this.mode === 'sign' && waited >= settings.bumpAfterBlocks) {
        if (await this.bump(sweep)) report.bumped++;
      }
    }
  }

  /**
   * Sweeps the coins that are due: confirmed outputs of payments, not claimed by another sweep.
   * `force` (an admin's "forward now") ignores the fee-share limit, never the dust limit.
   */
  async sweepDue(
    tipHeight: number,
    options: { force: boolean; paymentId?: string },
  ): Promise<{ sweep?: Sweep; waiting?: string }> {
    const inputs = await this.dueInputs(tipHeight, options.paymentId);
    return this.sweepInputs(inputs, options.force);
  }

  /**
   * Coins on our receive addresses that no payment accounts for (money sent after the
   * monitoring window, or to an address whose payment never finished being created).
   * Scans indexes 0 … (highest issued + gap).
   */
  async findStray(
    gap: number,
    counter: AddressCounter,
    tipHeight: number,
  ): Promise<SweepInputRecord[]> {
    const { wallet, chain, repo, sweeps, settings } = this.deps;
    const issued = await counter.peek(wallet.accountFingerprint);
    const tracked = new Set(
      (await repo.listForwardable()).flatMap((p) => p.outputs.map(outpointKey)),
    );
    const stray: SweepInputRecord[] = [];
    for (let index = 0; index < issued + gap; index++) {
      const { address } = wallet.receiveAddress(index);
      const txs = await chain.addressTransactions(address);
      const spent = new Set(txs.flatMap((tx) => tx.spends.map(outpointKey)));
      for (const tx of txs) {
        const height = tx.status.confirmed ? tx.status.blockHeight : undefined;
        if (confirmationsOf({ blockHeight: height }, tipHeight) < settings.minConfirmations)
          continue;
        for (const out of tx.outputs) {
          const key = outpointKey({ txid: tx.txid, vout: out.vout });
          if (out.address !== address || spent.has(key) || tracked.has(key)) continue;
          stray.push({
            paymentId: `stray:${index}`,
            txid: tx.txid,
            vout: out.vout,
            valueSats: out.valueSats,
            scriptType: wallet.scriptType,
            index,
          });
        }
      }
    }
    const claimed = await sweeps.claimed(stray.map(outpointKey));
    return stray.filter((s) => !claimed.has(outpointKey(s)));
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
    const destination = await this.nextDestination();
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
    await sweeps.create(sweep);
    if (!(await sweeps.claim(sweep._id, sweep.inputs))) {
      // Another forwarder (a replica) claimed some of these coins first.
      await sweeps.transition(
        sweep._id,
        ['building'],
        'abandoned',
        {},
        'coins claimed by another sweep',
      );
      return { waiting: 'coins claimed by another sweep' };
    }
    return { sweep: await this.signAndSend(sweep, plan) };
  }

  /**
   * An admin's "forward this payment now": gives back the coins of its rejected sweeps, then
   * sweeps its due outputs at once, whatever their fee share (never below dust).
   */
  async forwardNow(paymentId: string): Promise<{ sweep?: Sweep; waiting?: string }> {
    const { sweeps, chain } = this.deps;
    for (const rejected of await sweeps.inState('rejected')) {
      if (!rejected.inputs.some((i) => i.paymentId === paymentId)) continue;
      if (
        await sweeps.transition(rejected._id, ['rejected'], 'abandoned', {}, 'retried by an admin')
      ) {
        await sweeps.releaseClaims(rejected._id);
      }
    }
    const { height } = await chain.tip();
    return this.sweepDue(height, { force: true, paymentId });
  }

  /** psbt mode: the admin's signed PSBT (or raw transaction) for a sweep awaiting signature. */
  async submitSigned(sweepId: string, submitted: string): Promise<Sweep> {
    const sweep = await this.deps.sweeps.get(sweepId);
    if (!sweep) throw new SweepStateError(sweepId, 'abandoned', `sweep ${sweepId} not found`);
    if (sweep.state !== 'awaiting_signature') {
      throw new SweepStateError(
        sweepId,
        sweep.state,
        `sweep ${sweepId} is ${sweep.state}, not awaiting a signature`,
      );
    }
    const signed = acceptSignedSweep(planOf(sweep), submitted, this.network, this.sweepAccount());
    const stored = await this.deps.sweeps.transition(
      sweepId,
      ['awaiting_signature'],
      'signed',
      { hex: signed.hex, txid: signed.txid },
      'signed PSBT submitted',
    );
    if (!stored)
      throw new SweepStateError(sweepId, sweep.state, `sweep ${sweepId} changed meanwhile`);
    await this.broadcast({ ...sweep, state: 'signed', hex: signed.hex, txid: signed.txid });
    return (await this.deps.sweeps.get(sweepId)) ?? sweep;
  }

  private async signAndSend(sweep: Sweep, plan: SweepPlan): Promise<Sweep> {
    const { sweeps, signer } = this.deps;
    const psbt = buildSweepPsbt(plan, this.sweepAccount(), this.network);
    if (!signer) {
      await sweeps.transition(
        sweep._id,
        ['building'],
        'awaiting_signature',
        { psbt: psbt.toBase64() },
        'PSBT ready for an admin to sign',
      );
      this.deps.log.info(
        { sweepId: sweep._id, inputs: plan.inputs.length },
        'sweep PSBT awaits a signature',
      );
      return (await sweeps.get(sweep._id)) ?? sweep;
    }
    const signed = signSweep(psbt, plan, signer);
    // Write-ahead: the exact transaction is on disk before anyone can see it on the network.
    await sweeps.transition(
      sweep._id,
      ['building'],
      'signed',
      { hex: signed.hex, txid: signed.txid },
      `signed ${signed.txid}`,
    );
    failpoint('after-sweep-stored');
    const stored = { ...sweep, state: 'signed' as const, hex: signed.hex, txid: signed.txid };
    await this.broadcast(stored);
    return (await sweeps.get(sweep._id)) ?? stored;
  }

  /** Broadcasts a stored signed sweep and records it; true when it is out. */
  private async broadcast(sweep: Sweep): Promise<boolean> {
    const { chain, sweeps, log } = this.deps;
    if (!sweep.hex || !sweep.txid) return false;
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
    const tip = await chain.tip();
    await sweeps.transition(
      sweep._id,
      ['signed'],
      'broadcast',
      { broadcastAt: this.now(), broadcastHeight: tip.height },
      `broadcast at height ${tip.height}`,
    );
    if (sweep.bumpOf) {
      await sweeps.transition(
        sweep.bumpOf,
        ['broadcast', 'signed'],
        'replaced',
        { replacedBy: sweep._id },
        `replaced by ${sweep.txid}`,
      );
    }
    log.info(
      {
        sweepId: sweep._id,
        txid: sweep.txid,
        inputs: sweep.inputs.length,
        feeSats: sweep.feeSats,
        feeRate: sweep.feeRate,
      },
      'sweep broadcast',
    );
    await this.recordOnPayments(
      sweep,
      'forwarded',
      `swept to ${sweep.destination} in ${sweep.txid}`,
    );
    return true;
  }

  private async rebroadcast(sweep: Sweep): Promise<void> {
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
      await sweeps.transferClaims(sweep._id, sweep.bumpOf);
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

  private async bump(sweep: Sweep): Promise<boolean> {
    const { sweeps, signer } = this.deps;
    if (!signer) return false;
    let plan: SweepPlan;
    try {
      plan = planReplacement(planOf(sweep), await this.feeRate(), this.network);
    } catch (err) {
      if (err instanceof SweepError) return false;
      throw err;
    }
    const replacement: Sweep = {
      ...sweep,
      _id: `swp_${randomBytes(12).toString('base64url')}`,
      state: 'building',
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
    delete replacement.hex;
    delete replacement.txid;
    delete replacement.broadcastAt;
    delete replacement.broadcastHeight;
    await sweeps.create(replacement);
    await sweeps.transferClaims(sweep._id, replacement._id);
    const sent = await this.signAndSend(replacement, plan);
    return sent.state === 'broadcast';
  }

  /** Confirmed, unclaimed outputs of payments, oldest payments first, at most a sweep's worth. */
  private async dueInputs(tipHeight: number, onlyPaymentId?: string): Promise<SweepInputRecord[]> {
    const { repo, sweeps, settings } = this.deps;
    const payments = await repo.listForwardable(onlyPaymentId);
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
    const claimed = await sweeps.claimed(candidates.map(outpointKey));
    await this.closeFinished(payments, claimed);
    return candidates
      .filter((c) => !claimed.has(outpointKey(c)))
      .slice(0, settings.maxInputsPerSweep);
  }

  /** Payments no longer watched whose every output is claimed need no more looking at. */
  private async closeFinished(payments: IssuedPayment[], claimed: Set<string>): Promise<void> {
    for (const p of payments) {
      if (
        !p.watching &&
        p.outputs.length > 0 &&
        p.outputs.every((o) => claimed.has(outpointKey(o)))
      ) {
        await this.deps.repo.markSweepDone(p._id);
      }
    }
  }

  private async recordOnPayments(
    sweep: Sweep,
    type: 'forwarded' | 'sweep_confirmed',
    cause: string,
  ): Promise<void> {
    const ids = [...new Set(sweep.inputs.map((i) => i.paymentId))];
    for (const id of ids) {
      try {
        await this.deps.repo.recordSweep(id, type, cause, sweep.txid ?? '', this.now());
      } catch (err) {
        this.deps.log.warn(
          { err, paymentId: id, sweepId: sweep._id },
          'recording the sweep on a payment failed',
        );
      }
    }
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

  private async nextDestination(): Promise<{ address: string; index?: number }> {
    const d = this.deps.destination;
    if (d.kind === 'address') return { address: d.address };
    const index = await d.counter.allocate(d.account.accountFingerprint, 'cold');
    return { address: d.account.receiveAddress(index).address, index };
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
