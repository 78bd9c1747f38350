#!/usr/bin/env node
/**
 * satwatch command line (the commands live in src/cli/).
 *   serve [--api-only|--watcher-only] [--accept-new-cold-destination]
 *                                       start the HTTP API and the chain watcher
 *   config check                        validate the configuration, print it with secrets masked
 *   reconcile [--json]                  check balances, ledger and credited payments agree
 *   derive <from> [count]               print receive addresses, to check against your wallet
 *   api-key --id <id> --role <role>     make an API key and the config entry holding its hash
 *   sweep-stray [--dry-run] [--gap N]   sweep coins on receive addresses that no payment accounts for
 *   help [command], --help, --version   usage, one command's help, the version
 *   wallet export|gaps                  watch-only descriptors for other wallets; the gap limit they need
 *   export payments|ledger              accounting CSV (--from, --to, --out)
 *
 * Exit codes: 0 success; 1 invalid configuration or an operational error (MongoDB, chain);
 * 2 a command typed wrong, or `reconcile` found a mismatch.
 */
import { apiKey } from './cli/api-key.js';
import { configCheck } from './cli/config-check.js';
import { derive } from './cli/derive.js';
import { exportCommand } from './cli/export.js';
import { reconcile } from './cli/reconcile.js';
import { rescan } from './cli/rescan.js';
import { serve } from './cli/serve.js';
import { sweepStray } from './cli/sweep-stray.js';
import { USAGE, UsageError, helpText, version } from './cli/usage.js';
import { walletCommand } from './cli/wallet.js';
import { ConfigError } from './config/config.js';
import { ColdDestinationChangedError } from './forwarding/cold-destination.js';
import { WalletKeyError } from './wallet/extended-key.js';

/** The exit code, or undefined for `serve`, which keeps running until a signal. */
async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...args] = argv;
  // `<command> --help` asks for help, never runs the command.
  if (command !== undefined && (args.includes('--help') || args.includes('-h'))) {
    console.log(helpText(command));
    return 0;
  }
  switch (command) {
    case '--help':
    case '-h':
    case 'help':
      console.log(helpText(command === 'help' ? args[0] : undefined));
      return 0;
    case '--version':
    case '-v':
    case 'version':
      console.log(version());
      return 0;
    case 'serve':
      await serve(args);
      return undefined;
    case 'config':
      if (args[0] !== 'check') throw new UsageError('config: the subcommand is "check"');
      return configCheck(args.slice(1));
    case 'reconcile':
      return reconcile(args);
    case 'derive':
      return derive(args);
    case 'api-key':
      return apiKey(args);
    case 'sweep-stray':
      return sweepStray(args);
    case 'rescan':
      return rescan(args);
    case 'wallet':
      return walletCommand(args);
    case 'export':
      return exportCommand(args);
    default:
      throw new UsageError(command === undefined ? 'no command' : `unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${USAGE}`);
      process.exit(2);
    }
    // Config and key errors are written for operators: print just the message.
    const known =
      err instanceof ConfigError ||
      err instanceof WalletKeyError ||
      err instanceof ColdDestinationChangedError;
    console.error(known ? err.message : err);
    process.exit(1);
  },
);
