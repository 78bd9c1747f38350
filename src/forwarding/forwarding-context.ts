/**
 * What every step of forwarding shares: its ports (payments, sweeps, chain), the hot wallet, the
 * cold destination, the narrow settings it reads, its log, and the tip of the latest cycle. The
 * composition root (daemon.ts) maps the configuration onto ForwardingOptions.
 */
import type { BIP32Interface } from 'bip32';
import type { ChainSource } from '../chain/chain-source.js';
import type { PaymentStore } from '../payments/payment-store.js';
import type { WalletAccount } from '../wallet/account.js';
import type { NetworkName } from '../wallet/networks.js';
import type { ColdDestination } from './cold-destination.js';
import type { SweepStore } from './sweep-store.js';

/** The settings forwarding reads (config `forwarding.*`, less the mode and the destination). */
export interface ForwardingOptions {
  /** Confirmation target for the fee estimate, in blocks. */
  feeTargetBlocks: number;
  /** Fee rate bounds and the rate used without estimates, sat/vB. */
  minFeeRate: number;
  maxFeeRate: number;
  fallbackFeeRate: number;
  /** A sweep waits while its fee is more than this share of the value swept (basis points). */
  maxFeeShareBps: number;
  /** An unconfirmed sweep gets a fee bump after this many blocks. */
  bumpAfterBlocks: number;
  maxInputsPerSweep: number;
  /** A coin is swept once it has this many confirmations (or its payment's own, if more). */
  minConfirmations: number;
  /** A sweep still building after this long is abandoned: its builder died. */
  staleBuildSeconds: number;
}

/** Forwarding's own log (pino's shape), so it needs nothing of the watcher. */
export interface ForwardingLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ForwardReport {
  swept: number;
  broadcast: number;
  confirmed: number;
  bumped: number;
  waiting?: string;
  errors: number;
}

export interface ForwardingContext {
  repo: PaymentStore;
  sweeps: SweepStore;
  chain: ChainSource;
  wallet: WalletAccount;
  /** The account's private node, in sign mode only. Never logged, never stored. */
  signer?: BIP32Interface;
  cold: ColdDestination;
  settings: ForwardingOptions;
  log: ForwardingLog;
  now: () => Date;
  network: NetworkName;
  /** The tip of the latest cycle: forwarding never asks the chain for it (3 requests). */
  tipHeight: number | undefined;
}

/** sign: the daemon signs with its private node; psbt: an admin signs elsewhere. */
export function modeOf(ctx: Pick<ForwardingContext, 'signer'>): 'sign' | 'psbt' {
  return ctx.signer ? 'sign' : 'psbt';
}
