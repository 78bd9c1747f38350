/**
 * Request rate, errors and latency by route: `satwatch_http_requests_total{route,method,status}`
 * and `satwatch_http_request_duration_seconds{route,method}`. The route is Fastify's pattern
 * (`/v1/payments/:id`), never the raw URL, so ids do not explode the label space; requests that
 * match no route count as `unmatched`.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './metrics.js';

export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: `${METRIC_PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by route pattern, method and status code',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${METRIC_PREFIX}http_request_duration_seconds`,
    help: 'Time from receiving a request to the end of its answer, by route pattern and method',
    labelNames: ['route', 'method'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const { method } = request;
    requests.inc({ route, method, status: String(reply.statusCode) });
    duration.observe({ route, method }, reply.elapsedTime / 1000);
    done();
  });
}
