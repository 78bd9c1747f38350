/** The admin API for payments: search, inspect, confirm by hand. Admin keys only. */
import type { FastifyInstance } from 'fastify';
import { PAYMENT_STATUSES, isIssued } from '../payments/payment.js';
import type { PaymentStore } from '../payments/payment-store.js';
import { type ViewContext, adminView } from '../payments/views.js';
import type { Settlement } from '../settlement/settlement.js';
import type { ApiKeyVerifier } from './auth.js';
import { pageOf } from './schemas.js';
import { ApiError, notFound } from './errors.js';
import type { ApiTypeProvider } from './prepare.js';
import { idParams, isoDate, parseDate } from './params.js';

export interface AdminRoutesOptions {
  repo: PaymentStore;
  settlement: Pick<Settlement, 'checkNow' | 'confirmManually'>;
  auth: ApiKeyVerifier;
  view: ViewContext;
}

export async function adminRoutes(
  instance: FastifyInstance,
  options: AdminRoutesOptions,
): Promise<void> {
  const app = instance.withTypeProvider<ApiTypeProvider>();
  const { repo, settlement, auth, view } = options;
  const admin = auth.require('admin');

  app.get(
    '/v1/admin/payments',
    {
      onRequest: admin,
      schema: {
        tags: ['admin'],
        summary: 'Search payments, newest first',
        security: [{ apiKey: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: PAYMENT_STATUSES },
            userId: { type: 'string', maxLength: 128 },
            from: { ...isoDate, description: 'created at or after (ISO 8601)' },
            to: { ...isoDate, description: 'created before (ISO 8601)' },
            late: { type: 'boolean' },
            needsReview: { type: 'boolean' },
            manual: { type: 'boolean' },
            overpaid: { type: 'boolean' },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
            cursor: { type: 'string', maxLength: 200 },
          },
        },
        response: {
          200: pageOf({ $ref: 'AdminPayment#' }),
          400: { $ref: 'Error#' },
          401: { $ref: 'Error#' },
          403: { $ref: 'Error#' },
        },
      },
    },
    async (request) => {
      const q = request.query;
      const from = parseDate(q.from, 'from');
      const to = parseDate(q.to, 'to');
      const page = await repo.search(
        {
          ...(q.status && { status: q.status }),
          ...(q.userId !== undefined && { userId: q.userId }),
          ...(from && { from }),
          ...(to && { to }),
          ...(q.late !== undefined && { late: q.late }),
          ...(q.needsReview !== undefined && { needsReview: q.needsReview }),
          ...(q.manual !== undefined && { manual: q.manual }),
          ...(q.overpaid !== undefined && { overpaid: q.overpaid }),
        },
        q.limit,
        q.cursor,
      );
      return {
        items: page.items.map((p) => adminView(p, view)),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.get(
    '/v1/admin/payments/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['admin'],
        summary: 'A payment with its events, outputs and credit',
        security: [{ apiKey: [] }],
        params: idParams,
        response: { 200: { $ref: 'AdminPayment#' }, 404: { $ref: 'Error#' } },
      },
    },
    async (request) => {
      const payment = await repo.findById(request.params.id);
      if (!payment || !isIssued(payment)) throw notFound('payment');
      return adminView(payment, view);
    },
  );

  app.post(
    '/v1/admin/payments/:id/confirm',
    {
      onRequest: admin,
      schema: {
        tags: ['admin'],
        summary:
          'Re-check a payment now; with force and a reason, confirm and credit it regardless',
        description:
          'Without force, the chain is read now and the normal rules apply. With force: true and a reason, ' +
          'the payment is confirmed and credited once, recorded as manual with the admin key id. ' +
          '409 if it is already credited.',
        security: [{ apiKey: [] }],
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            force: { type: 'boolean' },
            reason: { type: 'string', minLength: 3, maxLength: 500 },
          },
        },
        response: {
          200: { $ref: 'AdminPayment#' },
          400: { $ref: 'Error#' },
          404: { $ref: 'Error#' },
          409: { $ref: 'Error#' },
        },
      },
    },
    async (request) => {
      // No body at all is a plain re-check.
      const { force = false, reason } = (request.body as typeof request.body | undefined) ?? {};
      const adminId = request.principal?.id ?? 'unknown';
      // PaymentNotFoundError and AlreadyCreditedError are answered by the table in errors.ts.
      if (!force) return adminView(await settlement.checkNow(request.params.id), view);
      if (reason === undefined)
        throw new ApiError(400, 'invalid_request', 'reason is required with force', 'reason');
      return adminView(await settlement.confirmManually(request.params.id, adminId, reason), view);
    },
  );
  return Promise.resolve();
}
