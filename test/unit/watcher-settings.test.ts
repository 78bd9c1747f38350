import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { requestBudgetFor } from '../../src/daemon.js';
import { bip32 } from '../../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../../src/wallet/networks.js';

const TPUB = bip32
  .fromSeed(Buffer.alloc(32, 7), BITCOIN_NETWORKS.regtest)
  .derivePath("m/84'/1'/0'")
  .neutered()
  .toBase58();
const base = { SATWATCH_WALLET_XPUB: TPUB, SATWATCH_CHAIN_ESPLORA_URLS: 'http://127.0.0.1:3002' };
const load = (env: Record<string, string>) => loadConfig({ env: { ...base, ...env } });

describe('block-scan settings', () => {
  it('default to a 60 s view window, a 120 s new-payment window, no scan start and the URL default budget', () => {
    const config = load({});
    expect(config.watcher).toMatchObject({
      mempoolViewWindowSeconds: 60,
      mempoolNewPaymentSeconds: 120,
    });
    expect(config.chain.scanFromHeight).toBeUndefined();
    expect(config.chain.maxRequestsPerHour).toBeUndefined();
  });

  it('are read from the environment', () => {
    const config = load({
      SATWATCH_CHAIN_MAX_REQUESTS_PER_HOUR: '300',
      SATWATCH_CHAIN_SCAN_FROM_HEIGHT: '840000',
      SATWATCH_WATCHER_MEMPOOL_VIEW_WINDOW_SECONDS: '30',
      SATWATCH_WATCHER_MEMPOOL_NEW_PAYMENT_SECONDS: '0',
    });
    expect(config.chain).toMatchObject({ maxRequestsPerHour: 300, scanFromHeight: 840000 });
    expect(config.watcher).toMatchObject({
      mempoolViewWindowSeconds: 30,
      mempoolNewPaymentSeconds: 0,
    });
  });

  it('refuse a negative or fractional value, naming the setting', () => {
    for (const [env, key] of [
      ['SATWATCH_CHAIN_MAX_REQUESTS_PER_HOUR', 'chain.maxRequestsPerHour'],
      ['SATWATCH_CHAIN_SCAN_FROM_HEIGHT', 'chain.scanFromHeight'],
      ['SATWATCH_WATCHER_MEMPOOL_VIEW_WINDOW_SECONDS', 'watcher.mempoolViewWindowSeconds'],
    ] as const) {
      for (const value of ['-1', '1.5']) {
        expect(() => load({ [env]: value }), `${env}=${value}`).toThrow(ConfigError);
        try {
          load({ [env]: value });
        } catch (err) {
          // An env value that is no integer names the variable; one out of range, the setting.
          expect((err as Error).message).toMatch(new RegExp(`${env}|${key.replace('.', '\\.')}`));
        }
      }
    }
  });

  it('budget: 600 an hour on a public API, unlimited on your own server or with 0, else as set', () => {
    expect(requestBudgetFor(load({})).limit).toBeNull();
    const publicApi = { SATWATCH_CHAIN_ESPLORA_URLS: 'https://blockstream.info/testnet/api' };
    expect(requestBudgetFor(load(publicApi)).limit).toBe(600);
    expect(
      requestBudgetFor(load({ ...publicApi, SATWATCH_CHAIN_MAX_REQUESTS_PER_HOUR: '0' })).limit,
    ).toBeNull();
    expect(requestBudgetFor(load({ SATWATCH_CHAIN_MAX_REQUESTS_PER_HOUR: '250' })).limit).toBe(250);
  });
});
