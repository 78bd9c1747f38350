/**
 * Sweeps and the outpoints they claim. A claim is a document keyed by `txid:vout`, so two sweeps
 * can never spend the same coin: the second insert fails on the unique `_id`. A sweep's signed
 * transaction is stored before it is broadcast (write-ahead), so a crash at any point leaves
 * either nothing broadcastable or exactly the transaction to (re)broadcast.
 */
import type { Collection, Db, Filter } from 'mongodb';
import { outpointKey } from '../chain/outpoint.js';
import {
  type Sweep,
  type SweepInputRecord,
  type SweepState,
  checkTransition,
} from '../forwarding/sweep.js';
import type { SweepStore } from '../forwarding/sweep-store.js';
import { afterCursor, decodeCursor, nextCursor } from './cursor.js';
import { isDuplicateKey } from './mongo.js';

interface Claim {
  _id: string;
  sweepId: string;
  paymentId: string;
}

export class SweepRepository implements SweepStore {
  private readonly sweeps: Collection<Sweep>;
  private readonly claims: Collection<Claim>;

  constructor(
    db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.sweeps = db.collection<Sweep>('sweeps');
    this.claims = db.collection<Claim>('sweep_claims');
  }

  async ensureIndexes(): Promise<void> {
    await this.sweeps.createIndex({ state: 1 }, { name: 'state' }, {});
    await this.sweeps.createIndex({ createdAt: -1, _id: -1 }, { name: 'created' }, {});
    await this.sweeps.createIndex({ txid: 1 }, { name: 'txid', sparse: true }, {});
    await this.claims.createIndex({ sweepId: 1 }, { name: 'sweep' }, {});
    await this.sweeps.createIndex({ bumpOf: 1 }, { name: 'bump_of', sparse: true }, {});
    // The accounting export looks up the sweeps of each batch of payments.
    await this.sweeps.createIndex({ 'inputs.paymentId': 1 }, { name: 'input_payment' }, {});
  }

  async create(sweep: Sweep): Promise<void> {
    await this.sweeps.insertOne(sweep);
  }

  get(id: string): Promise<Sweep | null> {
    return this.sweeps.findOne({ _id: id });
  }

  inState(...states: SweepState[]): Promise<Sweep[]> {
    return this.sweeps
      .find({ state: { $in: states } })
      .sort({ createdAt: 1 })
      .toArray();
  }

  /** Claims every input for `sweepId`; false (and nothing left claimed) if any is taken. */
  async claim(sweepId: string, inputs: SweepInputRecord[]): Promise<boolean> {
    const taken: string[] = [];
    for (const input of inputs) {
      try {
        await this.claims.insertOne({
          _id: outpointKey(input),
          sweepId,
          paymentId: input.paymentId,
        });
        taken.push(outpointKey(input));
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        await this.claims.deleteMany({ _id: { $in: taken }, sweepId });
        return false;
      }
    }
    return true;
  }

  /** Outpoints (of `keys`) some sweep already claims. */
  async claimed(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const docs = await this.claims
      .find({ _id: { $in: keys } }, { projection: { _id: 1 } })
      .toArray();
    return new Set(docs.map((d) => d._id));
  }

  /** Which sweep claims each of `keys` (claimed ones only). */
  async claimOwners(keys: string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const docs = await this.claims.find({ _id: { $in: keys } }).toArray();
    return new Map(docs.map((d) => [d._id, d.sweepId]));
  }

  /** Hands the claims on `keys` to `sweepId` (the member of a bump family in charge). */
  async reassignClaims(keys: string[], sweepId: string): Promise<void> {
    if (keys.length === 0) return;
    await this.claims.updateMany({ _id: { $in: keys } }, { $set: { sweepId } });
  }

  /** Abandoned sweeps whose claims a crash kept from being released. */
  abandonedWithClaims(): Promise<Sweep[]> {
    return this.sweeps.find({ state: 'abandoned', claimsReleased: false }).toArray();
  }

  async markClaimsReleased(id: string): Promise<void> {
    await this.sweeps.updateOne({ _id: id }, { $set: { claimsReleased: true } });
  }

  /** Broadcast sweeps whose broadcast is not recorded on their payments yet. */
  unrecorded(): Promise<Sweep[]> {
    return this.sweeps
      .find({ state: { $in: ['broadcast', 'confirmed'] }, recordedAt: { $exists: false } })
      .sort({ createdAt: 1 })
      .toArray();
  }

  async markRecorded(id: string): Promise<void> {
    await this.sweeps.updateOne({ _id: id }, { $set: { recordedAt: this.now() } });
  }

  /** Fee bumps of `id`. */
  bumpsOf(id: string): Promise<Sweep[]> {
    return this.sweeps.find({ bumpOf: id }).toArray();
  }

  /** The states of the sweeps `ids`. */
  async statesOf(ids: string[]): Promise<Map<string, SweepState>> {
    if (ids.length === 0) return new Map();
    const docs = await this.sweeps
      .find({ _id: { $in: ids } }, { projection: { _id: 1, state: 1 } })
      .toArray();
    return new Map(docs.map((d) => [d._id, d.state]));
  }

  async clearReplacedBy(id: string): Promise<void> {
    await this.sweeps.updateOne({ _id: id }, { $unset: { replacedBy: '' } });
  }

  withTxid(txid: string): Promise<Sweep[]> {
    return this.sweeps.find({ txid }).toArray();
  }

  /** Sets fields and records an admin-visible event without changing the state. */
  async annotate(id: string, set: Partial<Sweep>, type: string, cause: string): Promise<void> {
    const at = this.now();
    await this.sweeps.updateOne(
      { _id: id },
      { $set: { ...set, updatedAt: at }, $push: { events: { at, type, cause } } },
    );
  }

  /** Outpoints (of `keys`) spent by a sweep that is broadcast or confirmed: gone from the hot wallet. */
  async sweptOutpoints(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const claims = await this.claims.find({ _id: { $in: keys } }).toArray();
    const sweepIds = [...new Set(claims.map((c) => c.sweepId))];
    const out = await this.sweeps
      .find({ _id: { $in: sweepIds }, state: { $in: ['broadcast', 'confirmed'] } })
      .project<{ _id: string }>({ _id: 1 })
      .toArray();
    const gone = new Set(out.map((s) => s._id));
    return new Set(claims.filter((c) => gone.has(c.sweepId)).map((c) => c._id));
  }

  async releaseClaims(sweepId: string): Promise<void> {
    await this.claims.deleteMany({ sweepId });
  }

  async transferClaims(fromSweepId: string, toSweepId: string): Promise<void> {
    await this.claims.updateMany({ sweepId: fromSweepId }, { $set: { sweepId: toSweepId } });
  }

  /**
   * Moves a sweep from one of `from` to `to`, setting `set`; false if it was not in `from`.
   * The table check comes first: a move it refuses throws and writes nothing.
   */
  async transition(
    id: string,
    from: readonly SweepState[],
    to: SweepState,
    set: Partial<Sweep>,
    cause: string,
  ): Promise<boolean> {
    checkTransition(from, to);
    const at = this.now();
    const result = await this.sweeps.updateOne(
      { _id: id, state: { $in: [...from] } },
      { $set: { ...set, state: to, updatedAt: at }, $push: { events: { at, type: to, cause } } },
    );
    return result.modifiedCount === 1;
  }

  async list(filter: {
    state?: SweepState;
    limit: number;
    cursor?: string;
  }): Promise<{ items: Sweep[]; nextCursor: string | null }> {
    const query: Filter<Sweep> = {};
    if (filter.state) query.state = filter.state;
    if (filter.cursor !== undefined) Object.assign(query, afterCursor(decodeCursor(filter.cursor)));
    const items = await this.sweeps
      .find(query)
      .sort({ createdAt: -1, _id: -1 })
      .limit(filter.limit)
      .toArray();
    return { items, nextCursor: nextCursor(items, filter.limit) };
  }
}
