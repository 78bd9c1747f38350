/**
 * An in-memory SweepStore for forwarder unit tests. It keeps the rules storage/sweeps.ts gets
 * from MongoDB: a coin (its outpoint) claimed by one sweep at a time, all of a sweep's claims or
 * none, and a state change written only from a state the caller saw and only when
 * SWEEP_TRANSITIONS allows it. It passes the same contract suite as the MongoDB repository
 * (test/support/sweep-store-contract.ts).
 */
import { outpointKey } from '../../src/chain/outpoint.js';
import {
  type Sweep,
  type SweepInputRecord,
  type SweepState,
  checkTransition,
} from '../../src/forwarding/sweep.js';
import type { SweepStore } from '../../src/forwarding/sweep-store.js';
import { copy, setFields } from './stored-document.js';

/** A second sweep with an `_id` taken (MongoDB's duplicate key on `_id`). */
export class DuplicateSweepIdError extends Error {
  constructor(readonly id: string) {
    super(`a sweep with id ${id} exists`);
    this.name = 'DuplicateSweepIdError';
  }
}

const oldestFirst = (a: Sweep, b: Sweep) => a.createdAt.getTime() - b.createdAt.getTime();

export class MemorySweepStore implements SweepStore {
  private readonly sweeps = new Map<string, Sweep>();
  /** Outpoint key -> the sweep claiming it. */
  private readonly claims = new Map<string, string>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  create(sweep: Sweep): Promise<void> {
    if (this.sweeps.has(sweep._id)) return Promise.reject(new DuplicateSweepIdError(sweep._id));
    this.sweeps.set(sweep._id, copy(sweep));
    return Promise.resolve();
  }

  get(id: string): Promise<Sweep | null> {
    const sweep = this.sweeps.get(id);
    return Promise.resolve(sweep ? copy(sweep) : null);
  }

  inState(...states: SweepState[]): Promise<Sweep[]> {
    return this.select((s) => states.includes(s.state), oldestFirst);
  }

  bumpsOf(id: string): Promise<Sweep[]> {
    return this.select((s) => s.bumpOf === id);
  }

  statesOf(ids: string[]): Promise<Map<string, SweepState>> {
    const states = new Map<string, SweepState>();
    for (const id of ids) {
      const sweep = this.sweeps.get(id);
      if (sweep) states.set(id, sweep.state);
    }
    return Promise.resolve(states);
  }

  withTxid(txid: string): Promise<Sweep[]> {
    return this.select((s) => s.txid === txid);
  }

  transition(
    id: string,
    from: readonly SweepState[],
    to: SweepState,
    set: Partial<Sweep>,
    cause: string,
  ): Promise<boolean> {
    // A throw in the executor rejects, and the table check comes before any write, as in MongoDB.
    return new Promise((resolve) => {
      checkTransition(from, to);
      const sweep = this.sweeps.get(id);
      if (!sweep || !from.includes(sweep.state)) {
        resolve(false);
        return;
      }
      const at = this.now();
      setFields(sweep, { ...set, state: to, updatedAt: at });
      sweep.events.push({ at, type: to, cause });
      resolve(true);
    });
  }

  annotate(id: string, set: Partial<Sweep>, type: string, cause: string): Promise<void> {
    const sweep = this.sweeps.get(id);
    if (sweep) {
      const at = this.now();
      setFields(sweep, { ...set, updatedAt: at });
      sweep.events.push({ at, type, cause });
    }
    return Promise.resolve();
  }

  clearReplacedBy(id: string): Promise<void> {
    const sweep = this.sweeps.get(id);
    if (sweep) delete sweep.replacedBy;
    return Promise.resolve();
  }

  claim(sweepId: string, inputs: SweepInputRecord[]): Promise<boolean> {
    const keys = inputs.map((input) => outpointKey(input));
    if (keys.some((key) => this.claims.has(key)) || new Set(keys).size !== keys.length) {
      return Promise.resolve(false);
    }
    for (const key of keys) this.claims.set(key, sweepId);
    return Promise.resolve(true);
  }

  claimOwners(keys: string[]): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    for (const key of keys) {
      const owner = this.claims.get(key);
      if (owner !== undefined) owners.set(key, owner);
    }
    return Promise.resolve(owners);
  }

  reassignClaims(keys: string[], sweepId: string): Promise<void> {
    for (const key of keys) if (this.claims.has(key)) this.claims.set(key, sweepId);
    return Promise.resolve();
  }

  releaseClaims(sweepId: string): Promise<void> {
    for (const [key, owner] of this.claims) if (owner === sweepId) this.claims.delete(key);
    return Promise.resolve();
  }

  transferClaims(fromSweepId: string, toSweepId: string): Promise<void> {
    for (const [key, owner] of this.claims) {
      if (owner === fromSweepId) this.claims.set(key, toSweepId);
    }
    return Promise.resolve();
  }

  abandonedWithClaims(): Promise<Sweep[]> {
    return this.select((s) => s.state === 'abandoned' && s.claimsReleased === false);
  }

  markClaimsReleased(id: string): Promise<void> {
    const sweep = this.sweeps.get(id);
    if (sweep) sweep.claimsReleased = true;
    return Promise.resolve();
  }

  unrecorded(): Promise<Sweep[]> {
    return this.select(
      (s) => (s.state === 'broadcast' || s.state === 'confirmed') && !('recordedAt' in s),
      oldestFirst,
    );
  }

  markRecorded(id: string): Promise<void> {
    const sweep = this.sweeps.get(id);
    if (sweep) sweep.recordedAt = this.now();
    return Promise.resolve();
  }

  private select(match: (s: Sweep) => boolean, order?: (a: Sweep, b: Sweep) => number) {
    const found = [...this.sweeps.values()].filter(match).map(copy);
    return Promise.resolve(order ? found.sort(order) : found);
  }
}
