/**
 * EsploraChainSource's block scan calls on the lab: what one call costs in requests, and what
 * happens when a server lies about a block (the facade's tamperBlock and badPow fault profiles).
 */
import * as bitcoin from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/chain/budget.js';
import { BlockVerificationError } from '../../src/chain/chain-source.js';
import { EsploraChainSource, type EsploraChainSourceOptions } from '../../src/chain/esplora.js';
import { LabClient } from '../lab/client.js';
import { FORGED_BITS, type FaultConfig } from '../lab/esplora/faults.js';
import { freshKey } from '../lab/keys.js';

let lab: LabClient;
let host: string;
const profiles: string[] = [];

beforeAll(() => {
  lab = LabClient.fromState();
  host = new URL(lab.esploraUrl).host;
});

afterAll(async () => {
  await Promise.all(profiles.map((name) => lab.clearFaults(name)));
});

function client(
  baseUrls: string[],
  options: Partial<EsploraChainSourceOptions> = {},
): EsploraChainSource {
  return new EsploraChainSource({
    baseUrls,
    timeoutMs: 10_000,
    maxConcurrency: 4,
    retries: 2,
    baseDelayMs: 10,
    maxDelayMs: 50,
    network: 'regtest',
    ...options,
  });
}

async function profile(config: FaultConfig): Promise<{ name: string; url: string }> {
  const name = `blocks-${profiles.length}-${Date.now()}`;
  profiles.push(name);
  return { name, url: await lab.faults(name, config) };
}

/** A block with a payment of ours in it (so it has a non-coinbase transaction to tamper). */
async function minedPayment(): Promise<{ hash: string; txid: string; script: string }> {
  const key = freshKey();
  const { txid } = await lab.pay(key.address, 35_000);
  const [hash] = (await lab.mine(1)) as [string];
  return { hash, txid, script: Buffer.from(key.output).toString('hex') };
}

describe('EsploraChainSource block scan calls', () => {
  it('asks for the tip hash with one request', async () => {
    const source = client([lab.esploraUrl]);
    expect(await source.tipHash()).toBe(await lab.rpc.call<string>('getbestblockhash'));
    expect(source.stats().requests).toEqual({ '/blocks/tip/hash': 1 });
  });

  it('fetches a block raw with one request, verified, with our payment in it', async () => {
    const { hash, txid, script } = await minedPayment();
    const source = client([lab.esploraUrl]);
    const block = await source.block(hash);
    expect(source.stats().requests).toEqual({ '/block/:hash/raw': 1 });
    expect(block?.hash).toBe(hash);
    const paid = block?.transactions.find((tx) => tx.txid === txid);
    expect(paid?.outputs.map((o) => o.script)).toContain(script);
  });

  it('takes a raw block from the next URL when the first one cuts the body short', async () => {
    const { hash } = await minedPayment();
    const flaky = await profile({ rateTruncated: 1, pathPattern: '/raw$' });
    const source = client([flaky.url, lab.esploraUrl]);
    expect((await source.block(hash))?.hash).toBe(hash);
    const stats = source.stats();
    // A cut connection is an outage, retried elsewhere; not a lie about the block.
    expect(stats.requests['/block/:hash/raw']).toBe(2);
    expect(stats.outcomes.ok).toBe(1);
    expect(stats.refusedBlocks).toEqual({});
    expect((await lab.faultStats(flaky.name)).injected.truncated).toBe(1);
  });

  it('answers undefined for a block hash the server does not know', async () => {
    const source = client([lab.esploraUrl]);
    expect(await source.block('00'.repeat(32))).toBeUndefined();
    expect(source.stats().outcomes).toEqual({ answer: 1 });
  });

  it('records every request it sends, retries included, in the request budget', async () => {
    const failing = await profile({ rate5xx: 1 });
    const budget = new RequestBudget(600);
    const source = client([failing.url, lab.esploraUrl], { budget });
    await source.tipHash();
    await source.tipHeight();
    const sent = Object.values(source.stats().requests).reduce((a, b) => a + b, 0);
    expect(sent).toBe(3); // the failing URL once, then the good one (preferred from then on)
    expect(budget.used(Date.now())).toBe(sent);
    expect(budget.remaining(Date.now())).toBe(600 - sent);
  });
});

describe('EsploraChainSource refuses blocks a server forged', () => {
  it('takes the block from the next URL when the first one tampered with it, and counts the refusal', async () => {
    const { hash, txid } = await minedPayment();
    const liar = await profile({ tamperBlock: 1 });
    const told: BlockVerificationError[] = [];
    const source = client([liar.url, lab.esploraUrl], { onBlockRefused: (e) => told.push(e) });
    const block = await source.block(hash);
    expect(told).toMatchObject([{ hash, source: host }]);
    expect(block?.hash).toBe(hash);
    expect(block?.transactions.map((tx) => tx.txid)).toContain(txid);
    const stats = source.stats();
    expect(stats.refusedBlocks).toEqual({ [host]: 1 });
    expect(stats.outcomes['invalid-block']).toBe(1);
    expect(stats.requests['/block/:hash/raw']).toBe(2);
    expect((await lab.faultStats(liar.name)).injected.tamperBlock).toBe(1);
  });

  it('throws BlockVerificationError naming the reason and the host when every URL tampers', async () => {
    const { hash } = await minedPayment();
    const first = await profile({ tamperBlock: 1 });
    const second = await profile({ tamperBlock: 1 });
    const source = client([first.url, second.url]);
    const error = await source.block(hash).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlockVerificationError);
    expect(error).toMatchObject({ hash, source: host });
    expect((error as BlockVerificationError).reason).toMatch(/merkle root/);
    // A server that lied is not asked again in the same call, whatever the retries.
    expect(source.stats().requests['/block/:hash/raw']).toBe(2);
    expect(source.stats().refusedBlocks).toEqual({ [host]: 2 });
  });

  it('refuses the forged tip block of a server whose header does not meet its bits', async () => {
    const liar = await profile({ badPow: true });
    const source = client([liar.url]);
    const forged = await source.tipHash();
    expect(forged).not.toBe(await lab.rpc.call<string>('getbestblockhash'));
    const error = await source.block(forged).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BlockVerificationError);
    expect((error as BlockVerificationError).reason).toMatch(/does not meet its target/);
    expect(source.stats().refusedBlocks).toEqual({ [host]: 1 });
  });

  it('answers undefined for a forged tip that an honest second URL does not know', async () => {
    const liar = await profile({ badPow: true });
    const source = client([liar.url, lab.esploraUrl]);
    const forged = await source.tipHash();
    expect(await source.block(forged)).toBeUndefined();
    expect(source.stats().refusedBlocks).toEqual({ [host]: 1 });
  });
});

describe('lab fault profiles that lie about blocks', () => {
  it('tamperBlock keeps the header and breaks the merkle root', async () => {
    const { hash } = await minedPayment();
    const liar = await profile({ tamperBlock: 1 });
    const honest = Buffer.from(
      await (await fetch(`${lab.esploraUrl}/block/${hash}/raw`)).arrayBuffer(),
    );
    const tampered = Buffer.from(
      await (await fetch(`${liar.url}/block/${hash}/raw`)).arrayBuffer(),
    );
    expect(tampered.length).toBe(honest.length);
    expect(tampered.subarray(0, 80)).toEqual(honest.subarray(0, 80));
    expect(tampered.equals(honest)).toBe(false);
    const block = bitcoin.Block.fromBuffer(tampered);
    expect(block.getId()).toBe(hash);
    expect(block.checkTxRoots()).toBe(false);
  });

  it('badPow names a forged tip whose header is the real one with bits 0x1d00ffff', async () => {
    const liar = await profile({ badPow: true });
    const real = await lab.rpc.call<string>('getbestblockhash');
    const forged = (await (await fetch(`${liar.url}/blocks/tip/hash`)).text()).trim();
    const raw = await fetch(`${liar.url}/block/${forged}/raw`);
    expect(raw.headers.get('content-type')).toBe('application/octet-stream');
    const block = bitcoin.Block.fromBuffer(Buffer.from(await raw.arrayBuffer()));
    expect(block.getId()).toBe(forged);
    expect(block.bits).toBe(FORGED_BITS);
    expect(block.checkProofOfWork()).toBe(false);
    const header = await (await fetch(`${lab.esploraUrl}/block/${real}/header`)).text();
    expect(block.toHex(true).slice(0, 144)).toBe(header.slice(0, 144));
    expect((await lab.faultStats(liar.name)).injected.badPow).toBe(1);
  });
});
