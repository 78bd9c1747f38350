/**
 * The configuration module's face: the schema-derived `Config` type, loading, and the helpers
 * the composition root and the CLI use. One concept a file: schema.ts (every setting),
 * environment.ts (variable names), load.ts (files and environment), rules.ts (cross-setting
 * checks), deprecations.ts (old names).
 */
export { ConfigError } from './config-error.js';
export type { ApiKeyConfig, Config, PackageConfig, RateSource, Role } from './schema.js';
export {
  type AppConfig,
  type LoadOptions,
  SETTINGS_ENVIRONMENT,
  appConfig,
  defaultConfigDir,
  loadConfig,
} from './load.js';
export { coldAccount } from './rules.js';
export { webhookSecrets } from './deprecations.js';
