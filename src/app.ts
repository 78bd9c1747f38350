/**
 * Builds the HTTP application from its services; tests `inject` into it without opening a port.
 * Bodies are validated strictly (no type coercion, unknown fields refused); query strings and
 * path parameters are coerced from text as usual.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ApiKeyVerifier } from './api/auth.js';
import { checkoutRoutes } from './api/checkout-routes.js';
import { errorSchema, registerErrorHandler } from './api/errors.js';
import { paymentRoutes } from './api/payments-routes.js';
import { checkoutStatusView, paymentView } from './api/schemas.js';
import type { Config } from './config/config.js';
import type { PaymentService } from './payments/payment-service.js';

export interface AppDeps {
  config: Config;
  payments: PaymentService;
  logger?: FastifyServerOptions['logger'];
  now?: () => Date;
}

const ajvOptions = {
  allErrors: false,
  strict: false,
  useDefaults: true,
  removeAdditional: false,
} as const;
const strictAjv = new Ajv({ ...ajvOptions, coerceTypes: false });
const coercingAjv = new Ajv({ ...ajvOptions, coerceTypes: 'array' });
for (const ajv of [strictAjv, coercingAjv]) ajv.addFormat('date-time', true);

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const now = deps.now ?? (() => new Date());
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
  });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema),
  );
  registerErrorHandler(app);
  app.addSchema(errorSchema);
  app.addSchema(paymentView);
  app.addSchema(checkoutStatusView);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'satwatch',
        version: '0.1.0',
        description: 'Self-custody Bitcoin payments: create payments, follow them, read balances.',
      },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'API key' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const auth = new ApiKeyVerifier(config.auth.apiKeys);
  const view = { publicUrl: config.http.publicUrl, merchantName: config.checkout.merchantName };

  app.get('/healthz', { schema: { tags: ['operations'], summary: 'Process is alive' } }, () => ({
    status: 'ok',
  }));
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  await app.register(paymentRoutes, {
    payments: deps.payments,
    auth,
    view,
    createPerMinute: config.rateLimit.createPerMinute,
  });
  checkoutRoutes(app, { payments: deps.payments, view, now });
  return app;
}
