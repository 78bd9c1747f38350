/** The package's version, for `--version` and the OpenAPI document. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The version in the package.json above src/ (tsx) or dist/src/ (compiled). */
export function version(): string {
  for (const up of ['..', '../..', '../../..']) {
    try {
      const file = path.resolve(import.meta.dirname, up, 'package.json');
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'satwatch' && pkg.version !== undefined) return pkg.version;
    } catch {
      // not this level
    }
  }
  return 'unknown';
}
