/**
 * One error shape for every failure: `{ error, message, field? }`. Validation errors name the
 * offending field; internal errors say nothing about internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RateUnavailableError } from '../pricing/rates.js';
import { PaymentInputError } from '../payments/quote.js';
import {
  ChainTipUnavailableError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
} from '../payments/payment-service.js';
import { AddressCheckUnavailableError } from '../payments/address-issuer.js';
import { BadCursorError } from '../storage/cursor.js';
import { OrderIdTakenError } from '../payments/order.js';
import { PaymentNotCancellableError } from '../payments/cancellation.js';
import type { RouteMethods } from './method-not-allowed.js';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Our code and message for 4xx statuses raised outside our routes (Fastify, plugins, Node). */
const KNOWN_STATUSES: Readonly<Record<number, { code: string; message: string }>> = {
  400: { code: 'invalid_request', message: 'the request is malformed' },
  404: { code: 'not_found', message: 'not found' },
  405: { code: 'method_not_allowed', message: 'method not allowed' },
  408: { code: 'request_timeout', message: 'the request took too long' },
  413: { code: 'payload_too_large', message: 'body is too large' },
  414: { code: 'uri_too_long', message: 'the URL is too long' },
  415: { code: 'unsupported_media_type', message: 'content-type must be application/json' },
  429: { code: 'rate_limited', message: 'too many requests; retry later' },
  431: { code: 'headers_too_large', message: 'the request headers are too large' },
};

function statusError(status: number): { code: string; message: string } {
  return KNOWN_STATUSES[status] ?? { code: 'invalid_request', message: 'the request was refused' };
}

/** The body of an error answered below Fastify (e.g. by Node's HTTP parser), in our shape. */
export function errorBody(status: number): string {
  const known = statusError(status);
  return JSON.stringify({ error: known.code, message: known.message });
}

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} not found`);

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'machine-readable code' },
    message: { type: 'string' },
    field: { type: 'string', description: 'the request field at fault, as a dotted path' },
  },
} as const;

interface AjvLikeError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/price/amount` → `price.amount`; a missing or unknown property is named as the field. */
export function fieldOf(error: AjvLikeError, part: string): string {
  const base = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const child = (error.params.missingProperty ?? error.params.additionalProperty) as
    string | undefined;
  const path = [base, child].filter(Boolean).join('.');
  if (part === 'headers') return path;
  return path || part;
}

function validationMessage(error: AjvLikeError, field: string): string {
  if (error.keyword === 'required') return `${field} is required`;
  if (error.keyword === 'additionalProperties') return `${field} is not a known field`;
  // The pattern itself says nothing to a client (and can be unreadable escapes).
  if (error.keyword === 'pattern') return `${field} has characters or a form that is not allowed`;
  if (error.keyword === 'enum') {
    return `${field} must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
  }
  return `${field} ${error.message ?? 'is invalid'}`;
}

/** 404, or 405 with Allow when the path exists for other methods. */
function notFoundAnswer(
  request: FastifyRequest,
  reply: FastifyReply,
  routeMethods: RouteMethods | undefined,
): FastifyReply {
  const path = request.url.split('?')[0] ?? '';
  const allow = routeMethods?.allowed(path) ?? [];
  if (allow.length === 0)
    return reply
      .status(404)
      .send({ error: 'not_found', message: `${request.method} ${path} not found` });
  return reply
    .status(405)
    .header('allow', allow.join(', '))
    .send({
      error: 'method_not_allowed',
      message: `${request.method} is not allowed on ${path} (allowed: ${allow.join(', ')})`,
    });
}

export function registerErrorHandler(app: FastifyInstance, routeMethods?: RouteMethods): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    // No route matched, and reading the body failed first (e.g. QUERY without a content type).
    if (request.is404) return notFoundAnswer(request, reply, routeMethods);
    const send = (status: number, code: string, message: string, field?: string) =>
      reply.status(status).send({ error: code, message, ...(field !== undefined && { field }) });

    if (err.validation && err.validation.length > 0) {
      const first = err.validation[0] as AjvLikeError;
      const field = fieldOf(first, err.validationContext ?? 'body');
      return send(400, 'invalid_request', validationMessage(first, field), field);
    }
    if (err instanceof ApiError) return send(err.statusCode, err.code, err.message, err.field);
    if (err instanceof PaymentInputError)
      return send(400, 'invalid_request', err.message, err.field);
    if (err instanceof BadCursorError) return send(400, 'invalid_request', err.message, 'cursor');
    if (err instanceof IdempotencyConflictError)
      return send(422, 'idempotency_conflict', err.message, 'Idempotency-Key');
    if (err instanceof OrderIdTakenError)
      return send(409, 'order_id_taken', err.message, 'orderId');
    if (err instanceof PaymentNotCancellableError)
      return send(409, 'payment_not_cancellable', err.message);
    if (err instanceof IdempotencyInProgressError)
      return send(409, 'idempotency_in_progress', err.message, 'Idempotency-Key');
    if (err instanceof RateUnavailableError) {
      request.log.warn({ source: err.source, currency: err.currency }, err.message);
      void reply.header('retry-after', '30');
      return send(
        503,
        'rate_unavailable',
        `no exchange rate for ${err.currency} right now; try again, or price in SAT or BTC`,
      );
    }
    if (err instanceof AddressCheckUnavailableError || err instanceof ChainTipUnavailableError) {
      // Never an unchecked address: without the chain there is no payment.
      request.log.warn({ err: err.cause }, err.message);
      void reply.header('retry-after', '10');
      return send(503, 'chain_unavailable', err.message);
    }
    switch (err.code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return send(
          415,
          'unsupported_media_type',
          'content-type must be application/json',
          'content-type',
        );
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return send(413, 'payload_too_large', 'body is too large', 'body');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return send(400, 'invalid_request', 'body is required', 'body');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return send(400, 'invalid_request', 'body is not valid JSON', 'body');
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      const known = statusError(err.statusCode);
      // Fastify's own messages may name internals (FST_ERR_…): ours say what the client can fix.
      return send(err.statusCode, known.code, known.message);
    }
    request.log.error({ err }, 'request failed');
    return send(500, 'internal_error', 'internal error');
  });

  // A known path asked with another method is 405 with Allow (RFC 9110), not a 404.
  app.setNotFoundHandler((request, reply) => notFoundAnswer(request, reply, routeMethods));
}
