/** What one watcher cycle did: logged, counted by the metrics, returned to tests and the CLI. */
import type { ForwardReport } from '../forwarding/forwarder.js';

export interface CycleReport {
  /** The scanned height (null when the chain tip could not be read). */
  tipHeight: number | null;
  checked: number;
  changed: number;
  conflicts: number;
  credited: number;
  published: number;
  forwarding: ForwardReport | null;
  errors: number;
  durationMs: number;
  blocksApplied: number;
  blocksDisconnected: number;
  /** Blocks refused because no server sent a block that verifies. */
  blocksRefused: number;
  mempoolChecks: number;
  /** Mempool checks left out for lack of request budget. */
  mempoolDeferred: number;
  /** The lease was lost mid-cycle; the remaining writes were skipped. */
  leaseLost: boolean;
}

export function emptyCycleReport(): CycleReport {
  return {
    tipHeight: null,
    checked: 0,
    changed: 0,
    conflicts: 0,
    credited: 0,
    published: 0,
    forwarding: null,
    errors: 0,
    durationMs: 0,
    blocksApplied: 0,
    blocksDisconnected: 0,
    blocksRefused: 0,
    mempoolChecks: 0,
    mempoolDeferred: 0,
    leaseLost: false,
  };
}
