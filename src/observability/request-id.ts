/**
 * Request ids: the caller's `x-request-id` when it is 1–128 printable ASCII characters (a proxy
 * or the merchant app can then follow one request through every log), else a random UUID. The
 * id is Fastify's `reqId` in every log line of the request and comes back in the response.
 */
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

const ACCEPTED = /^[\x20-\x7e]{1,128}$/;

/** The id for a request whose `x-request-id` header is `header` (absent, repeated or any text). */
export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && ACCEPTED.test(header) ? header : randomUUID();
}
