/**
 * Old setting names that keep working: each is read as its replacement, refused beside it, and
 * warned about at start.
 */
import { ConfigError } from './config-error.js';
import type { Config } from './schema.js';

/** The webhook signing secrets, newest first (the deprecated single secret as a list of one). */
export function webhookSecrets(config: Pick<Config, 'webhooks'>): string[] {
  const { secrets, secret } = config.webhooks;
  return secrets ?? (secret === undefined ? [] : [secret]);
}

/** An old name and its replacement set together is a mistake: refused, naming both. */
export function checkDeprecatedNames(config: Pick<Config, 'webhooks'>): void {
  if (config.webhooks.secret !== undefined && config.webhooks.secrets !== undefined) {
    throw new ConfigError('webhooks.secret is the old name of webhooks.secrets; set one');
  }
}

/** One warning per old name in use. */
export function warnDeprecated(
  config: Pick<Config, 'webhooks'>,
  warn: (message: string) => void,
): void {
  if (config.webhooks.secret !== undefined) {
    warn('webhooks.secret (SATWATCH_WEBHOOK_SECRET) is deprecated; use webhooks.secrets, a list');
  }
}
