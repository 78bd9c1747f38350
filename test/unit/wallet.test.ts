import * as bip39 from 'bip39';
import bs58check from 'bs58check';
import { describe, expect, it } from 'vitest';
import { WalletAccount } from '../../src/wallet/account.js';
import { bip32 } from '../../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../../src/wallet/networks.js';

// Published test vectors of BIP84, BIP49, BIP86 and BIP44 (mnemonic "abandon … about").
const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const BIP84_ZPUB =
  'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs';
const BIP84_ZPRV =
  'zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE';
const BIP84_ADDRESSES = [
  'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu',
  'bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g',
];
const BIP49_TESTNET_FIRST = '2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2';
const BIP86_FIRST = 'bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr';
const BIP44_FIRST = '1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA';

const root = bip32.fromSeed(bip39.mnemonicToSeedSync(MNEMONIC));
const accountXpub = (path: string, network = BITCOIN_NETWORKS.mainnet) =>
  bip32
    .fromSeed(bip39.mnemonicToSeedSync(MNEMONIC), network)
    .derivePath(path)
    .neutered()
    .toBase58();

/** Re-encodes an extended key with other version bytes (the SLIP-132 prefixes). */
function withVersion(key: string, version: number): string {
  const payload = Buffer.from(bs58check.decode(key));
  payload.writeUInt32BE(version, 0);
  return bs58check.encode(payload);
}

describe('receive addresses', () => {
  it('match the BIP84 vectors from a zpub', () => {
    const account = WalletAccount.fromConfig({ network: 'mainnet', xpub: BIP84_ZPUB });
    expect(account.scriptType).toBe('p2wpkh');
    expect(account.derivationPath).toBe("m/84'/0'/0'");
    expect([0, 1].map((i) => account.receiveAddress(i).address)).toEqual(BIP84_ADDRESSES);
    expect(account.receiveAddress(1).path).toBe("m/84'/0'/0'/0/1");
  });

  it('derive the same zpub from the mnemonic as the vector (independent derivation)', () => {
    expect(withVersion(root.derivePath("m/84'/0'/0'").neutered().toBase58(), 0x04b24746)).toBe(
      BIP84_ZPUB,
    );
  });

  it('default to BIP84 native segwit for a plain xpub', () => {
    const account = WalletAccount.fromConfig({
      network: 'mainnet',
      xpub: accountXpub("m/84'/0'/0'"),
    });
    expect(account.receiveAddress(0).address).toBe(BIP84_ADDRESSES[0]);
  });

  it('use the public half of a zprv', () => {
    const account = WalletAccount.fromConfig({ network: 'mainnet', xprv: BIP84_ZPRV });
    expect(account.receiveAddress(1).address).toBe(BIP84_ADDRESSES[1]);
    expect(account.accountXpub.startsWith('xpub')).toBe(true);
  });

  it('match the BIP49 testnet vector from a upub', () => {
    const upub = withVersion(accountXpub("m/49'/1'/0'", BITCOIN_NETWORKS.testnet), 0x044a5262);
    const account = WalletAccount.fromConfig({ network: 'testnet', xpub: upub });
    expect(account.scriptType).toBe('p2sh-p2wpkh');
    expect(account.receiveAddress(0).address).toBe(BIP49_TESTNET_FIRST);
  });

  it('match the BIP86 taproot and BIP44 legacy vectors when the script type is configured', () => {
    const taproot = WalletAccount.fromConfig({
      network: 'mainnet',
      xpub: accountXpub("m/86'/0'/0'"),
      scriptType: 'p2tr',
    });
    expect(taproot.receiveAddress(0).address).toBe(BIP86_FIRST);
    expect(taproot.derivationPath).toBe("m/86'/0'/0'");
    const legacy = WalletAccount.fromConfig({
      network: 'mainnet',
      xpub: accountXpub("m/44'/0'/0'"),
      scriptType: 'p2pkh',
    });
    expect(legacy.receiveAddress(0).address).toBe(BIP44_FIRST);
  });

  it('make regtest addresses from a vpub', () => {
    const vpub = withVersion(accountXpub("m/84'/1'/0'", BITCOIN_NETWORKS.regtest), 0x045f1cf6);
    const account = WalletAccount.fromConfig({ network: 'regtest', xpub: vpub });
    expect(account.receiveAddress(0).address).toMatch(/^bcrt1q/);
    expect(account.derivationPath).toBe("m/84'/1'/0'");
  });

  it('record the master fingerprint of a master key, and the configured one otherwise', () => {
    const master = WalletAccount.fromConfig({
      network: 'mainnet',
      xpub: root.neutered().toBase58(),
      derivationPath: 'm',
    });
    expect(master.masterFingerprint).toBe('73c5da0a');
    const account = WalletAccount.fromConfig({
      network: 'mainnet',
      xpub: BIP84_ZPUB,
      masterFingerprint: '73C5DA0A',
    });
    expect(account.masterFingerprint).toBe('73c5da0a');
  });
});

describe('wallet key checks', () => {
  const refuses = (config: Parameters<typeof WalletAccount.fromConfig>[0], message: RegExp) => {
    let error: unknown;
    try {
      WalletAccount.fromConfig(config);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
    for (const secret of [config.xpub, config.xprv]) {
      if (secret) expect((error as Error).message).not.toContain(secret.slice(4, 20));
    }
  };

  it('refuse a mainnet key on a test network and a test key on mainnet', () => {
    refuses(
      { network: 'regtest', xpub: BIP84_ZPUB },
      /^wallet\.xpub: is a mainnet key \(zpub\) but the network is regtest$/,
    );
    const tpub = accountXpub("m/84'/1'/0'", BITCOIN_NETWORKS.testnet);
    refuses(
      { network: 'mainnet', xpub: tpub },
      /^wallet\.xpub: is a test-network key \(tpub\) but the network is mainnet$/,
    );
  });

  it('refuse a private key in wallet.xpub without echoing it', () => {
    refuses({ network: 'mainnet', xpub: BIP84_ZPRV }, /wallet\.xpub: is a private key \(zprv\)/);
  });

  it('refuse a corrupted key, a multisig key and a script type that contradicts the prefix', () => {
    refuses({ network: 'mainnet', xpub: BIP84_ZPUB.slice(0, -1) + 'G' }, /bad base58 or checksum/);
    refuses(
      { network: 'mainnet', xpub: withVersion(BIP84_ZPUB, 0x02aa7ed3) },
      /multisig key \(Zpub\)/,
    );
    refuses(
      { network: 'mainnet', xpub: BIP84_ZPUB, scriptType: 'p2pkh' },
      /wallet\.scriptType: is p2pkh but the zpub key is for p2wpkh/,
    );
  });

  it('refuse a derivation path whose depth does not match the key', () => {
    refuses(
      { network: 'mainnet', xpub: BIP84_ZPUB, derivationPath: "m/84'/0'" },
      /has 2 levels but the key is at depth 3/,
    );
  });

  it('refuse an xpub that does not belong to the xprv', () => {
    refuses(
      { network: 'mainnet', xprv: BIP84_ZPRV, xpub: accountXpub("m/84'/0'/1'") },
      /does not belong to wallet\.xprv/,
    );
  });
});
