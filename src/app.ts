/**
 * Builds the HTTP application from its services; tests `inject` into it without opening a port.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { adminRoutes } from './api/admin-routes.js';
import { ApiKeyVerifier } from './api/auth.js';
import { checkoutRoutes } from './api/checkout-routes.js';
import { exportRoutes } from './api/export-routes.js';
import { paymentRoutes } from './api/payments-routes.js';
import { prepareApi } from './api/prepare.js';
import { sweepsRoutes } from './api/sweeps-routes.js';
import { usersRoutes } from './api/users-routes.js';
import { webhookRoutes } from './api/webhooks-routes.js';
import type { Config } from './config/config.js';
import type { Forwarder } from './forwarding/forwarder.js';
import type { Ledger } from './ledger/ledger.js';
import type { DaemonMetrics } from './observability/metrics.js';
import type { Readiness } from './observability/readiness.js';
import { registerHttpMetrics } from './observability/http-metrics.js';
import { REQUEST_ID_HEADER, requestIdFor } from './observability/request-id.js';
import { operationsRoutes } from './observability/routes.js';
import type { PaymentService } from './payments/payment-service.js';
import type { PaymentRepository } from './storage/payments.js';
import type { SweepRepository } from './storage/sweeps.js';
import type { PaymentWatcher } from './watcher/payment-watcher.js';
import type { WebhookOutbox } from './webhooks/outbox.js';

export interface AppDeps {
  config: Config;
  payments: PaymentService;
  repo: PaymentRepository;
  ledger: Ledger;
  outbox: WebhookOutbox;
  sweeps: SweepRepository;
  forwarder: Forwarder | undefined;
  watcher: PaymentWatcher;
  /** `/metrics` */
  metrics: DaemonMetrics;
  /** `/readyz` */
  readiness: Readiness;
  logger?: FastifyBaseLogger;
  now?: () => Date;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const now = deps.now ?? (() => new Date());
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: config.http.bodyLimitBytes,
    // Longer than any id we issue, so over-long ids reach our schemas (400) instead of a bare 414.
    routerOptions: { maxParamLength: 400 },
    trustProxy: config.http.trustProxy,
    // Our own rule for the caller's x-request-id (see requestIdFor), not Fastify's header option.
    requestIdHeader: false,
    genReqId: (req) => requestIdFor(req.headers[REQUEST_ID_HEADER]),
  });
  prepareApi(app);
  registerHttpMetrics(app, deps.metrics.registry);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });

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
  operationsRoutes(app, { metrics: deps.metrics, readiness: deps.readiness });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  await app.register(paymentRoutes, {
    payments: deps.payments,
    auth,
    view,
    createPerMinute: config.rateLimit.createPerMinute,
  });
  await app.register(usersRoutes, { ledger: deps.ledger, auth });
  await app.register(adminRoutes, { repo: deps.repo, watcher: deps.watcher, auth, view });
  await app.register(webhookRoutes, { outbox: deps.outbox, auth });
  await app.register(exportRoutes, { db: deps.repo.collection.db, auth });
  await app.register(sweepsRoutes, { sweeps: deps.sweeps, forwarder: deps.forwarder, auth });
  checkoutRoutes(app, { payments: deps.payments, view, now });
  return app;
}
