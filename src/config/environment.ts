/**
 * Which environment variables set which settings. A table row names a setting's variable when
 * its name does not follow the rule (kept for compatibility); every other setting gets one
 * derived from its key — `payments.maxCredits` → `SATWATCH_PAYMENTS_MAX_CREDITS` — and its kind
 * from the config schema, so a setting added to the schema has a variable without a new row.
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

/** Keys whose values are secrets when no table row says otherwise. */
const SECRET_KEY = /(secret|xprv|password|token)s?$/i;

interface SchemaNode {
  type?: string | readonly string[];
  enum?: readonly unknown[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/** `payments.maxCredits` → `SATWATCH_PAYMENTS_MAX_CREDITS` */
export function envNameFor(key: string): string {
  return (
    ENV_PREFIX +
    key
      .split('.')
      .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
      .join('_')
  );
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
function leaves(node: SchemaNode, prefix = ''): { key: string; node: SchemaNode }[] {
  if (node.type === 'object' && node.properties) {
    return Object.entries(node.properties).flatMap(([name, child]) =>
      leaves(child, prefix ? `${prefix}.${name}` : name),
    );
  }
  return [{ key: prefix, node }];
}

/** The table's rows, then a derived row for every setting of `schema` the table leaves out. */
export function environmentFor(
  schema: SchemaNode,
  table: readonly EnvironmentVariable[],
): EnvironmentVariable[] {
  const covered = new Set(table.map((row) => row.key));
  const derived = leaves(schema)
    .filter(({ key }) => !covered.has(key))
    .map(({ key, node }) => ({
      env: envNameFor(key),
      key,
      kind: kindOf(node),
      ...(SECRET_KEY.test(key) && { secret: true }),
    }));
  return [...table, ...derived];
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
