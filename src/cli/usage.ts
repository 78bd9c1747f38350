/** The command line's usage text and the error for a command typed wrong (exit code 2). */

export const USAGE = `usage:
  satwatch serve [--api-only|--watcher-only] [--accept-new-cold-destination]
  satwatch config check
  satwatch reconcile [--json] [--gap <n>]
  satwatch derive <from-index> [count]
  satwatch api-key --id <id> --role merchant|admin
  satwatch sweep-stray [--dry-run] [--gap <n>]
  satwatch rescan --from <height> [--to <height>]`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
