/**
 * A sweep and its lifecycle. The states and which moves between them are allowed are data
 * (SWEEP_TRANSITIONS): every state change goes through the store's guarded `transition`, which
 * refuses a move the table does not list before it writes anything.
 *
 *   building ──► awaiting_signature ──► signed ──► broadcast ──► confirmed
 *      │                 │                │          │  ▲
 *      │                 └───── rejected ◄┴──────────┘  └─ replaced (its replacement refused)
 *      └──► abandoned ◄─── rejected (an admin retries)
 *
 * and every live state (building … broadcast) may end `replaced` when another member of its
 * fee-bump family confirms.
 */
import type { ScriptType } from '../wallet/extended-key.js';

export const SWEEP_STATES = [
  'building',
  'awaiting_signature',
  'signed',
  'broadcast',
  'confirmed',
  'replaced',
  'rejected',
  'abandoned',
] as const;
export type SweepState = (typeof SWEEP_STATES)[number];

/** From each state, the states a sweep may move to. */
export const SWEEP_TRANSITIONS: Readonly<Record<SweepState, readonly SweepState[]>> = {
  // Nothing stored yet: its builder stores a PSBT or a signed transaction, or it is given up.
  building: ['awaiting_signature', 'signed', 'abandoned', 'rejected', 'replaced'],
  awaiting_signature: ['signed', 'rejected', 'replaced'],
  signed: ['broadcast', 'rejected', 'replaced'],
  broadcast: ['confirmed', 'rejected', 'replaced'],
  confirmed: [],
  // Its replacement was refused by the node: the original is tracked again.
  replaced: ['broadcast'],
  // An admin's retry gives the coins back.
  rejected: ['abandoned'],
  abandoned: [],
};

/** A coin in a sweep in one of these states has left (or is leaving) the hot wallet. */
export const SWEPT: readonly SweepState[] = ['broadcast', 'confirmed'];

/** States in which a sweep may still end up on chain (or be signed): a family's live members. */
export const LIVE: readonly SweepState[] = [
  'building',
  'awaiting_signature',
  'signed',
  'broadcast',
];

export interface SweepInputRecord {
  paymentId: string;
  txid: string;
  vout: number;
  valueSats: number;
  scriptType: ScriptType;
  index: number;
}

export interface SweepEvent {
  at: Date;
  type: string;
  cause: string;
}

export interface Sweep {
  _id: string;
  state: SweepState;
  mode: 'sign' | 'psbt';
  inputs: SweepInputRecord[];
  destination: string;
  /** Index of the destination in the cold xpub, when there is one. */
  destinationIndex?: number;
  feeRate: number;
  vsize: number;
  feeSats: number;
  valueOutSats: number;
  /** Unsigned PSBT (base64), in psbt mode. */
  psbt?: string;
  /** The signed transaction, stored before any broadcast. */
  hex?: string;
  txid?: string;
  broadcastAt?: Date;
  broadcastHeight?: number;
  confirmedHeight?: number;
  confirmedBlockHash?: string;
  bumpOf?: string;
  replacedBy?: string;
  error?: string;
  /** Set false when abandoned, true once its claims are released (a crash may come between). */
  claimsReleased?: boolean;
  /** When its broadcast was recorded on its payments (absent: still to do, e.g. after a crash). */
  recordedAt?: Date;
  createdAt: Date;
  updatedAt: Date;
  events: SweepEvent[];
}

/** A move SWEEP_TRANSITIONS does not list: a bug in the caller, never written. */
export class SweepTransitionError extends Error {
  constructor(
    readonly from: SweepState,
    readonly to: SweepState,
  ) {
    super(`a sweep may not move from ${from} to ${to}`);
    this.name = 'SweepTransitionError';
  }
}

/** The sweep exists but is not in a state the operation needs. */
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

/** No sweep has this id. */
export class SweepNotFoundError extends Error {
  constructor(readonly sweepId: string) {
    super(`sweep ${sweepId} not found`);
    this.name = 'SweepNotFoundError';
  }
}

export function canTransition(from: SweepState, to: SweepState): boolean {
  return SWEEP_TRANSITIONS[from].includes(to);
}

/** Throws SweepTransitionError unless every state of `from` may move to `to`. */
export function checkTransition(from: readonly SweepState[], to: SweepState): void {
  for (const state of from) {
    if (!canTransition(state, to)) throw new SweepTransitionError(state, to);
  }
}
