/** The daemon as an operator starts it: a real process on a real port, stopped by SIGTERM. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../lab/process.js';
import { repoRoot } from '../lab/paths.js';

describe('satwatch serve', () => {
  it('serves /healthz on the configured port and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'src/main.ts'), 'serve'],
      {
        env: { ...process.env, SATWATCH_HTTP_PORT: String(port), SATWATCH_LOG_LEVEL: 'warn' },
        stdio: 'inherit',
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const body = await waitFor(
        'satwatch',
        async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).json(),
        20_000,
      );
      expect(body).toEqual({ status: 'ok' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
