/** Keys, scripts and addresses of a sweep: the hot account's receive keys, the cold destination. */
import type { BIP32Interface } from 'bip32';
import * as bitcoin from 'bitcoinjs-lib';
import { paymentFor } from '../../wallet/account.js';
import type { ScriptType } from '../../wallet/extended-key.js';
import { BITCOIN_NETWORKS, type NetworkName } from '../../wallet/networks.js';

export interface SweepAccount {
  network: NetworkName;
  /** account key path from the master, e.g. m/84'/1'/0' */
  derivationPath: string;
  masterFingerprint?: string;
  /** the account's public node (neutered) */
  publicNode: BIP32Interface;
}

/** The receive chain of the account: a payment's key is account/0/index. */
export const RECEIVE_CHAIN = 0;

/** The output script a key's coin sits in, and the redeem script for p2sh-p2wpkh. */
export function spendInfo(
  pubkey: Uint8Array,
  scriptType: ScriptType,
  networkName: NetworkName,
): { output: Uint8Array; redeemScript?: Uint8Array } {
  const payment = paymentFor(pubkey, scriptType, networkName);
  if (!payment.output) throw new Error(`cannot make a ${scriptType} script`);
  const redeemScript = payment.redeem?.output;
  return redeemScript ? { output: payment.output, redeemScript } : { output: payment.output };
}

export function outputScriptOf(destination: string, network: NetworkName): Uint8Array {
  try {
    return bitcoin.address.toOutputScript(destination, BITCOIN_NETWORKS[network]);
  } catch {
    throw new RangeError(`destination "${destination}" is not a ${network} address`);
  }
}

export function accountPath(account: SweepAccount): string {
  const path = account.derivationPath.replace(/h/g, "'");
  if (!/^m(\/\d+'?)*$/.test(path)) {
    throw new RangeError(`derivation path "${account.derivationPath}" is not like m/84'/0'/0'`);
  }
  const levels = path === 'm' ? 0 : path.split('/').length - 1;
  if (levels !== account.publicNode.depth) {
    throw new RangeError(
      `derivation path has ${levels} levels but the account key is at depth ${account.publicNode.depth}`,
    );
  }
  return path;
}

export function masterFingerprint(account: SweepAccount): Uint8Array | undefined {
  const hex = account.masterFingerprint;
  if (hex === undefined) {
    return account.publicNode.depth === 0 ? account.publicNode.fingerprint : undefined;
  }
  if (!/^[0-9a-f]{8}$/i.test(hex)) throw new RangeError('master fingerprint must be 8 hex digits');
  return Buffer.from(hex, 'hex');
}

/** The network of an address; testnet, signet and regtest share base58 versions and scripts. */
export function networkOfAddress(address: string): NetworkName {
  for (const name of ['mainnet', 'regtest', 'testnet'] as const) {
    try {
      bitcoin.address.toOutputScript(address, BITCOIN_NETWORKS[name]);
      return name;
    } catch {
      // try the next one
    }
  }
  throw new RangeError(`destination "${address}" is not a bitcoin address`);
}

/** arr[i], which the caller knows is there. */
export function at<T>(arr: readonly T[], i: number): T {
  const value = arr[i];
  if (value === undefined) throw new Error(`internal: no element ${i}`);
  return value;
}

export function xOnly(pubkey: Uint8Array): Uint8Array {
  return pubkey.length === 32 ? pubkey : pubkey.subarray(1, 33);
}

export function txidOf(hash: Uint8Array): string {
  return Buffer.from(hash).reverse().toString('hex');
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
