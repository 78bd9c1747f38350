/** The merchant API for payments: create, read one, list with filters, cancel. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type IssuedPayment, isIssued } from '../payments/payment.js';
import { type ViewContext, merchantView } from '../payments/views.js';
import type { PaymentService } from '../payments/payment-service.js';
import type { ApiKeyVerifier } from './auth.js';
import { notFound } from './errors.js';
import { perMinute } from './rate-limits.js';
import { paymentListQuery, toListFilter } from './payment-list-query.js';
import { idParams } from './params.js';
import { createPaymentBody, idempotencyHeaders, pageOf } from './schemas.js';
import type { ApiTypeProvider } from './prepare.js';

export interface PaymentRoutesOptions {
  payments: PaymentService;
  auth: ApiKeyVerifier;
  view: ViewContext;
  createPerMinute: number;
}

export function paymentRoutes(
  instance: FastifyInstance,
  options: PaymentRoutesOptions,
): Promise<void> {
  const app = instance.withTypeProvider<ApiTypeProvider>();
  const { payments, auth, view } = options;
  const merchant = auth.require('merchant');
  const show = (p: IssuedPayment) => merchantView(p, view);
  // A retry of a request already served costs a read, and refusing it would make a client that
  // lost the answer pay twice: replays are never refused for volume.
  const isReplay = async (request: FastifyRequest): Promise<boolean> => {
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || request.principal === undefined) return false;
    return payments.hasIdempotent(request.principal.id, key);
  };

  app.post(
    '/v1/payments',
    {
      onRequest: merchant,
      config: { rateLimit: perMinute(options.createPerMinute, isReplay) },
      schema: {
        tags: ['payments'],
        summary: 'Create a payment',
        description:
          'Prices a package or an explicit price (SAT, BTC or fiat at a rate locked now) and issues a fresh address. ' +
          'A retried request with the same Idempotency-Key returns the same payment.',
        security: [{ apiKey: [] }],
        headers: idempotencyHeaders,
        body: createPaymentBody,
        response: {
          201: { $ref: 'Payment#' },
          200: { $ref: 'Payment#' },
          400: { $ref: 'Error#' },
          401: { $ref: 'Error#' },
          403: { $ref: 'Error#' },
          409: { $ref: 'Error#' },
          422: { $ref: 'Error#' },
          429: { $ref: 'Error#' },
          503: { $ref: 'Error#' },
        },
      },
    },
    async (request, reply) => {
      const idempotencyKey = request.headers['idempotency-key'];
      const principal = request.principal;
      if (!principal) throw new Error('route reached without authentication');
      const { payment, replayed } = await payments.create(request.body, {
        apiKeyId: principal.id,
        ...(idempotencyKey !== undefined && { idempotencyKey }),
      });
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return reply.status(replayed ? 200 : 201).send(show(payment));
    },
  );

  app.get(
    '/v1/payments/:id',
    {
      onRequest: merchant,
      schema: {
        tags: ['payments'],
        summary: 'Read a payment',
        security: [{ apiKey: [] }],
        params: idParams,
        response: { 200: { $ref: 'Payment#' }, 404: { $ref: 'Error#' } },
      },
    },
    async (request) => {
      const payment = await payments.get(request.params.id);
      if (!payment || !isIssued(payment)) throw notFound('payment');
      return show(payment);
    },
  );

  app.get(
    '/v1/payments',
    {
      onRequest: merchant,
      schema: {
        tags: ['payments'],
        summary: 'List payments, newest first',
        description:
          'Every filter is optional and they combine (status and userId and orderId and the ' +
          'creation window); pages follow nextCursor.',
        security: [{ apiKey: [] }],
        querystring: paymentListQuery,
        response: {
          200: pageOf({ $ref: 'Payment#' }),
          400: { $ref: 'Error#' },
        },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await payments.list(toListFilter(filter), limit, cursor);
      return { items: page.items.map(show), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/payments/:id/cancel',
    {
      onRequest: merchant,
      schema: {
        tags: ['payments'],
        summary: 'Cancel an unpaid payment',
        description:
          'Only a pending payment with nothing received can be cancelled (409 ' +
          'payment_not_cancellable otherwise); cancelling again answers the same. Money paid ' +
          'after the cancel is recorded as late, flagged for review, never credited automatically, ' +
          'and swept to the cold wallet like any unpaid coins.',
        security: [{ apiKey: [] }],
        params: idParams,
        response: {
          200: { $ref: 'Payment#' },
          404: { $ref: 'Error#' },
          409: { $ref: 'Error#' },
        },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (!principal) throw new Error('route reached without authentication');
      const payment = await payments.cancel(request.params.id, principal.id);
      if (!payment) throw notFound('payment');
      return show(payment);
    },
  );
  return Promise.resolve();
}
