/**
 * `satwatch serve`: the HTTP API and the chain watcher, with a graceful shutdown on SIGTERM or
 * SIGINT: stop taking requests, let a running watcher cycle finish (bounded), release the
 * watcher lease, close MongoDB. A second signal during shutdown exits at once.
 */
import os from 'node:os';
import { loadConfig } from '../config/config.js';
import { type Daemon, createDaemon } from '../daemon.js';
import { loggerOptions } from '../observability/logging.js';
import { UsageError } from './usage.js';

/** Resolves true when `work` settles within `ms`, false when the time ran out first. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The ordered shutdown; returns the exit code. The order matters: requests stop first so no
 * new work arrives, then the cycle finishes and the lease is released (another replica can
 * lead at once instead of waiting for it to expire), and MongoDB closes last because the
 * cycle writes to it until its final line.
 */
export async function shutDown(daemon: Daemon, timeoutMs: number): Promise<number> {
  const { app, ops, loop, mongo, log } = daemon;
  const deadline = Date.now() + timeoutMs;
  if (!(await within(app.close(), timeoutMs))) {
    log.error({ timeoutMs }, 'HTTP requests did not finish in time; exiting without waiting');
    return 1;
  }
  log.info('HTTP server closed; waiting for the running watcher cycle');
  const finished = await loop.stop(Math.max(0, deadline - Date.now()));
  if (!finished) {
    log.error(
      { timeoutMs },
      'the watcher cycle did not finish in time; exiting anyway (every write is crash-safe; ' +
        'another replica leads once the lease expires)',
    );
    return 1;
  }
  log.info('watcher stopped and its lease released');
  // Health and metrics answer until the very end, so the operator sees the drain.
  await ops.close();
  await mongo.client.close();
  log.info('shutdown complete');
  return 0;
}

const SERVE_OPTIONS = ['--api-only', '--watcher-only', '--accept-new-cold-destination'];

export async function serve(args: string[]): Promise<void> {
  for (const arg of args) {
    if (!SERVE_OPTIONS.includes(arg)) throw new UsageError(`serve: unknown option ${arg}`);
  }
  const apiOnly = args.includes('--api-only');
  const watcherOnly = args.includes('--watcher-only');
  if (apiOnly && watcherOnly)
    throw new UsageError('serve: --api-only and --watcher-only exclude each other');
  const config = loadConfig();
  const timeoutMs = config.shutdown.timeoutMs;
  // A flag for one deliberate start (the env variable for Docker), not a setting to leave on.
  const acceptNewColdDestination =
    args.includes('--accept-new-cold-destination') ||
    process.env.SATWATCH_ACCEPT_NEW_COLD_DESTINATION === '1';
  const daemon = await createDaemon(config, {
    logger: loggerOptions(config.log.level),
    acceptNewColdDestination,
  });
  const { app, log } = daemon;

  const shutdown = { requested: false };
  const onSignal = (signal: NodeJS.Signals) => {
    if (shutdown.requested) {
      log.warn({ signal }, 'second signal during shutdown: exiting now');
      process.exit(128 + os.constants.signals[signal]);
    }
    shutdown.requested = true;
    log.info({ signal, timeoutMs }, 'shutting down');
    // A safety net for what shutDown does not bound itself (closing MongoDB).
    setTimeout(() => {
      log.error('shutdown did not complete; exiting');
      process.exit(1);
    }, timeoutMs + 5_000).unref();
    shutDown(daemon, timeoutMs).then(
      (code) => process.exit(code),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  // The ops listener runs in every mode: a watcher-only process has health and metrics too.
  const opsAddress = await daemon.ops.listen({ host: config.ops.host, port: config.ops.port });
  const apiAddress = watcherOnly
    ? undefined
    : await app.listen({ host: config.http.host, port: config.http.port });
  if (shutdown.requested) return; // a signal came while the port was opening
  if (!apiOnly && config.watcher.enabled) daemon.loop.start();
  log.info(
    {
      network: config.network,
      account: daemon.wallet.derivationPath,
      scriptType: daemon.wallet.scriptType,
      api: !watcherOnly,
      watcher: !apiOnly && config.watcher.enabled,
      // The bound addresses (port 0 in the configuration picks a free one).
      ...(apiAddress !== undefined && { apiAddress }),
      opsAddress,
    },
    'satwatch is serving',
  );
}
