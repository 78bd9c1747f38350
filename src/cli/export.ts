/**
 * `satwatch export payments|ledger [--from …] [--to …] [--out file]`: the accounting CSV of
 * GET /v1/admin/exports/*.csv, straight from MongoDB, to a file or stdout. On a terminal a
 * progress line on stderr counts the rows.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { EXPORT_KINDS, type ExportKind, csvExport } from '../accounting/csv.js';
import { parseRange } from '../accounting/range.js';
import { loadConfig } from '../config/config.js';
import { AccountingSource } from '../storage/accounting-source.js';
import { connectMongo } from '../storage/mongo.js';
import { UsageError } from './usage.js';

const PROGRESS_EVERY_MS = 200;

function isKind(value: string | undefined): value is ExportKind {
  return (EXPORT_KINDS as readonly (string | undefined)[]).includes(value);
}

export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } },
  });
  const [kind, ...extra] = positionals;
  if (!isKind(kind) || extra.length > 0)
    throw new UsageError('export: the kind is "payments" or "ledger"');
  const range = parseRange(values, (_field, message) => new UsageError(`export: ${message}`));
  const config = loadConfig();
  const mongo = await connectMongo(config.mongo.url, config.mongo.database);
  const progress = process.stderr.isTTY;
  try {
    const csv = csvExport(new AccountingSource(mongo.db), kind, range);
    let last = 0;
    const report = (done: boolean) => {
      const where = values.out === undefined ? '' : ` to ${values.out}`;
      process.stderr.write(`\r${kind}: ${csv.rows()} rows${done ? `${where}\n` : '…'}`);
    };
    // Counts as the data flows, so the line moves even when the output is slow.
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (progress && Date.now() - last >= PROGRESS_EVERY_MS) {
          last = Date.now();
          report(false);
        }
        done(null, chunk);
      },
    });
    if (values.out === undefined) {
      await pipeline(csv.stream, meter, process.stdout);
    } else {
      // Written aside and renamed when complete: a failure never leaves a file that looks whole.
      const partial = `${values.out}.partial`;
      try {
        await pipeline(csv.stream, meter, createWriteStream(partial));
        await rename(partial, values.out);
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
    }
    if (progress) report(true);
    return 0;
  } finally {
    await mongo.client.close();
  }
}
