/**
 * The merchant's receiving account: an account-level extended public key and the script type
 * its addresses use. Receive addresses are `<account>/0/<index>` (BIP44/49/84/86 layout).
 */
import type { BIP32Interface } from 'bip32';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import {
  type ParsedExtendedKey,
  type ScriptType,
  WalletKeyError,
  parseExtendedKey,
} from './extended-key.js';
import { BITCOIN_NETWORKS, type NetworkName, coinType } from './networks.js';
import { describeChain, parseDescriptor } from './descriptor.js';

bitcoin.initEccLib(ecc);

const PURPOSE: Record<ScriptType, number> = { p2pkh: 44, 'p2sh-p2wpkh': 49, p2wpkh: 84, p2tr: 86 };
const RECEIVE_CHAIN = 0;

export interface WalletAccountConfig {
  network: NetworkName;
  xpub?: string | undefined;
  /** Secret. Only its public part is used for receiving. */
  xprv?: string | undefined;
  scriptType?: ScriptType | undefined;
  derivationPath?: string | undefined;
  masterFingerprint?: string | undefined;
  /** An output descriptor instead of xpub (+ scriptType, derivationPath, masterFingerprint). */
  descriptor?: string | undefined;
  /** The setting `descriptor` came from, for errors (default wallet.descriptor). */
  descriptorField?: string | undefined;
}

export interface DerivedAddress {
  address: string;
  index: number;
  /** Full path from the master key, e.g. m/84'/1'/0'/0/7. */
  path: string;
}

export class WalletAccount {
  private readonly receiveChain: BIP32Interface;
  /** The account's public key node (never a private one). */
  readonly publicNode: BIP32Interface;

  private constructor(
    readonly network: NetworkName,
    readonly scriptType: ScriptType,
    /** Account key path from the master, e.g. m/84'/1'/0'. */
    readonly derivationPath: string,
    /** Fingerprint of the master key (8 hex), when known; PSBT signers need it. */
    readonly masterFingerprint: string | undefined,
    /** Fingerprint of the account key itself: identifies this wallet in the database. */
    readonly accountFingerprint: string,
    readonly accountXpub: string,
    accountNode: BIP32Interface,
  ) {
    this.publicNode = accountNode;
    this.receiveChain = accountNode.derive(RECEIVE_CHAIN);
  }

  static fromConfig(given: WalletAccountConfig): WalletAccount {
    const config = withDescriptor(given);
    const { network } = config;
    let parsed: ParsedExtendedKey | undefined;
    if (config.xprv) {
      parsed = parseExtendedKey(config.xprv, network, 'wallet.xprv');
      if (!parsed.isPrivate)
        throw new WalletKeyError('wallet.xprv', `is a public key (${parsed.prefix})`);
    }
    if (config.xpub) {
      const pub = parseExtendedKey(config.xpub, network, 'wallet.xpub');
      if (pub.isPrivate) {
        throw new WalletKeyError(
          'wallet.xpub',
          `is a private key (${pub.prefix}); put it in wallet.xprv`,
        );
      }
      if (parsed && !Buffer.from(parsed.node.publicKey).equals(pub.node.publicKey)) {
        throw new WalletKeyError('wallet.xpub', 'does not belong to wallet.xprv');
      }
      parsed = { ...pub, scriptType: pub.scriptType ?? parsed?.scriptType };
    }
    if (!parsed)
      throw new WalletKeyError('wallet.xpub', 'is required (or wallet.descriptor, or wallet.xprv)');

    if (config.scriptType && parsed.scriptType && config.scriptType !== parsed.scriptType) {
      throw new WalletKeyError(
        'wallet.scriptType',
        `is ${config.scriptType} but the ${parsed.prefix} key is for ${parsed.scriptType}`,
      );
    }
    const scriptType = config.scriptType ?? parsed.scriptType ?? 'p2wpkh';
    const node = parsed.node.neutered();
    const derivationPath =
      config.derivationPath ?? `m/${PURPOSE[scriptType]}'/${coinType(network)}'/0'`;
    const levels = derivationPath === 'm' ? 0 : derivationPath.split('/').length - 1;
    if (!/^m(\/\d+'?)*$/.test(derivationPath)) {
      throw new WalletKeyError(
        'wallet.derivationPath',
        `"${derivationPath}" is not a BIP32 path like m/84'/0'/0'`,
      );
    }
    if (levels !== node.depth) {
      throw new WalletKeyError(
        'wallet.derivationPath',
        `has ${levels} levels but the key is at depth ${node.depth}`,
      );
    }
    if (
      config.masterFingerprint !== undefined &&
      !/^[0-9a-f]{8}$/i.test(config.masterFingerprint)
    ) {
      throw new WalletKeyError('wallet.masterFingerprint', 'must be 8 hex digits');
    }
    const masterFingerprint =
      config.masterFingerprint?.toLowerCase() ??
      (node.depth === 0 ? Buffer.from(node.fingerprint).toString('hex') : undefined);
    return new WalletAccount(
      network,
      scriptType,
      derivationPath,
      masterFingerprint,
      Buffer.from(node.fingerprint).toString('hex'),
      node.toBase58(),
      node,
    );
  }

  /** The watch-only descriptor of the receive (0) or change (1) chain, with its checksum. */
  descriptor(chain: 0 | 1 = RECEIVE_CHAIN): string {
    return describeChain(this, chain);
  }

  receiveAddress(index: number): DerivedAddress {
    if (!Number.isInteger(index) || index < 0 || index >= 0x80000000) {
      throw new RangeError(`address index ${index} is outside 0..2^31-1`);
    }
    const pubkey = this.receiveChain.derive(index).publicKey;
    return {
      address: addressFor(pubkey, this.scriptType, this.network),
      index,
      path: `${this.derivationPath}/${RECEIVE_CHAIN}/${index}`,
    };
  }
}

/**
 * The settings a descriptor stands for, in place of the descriptor. A setting given beside it
 * must agree with it: two sources of truth for one wallet are refused, not merged.
 */
function withDescriptor(config: WalletAccountConfig): WalletAccountConfig {
  if (config.descriptor === undefined) return config;
  const field = config.descriptorField ?? 'wallet.descriptor';
  const prefix = field.slice(0, field.lastIndexOf('.') + 1);
  if (config.xpub !== undefined)
    throw new WalletKeyError(field, `and ${prefix}xpub are both set; use one`);
  const key = parseDescriptor(config.descriptor, config.network, field);
  const agree = (name: string, given: string | undefined, found: string | undefined) => {
    if (given !== undefined && found !== undefined && given.toLowerCase() !== found.toLowerCase())
      throw new WalletKeyError(`${prefix}${name}`, `is ${given} but ${field} says ${found}`);
  };
  agree('scriptType', config.scriptType, key.scriptType);
  agree('derivationPath', config.derivationPath, key.derivationPath);
  agree('masterFingerprint', config.masterFingerprint, key.masterFingerprint);
  return {
    ...config,
    descriptor: undefined,
    xpub: key.xpub,
    scriptType: key.scriptType,
    derivationPath: config.derivationPath ?? key.derivationPath,
    masterFingerprint: config.masterFingerprint ?? key.masterFingerprint,
  };
}

/**
 * The bitcoinjs payment (address, output script, and for P2SH-P2WPKH the redeem script) of a
 * public key in a script type. Taproot is BIP86: key path only, the internal key tweaked with an
 * empty script tree.
 */
export function paymentFor(
  pubkey: Uint8Array,
  scriptType: ScriptType,
  networkName: NetworkName,
): bitcoin.Payment {
  const network = BITCOIN_NETWORKS[networkName];
  switch (scriptType) {
    case 'p2wpkh':
      return bitcoin.payments.p2wpkh({ pubkey, network });
    case 'p2sh-p2wpkh':
      return bitcoin.payments.p2sh({
        redeem: bitcoin.payments.p2wpkh({ pubkey, network }),
        network,
      });
    case 'p2pkh':
      return bitcoin.payments.p2pkh({ pubkey, network });
    case 'p2tr':
      return bitcoin.payments.p2tr({ internalPubkey: pubkey.subarray(1, 33), network });
  }
}

export function addressFor(
  pubkey: Uint8Array,
  scriptType: ScriptType,
  networkName: NetworkName,
): string {
  const { address } = paymentFor(pubkey, scriptType, networkName);
  if (!address) throw new Error(`cannot make a ${scriptType} address`);
  return address;
}
