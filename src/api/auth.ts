/**
 * API keys: `Authorization: Bearer <key>`. Only SHA-256 hashes are configured; a presented key
 * is hashed and compared against every configured hash in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyConfig, Role } from '../config/config.js';
import { ApiError } from './errors.js';

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

export class ApiKeyVerifier {
  private readonly keys: { principal: Principal; hash: Buffer }[];

  constructor(keys: readonly ApiKeyConfig[]) {
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

  /** A preHandler admitting only keys with one of `roles`. */
  require(...roles: Role[]) {
    return (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void => {
      const header = request.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
      const principal = token ? this.verify(token) : undefined;
      if (!principal) {
        void reply.header('www-authenticate', 'Bearer');
        done(
          new ApiError(
            401,
            'unauthorized',
            token ? 'API key not recognised' : 'API key required (Authorization: Bearer …)',
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
