/**
 * Crash points for the crash-safety tests (in the spirit of etcd's gofail): inert unless the
 * environment variable SATWATCH_FAILPOINT names one, in which case the process dies on the spot
 * with SIGKILL, exactly as a power cut would leave it.
 *
 * The sweep path, in order, has one before and one after each of its writes:
 * create sweep → claim its coins → store the signed transaction (or the PSBT) → broadcast →
 * mark broadcast → record on the payments → mark recorded.
 */
export const SWEEP_FAILPOINTS = [
  'before-sweep-create',
  'after-sweep-create',
  'after-sweep-claim',
  'after-sweep-psbt-stored',
  'after-sweep-stored',
  'after-sweep-broadcast',
  'after-sweep-marked-broadcast',
  'after-sweep-recorded',
  'after-sweep-marked-recorded',
] as const;

export type Failpoint = (typeof SWEEP_FAILPOINTS)[number];

export function failpoint(name: Failpoint): void {
  if (process.env.SATWATCH_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
