/**
 * Output descriptors: BIP380 checksum vectors, the BIP84/BIP49/BIP86/BIP44 address vectors
 * through descriptors, addresses checked against bip32 + bitcoinjs directly, and refusals.
 */
import * as bip39 from 'bip39';
import * as bitcoin from 'bitcoinjs-lib';
import { describe, expect, it } from 'vitest';
import { coldAccount, loadConfig } from '../../src/config/config.js';
import { WalletAccount } from '../../src/wallet/account.js';
import { parseDescriptor, verifyChecksum } from '../../src/wallet/descriptor.js';
import { WalletKeyError, bip32 } from '../../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../../src/wallet/networks.js';

const MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const root = bip32.fromSeed(bip39.mnemonicToSeedSync(MNEMONIC));
const testRoot = bip32.fromSeed(bip39.mnemonicToSeedSync(MNEMONIC), BITCOIN_NETWORKS.testnet);
const FINGERPRINT = '73c5da0a';
const xpubAt = (path: string, node = root) => node.derivePath(path).neutered().toBase58();

// BIP84, BIP49, BIP86, BIP44 published vectors for the mnemonic above.
const BIP84_FIRST = 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu';
const BIP84_SECOND = 'bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g';
const BIP84_FIRST_CHANGE = 'bc1q8c6fshw2dlwun7ekn9qwf37cu2rn755upcp6el';
const BIP86_XPUB =
  'xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ';
const BIP86_FIRST = 'bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr';
const BIP86_SECOND = 'bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh';
const BIP49_TESTNET_FIRST = '2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2';
const BIP44_FIRST = '1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA';

const BIP84_RECEIVE = `wpkh([${FINGERPRINT}/84h/0h/0h]${xpubAt("m/84'/0'/0'")}/0/*)`;

function fromDescriptor(descriptor: string, network: 'mainnet' | 'testnet' = 'mainnet') {
  return WalletAccount.fromConfig({ network, descriptor });
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(WalletKeyError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('descriptor checksums (BIP380 test vectors)', () => {
  it('accept the valid vector and a descriptor without a checksum', () => {
    expect(verifyChecksum('raw(deadbeef)#89f8spxm', 'd')).toBe('raw(deadbeef)');
    expect(verifyChecksum('raw(deadbeef)', 'd')).toBe('raw(deadbeef)');
  });

  it.each([
    ['raw(deadbeef)#', 'missing checksum'],
    ['raw(deadbeef)#89f8spxmx', 'too long'],
    ['raw(deadbeef)#89f8spx', 'too short'],
    ['raw(deedbeef)#89f8spxm', 'error in payload'],
    ['raw(deedbeef)##9f8spxm', 'error in checksum'],
    ['raw(Ü)#00000000', 'invalid characters'],
  ])('refuse %s (%s)', (text) => {
    expect(() => verifyChecksum(text, 'wallet.descriptor')).toThrow(WalletKeyError);
  });

  it('is written by satwatch the way Bitcoin Core checks it', () => {
    const account = fromDescriptor(BIP84_RECEIVE);
    const written = account.descriptor(0);
    expect(written.startsWith(`${BIP84_RECEIVE}#`)).toBe(true);
    expect(verifyChecksum(written, 'd')).toBe(BIP84_RECEIVE);
  });
});

describe('a wallet from a descriptor', () => {
  it('matches the BIP84 vectors and maps to the account xpub, path and fingerprint', () => {
    const account = fromDescriptor(BIP84_RECEIVE);
    expect(account.scriptType).toBe('p2wpkh');
    expect(account.derivationPath).toBe("m/84'/0'/0'");
    expect(account.masterFingerprint).toBe(FINGERPRINT);
    expect(account.receiveAddress(0).address).toBe(BIP84_FIRST);
    expect(account.receiveAddress(1).address).toBe(BIP84_SECOND);
    expect(account.receiveAddress(1).path).toBe("m/84'/0'/0'/0/1");
  });

  it('is the same wallet as the plain xpub it holds (same account fingerprint)', () => {
    const viaXpub = WalletAccount.fromConfig({ network: 'mainnet', xpub: xpubAt("m/84'/0'/0'") });
    expect(fromDescriptor(BIP84_RECEIVE).accountFingerprint).toBe(viaXpub.accountFingerprint);
  });

  it('matches the BIP86 taproot vectors from tr(…)', () => {
    expect(xpubAt("m/86'/0'/0'")).toBe(BIP86_XPUB);
    const account = fromDescriptor(`tr([${FINGERPRINT}/86'/0'/0']${BIP86_XPUB}/0/*)`);
    expect(account.scriptType).toBe('p2tr');
    expect([0, 1].map((i) => account.receiveAddress(i).address)).toEqual([
      BIP86_FIRST,
      BIP86_SECOND,
    ]);
  });

  it('matches the BIP49 testnet vector from sh(wpkh(…)) and BIP44 from pkh(…)', () => {
    const bip49 = fromDescriptor(
      `sh(wpkh([${FINGERPRINT}/49h/1h/0h]${xpubAt("m/49'/1'/0'", testRoot)}/0/*))`,
      'testnet',
    );
    expect(bip49.scriptType).toBe('p2sh-p2wpkh');
    expect(bip49.receiveAddress(0).address).toBe(BIP49_TESTNET_FIRST);
    const bip44 = fromDescriptor(`pkh([${FINGERPRINT}/44h/0h/0h]${xpubAt("m/44'/0'/0'")}/0/*)`);
    expect(bip44.receiveAddress(0).address).toBe(BIP44_FIRST);
  });

  it('derives the addresses an independent bip32 + bitcoinjs derivation gives', () => {
    const account = fromDescriptor(BIP84_RECEIVE);
    for (const index of [0, 7, 1000, 2 ** 31 - 1]) {
      const pubkey = root.derivePath(`m/84'/0'/0'/0/${index}`).publicKey;
      expect(account.receiveAddress(index).address).toBe(
        bitcoin.payments.p2wpkh({ pubkey, network: BITCOIN_NETWORKS.mainnet }).address,
      );
    }
  });

  it('accepts a BIP389 multipath receive/change descriptor and a descriptor without origin', () => {
    const multipath = `wpkh([${FINGERPRINT}/84h/0h/0h]${xpubAt("m/84'/0'/0'")}/<0;1>/*)`;
    expect(fromDescriptor(multipath).receiveAddress(0).address).toBe(BIP84_FIRST);
    const bare = fromDescriptor(`wpkh(${xpubAt("m/84'/0'/0'")}/0/*)`);
    expect(bare.receiveAddress(0).address).toBe(BIP84_FIRST);
    expect(bare.masterFingerprint).toBeUndefined();
    expect(bare.derivationPath).toBe("m/84'/0'/0'");
  });

  it('writes the receive and change descriptors, whose change chain gives the BIP84 change address', () => {
    const account = fromDescriptor(BIP84_RECEIVE);
    const change = account.descriptor(1);
    expect(change).toMatch(
      /^wpkh\(\[73c5da0a\/84h\/0h\/0h\]xpub[1-9A-Za-z]+\/1\/\*\)#[a-z0-9]{8}$/,
    );
    const key = parseDescriptor(change.replace('/1/*', '/0/*').replace(/#.*/, ''), 'mainnet', 'd');
    expect(key.xpub).toBe(account.accountXpub);
    const pubkey = bip32.fromBase58(account.accountXpub).derive(1).derive(0).publicKey;
    expect(bitcoin.payments.p2wpkh({ pubkey }).address).toBe(BIP84_FIRST_CHANGE);
  });
});

describe('descriptor refusals', () => {
  const xpub = xpubAt("m/84'/0'/0'");

  it('refuse a multisig descriptor with a clear message', () => {
    const other = xpubAt("m/84'/0'/1'");
    expect(refusal(() => fromDescriptor(`wsh(sortedmulti(1,${xpub}/0/*,${other}/0/*))`))).toMatch(
      /multisig descriptor; only single-key wallets are supported/,
    );
    expect(refusal(() => fromDescriptor(`sh(multi(1,${xpub}/0/*))`))).toMatch(/multisig/);
  });

  it('refuse a key for the wrong network', () => {
    expect(refusal(() => fromDescriptor(BIP84_RECEIVE, 'testnet'))).toMatch(
      /wallet\.descriptor: holds a key for another network than testnet/,
    );
  });

  it('refuse a wrong checksum, a private key, the change chain and a script tree, never quoting keys', () => {
    const withSum = fromDescriptor(BIP84_RECEIVE).descriptor(0);
    const typo = withSum.replace('/84h/0h/0h', '/84h/0h/1h');
    expect(refusal(() => fromDescriptor(typo))).toMatch(/checksum does not match/);
    const xprv = root.derivePath("m/84'/0'/0'").toBase58();
    const messages = [
      refusal(() => fromDescriptor(`wpkh(${xprv}/0/*)`)),
      refusal(() => fromDescriptor(`wpkh(${xpub}/1/*)`)),
      refusal(() => fromDescriptor(`wpkh(${xpub}/0/*')`)),
      refusal(() => fromDescriptor(`wsh(pk(${xpub}/0/*))`)),
      refusal(() => fromDescriptor(`wpkh(${xpub}/0/*`)),
    ];
    expect(messages[0]).toMatch(/holds a private key/);
    expect(messages[1]).toMatch(/must range over the receive chain/);
    expect(messages[3]).toMatch(/must be a single-key descriptor/);
    for (const message of messages) {
      expect(message).not.toContain(xprv.slice(4, 40));
      expect(message).not.toContain(xpub.slice(4, 40));
    }
  });

  it('refuse a single private key (WIF), valid or not, without quoting it', () => {
    const wif = 'L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1';
    const broken = `${wif.slice(0, -1)}2`;
    for (const text of [`wpkh(${wif})`, `wpkh(${broken})`, `tr(${wif})`]) {
      const message = refusal(() => fromDescriptor(text));
      expect(message).not.toContain(wif.slice(5, 30));
    }
    expect(refusal(() => fromDescriptor(`wpkh(${wif})`))).toMatch(/holds a private key/);
  });

  it('refuse a key origin that contradicts the key', () => {
    expect(refusal(() => fromDescriptor(`wpkh([${FINGERPRINT}/84h/0h]${xpub}/0/*)`))).toMatch(
      /key origin has 2 levels but the key is at depth 3/,
    );
    expect(refusal(() => fromDescriptor(`wpkh([${FINGERPRINT}/84h/0h/5h]${xpub}/0/*)`))).toMatch(
      /key origin ends in 5h/,
    );
    const level1 = xpubAt("m/84'");
    expect(refusal(() => fromDescriptor(`wpkh([deadbeef/84h]${level1}/0/*)`))).toMatch(
      /fingerprint deadbeef is not the key's parent/,
    );
  });

  it('refuse settings beside the descriptor that disagree with it', () => {
    expect(
      refusal(() =>
        WalletAccount.fromConfig({ network: 'mainnet', descriptor: BIP84_RECEIVE, xpub }),
      ),
    ).toMatch(/wallet\.descriptor: and wallet\.xpub are both set/);
    expect(
      refusal(() =>
        WalletAccount.fromConfig({
          network: 'mainnet',
          descriptor: BIP84_RECEIVE,
          scriptType: 'p2tr',
        }),
      ),
    ).toMatch(/wallet\.scriptType: is p2tr but wallet\.descriptor says p2wpkh/);
  });
});

describe('descriptor settings', () => {
  const env = (extra: Record<string, string>) => ({
    SATWATCH_NETWORK: 'mainnet',
    SATWATCH_MONGO_URL: 'mongodb://127.0.0.1:1',
    ...extra,
  });

  it('load the wallet from SATWATCH_WALLET_DESCRIPTOR', () => {
    const config = loadConfig({ env: env({ SATWATCH_WALLET_DESCRIPTOR: BIP84_RECEIVE }) });
    expect(config.wallet.descriptor).toBe(BIP84_RECEIVE);
  });

  it('accept the cold wallet as SATWATCH_FORWARDING_COLD_DESCRIPTOR and refuse it as the hot wallet', () => {
    const cold = `wpkh([${FINGERPRINT}/84h/0h/1h]${xpubAt("m/84'/0'/1'")}/0/*)`;
    const base = {
      SATWATCH_WALLET_DESCRIPTOR: BIP84_RECEIVE,
      SATWATCH_FORWARDING_MODE: 'psbt',
    };
    const config = loadConfig({
      env: env({ ...base, SATWATCH_FORWARDING_COLD_DESCRIPTOR: cold }),
    });
    expect(config.forwarding.coldDescriptor).toBe(cold);
    // The cold wallet it stands for is the one its xpub gives: sweeps go to the same addresses.
    const viaXpub = coldAccount({
      ...config,
      forwarding: {
        ...config.forwarding,
        coldDescriptor: undefined,
        coldXpub: xpubAt("m/84'/0'/1'"),
      },
    });
    expect(coldAccount(config)?.receiveAddress(3).address).toBe(viaXpub?.receiveAddress(3).address);
    expect(coldAccount(config)?.accountFingerprint).toBe(viaXpub?.accountFingerprint);
    expect(() =>
      loadConfig({ env: env({ ...base, SATWATCH_FORWARDING_COLD_DESCRIPTOR: BIP84_RECEIVE }) }),
    ).toThrow(/forwarding.coldDescriptor is the hot wallet itself/);
    expect(() =>
      loadConfig({
        env: env({
          ...base,
          SATWATCH_FORWARDING_COLD_DESCRIPTOR: cold,
          SATWATCH_FORWARDING_COLD_XPUB: xpubAt("m/84'/0'/1'"),
        }),
      }),
    ).toThrow(/exactly one of forwarding.coldAddress, forwarding.coldXpub and/);
  });
});
