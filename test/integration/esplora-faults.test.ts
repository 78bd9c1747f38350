/** The facade's fault injection produces each failure mode a chain client must survive. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LabClient } from '../lab/client.js';

let lab: LabClient;
const profiles: string[] = [];

beforeAll(() => {
  lab = LabClient.fromState();
});

afterEach(async () => {
  await Promise.all(profiles.splice(0).map((name) => lab.clearFaults(name)));
});

async function profile(config: Parameters<LabClient['faults']>[1]): Promise<string> {
  const name = `t${Math.random().toString(36).slice(2, 10)}`;
  profiles.push(name);
  return lab.faults(name, config);
}

describe('esplora fault injection', () => {
  it('answers 429 with Retry-After', async () => {
    const base = await profile({ rate429: 1 });
    const res = await fetch(`${base}/blocks/tip/height`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('answers 5xx, cycling through 500, 502 and 503', async () => {
    const base = await profile({ rate5xx: 1 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${base}/blocks/tip/height`)).status);
    expect(statuses.sort()).toEqual([500, 502, 503]);
  });

  it('holds the connection without answering, then drops it', async () => {
    const base = await profile({ rateTimeout: 1, timeoutHoldMs: 2000 });
    const error = await fetch(`${base}/blocks/tip/hash`, {
      signal: AbortSignal.timeout(300),
    }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    const dropped = await fetch(`${base}/blocks/tip/hash`).catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(TypeError); // "fetch failed": the socket closed with no answer
  });

  it('cuts a body short and closes the connection', async () => {
    const base = await profile({ rateTruncated: 1 });
    // Depending on timing the client fails on the headers or while reading the body.
    const outcome = await fetch(`${base}/blocks`)
      .then((res) => res.text())
      .catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(TypeError);
  });

  it('serves malformed JSON with status 200', async () => {
    const base = await profile({ rateMalformed: 1 });
    const res = await fetch(`${base}/address/${lab.payerAddress}/utxo`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/json/);
    const body = await res.text();
    expect(() => JSON.parse(body) as unknown).toThrow(SyntaxError);
  });

  it('adds latency', async () => {
    const base = await profile({ latencyMs: 250 });
    const start = performance.now();
    const res = await fetch(`${base}/blocks/tip/height`);
    expect(performance.now() - start).toBeGreaterThanOrEqual(240);
    expect(Number(await res.text())).toBe(await lab.tipHeight());
  });

  it('limits faults to matching paths, counts them, and leaves the plain base URL healthy', async () => {
    const name = 'scoped';
    profiles.push(name);
    const base = await lab.faults(name, { rate5xx: 1, pathPattern: '^/address/' });
    expect((await fetch(`${base}/address/${lab.payerAddress}/utxo`)).status).toBeGreaterThanOrEqual(
      500,
    );
    expect((await fetch(`${base}/blocks/tip/height`)).status).toBe(200);
    expect((await fetch(`${lab.esploraUrl}/address/${lab.payerAddress}`)).status).toBe(200);
    const stats = await lab.faultStats(name);
    expect(stats.requests).toBe(2);
    expect(stats.injected['5xx']).toBe(1);
  });

  it('stops injecting once the profile is cleared', async () => {
    const name = 'cleared';
    const base = await lab.faults(name, { rate429: 1 });
    expect((await fetch(`${base}/blocks/tip/height`)).status).toBe(429);
    await lab.clearFaults(name);
    expect((await fetch(`${base}/blocks/tip/height`)).status).toBe(404);
    const healthy = await lab.faults(name, {});
    profiles.push(name);
    expect((await fetch(`${healthy}/blocks/tip/height`)).status).toBe(200);
  });
});
