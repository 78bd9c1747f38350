/** The merchant API for payments: create, read one, list a user's. */
import rateLimit from '@fastify/rate-limit';
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  type IssuedPayment,
  type ViewContext,
  isIssued,
  merchantView,
} from '../payments/payment.js';
import type { CreatePaymentInput, PaymentService } from '../payments/payment-service.js';
import type { ApiKeyVerifier } from './auth.js';
import { notFound } from './errors.js';
import { createPaymentBody, idempotencyHeaders, pageOf } from './schemas.js';

export interface PaymentRoutesOptions {
  payments: PaymentService;
  auth: ApiKeyVerifier;
  view: ViewContext;
  createPerMinute: number;
}

export async function paymentRoutes(
  app: FastifyInstance,
  options: PaymentRoutesOptions,
): Promise<void> {
  const { payments, auth, view } = options;
  const merchant = auth.require('merchant');
  const show = (p: IssuedPayment) => merchantView(p, view);

  await app.register(rateLimit, { global: false });

  app.post<{ Body: CreatePaymentInput; Headers: { 'idempotency-key'?: string } }>(
    '/v1/payments',
    {
      preHandler: merchant,
      config: {
        rateLimit: {
          max: options.createPerMinute,
          timeWindow: 60_000,
          // Per API key (hashed) or, without one, per client address.
          keyGenerator: (req) =>
            createHash('sha256')
              .update(req.headers.authorization ?? req.ip)
              .digest('base64url'),
        },
      },
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

  app.get<{ Params: { id: string } }>(
    '/v1/payments/:id',
    {
      preHandler: merchant,
      schema: {
        tags: ['payments'],
        summary: 'Read a payment',
        security: [{ apiKey: [] }],
        params: {
          type: 'object',
          properties: { id: { type: 'string', maxLength: 64 } },
          required: ['id'],
        },
        response: { 200: { $ref: 'Payment#' }, 404: { $ref: 'Error#' } },
      },
    },
    async (request) => {
      const payment = await payments.get(request.params.id);
      if (!payment || !isIssued(payment)) throw notFound('payment');
      return show(payment);
    },
  );

  app.get<{ Querystring: { userId: string; limit: number; cursor?: string } }>(
    '/v1/payments',
    {
      preHandler: merchant,
      schema: {
        tags: ['payments'],
        summary: "List a user's payments, newest first",
        security: [{ apiKey: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['userId'],
          properties: {
            userId: createPaymentBody.properties.userId,
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            cursor: { type: 'string', maxLength: 200 },
          },
        },
        response: {
          200: pageOf({ $ref: 'Payment#' }),
          400: { $ref: 'Error#' },
        },
      },
    },
    async (request) => {
      const { userId, limit, cursor } = request.query;
      const page = await payments.listByUser(userId, limit, cursor);
      return { items: page.items.map(show), nextCursor: page.nextCursor };
    },
  );
}
