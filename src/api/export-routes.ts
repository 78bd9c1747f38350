/**
 * Accounting exports for admins: `GET /v1/admin/exports/payments.csv` and `…/ledger.csv`,
 * streamed from a MongoDB cursor (see accounting/csv.ts for the format).
 */
import type { FastifyInstance } from 'fastify';
import { type ExportKind, csvExport, exportFileName } from '../accounting/csv.js';
import { parseRange } from '../accounting/range.js';
import { LEDGER_COLUMNS, PAYMENT_COLUMNS } from '../accounting/rows.js';
import type { AccountingSource } from '../storage/accounting-source.js';
import type { ApiKeyVerifier } from './auth.js';
import { ApiError } from './errors.js';
import type { ApiTypeProvider } from './prepare.js';
import { isoDate } from './params.js';

export interface ExportRoutesOptions {
  accounting: AccountingSource;
  auth: ApiKeyVerifier;
}

export async function exportRoutes(
  instance: FastifyInstance,
  options: ExportRoutesOptions,
): Promise<void> {
  const app = instance.withTypeProvider<ApiTypeProvider>();
  const admin = options.auth.require('admin');
  const route = (kind: ExportKind, columns: readonly string[]) =>
    app.get(
      `/v1/admin/exports/${kind}.csv`,
      {
        preHandler: admin,
        schema: {
          tags: ['admin'],
          summary: `Accounting export of the ${kind === 'payments' ? 'payments' : 'ledger entries'} created in a date range (CSV)`,
          description:
            `RFC 4180 CSV with a header row, oldest first, streamed. Columns: ${columns.join(', ')}. ` +
            'Amounts in integer sats and exact BTC; text a user chose that starts with = + - @ gets a leading apostrophe (spreadsheet formula guard).',
          security: [{ apiKey: [] }],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              from: { ...isoDate, description: 'created at or after (ISO 8601)' },
              to: { ...isoDate, description: 'created before (ISO 8601)' },
            },
          },
          response: {
            200: {
              description: 'CSV',
              content: { 'text/csv': { schema: { type: 'string' } } },
            },
            400: { $ref: 'Error#' },
            401: { $ref: 'Error#' },
            403: { $ref: 'Error#' },
          },
        },
      },
      (request, reply) => {
        const range = parseRange(
          request.query,
          (field, message) => new ApiError(400, 'invalid_request', message, field),
        );
        const { stream } = csvExport(options.accounting, kind, range);
        stream.on('error', (err) => {
          request.log.error({ err }, `${kind} export failed half-way`);
        });
        // The schema documents the body as CSV text; it goes out as a stream of that text.
        void reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${exportFileName(kind, range)}"`)
          .send(stream as unknown as string);
      },
    );
  route('payments', PAYMENT_COLUMNS);
  route('ledger', LEDGER_COLUMNS);
  return Promise.resolve();
}
