/** Path and query pieces several route groups share. */
import { ISO_DATE } from '../accounting/range.js';
import { ApiError } from './errors.js';

/** An ISO 8601 date or date-time in a query: the accounting exports' rule. */
export const isoDate = { type: 'string', pattern: ISO_DATE.source } as const;

/** A query date the schema let through; one the calendar has not (month 13) is a 400 naming it. */
export function parseDate(text: string | undefined, field: string): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new ApiError(400, 'invalid_request', `${field} is not a date`, field);
  return date;
}

/** `:id` of a payment or a sweep. */
export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64 } },
} as const;

/** `:id` of a webhook event or endpoint: 1–100 characters. */
export const webhookIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 100 } },
} as const;
