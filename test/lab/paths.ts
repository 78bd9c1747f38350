import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Repository root, found from this file so the lab works from any cwd. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the running lab records its ports, pids and keys (gitignored). */
export const labDir = process.env.SATWATCH_LAB_DIR ?? path.join(repoRoot, '.lab');
export const labStateFile = path.join(labDir, 'state.json');
