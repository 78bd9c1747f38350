/**
 * Esplora's answers read at the edge: every body is checked for the shape we depend on, and one
 * without it is a MalformedAnswer (treated like an outage and retried), never guessed at.
 */
import * as bitcoin from 'bitcoinjs-lib';
import {
  type BlockVerificationError,
  type ChainTransaction,
  type TxOutput,
  type TxStatus,
} from './chain-source.js';

/** A block the server sent that is not the block asked for: the next base URL is tried. */
export class InvalidBlock extends Error {
  override readonly name = 'InvalidBlock';
  constructor(readonly refusal: BlockVerificationError) {
    super(refusal.reason);
  }
}
/** A body without the shape we depend on: treated like an outage and retried. */
export class MalformedAnswer extends Error {
  override readonly name = 'MalformedAnswer';
}
export const HEX64 = /^[0-9a-f]{64}$/;
export const HEX = /^(?:[0-9a-f]{2})*$/;
/** BIP125: an input with a sequence below this signals replaceability. */
const RBF_SEQUENCE_LIMIT = 0xfffffffe;
const MAX_REASON_LENGTH = 500;

type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new MalformedAnswer('body is not valid JSON');
  }
}

export function readStatus(value: unknown): TxStatus {
  if (!isRecord(value) || typeof value.confirmed !== 'boolean')
    throw new MalformedAnswer('status has no confirmed flag');
  if (!value.confirmed) return { confirmed: false };
  const { block_height: height, block_hash: hash, block_time: time } = value;
  if (!isNonNegativeInt(height) || typeof hash !== 'string' || !HEX64.test(hash))
    throw new MalformedAnswer('confirmed status without block height and hash');
  const status: TxStatus = { confirmed: true, blockHeight: height, blockHash: hash };
  if (time !== undefined && time !== null) {
    if (!isNonNegativeInt(time)) throw new MalformedAnswer('block_time is not a timestamp');
    status.blockTime = time;
  }
  return status;
}

function readOutput(value: unknown, vout: number): TxOutput {
  if (!isRecord(value)) throw new MalformedAnswer('vout entry is not an object');
  const { scriptpubkey: script, scriptpubkey_address: address, value: sats } = value;
  if (typeof script !== 'string' || !HEX.test(script))
    throw new MalformedAnswer('vout scriptpubkey is not hex');
  if (!isNonNegativeInt(sats)) throw new MalformedAnswer('vout value is not whole sats');
  const output: TxOutput = { vout, script, valueSats: sats };
  if (address !== undefined && address !== null) {
    if (typeof address !== 'string' || address.length === 0)
      throw new MalformedAnswer('vout scriptpubkey_address is not a string');
    output.address = address;
  }
  return output;
}

export function readTransaction(value: unknown): ChainTransaction {
  if (!isRecord(value)) throw new MalformedAnswer('transaction is not an object');
  const { txid, status, vin, vout, fee, weight } = value;
  if (typeof txid !== 'string' || !HEX64.test(txid))
    throw new MalformedAnswer('transaction has no txid');
  if (!Array.isArray(vin) || !Array.isArray(vout))
    throw new MalformedAnswer('transaction has no vin or vout list');
  const spends: { txid: string; vout: number }[] = [];
  const signalsRbf = vin
    .map((input: unknown) => {
      if (!isRecord(input) || !isNonNegativeInt(input.sequence))
        throw new MalformedAnswer('vin entry has no sequence');
      if (input.is_coinbase !== true) {
        if (
          typeof input.txid !== 'string' ||
          !HEX64.test(input.txid) ||
          !isNonNegativeInt(input.vout)
        )
          throw new MalformedAnswer('vin entry has no outpoint');
        spends.push({ txid: input.txid, vout: input.vout });
      }
      return input.sequence < RBF_SEQUENCE_LIMIT;
    })
    .some(Boolean);
  const tx: ChainTransaction = {
    txid,
    status: readStatus(status),
    outputs: vout.map((out: unknown, index) => readOutput(out, index)),
    spends,
    signalsRbf,
  };
  if (fee !== undefined && fee !== null) {
    if (!isNonNegativeInt(fee)) throw new MalformedAnswer('fee is not whole sats');
    tx.feeSats = fee;
  }
  if (weight !== undefined && weight !== null) {
    if (!isNonNegativeInt(weight) || weight === 0) throw new MalformedAnswer('weight is invalid');
    tx.vsize = Math.ceil(weight / 4);
  }
  return tx;
}

export function readTransactionList(body: string): ChainTransaction[] {
  const list = parseJson(body);
  if (!Array.isArray(list)) throw new MalformedAnswer('expected a list of transactions');
  return list.map(readTransaction);
}

export function readHash(body: string): string {
  const hash = body.trim();
  if (!HEX64.test(hash)) throw new MalformedAnswer('expected a block hash');
  return hash;
}

export function readHeight(body: string): number {
  const text = body.trim();
  if (!/^\d{1,10}$/.test(text)) throw new MalformedAnswer('expected a block height');
  return Number(text);
}

/** `sendrawtransaction RPC error: {"code":-26,"message":"…"}`, a JSON body, or plain text. */
export function parseRejection(body: string): { code: number | undefined; reason: string } {
  const text = body.trim();
  const embedded = /RPC error:\s*(\{.*\})\s*$/s.exec(text)?.[1];
  for (const candidate of [embedded, text]) {
    if (candidate === undefined) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(candidate) as unknown;
    } catch {
      continue;
    }
    if (!isRecord(parsed)) continue;
    const inner = isRecord(parsed.error) ? parsed.error : parsed;
    const message = [inner.message, inner.error, parsed.error].find(
      (m): m is string => typeof m === 'string' && m.length > 0,
    );
    const code =
      typeof inner.code === 'number' && Number.isInteger(inner.code) ? inner.code : undefined;
    if (message !== undefined) return { code, reason: message.slice(0, MAX_REASON_LENGTH) };
  }
  return { code: undefined, reason: (text || 'no reason given').slice(0, MAX_REASON_LENGTH) };
}

/** Rejections that mean "the node already has this transaction": the broadcast did its job. */
export const ALREADY_KNOWN =
  /already have transaction|txn-already-in-mempool|txn-already-known|already in block ?chain|transaction already exists/i;

export function txidOf(rawHex: string): string | undefined {
  try {
    return bitcoin.Transaction.fromHex(rawHex).getId();
  } catch {
    return undefined;
  }
}
