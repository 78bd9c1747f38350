/** The command line's usage and help texts, its version, and the error for a command typed wrong. */
export { version } from '../version.js';

export const USAGE = `usage:
  satwatch serve [--api-only|--watcher-only]
  satwatch config check
  satwatch reconcile [--json]
  satwatch derive <from-index> [count]
  satwatch api-key --id <id> --role merchant|admin
  satwatch sweep-stray [--dry-run] [--gap <n>]
  satwatch help [command] | --help | --version`;

/** One paragraph per command, for `satwatch help <command>` and `<command> --help`. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  serve: `satwatch serve [--api-only|--watcher-only]
  Start the public HTTP API (http.host:http.port), the operations listener (ops.host:ops.port:
  /healthz, /readyz, /metrics, /docs) and the chain watcher. --api-only runs no watcher;
  --watcher-only opens no public listener (the ops listener stays). SIGTERM/SIGINT shut down
  gracefully.`,
  config: `satwatch config check
  Load and validate the configuration exactly as serve does (unknown SATWATCH_* variables
  included) and print it as JSON, secrets masked. Exit 1 names what is wrong.`,
  reconcile: `satwatch reconcile [--json]
  Check that balances, the ledger and credited payments agree. Exit 2 on a mismatch.`,
  derive: `satwatch derive <from-index> [count]
  Print receive addresses (default 10) to compare with your own wallet.`,
  'api-key': `satwatch api-key --id <id> --role merchant|admin
  Make a new API key and print it with the auth.apiKeys entry holding its SHA-256.`,
  'sweep-stray': `satwatch sweep-stray [--dry-run] [--gap <n>]
  Sweep coins on receive addresses that no payment accounts for.`,
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
