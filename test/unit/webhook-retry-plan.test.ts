import { describe, expect, it } from 'vitest';
import {
  RETRY_WINDOW_SECONDS,
  plannedDelaySeconds,
  retryPlan,
} from '../../src/webhooks/retry-plan.js';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('webhook retry plan', () => {
  it('keeps the quick retries and stretches the default 12 attempts over at least 3 days', () => {
    const plan = retryPlan(12);
    expect(plan).toHaveLength(11);
    expect(plan.slice(0, 6)).toEqual([10, 60, 300, 900, 1800, 3600]);
    expect(sum(plan)).toBeGreaterThanOrEqual(RETRY_WINDOW_SECONDS);
    // Never shrinking: each delay at least the one before.
    for (let i = 1; i < plan.length; i++) expect(plan[i]).toBeGreaterThanOrEqual(plan[i - 1]!);
  });

  it.each([2, 3, 5, 8, 20, 40, 100])(
    'spans at least the window with %i attempts, never shrinking',
    (n) => {
      const plan = retryPlan(n);
      expect(plan).toHaveLength(n - 1);
      expect(sum(plan)).toBeGreaterThanOrEqual(RETRY_WINDOW_SECONDS);
      for (let i = 1; i < plan.length; i++) expect(plan[i]).toBeGreaterThanOrEqual(plan[i - 1]!);
    },
  );

  it('is the plain schedule when the window is 0 or already covered', () => {
    expect(retryPlan(8, 0)).toEqual([10, 60, 300, 900, 1800, 3600, 7200]);
    expect(retryPlan(1)).toEqual([]);
    expect(plannedDelaySeconds(retryPlan(3, 0), 5)).toBe(60);
  });

  it('refuses a non-positive attempt count', () => {
    expect(() => retryPlan(0)).toThrow(RangeError);
  });
});
