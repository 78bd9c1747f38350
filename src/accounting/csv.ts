/**
 * The accounting exports as RFC 4180 CSV (a header row, CRLF line ends, fields quoted when they
 * hold a comma, quote or line break), streamed: rows are written as the cursor yields them.
 */
import { Readable, pipeline } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { AccountingSource, DateRange } from '../storage/accounting-source.js';
import { LEDGER_COLUMNS, PAYMENT_COLUMNS, ledgerRow, paymentRow } from './rows.js';

export const EXPORT_KINDS = ['payments', 'ledger'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

async function* rowsOf(
  source: AccountingSource,
  kind: ExportKind,
  range: DateRange,
): AsyncGenerator<string[]> {
  if (kind === 'payments') {
    for await (const { payment, sweeps } of source.paymentsWithSweeps(range))
      yield paymentRow(payment, sweeps);
  } else {
    for await (const { entry, payment } of source.ledgerEntries(range))
      yield ledgerRow(entry, payment);
  }
}

export interface CsvExport {
  /** The CSV text, header first. */
  stream: Readable;
  /** Rows written so far (without the header). */
  rows(): number;
}

/**
 * The export of `kind` over `range`. A failure half-way (MongoDB gone) destroys the stream with
 * the error, so a reader sees a broken transfer, never a short file that looks complete.
 */
export function csvExport(source: AccountingSource, kind: ExportKind, range: DateRange): CsvExport {
  let count = 0;
  const counted = async function* () {
    for await (const row of rowsOf(source, kind, range)) {
      count++;
      yield row;
    }
  };
  const out = stringify({
    header: true,
    columns: [...(kind === 'payments' ? PAYMENT_COLUMNS : LEDGER_COLUMNS)],
    record_delimiter: 'windows',
  });
  pipeline(Readable.from(counted()), out, () => undefined);
  return { stream: out, rows: () => count };
}

export function exportFileName(kind: ExportKind, range: DateRange): string {
  const day = (d: Date | undefined) => (d === undefined ? 'all' : d.toISOString().slice(0, 10));
  return `satwatch-${kind}-${day(range.from)}-${day(range.to)}.csv`;
}
