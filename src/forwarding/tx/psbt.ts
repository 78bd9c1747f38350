/**
 * The unsigned sweep PSBT, with the BIP32 origins a hardware wallet needs: what psbt mode offers
 * the admin, and what sign mode signs. Pure.
 */
import { Psbt } from 'bitcoinjs-lib';
import { BITCOIN_NETWORKS, type NetworkName } from '../../wallet/networks.js';
import { type SweepPlan, checkInputs, checkPlanAddsUp } from './plan.js';
import {
  RECEIVE_CHAIN,
  type SweepAccount,
  accountPath,
  masterFingerprint,
  outputScriptOf,
  spendInfo,
  xOnly,
} from './scripts.js';
import { SweepError } from './sweep-error.js';

/** BIP125: any sequence below 0xfffffffe signals replaceability; this one also keeps nLockTime active. */
export const SEQUENCE_RBF = 0xfffffffd;

/**
 * The unsigned PSBT of `plan`, inputs in plan order: every input RBF (sequence 0xfffffffd),
 * witnessUtxo, redeemScript (p2sh-p2wpkh) or tapInternalKey (p2tr), and, when the master
 * fingerprint is known, bip32Derivation / tapBip32Derivation with the full path. p2pkh inputs
 * would need their whole previous transaction: SweepError('unsupported-script').
 */
export function buildSweepPsbt(plan: SweepPlan, account: SweepAccount, network: NetworkName): Psbt {
  if (account.network !== network) {
    throw new RangeError(`the account is for ${account.network} but the sweep is for ${network}`);
  }
  if (plan.inputs.length === 0) throw new SweepError('no-inputs', 'nothing to sweep');
  checkInputs(plan.inputs);
  checkPlanAddsUp(plan);
  const path = accountPath(account);
  const fingerprint = masterFingerprint(account);
  const receiveChain = account.publicNode.derive(RECEIVE_CHAIN);
  const net = BITCOIN_NETWORKS[network];

  plan.inputs.forEach((input, i) => {
    if (input.scriptType === 'p2pkh') {
      throw new SweepError(
        'unsupported-script',
        `input ${i} (${input.txid}:${input.vout}) is p2pkh: sweeping it needs the whole previous transaction`,
      );
    }
  });

  const psbt = new Psbt({ network: net });
  psbt.setVersion(2);
  psbt.setLocktime(0);
  // The transaction first, the input metadata after: bitcoinjs re-checks every earlier input on
  // each addInput/addOutput (costly for witnessUtxo scripts), updateInput only the one it updates.
  for (const input of plan.inputs) {
    psbt.addInput({ hash: input.txid, index: input.vout, sequence: SEQUENCE_RBF });
  }
  psbt.addOutput({
    script: outputScriptOf(plan.destination, network),
    value: BigInt(plan.valueOutSats),
  });
  plan.inputs.forEach((input, i) => {
    const pubkey = receiveChain.derive(input.index).publicKey;
    const spend = spendInfo(pubkey, input.scriptType, network);
    const keyPath = `${path}/${RECEIVE_CHAIN}/${input.index}`;
    const witnessUtxo = { script: spend.output, value: BigInt(input.valueSats) };
    if (input.scriptType === 'p2tr') {
      const xonly = xOnly(pubkey);
      psbt.updateInput(i, {
        witnessUtxo,
        tapInternalKey: xonly,
        ...(fingerprint && {
          tapBip32Derivation: [
            { masterFingerprint: fingerprint, pubkey: xonly, path: keyPath, leafHashes: [] },
          ],
        }),
      });
    } else {
      psbt.updateInput(i, {
        witnessUtxo,
        ...(spend.redeemScript && { redeemScript: spend.redeemScript }),
        ...(fingerprint && {
          bip32Derivation: [{ masterFingerprint: fingerprint, pubkey, path: keyPath }],
        }),
      });
    }
  });
  return psbt;
}
