/**
 * Where the block scan stands, in MongoDB: the recent header chain (`chain_headers`, one
 * document per block hash) and the scan position (`chain_state`, `_id: 'scan'`). Any replica
 * that leads next continues from here; every move of the position is guarded on the position
 * it was read at, so two scanners never move it twice.
 */
import type { Collection, Db } from 'mongodb';
import { isDuplicateKey } from './mongo.js';

export interface StoredHeader {
  /** The block hash. */
  _id: string;
  height: number;
  prevHash: string;
  /** Absent for the base header a new installation starts from (its block was never fetched). */
  bits?: number;
  time?: number;
}

export interface ScanState {
  _id: 'scan';
  tipHash: string;
  tipHeight: number;
  updatedAt: Date;
  /**
   * Set when the scan started on a database that already had payments: those were created
   * before the scan's base block, so each gets one address look-up until a cycle completes it.
   */
  catchUp?: { before: Date; done: boolean };
}

/** How many headers below the tip are kept: one difficulty period, far beyond any reorg. */
export const KEPT_HEADERS = 2016;

export class ChainStateStore {
  private readonly headers: Collection<StoredHeader>;
  private readonly state: Collection<ScanState>;

  constructor(db: Db) {
    this.headers = db.collection<StoredHeader>('chain_headers');
    this.state = db.collection<ScanState>('chain_state');
  }

  async ensureIndexes(): Promise<void> {
    await this.headers.createIndex({ height: 1 }, { name: 'height' }, {});
  }

  scanState(): Promise<ScanState | null> {
    return this.state.findOne({ _id: 'scan' });
  }

  /**
   * Starts the scan at `base` unless it already started (another replica won the race);
   * returns the state in force either way.
   */
  async initialize(base: StoredHeader, now: Date, catchUpBefore?: Date): Promise<ScanState> {
    await this.saveHeader(base);
    const doc: ScanState = {
      _id: 'scan',
      tipHash: base._id,
      tipHeight: base.height,
      updatedAt: now,
      ...(catchUpBefore && { catchUp: { before: catchUpBefore, done: false } }),
    };
    try {
      await this.state.insertOne(doc);
      return doc;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const existing = await this.scanState();
      if (!existing) throw err;
      return existing;
    }
  }

  /** Stores a header (idempotent: the hash names the content). */
  async saveHeader(header: StoredHeader): Promise<void> {
    const { _id, ...fields } = header;
    await this.headers.updateOne({ _id }, { $set: fields }, { upsert: true });
  }

  /** Every stored header, keyed by hash (at most KEPT_HEADERS plus a few stale ones). */
  async allHeaders(): Promise<Map<string, StoredHeader>> {
    const docs = await this.headers.find({}).toArray();
    return new Map(docs.map((h) => [h._id, h]));
  }

  async deleteHeaders(hashes: string[]): Promise<void> {
    if (hashes.length > 0) await this.headers.deleteMany({ _id: { $in: hashes } });
  }

  /** Moves the scan position from `fromHash` to `to`; false when someone else moved it first. */
  async moveTip(fromHash: string, to: { hash: string; height: number }, now: Date) {
    const result = await this.state.updateOne(
      { _id: 'scan', tipHash: fromHash },
      { $set: { tipHash: to.hash, tipHeight: to.height, updatedAt: now } },
    );
    return result.modifiedCount === 1;
  }

  async markCatchUpDone(): Promise<void> {
    await this.state.updateOne({ _id: 'scan' }, { $set: { 'catchUp.done': true } });
  }

  /** Forgets headers more than KEPT_HEADERS below `tipHeight`. */
  async prune(tipHeight: number): Promise<void> {
    await this.headers.deleteMany({ height: { $lt: tipHeight - KEPT_HEADERS } });
  }
}
