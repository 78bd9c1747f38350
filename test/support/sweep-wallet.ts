/**
 * A merchant HD wallet made inside a test (regtest), for sweep tests and the sweep benchmark:
 * accounts per script type, a hardware-wallet-like signer that only uses the PSBT's BIP32
 * origins, and a signature check independent of src/forwarding/tx/.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BIP32Interface } from 'bip32';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import type { SweepAccount } from '../../src/forwarding/tx/scripts.js';
import { WalletAccount, addressFor } from '../../src/wallet/account.js';
import { bip32, type ScriptType } from '../../src/wallet/extended-key.js';

bitcoin.initEccLib(ecc);

export const REGTEST = bitcoin.networks.regtest;
const PURPOSE: Record<ScriptType, number> = { p2pkh: 44, 'p2sh-p2wpkh': 49, p2wpkh: 84, p2tr: 86 };

export interface TestAccount {
  scriptType: ScriptType;
  /** m/<purpose>'/1'/0' */
  path: string;
  /** The account's private node (what signSweep gets). */
  node: BIP32Interface;
  /** What buildSweepPsbt gets: public node, path, master fingerprint. */
  sweep: SweepAccount;
  /** The daemon's own receive-address derivation for this account. */
  receive: WalletAccount;
  /** The receive address at `index`, by default of the account's own script type. */
  address(index: number, scriptType?: ScriptType): string;
}

export interface TestWallet {
  root: BIP32Interface;
  fingerprint: string;
  account(scriptType: ScriptType): TestAccount;
}

export function makeWallet(seed: Uint8Array = randomBytes(32)): TestWallet {
  const root = bip32.fromSeed(Buffer.from(seed), REGTEST);
  const fingerprint = Buffer.from(root.fingerprint).toString('hex');
  const accounts = new Map<ScriptType, TestAccount>();
  return {
    root,
    fingerprint,
    account(scriptType) {
      let account = accounts.get(scriptType);
      if (!account) {
        const path = `m/${PURPOSE[scriptType]}'/1'/0'`;
        const node = root.derivePath(path);
        const receive = WalletAccount.fromConfig({
          network: 'regtest',
          xpub: node.neutered().toBase58(),
          scriptType,
          derivationPath: path,
          masterFingerprint: fingerprint,
        });
        account = {
          scriptType,
          path,
          node,
          sweep: {
            network: 'regtest',
            derivationPath: path,
            masterFingerprint: fingerprint,
            publicNode: node.neutered(),
          },
          receive,
          address: (index, type = scriptType) =>
            type === scriptType
              ? receive.receiveAddress(index).address
              : addressFor(node.derive(0).derive(index).publicKey, type, 'regtest'),
        };
        accounts.set(scriptType, account);
      }
      return account;
    },
  };
}

/** A P2WPKH address of a fresh random key (the cold wallet). */
export function freshDestination(): string {
  const pubkey = bip32.fromSeed(randomBytes(32), REGTEST).publicKey;
  return bitcoin.payments.p2wpkh({ pubkey, network: REGTEST }).address!;
}

/**
 * Signs like a hardware wallet that holds only the master key: every key comes from the PSBT's
 * bip32Derivation / tapBip32Derivation (fingerprint + path). Taproot key path with the BIP86
 * tweak. Leaves the PSBT unfinalized.
 */
export function hardwareSign(psbt: bitcoin.Psbt, root: BIP32Interface): void {
  psbt.data.inputs.forEach((input, i) => {
    if (input.bip32Derivation?.length) {
      psbt.signInputHD(i, root);
      return;
    }
    const origin = input.tapBip32Derivation?.[0];
    if (!origin) throw new Error(`input ${i} has no BIP32 origin`);
    if (!Buffer.from(origin.masterFingerprint).equals(root.fingerprint)) {
      throw new Error(`input ${i} belongs to another master key`);
    }
    const key = root.derivePath(origin.path);
    const xonly = key.publicKey.subarray(1, 33);
    if (!Buffer.from(origin.pubkey).equals(xonly)) throw new Error(`input ${i}: wrong key`);
    psbt.signTaprootInput(i, key.tweak(bitcoin.crypto.taggedHash('TapTweak', xonly)));
  });
}

/**
 * Independent signature check of a signed transaction with bitcoinjs's sighash functions and
 * tiny-secp256k1: p2wpkh, p2sh-p2wpkh (ECDSA, BIP143) and p2tr key path (Schnorr, BIP341).
 */
export function signaturesValid(
  tx: bitcoin.Transaction,
  prevouts: { script: Uint8Array; value: bigint }[],
): boolean {
  return tx.ins.every((input, i) => {
    const prevout = prevouts[i]!;
    const script = prevout.script;
    if (script.length === 34 && script[0] === 0x51) {
      const sig = input.witness[0]!;
      const hashType = sig.length === 65 ? sig[64]! : bitcoin.Transaction.SIGHASH_DEFAULT;
      const hash = tx.hashForWitnessV1(
        i,
        prevouts.map((p) => p.script),
        prevouts.map((p) => p.value),
        hashType,
      );
      return ecc.verifySchnorr(hash, script.subarray(2), sig.subarray(0, 64));
    }
    const [encoded, pubkey] = input.witness;
    const { signature, hashType } = bitcoin.script.signature.decode(encoded!);
    const p2wpkh = bitcoin.payments.p2wpkh({ pubkey: pubkey!, network: REGTEST });
    const owner =
      script.length === 22
        ? p2wpkh.output!
        : bitcoin.payments.p2sh({ redeem: p2wpkh, network: REGTEST }).output!;
    if (!Buffer.from(owner).equals(script)) return false;
    const scriptCode = bitcoin.payments.p2pkh({ pubkey: pubkey!, network: REGTEST }).output!;
    const hash = tx.hashForWitnessV0(i, scriptCode, prevout.value, hashType);
    return ecc.verify(hash, pubkey!, signature, true);
  });
}

/** A txid-like hex string from a label (deterministic fake outpoints for pure tests). */
export function fakeTxid(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}
