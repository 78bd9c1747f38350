/**
 * Webhook signatures: `Satwatch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * The timestamp is signed with the body, so a captured request cannot be replayed later than
 * the receiver's tolerance. Receivers verify over the raw body bytes exactly as received, before
 * parsing them. Several `v1` entries may appear (e.g. while a secret is being rotated); one
 * matching entry is enough.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Satwatch-Signature';

function hmacHex(secret: string, unixSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex');
}

/** The `Satwatch-Signature` value for `body` sent at `unixSeconds`. */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  if (!Number.isSafeInteger(unixSeconds) || unixSeconds < 0) {
    throw new RangeError('unixSeconds must be a non-negative integer');
  }
  return `t=${unixSeconds},v1=${hmacHex(secret, unixSeconds, body)}`;
}

/**
 * True if `header` carries a timestamp within `toleranceSeconds` of `nowUnixSeconds` (either
 * way) and at least one `v1` signature of `"<t>.<body>"` under `secret`. Compares in constant
 * time; a malformed header, several `t` entries, or a missing `v1` is false, never an exception.
 */
export function verifySignature(
  secret: string,
  header: string,
  body: string,
  nowUnixSeconds: number,
  toleranceSeconds = 300,
): boolean {
  let timestamp: number | undefined;
  let timestamps = 0;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      timestamps++;
      if (/^\d{1,15}$/.test(value)) timestamp = Number(value);
    } else if (key === 'v1' && /^[0-9a-fA-F]{64}$/.test(value)) {
      candidates.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamps !== 1 || timestamp === undefined || candidates.length === 0) return false;
  if (Math.abs(nowUnixSeconds - timestamp) > toleranceSeconds) return false;

  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  let matched = false;
  // No early exit: every candidate is compared.
  for (const candidate of candidates) {
    if (timingSafeEqual(candidate, expected)) matched = true;
  }
  return matched;
}
