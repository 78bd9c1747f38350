/**
 * One error shape for every failure: `{ error, message, field? }`. Validation errors name the
 * offending field; internal errors say nothing about internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ChainSourceError } from '../chain/chain-source.js';
import { DestinationMismatchError } from '../forwarding/cold-destination.js';
import { TipUnknownError } from '../forwarding/forwarder.js';
import { SweepNotFoundError, SweepStateError } from '../forwarding/sweep.js';
import { SweepError } from '../forwarding/tx/sweep-error.js';
import { InsufficientBalanceError, LedgerConflictError } from '../ledger/ledger.js';
import { AddressCheckUnavailableError } from '../payments/address-issuer.js';
import {
  ChainTipUnavailableError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
} from '../payments/payment-service.js';
import { PaymentInputError } from '../payments/quote.js';
import { OrderIdTakenError } from '../payments/order.js';
import { PaymentNotCancellableError } from '../payments/cancellation.js';
import { RateUnavailableError } from '../pricing/rates.js';
import { BadCursorError } from '../storage/cursor.js';
import { AlreadyCreditedError, PaymentNotFoundError } from '../settlement/settlement-errors.js';
import {
  ReadOnlyEndpointError,
  RedeliveryLimitedError,
  TooManyEndpointsError,
} from '../webhooks/endpoint-registry.js';
import { WebhookUrlError } from '../webhooks/url-policy.js';
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

/** What the client is told about a domain error, in our error shape. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  field?: string;
  retryAfterSeconds?: number;
  /** Logged at warn with the error's message: the failure is ours or upstream's, not the client's. */
  logged?: object;
}

interface ErrorRule<E extends Error> {
  status: number;
  code: string;
  /** Default: the error's own message. */
  message?: (err: E) => string;
  field?: (err: E, request: FastifyRequest) => string | undefined;
  retryAfterSeconds?: number | ((err: E) => number);
  logged?: (err: E) => object;
  /**
   * Only on these routes (`METHOD /url`); elsewhere the error stays an internal error (500), as
   * it always was: widening a mapping is an API change, not a refactoring.
   */
  onlyOn?: readonly string[];
}

type DomainErrorRow = (err: Error, request: FastifyRequest) => ErrorAnswer | undefined;

function row<E extends Error>(
  type: abstract new (...args: never[]) => E,
  rule: ErrorRule<E>,
): DomainErrorRow {
  return (err, request) => {
    if (!(err instanceof type)) return undefined;
    if (rule.onlyOn && !rule.onlyOn.includes(`${request.method} ${request.routeOptions.url}`))
      return undefined;
    const field = rule.field?.(err, request);
    return {
      status: rule.status,
      code: rule.code,
      message: rule.message ? rule.message(err) : err.message,
      ...(field !== undefined && { field }),
      ...(rule.retryAfterSeconds !== undefined && {
        retryAfterSeconds:
          typeof rule.retryAfterSeconds === 'function'
            ? rule.retryAfterSeconds(err)
            : rule.retryAfterSeconds,
      }),
      ...(rule.logged && { logged: rule.logged(err) }),
    };
  };
}

const IDEMPOTENCY_KEY = () => 'Idempotency-Key';
// Never an unchecked address: without the chain there is no payment.
const chainUnavailable = {
  status: 503,
  code: 'chain_unavailable',
  retryAfterSeconds: 10,
  logged: (err: Error) => ({ err: err.cause }),
} as const;
const forwardNow = ['POST /v1/admin/payments/:id/forward'];

/**
 * Every domain error the API answers, with its status and code: routes throw domain errors,
 * this table answers them (first match wins). Anything else is a 500 saying nothing.
 */
const DOMAIN_ERRORS: readonly DomainErrorRow[] = [
  row(PaymentInputError, { status: 400, code: 'invalid_request', field: (e) => e.field }),
  row(BadCursorError, { status: 400, code: 'invalid_request', field: () => 'cursor' }),
  row(IdempotencyConflictError, {
    status: 422,
    code: 'idempotency_conflict',
    field: IDEMPOTENCY_KEY,
  }),
  row(IdempotencyInProgressError, {
    status: 409,
    code: 'idempotency_in_progress',
    field: IDEMPOTENCY_KEY,
  }),
  row(OrderIdTakenError, { status: 409, code: 'order_id_taken', field: () => 'orderId' }),
  row(PaymentNotCancellableError, { status: 409, code: 'payment_not_cancellable' }),
  row(RateUnavailableError, {
    status: 503,
    code: 'rate_unavailable',
    message: (e) =>
      `no exchange rate for ${e.currency} right now; try again, or price in SAT or BTC`,
    retryAfterSeconds: 30,
    logged: (e) => ({ source: e.source, currency: e.currency }),
  }),
  row(AddressCheckUnavailableError, chainUnavailable),
  row(ChainTipUnavailableError, chainUnavailable),
  row(PaymentNotFoundError, { status: 404, code: 'not_found', message: () => 'payment not found' }),
  row(AlreadyCreditedError, { status: 409, code: 'already_credited' }),
  row(InsufficientBalanceError, {
    status: 409,
    code: 'insufficient_balance',
    message: (e) => `balance ${e.balance} is less than the ${e.requested} requested`,
  }),
  row(LedgerConflictError, {
    status: 422,
    code: 'idempotency_conflict',
    message: () => 'Idempotency-Key was already used with a different request',
    field: IDEMPOTENCY_KEY,
    onlyOn: ['POST /v1/users/:id/debit'],
  }),
  // A sweep record whose destination is not the configured one: refused, never served.
  row(DestinationMismatchError, { status: 409, code: 'destination_mismatch' }),
  row(SweepStateError, { status: 409, code: 'not_awaiting_signature' }),
  // Gone between the route's load and the forwarder's: answered as a sweep no longer awaiting one.
  row(SweepNotFoundError, {
    status: 409,
    code: 'not_awaiting_signature',
    onlyOn: ['GET /v1/admin/sweeps/:id/psbt', 'POST /v1/admin/sweeps/:id/psbt'],
  }),
  // A signed PSBT or raw transaction that does not match the sweep: the field the admin sent.
  row(SweepError, {
    status: 400,
    code: 'invalid_request',
    field: (_e, request) =>
      (request.body as { psbt?: unknown } | undefined)?.psbt !== undefined ? 'psbt' : 'rawTx',
    onlyOn: ['POST /v1/admin/sweeps/:id/psbt'],
  }),
  row(TipUnknownError, {
    status: 503,
    code: 'chain_unavailable',
    message: () => 'the chain API is unavailable; try again',
    onlyOn: forwardNow,
  }),
  row(ChainSourceError, {
    status: 503,
    code: 'chain_unavailable',
    message: () => 'the chain API is unavailable; try again',
    onlyOn: forwardNow,
  }),
  // Webhook endpoints (api/webhook-endpoints-routes.ts).
  row(WebhookUrlError, { status: 400, code: 'invalid_request', field: () => 'url' }),
  row(ReadOnlyEndpointError, { status: 409, code: 'read_only' }),
  row(TooManyEndpointsError, { status: 409, code: 'too_many_endpoints' }),
  row(RedeliveryLimitedError, {
    status: 429,
    code: 'rate_limited',
    retryAfterSeconds: (e) => e.retryAfterSeconds,
  }),
];

/** The answer for a domain error, or undefined when the table does not know it (a 500). */
export function answerFor(err: Error, request: FastifyRequest): ErrorAnswer | undefined {
  for (const answer of DOMAIN_ERRORS) {
    const found = answer(err, request);
    if (found) return found;
  }
  return undefined;
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
    const answer = answerFor(err, request);
    if (answer) {
      if (answer.logged) request.log.warn(answer.logged, err.message);
      if (answer.retryAfterSeconds !== undefined)
        void reply.header('retry-after', String(answer.retryAfterSeconds));
      return send(answer.status, answer.code, answer.message, answer.field);
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
