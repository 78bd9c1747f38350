/**
 * Verifies a webhook in the Standard Webhooks format (https://www.standardwebhooks.com):
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, the
 * key being the base64-decoded part of the secret after `whsec_`. The `standardwebhooks` package
 * does the cryptography and refuses timestamps more than 5 minutes away (replays).
 */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { operations } from './openapi-types.js';

/** The body of every event the daemon sends. */
export type WebhookEvent =
  operations['webhookPaymentConfirmed']['requestBody']['content']['application/json'];

export type WebhookHeaders =
  Headers | Record<string, string | string[] | undefined> | { get(name: string): string | null };

export { WebhookVerificationError };

const NAMES = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(' ') : value;
}

/**
 * The event, if `rawBody` (exactly the bytes received, before any JSON parsing) was signed with
 * `secret` (one `whsec_…` secret, or several while a rotation overlaps); otherwise throws
 * WebhookVerificationError.
 */
export function verifyWebhook(
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  secret: string | readonly string[],
): WebhookEvent {
  const picked: Record<string, string> = {};
  for (const name of NAMES) {
    const value = headerValue(headers, name);
    if (value === undefined) throw new WebhookVerificationError(`missing ${name} header`);
    picked[name] = value;
  }
  const body = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8');
  const secrets = typeof secret === 'string' ? [secret] : secret;
  let lastError: unknown = new WebhookVerificationError('no secret given');
  for (const s of secrets) {
    try {
      return new Webhook(s).verify(body, picked) as WebhookEvent;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}
