/**
 * sign mode: signs a sweep PSBT with the account's private node, then verifies the result the way
 * a node would. Pure; errors never contain key material.
 */
import type { BIP32Interface } from 'bip32';
import * as bitcoin from 'bitcoinjs-lib';
import type { Psbt } from 'bitcoinjs-lib';
import { type SweepPlan, checkPlanAddsUp } from './plan.js';
import { RECEIVE_CHAIN, networkOfAddress, sameBytes, spendInfo, xOnly } from './scripts.js';
import { SweepError } from './sweep-error.js';
import {
  type SignedSweep,
  checkPaysOnly,
  checkSignedTransaction,
  checkUnsignedPsbt,
  unsignedTxOf,
} from './verify.js';

/**
 * Signs every input of `psbt` (built by buildSweepPsbt for `plan`) with `accountPrivate`
 * (account/0/index; taproot with the BIP86-tweaked key), verifies the signatures, finalizes and
 * extracts. The PSBT passed in is left unsigned. Errors never contain key material.
 */
export function signSweep(
  psbt: Psbt,
  plan: SweepPlan,
  accountPrivate: BIP32Interface,
  expectedDestination?: string,
): SignedSweep {
  if (accountPrivate.isNeutered()) {
    throw new RangeError('signing a sweep needs the account private key, got a public one');
  }
  checkPlanAddsUp(plan);
  const network = networkOfAddress(plan.destination);
  checkUnsignedPsbt(psbt, plan, network);
  if (expectedDestination !== undefined) {
    checkPaysOnly(unsignedTxOf(psbt), expectedDestination, network);
  }
  const working = psbt.clone();
  const receiveChain = accountPrivate.derive(RECEIVE_CHAIN);
  const prevouts = plan.inputs.map((input, i) => {
    const key = receiveChain.derive(input.index);
    const expected = spendInfo(key.publicKey, input.scriptType, network).output;
    const utxo = working.data.inputs[i]?.witnessUtxo;
    if (!utxo || !sameBytes(utxo.script, expected)) {
      throw new SweepError(
        'mismatch',
        `input ${i} (${input.txid}:${input.vout}) is not paid to this account's key at index ${input.index}`,
      );
    }
    try {
      if (input.scriptType === 'p2tr') {
        const xonly = xOnly(key.publicKey);
        const tweaked = key.tweak(bitcoin.crypto.taggedHash('TapTweak', xonly));
        working.signTaprootInput(i, tweaked);
      } else {
        // Low-R grinding: 71-byte signatures (with sighash), like Bitcoin Core.
        working.signInput(i, { publicKey: key.publicKey, sign: (hash) => key.sign(hash, true) });
      }
    } catch {
      // Keep key material (bitcoinjs quotes public keys) out of errors: name the input only.
      throw new Error(`could not sign input ${i} (${input.txid}:${input.vout})`);
    }
    return expected;
  });
  try {
    working.finalizeAllInputs();
  } catch {
    throw new SweepError('unsigned', 'the signed sweep could not be finalized');
  }
  const tx = working.extractTransaction(true);
  return checkSignedTransaction(tx, plan, network, prevouts);
}
