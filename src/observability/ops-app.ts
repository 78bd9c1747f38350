/**
 * The operations listener (`ops.host`:`ops.port`, 127.0.0.1:9464 by default): health,
 * readiness, Prometheus metrics and the API documentation, kept off the public listener. The
 * checkout pages must be public; these reveal volumes and cost upstream requests, so only the
 * operator's network should reach them. `/healthz` is on both listeners.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { clientErrorHandler, frameworkErrors } from '../api/client-errors.js';
import { prepareApi } from '../api/prepare.js';
import type { DaemonMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';
import { operationsRoutes } from './routes.js';

export interface OpsAppDeps {
  metrics: DaemonMetrics;
  readiness: Readiness;
  /** The public app: its OpenAPI document is served at /openapi.json and /docs. */
  publicApp: FastifyInstance;
  logger?: FastifyBaseLogger;
}

export const healthzRoute = {
  schema: {
    tags: ['operations'],
    summary: 'Process is alive',
    operationId: 'healthz',
    response: {
      200: {
        type: 'object',
        required: ['status'],
        properties: { status: { type: 'string', enum: ['ok'] } },
      },
    },
  },
} as const;

export async function buildOpsApp(deps: OpsAppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    clientErrorHandler,
    frameworkErrors,
  });
  prepareApi(app);
  app.get('/healthz', healthzRoute, () => ({ status: 'ok' }));
  operationsRoutes(app, { metrics: deps.metrics, readiness: deps.readiness });
  const { publicApp } = deps;
  await app.register(async (docs) => {
    // The document describes the public app's routes, complete once that app is ready.
    docs.addHook('onRequest', async () => {
      await publicApp.ready();
    });
    // The ops app's own routes are not the API: its document is the public app's.
    await docs.register(swagger, {
      openapi: { openapi: '3.0.3' },
      transformObject: () => publicApp.swagger(),
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
    docs.get('/openapi.json', { schema: { hide: true } }, () => publicApp.swagger());
  });
  return app;
}
