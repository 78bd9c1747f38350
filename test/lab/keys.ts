/** Regtest keys made inside a test, and spends from them, for tests that need to own a coin. */
import { randomBytes } from 'node:crypto';
import { BIP32Factory, type BIP32Interface } from 'bip32';
import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';

// ecpair ships no ESM type declarations (it types as `any` under NodeNext); bip32 nodes sign just as well.
const bip32 = BIP32Factory(ecc);
// Taproot outputs (paying a bc1p address) need the curve library registered with bitcoinjs.
bitcoin.initEccLib(ecc);
export const regtest = bitcoin.networks.regtest;

/** A signing key from 32 private-key bytes (a fresh random one by default). */
export function signingKey(privateKey: Uint8Array = randomBytes(32)): BIP32Interface {
  return bip32.fromPrivateKey(Buffer.from(privateKey), Buffer.alloc(32), regtest);
}

export interface TestKey {
  key: BIP32Interface;
  address: string;
  output: Uint8Array;
}

export function freshKey(): TestKey {
  const key = signingKey();
  const payment = bitcoin.payments.p2wpkh({ pubkey: key.publicKey, network: regtest });
  return { key, address: payment.address!, output: payment.output! };
}

/** Signs a one-input spend of `value` sats at `txid:vout` (owned by `owner`) to `to`, paying `fee`. */
export function signSpend(
  owner: TestKey,
  coin: { txid: string; vout: number; value: number },
  to: string,
  fee: number,
): bitcoin.Transaction {
  const psbt = new bitcoin.Psbt({ network: regtest })
    .addInput({
      hash: coin.txid,
      index: coin.vout,
      witnessUtxo: { script: owner.output, value: BigInt(coin.value) },
    })
    .addOutput({ address: to, value: BigInt(coin.value - fee) });
  psbt.signAllInputs(owner.key).finalizeAllInputs();
  return psbt.extractTransaction();
}

export function voutPaying(hex: string, address: string): number {
  const script = bitcoin.address.toOutputScript(address, regtest);
  const vout = bitcoin.Transaction.fromHex(hex).outs.findIndex((o) =>
    Buffer.from(o.script).equals(script),
  );
  if (vout < 0) throw new Error(`no output pays ${address}`);
  return vout;
}
