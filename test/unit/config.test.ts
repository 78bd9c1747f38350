import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { bip32 } from '../../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../../src/wallet/networks.js';

// A test-network account key from a fixed, obviously fake seed.
const TPUB = bip32
  .fromSeed(Buffer.alloc(32, 7), BITCOIN_NETWORKS.regtest)
  .derivePath("m/84'/1'/0'")
  .neutered()
  .toBase58();

/** A config dir holding the repository's default.json plus `files`. */
function configDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'satwatch-config-'));
  copyFileSync(
    path.join(import.meta.dirname, '../../config/default.json'),
    path.join(dir, 'default.json'),
  );
  for (const [name, content] of Object.entries(files))
    writeFileSync(path.join(dir, name), JSON.stringify(content));
  return dir;
}

const base = { SATWATCH_WALLET_XPUB: TPUB, SATWATCH_CHAIN_ESPLORA_URLS: 'http://127.0.0.1:3002' };

describe('configuration', () => {
  it('layers default.json, <env>.json and environment variables', () => {
    const dir = configDir({
      'staging.json': { http: { port: 9000 }, payments: { expiryMinutes: 30 } },
    });
    const config = loadConfig({
      configDir: dir,
      env: { ...base, SATWATCH_ENV: 'staging', SATWATCH_PAYMENTS_EXPIRY_MINUTES: '15' },
    });
    expect(config.http.port).toBe(9000); // from staging.json
    expect(config.payments.expiryMinutes).toBe(15); // env beats the file
    expect(config.payments.requiredConfirmations).toBe(3); // default
    expect(config.http.host).toBe('127.0.0.1');
  });

  it('reads secrets from *_FILE', () => {
    const dir = configDir({});
    const secret = path.join(dir, 'xpub.txt');
    writeFileSync(secret, `${TPUB}\n`);
    const config = loadConfig({
      configDir: dir,
      env: { ...base, SATWATCH_WALLET_XPUB: undefined, SATWATCH_WALLET_XPUB_FILE: secret },
    });
    expect(config.wallet.xpub).toBe(TPUB);
  });

  it('refuses a variable given both directly and as a file', () => {
    expect(() =>
      loadConfig({
        configDir: configDir({}),
        env: { ...base, SATWATCH_WALLET_XPUB_FILE: '/nonexistent' },
      }),
    ).toThrow(/SATWATCH_WALLET_XPUB and SATWATCH_WALLET_XPUB_FILE are both set/);
  });

  it('names the key of a value out of range, of a wrong type and of an unknown key', () => {
    const load =
      (env: Record<string, string>, files: Record<string, unknown> = {}) =>
      () =>
        loadConfig({ configDir: configDir(files), env: { ...base, ...env } });
    expect(load({ SATWATCH_HTTP_PORT: '70000' })).toThrow(
      /^invalid configuration: http\.port must be <= 65535$/,
    );
    expect(load({ SATWATCH_HTTP_PORT: 'eighty' })).toThrow(/SATWATCH_HTTP_PORT must be an integer/);
    expect(load({ SATWATCH_NETWORK: 'testnet4' })).toThrow(
      /network must be equal to one of the allowed values/,
    );
    expect(
      load({ SATWATCH_ENV: 'prod' }, { 'prod.json': { payments: { expiryMinuts: 5 } } }),
    ).toThrow(/unknown key payments\.expiryMinuts/);
    expect(
      load({
        SATWATCH_PACKAGES: '[{"id":"a","credits":1,"price":{"amount":"1","currency":"XAU"}}]',
      }),
    ).toThrow(/packages\[0\]\.price\.currency XAU is not in rates\.currencies/);
    expect(load({ SATWATCH_API_KEYS: '[{"id":"a","role":"root","sha256":"00"}]' })).toThrow(
      /auth\.apiKeys\.0\.role/,
    );
  });

  it('refuses a wallet key of the wrong network without quoting it', () => {
    let message = '';
    try {
      loadConfig({ configDir: configDir({}), env: { ...base, SATWATCH_NETWORK: 'mainnet' } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('wallet.xpub: is a test-network key (tpub) but the network is mainnet');
    expect(message).not.toContain(TPUB.slice(4, 30));
  });

  it('does not echo a secret that is not valid JSON', () => {
    let error: unknown;
    try {
      loadConfig({
        configDir: configDir({}),
        env: { ...base, SATWATCH_API_KEYS: 'sw_supersecret' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('SATWATCH_API_KEYS must be JSON');
  });

  it('requires a wallet key', () => {
    const env = { SATWATCH_CHAIN_ESPLORA_URLS: 'http://127.0.0.1:3002' };
    expect(() => loadConfig({ configDir: configDir({}), env })).toThrow(
      /wallet\.xpub: is required/,
    );
  });

  it('requires an Esplora URL on regtest, where there is no public one', () => {
    expect(() =>
      loadConfig({ configDir: configDir({}), env: { SATWATCH_WALLET_XPUB: TPUB } }),
    ).toThrow(/chain\.esploraUrls is required on regtest/);
  });
});

describe('watcher timing and address recovery settings', () => {
  const load = (env: Record<string, string>) =>
    loadConfig({ configDir: configDir({}), env: { ...base, ...env } });

  it('refuses a watcher lease shorter than 6 seconds, naming the key', () => {
    expect(() =>
      load({ SATWATCH_WATCHER_INTERVAL_SECONDS: '1', SATWATCH_WATCHER_LEASE_SECONDS: '2' }),
    ).toThrow(/watcher\.leaseSeconds must be at least 6/);
    expect(
      load({ SATWATCH_WATCHER_INTERVAL_SECONDS: '1', SATWATCH_WATCHER_LEASE_SECONDS: '6' }).watcher
        .leaseSeconds,
    ).toBe(6);
  });

  it('refuses an interval cron cannot fire exactly, naming the nearest valid values', () => {
    expect(() => load({ SATWATCH_WATCHER_INTERVAL_SECONDS: '45' })).toThrow(
      /watcher\.intervalSeconds 45 cannot be scheduled exactly.*nearest: 30 or 60/,
    );
    expect(() => load({ SATWATCH_WATCHER_INTERVAL_SECONDS: '90' })).toThrow(/nearest: 60 or 120/);
    for (const ok of ['1', '5', '15', '30', '60', '120', '900'])
      expect(
        load({ SATWATCH_WATCHER_INTERVAL_SECONDS: ok, SATWATCH_WATCHER_LEASE_SECONDS: '3600' })
          .watcher.intervalSeconds,
      ).toBe(Number(ok));
  });

  it('reads wallet.gapLimit (default 20) from SATWATCH_WALLET_GAP_LIMIT and bounds it', () => {
    expect(load({}).wallet.gapLimit).toBe(20);
    expect(load({ SATWATCH_WALLET_GAP_LIMIT: '50' }).wallet.gapLimit).toBe(50);
    expect(() => load({ SATWATCH_WALLET_GAP_LIMIT: '0' })).toThrow(/wallet\.gapLimit/);
  });
});
