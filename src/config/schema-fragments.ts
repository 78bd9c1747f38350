/** Value shapes shared by the sections of the config schema. */
export const positiveInt = { type: 'integer', minimum: 1 } as const;
export const decimalString = {
  type: 'string',
  pattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?$',
  maxLength: 32,
} as const;
export const currencyCode = { type: 'string', pattern: '^[A-Z]{3}$' } as const;
/** Parsed with the WHATWG URL parser (see isHttpUrl), not prefix-matched. */
export const httpUrl = { type: 'string', format: 'http-url', maxLength: 2048 } as const;
/** HMAC keys: 32 bytes at least, so a guessed or brute-forced secret is out of reach. */
export const webhookSecret = { type: 'string', minLength: 32 } as const;
export const seconds = (maximum: number) => ({ type: 'integer', minimum: 0, maximum }) as const;

/** A block explorer's transaction URL: http(s) with a `{txid}` placeholder, or '' for none. */
export const explorerUrlTemplate = {
  type: 'string',
  maxLength: 2048,
  pattern: '^(|https?://[^\\s/?#{}]+[^\\s]*\\{txid\\}[^\\s]*)$',
} as const;

/** An origin for CSP frame-ancestors: 'self', or http(s)://host[:port], `*.` subdomains allowed. */
export const frameAncestor = {
  type: 'string',
  maxLength: 300,
  pattern: "^('self'|https?://(\\*\\.)?[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?)$",
} as const;
