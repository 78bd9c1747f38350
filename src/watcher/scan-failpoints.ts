/**
 * Crash points of the block scan's write sequence, for the kill tests: inert unless the
 * environment variable SATWATCH_FAILPOINT names one (the same switch as forwarding's), in which
 * case the process dies on the spot with SIGKILL, as a power cut would leave it.
 *
 *   after-block-payments   a block's payment writes are done; its header is not stored
 *   after-block-header     the header is stored; the scan position has not moved
 *   after-reorg-payments   a reorg's payment writes are done; headers and position unchanged
 */
export type ScanFailpoint = 'after-block-payments' | 'after-block-header' | 'after-reorg-payments';

export function scanFailpoint(name: ScanFailpoint): void {
  if (process.env.SATWATCH_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
