/**
 * Planning a sweep: which coins, to which destination, at which fee, and what is left to pay out,
 * with the dust, fee-share and standard-size rules; and a BIP125 replacement of a plan. Pure.
 * Amounts are integer sats; fee rates are sat/vB and may be fractional.
 */
import { outpointKey } from '../../chain/outpoint.js';
import { SCRIPT_TYPES, type ScriptType } from '../../wallet/extended-key.js';
import type { NetworkName } from '../../wallet/networks.js';
import { checkFeeRate } from './fee-rate.js';
import { dustThreshold, estimateVsize } from './size.js';
import { SweepError } from './sweep-error.js';

export interface SweepInput {
  txid: string;
  vout: number;
  valueSats: number;
  scriptType: ScriptType;
  /** receive index: the key is account/0/index */
  index: number;
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

export function checkInputs(inputs: SweepInput[]): void {
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
    // Case-insensitive: the same txid in capitals is the same coin.
    const key = outpointKey({ txid: input.txid.toLowerCase(), vout: input.vout });
    if (seen.has(key)) throw new RangeError(`input ${where} appears twice`);
    seen.add(key);
  }
}

function sumValues(inputs: SweepInput[]): number {
  const total = inputs.reduce((sum, i) => sum + i.valueSats, 0);
  if (!Number.isSafeInteger(total)) throw new RangeError('the inputs add up to too much');
  return total;
}

export function checkPlanAddsUp(plan: SweepPlan): void {
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
