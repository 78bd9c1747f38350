/**
 * Reads the repository's Dockerfile, so tests can run what the image runs (its runtime stage's
 * files, ENV, CMD and HEALTHCHECK) without a Docker engine, and cannot drift apart from it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lab/paths.js';

export interface DockerCopy {
  /** The stage copied from (`--from=`), or undefined for the build context. */
  from: string | undefined;
  sources: string[];
  destination: string;
}

export interface DockerStage {
  name: string | undefined;
  workdir: string;
  env: Record<string, string>;
  copies: DockerCopy[];
  user: string | undefined;
  /** exec form only */
  cmd: string[] | undefined;
  healthcheck: string[] | undefined;
}

/** Splits `a=b "c d"=e` into words, honouring double quotes. */
function words(text: string): string[] {
  return [...text.matchAll(/(?:"(?:[^"\\]|\\.)*"|[^\s"])+/g)].map((m) => m[0]);
}

function unquote(value: string): string {
  return value.replace(/"((?:[^"\\]|\\.)*)"/g, (_, inner: string) => inner.replace(/\\(.)/g, '$1'));
}

function execForm(instruction: string, text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
    throw new Error(`${instruction} must use the exec form (a JSON array): ${text}`);
  }
  return parsed;
}

export function parseDockerfile(text: string): DockerStage[] {
  // Line continuations first, then one instruction per line; comments and blanks dropped.
  const instructions = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: DockerStage[] = [];
  for (const line of instructions) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = keyword.toUpperCase();
    if (instruction === 'FROM') {
      const name = /\sAS\s+(\S+)\s*$/i.exec(rest)?.[1];
      stages.push({
        name,
        workdir: '/',
        env: {},
        copies: [],
        user: undefined,
        cmd: undefined,
        healthcheck: undefined,
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${instruction} before FROM`);
    switch (instruction) {
      case 'WORKDIR':
        stage.workdir = path.posix.resolve(stage.workdir, rest);
        break;
      case 'ENV':
        for (const word of words(rest)) {
          const eq = word.indexOf('=');
          if (eq < 1) throw new Error(`ENV needs key=value pairs: ${line}`);
          stage.env[word.slice(0, eq)] = unquote(word.slice(eq + 1));
        }
        break;
      case 'COPY': {
        const parts = words(rest);
        const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
        const paths = parts.filter((p) => !p.startsWith('--'));
        const destination = paths.pop();
        if (destination === undefined || paths.length === 0) throw new Error(`bad COPY: ${line}`);
        stage.copies.push({ from, sources: paths, destination });
        break;
      }
      case 'USER':
        stage.user = rest;
        break;
      case 'CMD':
        stage.cmd = execForm('CMD', rest);
        break;
      case 'HEALTHCHECK': {
        const cmd = /(?:^|\s)CMD\s+(\[.*\])\s*$/.exec(rest)?.[1];
        if (cmd === undefined) throw new Error(`HEALTHCHECK without an exec-form CMD: ${line}`);
        stage.healthcheck = execForm('HEALTHCHECK', cmd);
        break;
      }
      default:
        break;
    }
  }
  return stages;
}

export function readDockerfile(): DockerStage[] {
  return parseDockerfile(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
}
