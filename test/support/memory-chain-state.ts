/**
 * An in-memory ChainState (the block scan's position and header chain) for watcher unit tests.
 * Like storage/chain-state.ts it starts the scan once (a second start gets the state in force)
 * and moves the position only from the hash the mover read, so two scanners never move it twice.
 */
import {
  type ChainState,
  KEPT_HEADERS,
  type ScanState,
  type StoredHeader,
} from '../../src/storage/chain-state.js';

export class MemoryChainState implements ChainState {
  private readonly headers = new Map<string, StoredHeader>();
  private state: ScanState | null = null;

  scanState(): Promise<ScanState | null> {
    return Promise.resolve(this.state && structuredClone(this.state));
  }

  async initialize(base: StoredHeader, now: Date, catchUpBefore?: Date): Promise<ScanState> {
    await this.saveHeader(base);
    this.state ??= {
      _id: 'scan',
      tipHash: base._id,
      tipHeight: base.height,
      updatedAt: now,
      ...(catchUpBefore && { catchUp: { before: catchUpBefore, done: false } }),
    };
    return structuredClone(this.state);
  }

  saveHeader(header: StoredHeader): Promise<void> {
    this.headers.set(header._id, { ...this.headers.get(header._id), ...structuredClone(header) });
    return Promise.resolve();
  }

  allHeaders(): Promise<Map<string, StoredHeader>> {
    return Promise.resolve(
      new Map([...this.headers].map(([hash, h]) => [hash, structuredClone(h)])),
    );
  }

  deleteHeaders(hashes: string[]): Promise<void> {
    for (const hash of hashes) this.headers.delete(hash);
    return Promise.resolve();
  }

  moveTip(fromHash: string, to: { hash: string; height: number }, now: Date): Promise<boolean> {
    if (this.state?.tipHash !== fromHash) return Promise.resolve(false);
    this.state = { ...this.state, tipHash: to.hash, tipHeight: to.height, updatedAt: now };
    return Promise.resolve(true);
  }

  markCatchUpDone(): Promise<void> {
    if (this.state?.catchUp) this.state.catchUp.done = true;
    return Promise.resolve();
  }

  prune(tipHeight: number): Promise<void> {
    for (const [hash, h] of this.headers) {
      if (h.height < tipHeight - KEPT_HEADERS) this.headers.delete(hash);
    }
    return Promise.resolve();
  }
}
