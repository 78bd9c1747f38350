/**
 * Pure conversions from raw Bitcoin data to Blockstream esplora's JSON shapes (API.md,
 * "Transaction format" and "Block format"), including rust-bitcoin's asm notation.
 */
import * as bitcoin from 'bitcoinjs-lib';

const network = bitcoin.networks.regtest;

export interface EsploraStatus {
  confirmed: boolean;
  block_height?: number;
  block_hash?: string;
  block_time?: number;
}

export interface EsploraVout {
  scriptpubkey: string;
  scriptpubkey_asm: string;
  scriptpubkey_type: string;
  scriptpubkey_address?: string;
  value: number;
}

export interface EsploraVin {
  txid: string;
  vout: number;
  prevout: EsploraVout | null;
  scriptsig: string;
  scriptsig_asm: string;
  witness?: string[];
  is_coinbase: boolean;
  sequence: number;
  inner_redeemscript_asm?: string;
  inner_witnessscript_asm?: string;
}

export interface EsploraTx {
  txid: string;
  version: number;
  locktime: number;
  vin: EsploraVin[];
  vout: EsploraVout[];
  size: number;
  weight: number;
  fee: number;
  status?: EsploraStatus;
}

const opcodeNames = new Map<number, string>();
for (const [name, code] of Object.entries(bitcoin.script.OPS)) {
  // OPS is a TypeScript enum: its reverse entries map numbers back to names.
  if (typeof code === 'number' && !opcodeNames.has(code)) opcodeNames.set(code, name);
}
opcodeNames.set(0x00, 'OP_0');
opcodeNames.set(0x4f, 'OP_PUSHNUM_NEG1');
for (let n = 1; n <= 16; n++) opcodeNames.set(0x50 + n, `OP_PUSHNUM_${n}`);
opcodeNames.set(0xb1, 'OP_CLTV');
opcodeNames.set(0xb2, 'OP_CSV');

/** Script to asm in the notation esplora (rust-bitcoin) uses: `OP_0 OP_PUSHBYTES_20 <hex>`. */
export function scriptAsm(script: Uint8Array): string {
  const parts: string[] = [];
  let i = 0;
  while (i < script.length) {
    const op = script[i++]!;
    let len = -1;
    let name: string;
    if (op >= 0x01 && op <= 0x4b) {
      len = op;
      name = `OP_PUSHBYTES_${op}`;
    } else if (op >= 0x4c && op <= 0x4e) {
      const width = op === 0x4c ? 1 : op === 0x4d ? 2 : 4;
      if (i + width > script.length) {
        parts.push('<unexpected end>');
        break;
      }
      len = 0;
      for (let b = width - 1; b >= 0; b--) len = len * 256 + script[i + b]!;
      i += width;
      name = op === 0x4c ? 'OP_PUSHDATA1' : op === 0x4d ? 'OP_PUSHDATA2' : 'OP_PUSHDATA4';
    } else {
      name = opcodeNames.get(op) ?? `OP_RETURN_${op}`;
    }
    if (len >= 0) {
      if (i + len > script.length) {
        parts.push(name, '<push past end>');
        break;
      }
      parts.push(name, Buffer.from(script.subarray(i, i + len)).toString('hex'));
      i += len;
    } else {
      parts.push(name);
    }
  }
  return parts.join(' ');
}

export function scriptType(script: Uint8Array): string {
  const s = script;
  if (s.length === 0) return 'empty';
  if (
    s.length === 25 &&
    s[0] === 0x76 &&
    s[1] === 0xa9 &&
    s[2] === 0x14 &&
    s[23] === 0x88 &&
    s[24] === 0xac
  )
    return 'p2pkh';
  if (s.length === 23 && s[0] === 0xa9 && s[1] === 0x14 && s[22] === 0x87) return 'p2sh';
  if (s.length === 22 && s[0] === 0x00 && s[1] === 0x14) return 'v0_p2wpkh';
  if (s.length === 34 && s[0] === 0x00 && s[1] === 0x20) return 'v0_p2wsh';
  if (s.length === 34 && s[0] === 0x51 && s[1] === 0x20) return 'v1_p2tr';
  if ((s.length === 35 || s.length === 67) && s[0] === s.length - 2 && s[s.length - 1] === 0xac)
    return 'p2pk';
  if (s[0] === 0x6a) return 'op_return';
  return 'unknown';
}

export function addressOf(script: Uint8Array): string | undefined {
  try {
    return bitcoin.address.fromOutputScript(script, network);
  } catch {
    return undefined;
  }
}

export function formatVout(script: Uint8Array, value: bigint): EsploraVout {
  const out: EsploraVout = {
    scriptpubkey: Buffer.from(script).toString('hex'),
    scriptpubkey_asm: scriptAsm(script),
    scriptpubkey_type: scriptType(script),
    value: Number(value),
  };
  const address = addressOf(script);
  if (address !== undefined) out.scriptpubkey_address = address;
  return out;
}

export function inputTxid(input: { hash: Uint8Array }): string {
  return Buffer.from(input.hash).reverse().toString('hex');
}

/** Formats a transaction; `prevouts[i]` is the output spent by input i (null for a coinbase). */
export function formatTx(
  tx: bitcoin.Transaction,
  prevouts: (EsploraVout | null)[],
  status: EsploraStatus | undefined,
): EsploraTx {
  const coinbase = tx.isCoinbase();
  const vin = tx.ins.map((input, i): EsploraVin => {
    const entry: EsploraVin = {
      txid: inputTxid(input),
      vout: input.index,
      prevout: coinbase ? null : (prevouts[i] ?? null),
      scriptsig: Buffer.from(input.script).toString('hex'),
      scriptsig_asm: scriptAsm(input.script),
      is_coinbase: coinbase,
      sequence: input.sequence,
    };
    if (input.witness.length > 0) {
      entry.witness = input.witness.map((w) => Buffer.from(w).toString('hex'));
    }
    const type = entry.prevout?.scriptpubkey_type;
    if (type === 'p2sh') {
      const chunks = bitcoin.script.decompile(input.script);
      const last = chunks?.[chunks.length - 1];
      if (last instanceof Uint8Array) entry.inner_redeemscript_asm = scriptAsm(last);
    }
    const lastWitness = input.witness[input.witness.length - 1];
    if (
      lastWitness &&
      (type === 'v0_p2wsh' || entry.inner_redeemscript_asm?.startsWith('OP_0 OP_PUSHBYTES_32'))
    ) {
      entry.inner_witnessscript_asm = scriptAsm(lastWitness);
    }
    return entry;
  });
  const vout = tx.outs.map((out) => formatVout(out.script, out.value));
  const inSum = vin.reduce((sum, v) => sum + (v.prevout?.value ?? 0), 0);
  const outSum = vout.reduce((sum, v) => sum + v.value, 0);
  const formatted: EsploraTx = {
    txid: tx.getId(),
    version: tx.version,
    locktime: tx.locktime,
    vin,
    vout,
    size: tx.byteLength(),
    weight: tx.weight(),
    fee: coinbase ? 0 : inSum - outSum,
  };
  if (status) formatted.status = status;
  return formatted;
}
