/**
 * The watcher's lease is no longer ours (another replica may lead now): the cycle stops its
 * remaining writes. Every write is guarded anyway; fencing only avoids racing the new leader.
 */
export class LeaseLostError extends Error {
  constructor(readonly phase: string) {
    super(`the watcher lease was lost before the ${phase} writes`);
    this.name = 'LeaseLostError';
  }
}
