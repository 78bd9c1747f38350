#!/usr/bin/env node
/** satwatch command line: `satwatch serve` starts the HTTP API. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { buildApp } from './app.js';

interface HttpSettings {
  host: string;
  port: number;
  logLevel: string;
}

function findConfigDir(): string {
  if (process.env.SATWATCH_CONFIG_DIR) return process.env.SATWATCH_CONFIG_DIR;
  // src/main.ts runs from the repo; dist/src/main.js one level deeper.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates: [string, string] = [
    path.resolve(here, '../config'),
    path.resolve(here, '../../config'),
  ];
  return candidates.find((dir) => existsSync(path.join(dir, 'default.json'))) ?? candidates[0];
}

function httpSettings(): HttpSettings {
  const defaults = JSON.parse(readFileSync(path.join(findConfigDir(), 'default.json'), 'utf8')) as {
    http: { host: string; port: number };
    log: { level: string };
  };
  const port = Number(process.env.SATWATCH_HTTP_PORT ?? defaults.http.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `SATWATCH_HTTP_PORT must be a port number, got "${process.env.SATWATCH_HTTP_PORT ?? ''}"`,
    );
  }
  return {
    host: process.env.SATWATCH_HTTP_HOST ?? defaults.http.host,
    port,
    logLevel: process.env.SATWATCH_LOG_LEVEL ?? defaults.log.level,
  };
}

async function serve(): Promise<void> {
  const settings = httpSettings();
  const app = buildApp({ logger: { level: settings.logLevel } });
  const shutdown = (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await app.listen({ host: settings.host, port: settings.port });
}

async function main(argv: string[]): Promise<void> {
  const [command] = argv;
  if (command === 'serve') return serve();
  console.error('usage: satwatch serve');
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
