/**
 * What the forwarder needs of sweep persistence (storage/sweeps.ts implements it with MongoDB).
 * A claim is keyed by the coin's outpoint (chain/outpoint.ts), so two sweeps can never spend the
 * same coin; every write is a single-document guarded update, repeatable after a crash.
 */
import type { Sweep, SweepInputRecord, SweepState } from './sweep.js';

export interface SweepStore {
  create(sweep: Sweep): Promise<void>;
  get(id: string): Promise<Sweep | null>;
  /** Sweeps in any of `states`, oldest first. */
  inState(...states: SweepState[]): Promise<Sweep[]>;
  /** Fee bumps of `id`. */
  bumpsOf(id: string): Promise<Sweep[]>;
  /** The states of the sweeps `ids`. */
  statesOf(ids: string[]): Promise<Map<string, SweepState>>;
  withTxid(txid: string): Promise<Sweep[]>;

  /**
   * Moves a sweep from one of `from` to `to`, setting `set` and recording an event; false if it
   * was not in `from`. A move SWEEP_TRANSITIONS does not allow throws SweepTransitionError and
   * writes nothing.
   */
  transition(
    id: string,
    from: readonly SweepState[],
    to: SweepState,
    set: Partial<Sweep>,
    cause: string,
  ): Promise<boolean>;
  /** Sets fields and records an admin-visible event without changing the state. */
  annotate(id: string, set: Partial<Sweep>, type: string, cause: string): Promise<void>;
  clearReplacedBy(id: string): Promise<void>;

  /** Claims every input for `sweepId`; false (and nothing left claimed) if any is taken. */
  claim(sweepId: string, inputs: SweepInputRecord[]): Promise<boolean>;
  /** Which sweep claims each of `keys` (claimed ones only). */
  claimOwners(keys: string[]): Promise<Map<string, string>>;
  /** Hands the claims on `keys` to `sweepId` (the member of a bump family in charge). */
  reassignClaims(keys: string[], sweepId: string): Promise<void>;
  releaseClaims(sweepId: string): Promise<void>;
  transferClaims(fromSweepId: string, toSweepId: string): Promise<void>;

  /** Abandoned sweeps whose claims a crash kept from being released. */
  abandonedWithClaims(): Promise<Sweep[]>;
  markClaimsReleased(id: string): Promise<void>;
  /** Broadcast sweeps whose broadcast is not recorded on their payments yet. */
  unrecorded(): Promise<Sweep[]>;
  markRecorded(id: string): Promise<void>;
}
