/**
 * Crash points for the crash-safety tests (in the spirit of etcd's gofail): inert unless the
 * environment variable SATWATCH_FAILPOINT names one, in which case the process dies on the spot
 * with SIGKILL, exactly as a power cut would leave it.
 */
export type Failpoint = 'after-sweep-stored' | 'after-sweep-broadcast';

export function failpoint(name: Failpoint): void {
  if (process.env.SATWATCH_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
