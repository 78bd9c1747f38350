/**
 * Proves the lab is real: btcd validates what the payer signs, the esplora facade reports
 * mempool, confirmations and reorgs, and btcd refuses invalid and non-standard transactions.
 */
import * as bitcoin from 'bitcoinjs-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { LabClient } from './client.js';
import { freshKey, signSpend, voutPaying } from './keys.js';

const freshSegwitAddress = () => freshKey().address;

let lab: LabClient;
let esplora: (path: string, init?: RequestInit) => Promise<Response>;

beforeAll(() => {
  lab = LabClient.fromState();
  esplora = (path, init) => fetch(`${lab.esploraUrl}${path}`, init);
});

async function getJson<T>(path: string): Promise<T> {
  const res = await esplora(path);
  expect(res.status, `GET ${path}`).toBe(200);
  return (await res.json()) as T;
}

async function tipHeight(): Promise<number> {
  return Number(await (await esplora('/blocks/tip/height')).text());
}

interface TxStatus {
  confirmed: boolean;
  block_height?: number;
  block_hash?: string;
}

describe('lab chain', () => {
  it('shows a payment to a native segwit address in the mempool, then with 3 confirmations after 3 blocks', async () => {
    const address = freshSegwitAddress();
    const { txid } = await lab.pay(address, 123_456);

    const mempoolTxs = await getJson<
      { txid: string; status: TxStatus; vout: { value: number; scriptpubkey_address?: string }[] }[]
    >(`/address/${address}/txs`);
    expect(mempoolTxs.map((t) => t.txid)).toEqual([txid]);
    expect(mempoolTxs[0]!.status).toEqual({ confirmed: false });
    expect(mempoolTxs[0]!.vout.find((o) => o.scriptpubkey_address === address)?.value).toBe(
      123_456,
    );
    expect(await getJson<string[]>('/mempool/txids')).toContain(txid);

    await lab.mine(3);
    const status = await getJson<TxStatus>(`/tx/${txid}/status`);
    expect(status.confirmed).toBe(true);
    const confirmations = (await tipHeight()) - status.block_height! + 1;
    expect(confirmations).toBe(3);
    expect(await getJson<string[]>('/mempool/txids')).not.toContain(txid);
  });

  it('pays in several transactions that add up at one address', async () => {
    const address = freshSegwitAddress();
    const first = await lab.pay(address, 40_000);
    const second = await lab.pay(address, 60_000, { rbf: false });
    const utxos = await getJson<{ txid: string; value: number }[]>(`/address/${address}/utxo`);
    expect(utxos.map((u) => u.txid).sort()).toEqual([first.txid, second.txid].sort());
    expect(utxos.reduce((sum, u) => sum + u.value, 0)).toBe(100_000);
    const tx = await getJson<{ vin: { sequence: number }[] }>(`/tx/${second.txid}`);
    expect(tx.vin.every((v) => v.sequence === 0xffffffff)).toBe(true);
  });

  it('has btcd reject a transaction with a bad signature through POST /tx, and accept the good one', async () => {
    const owner = freshKey();
    const { txid, hex } = await lab.pay(owner.address, 50_000);
    const coin = { txid, vout: voutPaying(hex, owner.address), value: 50_000 };
    const good = signSpend(owner, coin, lab.payerAddress, 1_000);
    const bad = bitcoin.Transaction.fromHex(good.toHex());
    const sig = Buffer.from(bad.ins[0]!.witness[0]!);
    sig[10] = sig[10]! ^ 0x01; // inside r of the DER signature
    bad.ins[0]!.witness[0] = sig;

    const rejected = await esplora('/tx', { method: 'POST', body: bad.toHex() });
    expect(rejected.status).toBe(400);
    const body = await rejected.text();
    expect(body).toMatch(/^sendrawtransaction RPC error: \{"code":-?\d+,"message":".+"\}$/);
    expect(body.toLowerCase()).toMatch(/signature|script/);
    expect((await esplora(`/tx/${bad.getId()}`)).status).toBe(404);

    const accepted = await esplora('/tx', { method: 'POST', body: good.toHex() });
    expect(accepted.status).toBe(200);
    expect(await accepted.text()).toBe(good.getId());
  });

  it('has btcd reject a non-standard transaction (dust output) because of --rejectnonstd', async () => {
    await expect(lab.pay(freshSegwitAddress(), 100)).rejects.toThrow(/dust/i);
  });

  it('turns a confirmed transaction unconfirmed when its block is invalidated, and back on reconsider', async () => {
    const address = freshSegwitAddress();
    const { txid } = await lab.pay(address, 77_000);
    const [blockHash] = await lab.mine(1);
    const confirmed = await getJson<TxStatus>(`/tx/${txid}/status`);
    expect(confirmed).toMatchObject({ confirmed: true, block_hash: blockHash });
    const heightBefore = await tipHeight();

    await lab.invalidateBlock(blockHash!);
    expect(await tipHeight()).toBe(heightBefore - 1);
    expect(await getJson<TxStatus>(`/tx/${txid}/status`)).toEqual({ confirmed: false });
    expect(await getJson<{ in_best_chain: boolean }>(`/block/${blockHash}/status`)).toEqual({
      in_best_chain: false,
    });
    const txs = await getJson<{ txid: string; status: TxStatus }[]>(`/address/${address}/txs`);
    expect(txs).toEqual([expect.objectContaining({ txid, status: { confirmed: false } })]);

    await lab.reconsiderBlock(blockHash!);
    expect(await getJson<TxStatus>(`/tx/${txid}/status`)).toMatchObject({
      confirmed: true,
      block_hash: blockHash,
    });
  });

  it('replaces an RBF payment so the first transaction disappears', async () => {
    const address = freshSegwitAddress();
    const original = await lab.pay(address, 90_000);
    const replacement = await lab.replace(original.txid);
    expect(replacement.feeRate).toBeGreaterThan(original.feeRate);
    expect((await esplora(`/tx/${original.txid}`)).status).toBe(404);
    expect(await getJson<TxStatus>(`/tx/${original.txid}/status`)).toEqual({ confirmed: false });
    expect(await getJson<unknown[]>(`/address/${address}/txs`)).toEqual([]);
    expect((await getJson<{ txid: string }>(`/tx/${replacement.txid}`)).txid).toBe(
      replacement.txid,
    );
  });

  it('refuses to replace a payment that did not signal RBF', async () => {
    const original = await lab.pay(freshSegwitAddress(), 90_000, { rbf: false });
    await expect(lab.replace(original.txid)).rejects.toThrow(/replace|rbf|125|signal/i);
  });
});
