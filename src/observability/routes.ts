/**
 * Operator endpoints without API keys: `/metrics` (Prometheus) and `/readyz`. Bind the daemon
 * to a private network, or keep these paths off the public proxy: they reveal volumes and
 * states, never secrets.
 */
import type { FastifyInstance } from 'fastify';
import type { DaemonMetrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export interface OperationsDeps {
  metrics: DaemonMetrics;
  readiness: Readiness;
}

const check = (extra: Record<string, unknown> = {}) =>
  ({
    type: 'object',
    required: ['ok'],
    properties: {
      ok: { type: 'boolean' },
      error: { type: 'string', description: 'why the check failed' },
      ...extra,
    },
  }) as const;

export const readinessSchema = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'unready'] },
    checks: {
      type: 'object',
      required: ['mongo', 'chain', 'watcher'],
      properties: {
        mongo: check(),
        chain: check({ tipHeight: { type: 'integer', description: 'the chain API’s tip height' } }),
        watcher: {
          type: 'object',
          description: 'informative only: a standby replica is ready too',
          required: ['enabled', 'leading', 'holder', 'lastCycleAt'],
          properties: {
            enabled: { type: 'boolean', description: 'this process runs the watcher loop' },
            leading: { type: 'boolean', description: 'this process holds the watcher lease' },
            holder: { type: ['string', 'null'], description: 'the lease holder' },
            lastCycleAt: {
              type: ['string', 'null'],
              format: 'date-time',
              description: 'when this process last finished a cycle',
            },
          },
        },
      },
    },
  },
} as const;

export function operationsRoutes(app: FastifyInstance, deps: OperationsDeps): void {
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Ready to serve: MongoDB and the chain API answer',
        description:
          'Pings MongoDB and reads the chain tip, each with a short timeout. 503 names the failing check. No API key.',
        response: {
          200: { ...readinessSchema, description: 'Ready' },
          503: {
            ...readinessSchema,
            description: 'Not ready: the check with `ok: false` says why',
          },
        },
      },
    },
    async (_request, reply) => {
      const report = await deps.readiness.check();
      return reply.code(report.status === 'ready' ? 200 : 503).send(report);
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description:
          'Prometheus text format 0.0.4. Payment, webhook and sweep counts are read from MongoDB at scrape time. No API key: expose it on a private network only.',
        response: {
          200: {
            description: 'Prometheus exposition text',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => {
      const text = await deps.metrics.scrape();
      return reply.type(deps.metrics.contentType).send(text);
    },
  );
}
