/**
 * Accounting exports for admins: `GET /v1/admin/exports/payments.csv` and `…/ledger.csv`,
 * streamed from a MongoDB cursor (see accounting/csv.ts for the format).
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from 'mongodb';
import { type ExportKind, csvExport, exportFileName } from '../accounting/csv.js';
import { LEDGER_COLUMNS, PAYMENT_COLUMNS } from '../accounting/rows.js';
import type { DateRange } from '../storage/accounting-source.js';
import type { ApiKeyVerifier } from './auth.js';
import { ApiError } from './errors.js';

export interface ExportRoutesOptions {
  db: Db;
  auth: ApiKeyVerifier;
}

interface RangeQuery {
  from?: string;
  to?: string;
}

const isoDate = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}(T[0-9:.]+(Z|[+-]\\d{2}:\\d{2}))?$',
} as const;

const ISO_DATE = new RegExp(isoDate.pattern);

/** The range of a request or command line; bad dates name their field. */
export function parseRange(
  query: RangeQuery,
  invalid: (field: string, message: string) => Error,
): DateRange {
  const parse = (field: 'from' | 'to') => {
    const text = query[field];
    if (text === undefined) return undefined;
    const date = new Date(text);
    if (!ISO_DATE.test(text) || Number.isNaN(date.getTime()))
      throw invalid(
        field,
        `${field} is not an ISO 8601 date (like 2026-01-31 or 2026-01-31T12:00:00Z)`,
      );
    return date;
  };
  const from = parse('from');
  const to = parse('to');
  if (from !== undefined && to !== undefined && from.getTime() >= to.getTime())
    throw invalid('to', 'to must be after from');
  return { from, to };
}

export async function exportRoutes(
  app: FastifyInstance,
  options: ExportRoutesOptions,
): Promise<void> {
  const admin = options.auth.require('admin');
  const route = (kind: ExportKind, columns: readonly string[]) =>
    app.get<{ Querystring: RangeQuery }>(
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
        const { stream } = csvExport(options.db, kind, range);
        stream.on('error', (err) => {
          request.log.error({ err }, `${kind} export failed half-way`);
        });
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${exportFileName(kind, range)}"`)
          .send(stream);
      },
    );
  route('payments', PAYMENT_COLUMNS);
  route('ledger', LEDGER_COLUMNS);
  return Promise.resolve();
}
