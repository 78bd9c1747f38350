/**
 * Loading: config/default.json ← config/<env>.json ← environment variables, where every
 * variable may instead name a file (`<NAME>_FILE`) for secrets. Validated against the schema
 * and the rules at start; errors name the offending key and never quote a secret.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { ConfigError } from './config-error.js';
import { warnDeprecated } from './deprecations.js';
import {
  type EnvKind,
  type EnvironmentVariable,
  environmentFor,
  unknownVariable,
} from './environment.js';
import { checkConsistency, checkWatcherTiming } from './rules.js';
import { CONFIG_SCHEMA, type Config } from './schema.js';

/** An absolute http(s) URL with a host: `https://` alone, or `https:/x`, is refused. */
function isHttpUrl(text: string): boolean {
  if (!/^https?:\/\/[^/?#]/i.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const validate = new Ajv({ allErrors: false, strict: true })
  .addFormat('http-url', isHttpUrl)
  // Annotations for the environment, config check and README (see schema.ts); nothing to check.
  .addKeyword({ keyword: 'secret', schemaType: 'boolean' })
  .compile(CONFIG_SCHEMA);

/** Every environment variable that sets a setting, derived from the schema. */
export const SETTINGS_ENVIRONMENT: readonly EnvironmentVariable[] = environmentFor(CONFIG_SCHEMA);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: Json, override: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function readJsonFile(file: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(parsed)) throw new ConfigError(`${file} must hold a JSON object`);
  return parsed;
}

function setPath(target: Json, key: string, value: unknown): void {
  const parts = key.split('.');
  const leaf = parts.pop() ?? key;
  let node = target;
  for (const part of parts) {
    const next = node[part];
    node[part] = isObject(next) ? { ...next } : {};
    node = node[part] as Json;
  }
  node[leaf] = value;
}

/** Group or others may read it: a secret file should be the daemon user's alone. */
function readableByOthers(file: string): boolean {
  try {
    return (statSync(file).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

function envValue(
  env: NodeJS.ProcessEnv,
  name: string,
  secret: boolean,
  warn: (message: string) => void,
): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && file !== undefined) {
    throw new ConfigError(`${name} and ${name}_FILE are both set; use one`);
  }
  if (file === undefined) return direct;
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    throw new ConfigError(`${name}_FILE names ${secret ? 'a file' : file} that cannot be read`);
  }
  if (secret && readableByOthers(file)) {
    warn(`${name}_FILE is readable by other users; restrict it (chmod 600 or 400)`);
  }
  return text;
}

function coerce(name: string, kind: EnvKind, raw: string, secret: boolean): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'int':
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer`);
      return Number(raw);
    case 'number':
      if (!/^\d+(\.\d+)?$/.test(raw.trim())) throw new ConfigError(`${name} must be a number`);
      return Number(raw);
    case 'bool':
      if (!['true', 'false', '1', '0'].includes(raw))
        throw new ConfigError(`${name} must be true or false`);
      return raw === 'true' || raw === '1';
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new ConfigError(`${name} must be JSON${secret ? '' : ` (got ${raw.slice(0, 40)})`}`);
      }
  }
}

export interface LoadOptions {
  /** Default: process.env, whose secret variables are removed once read (see scrubSecrets). */
  env?: NodeJS.ProcessEnv;
  configDir?: string;
  /** Warnings for the operator (default: stderr); loading goes on. */
  warn?: (message: string) => void;
}

const warnOnStderr = (message: string): void => {
  process.stderr.write(`satwatch: warning: ${message}\n`);
};

/**
 * Secret values leave the environment once parsed, so nothing started later (a child process,
 * a crash reporter dumping the environment) sees them. The `_FILE` forms only name files.
 */
function scrubSecrets(env: NodeJS.ProcessEnv): void {
  for (const { env: name, secret } of SETTINGS_ENVIRONMENT) {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the environment is a map
    if (secret) delete env[name];
  }
}

export function defaultConfigDir(): string {
  // From src/config (tsx) the repo is two levels up; from dist/src/config (compiled), three.
  const fromSource = path.resolve(import.meta.dirname, '../../config');
  const fromDist = path.resolve(import.meta.dirname, '../../../config');
  return existsSync(path.join(fromSource, 'default.json')) ? fromSource : fromDist;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const warn = options.warn ?? warnOnStderr;
  const unknown = unknownVariable(env, SETTINGS_ENVIRONMENT);
  if (unknown) {
    throw new ConfigError(
      `unknown environment variable ${unknown.variable}` +
        (unknown.suggestion ? ` (did you mean ${unknown.suggestion}?)` : ''),
    );
  }
  const dir = env.SATWATCH_CONFIG_DIR ?? options.configDir ?? defaultConfigDir();
  let merged = readJsonFile(path.join(dir, 'default.json'));
  const profile = env.SATWATCH_ENV ?? env.NODE_ENV;
  if (profile) {
    if (!/^[a-z0-9-]+$/.test(profile))
      throw new ConfigError(`SATWATCH_ENV "${profile}" is not a profile name`);
    const file = path.join(dir, `${profile}.json`);
    if (existsSync(file)) merged = deepMerge(merged, readJsonFile(file));
  }
  for (const { env: name, key, kind, secret = false } of SETTINGS_ENVIRONMENT) {
    const raw = envValue(env, name, secret, warn);
    if (raw !== undefined) setPath(merged, key, coerce(name, kind, raw, secret));
  }
  if (!validate(merged)) {
    const error = validate.errors?.[0];
    const where = (error?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    const extra = error?.params.additionalProperty as string | undefined;
    if (extra !== undefined)
      throw new ConfigError(`unknown key ${where ? `${where}.` : ''}${extra}`);
    throw new ConfigError(`${where || 'config'} ${error?.message ?? 'is invalid'}`);
  }
  const config = merged as unknown as Config;
  checkConsistency(config);
  checkWatcherTiming(config.watcher);
  warnDeprecated(config, warn);
  if (env === process.env) scrubSecrets(env);
  return config;
}

/** What the HTTP application may see: the configuration without the wallet's private key. */
export type AppConfig = Omit<Config, 'wallet'> & { wallet: Omit<Config['wallet'], 'xprv'> };

export function appConfig(config: Config): AppConfig {
  const wallet = { ...config.wallet };
  delete wallet.xprv;
  return { ...config, wallet };
}
