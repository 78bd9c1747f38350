/**
 * The watcher intervals node-cron fires exactly. A step (`*\/45`) restarts at every minute or
 * hour, so 45 s fires at :00 and :45 — 45 s then 15 s. Only steps that divide the minute (or,
 * in whole minutes, the hour) repeat evenly, so only those are accepted.
 */

/** Seconds that divide a minute, and whole minutes that divide an hour. */
export const EXACT_INTERVAL_SECONDS: readonly number[] = [
  ...[1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30],
  ...[1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60].map((m) => m * 60),
];

/** Why cron cannot fire every `seconds` exactly, naming the nearest valid values; or undefined. */
export function cronIntervalProblem(seconds: number): string | undefined {
  if (EXACT_INTERVAL_SECONDS.includes(seconds)) return undefined;
  const below = EXACT_INTERVAL_SECONDS.filter((s) => s < seconds).at(-1);
  const above = EXACT_INTERVAL_SECONDS.find((s) => s > seconds);
  const nearest = [below, above].filter((s) => s !== undefined).join(' or ');
  return (
    `${seconds} cannot be scheduled exactly by cron (steps restart every minute or hour); ` +
    `use a number of seconds that divides 60, or whole minutes that divide 60 — nearest: ${nearest}`
  );
}

/** The cron expression firing every `seconds`, which must be one of EXACT_INTERVAL_SECONDS. */
export function cronEvery(seconds: number): string {
  const problem = cronIntervalProblem(seconds);
  if (problem !== undefined) throw new RangeError(`watcher interval ${problem}`);
  if (seconds < 60) return `*/${seconds} * * * * *`;
  const minutes = seconds / 60;
  return minutes === 60 ? '0 0 * * * *' : `0 */${minutes} * * * *`;
}
