/** The checkout's settings: who may embed the page, which explorer its links go to, its language. */
import { describe, expect, it } from 'vitest';
import { checkoutOptions } from '../../src/api/checkout-routes.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { contentSecurityPolicy } from '../../src/checkout/content-security-policy.js';
import {
  LANGUAGES,
  MESSAGE_KEYS,
  negotiateLanguage,
  translator,
} from '../../src/checkout/messages.js';
import { bip32 } from '../../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../../src/wallet/networks.js';

const TPUB = bip32
  .fromSeed(Buffer.alloc(32, 7), BITCOIN_NETWORKS.regtest)
  .derivePath("m/84'/1'/0'")
  .neutered()
  .toBase58();
const base = { SATWATCH_WALLET_XPUB: TPUB, SATWATCH_CHAIN_ESPLORA_URLS: 'http://127.0.0.1:3002' };
const load = (env: Record<string, string> = {}) => loadConfig({ env: { ...base, ...env } });

describe('checkout settings', () => {
  it('let nobody embed the page by default', () => {
    const config = load();
    expect(config.checkout.frameAncestors).toEqual([]);
    expect(contentSecurityPolicy(checkoutOptions(config).frameAncestors)).toContain(
      "frame-ancestors 'none'",
    );
  });

  it('let the listed merchant origins embed the page', () => {
    const config = load({
      SATWATCH_CHECKOUT_FRAME_ANCESTORS: 'https://shop.example, https://*.shop.example:8443',
    });
    expect(config.checkout.frameAncestors).toEqual([
      'https://shop.example',
      'https://*.shop.example:8443',
    ]);
    expect(contentSecurityPolicy(config.checkout.frameAncestors)).toMatch(
      /; frame-ancestors https:\/\/shop\.example https:\/\/\*\.shop\.example:8443$/,
    );
  });

  it('refuse an embedding origin that is not one (a path, a scheme, a stray directive)', () => {
    for (const bad of [
      'https://shop.example/path',
      'javascript:alert(1)',
      "https://shop.example; script-src 'unsafe-inline'",
      '*',
    ]) {
      expect(() => load({ SATWATCH_CHECKOUT_FRAME_ANCESTORS: bad }), bad).toThrow(
        /checkout\.frameAncestors/,
      );
    }
  });

  it('link transactions to the network default explorer, a configured one, or none', () => {
    expect(checkoutOptions(load()).explorerUrl).toBeUndefined(); // regtest: no public explorer
    const mainnetLike = { ...load(), network: 'mainnet' as const };
    expect(checkoutOptions(mainnetLike).explorerUrl).toBe('https://mempool.space/tx/{txid}');
    const configured = load({ SATWATCH_CHECKOUT_EXPLORER_URL: 'http://127.0.0.1:5000/tx/{txid}' });
    expect(checkoutOptions(configured).explorerUrl).toBe('http://127.0.0.1:5000/tx/{txid}');
    expect(
      checkoutOptions({ ...mainnetLike, checkout: { ...mainnetLike.checkout, explorerUrl: '' } })
        .explorerUrl,
    ).toBeUndefined();
  });

  it('refuse an explorer URL without a {txid} placeholder or not http(s)', () => {
    for (const bad of ['https://mempool.space/tx/', 'ftp://x.example/{txid}', '{txid}']) {
      expect(() => load({ SATWATCH_CHECKOUT_EXPLORER_URL: bad }), bad).toThrow(ConfigError);
    }
  });
});

describe('checkout language', () => {
  it('follows Accept-Language among en, de and es, English otherwise', () => {
    expect(negotiateLanguage(undefined)).toBe('en');
    expect(negotiateLanguage('')).toBe('en');
    expect(negotiateLanguage('de-CH,de;q=0.9,en;q=0.8')).toBe('de');
    expect(negotiateLanguage('fr-FR,es;q=0.7,en;q=0.5')).toBe('es');
    expect(negotiateLanguage('fr, ja')).toBe('en');
    expect(negotiateLanguage('en-GB;q=0.2, es-MX;q=0.9')).toBe('es');
    expect(negotiateLanguage('*')).toBe('en');
  });

  it('has every message in every language, with the same parameters', () => {
    const params = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const en = translator('en');
    for (const language of LANGUAGES) {
      const t = translator(language);
      for (const key of MESSAGE_KEYS) {
        expect(t(key), `${language} ${key}`).not.toBe('');
        expect(params(t(key)), `${language} ${key}`).toEqual(params(en(key)));
      }
    }
  });
});
