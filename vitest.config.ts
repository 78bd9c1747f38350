import { defineConfig } from 'vitest/config';

/**
 * Integration files that neither mine, pay, reorg nor set lab-wide state (each daemon gets a
 * database and a wallet of its own), so they may run beside each other. The lab client refuses
 * chain-changing calls in these files, so a file that starts mining fails loudly here instead
 * of racing another file's assertions.
 */
const PARALLEL_INTEGRATION = [
  'address-allocation',
  'daemon-process',
  'ledger',
  'monitoring',
  'openapi-fuzz',
  'rates',
  'users-api',
  'webhooks',
  'webhooks-api',
].map((name) => `test/integration/${name}.test.ts`);

// Real processes, a real chain: limits catch hangs; waits inside tests are event-based.
const integrationLimits = { testTimeout: 180_000, hookTimeout: 300_000 };

// Projects run in groups, lowest first; projects in one group share a worker count.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
          // Property tests run thousands of cases: idle they take about a second, on a loaded
          // 2-core machine many times that. The limit catches a hang, not a slow machine.
          testTimeout: 120_000,
        },
      },
      {
        // The lab's own tests: a broken lab fails here, before any product test runs on it.
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
          ...integrationLimits,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: PARALLEL_INTEGRATION,
          globalSetup: ['test/global-setup.ts'],
          // One shared chain: mining and reorgs in one file must not race another file's assertions.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          ...integrationLimits,
        },
      },
      {
        test: {
          name: 'integration-parallel',
          include: PARALLEL_INTEGRATION,
          globalSetup: ['test/global-setup.ts'],
          env: { LAB_PARALLEL_FILE: '1' },
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
          ...integrationLimits,
        },
      },
    ],
  },
});
