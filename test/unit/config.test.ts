import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AppDeps, PrivateKeyInAppError, buildApp } from '../../src/app.js';
import {
  ConfigError,
  SETTINGS_ENVIRONMENT,
  appConfig,
  loadConfig,
  webhookSecrets,
} from '../../src/config/config.js';
import { envNameFor } from '../../src/config/environment.js';
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

/** Every leaf key of a JSON object (arrays and maps count as one value). */
function leafKeys(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([name, child]) => {
    const key = prefix ? `${prefix}.${name}` : name;
    const nested =
      typeof child === 'object' && child !== null && !Array.isArray(child) && name !== 'fixed';
    return nested ? leafKeys(child as Record<string, unknown>, key) : [key];
  });
}

const MAINNET_ZPUB =
  'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs';
const SECRET_A = 'a'.repeat(32);
const SECRET_B = 'b'.repeat(40);

describe('configuration from the environment (issue 11 §4)', () => {
  const load = (env: Record<string, string | undefined>, warn?: (m: string) => void) =>
    loadConfig({ configDir: configDir({}), env: { ...base, ...env }, ...(warn && { warn }) });

  it('refuses an unknown SATWATCH_ variable, naming the closest real one', () => {
    expect(() => load({ SATWATCH_WEBHOOKS_URL: 'https://shop.example/hook' })).toThrow(
      'invalid configuration: unknown environment variable SATWATCH_WEBHOOKS_URL (did you mean SATWATCH_WEBHOOK_URL?)',
    );
    expect(() => load({ SATWATCH_PAYMENT_EXPIRY_MINUTES: '5' })).toThrow(
      /did you mean SATWATCH_PAYMENTS_EXPIRY_MINUTES\?/,
    );
    expect(() => load({ SATWATCH_XYZZY_QUUX_FROB_NITZ_BLARG: '1' })).toThrow(
      /^invalid configuration: unknown environment variable SATWATCH_XYZZY_QUUX_FROB_NITZ_BLARG$/,
    );
  });

  it('accepts the documented variables that are not settings, and *_FILE forms', () => {
    const dir = configDir({});
    const file = path.join(dir, 'xpub.txt');
    writeFileSync(file, TPUB);
    expect(() =>
      loadConfig({
        configDir: dir,
        env: {
          ...base,
          SATWATCH_WALLET_XPUB: undefined,
          SATWATCH_WALLET_XPUB_FILE: file,
          SATWATCH_ENV: 'test',
          SATWATCH_CONFIG_DIR: dir,
          SATWATCH_FAILPOINT: 'none',
          SATWATCH_KEEP_LAB: '1',
          SATWATCH_LAB_DIR: dir,
        },
      }),
    ).not.toThrow();
  });

  it('gives every setting an environment variable, derived where no table row names it', () => {
    const defaults = JSON.parse(
      readFileSync(path.join(import.meta.dirname, '../../config/default.json'), 'utf8'),
    ) as Record<string, unknown>;
    const keys = new Set(SETTINGS_ENVIRONMENT.map((v) => v.key));
    for (const key of [...leafKeys(defaults), 'wallet.xpub', 'wallet.xprv', 'webhooks.url'])
      expect(keys, key).toContain(key);
    expect(envNameFor('payments.maxCredits')).toBe('SATWATCH_PAYMENTS_MAX_CREDITS');
    expect(load({ SATWATCH_PAYMENTS_MAX_CREDITS: '77' }).payments.maxCredits).toBe(77);
    const ops = load({ SATWATCH_OPS_HOST: '0.0.0.0', SATWATCH_OPS_PORT: '0' }).ops;
    expect(ops).toMatchObject({ host: '0.0.0.0', port: 0 });
    expect(load({}).ops).toMatchObject({ host: '127.0.0.1', port: 9464 });
  });

  it.each([
    ['https://', 'SATWATCH_WEBHOOK_URL', 'webhooks.url'],
    ['https:/shop.example', 'SATWATCH_WEBHOOK_URL', 'webhooks.url'],
    ['http://', 'SATWATCH_CHAIN_ESPLORA_URLS', 'chain.esploraUrls.0'],
    ['https://exa mple.com', 'SATWATCH_PUBLIC_URL', 'http.publicUrl'],
    ['ftp://files.example', 'SATWATCH_RATES_MEMPOOL_URL', 'rates.mempoolUrl'],
  ])('refuses the URL %s in %s, naming %s', (url, variable, key) => {
    const secrets =
      variable === 'SATWATCH_WEBHOOK_URL' ? { SATWATCH_WEBHOOK_SECRETS: SECRET_A } : {};
    expect(() => load({ [variable]: url, ...secrets })).toThrow(
      new RegExp(`^invalid configuration: ${key.replaceAll('.', '\\.')} must match format`),
    );
  });

  it('needs acceptZeroConfRisk for zero confirmations on mainnet only', () => {
    const mainnet = {
      SATWATCH_NETWORK: 'mainnet',
      SATWATCH_WALLET_XPUB: MAINNET_ZPUB,
      SATWATCH_PAYMENTS_REQUIRED_CONFIRMATIONS: '0',
    };
    expect(() => load(mainnet)).toThrow(/needs payments\.acceptZeroConfRisk: true/);
    expect(
      load({ ...mainnet, SATWATCH_PAYMENTS_ACCEPT_ZERO_CONF_RISK: 'true' }).payments
        .requiredConfirmations,
    ).toBe(0);
    expect(load({ SATWATCH_PAYMENTS_REQUIRED_CONFIRMATIONS: '0' }).network).toBe('regtest');
  });

  it('removes secret values from process.env once read, and leaves the rest', () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, base, {
        SATWATCH_CONFIG_DIR: configDir({}),
        SATWATCH_WEBHOOK_URL: 'https://shop.example/hook',
        SATWATCH_WEBHOOK_SECRETS: SECRET_A,
        SATWATCH_CHAIN_BEARER_TOKEN: 'tok_0123456789',
      });
      const config = loadConfig();
      expect(webhookSecrets(config)).toEqual([SECRET_A]);
      expect(config.chain.bearerToken).toBe('tok_0123456789');
      expect(process.env.SATWATCH_WEBHOOK_SECRETS).toBeUndefined();
      expect(process.env.SATWATCH_CHAIN_BEARER_TOKEN).toBeUndefined();
      expect(process.env.SATWATCH_WEBHOOK_URL).toBe('https://shop.example/hook');
    } finally {
      for (const name of Object.keys(process.env))
        if (!(name in saved)) Reflect.deleteProperty(process.env, name);
      Object.assign(process.env, saved);
    }
  });

  it('warns when a secret file is readable by group or others', () => {
    const dir = configDir({});
    const file = path.join(dir, 'webhook-secret');
    writeFileSync(file, SECRET_A);
    const env = {
      SATWATCH_WEBHOOK_URL: 'https://shop.example/hook',
      SATWATCH_WEBHOOK_SECRETS_FILE: file,
    };
    const warnings: string[] = [];
    chmodSync(file, 0o644);
    load(env, (m) => warnings.push(m));
    expect(warnings).toEqual([
      'SATWATCH_WEBHOOK_SECRETS_FILE is readable by other users; restrict it (chmod 600 or 400)',
    ]);
    chmodSync(file, 0o600);
    warnings.length = 0;
    load(env, (m) => warnings.push(m));
    expect(warnings).toEqual([]);
  });

  it('takes webhook secrets as a list, newest first, each of 32 bytes or more', () => {
    const hook = { SATWATCH_WEBHOOK_URL: 'https://shop.example/hook' };
    const config = load({ ...hook, SATWATCH_WEBHOOK_SECRETS: `${SECRET_B},${SECRET_A}` });
    expect(webhookSecrets(config)).toEqual([SECRET_B, SECRET_A]);
    expect(() => load({ ...hook, SATWATCH_WEBHOOK_SECRETS: `${SECRET_B},short` })).toThrow(
      /webhooks\.secrets\.1 must NOT have fewer than 32 characters/,
    );
    const warnings: string[] = [];
    const old = load({ ...hook, SATWATCH_WEBHOOK_SECRET: SECRET_A }, (m) => warnings.push(m));
    expect(webhookSecrets(old)).toEqual([SECRET_A]);
    expect(warnings.join()).toMatch(/webhooks\.secret .*deprecated; use webhooks\.secrets/);
    expect(() =>
      load({ ...hook, SATWATCH_WEBHOOK_SECRET: SECRET_A, SATWATCH_WEBHOOK_SECRETS: SECRET_B }),
    ).toThrow(/webhooks\.secret is the old name of webhooks\.secrets; set one/);
  });

  it('hands the HTTP app a configuration without the private key, and buildApp refuses one with it', async () => {
    const tprv = bip32
      .fromSeed(Buffer.alloc(32, 7), BITCOIN_NETWORKS.regtest)
      .derivePath("m/84'/1'/0'")
      .toBase58();
    const config = load({ SATWATCH_WALLET_XPUB: undefined, SATWATCH_WALLET_XPRV: tprv });
    expect(config.wallet.xprv).toBe(tprv);
    const forApp = appConfig(config);
    expect(JSON.stringify(forApp)).not.toContain(tprv);
    expect(config.wallet.xprv).toBe(tprv); // the original is left alone
    await expect(buildApp({ config } as unknown as AppDeps)).rejects.toThrow(PrivateKeyInAppError);
  });
});

describe('fiat package prices', () => {
  it('refuses more decimals than the currency has', () => {
    const pkg = (amount: string, currency: string) =>
      JSON.stringify([{ id: 'p', credits: 1, price: { amount, currency } }]);
    const load = (packages: string) =>
      loadConfig({ configDir: configDir({}), env: { ...base, SATWATCH_PACKAGES: packages } });
    expect(() => load(pkg('9.999', 'USD'))).toThrow(
      /packages\[0\]\.price\.amount has more decimals than USD has \(2\)/,
    );
    expect(() => load(pkg('100.5', 'JPY'))).toThrow(/than JPY has \(0\)/);
    expect(load(pkg('100', 'JPY')).packages[0]?.price.amount).toBe('100');
  });
});
