/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): headers `webhook-id`,
 * `webhook-timestamp` (unix seconds) and `webhook-signature`, a space-separated list of
 * `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, one per secret in force (a rotation's
 * overlap sends two). Endpoint secrets are `whsec_<base64 key>`; a configured `webhooks.secrets`
 * entry that is not in that form signs with its UTF-8 bytes as the key (what a receiver gets by
 * using `whsec_` + base64 of the secret). Signing is the `standardwebhooks` package's own.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const SECRET_PREFIX = 'whsec_';
/** Key bytes of a new endpoint secret (the spec asks for 24 to 64). */
export const SECRET_BYTES = 32;

export interface StandardHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** A fresh endpoint secret: `whsec_` + base64 of 32 random bytes. */
export function newEndpointSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/** True for `whsec_` + base64 of 24 to 64 bytes. */
export function isEndpointSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return false;
  const bytes = Buffer.from(b64, 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

function signer(secret: string): Webhook {
  return isEndpointSecret(secret)
    ? new Webhook(secret)
    : new Webhook(new Uint8Array(Buffer.from(secret, 'utf8')), { format: 'raw' });
}

/** The `v1,<base64>` signature of `body` for message `id` sent at `unixSeconds`. */
export function standardSignature(
  secret: string,
  id: string,
  unixSeconds: number,
  body: string,
): string {
  if (!Number.isSafeInteger(unixSeconds) || unixSeconds < 0) {
    throw new RangeError('unixSeconds must be a non-negative integer');
  }
  return signer(secret).sign(id, new Date(unixSeconds * 1000), body);
}

/** The three headers, signed with every secret in `secrets` (newest first). */
export function standardHeaders(
  secrets: readonly string[],
  id: string,
  unixSeconds: number,
  body: string,
): StandardHeaders {
  if (secrets.length === 0) throw new RangeError('at least one signing secret is needed');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(unixSeconds),
    'webhook-signature': secrets
      .map((secret) => standardSignature(secret, id, unixSeconds, body))
      .join(' '),
  };
}
