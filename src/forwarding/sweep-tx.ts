/**
 * Sweep transactions: move payment outputs from the merchant's hot HD addresses (account/0/index)
 * to one cold destination, in one standard, RBF-signalling transaction. Pure: no I/O, no clock.
 *
 * - planSweep: size (an exact upper bound), fee and output value, with the dust and fee-share rules;
 * - buildSweepPsbt: the unsigned PSBT, with the BIP32 origins a hardware wallet needs;
 * - signSweep: signs with the account's private node (sign mode);
 * - acceptSignedSweep: checks a PSBT or raw transaction the admin signed elsewhere (psbt mode);
 * - planReplacement: a BIP125 fee bump of an unconfirmed sweep.
 *
 * Amounts are integer sats (bigint inside bitcoinjs); fee rates are sat/vB and may be fractional.
 */
import type { BIP32Interface } from 'bip32';
import * as bitcoin from 'bitcoinjs-lib';
import { Psbt, Transaction } from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { paymentFor } from '../wallet/account.js';
import { SCRIPT_TYPES, type ScriptType } from '../wallet/extended-key.js';
import { BITCOIN_NETWORKS, type NetworkName } from '../wallet/networks.js';

bitcoin.initEccLib(ecc);

export interface SweepInput {
  txid: string;
  vout: number;
  valueSats: number;
  scriptType: ScriptType;
  /** receive index: the key is account/0/index */
  index: number;
}

export interface SweepAccount {
  network: NetworkName;
  /** account key path from the master, e.g. m/84'/1'/0' */
  derivationPath: string;
  masterFingerprint?: string;
  /** the account's public node (neutered) */
  publicNode: BIP32Interface;
}

export interface SweepPlan {
  inputs: SweepInput[];
  destination: string;
  /** The requested rate, sat/vB; the actual rate is feeSats / real vsize, never lower. */
  feeRate: number;
  /** Upper bound of the signed transaction's virtual size. */
  vsize: number;
  feeSats: number;
  valueOutSats: number;
}

export interface SignedSweep {
  hex: string;
  txid: string;
  vsize: number;
  /** Actual fee rate: feeSats / vsize. */
  feeRate: number;
}

export type SweepErrorReason =
  | 'dust'
  | 'uneconomic'
  | 'no-inputs'
  | 'unsupported-script'
  | 'mismatch'
  | 'unsigned'
  | 'destination';

export class SweepError extends Error {
  constructor(
    readonly reason: SweepErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'SweepError';
  }
}

/** BIP125: any sequence below 0xfffffffe signals replaceability; this one also keeps nLockTime active. */
export const SEQUENCE_RBF = 0xfffffffd;
const RECEIVE_CHAIN = 0;
/** Upper bounds of the signatures: DER ECDSA (72 bytes) + sighash byte; BIP340 Schnorr, SIGHASH_DEFAULT. */
const ECDSA_SIG_MAX = 73;
const SCHNORR_SIG = 64;
const COMPRESSED_PUBKEY = 33;
/** Outpoint (32 + 4), script length and sequence (4), without the script. */
const INPUT_BASE = 32 + 4 + 4;

// ─── fee rate ────────────────────────────────────────────────────────────────

/** sat/vB from an Esplora fee-estimates map for `targetBlocks` (smallest target ≥ requested, else the largest below), clamped to [min, max]; `fallback` (clamped) when the map has no usable entry. */
export function chooseFeeRate(
  estimates: Record<string, number>,
  targetBlocks: number,
  bounds: { min: number; max: number; fallback: number },
): number {
  const { min, max, fallback } = bounds;
  if (!(isPositiveFinite(min) && isPositiveFinite(max) && min <= max)) {
    throw new RangeError(`fee rate bounds [${min}, ${max}] are not 0 < min ≤ max`);
  }
  if (!isPositiveFinite(fallback))
    throw new RangeError(`fallback fee rate ${fallback} is not positive`);
  const clamp = (rate: number) => Math.min(max, Math.max(min, rate));

  let above: [number, number] | undefined; // smallest target ≥ requested
  let below: [number, number] | undefined; // largest target < requested
  for (const [key, rate] of Object.entries(estimates)) {
    const target = Number(key);
    if (!Number.isSafeInteger(target) || target <= 0 || !isPositiveFinite(rate)) continue;
    if (target >= targetBlocks) {
      if (!above || target < above[0]) above = [target, rate];
    } else if (!below || target > below[0]) {
      below = [target, rate];
    }
  }
  const chosen = above ?? below;
  return clamp(chosen ? chosen[1] : fallback);
}

// ─── sizes ───────────────────────────────────────────────────────────────────

/** Exact upper bound of the signed sweep's virtual size (72-byte DER + sighash for ECDSA, 64-byte Schnorr for taproot), one output to `destination`. */
export function estimateVsize(
  inputs: Pick<SweepInput, 'scriptType'>[],
  destination: string,
  network: NetworkName,
): number {
  const output = outputScriptOf(destination, network);
  let base = 4 + varIntSize(inputs.length) + varIntSize(1) + outputSize(output) + 4;
  let witness = 0;
  let segwit = false;
  for (const { scriptType } of inputs) {
    const size = inputSize(scriptType);
    base += size.base;
    witness += size.witness;
    segwit ||= size.segwit;
  }
  // Marker and flag; inputs without a witness still carry an empty stack (one byte) then.
  const weight = base * 4 + (segwit ? 2 + witness : 0);
  return Math.ceil(weight / 4);
}

function inputSize(scriptType: ScriptType): { base: number; witness: number; segwit: boolean } {
  const ecdsaStack = 1 + 1 + ECDSA_SIG_MAX + 1 + COMPRESSED_PUBKEY; // count, <sig>, <pubkey>
  switch (scriptType) {
    case 'p2wpkh':
      return { base: INPUT_BASE + 1, witness: ecdsaStack, segwit: true };
    case 'p2sh-p2wpkh':
      // scriptSig: one push of the 22-byte redeem script (OP_0 <20-byte hash>).
      return { base: INPUT_BASE + 1 + 1 + 22, witness: ecdsaStack, segwit: true };
    case 'p2tr':
      return { base: INPUT_BASE + 1, witness: 1 + 1 + SCHNORR_SIG, segwit: true };
    case 'p2pkh': {
      const scriptSig = 1 + ECDSA_SIG_MAX + 1 + COMPRESSED_PUBKEY;
      return { base: INPUT_BASE + varIntSize(scriptSig) + scriptSig, witness: 1, segwit: false };
    }
  }
}

/** Bitcoin Core's dust threshold at the default 3000 sat/kvB dust relay fee (btcd: 3 × min relay fee). */
export function dustThreshold(destination: string, network: NetworkName): number {
  const script = outputScriptOf(destination, network);
  // The size of spending it: outpoint, script length, sequence, plus a typical unlocking script
  // (107 bytes: signature and pubkey), discounted for witness programs.
  const spend = isWitnessProgram(script)
    ? 32 + 4 + 1 + Math.floor(107 / 4) + 4
    : 32 + 4 + 1 + 107 + 4;
  return 3 * (outputSize(script) + spend);
}

function isWitnessProgram(script: Uint8Array): boolean {
  if (script.length < 4 || script.length > 42) return false;
  const version = script[0] ?? -1;
  if (version !== 0x00 && (version < 0x51 || version > 0x60)) return false;
  return script[1] === script.length - 2;
}

function outputSize(script: Uint8Array): number {
  return 8 + varIntSize(script.length) + script.length;
}

function varIntSize(n: number): number {
  if (n < 0xfd) return 1;
  if (n <= 0xffff) return 3;
  if (n <= 0xffffffff) return 5;
  return 9;
}

// ─── planning ────────────────────────────────────────────────────────────────

/**
 * Plans a sweep of `inputs` to `destination`: fee = ceil(vsize × feeRate). Throws SweepError
 * 'no-inputs'; 'dust' when the output would be below the destination's dust threshold (checked
 * first: such a sweep is also never economic); 'uneconomic' when the fee exceeds
 * maxFeeShareBps / 10 000 of the input value. Input p2pkh is planned but refused by buildSweepPsbt.
 */
export function planSweep(
  inputs: SweepInput[],
  destination: string,
  feeRate: number,
  network: NetworkName,
  maxFeeShareBps: number,
): SweepPlan {
  if (inputs.length === 0) throw new SweepError('no-inputs', 'nothing to sweep');
  checkInputs(inputs);
  checkFeeRate(feeRate);
  if (!Number.isFinite(maxFeeShareBps) || maxFeeShareBps < 0) {
    throw new RangeError(`maxFeeShareBps ${maxFeeShareBps} is not a non-negative number`);
  }
  const total = sumValues(inputs);
  const vsize = estimateVsize(inputs, destination, network);
  checkStandardSize(vsize, inputs.length);
  const feeSats = feeFor(vsize, feeRate);
  const valueOutSats = total - feeSats;
  checkNotDust(valueOutSats, feeSats, destination, network);
  if (feeSats * 10_000 > maxFeeShareBps * total) {
    throw new SweepError(
      'uneconomic',
      `the fee of ${feeSats} sats (${vsize} vB at ${feeRate} sat/vB) is more than ${maxFeeShareBps} bps of the ${total} sats swept`,
    );
  }
  return {
    inputs: inputs.map((i) => ({ ...i })),
    destination,
    feeRate,
    vsize,
    feeSats,
    valueOutSats,
  };
}

/**
 * A BIP125 replacement of `previous`: same inputs and destination, rate max(requested,
 * previous.feeRate + 1) sat/vB, and an absolute fee of at least the previous fee plus the
 * incremental relay fee (1 sat/vB) for its own size. Throws SweepError('dust') if too little is left.
 */
export function planReplacement(
  previous: SweepPlan,
  requestedFeeRate: number,
  network: NetworkName,
): SweepPlan {
  checkFeeRate(requestedFeeRate);
  if (previous.inputs.length === 0) throw new SweepError('no-inputs', 'nothing to sweep');
  checkInputs(previous.inputs);
  const feeRate = Math.max(requestedFeeRate, previous.feeRate + 1);
  const vsize = estimateVsize(previous.inputs, previous.destination, network);
  const feeSats = Math.max(feeFor(vsize, feeRate), previous.feeSats + vsize);
  const valueOutSats = sumValues(previous.inputs) - feeSats;
  checkNotDust(valueOutSats, feeSats, previous.destination, network);
  return {
    inputs: previous.inputs.map((i) => ({ ...i })),
    destination: previous.destination,
    feeRate,
    vsize,
    feeSats,
    valueOutSats,
  };
}

/** ceil(vsize × feeRate) in integer sats, exact for rates with up to 3 decimals (no 110.00000000000001 → 111). */
function feeFor(vsize: number, feeRate: number): number {
  const milli = Math.round(feeRate * 1000);
  if (Math.abs(feeRate * 1000 - milli) < 1e-6) return Math.ceil((vsize * milli) / 1000);
  return Math.ceil(vsize * feeRate);
}

/** Bitcoin Core and btcd relay no transaction over 400 000 weight units (100 000 vB). */
const MAX_STANDARD_VSIZE = 100_000;

function checkStandardSize(vsize: number, inputs: number): void {
  if (vsize > MAX_STANDARD_VSIZE) {
    throw new RangeError(
      `a sweep of ${inputs} inputs would be ${vsize} vB, over the ${MAX_STANDARD_VSIZE} vB a node relays`,
    );
  }
}

function checkNotDust(
  valueOutSats: number,
  feeSats: number,
  destination: string,
  network: NetworkName,
): void {
  const dust = dustThreshold(destination, network);
  if (valueOutSats < dust) {
    throw new SweepError(
      'dust',
      `after a fee of ${feeSats} sats the sweep would pay ${valueOutSats} sats, below the destination's dust threshold of ${dust}`,
    );
  }
}

function checkFeeRate(feeRate: number): void {
  if (!isPositiveFinite(feeRate)) throw new RangeError(`fee rate ${feeRate} is not positive`);
}

function checkInputs(inputs: SweepInput[]): void {
  const seen = new Set<string>();
  for (const input of inputs) {
    const where = `${input.txid}:${input.vout}`;
    if (!/^[0-9a-f]{64}$/i.test(input.txid)) throw new RangeError(`input ${where}: bad txid`);
    if (!Number.isInteger(input.vout) || input.vout < 0 || input.vout > 0xffffffff) {
      throw new RangeError(`input ${where}: bad output index`);
    }
    if (!Number.isSafeInteger(input.valueSats) || input.valueSats <= 0) {
      throw new RangeError(`input ${where}: value ${input.valueSats} is not a positive integer`);
    }
    if (!(SCRIPT_TYPES as readonly string[]).includes(input.scriptType)) {
      throw new RangeError(`input ${where}: unknown script type ${input.scriptType}`);
    }
    if (!Number.isInteger(input.index) || input.index < 0 || input.index >= 0x80000000) {
      throw new RangeError(`input ${where}: address index ${input.index} is outside 0..2^31-1`);
    }
    const key = outpointKey(input.txid, input.vout);
    if (seen.has(key)) throw new RangeError(`input ${where} appears twice`);
    seen.add(key);
  }
}

function sumValues(inputs: SweepInput[]): number {
  const total = inputs.reduce((sum, i) => sum + i.valueSats, 0);
  if (!Number.isSafeInteger(total)) throw new RangeError('the inputs add up to too much');
  return total;
}

// ─── PSBT ────────────────────────────────────────────────────────────────────

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
          const script = expected.get(outpointKey(txidOf(input.hash), input.index));
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
    const script = expected?.get(outpointKey(planned.txid, planned.vout)) ?? utxo.script;
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

// ─── checks ──────────────────────────────────────────────────────────────────

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

function unsignedTxOf(psbt: Psbt): Transaction {
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
    const key = outpointKey(txid, input.index);
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
function checkPaysOnly(tx: Transaction, destination: string, network: NetworkName): void {
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
function checkUnsignedPsbt(psbt: Psbt, plan: SweepPlan, network: NetworkName): void {
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
function checkSignedTransaction(
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
      outpointKey(input.txid, input.vout),
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

function checkPlanAddsUp(plan: SweepPlan): void {
  const total = sumValues(plan.inputs);
  if (
    !Number.isSafeInteger(plan.feeSats) ||
    plan.feeSats < 0 ||
    !Number.isSafeInteger(plan.valueOutSats) ||
    plan.valueOutSats <= 0 ||
    total - plan.feeSats !== plan.valueOutSats
  ) {
    throw new SweepError('mismatch', 'the plan does not add up (inputs − fee ≠ output)');
  }
}

// ─── scripts and keys ────────────────────────────────────────────────────────

/** The output script a key's coin sits in, and the redeem script for p2sh-p2wpkh. */
function spendInfo(
  pubkey: Uint8Array,
  scriptType: ScriptType,
  networkName: NetworkName,
): { output: Uint8Array; redeemScript?: Uint8Array } {
  const payment = paymentFor(pubkey, scriptType, networkName);
  if (!payment.output) throw new Error(`cannot make a ${scriptType} script`);
  const redeemScript = payment.redeem?.output;
  return redeemScript ? { output: payment.output, redeemScript } : { output: payment.output };
}

function outputScriptOf(destination: string, network: NetworkName): Uint8Array {
  try {
    return bitcoin.address.toOutputScript(destination, BITCOIN_NETWORKS[network]);
  } catch {
    throw new RangeError(`destination "${destination}" is not a ${network} address`);
  }
}

function accountPath(account: SweepAccount): string {
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

function masterFingerprint(account: SweepAccount): Uint8Array | undefined {
  const hex = account.masterFingerprint;
  if (hex === undefined) {
    return account.publicNode.depth === 0 ? account.publicNode.fingerprint : undefined;
  }
  if (!/^[0-9a-f]{8}$/i.test(hex)) throw new RangeError('master fingerprint must be 8 hex digits');
  return Buffer.from(hex, 'hex');
}

/** The network of an address; testnet, signet and regtest share base58 versions and scripts. */
function networkOfAddress(address: string): NetworkName {
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
function at<T>(arr: readonly T[], i: number): T {
  const value = arr[i];
  if (value === undefined) throw new Error(`internal: no element ${i}`);
  return value;
}

function xOnly(pubkey: Uint8Array): Uint8Array {
  return pubkey.length === 32 ? pubkey : pubkey.subarray(1, 33);
}

function txidOf(hash: Uint8Array): string {
  return Buffer.from(hash).reverse().toString('hex');
}

function outpointKey(txid: string, vout: number): string {
  return `${txid.toLowerCase()}:${vout}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function isPositiveFinite(n: number): boolean {
  return Number.isFinite(n) && n > 0;
}
