/**
 * Sizes of a sweep transaction: an exact upper bound of the signed virtual size (so the fee is
 * never short), and the destination's dust threshold. Pure.
 */
import type { ScriptType } from '../../wallet/extended-key.js';
import type { NetworkName } from '../../wallet/networks.js';
import { outputScriptOf } from './scripts.js';

/** Upper bounds of the signatures: DER ECDSA (72 bytes) + sighash byte; BIP340 Schnorr, SIGHASH_DEFAULT. */
const ECDSA_SIG_MAX = 73;
const SCHNORR_SIG = 64;
const COMPRESSED_PUBKEY = 33;
/** Outpoint (32 + 4), script length and sequence (4), without the script. */
const INPUT_BASE = 32 + 4 + 4;

/** Exact upper bound of the signed sweep's virtual size (72-byte DER + sighash for ECDSA, 64-byte Schnorr for taproot), one output to `destination`. */
export function estimateVsize(
  inputs: { scriptType: ScriptType }[],
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
