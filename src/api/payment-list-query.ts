/**
 * The merchant's payment list query: filters that combine, the usual cursor. Today's
 * `?userId=…` listing is this query with one filter.
 */
import { ORDER_ID_MAX_LENGTH } from '../payments/order.js';
import { PAYMENT_STATUSES, type PaymentStatus } from '../payments/payment.js';
import type { PaymentListFilter } from '../payments/payment-service.js';
import { ApiError } from './errors.js';
import { createPaymentBody } from './schemas.js';

const isoDate = {
  type: 'string',
  pattern: '^\\d{4}-\\d{2}-\\d{2}(T[0-9:.]+(Z|[+-]\\d{2}:\\d{2}))?$',
} as const;

export const paymentIdParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 } },
  required: ['id'],
} as const;

export const paymentListQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: PAYMENT_STATUSES },
    userId: createPaymentBody.properties.userId,
    orderId: { type: 'string', minLength: 1, maxLength: ORDER_ID_MAX_LENGTH },
    createdFrom: { ...isoDate, description: 'created at or after (ISO 8601)' },
    createdTo: { ...isoDate, description: 'created before (ISO 8601)' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    cursor: { type: 'string', maxLength: 200 },
  },
} as const;

export interface PaymentListQuery {
  status?: PaymentStatus;
  userId?: string;
  orderId?: string;
  createdFrom?: string;
  createdTo?: string;
  limit: number;
  cursor?: string;
}

function parseDate(text: string | undefined, field: string): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new ApiError(400, 'invalid_request', `${field} is not a date`, field);
  return date;
}

export function toListFilter(query: Omit<PaymentListQuery, 'limit' | 'cursor'>): PaymentListFilter {
  const from = parseDate(query.createdFrom, 'createdFrom');
  const to = parseDate(query.createdTo, 'createdTo');
  if (from && to && from.getTime() > to.getTime())
    throw new ApiError(400, 'invalid_request', 'createdFrom is after createdTo', 'createdFrom');
  return {
    ...(query.status !== undefined && { status: query.status }),
    ...(query.userId !== undefined && { userId: query.userId }),
    ...(query.orderId !== undefined && { orderId: query.orderId }),
    ...(from && { from }),
    ...(to && { to }),
  };
}
