import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gapReport } from '../../src/wallet/gap-limit.js';

/** What a wallet with gap limit `limit` finds: it stops after `limit` unused addresses in a row. */
function scan(limit: number, used: Set<number>, issued: number): Set<number> {
  const found = new Set<number>();
  let unusedInRow = 0;
  for (let index = 0; index < issued && unusedInRow < limit; index++) {
    if (used.has(index)) {
      found.add(index);
      unusedInRow = 0;
    } else unusedInRow++;
  }
  return found;
}

describe('the gap report', () => {
  it('finds the longest run of unused addresses before a used one, and the trailing run', () => {
    const report = gapReport(40, [0, 3, 30, 31]);
    expect(report).toEqual({
      issued: 40,
      used: 4,
      longestUnusedRun: 26,
      longestRunStart: 4,
      trailingUnused: 8,
      requiredGapLimit: 27,
      gapLimitForIssued: 27,
    });
  });

  it('needs a gap limit of 1 for a wallet whose every address was paid', () => {
    expect(gapReport(5, [0, 1, 2, 3, 4])).toMatchObject({ requiredGapLimit: 1, trailingUnused: 0 });
  });

  it('asks to watch every issued address when the unpaid ones come last', () => {
    expect(gapReport(50, [0])).toMatchObject({ requiredGapLimit: 1, gapLimitForIssued: 49 });
    expect(gapReport(0, [])).toMatchObject({ issued: 0, used: 0, gapLimitForIssued: 1 });
  });

  it('ignores indexes outside the issued range and counts repeats once', () => {
    expect(gapReport(3, [1, 1, 7, -1])).toMatchObject({ used: 1, longestUnusedRun: 1 });
  });

  it('gives the smallest gap limit with which a scanning wallet finds every used address', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 119 }), { maxLength: 30 }),
        (issued, indexes) => {
          const used = new Set(indexes.filter((i) => i < issued));
          const { requiredGapLimit, gapLimitForIssued } = gapReport(issued, used);
          expect(scan(requiredGapLimit, used, issued)).toEqual(used);
          if (requiredGapLimit > 1)
            expect(scan(requiredGapLimit - 1, used, issued).size).toBeLessThan(used.size);
          // With gapLimitForIssued the scan reaches the last issued address.
          const all = new Set([...used, issued - 1]);
          expect(scan(gapLimitForIssued, all, issued)).toEqual(all);
        },
      ),
    );
  });
});
