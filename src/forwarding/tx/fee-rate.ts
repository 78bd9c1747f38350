/** Choosing a sweep's fee rate (sat/vB, may be fractional) from the chain's fee estimates. Pure. */

/** sat/vB from an Esplora fee-estimates map for `targetBlocks` (smallest target ≥ requested, else the largest below), clamped to [min, max]; `fallback` (clamped) when the map has no usable entry. */
export function chooseFeeRate(
  estimates: Record<string, number>,
  targetBlocks: number,
  bounds: { min: number; max: number; fallback: number },
): number {
  const { min, max, fallback } = bounds;
  if (!(isPositiveFinite(min) && isPositiveFinite(max) && min <= max)) {
    throw new RangeError(`fee rate bounds [${min}, ${max}] are not 0 < min ≤ max`);
  }
  if (!isPositiveFinite(fallback))
    throw new RangeError(`fallback fee rate ${fallback} is not positive`);
  const clamp = (rate: number) => Math.min(max, Math.max(min, rate));

  let above: [number, number] | undefined; // smallest target ≥ requested
  let below: [number, number] | undefined; // largest target < requested
  for (const [key, rate] of Object.entries(estimates)) {
    const target = Number(key);
    if (!Number.isSafeInteger(target) || target <= 0 || !isPositiveFinite(rate)) continue;
    if (target >= targetBlocks) {
      if (!above || target < above[0]) above = [target, rate];
    } else if (!below || target > below[0]) {
      below = [target, rate];
    }
  }
  const chosen = above ?? below;
  return clamp(chosen ? chosen[1] : fallback);
}

/** Fee rates must be positive and finite (planning refuses anything else). */
export function checkFeeRate(feeRate: number): void {
  if (!isPositiveFinite(feeRate)) throw new RangeError(`fee rate ${feeRate} is not positive`);
}

function isPositiveFinite(n: number): boolean {
  return Number.isFinite(n) && n > 0;
}
