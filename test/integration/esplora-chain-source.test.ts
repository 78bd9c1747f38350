/**
 * EsploraChainSource: the chain source contract on the lab's esplora facade, then the
 * reliability it adds on top (failover, retries and their bounds, the concurrency bound, the
 * bearer token, error bodies, stats) against the lab's fault profiles and small local servers.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BroadcastRejectedError,
  type ChainSource,
  ChainSourceError,
  type ChainTransaction,
} from '../../src/chain/chain-source.js';
import { EsploraChainSource, type EsploraChainSourceOptions } from '../../src/chain/esplora.js';
import { LabClient } from '../lab/client.js';
import type { FaultConfig } from '../lab/esplora/faults.js';
import { freshKey, signSpend } from '../lab/keys.js';
import { chainSourceContract, labDriver } from '../support/chain-source-contract.js';
import { type HttpStub, type StubHandler, startHttpStub } from '../support/http-stub.js';

chainSourceContract('EsploraChainSource', () => ({
  source: new EsploraChainSource({
    baseUrls: [LabClient.fromState().esploraUrl],
    timeoutMs: 10_000,
    maxConcurrency: 8,
    retries: 3,
    network: 'regtest',
  }),
  driver: labDriver(LabClient.fromState()),
}));

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

let lab: LabClient;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** Fast defaults for tests: short waits, a few retries. */
function client(
  baseUrls: string[],
  options: Partial<EsploraChainSourceOptions> = {},
): EsploraChainSource {
  return new EsploraChainSource({
    baseUrls,
    timeoutMs: 3_000,
    maxConcurrency: 4,
    retries: 3,
    baseDelayMs: 20,
    maxDelayMs: 200,
    ...options,
  });
}

/** Records every wait; waits for real unless told not to. */
function recordingSleep(real = true): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms) => {
      waits.push(ms);
      return real ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
    },
  };
}

async function faultProfile(config: FaultConfig): Promise<{ name: string; base: string }> {
  const name = `ecs${randomBytes(5).toString('hex')}`;
  const base = await lab.faults(name, config);
  cleanups.push(() => lab.clearFaults(name));
  return { name, base };
}

async function stub(handler: StubHandler): Promise<HttpStub> {
  const server = await startHttpStub(handler);
  cleanups.push(() => server.close());
  return server;
}

/** A server with full control over headers (the stub helper sets only the content type). */
async function rawServer(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A URL on which nothing listens (a port just closed). */
async function deadUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return `http://127.0.0.1:${port}`;
}

/** A minimal esplora transaction as `/address/:a/txs` serves it. */
function esploraTx(txid: string, address: string, confirmed: boolean): Record<string, unknown> {
  return {
    txid,
    version: 2,
    locktime: 0,
    vin: [{ txid: HASH_A, vout: 0, sequence: 0xffffffff, is_coinbase: false, prevout: null }],
    vout: [{ scriptpubkey: `0014${'11'.repeat(20)}`, scriptpubkey_address: address, value: 1000 }],
    size: 222,
    weight: 561,
    fee: 141,
    status: confirmed
      ? { confirmed: true, block_height: 100, block_hash: HASH_B, block_time: 1_700_000_000 }
      : { confirmed: false },
  };
}

const txidN = (n: number) => n.toString(16).padStart(64, '0');

// A fixture that no other test touches: an address with two confirmed payments.
let fixture: { address: string; txid: string; height: number };
interface Probe {
  history: ChainTransaction[];
  tx: ChainTransaction | undefined;
  status: Awaited<ReturnType<ChainSource['transactionStatus']>>;
  hash: string | undefined;
}
let reference: Probe;

/** Answers whose right values are known (from the healthy URL). */
async function probe(source: ChainSource): Promise<Probe> {
  const history = await source.addressTransactions(fixture.address);
  const tx = await source.transaction(fixture.txid);
  const status = await source.transactionStatus(fixture.txid);
  const hash = await source.blockHashAt(fixture.height);
  return { history: history.sort((a, b) => a.txid.localeCompare(b.txid)), tx, status, hash };
}

beforeAll(async () => {
  lab = LabClient.fromState();
  const address = freshKey().address;
  const { txid } = await lab.pay(address, 41_000);
  await lab.pay(address, 42_000, { rbf: false });
  const [hash] = (await lab.mine(1)) as [string];
  const { height } = await lab.rpc.call<{ height: number }>('getblockheader', hash, true);
  fixture = { address, txid, height };
  reference = await probe(client([lab.esploraUrl]));
  expect(reference.history).toHaveLength(2);
  expect(reference.status.confirmed).toBe(true);
});

describe('EsploraChainSource failover', () => {
  it('answers through the second URL when the first one is dead', async () => {
    const source = client([await deadUrl(), lab.esploraUrl]);
    expect(await probe(source)).toEqual(reference);
    expect(source.stats().outcomes.network).toBe(1);
  });

  it('keeps using the URL that answered instead of trying the dead one first again', async () => {
    const source = client([await deadUrl(), lab.esploraUrl]);
    await source.blockHashAt(0);
    expect(source.currentBaseUrl).toBe(lab.esploraUrl);
    source.resetStats();
    expect(await probe(source)).toEqual(reference);
    expect(source.stats()).toMatchObject({ retries: 0, outcomes: { ok: 4 } });
    expect(source.stats().outcomes.network).toBeUndefined();
  });

  it('fails over at once, without waiting, when the next URL is healthy', async () => {
    const { waits, sleep } = recordingSleep();
    const source = client([await deadUrl(), lab.esploraUrl], { sleep });
    await probe(source);
    expect(waits).toEqual([]);
  });

  it('strips trailing slashes from base URLs', async () => {
    const source = client([`${lab.esploraUrl}///`]);
    expect(source.baseUrls).toEqual([lab.esploraUrl]);
    expect(await probe(source)).toEqual(reference);
  });
});

describe('EsploraChainSource under a 429 storm', () => {
  it('still answers correctly on its only URL, waiting as long as Retry-After asks', async () => {
    const { name, base } = await faultProfile({ rate429: 0.5, seed: 1 });
    const { waits, sleep } = recordingSleep();
    const source = client([base], { retries: 6, maxDelayMs: 1500, sleep });
    expect(await probe(source)).toEqual(reference);
    const injected = (await lab.faultStats(name)).injected['429'];
    expect(injected).toBeGreaterThan(0);
    expect(waits).toHaveLength(injected);
    for (const wait of waits) expect(wait).toBe(1000); // the facade's Retry-After: 1
  });

  it('moves to a healthy second URL and stays there', async () => {
    const { name, base } = await faultProfile({ rate429: 0.5, seed: 1 });
    const source = client([base, lab.esploraUrl]);
    expect(await probe(source)).toEqual(reference);
    expect(await probe(source)).toEqual(reference);
    expect((await lab.faultStats(name)).injected['429']).toBe(1);
    expect(source.currentBaseUrl).toBe(lab.esploraUrl);
  });
});

describe('EsploraChainSource retries', () => {
  const partial: [string, FaultConfig, number][] = [
    ['server errors', { rate5xx: 0.4, seed: 3 }, 3000],
    ['timeouts', { rateTimeout: 0.3, timeoutHoldMs: 3000, seed: 4 }, 600],
    ['truncated bodies', { rateTruncated: 0.4, seed: 5 }, 3000],
    ['malformed bodies', { rateMalformed: 0.4, seed: 6 }, 3000],
  ];

  it.each(partial)(
    'answers correctly through %s at a partial rate',
    async (_kind, config, timeoutMs) => {
      const { name, base } = await faultProfile(config);
      const source = client([base], { retries: 5, timeoutMs });
      expect(await probe(source)).toEqual(reference);
      const faults = await lab.faultStats(name);
      const injected = Object.values(faults.injected).reduce((sum, n) => sum + n, 0);
      expect(injected).toBeGreaterThan(0);
      const stats = source.stats();
      expect(stats.retries).toBe(injected);
      expect(Object.values(stats.requests).reduce((sum, n) => sum + n, 0)).toBe(faults.requests);
    },
  );

  /** The fault, the client timeout, and the statuses the final error may carry. */
  const total: [string, FaultConfig, number, (number | undefined)[]][] = [
    ['a server error', { rate5xx: 1 }, 3000, [500, 502, 503]],
    ['a timeout', { rateTimeout: 1, timeoutHoldMs: 5000 }, 300, [undefined]],
    ['a truncated body', { rateTruncated: 1 }, 3000, [undefined]],
    ['a malformed body', { rateMalformed: 1 }, 3000, [200]],
  ];

  it.each(total)(
    'gives up with ChainSourceError after bounded time when every answer is %s',
    async (_kind, config, timeoutMs, statuses) => {
      const { base } = await faultProfile(config);
      const retries = 2;
      const source = client([base], { retries, timeoutMs, baseDelayMs: 50, maxDelayMs: 200 });
      const error = await source.addressTransactions(fixture.address).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChainSourceError);
      const failure = error as ChainSourceError;
      expect(failure.endpoint).toBe('/address/:a/txs');
      expect(failure.message).toContain('/address/:a/txs');
      expect(failure.message).not.toContain(fixture.address);
      expect(statuses).toContain(failure.status);
      expect(source.stats().requests).toEqual({ '/address/:a/txs': retries + 1 });
      expect(source.stats().failures).toEqual({ '/address/:a/txs': 1 });
      // The attempts are counted above; how long they took depends on the machine's load.
    },
  );

  it('waits longer after each failed round, with jitter, up to maxDelayMs', async () => {
    let failures = 5;
    const server = await stub(() =>
      failures-- > 0 ? { status: 503, body: 'Service Unavailable' } : { body: HASH_A },
    );
    const { waits, sleep } = recordingSleep(false);
    const source = client([server.url], {
      retries: 5,
      baseDelayMs: 200,
      maxDelayMs: 1500,
      sleep,
      random: () => 0.5,
    });
    expect(await source.blockHashAt(7)).toBe(HASH_A);
    // Ceilings 200, 400, 800, then capped at 1500; with jitter 0.5 each wait is ¾ of its ceiling.
    expect(waits).toEqual([150, 300, 600, 1125, 1125]);
  });

  it('honours Retry-After, but waits no longer than maxDelayMs', async () => {
    const retryAfter = ['1', '60'];
    const url = await rawServer((_req, res) => {
      const seconds = retryAfter.shift();
      if (seconds === undefined) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(HASH_A);
      } else {
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': seconds });
        res.end('Too Many Requests');
      }
    });
    const { waits, sleep } = recordingSleep(false);
    const source = client([url], { baseDelayMs: 20, maxDelayMs: 1500, sleep, random: () => 0 });
    expect(await source.blockHashAt(7)).toBe(HASH_A);
    expect(waits).toEqual([1000, 1500]);
  });

  it('retries valid JSON that does not have the shape of a transaction', async () => {
    const txid = txidN(1);
    const answers = ['{"txid": 5}', '[]', JSON.stringify(esploraTx(txid, 'bcrt1qx', true))];
    const server = await stub(() => ({ body: answers.shift() ?? 'null' }));
    const source = client([server.url]);
    expect((await source.transaction(txid))?.txid).toBe(txid);
    expect(server.requests).toHaveLength(3);
    expect(source.stats().outcomes).toEqual({ malformed: 2, ok: 1 });
  });

  it('retries a tip height that is not a number', async () => {
    const heights = ['<html>oops</html>', '812345'];
    const server = await stub((req) =>
      req.url === '/blocks/tip/height'
        ? { body: heights.shift() ?? '812345', type: 'text/plain' }
        : { body: HASH_A, type: 'text/plain' },
    );
    expect(await client([server.url]).tip()).toEqual({ height: 812345, hash: HASH_A });
  });

  it('reads the tip again when a block arrives between its height and its hash', async () => {
    const heights = ['100', '101', '101'];
    const hashes = [HASH_A, HASH_B];
    const server = await stub((req) => ({
      type: 'text/plain',
      body: (req.url === '/blocks/tip/height' ? heights.shift() : hashes.shift()) ?? 'x',
    }));
    expect(await client([server.url]).tip()).toEqual({ height: 101, hash: HASH_B });
  });
});

describe('EsploraChainSource answers that are not retried', () => {
  it('does not retry a 400 and reports its status and text', async () => {
    const server = await stub(() => ({
      status: 400,
      body: 'Invalid Bitcoin address',
      type: 'text/plain',
    }));
    const error = await client([server.url])
      .addressTransactions('bc1qnotours')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainSourceError);
    expect((error as ChainSourceError).status).toBe(400);
    expect((error as ChainSourceError).message).toContain('Invalid Bitcoin address');
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['plain text', 'Transaction not found', 'text/plain'],
    ['JSON', '{"error":"Transaction not found"}', 'application/json'],
  ])('treats a 404 with a %s body as an unknown transaction', async (_form, body, type) => {
    const server = await stub(() => ({ status: 404, body, type }));
    const source = client([server.url]);
    expect(await source.transaction(txidN(9))).toBeUndefined();
    expect(await source.blockHashAt(10_000_000)).toBeUndefined();
    expect(server.requests).toHaveLength(2);
  });

  it('refuses an address of another network before asking anyone', async () => {
    const server = await stub(() => ({ body: '[]' }));
    const source = client([server.url], { network: 'regtest' });
    await expect(
      source.addressTransactions('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'),
    ).rejects.toBeInstanceOf(ChainSourceError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('EsploraChainSource broadcast', () => {
  const spend = signSpend(
    freshKey(),
    { txid: HASH_A, vout: 0, value: 50_000 },
    freshKey().address,
    1_000,
  );

  it.each([
    [
      "esplora's text form",
      'sendrawtransaction RPC error: {"code":-26,"message":"min relay fee not met, 100 < 141"}',
      -26,
      'min relay fee not met, 100 < 141',
    ],
    [
      'a JSON body',
      '{"code":-25,"message":"bad-txns-inputs-missingorspent"}',
      -25,
      'bad-txns-inputs-missingorspent',
    ],
    ['a nested JSON error', '{"error":{"code":-26,"message":"dust"}}', -26, 'dust'],
    ['plain text', 'Invalid hex string', undefined, 'Invalid hex string'],
  ])(
    'reads the code and reason of a rejection in %s, without retrying it',
    async (_form, body, code, reason) => {
      const server = await stub(() => ({ status: 400, body, type: 'text/plain' }));
      const error = await client([server.url])
        .broadcast(spend.toHex())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BroadcastRejectedError);
      expect(error).toMatchObject({ code, reason });
      expect(server.requests).toHaveLength(1);
    },
  );

  it('posts the hex as text/plain', async () => {
    const server = await stub(() => ({ body: spend.getId(), type: 'text/plain' }));
    expect(await client([server.url]).broadcast(spend.toHex())).toBe(spend.getId());
    expect(server.requests[0]).toMatchObject({ method: 'POST', url: '/tx', body: spend.toHex() });
    expect(server.requests[0]!.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('retries a broadcast that met a server error', async () => {
    const statuses = [502];
    const server = await stub(() => {
      const status = statuses.shift();
      return status ? { status, body: 'Bad Gateway' } : { body: spend.getId(), type: 'text/plain' };
    });
    expect(await client([server.url]).broadcast(spend.toHex())).toBe(spend.getId());
    expect(server.requests).toHaveLength(2);
  });

  it('returns the txid when a retry finds the node already has the transaction', async () => {
    let first = true;
    const server = await stub(() => {
      if (first) {
        first = false;
        return { body: spend.getId(), delayMs: 1000 }; // the answer is lost to the client timeout
      }
      return {
        status: 400,
        type: 'text/plain',
        body: `sendrawtransaction RPC error: {"code":-26,"message":"TX rejected: already have transaction in mempool ${spend.getId()}"}`,
      };
    });
    const source = client([server.url], { timeoutMs: 200 });
    expect(await source.broadcast(spend.toHex())).toBe(spend.getId());
    expect(source.stats().outcomes).toEqual({ timeout: 1, answer: 1 });
  });
});

describe('EsploraChainSource bearer token', () => {
  const token = 'tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0';

  it('sends the token as a bearer Authorization header on every request', async () => {
    const server = await stub((req) => ({
      type: 'text/plain',
      body: req.url === '/blocks/tip/height' ? '100' : HASH_A,
    }));
    const source = client([server.url], { bearerToken: token });
    await source.tip();
    await source.broadcast(spend().toHex());
    expect(server.requests.length).toBeGreaterThanOrEqual(4);
    for (const request of server.requests)
      expect(request.headers.authorization).toBe(`Bearer ${token}`);
  });

  it('sends no Authorization header without a token', async () => {
    const server = await stub(() => ({ type: 'text/plain', body: HASH_A }));
    await client([server.url]).blockHashAt(1);
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('keeps the token out of errors, even when the server echoes it back', async () => {
    const server = await stub((req) => ({
      status: req.url?.startsWith('/blocks') ? 503 : req.method === 'POST' ? 400 : 401,
      type: 'text/plain',
      body: `denied for ${String(req.headers.authorization)}`,
    }));
    const source = client([server.url], { bearerToken: token, retries: 1 });
    const errors = await Promise.all([
      source.tip().catch((e: unknown) => e),
      source.addressTransactions('bcrt1qanything').catch((e: unknown) => e),
      source.broadcast(spend().toHex()).catch((e: unknown) => e),
    ]);
    expect(errors[0]).toBeInstanceOf(ChainSourceError);
    expect(errors[1]).toMatchObject({ status: 401 });
    expect(errors[2]).toBeInstanceOf(BroadcastRejectedError);
    expect((errors[2] as BroadcastRejectedError).reason).toBe('denied for Bearer [redacted]');
    for (const error of errors) {
      const text = `${String(error)} ${(error as Error).stack ?? ''} ${JSON.stringify(error)}`;
      expect(text).not.toContain(token);
    }
  });

  function spend() {
    return signSpend(freshKey(), { txid: HASH_B, vout: 0, value: 9_000 }, freshKey().address, 500);
  }
});

describe('EsploraChainSource concurrency', () => {
  it.each([1, 3])(
    'keeps at most maxConcurrency (%i) requests in flight however many calls wait',
    async (maxConcurrency) => {
      let inFlight = 0;
      let most = 0;
      const server = await stub(() => {
        inFlight++;
        most = Math.max(most, inFlight);
        setTimeout(() => inFlight--, 60); // registered before the stub's own 60 ms answer timer
        return { type: 'text/plain', body: HASH_A, delayMs: 60 };
      });
      const source = client([server.url], { maxConcurrency });
      const hashes = await Promise.all(Array.from({ length: 10 }, (_, i) => source.blockHashAt(i)));
      expect(hashes).toEqual(Array.from({ length: 10 }, () => HASH_A));
      expect(server.requests).toHaveLength(10);
      expect(most).toBe(maxConcurrency);
    },
  );
});

describe('EsploraChainSource address history paging', () => {
  it('follows last_seen_txid pages until one has fewer than 25 confirmed transactions', async () => {
    const address = 'bcrt1qpaging';
    const mempool = [esploraTx(txidN(1000), address, false)];
    const chain = Array.from({ length: 53 }, (_, i) => esploraTx(txidN(i + 1), address, true));
    const server = await stub((req) => {
      const url = req.url ?? '';
      if (url === `/address/${address}/txs`)
        return { body: JSON.stringify([...mempool, ...chain.slice(0, 25)]) };
      const lastSeen = /\/txs\/chain\/([0-9a-f]{64})$/.exec(url)?.[1];
      const start = chain.findIndex((tx) => tx.txid === lastSeen) + 1;
      return { body: JSON.stringify(chain.slice(start, start + 25)) };
    });
    const txs = await client([server.url]).addressTransactions(address);
    expect(txs.map((tx) => tx.txid).sort()).toEqual(
      [txidN(1000), ...chain.map((tx) => tx.txid as string)].sort(),
    );
    expect(server.requests.map((r) => r.url)).toEqual([
      `/address/${address}/txs`,
      `/address/${address}/txs/chain/${txidN(25)}`,
      `/address/${address}/txs/chain/${txidN(50)}`,
    ]);
  });

  it('fails rather than loop when a server ignores last_seen_txid', async () => {
    const address = 'bcrt1qstuck';
    const page = JSON.stringify(
      Array.from({ length: 25 }, (_, i) => esploraTx(txidN(i + 1), address, true)),
    );
    const server = await stub(() => ({ body: page }));
    const error = await client([server.url])
      .addressTransactions(address)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChainSourceError);
    expect(server.requests).toHaveLength(2);
  });

  it('maps outputs, RBF signalling, fee and vsize from esplora’s transaction format', async () => {
    const address = 'bcrt1qmapping';
    const tx = esploraTx(txidN(5), address, false);
    tx.vin = [
      { txid: txidN(1), vout: 0, sequence: 0xffffffff },
      { txid: txidN(2), vout: 3, sequence: 0xfffffffd },
    ];
    tx.vout = [
      { scriptpubkey: '6a0474657374', value: 0 },
      { scriptpubkey: `0014${'22'.repeat(20)}`, scriptpubkey_address: address, value: 7_000 },
    ];
    const server = await stub(() => ({ body: JSON.stringify([tx]) }));
    expect(await client([server.url]).addressTransactions(address)).toEqual([
      {
        txid: txidN(5),
        status: { confirmed: false },
        outputs: [
          { vout: 0, script: '6a0474657374', valueSats: 0 },
          { vout: 1, address, script: `0014${'22'.repeat(20)}`, valueSats: 7_000 },
        ],
        spends: [
          { txid: txidN(1), vout: 0 },
          { txid: txidN(2), vout: 3 },
        ],
        signalsRbf: true,
        feeSats: 141,
        vsize: 141, // ceil(561 / 4)
      },
    ]);
  });
});

describe('EsploraChainSource stats', () => {
  it('counts calls, requests, outcomes and retries per endpoint pattern', async () => {
    let addressFailures = 1;
    const server = await stub((req) => {
      const url = req.url ?? '';
      if (url === '/blocks/tip/height') return { type: 'text/plain', body: '100' };
      if (url === '/blocks/tip/hash') return { type: 'text/plain', body: HASH_A };
      if (url.startsWith('/address/'))
        return addressFailures-- > 0 ? { status: 503, body: 'busy' } : { body: '[]' };
      return { status: 404, type: 'text/plain', body: 'Transaction not found' };
    });
    const source = client([server.url]);
    await source.tip();
    await source.addressTransactions('bcrt1qstats');
    await source.transaction(txidN(3));
    expect(source.stats()).toEqual({
      calls: {
        '/blocks/tip/height': 2,
        '/blocks/tip/hash': 1,
        '/address/:a/txs': 1,
        '/tx/:txid': 1,
      },
      requests: {
        '/blocks/tip/height': 2,
        '/blocks/tip/hash': 1,
        '/address/:a/txs': 2,
        '/tx/:txid': 1,
      },
      outcomes: { ok: 4, 'server-error': 1, answer: 1 },
      failures: {},
      refusedBlocks: {},
      retries: 1,
    });
  });

  it('starts counting from zero after resetStats', async () => {
    const server = await stub(() => ({ type: 'text/plain', body: HASH_A }));
    const source = client([server.url]);
    await source.blockHashAt(1);
    source.resetStats();
    expect(source.stats()).toEqual({
      calls: {},
      requests: {},
      outcomes: {},
      failures: {},
      refusedBlocks: {},
      retries: 0,
    });
  });
});
