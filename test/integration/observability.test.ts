/**
 * Observability on the lab: Prometheus metrics after real payments and sweeps, readiness against
 * a failing chain API and a MongoDB that goes away (a mongo-java-server of this test's own; the
 * lab's is never touched), request ids, and secrets kept out of the logs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { MongoClient } from 'mongodb';
import { register as globalRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EsploraChainSource } from '../../src/chain/esplora.js';
import type { ReadinessReport } from '../../src/observability/readiness.js';
import type { Sweep } from '../../src/forwarding/sweep.js';
import { LabClient } from '../lab/client.js';
import { ensureMongoClasspath } from '../lab/install.js';
import { freshKey } from '../lab/keys.js';
import { repoRoot } from '../lab/paths.js';
import { freePort, sleep, spawnDetached, stopProcess, waitFor } from '../lab/process.js';
import {
  type TestDaemon,
  listen,
  newTestWallet,
  startTestDaemon,
  stopTestDaemon,
  createSatsPayment,
} from '../support/daemon.js';
import { type Exposition, parseExposition, sumOf, valueOf } from '../support/prometheus.js';

let lab: LabClient;

beforeAll(() => {
  lab = LabClient.fromState();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A pino destination collecting the daemon's log lines. */
function logSink(): { sink: Writable; lines: string[]; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return {
    sink,
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function scrape(d: TestDaemon): Promise<Exposition> {
  const res = await d.ops.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(res.body);
}

async function readyz(d: TestDaemon): Promise<{ code: number; body: ReadinessReport }> {
  const res = await d.ops.inject({ method: 'GET', url: '/readyz' });
  return { code: res.statusCode, body: res.json() };
}

const createPayment = (d: TestDaemon, userId: string, sats: number, credits: number) =>
  createSatsPayment(d, userId, sats, credits);

describe('GET /metrics', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon();
  });
  afterAll(() => stopTestDaemon(d));

  it('counts a real payment, its credit and the cycles that saw it', async () => {
    const before = await scrape(d);
    expect(valueOf(before, 'satwatch_metrics_mongo_up')).toBe(1);
    expect(valueOf(before, 'satwatch_payments', { status: 'pending' })).toBe(0);
    expect(valueOf(before, 'satwatch_watcher_cycles_total')).toBe(0);
    expect(valueOf(before, 'satwatch_watcher_cycle_duration_seconds_count')).toBe(0);

    const p = await createPayment(d, 'metrics-alice', 21_000, 7);
    const pending = await scrape(d);
    expect(valueOf(pending, 'satwatch_payments', { status: 'pending' })).toBe(1);

    await lab.pay(p.address, 21_000);
    await lab.mine(3);
    // Through the loop, as in production: the lease, then the cycle, observed by the hook.
    const report = await d.loop.tick();
    expect(report).toMatchObject({ changed: 1, credited: 1, errors: 0 });
    const payment = await d.repo.findById(p.id);
    expect(payment).toMatchObject({ status: 'confirmed', credit: { state: 'done' } });

    const m = await scrape(d);
    const byStatus = Object.fromEntries(
      m.samples
        .filter((s) => s.name === 'satwatch_payments')
        .map((s): [string, number] => [s.labels.status ?? '', s.value]),
    );
    expect(byStatus).toEqual({
      pending: 0,
      confirming: 0,
      confirmed: 1,
      forwarded: 0,
      expired: 0,
      underpaid: 0,
      cancelled: 0,
    });
    expect(m.types.get('satwatch_payments')).toBe('gauge');
    expect(valueOf(m, 'satwatch_payments_needing_review')).toBe(0);
    expect(valueOf(m, 'satwatch_payments_late')).toBe(0);
    expect(valueOf(m, 'satwatch_credited_sats')).toBe(payment!.credit!.basisSats);
    expect(valueOf(m, 'satwatch_credited_sats')).toBe(21_000);
    expect(valueOf(m, 'satwatch_credited_credits')).toBe(7);

    expect(m.types.get('satwatch_watcher_cycle_duration_seconds')).toBe('histogram');
    expect(valueOf(m, 'satwatch_watcher_cycle_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(
      valueOf(m, 'satwatch_watcher_cycle_duration_seconds_bucket', { le: '+Inf' }),
    ).toBeGreaterThanOrEqual(1);
    expect(valueOf(m, 'satwatch_watcher_cycles_total')).toBe(1);
    expect(valueOf(m, 'satwatch_watcher_cycle_errors_total')).toBe(0);
    expect(valueOf(m, 'satwatch_watcher_payments_changed_total')).toBe(1);
    expect(valueOf(m, 'satwatch_watcher_payments_credited_total')).toBe(1);
    expect(valueOf(m, 'satwatch_watcher_leading')).toBe(1);
    expect(valueOf(m, 'satwatch_watcher_last_cycle_timestamp_seconds')).toBeGreaterThan(
      Date.now() / 1000 - 60,
    );

    // Chain API traffic of this daemon's Esplora source, by endpoint and outcome.
    expect(m.types.get('satwatch_chain_requests_total')).toBe('counter');
    expect(
      valueOf(m, 'satwatch_chain_requests_total', { endpoint: '/address/:a/txs' }),
    ).toBeGreaterThan(0);
    expect(
      valueOf(m, 'satwatch_chain_requests_total', { endpoint: '/blocks/tip/height' }),
    ).toBeGreaterThan(0);
    expect(valueOf(m, 'satwatch_chain_request_outcomes_total', { outcome: 'ok' })).toBeGreaterThan(
      0,
    );
    expect(sumOf(m, 'satwatch_chain_failures_total')).toBe(0);
    // The block scan: where it stands, nothing refused, and the request budget (unlimited for
    // the lab's own server, still counted).
    expect(valueOf(m, 'satwatch_watcher_scan_height')).toBe(report!.tipHeight);
    expect(valueOf(m, 'satwatch_watcher_blocks_refused_total')).toBe(0);
    expect(valueOf(m, 'satwatch_chain_budget_limit')).toBe(0);
    expect(valueOf(m, 'satwatch_chain_budget_used')).toBe(
      sumOf(m, 'satwatch_chain_requests_total'),
    );
    if (!(d.chain instanceof EsploraChainSource)) throw new Error('expected the Esplora source');
    const stats = d.chain.stats();
    expect(sumOf(m, 'satwatch_chain_requests_total')).toBe(
      Object.values(stats.requests).reduce((a, b) => a + b, 0),
    );

    // No webhook URL: events wait in the outbox.
    const pendingEvents = await d.outbox.collection.countDocuments({ state: 'pending' });
    expect(pendingEvents).toBeGreaterThan(0);
    expect(valueOf(m, 'satwatch_webhook_events', { state: 'pending' })).toBe(pendingEvents);
    expect(valueOf(m, 'satwatch_webhook_events', { state: 'delivered' })).toBe(0);
    expect(sumOf(m, 'satwatch_sweeps')).toBe(0);
    expect(valueOf(m, 'satwatch_sweep_fees_sats')).toBe(0);

    // Process metrics, in this daemon's registry and not in prom-client's global one.
    expect(valueOf(m, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(m, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(await globalRegistry.getMetricsAsJSON()).toEqual([]);
  });

  it('counts cycles that fail and the chain calls behind them', async () => {
    const before = await scrape(d);
    const name = `obs-metrics-${randomBytes(4).toString('hex')}`;
    const broken = await startTestDaemon({
      SATWATCH_CHAIN_ESPLORA_URLS: await lab.faults(name, { rate5xx: 1 }),
      SATWATCH_CHAIN_RETRIES: '0',
    });
    try {
      const report = await broken.watcher.runCycle();
      expect(report.errors).toBe(1);
      const m = await scrape(broken);
      expect(valueOf(m, 'satwatch_watcher_cycles_total')).toBe(1);
      expect(valueOf(m, 'satwatch_watcher_cycle_errors_total')).toBe(1);
      // A cycle starts with the tip hash (the block scan's one request per idle cycle).
      expect(valueOf(m, 'satwatch_chain_failures_total', { endpoint: '/blocks/tip/hash' })).toBe(1);
      expect(valueOf(m, 'satwatch_chain_request_outcomes_total', { outcome: 'server-error' })).toBe(
        1,
      );
    } finally {
      await stopTestDaemon(broken);
      await lab.clearFaults(name);
    }
    // Another daemon in the same process leaves this one's metrics alone.
    const after = await scrape(d);
    expect(valueOf(after, 'satwatch_watcher_cycles_total')).toBe(
      valueOf(before, 'satwatch_watcher_cycles_total'),
    );
  });

  it('is served by the ops listener only, with readiness and the docs; /healthz is on both', async () => {
    for (const url of ['/metrics', '/readyz', '/openapi.json', '/docs/']) {
      const pub = await d.app.inject({ method: 'GET', url });
      expect(pub.statusCode, url).toBe(404);
      expect(pub.json(), url).toMatchObject({ error: 'not_found' });
      expect((await d.ops.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
    expect((await d.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({
      status: 'ok',
    });
    expect((await d.ops.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({
      status: 'ok',
    });
    const doc = (await d.ops.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, unknown>;
    }>();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/payments']));
  });

  it('recounts MongoDB at most once per cache period, however many scrapes come', async () => {
    const cached = await startTestDaemon({
      SATWATCH_MONGO_DATABASE: d.database,
      SATWATCH_WALLET_XPUB: d.testWallet.vpub,
      SATWATCH_OPS_METRICS_CACHE_SECONDS: '300',
    });
    try {
      const pending = async () =>
        valueOf(await scrape(cached), 'satwatch_payments', { status: 'pending' });
      const before = await pending();
      await createPayment(cached, 'metrics-cache', 12_000, 1);
      // Within the period the first count stands; the new payment shows in the next period.
      const scrapes = await Promise.all(Array.from({ length: 10 }, pending));
      expect(new Set(scrapes)).toEqual(new Set([before]));
      expect(await pending()).toBe(before);
    } finally {
      await cached.close();
    }
  });
});

describe('sweep metrics', () => {
  it('counts sweeps by state and the fees of broadcast and confirmed sweeps', async () => {
    const wallet = newTestWallet();
    const d = await startTestDaemon(
      {
        SATWATCH_WALLET_XPRV: wallet.tprv,
        SATWATCH_FORWARDING_MODE: 'sign',
        SATWATCH_FORWARDING_COLD_ADDRESS: freshKey().address,
        SATWATCH_FORWARDING_MIN_FEE_RATE: '1',
        SATWATCH_FORWARDING_MAX_FEE_RATE: '50',
      },
      {},
      wallet,
    );
    try {
      const p = await createPayment(d, 'metrics-sweep', 150_000, 3);
      await lab.pay(p.address, 150_000);
      await lab.mine(3);
      const report = await d.loop.tick();
      expect(report?.forwarding).toMatchObject({ broadcast: 1, errors: 0 });
      const [sweep] = await d.mongo.db.collection<Sweep>('sweeps').find({}).toArray();
      expect(sweep?.state).toBe('broadcast');
      expect(sweep!.feeSats).toBeGreaterThan(0);

      let m = await scrape(d);
      expect(valueOf(m, 'satwatch_payments', { status: 'forwarded' })).toBe(1);
      expect(valueOf(m, 'satwatch_sweeps', { state: 'broadcast' })).toBe(1);
      expect(valueOf(m, 'satwatch_sweeps', { state: 'confirmed' })).toBe(0);
      expect(valueOf(m, 'satwatch_sweep_fees_sats')).toBe(sweep!.feeSats);

      await lab.mine(1);
      expect((await d.loop.tick())?.forwarding?.confirmed).toBe(1);
      m = await scrape(d);
      expect(valueOf(m, 'satwatch_sweeps', { state: 'broadcast' })).toBe(0);
      expect(valueOf(m, 'satwatch_sweeps', { state: 'confirmed' })).toBe(1);
      expect(valueOf(m, 'satwatch_sweep_fees_sats')).toBe(sweep!.feeSats);
      expect(valueOf(m, 'satwatch_credited_sats')).toBe(150_000);
    } finally {
      await stopTestDaemon(d);
    }
  });
});

describe('GET /readyz', () => {
  it('is ready on the lab and reports the watcher lease', async () => {
    const d = await startTestDaemon({ SATWATCH_WATCHER_INTERVAL_SECONDS: '30' });
    try {
      let { code, body } = await readyz(d);
      expect(code).toBe(200);
      expect(body).toEqual({
        status: 'ready',
        checks: {
          mongo: { ok: true },
          chain: { ok: true, tipHeight: await lab.tipHeight() },
          watcher: { enabled: false, leading: false, holder: null, lastCycleAt: null },
        },
      });

      d.loop.start(); // the first cycle runs at once
      await waitFor('a watcher cycle', () => Promise.resolve(d.metrics.lastCycleAt), 20_000);
      ({ code, body } = await readyz(d));
      expect(code).toBe(200);
      expect(body.checks.watcher).toEqual({
        enabled: true,
        leading: true,
        holder: expect.stringContaining(`:${process.pid}:`) as unknown,
        lastCycleAt: d.metrics.lastCycleAt!.toISOString(),
      });

      // A second replica on the same database stands by, and is ready all the same.
      const standby = await startTestDaemon({
        SATWATCH_MONGO_DATABASE: d.database,
        SATWATCH_WALLET_XPUB: d.testWallet.vpub,
      });
      try {
        await standby.loop.tick();
        const r = await readyz(standby);
        expect(r.code).toBe(200);
        expect(r.body.checks.watcher).toMatchObject({
          leading: false,
          holder: body.checks.watcher.holder,
        });
      } finally {
        await standby.close();
      }
    } finally {
      await stopTestDaemon(d);
    }
  });

  it('is unready while the chain API answers 5xx, and ready again when it recovers', async () => {
    const name = `obs-ready-${randomBytes(4).toString('hex')}`;
    const token = `tok_${randomBytes(12).toString('hex')}`;
    const url = new URL(await lab.faults(name, { rate5xx: 1 }));
    url.username = 'operator';
    url.password = 'hunter2-secret';
    const d = await startTestDaemon({
      SATWATCH_CHAIN_ESPLORA_URLS: url.toString(),
      SATWATCH_CHAIN_BEARER_TOKEN: token,
    });
    try {
      const res = await d.ops.inject({ method: 'GET', url: '/readyz' });
      // No retries: one upstream request for the probe.
      expect((await lab.faultStats(name)).requests).toBe(1);
      expect(res.statusCode).toBe(503);
      const body = res.json<ReadinessReport>();
      expect(body).toMatchObject({
        status: 'unready',
        checks: {
          mongo: { ok: true },
          chain: { ok: false, error: expect.any(String) as unknown },
          watcher: { enabled: false },
        },
      });
      expect(body.checks.chain.tipHeight).toBeUndefined();
      for (const secret of ['hunter2', 'operator', token, '/faults/']) {
        expect(res.body).not.toContain(secret);
      }

      await lab.faults(name, {});
      const ready = await readyz(d);
      expect(ready.code).toBe(200);
      expect(ready.body.checks.chain).toEqual({ ok: true, tipHeight: await lab.tipHeight() });
    } finally {
      await stopTestDaemon(d);
      await lab.clearFaults(name);
    }
  });

  it('probes the chain API at most once per cache period for many concurrent calls', async () => {
    const name = `obs-ready-cache-${randomBytes(4).toString('hex')}`;
    const d = await startTestDaemon({
      SATWATCH_CHAIN_ESPLORA_URLS: await lab.faults(name, {}),
      SATWATCH_OPS_READINESS_CACHE_SECONDS: '300',
    });
    try {
      expect((await readyz(d)).code).toBe(200);
      const oneProbe = (await lab.faultStats(name)).requests;
      expect(oneProbe).toBeGreaterThan(0);
      const answers = await Promise.all(Array.from({ length: 50 }, () => readyz(d)));
      expect(answers.every((a) => a.code === 200)).toBe(true);
      expect((await lab.faultStats(name)).requests).toBe(oneProbe);
    } finally {
      await stopTestDaemon(d);
      await lab.clearFaults(name);
    }
  });

  describe('with a MongoDB of its own that goes away', () => {
    let dir: string;
    let classpath: string;
    let port: number;
    let pid: number | undefined;
    let mongoUrl: string;

    async function startMongo(): Promise<void> {
      pid = spawnDetached(
        'java',
        [
          '-Xmx256m',
          '-cp',
          classpath,
          path.join(repoRoot, 'test/lab/mongo/Launcher.java'),
          String(port),
        ],
        path.join(dir, 'mongo.log'),
      );
      await waitFor(
        'the test mongo-java-server',
        async () => {
          const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 500 });
          try {
            await client.db('admin').command({ ping: 1 });
            return true;
          } finally {
            await client.close();
          }
        },
        60_000,
        path.join(dir, 'mongo.log'),
      );
    }

    async function stopMongo(): Promise<void> {
      if (pid !== undefined) await stopProcess(pid);
      pid = undefined;
    }

    beforeAll(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'satwatch-obs-mongo-'));
      classpath = ensureMongoClasspath();
      port = await freePort();
      mongoUrl = `mongodb://127.0.0.1:${port}`;
      await startMongo();
    });
    afterAll(async () => {
      await stopMongo();
      rmSync(dir, { recursive: true, force: true });
    });

    it('is unready while MongoDB is down and ready once it is back', async () => {
      const d = await startTestDaemon({ SATWATCH_MONGO_URL: mongoUrl });
      try {
        expect((await readyz(d)).code).toBe(200);

        await stopMongo();
        // Bounded by the probe's own timeout (no wall-clock assertion: machines differ).
        const down = await readyz(d);
        expect(down.code).toBe(503);
        expect(down.body).toMatchObject({
          status: 'unready',
          checks: {
            mongo: { ok: false, error: expect.any(String) as unknown },
            chain: { ok: true },
            watcher: { holder: null },
          },
        });
        // Metrics still answer, without the numbers MongoDB could not give.
        const m = await scrape(d);
        expect(valueOf(m, 'satwatch_metrics_mongo_up')).toBe(0);
        expect(valueOf(m, 'satwatch_payments', { status: 'pending' })).toBeUndefined();
        expect(valueOf(m, 'satwatch_credited_sats')).toBeUndefined();
        // A cycle that cannot reach MongoDB fails, and is counted.
        await expect(d.watcher.runCycle()).rejects.toThrow();
        const failed = await scrape(d);
        expect(valueOf(failed, 'satwatch_watcher_cycles_failed_total')).toBe(1);
        expect(valueOf(failed, 'satwatch_watcher_cycle_errors_total')).toBe(1);

        await startMongo(); // a new, empty server on the same port
        const back = await waitFor(
          'readiness after MongoDB came back',
          async () => {
            const r = await readyz(d);
            return r.code === 200 ? r : (await sleep(200), undefined);
          },
          30_000,
        );
        expect(back.body.checks.mongo).toEqual({ ok: true });
        expect(valueOf(await scrape(d), 'satwatch_metrics_mongo_up')).toBe(1);
      } finally {
        await d.close();
      }
    });
  });
});

describe('request ids', () => {
  let d: TestDaemon;
  const logs = logSink();
  beforeAll(async () => {
    d = await startTestDaemon({}, { logger: { level: 'info' }, logDestination: logs.sink });
    d.app.get('/test/log-in-handler', (request) => {
      request.log.info('inside the handler');
      return { ok: true };
    });
  });
  afterAll(() => stopTestDaemon(d));

  const linesOf = (reqId: string) => logs.records().filter((r) => r.reqId === reqId);

  it('makes one when the request has none, and echoes it', async () => {
    const res = await d.app.inject({ method: 'GET', url: '/test/log-in-handler' });
    const id = res.headers['x-request-id'];
    expect(id).toMatch(UUID);
    expect(linesOf(String(id)).map((r) => r.msg)).toEqual([
      'incoming request',
      'inside the handler',
      'request completed',
    ]);
  });

  it('takes the caller’s id and logs every line of the request with it', async () => {
    const id = `shop-${randomBytes(6).toString('hex')}/retry 1`;
    const res = await d.app.inject({
      method: 'GET',
      url: '/test/log-in-handler',
      headers: { 'x-request-id': id },
    });
    expect(res.headers['x-request-id']).toBe(id);
    expect(linesOf(id).map((r) => r.msg)).toEqual([
      'incoming request',
      'inside the handler',
      'request completed',
    ]);
  });

  it('replaces an id that is too long or not printable', async () => {
    for (const bad of ['x'.repeat(129), 'tab\there', 'caf\u00e9']) {
      const res = await d.app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { 'x-request-id': bad },
      });
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(linesOf(bad)).toEqual([]);
    }
    const longest = 'y'.repeat(128);
    const res = await d.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': longest },
    });
    expect(res.headers['x-request-id']).toBe(longest);
  });

  it('answers with the id on errors and over a real socket too', async () => {
    const base = await listen(d.app);
    const res = await fetch(`${base}/v1/payments/nope`, {
      headers: { 'x-request-id': 'socket-req-1', authorization: 'Bearer wrong' },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('socket-req-1');
    expect(linesOf('socket-req-1').length).toBeGreaterThanOrEqual(2);
    const unknown = await fetch(`${base}/no/such/route`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-request-id')).toMatch(UUID);
  });
});

describe('secrets in logs', () => {
  it('redacts keys and credentials by configuration, at depth and through requests', async () => {
    const logs = logSink();
    const d = await startTestDaemon({}, { logger: { level: 'debug' }, logDestination: logs.sink });
    const secrets = {
      xprv: `xprv_${randomBytes(8).toString('hex')}`,
      tprv: `tprv_${randomBytes(8).toString('hex')}`,
      seed: `seed_${randomBytes(8).toString('hex')}`,
      secret: `whsec_${randomBytes(8).toString('hex')}`,
      password: `pw_${randomBytes(8).toString('hex')}`,
      apiKey: `key_${randomBytes(8).toString('hex')}`,
      bearerToken: `bt_${randomBytes(8).toString('hex')}`,
      privateKey: `pk_${randomBytes(8).toString('hex')}`,
      wif: `wif_${randomBytes(8).toString('hex')}`,
    };
    const cookie = `sid=${randomBytes(8).toString('hex')}`;
    const rawKey = `sk_${randomBytes(8).toString('hex')}`;
    try {
      d.app.get('/test/log-headers', (request) => {
        request.log.info({ headers: request.headers }, 'request headers');
        return { ok: true };
      });
      // Top level, nested objects, arrays, three levels down, and in a child logger.
      d.log.info({ ...secrets }, 'top level');
      d.log.warn(
        {
          config: { wallet: { xprv: secrets.xprv }, chain: { bearerToken: secrets.bearerToken } },
          webhooks: [{ secret: secrets.secret }],
          a: { b: { c: { wif: secrets.wif, privateKey: secrets.privateKey } } },
        },
        'nested',
      );
      d.log.child({ component: 'test' }).error({ err: { seed: secrets.seed } }, 'child');
      d.log.info({ req: { headers: { authorization: `Bearer ${rawKey}`, cookie } } }, 'req');
      d.log.info(
        { err: { config: { headers: { Authorization: `Bearer ${secrets.bearerToken}` } } } },
        'http client error',
      );

      // Through requests: a valid key, a wrong key, a cookie; and a handler logging the headers.
      const ok = await d.app.inject({
        method: 'GET',
        url: '/v1/users/alice/balance',
        headers: { ...d.merchant, cookie },
      });
      expect(ok.statusCode).toBe(200);
      const denied = await d.app.inject({
        method: 'GET',
        url: '/v1/users/alice/balance',
        headers: { authorization: `Bearer ${rawKey}` },
      });
      expect(denied.statusCode).toBe(401);
      await d.app.inject({
        method: 'GET',
        url: '/test/log-headers',
        headers: { ...d.merchant, cookie },
      });

      const output = logs.lines.join('\n');
      expect(logs.lines.length).toBeGreaterThanOrEqual(10);
      expect(output).toContain('[redacted]');
      for (const value of [...Object.values(secrets), cookie, rawKey, d.merchantKey])
        expect(output).not.toContain(value);
      // Redaction replaces values, it does not drop the lines.
      const headersLine = logs.records().find((r) => r.msg === 'request headers');
      expect(headersLine?.headers).toMatchObject({
        authorization: '[redacted]',
        cookie: '[redacted]',
      });
      const nested = logs.records().find((r) => r.msg === 'nested');
      expect(nested).toMatchObject({
        config: { wallet: { xprv: '[redacted]' } },
        a: { b: { c: { wif: '[redacted]' } } },
      });
    } finally {
      await stopTestDaemon(d);
    }
  });

  it('logs at the configured level', async () => {
    const logs = logSink();
    const d = await startTestDaemon(
      { SATWATCH_LOG_LEVEL: 'warn' },
      { logger: {}, logDestination: logs.sink },
    );
    try {
      expect(d.log.level).toBe('warn');
      await d.app.inject({ method: 'GET', url: '/healthz' });
      d.log.info('not written');
      d.log.warn('written');
      expect(logs.records().map((r) => r.msg)).toEqual(['written']);
    } finally {
      await stopTestDaemon(d);
    }
  });
});
