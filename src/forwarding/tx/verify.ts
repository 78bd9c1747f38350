/**
 * Checking a signed sweep: the shape of the transaction against its plan, the destination it
 * pays, and every signature (SIGHASH_ALL only) the way a node would. Used for what the admin
 * signed elsewhere (psbt mode), for what we signed, and before a stored sweep is broadcast. Pure.
 */
import * as bitcoin from 'bitcoinjs-lib';
import { Psbt, Transaction } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { outpointKey } from '../../chain/outpoint.js';
import { BITCOIN_NETWORKS, type NetworkName } from '../../wallet/networks.js';
import { type SweepInput, type SweepPlan, checkPlanAddsUp } from './plan.js';
import { SEQUENCE_RBF } from './psbt.js';
import {
  RECEIVE_CHAIN,
  type SweepAccount,
  at,
  outputScriptOf,
  sameBytes,
  spendInfo,
  txidOf,
} from './scripts.js';
import { SweepError } from './sweep-error.js';

export interface SignedSweep {
  hex: string;
  txid: string;
  vsize: number;
  /** Actual fee rate: feeSats / vsize. */
  feeRate: number;
}

/**
 * psbt mode: accepts what the admin signed elsewhere, a PSBT (base64 or hex) or a raw transaction
 * (hex). It must spend exactly the plan's inputs (any order, RBF-signalling) and pay exactly the
 * plan's one output — else SweepError('mismatch') — and every input must carry a valid SIGHASH_ALL
 * signature — else SweepError('unsigned'). Partially finalized PSBTs are finalized.
 *
 * The signatures are checked against the prevout scripts of `account` when given (recommended:
 * it also proves the right keys signed). Without it they come from the PSBT's witnessUtxo, or for
 * a raw transaction from the public keys in its witnesses; a raw transaction with taproot inputs
 * cannot be checked that way (SweepError('unsupported-script')).
 */
export function acceptSignedSweep(
  plan: SweepPlan,
  submitted: string,
  network: NetworkName,
  account?: SweepAccount,
  expectedDestination?: string,
): SignedSweep {
  checkPlanAddsUp(plan);
  if (expectedDestination !== undefined) {
    // The plan may come from a database record: it must itself pay the configured destination.
    if (plan.destination !== expectedDestination) {
      throw new SweepError('destination', 'the sweep does not pay the configured cold destination');
    }
  }
  if (account && account.network !== network) {
    throw new RangeError(`the account is for ${account.network} but the sweep is for ${network}`);
  }
  const expected = account ? expectedPrevouts(plan, account, network) : undefined;
  const parsed = parseSubmission(submitted.trim(), network);
  if (parsed instanceof Transaction) {
    checkTransactionShape(parsed, plan, network);
    if (expectedDestination !== undefined) checkPaysOnly(parsed, expectedDestination, network);
    const prevouts = expected
      ? parsed.ins.map((input) => {
          const script = expected.get(plannedKey(txidOf(input.hash), input.index));
          if (!script) throw new Error('internal: no expected prevout');
          return script;
        })
      : inferPrevouts(parsed, plan, network);
    return checkSignedTransaction(parsed, plan, network, prevouts);
  }

  const psbt = parsed;
  checkTransactionShape(unsignedTxOf(psbt), plan, network);
  if (expectedDestination !== undefined) {
    checkPaysOnly(unsignedTxOf(psbt), expectedDestination, network);
  }
  const prevouts = psbt.txInputs.map((txIn, i) => {
    const input = at(psbt.data.inputs, i);
    const planned = plannedInput(plan, txidOf(txIn.hash), txIn.index);
    const utxo = input.witnessUtxo;
    if (!utxo || utxo.value !== BigInt(planned.valueSats)) {
      throw new SweepError('mismatch', `input ${i} does not carry the planned amount`);
    }
    const script = expected?.get(plannedKey(planned.txid, planned.vout)) ?? utxo.script;
    if (!sameBytes(script, utxo.script)) {
      throw new SweepError('mismatch', `input ${i} is not paid to the account's key`);
    }
    return script;
  });
  psbt.data.inputs.forEach((input, i) => {
    if (input.finalScriptWitness || input.finalScriptSig) return;
    if (!input.tapKeySig && !input.partialSig?.length) {
      throw new SweepError('unsigned', `input ${i} is not signed`);
    }
    try {
      psbt.finalizeInput(i);
    } catch {
      throw new SweepError('unsigned', `input ${i} cannot be finalized with its signatures`);
    }
  });
  let tx: Transaction;
  try {
    tx = psbt.extractTransaction(true);
  } catch {
    throw new SweepError('unsigned', 'the PSBT does not give a complete transaction');
  }
  return checkSignedTransaction(tx, plan, network, prevouts);
}

function parseSubmission(text: string, network: NetworkName): Psbt | Transaction {
  const opts = { network: BITCOIN_NETWORKS[network] };
  if (/^[0-9a-f]+$/i.test(text)) {
    try {
      return text.toLowerCase().startsWith('70736274ff')
        ? Psbt.fromHex(text, opts)
        : Transaction.fromHex(text);
    } catch {
      throw new SweepError('mismatch', 'the submission is neither a PSBT nor a transaction');
    }
  }
  try {
    return Psbt.fromBase64(text, opts);
  } catch {
    throw new SweepError('mismatch', 'the submission is neither a PSBT nor a transaction');
  }
}

export function unsignedTxOf(psbt: Psbt): Transaction {
  const tx = new Transaction();
  tx.version = psbt.version;
  tx.locktime = psbt.locktime;
  for (const input of psbt.txInputs) tx.addInput(input.hash, input.index, input.sequence);
  for (const output of psbt.txOutputs) tx.addOutput(output.script, output.value);
  return tx;
}

/** Exactly the plan's inputs (any order, each once, all signalling RBF) and its one output. */
function checkTransactionShape(tx: Transaction, plan: SweepPlan, network: NetworkName): void {
  if (tx.ins.length !== plan.inputs.length) {
    throw new SweepError(
      'mismatch',
      `the transaction spends ${tx.ins.length} inputs, the plan ${plan.inputs.length}`,
    );
  }
  const seen = new Set<string>();
  tx.ins.forEach((input, i) => {
    const txid = txidOf(input.hash);
    plannedInput(plan, txid, input.index);
    const key = plannedKey(txid, input.index);
    if (seen.has(key)) throw new SweepError('mismatch', `input ${i} is spent twice`);
    seen.add(key);
    if (input.sequence > SEQUENCE_RBF) {
      throw new SweepError('mismatch', `input ${i} does not signal replaceability (BIP125)`);
    }
  });
  const output = tx.outs[0];
  if (tx.outs.length !== 1 || !output) {
    throw new SweepError('mismatch', `the transaction has ${tx.outs.length} outputs, the plan 1`);
  }
  if (!sameBytes(output.script, outputScriptOf(plan.destination, network))) {
    throw new SweepError('mismatch', 'the transaction pays another address than the plan');
  }
  if (output.value !== BigInt(plan.valueOutSats)) {
    throw new SweepError(
      'mismatch',
      `the transaction pays ${output.value} sats, the plan ${plan.valueOutSats}`,
    );
  }
}

/** The transaction's one and only output pays `destination` (the configured cold destination). */
export function checkPaysOnly(tx: Transaction, destination: string, network: NetworkName): void {
  const output = tx.outs[0];
  if (
    tx.outs.length !== 1 ||
    !output ||
    !sameBytes(output.script, outputScriptOf(destination, network))
  ) {
    throw new SweepError('destination', 'the sweep does not pay the configured cold destination');
  }
}

/** A signed sweep's one output pays `destination` (before a stored transaction is broadcast). */
export function checkSignedPaysOnly(hex: string, destination: string, network: NetworkName): void {
  let tx: Transaction;
  try {
    tx = Transaction.fromHex(hex);
  } catch {
    throw new SweepError('mismatch', 'the stored transaction does not parse');
  }
  checkPaysOnly(tx, destination, network);
}

/** Before signing: the PSBT is the plan's, input for input in plan order. */
export function checkUnsignedPsbt(psbt: Psbt, plan: SweepPlan, network: NetworkName): void {
  checkTransactionShape(unsignedTxOf(psbt), plan, network);
  psbt.txInputs.forEach((txIn, i) => {
    const planned = at(plan.inputs, i);
    const utxo = psbt.data.inputs[i]?.witnessUtxo;
    if (txidOf(txIn.hash) !== planned.txid.toLowerCase() || txIn.index !== planned.vout) {
      throw new SweepError('mismatch', `input ${i} is not the plan's input ${i}`);
    }
    if (!utxo || utxo.value !== BigInt(planned.valueSats)) {
      throw new SweepError('mismatch', `input ${i} does not carry the planned amount`);
    }
  });
}

/** Verifies every input's signature (SIGHASH_ALL only, low-S) the way a node would for these templates. */
export function checkSignedTransaction(
  tx: Transaction,
  plan: SweepPlan,
  network: NetworkName,
  prevouts: Uint8Array[],
): SignedSweep {
  const values = tx.ins.map((input) =>
    BigInt(plannedInput(plan, txidOf(input.hash), input.index).valueSats),
  );
  tx.ins.forEach((input, i) => {
    const planned = plannedInput(plan, txidOf(input.hash), input.index);
    const prevout = at(prevouts, i);
    const value = at(values, i);
    if (input.witness.length === 0 && input.script.length === 0) {
      throw new SweepError('unsigned', `input ${i} is not signed`);
    }
    if (planned.scriptType === 'p2tr') {
      checkTaprootSignature(tx, i, prevouts, values);
      return;
    }
    if (planned.scriptType === 'p2pkh') {
      throw new SweepError('unsupported-script', `input ${i} is p2pkh`);
    }
    const [signature, pubkey] = input.witness;
    if (input.witness.length !== 2 || !signature || !pubkey || pubkey.length !== 33) {
      throw new SweepError('unsigned', `input ${i} does not carry a signature and a public key`);
    }
    const spend = spendInfo(pubkey, planned.scriptType, network);
    if (!sameBytes(spend.output, prevout)) {
      throw new SweepError('mismatch', `input ${i} is signed by a key that does not own it`);
    }
    const expectedScriptSig = spend.redeemScript
      ? bitcoin.script.compile([spend.redeemScript])
      : new Uint8Array(0);
    if (!sameBytes(input.script, expectedScriptSig)) {
      throw new SweepError('mismatch', `input ${i} has an unexpected scriptSig`);
    }
    const decoded = decodeEcdsaSignature(signature, i);
    // BIP143 script code of P2WPKH: the P2PKH script of the key.
    const scriptCode = bitcoin.script.compile([
      bitcoin.opcodes.OP_DUP,
      bitcoin.opcodes.OP_HASH160,
      bitcoin.crypto.hash160(pubkey),
      bitcoin.opcodes.OP_EQUALVERIFY,
      bitcoin.opcodes.OP_CHECKSIG,
    ]);
    const hash = tx.hashForWitnessV0(i, scriptCode, value, decoded.hashType);
    if (!ecc.verify(hash, pubkey, decoded.signature, true)) {
      throw new SweepError('unsigned', `input ${i} has an invalid signature`);
    }
  });
  const vsize = tx.virtualSize();
  return { hex: tx.toHex(), txid: tx.getId(), vsize, feeRate: plan.feeSats / vsize };
}

function checkTaprootSignature(
  tx: Transaction,
  i: number,
  prevouts: Uint8Array[],
  values: bigint[],
): void {
  const input = at(tx.ins, i);
  const prevout = at(prevouts, i);
  if (input.script.length !== 0) {
    throw new SweepError('mismatch', `input ${i} has an unexpected scriptSig`);
  }
  const signature = input.witness[0];
  if (input.witness.length !== 1 || !signature) {
    throw new SweepError('unsigned', `input ${i} is not a taproot key-path spend`);
  }
  let hashType: number;
  if (signature.length === 64) hashType = Transaction.SIGHASH_DEFAULT;
  else if (signature.length === 65 && signature[64] === Transaction.SIGHASH_ALL)
    hashType = Transaction.SIGHASH_ALL;
  else throw new SweepError('unsigned', `input ${i} is not signed with SIGHASH_ALL`);
  if (prevout.length !== 34 || prevout[0] !== 0x51 || prevout[1] !== 0x20) {
    throw new SweepError('mismatch', `input ${i} is not paid to a taproot output`);
  }
  const hash = tx.hashForWitnessV1(i, prevouts, values, hashType);
  if (!ecc.verifySchnorr(hash, prevout.subarray(2), signature.subarray(0, 64))) {
    throw new SweepError('unsigned', `input ${i} has an invalid signature`);
  }
}

function decodeEcdsaSignature(
  encoded: Uint8Array,
  i: number,
): { signature: Uint8Array; hashType: number } {
  let decoded: { signature: Uint8Array; hashType: number };
  try {
    decoded = bitcoin.script.signature.decode(encoded);
  } catch {
    throw new SweepError('unsigned', `input ${i} has a malformed signature`);
  }
  if (decoded.hashType !== Transaction.SIGHASH_ALL) {
    throw new SweepError('unsigned', `input ${i} is not signed with SIGHASH_ALL`);
  }
  return decoded;
}

/** Prevout scripts of a raw transaction from the public keys in its witnesses (ECDSA inputs only). */
function inferPrevouts(tx: Transaction, plan: SweepPlan, network: NetworkName): Uint8Array[] {
  return tx.ins.map((input, i) => {
    const planned = plannedInput(plan, txidOf(input.hash), input.index);
    if (planned.scriptType === 'p2tr') {
      throw new SweepError(
        'unsupported-script',
        `input ${i} is taproot: checking a raw transaction's taproot signatures needs the account`,
      );
    }
    if (planned.scriptType === 'p2pkh') {
      throw new SweepError('unsupported-script', `input ${i} is p2pkh`);
    }
    const pubkey = input.witness[1];
    if (input.witness.length !== 2 || !pubkey || pubkey.length !== 33) {
      throw new SweepError('unsigned', `input ${i} does not carry a signature and a public key`);
    }
    return spendInfo(pubkey, planned.scriptType, network).output;
  });
}

function expectedPrevouts(
  plan: SweepPlan,
  account: SweepAccount,
  network: NetworkName,
): Map<string, Uint8Array> {
  const receiveChain = account.publicNode.derive(RECEIVE_CHAIN);
  return new Map(
    plan.inputs.map((input) => [
      plannedKey(input.txid, input.vout),
      spendInfo(receiveChain.derive(input.index).publicKey, input.scriptType, network).output,
    ]),
  );
}

function plannedInput(plan: SweepPlan, txid: string, vout: number): SweepInput {
  const found = plan.inputs.find((i) => i.vout === vout && i.txid.toLowerCase() === txid);
  if (!found)
    throw new SweepError('mismatch', `the transaction spends ${txid}:${vout}, not planned`);
  return found;
}

/** Txids compare in lowercase: a plan (or an admin's submission) may spell them in capitals. */
function plannedKey(txid: string, vout: number): string {
  return outpointKey({ txid: txid.toLowerCase(), vout });
}
