/**
 * When a failed webhook is tried again. The early retries are quick (a receiver that blipped is
 * back within minutes); the rest are spread so that the last attempt of a round comes at least
 * `windowSeconds` (3 days by default) after the first, whatever `webhooks.maxAttempts` says:
 * the setting is the number of attempts in a round, the window is how long they last.
 */

/** Delay before attempt n+1 after attempt n failed: 10 s, 1 min, 5 min, 15 min, 30 min, 1 h, then 2 h. */
export const RETRY_SCHEDULE_SECONDS = [10, 60, 300, 900, 1800, 3600] as const;
export const RETRY_MAX_DELAY_SECONDS = 7200;

/** Retries span at least this long (Standard Webhooks and Stripe practice: about 3 days). */
export const RETRY_WINDOW_SECONDS = 3 * 24 * 3600;

/** The unstretched delay after attempt `attempt` (1-based) failed. */
export function retryDelaySeconds(attempt: number): number {
  return RETRY_SCHEDULE_SECONDS[attempt - 1] ?? RETRY_MAX_DELAY_SECONDS;
}

/**
 * The delays after attempts 1 … maxAttempts-1, in seconds. Keeps as many quick retries of the
 * schedule as fit, then spreads the remaining retries evenly to reach `windowSeconds` (never
 * shorter than the schedule's own delay). With one attempt there is nothing to plan.
 */
export function retryPlan(maxAttempts: number, windowSeconds = RETRY_WINDOW_SECONDS): number[] {
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError('maxAttempts must be a positive integer');
  }
  const retries = maxAttempts - 1;
  const base = Array.from({ length: retries }, (_, i) => retryDelaySeconds(i + 1));
  const total = base.reduce((sum, d) => sum + d, 0);
  if (retries === 0 || total >= windowSeconds) return base;
  // Keep the first `quick` delays as they are; spread the rest. More quick ones first.
  for (let quick = Math.min(RETRY_SCHEDULE_SECONDS.length, retries - 1); quick >= 0; quick--) {
    const kept = base.slice(0, quick);
    const keptTotal = kept.reduce((sum, d) => sum + d, 0);
    const spread = Math.ceil((windowSeconds - keptTotal) / (retries - quick));
    if (spread >= (kept.at(-1) ?? 0)) {
      return [...kept, ...Array.from({ length: retries - quick }, () => spread)];
    }
  }
  return Array.from({ length: retries }, () => Math.ceil(windowSeconds / retries));
}

/** The delay after attempt `attempt` failed, under `plan` (the last entry beyond its end). */
export function plannedDelaySeconds(plan: readonly number[], attempt: number): number {
  return plan[attempt - 1] ?? plan.at(-1) ?? RETRY_MAX_DELAY_SECONDS;
}
