/**
 * Which environment variables set which settings. Every setting gets one derived from its key —
 * `payments.maxCredits` → `SATWATCH_PAYMENTS_MAX_CREDITS` — and its kind and secrecy from the
 * config schema, so a setting added to the schema has a variable without a new row. A short
 * exceptions map keeps today's names that do not follow the rule.
 *
 * Any other `SATWATCH_*` variable is a typo or a leftover: start refuses it, naming the closest
 * real one, instead of silently running with the default.
 */
import { closest, distance } from 'fastest-levenshtein';

export type EnvKind = 'string' | 'int' | 'number' | 'bool' | 'json' | 'list';

export interface EnvironmentVariable {
  env: string;
  key: string;
  kind: EnvKind;
  secret?: boolean;
}

export const ENV_PREFIX = 'SATWATCH_';

/**
 * `SATWATCH_*` variables that are not settings but are documented: the profile and config
 * folder, test-only failpoints, the test lab's, the sandbox's key hand-over, and serve's
 * one-time acceptance of a new cold destination (a flag, deliberately not a stored setting).
 */
export const NON_SETTING_VARIABLES: readonly string[] = [
  'SATWATCH_ENV',
  'SATWATCH_CONFIG_DIR',
  'SATWATCH_FAILPOINT',
  'SATWATCH_KEEP_LAB',
  'SATWATCH_LAB_DIR',
  'SATWATCH_MERCHANT_KEY',
  'SATWATCH_ADMIN_KEY',
  'SATWATCH_ACCEPT_NEW_COLD_DESTINATION',
];

/**
 * Today's variables that do not follow the rule (kept for compatibility): a whole section's
 * prefix (`webhooks.*` → `SATWATCH_WEBHOOK_*`), then single keys.
 */
const SECTION_EXCEPTIONS: Readonly<Record<string, string>> = { webhooks: 'WEBHOOK' };
const KEY_EXCEPTIONS: Readonly<Record<string, string>> = {
  'http.publicUrl': 'SATWATCH_PUBLIC_URL',
  'auth.apiKeys': 'SATWATCH_API_KEYS',
};

/** What a schema node says about one setting (see schema.ts). */
export interface SchemaNode {
  type?: string | readonly string[];
  enum?: readonly unknown[];
  properties?: Readonly<Record<string, SchemaNode>>;
  items?: SchemaNode;
  secret?: boolean;
  deprecated?: boolean;
  description?: string;
}

/** `payments.maxCredits` → `SATWATCH_PAYMENTS_MAX_CREDITS` (the rule, without exceptions) */
export function envNameFor(key: string): string {
  return (
    ENV_PREFIX +
    key
      .split('.')
      .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
      .join('_')
  );
}

/** The variable that sets `key`: the rule, or today's name where it differs. */
export function settingEnvName(key: string): string {
  const exception = KEY_EXCEPTIONS[key];
  if (exception !== undefined) return exception;
  const [section = key, ...rest] = key.split('.');
  const renamed = SECTION_EXCEPTIONS[section];
  if (renamed === undefined || rest.length === 0) return envNameFor(key);
  return envNameFor(rest.join('.')).replace(ENV_PREFIX, `${ENV_PREFIX}${renamed}_`);
}

function kindOf(node: SchemaNode): EnvKind {
  const type: string | undefined = typeof node.type === 'string' ? node.type : node.type?.[0];
  switch (type) {
    case 'integer':
      return 'int';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    case 'array':
      return node.items?.type === 'string' ? 'list' : 'json';
    case 'object':
      return 'json';
    default:
      return 'string';
  }
}

/** Every leaf setting of `schema` (objects with declared properties are walked into). */
export function settingLeaves(node: SchemaNode, prefix = ''): { key: string; node: SchemaNode }[] {
  if (node.type === 'object' && node.properties) {
    return Object.entries(node.properties).flatMap(([name, child]) =>
      settingLeaves(child, prefix ? `${prefix}.${name}` : name),
    );
  }
  return [{ key: prefix, node }];
}

/** One variable for every setting of `schema`, named by settingEnvName, kind from its type. */
export function environmentFor(schema: SchemaNode): EnvironmentVariable[] {
  return settingLeaves(schema).map(({ key, node }) => ({
    env: settingEnvName(key),
    key,
    kind: kindOf(node),
    ...(node.secret === true && { secret: true }),
  }));
}

/** The first `SATWATCH_*` variable of `env` that sets nothing, with the closest real name. */
export function unknownVariable(
  env: NodeJS.ProcessEnv,
  variables: readonly EnvironmentVariable[],
): { variable: string; suggestion?: string } | undefined {
  const known = [...variables.flatMap((v) => [v.env, `${v.env}_FILE`]), ...NON_SETTING_VARIABLES];
  const knownSet = new Set(known);
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith(ENV_PREFIX) || knownSet.has(variable)) continue;
    const best = closest(variable, known);
    // A suggestion only when it is plausibly what was meant.
    const plausible = distance(variable, best) <= Math.max(3, Math.floor(variable.length / 4));
    return { variable, ...(plausible && { suggestion: best }) };
  }
  return undefined;
}
