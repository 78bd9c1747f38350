/** The command line's usage and help texts, its version, and the error for a command typed wrong. */
export { version } from '../version.js';

export const USAGE = `usage:
  satwatch serve [--api-only|--watcher-only] [--accept-new-cold-destination]
  satwatch config check
  satwatch reconcile [--json] [--gap <n>]
  satwatch derive <from-index> [count]
  satwatch api-key --id <id> --role merchant|admin
  satwatch sweep-stray [--dry-run] [--gap <n>]
  satwatch rescan --from <height> [--to <height>]
  satwatch wallet export [--margin <n>] [--json]
  satwatch wallet gaps [--json]
  satwatch export payments|ledger [--from <date>] [--to <date>] [--out <file>]
  satwatch help [command] | --help | --version`;

/** One paragraph per command, for `satwatch help <command>` and `<command> --help`. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  serve: `satwatch serve [--api-only|--watcher-only] [--accept-new-cold-destination]
  Start the public HTTP API (http.host:http.port), the operations listener (ops.host:ops.port:
  /healthz, /readyz, /metrics, /docs) and the chain watcher. --api-only runs no watcher;
  --watcher-only opens no public listener (the ops listener stays). A changed cold wallet
  (forwarding.coldAddress/coldXpub) is refused unless --accept-new-cold-destination is given.
  SIGTERM/SIGINT shut down gracefully.`,
  config: `satwatch config check
  Load and validate the configuration exactly as serve does (unknown SATWATCH_* variables
  included) and print it as JSON, secrets masked. Exit 1 names what is wrong.`,
  reconcile: `satwatch reconcile [--json] [--gap <n>]
  Check that balances, the ledger and credited payments agree, and that every coin on our
  addresses is accounted for by a sweep. Exit 2 on a mismatch.`,
  derive: `satwatch derive <from-index> [count]
  Print receive addresses (default 10) to compare with your own wallet.`,
  'api-key': `satwatch api-key --id <id> --role merchant|admin
  Make a new API key and print it with the auth.apiKeys entry holding its SHA-256.`,
  'sweep-stray': `satwatch sweep-stray [--dry-run] [--gap <n>]
  Sweep coins on receive addresses that no payment accounts for.`,
  rescan: `satwatch rescan --from <height> [--to <height>]
  Scan a range of blocks again for payments (idempotent; safe while the daemon runs).`,
  wallet: `satwatch wallet export [--margin <n>] [--json] | satwatch wallet gaps [--json]
  export: watch-only descriptors (receive and change) with the range an external wallet needs,
  for Bitcoin Core's importdescriptors and for Sparrow. gaps: the longest run of issued but
  unused addresses, the gap limit a wallet needs, and hot addresses that still hold coins.`,
  export: `satwatch export payments|ledger [--from <date>] [--to <date>] [--out <file>]
  Accounting CSV (RFC 4180, header row), streamed; a progress line on a terminal.`,
  help: `satwatch help [command]
  Print the usage, or one command's help.`,
};

/** `satwatch help [command]`: the text to print, or a UsageError for an unknown command. */
export function helpText(command: string | undefined): string {
  if (command === undefined) return USAGE;
  const text = COMMAND_HELP[command];
  if (text === undefined) throw new UsageError(`help: unknown command ${command}`);
  return text;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
