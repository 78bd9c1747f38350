/**
 * The gap limit another wallet needs to find every coin of ours. Wallets (Bitcoin Core,
 * Sparrow, Electrum) derive addresses in order and stop after `gap limit` unused ones in a row.
 * Every payment takes the next address, and most are never paid (expired checkouts), so runs of
 * unused addresses longer than the usual 20 are normal here: a wallet with the default setting
 * stops before later coins and "loses" them.
 *
 * Pure: the issued count and the used indexes in, the figures out.
 */

export interface GapReport {
  /** Addresses handed out: indexes 0 … issued-1. */
  issued: number;
  /** Issued addresses that a payment recorded an output on. */
  used: number;
  /** The longest run of unused addresses followed by a used one. */
  longestUnusedRun: number;
  /** Where that run starts (undefined when there is none). */
  longestRunStart: number | undefined;
  /** Unused addresses after the last used one (issued, possibly still to be paid). */
  trailingUnused: number;
  /** The smallest gap limit with which a wallet sees every coin recorded so far. */
  requiredGapLimit: number;
  /** The smallest gap limit with which a wallet also watches every issued address. */
  gapLimitForIssued: number;
}

export function gapReport(issued: number, usedIndexes: Iterable<number>): GapReport {
  const used = [...new Set(usedIndexes)].filter((i) => i >= 0 && i < issued).sort((a, b) => a - b);
  let previous = -1;
  let longestUnusedRun = 0;
  let longestRunStart: number | undefined;
  for (const index of used) {
    const run = index - previous - 1;
    if (run > longestUnusedRun) {
      longestUnusedRun = run;
      longestRunStart = previous + 1;
    }
    previous = index;
  }
  const trailingUnused = issued - previous - 1;
  // A wallet stops after `limit` unused addresses: to reach the used address after a run of
  // `run` unused ones it needs limit > run; to reach the last issued address, limit ≥ trailing.
  const requiredGapLimit = longestUnusedRun + 1;
  return {
    issued,
    used: used.length,
    longestUnusedRun,
    longestRunStart,
    trailingUnused,
    requiredGapLimit,
    gapLimitForIssued: Math.max(requiredGapLimit, trailingUnused),
  };
}
