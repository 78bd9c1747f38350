/**
 * The webhook endpoints API (merchant and admin keys): endpoints with their own secret (shown
 * only at creation and rotation), event filter and enabled flag; each endpoint's delivery log and
 * manual redelivery. The configured `webhooks.url` is listed as the read-only endpoint `config`.
 */
import type { FastifyInstance } from 'fastify';
import {
  type DeliverySummary,
  type EndpointRegistry,
  type EndpointSummary,
  MAX_ENDPOINTS,
} from '../webhooks/endpoint-registry.js';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_STATES } from '../webhooks/outbox.js';
import { MAX_WEBHOOK_URL_LENGTH } from '../webhooks/url-policy.js';
import type { ApiKeyVerifier } from './auth.js';
import { notFound } from './errors.js';
import type { ApiTypeProvider } from './prepare.js';
import { attemptJson, deliveryView as attemptView } from './webhooks-routes.js';
import { PRINTABLE_TEXT_PATTERN, authenticatedErrors, pageOf } from './schemas.js';
import { webhookIdParams } from './params.js';

export interface WebhookEndpointRoutesOptions {
  registry: EndpointRegistry;
  auth: ApiKeyVerifier;
}

const dateTime = { type: 'string', format: 'date-time' } as const;
const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;

const eventsField = {
  type: 'array',
  maxItems: WEBHOOK_EVENT_TYPES.length,
  items: { type: 'string', enum: WEBHOOK_EVENT_TYPES },
  description: 'event types sent to this endpoint; empty or absent: all',
} as const;

const endpointView = {
  type: 'object',
  required: ['id', 'url', 'events', 'enabled', 'readOnly'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string' },
    events: eventsField,
    enabled: { type: 'boolean' },
    readOnly: {
      type: 'boolean',
      description:
        'true for `config`, the configured webhooks.url (change it in the configuration)',
    },
    description: { type: 'string' },
    createdAt: dateTime,
    updatedAt: dateTime,
    disabledReason: {
      type: 'string',
      description: 'why it was disabled automatically (a long failure run)',
    },
    disabledAt: dateTime,
    failingSince: { ...dateTime, description: 'the first failed attempt since the last success' },
    previousSecretExpiresAt: {
      ...dateTime,
      description: 'until then, the secret replaced by the last rotation still signs',
    },
  },
} as const;

const createdView = {
  ...endpointView,
  required: [...endpointView.required, 'secret', 'createdAt'],
  properties: {
    ...endpointView.properties,
    secret: { type: 'string', description: '`whsec_…`: shown only now; keep it to verify' },
  },
} as const;

const deliveryView = {
  type: 'object',
  required: [
    'id',
    'eventId',
    'type',
    'state',
    'attempts',
    'createdAt',
    'nextAttemptAt',
    'isRedelivery',
    'attemptLog',
  ],
  properties: {
    id: { type: 'string' },
    eventId: { type: 'string', description: 'the `webhook-id` header' },
    type: { type: 'string', enum: WEBHOOK_EVENT_TYPES },
    paymentId: { type: 'string' },
    state: { type: 'string', enum: WEBHOOK_STATES },
    attempts: { type: 'integer', description: 'attempts in the current delivery round' },
    createdAt: dateTime,
    nextAttemptAt: dateTime,
    deliveredAt: dateTime,
    isRedelivery: { type: 'boolean' },
    attemptLog: {
      type: 'array',
      description: 'the newest attempts, oldest first',
      items: attemptView,
    },
  },
} as const;

const urlField = { type: 'string', minLength: 1, maxLength: MAX_WEBHOOK_URL_LENGTH } as const;
const descriptionField = {
  type: 'string',
  maxLength: 200,
  pattern: PRINTABLE_TEXT_PATTERN,
} as const;

const errors = { ...authenticatedErrors, 404: { $ref: 'Error#' } } as const;

/** Dates as ISO strings; absent ones left out. */
function endpointJson(e: EndpointSummary) {
  const { createdAt, updatedAt, disabledAt, failingSince, previousSecretExpiresAt, ...rest } = e;
  return {
    ...rest,
    ...(createdAt && { createdAt: createdAt.toISOString() }),
    ...(updatedAt && { updatedAt: updatedAt.toISOString() }),
    ...(disabledAt && { disabledAt: disabledAt.toISOString() }),
    ...(failingSince && { failingSince: failingSince.toISOString() }),
    ...(previousSecretExpiresAt && {
      previousSecretExpiresAt: previousSecretExpiresAt.toISOString(),
    }),
  };
}

function deliveryJson(d: DeliverySummary) {
  return {
    id: d._id,
    eventId: d.eventId,
    type: d.type,
    ...(d.paymentId !== undefined && { paymentId: d.paymentId }),
    state: d.state,
    attempts: d.attempts,
    createdAt: d.createdAt.toISOString(),
    nextAttemptAt: d.nextAttemptAt.toISOString(),
    ...(d.deliveredAt !== undefined && { deliveredAt: d.deliveredAt.toISOString() }),
    isRedelivery: d.redelivery,
    attemptLog: d.deliveries.map(attemptJson),
  };
}

/** Typed errors (bad URL, read-only, too many, redelivery limit) are answered by errors.ts. */
export function webhookEndpointRoutes(
  instance: FastifyInstance,
  options: WebhookEndpointRoutesOptions,
): Promise<void> {
  const app = instance.withTypeProvider<ApiTypeProvider>();
  const { registry, auth } = options;
  const onRequest = auth.require('merchant', 'admin');
  const common = { tags: ['webhooks'], security: [{ apiKey: [] }] };

  app.post(
    '/v1/webhooks',
    {
      onRequest,
      schema: {
        ...common,
        summary: 'Add a webhook endpoint',
        description: `Events are signed in the Standard Webhooks format with the secret answered here (only here). At most ${MAX_ENDPOINTS} endpoints. The URL must be https and public unless the operator set webhooks.allowPrivateUrls.`,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: urlField,
            events: eventsField,
            enabled: { type: 'boolean', default: true },
            description: descriptionField,
          },
        },
        response: { 201: createdView, ...errors, 409: { $ref: 'Error#' } },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await registry.create(request.body);
      return reply
        .status(201)
        .send({ ...endpointJson(endpoint), createdAt: endpoint.createdAt.toISOString(), secret });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      onRequest,
      schema: {
        ...common,
        summary: 'List the webhook endpoints (the configured one first, as `config`)',
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: endpointView } },
          },
          ...errors,
        },
      },
    },
    async () => ({ items: (await registry.list()).map(endpointJson) }),
  );

  app.get(
    '/v1/webhooks/:id',
    {
      onRequest,
      schema: {
        ...common,
        summary: 'One webhook endpoint',
        params: webhookIdParams,
        response: { 200: endpointView, ...errors },
      },
    },
    async (request) => {
      const endpoint = await registry.get(request.params.id);
      if (!endpoint) throw notFound('webhook endpoint');
      return endpointJson(endpoint);
    },
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      onRequest,
      schema: {
        ...common,
        summary: 'Change a webhook endpoint',
        description: 'Re-enabling (`enabled: true`) clears an automatic disable and its reason.',
        params: webhookIdParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            url: urlField,
            events: eventsField,
            enabled: { type: 'boolean' },
            description: descriptionField,
          },
        },
        response: { 200: endpointView, ...errors, 409: { $ref: 'Error#' } },
      },
    },
    async (request) => {
      const endpoint = await registry.update(request.params.id, request.body);
      if (!endpoint) throw notFound('webhook endpoint');
      return endpointJson(endpoint);
    },
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      onRequest,
      schema: {
        ...common,
        summary: 'Remove a webhook endpoint and its pending deliveries',
        params: webhookIdParams,
        response: { 204: { type: 'null' }, ...errors, 409: { $ref: 'Error#' } },
      },
    },
    async (request, reply) => {
      const removed = await registry.remove(request.params.id);
      if (!removed) throw notFound('webhook endpoint');
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      onRequest,
      schema: {
        ...common,
        summary: 'Replace the signing secret',
        description:
          'Answers the new secret (only here). For `overlapSeconds` (default 86400, at most 7 days) the old secret still signs too: `webhook-signature` carries both `v1,` entries.',
        params: webhookIdParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            overlapSeconds: { type: 'integer', minimum: 0, maximum: MAX_OVERLAP_SECONDS },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['id', 'secret'],
            properties: {
              id: { type: 'string' },
              secret: { type: 'string' },
              previousSecretExpiresAt: dateTime,
            },
          },
          ...errors,
          409: { $ref: 'Error#' },
        },
      },
    },
    async (request) => {
      const overlap = request.body?.overlapSeconds;
      const rotated = await registry.rotateSecret(request.params.id, overlap);
      if (!rotated) throw notFound('webhook endpoint');
      return {
        id: rotated.endpoint.id,
        secret: rotated.secret,
        ...(rotated.endpoint.previousSecretExpiresAt && {
          previousSecretExpiresAt: rotated.endpoint.previousSecretExpiresAt.toISOString(),
        }),
      };
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      onRequest,
      schema: {
        ...common,
        summary: "An endpoint's delivery log, newest event first",
        params: webhookIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: WEBHOOK_STATES },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            cursor: { type: 'string', maxLength: 400 },
          },
        },
        response: { 200: pageOf(deliveryView), ...errors },
      },
    },
    async (request) => {
      const { limit, cursor, state } = request.query;
      const page = await registry.deliveries(request.params.id, {
        limit,
        ...(cursor !== undefined && { cursor }),
        ...(state !== undefined && { state }),
      });
      if (!page) throw notFound('webhook endpoint');
      return { items: page.items.map(deliveryJson), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      onRequest,
      schema: {
        ...common,
        summary: 'Send a delivery again',
        description:
          'Due now, with a fresh round of attempts and `isRedelivery: true`; same `webhook-id`. Limited per endpoint (429 with Retry-After).',
        params: {
          type: 'object',
          required: ['id', 'deliveryId'],
          properties: {
            id: webhookIdParams.properties.id,
            deliveryId: { type: 'string', minLength: 1, maxLength: 100 },
          },
        },
        response: { 202: deliveryView, ...errors, 429: { $ref: 'Error#' } },
      },
    },
    async (request, reply) => {
      const { id, deliveryId } = request.params;
      const delivery = await registry.redeliver(id, deliveryId);
      if (!delivery) throw notFound('webhook delivery');
      return reply.status(202).send(deliveryJson(delivery));
    },
  );

  return Promise.resolve();
}
