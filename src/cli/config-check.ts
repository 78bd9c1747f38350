/**
 * `satwatch config check`: loads and validates the configuration exactly as `serve` does and
 * prints the effective result as JSON, secrets masked, so an operator can see what the daemon
 * would run with (and paste it into a ticket) without leaking a key.
 */
import { type Config, SETTINGS_ENVIRONMENT, loadConfig } from '../config/config.js';

/** What a secret that is set prints as. */
export const SECRET_SET = '<set>';

/**
 * Secret settings whose value is worth showing in part. Every other `secret: true` setting of
 * SETTINGS_ENVIRONMENT prints as SECRET_SET, so a secret added later is masked by default.
 */
const PARTIAL_SECRETS: Readonly<Record<string, (value: unknown) => unknown>> = {
  // Host and options matter when debugging; only the password is a secret.
  'mongo.url': (value) => (typeof value === 'string' ? maskUrlPassword(value) : SECRET_SET),
  // Validation only lets SHA-256 hashes in (a raw key pasted here is refused), so they can show.
  'auth.apiKeys': (value) => value,
};

/**
 * `scheme://user:password@host…` → `scheme://user:***@host…`; other strings unchanged. The
 * userinfo ends at the last `@` before the query (MongoDB hosts lists hold no `@`), so an
 * unencoded `@` or `/` in the password is masked too.
 */
export function maskUrlPassword(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  if (scheme === undefined) return url;
  const query = url.indexOf('?');
  const head = query < 0 ? url : url.slice(0, query);
  const at = head.lastIndexOf('@');
  if (at < scheme.length) return url;
  const userinfo = head.slice(scheme.length, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return url;
  return `${scheme}${userinfo.slice(0, colon)}:***${url.slice(at)}`;
}

function getPath(target: Record<string, unknown>, key: string): unknown {
  let node: unknown = target;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  const leaf = parts.pop() ?? key;
  let node = target;
  for (const part of parts) node = node[part] as Record<string, unknown>;
  node[leaf] = value;
}

/** Any string anywhere in `value` with a password in a URL gets it masked. */
function maskUrlsDeep(value: unknown): unknown {
  if (typeof value === 'string') return maskUrlPassword(value);
  if (Array.isArray(value)) return value.map(maskUrlsDeep);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskUrlsDeep(v)]));
  }
  return value;
}

/** A deep copy of `config` that is safe to print. */
export function maskSecrets(config: Config): Record<string, unknown> {
  const masked = maskUrlsDeep(config) as Record<string, unknown>;
  for (const { key, secret } of SETTINGS_ENVIRONMENT) {
    if (!secret) continue;
    const value = getPath(config, key);
    if (value === undefined) continue;
    const partial = PARTIAL_SECRETS[key];
    setPath(masked, key, partial ? partial(value) : SECRET_SET);
  }
  return masked;
}

/** Prints the effective configuration; a ConfigError (naming the key) propagates → exit 1. */
export function configCheck(args: string[]): number {
  if (args.length > 0) throw new Error(`config check takes no arguments (got ${args.join(' ')})`);
  const config = loadConfig();
  console.log(JSON.stringify(maskSecrets(config), null, 2));
  return 0;
}
