#!/usr/bin/env node
/**
 * satwatch command line.
 *   serve [--api-only|--watcher-only]   start the HTTP API and the chain watcher
 *   derive <from> [count]               print receive addresses, to check against your wallet
 *   api-key --id <id> --role <role>     make an API key and the config entry holding its hash
 *   sweep-stray [--dry-run] [--gap N]   sweep coins on receive addresses that no payment accounts for
 */
import { parseArgs } from 'node:util';
import { hashApiKey, newApiKey } from './api/auth.js';
import { ConfigError, loadConfig } from './config/config.js';
import { createDaemon } from './daemon.js';
import { WalletAccount } from './wallet/account.js';
import { WalletKeyError } from './wallet/extended-key.js';

const USAGE = `usage:
  satwatch serve [--api-only|--watcher-only]
  satwatch derive <from-index> [count]
  satwatch api-key --id <id> --role merchant|admin
  satwatch sweep-stray [--dry-run] [--gap <n>]`;

async function serve(args: string[]): Promise<void> {
  const apiOnly = args.includes('--api-only');
  const watcherOnly = args.includes('--watcher-only');
  if (apiOnly && watcherOnly)
    throw new Error('serve: --api-only and --watcher-only exclude each other');
  const config = loadConfig();
  const daemon = await createDaemon(config, {
    logger: { level: config.log.level, redact: ['req.headers.authorization'] },
  });
  const { app, log } = daemon;
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    daemon.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  if (!watcherOnly) await app.listen({ host: config.http.host, port: config.http.port });
  if (!apiOnly && config.watcher.enabled) daemon.loop.start();
  log.info(
    {
      network: config.network,
      account: daemon.wallet.derivationPath,
      scriptType: daemon.wallet.scriptType,
      api: !watcherOnly,
      watcher: !apiOnly && config.watcher.enabled,
    },
    'satwatch is serving',
  );
}

function derive(args: string[]): void {
  const from = Number(args[0] ?? 0);
  const count = Number(args[1] ?? 10);
  if (
    !Number.isInteger(from) ||
    from < 0 ||
    !Number.isInteger(count) ||
    count < 1 ||
    count > 10000
  ) {
    throw new Error('derive: <from-index> must be a whole number ≥ 0 and [count] 1..10000');
  }
  const config = loadConfig();
  const wallet = WalletAccount.fromConfig({ network: config.network, ...config.wallet });
  console.log(
    `# ${config.network} ${wallet.scriptType} account ${wallet.derivationPath}, receive chain`,
  );
  for (let i = from; i < from + count; i++) {
    const { path, address } = wallet.receiveAddress(i);
    console.log(`${path}\t${address}`);
  }
}

function apiKey(args: string[]): void {
  const { values } = parseArgs({
    args,
    options: { id: { type: 'string' }, role: { type: 'string' } },
  });
  if (!values.id || (values.role !== 'merchant' && values.role !== 'admin')) throw new Error(USAGE);
  const key = newApiKey();
  console.log(`API key (give it to the client; it is not stored anywhere):\n  ${key}\n`);
  console.log('Add this to auth.apiKeys (or SATWATCH_API_KEYS):');
  console.log(`  ${JSON.stringify({ id: values.id, role: values.role, sha256: hashApiKey(key) })}`);
}

async function sweepStray(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { 'dry-run': { type: 'boolean' }, gap: { type: 'string' } },
  });
  const gap = Number(values.gap ?? 20);
  if (!Number.isInteger(gap) || gap < 0 || gap > 10_000)
    throw new Error('sweep-stray: --gap must be 0..10000');
  const config = loadConfig();
  const daemon = await createDaemon(config, { logger: { level: config.log.level } });
  try {
    if (!daemon.forwarder) throw new Error('sweep-stray: forwarding is off (forwarding.mode)');
    const { height } = await daemon.chain.tip();
    const stray = await daemon.forwarder.findStray(gap, daemon.counter, height);
    for (const coin of stray) {
      console.log(
        `${daemon.wallet.receiveAddress(coin.index).path}\t${coin.txid}:${coin.vout}\t${coin.valueSats} sats`,
      );
    }
    const total = stray.reduce((sum, coin) => sum + coin.valueSats, 0);
    console.log(`${stray.length} stray coins, ${total} sats`);
    if (values['dry-run'] || stray.length === 0) return;
    const { sweep, waiting } = await daemon.forwarder.sweepInputs(stray, true);
    if (!sweep) console.log(`not swept: ${waiting ?? 'unknown reason'}`);
    else if (sweep.state === 'awaiting_signature')
      console.log(`sweep ${sweep._id} awaits a signature (GET /v1/admin/sweeps/${sweep._id}/psbt)`);
    else
      console.log(`sweep ${sweep._id} ${sweep.state}: ${sweep.txid ?? ''} to ${sweep.destination}`);
  } finally {
    await daemon.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'serve':
      await serve(args);
      return;
    case 'derive':
      derive(args);
      return;
    case 'api-key':
      apiKey(args);
      return;
    case 'sweep-stray':
      await sweepStray(args);
      return;
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // Config and key errors are written for operators: print just the message.
  const known = err instanceof ConfigError || err instanceof WalletKeyError;
  console.error(known ? err.message : err);
  process.exit(1);
});
