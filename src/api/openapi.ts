/**
 * The OpenAPI document a client (or a fuzzer) can trust: every status code a route can answer
 * with its schema, an operationId per operation, components named after their schema ids, the
 * rules between fields that the handlers enforce (packageId vs price, force needs reason, psbt
 * vs rawTx), and the webhook events. These are added for the document only: validation keeps
 * the route schemas and their clear per-field messages.
 */
import type {
  FastifyDynamicSwaggerOptions,
  SwaggerOptions,
  SwaggerTransform,
  SwaggerTransformObject,
} from '@fastify/swagger';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/outbox.js';

type Schema = Record<string, unknown>;

const ERROR_REF = { $ref: 'Error#' } as const;

/** What an operation may answer besides its own statuses, and why. */
function standardErrors(method: string, schema: Schema): Record<string, Schema> {
  const errors: Record<string, Schema> = {};
  const add = (status: number, description: string) => {
    errors[String(status)] = { description, ...ERROR_REF };
  };
  if (schema.params || schema.querystring || schema.body || schema.headers)
    add(400, 'Invalid input: the field is named');
  if (schema.security) {
    add(401, 'No valid API key');
    add(403, 'The API key has the wrong role');
  }
  if (schema.params) add(404, 'Not found');
  add(414, 'URL too long');
  if (schema.body || method === 'POST') {
    add(413, 'Body too large');
    add(415, 'Body is not JSON');
  }
  add(429, 'Over a rate limit (see Retry-After)');
  return errors;
}

/** `GET /v1/payments/{id}` → `getV1PaymentsById` */
export function operationIdFor(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .map((part) => {
      const param = /^[{:](\w+)}?$/.exec(part)?.[1];
      return param ? `By${param[0]?.toUpperCase() ?? ''}${param.slice(1)}` : part;
    })
    .flatMap((part) => part.split(/[^A-Za-z0-9]+/))
    .filter(Boolean)
    .map((w) => `${w[0]?.toUpperCase() ?? ''}${w.slice(1)}`);
  return `${method.toLowerCase()}${words.join('')}`;
}

/** Field rules the handlers enforce beyond each field's own schema, by `METHOD url`. */
const BODY_RULES: Readonly<Record<string, Schema>> = {
  'POST /v1/payments': {
    oneOf: [
      {
        required: ['packageId'],
        not: { anyOf: [{ required: ['price'] }, { required: ['credits'] }] },
      },
      { required: ['price', 'credits'], not: { required: ['packageId'] } },
    ],
  },
  'POST /v1/admin/payments/{id}/confirm': {
    // force: true needs a reason.
    anyOf: [
      { not: { required: ['force'] } },
      { properties: { force: { enum: [false] } } },
      { required: ['reason'] },
    ],
  },
  'POST /v1/admin/sweeps/{id}/psbt': {
    oneOf: [
      { required: ['psbt'], not: { required: ['rawTx'] } },
      { required: ['rawTx'], not: { required: ['psbt'] } },
    ],
  },
};

/** What the document says about values only the configuration knows. */
export interface DocumentedChoices {
  packageIds: readonly string[];
  /** SAT, BTC and the configured fiat codes. */
  currencies: readonly string[];
}

/** The create-payment body with the configured packages and currencies as enums. */
function withChoices(body: Schema, choices: DocumentedChoices): Schema {
  const properties = (body.properties ?? {}) as Record<string, Schema>;
  const price = properties.price;
  const priceProperties = (price?.properties ?? {}) as Record<string, Schema>;
  return {
    ...body,
    properties: {
      ...properties,
      packageId: { ...properties.packageId, enum: [...choices.packageIds] },
      ...(price && {
        price: {
          ...price,
          properties: {
            ...priceProperties,
            currency: { ...priceProperties.currency, enum: [...choices.currencies] },
          },
        },
      }),
    },
  };
}

const transformWith =
  (choices: DocumentedChoices): SwaggerTransform =>
  ({ schema, url, route }) => {
    if (schema.hide === true) return { schema, url };
    const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
    const docUrl = url.replace(/:(\w+)/g, '{$1}');
    const base = schema as unknown as Schema;
    const response = {
      ...standardErrors(method, base),
      ...((base.response as Schema | undefined) ?? {}),
    };
    const rules = BODY_RULES[`${method} ${docUrl}`];
    const declared = base.body as Schema | undefined;
    const body =
      declared && `${method} ${docUrl}` === 'POST /v1/payments'
        ? withChoices(declared, choices)
        : declared;
    return {
      url,
      schema: {
        ...schema,
        operationId: (base.operationId as string | undefined) ?? operationIdFor(method, docUrl),
        response,
        ...(body && { body: { ...body, ...rules } }),
      },
    };
  };

/** A webhook delivery's body (see README, Webhooks). */
const webhookEvent = {
  type: 'object',
  required: ['id', 'type', 'createdAt', 'isRedelivery', 'data'],
  properties: {
    id: { type: 'string', description: 'de-duplicate by it' },
    type: { type: 'string', enum: WEBHOOK_EVENT_TYPES },
    createdAt: { type: 'string', format: 'date-time' },
    isRedelivery: { type: 'boolean' },
    data: {
      type: 'object',
      required: ['payment'],
      properties: { payment: { $ref: '#/components/schemas/Payment' } },
    },
  },
} as const;

const webhookHeaders = {
  'Satwatch-Event-Id': { schema: { type: 'string' }, required: true },
  'Satwatch-Event-Type': { schema: { type: 'string' }, required: true },
  'Satwatch-Signature': {
    description: 't=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>',
    schema: { type: 'string' },
    required: true,
  },
};

const pascal = (text: string) =>
  text
    .split(/[._]/)
    .map((w) => `${w[0]?.toUpperCase() ?? ''}${w.slice(1)}`)
    .join('');

/** One POST operation per event type, as satwatch sends it to `webhooks.url`. */
const WEBHOOKS: Record<string, unknown> = Object.fromEntries(
  WEBHOOK_EVENT_TYPES.map((type) => [
    type,
    {
      post: {
        operationId: `webhook${pascal(type)}`,
        summary: `${type}, POSTed to webhooks.url`,
        parameters: Object.entries(webhookHeaders).map(([name, header]) => ({
          name,
          in: 'header',
          ...header,
        })),
        requestBody: {
          required: true,
          content: { 'application/json': { schema: webhookEvent } },
        },
        responses: {
          '2XX': { description: 'Delivered' },
          default: { description: 'Retried later (408, 429, 5xx, network) or failed' },
        },
      },
    },
  ]),
);

/** The @fastify/swagger options of the public app. */
export function swaggerOptions(
  version: string,
  choices: DocumentedChoices,
): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'satwatch',
        version,
        description: 'Self-custody Bitcoin payments: create payments, follow them, read balances.',
      },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'API key' } },
      },
    },
    // Shared schemas are components named by their $id (Payment, Error…), not def-0, def-1…
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `Schema${i}`,
    },
    transform: transformWith(choices),
    // The document as generated, plus the webhook events (OpenAPI 3.1 `webhooks`).
    transformObject: (document) =>
      ({
        ...('openapiObject' in document ? document.openapiObject : {}),
        webhooks: WEBHOOKS,
      }) as ReturnType<SwaggerTransformObject>,
  };
}

export type { SwaggerOptions };
