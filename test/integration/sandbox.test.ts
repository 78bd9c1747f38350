/**
 * The newcomer's sandbox, run exactly as the README shows it: `npm run sandbox`, then
 * `npm run sandbox:pay`, then `npm run sandbox:down`, each typed into a shell.
 */
import { exec } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { labDir, repoRoot } from '../lab/paths.js';
import { isAlive } from '../lab/process.js';

const shell = promisify(exec);

/** Runs `command` in a shell at the repository root; fails with its output if it fails. */
async function typed(command: string): Promise<string> {
  // The test runner's own settings must not reach the scripts (NODE_ENV=test, a lab dir…).
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('VITEST') && name !== 'NODE_ENV',
    ),
  );
  try {
    const { stdout } = await shell(command, { cwd: repoRoot, env, timeout: 90_000 });
    return stdout;
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`"${command}" failed:\n${stdout}\n${stderr}`, { cause: err });
  }
}

const pidIn = (output: string) => Number(/\(pid (\d+);/.exec(output)?.[1]);

describe('the sandbox', () => {
  afterAll(async () => {
    await typed('npm run sandbox:down');
  });

  it('starts once, takes the demo payment to forwarded, and stops', async () => {
    const first = await typed('npm run sandbox');
    const again = await typed('npm run sandbox');
    expect(existsSync(path.join(labDir, 'sandbox.env'))).toBe(true);
    // Running it twice leaves one daemon: the second run replaced the first.
    expect(again).toContain('stopped the previous sandbox daemon');
    expect(isAlive(pidIn(first))).toBe(false);
    const pid = pidIn(again);
    expect(isAlive(pid)).toBe(true);

    const checkoutUrl = /checkout page: (http:\/\/127\.0\.0\.1:\d+\/pay\/\S+)/.exec(again)?.[1];
    expect(checkoutUrl).toBeDefined();
    const page = await fetch(checkoutUrl!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('satwatch sandbox');
    expect(again).toContain('next: npm run sandbox:pay');

    const paid = await typed('npm run sandbox:pay');
    const states = [...paid.matchAll(/status: (\w+)/g)].map((m) => m[1]);
    expect(states).toContain('confirmed');
    expect(states.at(-1)).toBe('forwarded');
    expect(states.indexOf('confirmed')).toBeLessThan(states.indexOf('forwarded'));
    expect(paid).toMatch(/status: confirmed \(\d+\/3 confirmations, .*100 credits to alice\)/);
    expect(paid).toMatch(/forwarded: swept to bcrt1\w+ in [0-9a-f]{64}/);

    const down = await typed('npm run sandbox:down');
    expect(down).toContain(`stopped satwatch (pid ${pid})`);
    expect(isAlive(pid)).toBe(false);
    await expect(fetch(checkoutUrl!)).rejects.toThrow();
    expect(existsSync(path.join(labDir, 'sandbox.env'))).toBe(false);
  }, 90_000);
});
