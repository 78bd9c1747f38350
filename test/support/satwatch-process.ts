/** The satwatch command line as a child process, the way an operator runs it. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../lab/paths.js';

export interface SatwatchProcess {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<number | null>;
  output(): { stdout: string; stderr: string };
  /** Resolves when stdout has a line matching `pattern` (or rejects after `timeoutMs`). */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function spawnSatwatch(args: string[], env: Record<string, string>): SatwatchProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'src/main.ts'), ...args],
    {
      // Ops listener on a free port unless the test names one: several daemons run at once.
      env: { ...process.env, SATWATCH_LOG_LEVEL: 'warn', SATWATCH_OPS_PORT: '0', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of [...waiters]) {
      const line = stdout.split('\n').find((l) => waiter.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      resolve(code);
    });
  });
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    waitForLine(pattern, timeoutMs = 30_000) {
      const line = stdout.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(
              `no line matching ${String(pattern)} within ${timeoutMs} ms; stderr: ${stderr.slice(-500)}`,
            ),
          );
        }, timeoutMs);
        waiters.push({
          pattern,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

/**
 * Resolves once `url` answers 2xx; rejects as soon as the process exits first. No deadline of
 * its own: a slow machine only makes it wait longer, and the test's timeout is the bound.
 */
export async function untilServing(url: string, exited: Promise<unknown>): Promise<void> {
  const process: { exited: boolean; code?: unknown } = { exited: false };
  void exited.then((code) => {
    process.exited = true;
    process.code = code;
  });
  for (;;) {
    if (process.exited)
      throw new Error(`satwatch exited (${String(process.code)}) before ${url} answered`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(10_000) }).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
