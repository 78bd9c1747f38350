/**
 * The merchant's payment list query: filters that combine, the usual cursor. Today's
 * `?userId=…` listing is this query with one filter.
 */
import { ORDER_ID_MAX_LENGTH } from '../payments/order.js';
import { PAYMENT_STATUSES, type PaymentStatus } from '../payments/payment.js';
import type { PaymentListFilter } from '../payments/payment-service.js';
import { ApiError } from './errors.js';
import { createPaymentBody } from './schemas.js';
import { isoDate, parseDate } from './params.js';

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
