import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Property tests run thousands of cases: idle they take about a second, on a loaded
          // 2-core machine many times that. The limit catches a hang, not a slow machine.
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          // One shared chain: mining and reorgs in one file must not race another file's assertions.
          fileParallelism: false,
          // Real processes, a real chain: limits catch hangs; waits inside tests are event-based.
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
