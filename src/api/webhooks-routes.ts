/** The admin API for webhooks: the outbox with its delivery log, and redelivery. */
import type { FastifyInstance } from 'fastify';
import {
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_STATES,
  type WebhookDelivery,
  type WebhookEvent,
} from '../webhooks/outbox.js';
import type { OutboxQueue } from '../webhooks/ports.js';
import type { ApiKeyVerifier } from './auth.js';
import { pageOf, authenticatedErrors } from './schemas.js';
import { notFound } from './errors.js';
import type { ApiTypeProvider } from './prepare.js';
import { webhookIdParams } from './params.js';

export interface WebhookRoutesOptions {
  outbox: OutboxQueue;
  auth: ApiKeyVerifier;
}

const dateTime = { type: 'string', format: 'date-time' } as const;

/** One attempt of the delivery log (also in the endpoints API). */
export const deliveryView = {
  type: 'object',
  required: ['at', 'attempt', 'durationMs', 'redelivery'],
  properties: {
    at: dateTime,
    attempt: { type: 'integer' },
    status: { type: 'integer', description: "the receiver's HTTP status, when it answered" },
    error: { type: 'string', description: 'why the attempt failed without a usable answer' },
    durationMs: { type: 'integer' },
    redelivery: { type: 'boolean' },
  },
} as const;

const eventView = {
  type: 'object',
  required: [
    'id',
    'type',
    'state',
    'attempts',
    'createdAt',
    'nextAttemptAt',
    'isRedelivery',
    'data',
    'deliveries',
  ],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: WEBHOOK_EVENT_TYPES },
    paymentId: { type: 'string' },
    state: { type: 'string', enum: WEBHOOK_STATES },
    attempts: { type: 'integer', description: 'attempts in the current delivery round' },
    createdAt: dateTime,
    nextAttemptAt: { ...dateTime, description: 'when a pending event is sent next' },
    deliveredAt: dateTime,
    isRedelivery: { type: 'boolean' },
    data: { description: 'the payload sent as `data`' },
    deliveries: {
      type: 'array',
      items: deliveryView,
      description: 'the newest attempts, oldest first',
    },
  },
} as const;

const errors = authenticatedErrors;

/** An attempt as the API shows it. */
export function attemptJson(d: WebhookDelivery) {
  return {
    at: d.at.toISOString(),
    attempt: d.attempt,
    ...(d.status !== undefined && { status: d.status }),
    ...(d.error !== undefined && { error: d.error }),
    durationMs: d.durationMs,
    redelivery: d.redelivery,
  };
}

function view(event: WebhookEvent) {
  return {
    id: event._id,
    type: event.type,
    ...(event.paymentId !== undefined && { paymentId: event.paymentId }),
    state: event.state,
    attempts: event.attempts,
    createdAt: event.createdAt.toISOString(),
    nextAttemptAt: event.nextAttemptAt.toISOString(),
    ...(event.deliveredAt !== undefined && { deliveredAt: event.deliveredAt.toISOString() }),
    isRedelivery: event.redelivery,
    data: event.data,
    deliveries: event.deliveries.map(attemptJson),
  };
}

export function webhookRoutes(
  instance: FastifyInstance,
  options: WebhookRoutesOptions,
): Promise<void> {
  const app = instance.withTypeProvider<ApiTypeProvider>();
  const { outbox, auth } = options;
  const admin = auth.require('admin');

  app.get(
    '/v1/admin/webhooks',
    {
      onRequest: admin,
      schema: {
        tags: ['admin'],
        summary: 'List webhook events with their delivery log, newest first',
        security: [{ apiKey: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: WEBHOOK_STATES },
            paymentId: { type: 'string', minLength: 1, maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            cursor: { type: 'string', maxLength: 400 },
          },
        },
        response: {
          200: pageOf(eventView),
          ...errors,
        },
      },
    },
    async (request) => {
      const { state, paymentId, limit, cursor } = request.query;
      // A bad cursor is a BadCursorError: the error handler answers 400 naming `cursor`.
      const page = await outbox.list({
        limit,
        ...(state !== undefined && { state }),
        ...(paymentId !== undefined && { paymentId }),
        ...(cursor !== undefined && { cursor }),
      });
      return { items: page.items.map(view), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/admin/webhooks/:id/redeliver',
    {
      onRequest: admin,
      schema: {
        tags: ['admin'],
        summary: 'Send a webhook event again',
        description:
          'Puts the event back in the queue, due now, with a fresh round of attempts; the body says `isRedelivery: true`. ' +
          'The event keeps its id: a receiver that has already processed it should simply answer 2xx.',
        security: [{ apiKey: [] }],
        params: webhookIdParams,
        response: { 202: eventView, ...errors, 404: { $ref: 'Error#' } },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!(await outbox.redeliver(id))) throw notFound('webhook event');
      const event = await outbox.get(id);
      if (!event) throw notFound('webhook event');
      return reply.status(202).send(view(event));
    },
  );

  return Promise.resolve();
}
