/** The command line's usage text and the error for a command typed wrong (exit code 2). */

export const USAGE = `usage:
  satwatch serve [--api-only|--watcher-only]
  satwatch config check
  satwatch reconcile [--json]
  satwatch derive <from-index> [count]
  satwatch api-key --id <id> --role merchant|admin
  satwatch sweep-stray [--dry-run] [--gap <n>]
  satwatch wallet export [--margin <n>] [--json]
  satwatch wallet gaps [--json]
  satwatch export payments|ledger [--from <date>] [--to <date>] [--out <file>]`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
