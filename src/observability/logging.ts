/**
 * The daemon's pino options: JSON lines at the configured level, with secrets redacted by
 * configuration (pino's `redact`), so a careless `log.info({ config })` still leaks nothing.
 */
import type { LoggerOptions } from 'pino';

/** Keys whose values never reach a log line, from the top down to REDACT_DEPTH levels. */
export const SECRET_KEYS = [
  'xprv',
  'tprv',
  'seed',
  'secret',
  'password',
  'apiKey',
  'bearerToken',
  'privateKey',
  'wif',
] as const;

/** Request headers that carry credentials, as Node (lowercase) and HTTP clients may spell them. */
const SECRET_HEADERS = ['authorization', 'Authorization', 'cookie', 'Cookie'] as const;

/**
 * Nesting levels below the top covered for SECRET_KEYS: `k`, `*.k`, `*.*.k`, `*.*.*.k` (an array
 * element is one level below its array). Every level adds a wildcard path per key and costs a
 * few µs per log line; three cover what the daemon logs (`{ config: { wallet: { xprv } } }` is two).
 */
export const REDACT_DEPTH = 3;

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/**
 * pino redact paths: request credentials (in `req.headers` and in any `headers` map up to two
 * levels down), and every SECRET_KEYS name at the top level and under
 * up to REDACT_DEPTH levels of objects or arrays. pino has no "any depth" wildcard, but it
 * takes one `*` per level, so each level is spelled out.
 */
export function redactPaths(): string[] {
  const paths = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'];
  // Header maps logged as such (`{ headers }`, an HTTP client error's `err.config.headers`).
  for (let depth = 0; depth <= 2; depth++) {
    const prefix = '*.'.repeat(depth);
    for (const header of SECRET_HEADERS) paths.push(`${prefix}headers.${header}`);
  }
  for (let depth = 0; depth <= REDACT_DEPTH; depth++) {
    const prefix = '*.'.repeat(depth);
    for (const key of SECRET_KEYS) paths.push(`${prefix}${key}`);
  }
  return [...new Set(paths)];
}

/** The options the daemon's logger is created with (`log.level` from the configuration). */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths(), censor: REDACTED },
  };
}

/**
 * `options` with the daemon's redaction added (paths merged with any given), at `options.level`
 * or else `level`.
 */
export function withRedaction(options: LoggerOptions, level: string): LoggerOptions {
  const base = loggerOptions(options.level ?? level);
  const given = options.redact;
  const givenPaths = given === undefined ? [] : Array.isArray(given) ? given : given.paths;
  const censor = given !== undefined && !Array.isArray(given) ? given.censor : undefined;
  return {
    ...base,
    ...options,
    redact: {
      paths: [...new Set([...redactPaths(), ...givenPaths])],
      censor: censor ?? REDACTED,
      ...(given !== undefined && !Array.isArray(given) && given.remove && { remove: true }),
    },
  };
}
