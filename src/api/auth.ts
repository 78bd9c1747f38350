/**
 * API keys: `Authorization: Bearer <key>`. Only SHA-256 hashes are configured; a presented key
 * is hashed and compared against every configured hash in constant time.
 *
 * The check runs as an `onRequest` hook, before the body is read or validated: a caller without
 * a valid key learns nothing about our input rules, and per-key rate limits (which run after it)
 * count the verified key id, never the raw header text.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';
import type { FailedAuthLimiter } from './failed-auth-limiter.js';

export type Role = 'merchant' | 'admin';

/** A configured API key as the verifier needs it (config's `auth.apiKeys` entries fit it). */
export interface ApiKeyConfig {
  id: string;
  role: Role;
  /** Hex SHA-256 of the key; keys themselves are never stored. */
  sha256: string;
}

export interface Principal {
  id: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function newApiKey(): string {
  return `sw_${randomBytes(32).toString('base64url')}`;
}

/**
 * The token of an `Authorization` header using the Bearer scheme (RFC 7235: the scheme name is
 * case-insensitive, then one or more spaces, then the token), or undefined.
 */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^bearer +([\x21-\x7e]+) *$/i.exec(header ?? '');
  return match?.[1];
}

export class ApiKeyVerifier {
  private readonly keys: { principal: Principal; hash: Buffer }[];

  constructor(
    keys: readonly ApiKeyConfig[],
    /** Refuses (429) callers with too many failed authentications, per client address. */
    private readonly failures?: FailedAuthLimiter,
  ) {
    this.keys = keys.map((k) => ({
      principal: { id: k.id, role: k.role },
      hash: Buffer.from(k.sha256, 'hex'),
    }));
  }

  verify(presented: string): Principal | undefined {
    const hash = createHash('sha256').update(presented, 'utf8').digest();
    let match: Principal | undefined;
    // No early exit: every configured key is compared, whatever matches.
    for (const key of this.keys) {
      if (timingSafeEqual(hash, key.hash) && !match) match = key.principal;
    }
    return match;
  }

  /** An `onRequest` hook admitting only keys with one of `roles`. */
  require(...roles: Role[]) {
    return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
      const blocked = this.failures?.blocked(request.ip);
      if (blocked !== undefined) {
        void reply.header('retry-after', String(blocked));
        done(new ApiError(429, 'rate_limited', 'too many failed authentications; retry later'));
        return;
      }
      const header = request.headers.authorization;
      const token = bearerToken(header);
      const principal = token ? this.verify(token) : undefined;
      if (!principal) {
        this.failures?.fail(request.ip);
        void reply.header('www-authenticate', 'Bearer');
        done(
          new ApiError(
            401,
            'unauthorized',
            token
              ? 'API key not recognised'
              : header
                ? 'Authorization must be "Bearer <key>"'
                : 'API key required (Authorization: Bearer …)',
          ),
        );
        return;
      }
      if (!roles.includes(principal.role)) {
        done(new ApiError(403, 'forbidden', `this endpoint needs a ${roles.join(' or ')} key`));
        return;
      }
      request.principal = principal;
      done();
    };
  }
}
