/**
 * Extended keys in every common encoding (BIP32 xpub/tpub and the SLIP-132 variants), checked
 * against the configured network. Errors never quote the key: it may be private.
 */
import { BIP32Factory, type BIP32Interface } from 'bip32';
import bs58check from 'bs58check';
import * as ecc from 'tiny-secp256k1';
import { BITCOIN_NETWORKS, type NetworkName } from './networks.js';

export const bip32 = BIP32Factory(ecc);

export const SCRIPT_TYPES = ['p2wpkh', 'p2sh-p2wpkh', 'p2pkh', 'p2tr'] as const;
export type ScriptType = (typeof SCRIPT_TYPES)[number];

type Family = 'mainnet' | 'test';

interface VersionInfo {
  prefix: string;
  family: Family;
  isPrivate: boolean;
  /** The script type a SLIP-132 prefix commits to; undefined for plain xpub/tpub. */
  scriptType?: ScriptType;
  multisig?: boolean;
}

/** SLIP-132 registered version bytes. */
const VERSIONS = new Map<number, VersionInfo>([
  [0x0488b21e, { prefix: 'xpub', family: 'mainnet', isPrivate: false }],
  [0x0488ade4, { prefix: 'xprv', family: 'mainnet', isPrivate: true }],
  [0x049d7cb2, { prefix: 'ypub', family: 'mainnet', isPrivate: false, scriptType: 'p2sh-p2wpkh' }],
  [0x049d7878, { prefix: 'yprv', family: 'mainnet', isPrivate: true, scriptType: 'p2sh-p2wpkh' }],
  [0x04b24746, { prefix: 'zpub', family: 'mainnet', isPrivate: false, scriptType: 'p2wpkh' }],
  [0x04b2430c, { prefix: 'zprv', family: 'mainnet', isPrivate: true, scriptType: 'p2wpkh' }],
  [0x0295b43f, { prefix: 'Ypub', family: 'mainnet', isPrivate: false, multisig: true }],
  [0x02aa7ed3, { prefix: 'Zpub', family: 'mainnet', isPrivate: false, multisig: true }],
  [0x043587cf, { prefix: 'tpub', family: 'test', isPrivate: false }],
  [0x04358394, { prefix: 'tprv', family: 'test', isPrivate: true }],
  [0x044a5262, { prefix: 'upub', family: 'test', isPrivate: false, scriptType: 'p2sh-p2wpkh' }],
  [0x044a4e28, { prefix: 'uprv', family: 'test', isPrivate: true, scriptType: 'p2sh-p2wpkh' }],
  [0x045f1cf6, { prefix: 'vpub', family: 'test', isPrivate: false, scriptType: 'p2wpkh' }],
  [0x045f18bc, { prefix: 'vprv', family: 'test', isPrivate: true, scriptType: 'p2wpkh' }],
  [0x024289ef, { prefix: 'Upub', family: 'test', isPrivate: false, multisig: true }],
  [0x02575483, { prefix: 'Vpub', family: 'test', isPrivate: false, multisig: true }],
]);

export class WalletKeyError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'WalletKeyError';
  }
}

export interface ParsedExtendedKey {
  node: BIP32Interface;
  prefix: string;
  isPrivate: boolean;
  scriptType: ScriptType | undefined;
}

/**
 * Parses an extended key for `network`. `field` names the config key in errors.
 * SLIP-132 keys are re-encoded with the plain BIP32 version so bip32 can read them.
 */
export function parseExtendedKey(
  text: string,
  network: NetworkName,
  field: string,
): ParsedExtendedKey {
  let payload: Uint8Array;
  try {
    payload = bs58check.decode(text.trim());
  } catch {
    throw new WalletKeyError(field, 'is not a valid extended key (bad base58 or checksum)');
  }
  if (payload.length !== 78) {
    throw new WalletKeyError(
      field,
      `is not an extended key (${payload.length} bytes, expected 78)`,
    );
  }
  const version = Buffer.from(payload).readUInt32BE(0);
  const info = VERSIONS.get(version);
  if (!info) throw new WalletKeyError(field, 'has an unknown version prefix');
  if (info.multisig) {
    throw new WalletKeyError(
      field,
      `is a multisig key (${info.prefix}); only single-key wallets are supported`,
    );
  }
  const expected: Family = network === 'mainnet' ? 'mainnet' : 'test';
  if (info.family !== expected) {
    const what = info.family === 'mainnet' ? 'a mainnet' : 'a test-network';
    throw new WalletKeyError(
      field,
      `is ${what} key (${info.prefix}) but the network is ${network}`,
    );
  }
  const bitcoinNetwork = BITCOIN_NETWORKS[network];
  const standard = Buffer.from(payload);
  standard.writeUInt32BE(
    info.isPrivate ? bitcoinNetwork.bip32.private : bitcoinNetwork.bip32.public,
    0,
  );
  let node: BIP32Interface;
  try {
    node = bip32.fromBase58(bs58check.encode(standard), bitcoinNetwork);
  } catch {
    throw new WalletKeyError(field, 'is not a valid extended key (bad key data)');
  }
  return { node, prefix: info.prefix, isPrivate: info.isPrivate, scriptType: info.scriptType };
}
