/**
 * docker-compose.yml, read as Docker Compose reads it (no Docker engine here): MongoDB with
 * authentication from secrets, health-gated start, and hardened containers (issue 11 §5).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SETTINGS_ENVIRONMENT } from '../../src/config/config.js';
import { unknownVariable } from '../../src/config/environment.js';
import { readDockerfile } from '../support/dockerfile.js';

const root = path.join(import.meta.dirname, '../..');

interface Service {
  user?: string;
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  security_opt?: string[];
  cap_drop?: string[];
  ports?: string[];
}

const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as {
  services: { mongo: Service; satwatch: Service };
  secrets: Record<string, { file: string }>;
};
const { mongo, satwatch } = compose.services;

describe('docker-compose.yml', () => {
  it('runs MongoDB with a root password from a secret and creates an app user', () => {
    expect(mongo.environment?.MONGO_INITDB_ROOT_PASSWORD_FILE).toBe(
      '/run/secrets/mongo_root_password',
    );
    expect(mongo.secrets).toEqual(
      expect.arrayContaining(['mongo_root_password', 'mongo_app_password']),
    );
    const init = mongo.volumes?.find((v) => v.includes('/docker-entrypoint-initdb.d'));
    const initDir = path.join(root, init?.split(':')[0] ?? '');
    expect(existsSync(initDir)).toBe(true);
    const script = readFileSync(path.join(initDir, '10-app-user.js'), 'utf8');
    expect(script).toContain('/run/secrets/mongo_app_password');
    expect(script).toMatch(/role: 'readWrite'/);
    // satwatch connects as the app user, its URL (with the password) from a secret file.
    expect(satwatch.environment?.SATWATCH_MONGO_URL_FILE).toBe('/run/secrets/mongo_url');
    expect(satwatch.secrets).toContain('mongo_url');
    for (const name of [...(mongo.secrets ?? []), ...(satwatch.secrets ?? [])])
      expect(compose.secrets[name]?.file, name).toMatch(/^\.\/secrets\//);
  });

  it('starts satwatch only once MongoDB is healthy', () => {
    expect(mongo.healthcheck?.test.join(' ')).toContain('ping');
    expect(satwatch.depends_on).toEqual({ mongo: { condition: 'service_healthy' } });
  });

  it.each(['mongo', 'satwatch'] as const)('hardens the %s container', (name) => {
    const service = compose.services[name];
    expect(service.read_only).toBe(true);
    expect(service.security_opt).toContain('no-new-privileges:true');
    expect(service.cap_drop).toEqual(['ALL']);
  });

  it('publishes the ops port to this host only, where the image HEALTHCHECK looks', () => {
    const runtime = readDockerfile().at(-1)!;
    const opsPort = runtime.env.SATWATCH_OPS_PORT;
    expect(opsPort).toBe('9464');
    expect(satwatch.ports).toContain(`127.0.0.1:${opsPort}:${opsPort}`);
    expect(runtime.healthcheck?.join(' ')).toContain('SATWATCH_OPS_PORT');
    expect(mongo.ports).toBeUndefined();
  });

  it('sets only variables satwatch knows', () => {
    const env = { ...readDockerfile().at(-1)!.env, ...satwatch.environment };
    expect(unknownVariable(env, SETTINGS_ENVIRONMENT)).toBeUndefined();
  });
});
