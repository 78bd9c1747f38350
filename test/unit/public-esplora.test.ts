import { describe, expect, it } from 'vitest';
import { PUBLIC_ESPLORA, esploraUrls } from '../../src/chain/public-esplora.js';

describe('the Esplora URLs to ask', () => {
  it('are the configured ones when any are configured', () => {
    const configured = ['https://esplora.example/api'];
    expect(esploraUrls({ network: 'mainnet', chain: { esploraUrls: configured } })).toEqual(
      configured,
    );
  });

  it("are the network's public instances when none are configured", () => {
    expect(esploraUrls({ network: 'testnet', chain: { esploraUrls: [] } })).toEqual([
      'https://blockstream.info/testnet/api',
      'https://mempool.space/testnet/api',
    ]);
    expect(esploraUrls({ network: 'regtest', chain: { esploraUrls: [] } })).toEqual([]);
  });

  it('hand out a copy, so a caller cannot change the public defaults', () => {
    esploraUrls({ network: 'signet', chain: { esploraUrls: [] } }).push('https://x.example');
    expect(PUBLIC_ESPLORA.signet).toEqual(['https://mempool.space/signet/api']);
  });
});
