/**
 * A payment as the merchant's order: the merchant's own order id (unique in this daemon), a small
 * free-form metadata object, and the page the payer is sent back to. Plain rules over plain data:
 * they return what is wrong, the caller decides how to refuse it.
 */

export const ORDER_ID_MAX_LENGTH = 100;
/** Serialized as JSON (UTF-8 bytes): enough for a cart reference, too small to be a datastore. */
export const METADATA_MAX_BYTES = 4096;
/** The metadata object itself is depth 1; `{ a: { b: 1 } }` is depth 2. */
export const METADATA_MAX_DEPTH = 4;
export const REDIRECT_URL_MAX_LENGTH = 2048;

/** A JSON object (the API's schema makes sure of that; these rules bound it). */
export type Metadata = Record<string, unknown>;

export interface OrderFields {
  /** The merchant's order id: at most one payment per order id in this daemon. */
  orderId?: string;
  metadata?: Metadata;
  /** Where the checkout's "Back to the merchant" link leads. */
  redirectUrl?: string;
}

/** What is wrong with an input field, named as a dotted path. */
export interface OrderProblem {
  field: string;
  message: string;
}

/** Another payment already carries this order id. */
export class OrderIdTakenError extends Error {
  constructor(readonly orderId: string) {
    super(`orderId ${JSON.stringify(orderId)} is already used by another payment`);
    this.name = 'OrderIdTakenError';
  }
}

function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value !== null && typeof value === 'object')
    return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

/**
 * Keys starting with `$` or holding a `.` are refused: MongoDB reads them as operators and
 * paths, and a merchant's query on their own metadata should mean what it says.
 */
function badKey(value: unknown, path: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value);
  for (const [key, child] of entries) {
    if (!Array.isArray(value) && (key.startsWith('$') || key.includes('.') || key === ''))
      return `${path}.${key}`;
    const found = badKey(child, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

export function metadataProblem(metadata: Metadata): OrderProblem | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (bytes > METADATA_MAX_BYTES)
    return {
      field: 'metadata',
      message: `is ${bytes} bytes as JSON; at most ${METADATA_MAX_BYTES} are allowed`,
    };
  if (depthOf(metadata) > METADATA_MAX_DEPTH)
    return { field: 'metadata', message: `is nested deeper than ${METADATA_MAX_DEPTH} levels` };
  const key = badKey(metadata, 'metadata');
  if (key !== undefined)
    return { field: key, message: 'is not an allowed key (empty, starts with $ or holds a dot)' };
  return undefined;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * https only, so the payer is never sent back over plain HTTP; http is accepted for loopback
 * hosts (a merchant app on the developer's machine, tests). No credentials in the URL.
 */
export function redirectUrlProblem(text: string): OrderProblem | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { field: 'redirectUrl', message: 'is not an absolute URL' };
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || url.hostname.endsWith('.localhost');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    return { field: 'redirectUrl', message: 'must be https (http only for localhost)' };
  if (url.username !== '' || url.password !== '')
    return { field: 'redirectUrl', message: 'must not hold a user name or password' };
  return undefined;
}

/** The first problem of the order fields, if any. */
export function orderProblem(fields: OrderFields): OrderProblem | undefined {
  if (fields.metadata !== undefined) {
    const problem = metadataProblem(fields.metadata);
    if (problem) return problem;
  }
  if (fields.redirectUrl !== undefined) return redirectUrlProblem(fields.redirectUrl);
  return undefined;
}

/** The order fields as the merchant and admin views (and webhook payloads) show them. */
export function orderView(fields: OrderFields): OrderFields {
  return {
    ...(fields.orderId !== undefined && { orderId: fields.orderId }),
    ...(fields.metadata !== undefined && { metadata: fields.metadata }),
    ...(fields.redirectUrl !== undefined && { redirectUrl: fields.redirectUrl }),
  };
}
