import { randomBytes } from 'node:crypto';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { WatchedSet, scriptOf } from '../../src/watcher/watched-set.js';
import { BITCOIN_NETWORKS, NETWORK_NAMES } from '../../src/wallet/networks.js';

bitcoin.initEccLib(ecc);

describe('the watched set', () => {
  it('decodes every address type of every network to the script bitcoinjs gives', () => {
    for (const name of NETWORK_NAMES) {
      const network = BITCOIN_NETWORKS[name];
      const xOnly = Buffer.from(ecc.xOnlyPointFromScalar(randomBytes(32)));
      const addresses = [
        bitcoin.payments.p2wpkh({ hash: randomBytes(20), network }).address,
        bitcoin.payments.p2wsh({ hash: randomBytes(32), network }).address,
        bitcoin.payments.p2tr({ pubkey: xOnly, network }).address,
        bitcoin.payments.p2pkh({ hash: randomBytes(20), network }).address,
        bitcoin.payments.p2sh({ hash: randomBytes(20), network }).address,
      ];
      for (const address of addresses) {
        expect(Buffer.from(scriptOf(address!, name)).toString('hex')).toBe(
          Buffer.from(bitcoin.address.toOutputScript(address!, network)).toString('hex'),
        );
      }
    }
  });

  it('refuses an address of another network', () => {
    const mainnet = bitcoin.payments.p2wpkh({ hash: randomBytes(20) }).address!;
    expect(() => scriptOf(mainnet, 'regtest')).toThrow();
  });

  it('holds the scripts of the addresses added, and (almost) nothing else', () => {
    const set = new WatchedSet(undefined as never);
    const ours = Array.from(
      { length: 1000 },
      () =>
        bitcoin.payments.p2wpkh({ hash: randomBytes(20), network: bitcoin.networks.regtest })
          .address!,
    );
    for (const address of ours) set.add(address, 'regtest');
    expect(set.size).toBe(1000);
    for (const address of ours) {
      const script = Buffer.from(scriptOf(address, 'regtest')).toString('hex');
      expect(set.mayContain(script)).toBe(true);
    }
    let falseHits = 0;
    for (let i = 0; i < 10_000; i++)
      if (set.mayContain(`0014${randomBytes(20).toString('hex')}`)) falseHits++;
    expect(falseHits).toBe(0);
  });
});
