/**
 * The chain tip height for stamping new payments (`createdAtHeight`), read at most once per
 * `maxAgeMs`; concurrent creations share one read. A tip read reaches the chain API three
 * times, and payment creation must not multiply upstream traffic. A height a few seconds old
 * is at worst a block low, which only widens the old-funds rule's window by money the
 * address-history check before issue has already ruled out.
 */
import type { ChainSource } from './chain-source.js';

export function recentTipHeight(
  chain: Pick<ChainSource, 'tip'>,
  maxAgeMs: number,
  now: () => number = Date.now,
): () => Promise<number> {
  let cached: { height: number; at: number } | undefined;
  let reading: Promise<number> | undefined;
  return () => {
    if (cached && now() - cached.at < maxAgeMs) return Promise.resolve(cached.height);
    reading ??= chain
      .tip()
      .then(({ height }) => {
        cached = { height, at: now() };
        return height;
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
}
