/**
 * Request rate limits: one global limit for every route, with per-route overrides (payment
 * creation, debits, the public checkout pages). Authenticated routes count per verified API
 * key id (the auth hook runs first, so the raw header never names a bucket); public routes
 * count per client address, which honours `http.trustProxy`.
 */
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface RateLimitSettings {
  /** Every route without an override, per API key or client address. */
  globalPerMinute: number;
}

/** The bucket a request counts in: its verified API key, else its client address. */
export function rateLimitKey(request: FastifyRequest): string {
  return request.principal ? `key:${request.principal.id}` : `ip:${request.ip}`;
}

export async function registerRateLimits(
  app: FastifyInstance,
  settings: RateLimitSettings,
): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: settings.globalPerMinute,
    timeWindow: 60_000,
    keyGenerator: rateLimitKey,
  });
}

/**
 * A route's own per-minute limit (its own buckets, same keys: each route counts apart). `skip` answers true for requests
 * that must never be refused for volume, e.g. an idempotent replay of a request already served.
 */
export function perMinute(
  max: number,
  skip?: (request: FastifyRequest) => Promise<boolean>,
): RateLimitOptions {
  return {
    max,
    timeWindow: 60_000,
    keyGenerator: rateLimitKey,
    ...(skip && { allowList: (request: FastifyRequest) => skip(request) }),
  };
}
