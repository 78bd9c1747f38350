/**
 * Contract tests: every facade endpoint a payment watcher uses answers with the status,
 * content type and shape that Blockstream esplora's API.md documents, quirks included.
 */
import * as bitcoin from 'bitcoinjs-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { LabClient } from '../lab/client.js';
import { freshKey, signSpend, type TestKey, voutPaying } from '../lab/keys.js';

const HEX64 = /^[0-9a-f]{64}$/;
let lab: LabClient;

async function get(path: string): Promise<Response> {
  return fetch(`${lab.esploraUrl}${path}`);
}

async function getText(path: string, status = 200): Promise<string> {
  const res = await get(path);
  expect(res.status, `GET ${path}`).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
}

async function getJson<T = Record<string, unknown>>(path: string): Promise<T> {
  const res = await get(path);
  expect(res.status, `GET ${path}`).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as T;
}

const statusShape = {
  confirmed: true,
  block_height: expect.any(Number) as number,
  block_hash: expect.stringMatching(HEX64) as string,
  block_time: expect.any(Number) as number,
};

const voutShape = (): Record<string, unknown> => ({
  scriptpubkey: expect.stringMatching(/^[0-9a-f]*$/) as string,
  scriptpubkey_asm: expect.any(String) as string,
  scriptpubkey_type: expect.any(String) as string,
  value: expect.any(Number) as number,
});

interface Tx {
  txid: string;
  version: number;
  locktime: number;
  size: number;
  weight: number;
  fee: number;
  vin: {
    txid: string;
    vout: number;
    prevout: { value: number } | null;
    is_coinbase: boolean;
    sequence: number;
    witness?: string[];
  }[];
  vout: { value: number; scriptpubkey_address?: string; scriptpubkey_type: string }[];
  status?: Record<string, unknown>;
}

// A fixture with known history: `owner` got a confirmed payment (mined alone in a block) and
// an unconfirmed one; its first coin is then spent to `sink`.
let owner: TestKey;
let confirmedTx: { txid: string; hex: string };
let mempoolTxid: string;
let spendTxid: string;
let blockHash: string;

beforeAll(async () => {
  lab = LabClient.fromState();
  owner = freshKey();
  confirmedTx = await lab.pay(owner.address, 250_000);
  // A second block on top, so the fixture block has a `next_best`.
  [blockHash] = (await lab.mine(2)) as [string];
  mempoolTxid = (await lab.pay(owner.address, 30_000)).txid;
  const spend = signSpend(
    owner,
    { txid: confirmedTx.txid, vout: voutPaying(confirmedTx.hex, owner.address), value: 250_000 },
    freshKey().address,
    500,
  );
  spendTxid = await (
    await fetch(`${lab.esploraUrl}/tx`, { method: 'POST', body: spend.toHex() })
  ).text();
  expect(spendTxid).toBe(spend.getId());
});

describe('esplora facade: blocks', () => {
  it('GET /blocks/tip/height and /blocks/tip/hash answer plain text', async () => {
    const height = await getText('/blocks/tip/height');
    expect(height).toMatch(/^\d+$/);
    expect(Number(height)).toBe(await lab.tipHeight());
    const hash = await getText('/blocks/tip/hash');
    expect(hash).toMatch(HEX64);
    expect(await getText(`/block-height/${height}`)).toBe(hash);
  });

  it('GET /block-height/:height is 404 "Block not found" above the tip', async () => {
    const tip = await lab.tipHeight();
    expect(await getText(`/block-height/${tip + 1000}`, 404)).toBe('Block not found');
  });

  it('GET /block/:hash has the block format fields', async () => {
    const block = await getJson(`/block/${blockHash}`);
    expect(block).toEqual({
      id: blockHash,
      height: expect.any(Number) as number,
      version: expect.any(Number) as number,
      timestamp: expect.any(Number) as number,
      tx_count: expect.any(Number) as number,
      size: expect.any(Number) as number,
      weight: expect.any(Number) as number,
      merkle_root: expect.stringMatching(HEX64) as string,
      previousblockhash: expect.stringMatching(HEX64) as string,
      nonce: expect.any(Number) as number,
      bits: 0x207fffff,
      difficulty: expect.closeTo(4.6565423739069247e-10, 20) as number,
    });
    expect(await getText(`/block-height/${block.height as number}`)).toBe(blockHash);
    expect(await getText(`/block-height/${(block.height as number) - 1}`)).toBe(
      block.previousblockhash,
    );
  });

  it('GET /block/:hash/status tells best chain, height and the next block', async () => {
    const block = await getJson<{ height: number }>(`/block/${blockHash}`);
    const next = await getText(`/block-height/${block.height + 1}`);
    expect(await getJson(`/block/${blockHash}/status`)).toEqual({
      in_best_chain: true,
      height: block.height,
      next_best: next,
    });
  });

  it('GET /block/:hash/txids, /txid/:index, /txs, /header and /raw agree with each other', async () => {
    const txids = await getJson<string[]>(`/block/${blockHash}/txids`);
    expect(txids.length).toBe(
      (await getJson<{ tx_count: number }>(`/block/${blockHash}`)).tx_count,
    );
    const index = txids.indexOf(confirmedTx.txid);
    expect(index).toBeGreaterThan(0); // 0 is the coinbase
    expect(await getText(`/block/${blockHash}/txid/${index}`)).toBe(confirmedTx.txid);

    const txs = await getJson<Tx[]>(`/block/${blockHash}/txs`);
    expect(txs.map((t) => t.txid)).toEqual(txids);
    expect(txs.every((t) => !('status' in t))).toBe(true);
    expect(txs[0]!.vin[0]).toMatchObject({ is_coinbase: true, prevout: null });

    const header = await getText(`/block/${blockHash}/header`);
    expect(header).toMatch(/^[0-9a-f]{160}$/);
    const raw = await get(`/block/${blockHash}/raw`);
    expect(raw.headers.get('content-type')).toBe('application/octet-stream');
    const block = bitcoin.Block.fromBuffer(Buffer.from(await raw.arrayBuffer()));
    expect(block.getId()).toBe(blockHash);
    expect(block.transactions?.map((t) => t.getId())).toEqual(txids);
    expect(
      Buffer.from(await (await get(`/block/${blockHash}/raw`)).arrayBuffer())
        .subarray(0, 80)
        .toString('hex'),
    ).toBe(header);
  });

  it('GET /blocks lists the 10 newest blocks, newest first', async () => {
    const blocks = await getJson<{ height: number }[]>('/blocks');
    const tip = await lab.tipHeight();
    expect(blocks.map((b) => b.height)).toEqual(Array.from({ length: 10 }, (_, i) => tip - i));
  });

  it('answers 404 for an unknown block and 400 for a malformed hash', async () => {
    expect(await getText(`/block/${'0'.repeat(63)}1`, 404)).toBe('Block not found');
    expect((await get('/block/not-a-hash')).status).toBe(400);
  });
});

describe('esplora facade: transactions', () => {
  it('GET /tx/:txid has the transaction format, with prevouts and fee', async () => {
    const tx = await getJson<Tx>(`/tx/${confirmedTx.txid}`);
    const decoded = bitcoin.Transaction.fromHex(confirmedTx.hex);
    expect(tx).toMatchObject({
      txid: confirmedTx.txid,
      version: decoded.version,
      locktime: decoded.locktime,
      size: decoded.byteLength(),
      weight: decoded.weight(),
      status: { ...statusShape, block_hash: blockHash },
    });
    for (const vin of tx.vin) {
      expect(vin).toMatchObject({
        txid: expect.stringMatching(HEX64) as string,
        vout: expect.any(Number) as number,
        is_coinbase: false,
        sequence: 0xfffffffd,
      });
      expect(vin.prevout).toEqual({
        ...voutShape(),
        scriptpubkey_address: lab.payerAddress,
        scriptpubkey_type: 'v0_p2wpkh',
      });
      expect(vin.witness).toHaveLength(2);
    }
    expect(tx.vout).toContainEqual({
      ...voutShape(),
      scriptpubkey_address: owner.address,
      scriptpubkey_type: 'v0_p2wpkh',
      value: 250_000,
    });
    const inSum = tx.vin.reduce((s, v) => s + v.prevout!.value, 0);
    const outSum = tx.vout.reduce((s, v) => s + v.value, 0);
    expect(tx.fee).toBe(inSum - outSum);
    expect(tx.fee).toBeGreaterThan(0);
  });

  it('formats scripts in esplora asm notation', async () => {
    const tx = await getJson<{ vout: { scriptpubkey: string; scriptpubkey_asm: string }[] }>(
      `/tx/${confirmedTx.txid}`,
    );
    const out = tx.vout.find((o) => o.scriptpubkey.startsWith('0014'))!;
    expect(out.scriptpubkey_asm).toBe(`OP_0 OP_PUSHBYTES_20 ${out.scriptpubkey.slice(4)}`);
  });

  it('GET /tx/:txid/status: confirmed with block fields, unconfirmed without them, unknown is {"confirmed":false}', async () => {
    expect(await getJson(`/tx/${confirmedTx.txid}/status`)).toEqual({
      ...statusShape,
      block_hash: blockHash,
    });
    expect(await getJson(`/tx/${mempoolTxid}/status`)).toEqual({ confirmed: false });
    expect(await getJson(`/tx/${'ab'.repeat(32)}/status`)).toEqual({ confirmed: false });
  });

  it('GET /tx/:txid is 404 "Transaction not found" for an unknown txid', async () => {
    expect(await getText(`/tx/${'ab'.repeat(32)}`, 404)).toBe('Transaction not found');
    expect(await getText(`/tx/${'ab'.repeat(32)}/hex`, 404)).toBe('Transaction not found');
  });

  it('GET /tx/:txid/hex and /raw return the transaction bytes', async () => {
    expect(await getText(`/tx/${confirmedTx.txid}/hex`)).toBe(confirmedTx.hex);
    const raw = await get(`/tx/${confirmedTx.txid}/raw`);
    expect(raw.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await raw.arrayBuffer()).toString('hex')).toBe(confirmedTx.hex);
  });

  it('GET /tx/:txid/outspends and /outspend/:vout report the spending transaction', async () => {
    const vout = voutPaying(confirmedTx.hex, owner.address);
    const outspends = await getJson<Record<string, unknown>[]>(`/tx/${confirmedTx.txid}/outspends`);
    expect(outspends).toHaveLength(bitcoin.Transaction.fromHex(confirmedTx.hex).outs.length);
    const expected = { spent: true, txid: spendTxid, vin: 0, status: { confirmed: false } };
    expect(outspends[vout]).toEqual(expected);
    expect(await getJson(`/tx/${confirmedTx.txid}/outspend/${vout}`)).toEqual(expected);
    expect(await getJson(`/tx/${mempoolTxid}/outspend/0`)).toEqual({ spent: false });
  });

  it("POST /tx answers 400 in esplora's error form for a transaction already known", async () => {
    const res = await fetch(`${lab.esploraUrl}/tx`, { method: 'POST', body: confirmedTx.hex });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(
      /^sendrawtransaction RPC error: \{"code":-?\d+,"message":".+"\}$/,
    );
  });
});

describe('esplora facade: addresses', () => {
  it('GET /address/:address has chain and mempool stats', async () => {
    expect(await getJson(`/address/${owner.address}`)).toEqual({
      address: owner.address,
      chain_stats: {
        funded_txo_count: 1,
        funded_txo_sum: 250_000,
        spent_txo_count: 0,
        spent_txo_sum: 0,
        tx_count: 1,
      },
      mempool_stats: {
        funded_txo_count: 1,
        funded_txo_sum: 30_000,
        spent_txo_count: 1,
        spent_txo_sum: 250_000,
        tx_count: 2,
      },
    });
  });

  it('GET /address/:address/txs lists mempool transactions first, then confirmed, newest first', async () => {
    const txs = await getJson<Tx[]>(`/address/${owner.address}/txs`);
    expect(
      txs
        .slice(0, 2)
        .map((t) => t.txid)
        .sort(),
    ).toEqual([mempoolTxid, spendTxid].sort());
    expect(txs[2]!.txid).toBe(confirmedTx.txid);
    expect(txs).toHaveLength(3);
    expect(
      (await getJson<Tx[]>(`/address/${owner.address}/txs/mempool`)).map((t) => t.txid).sort(),
    ).toEqual([mempoolTxid, spendTxid].sort());
    expect((await getJson<Tx[]>(`/address/${owner.address}/txs/chain`)).map((t) => t.txid)).toEqual(
      [confirmedTx.txid],
    );
  });

  it('GET /address/:address/utxo has the unspent outputs only, with their status', async () => {
    const utxos = await getJson(`/address/${owner.address}/utxo`);
    expect(utxos).toEqual([
      {
        txid: mempoolTxid,
        vout: expect.any(Number) as number,
        value: 30_000,
        status: { confirmed: false },
      },
    ]);
  });

  it('pages confirmed history 25 at a time with /txs/chain/:last_seen_txid', async () => {
    const busy = freshKey().address;
    const paid: string[] = [];
    for (let i = 0; i < 28; i++) {
      paid.push((await lab.pay(busy, 10_000 + i)).txid);
      if (i % 4 === 3) await lab.mine(1);
    }
    const first = await getJson<Tx[]>(`/address/${busy}/txs/chain`);
    expect(first).toHaveLength(25);
    const heights = first.map((t) => t.status!.block_height as number);
    expect([...heights].sort((a, b) => b - a)).toEqual(heights);
    const second = await getJson<Tx[]>(`/address/${busy}/txs/chain/${first[24]!.txid}`);
    expect(second).toHaveLength(3);
    expect(new Set([...first, ...second].map((t) => t.txid))).toEqual(new Set(paid));
    expect(await getJson(`/address/${busy}/txs/chain/${second[2]!.txid}`)).toEqual([]);
    // 50 mempool + 25 confirmed at most on the first page.
    expect(await getJson<Tx[]>(`/address/${busy}/txs`)).toHaveLength(25);
  });

  it('answers an address it never saw with empty lists and zero stats', async () => {
    const unseen = freshKey().address;
    expect(await getJson(`/address/${unseen}/txs`)).toEqual([]);
    expect(await getJson(`/address/${unseen}/utxo`)).toEqual([]);
    expect(
      (await getJson<{ chain_stats: { tx_count: number } }>(`/address/${unseen}`)).chain_stats
        .tx_count,
    ).toBe(0);
  });

  it('answers 400 "Invalid Bitcoin address" for a malformed or other-network address', async () => {
    expect(await getText('/address/not-an-address/txs', 400)).toBe('Invalid Bitcoin address');
    expect(await getText('/address/bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4/utxo', 400)).toBe(
      'Invalid Bitcoin address',
    );
  });
});

describe('esplora facade: mempool and fees', () => {
  it('GET /mempool/txids and /mempool describe the mempool', async () => {
    const { txid } = await lab.pay(freshKey().address, 20_000);
    const txids = await getJson<string[]>('/mempool/txids');
    expect(txids).toContain(txid);
    const stats = await getJson<{
      count: number;
      vsize: number;
      total_fee: number;
      fee_histogram: [number, number][];
    }>('/mempool');
    expect(stats.count).toBe(txids.length);
    expect(stats.vsize).toBeGreaterThan(0);
    expect(stats.total_fee).toBeGreaterThan(0);
    expect(stats.fee_histogram.reduce((s, [, vsize]) => s + vsize, 0)).toBe(stats.vsize);
  });

  it('GET /fee-estimates maps confirmation targets to sat/vB, and can be pinned by the lab', async () => {
    const estimates = await getJson<Record<string, number>>('/fee-estimates');
    for (const [target, rate] of Object.entries(estimates)) {
      expect(target).toMatch(/^\d+$/);
      expect(rate).toBeGreaterThan(0);
    }
    await lab.setFeeEstimates({ '1': 25.5, '6': 10.1, '144': 1.0 });
    try {
      expect(await getJson('/fee-estimates')).toEqual({ '1': 25.5, '6': 10.1, '144': 1.0 });
    } finally {
      await lab.setFeeEstimates(null);
    }
  });
});
