/** A setting that is missing, malformed or inconsistent; the message names the key, never a secret. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(`invalid configuration: ${message}`);
    this.name = 'ConfigError';
  }
}
