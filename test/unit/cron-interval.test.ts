import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import {
  EXACT_INTERVAL_SECONDS,
  cronEvery,
  cronIntervalProblem,
} from '../../src/watcher/cron-interval.js';

/** Seconds between the next `count` firings node-cron itself computes for `expression`. */
function gaps(expression: string, count: number): number[] {
  const task = cron.createTask(expression, () => undefined);
  const runs = task.getNextRuns(count).map((d) => d.getTime() / 1000);
  void task.destroy();
  return runs.slice(1).map((t, i) => t - runs[i]!);
}

describe('watcher intervals node-cron can fire exactly', () => {
  it('fires every accepted interval at exactly that spacing, by node-cron’s own schedule', () => {
    for (const seconds of EXACT_INTERVAL_SECONDS) {
      const count = seconds >= 600 ? 4 : 12;
      expect(new Set(gaps(cronEvery(seconds), count)), `${seconds} s`).toEqual(new Set([seconds]));
    }
  });

  it('refuses 45 s, which a */45 step would fire at :00 and :45', () => {
    expect(new Set(gaps('*/45 * * * * *', 8))).toEqual(new Set([45, 15]));
    expect(cronIntervalProblem(45)).toMatch(/nearest: 30 or 60/);
    expect(() => cronEvery(45)).toThrow(RangeError);
  });

  it('refuses every interval outside the exact list, up to an hour', () => {
    for (let s = 1; s <= 3600; s++) {
      expect(cronIntervalProblem(s) === undefined).toBe(EXACT_INTERVAL_SECONDS.includes(s));
    }
  });
});
