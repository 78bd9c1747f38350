/** The date range of an export, from a query string or the command line. */
import type { DateRange } from '../storage/accounting-source.js';

/** A day, or a day and time with a zone: 2026-01-31, 2026-01-31T12:00:00Z. */
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$/;

/** `from` (inclusive) and `to` (exclusive); `invalid` makes the error naming the field. */
export function parseRange(
  query: { from?: string | undefined; to?: string | undefined },
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
