/**
 * The watcher lease is a lease (issue 9 §4) and the loop reports itself in the JSON log
 * (issue 11 §6), on the lab: leases on the MongoDB wire server, two replicas on one database
 * with a slow chain API, a cycle that loses its lease midway, and a watcher process whose
 * cycles overrun their interval.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, policyFrom } from '../../src/daemon.js';
import { ChainStateStore } from '../../src/storage/chain-state.js';
import { LeaseRepository } from '../../src/storage/leases.js';
import { Lease } from '../../src/watcher/lease.js';
import { PaymentWatcher } from '../../src/watcher/payment-watcher.js';
import { LabClient } from '../lab/client.js';
import { sleep, waitFor } from '../lab/process.js';
import {
  type TestDaemon,
  createSatsPayment,
  startReplica,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';
import { type LogSink, logSink } from '../support/log-sink.js';
import { parseExposition, valueOf } from '../support/prometheus.js';
import { spawnSatwatch } from '../support/satwatch-process.js';

let lab: LabClient;
beforeAll(() => {
  lab = LabClient.fromState();
});

async function metric(d: Daemon, name: string): Promise<number> {
  const res = await d.ops.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  const value = valueOf(parseExposition(res.body), name);
  if (value === undefined) throw new Error(`${name} missing from /metrics`);
  return value;
}

describe('the watcher lease', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon();
  });
  afterAll(() => stopTestDaemon(d));

  it('has one holder at a time, keeps its term on renewal and starts a new term on takeover', async () => {
    let clock = Date.parse('2026-12-01T00:00:00Z');
    const now = () => new Date(clock);
    const name = `lease-${randomBytes(4).toString('hex')}`;
    const a = new Lease(new LeaseRepository(d.mongo.db), name, 'replica-a', 9_000, now);
    const b = new Lease(new LeaseRepository(d.mongo.db), name, 'replica-b', 9_000, now);

    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect([a.leaseValid(), b.leaseValid()]).toEqual([true, false]);
    expect(a.fence).toBe(1);
    expect(b.fence).toBeUndefined();

    clock += 3_000;
    expect(await a.acquire()).toBe(true); // a renewal: same term
    expect(a.fence).toBe(1);
    expect((await a.state()).fence).toBe(1);

    // a stops renewing. Its own view ends one heartbeat (3 s) before the stored expiry...
    clock += 6_001;
    expect(a.leaseValid()).toBe(false);
    expect(await b.acquire()).toBe(false); // ...while nobody else may take it yet.
    clock += 3_000;
    expect(await b.acquire()).toBe(true);
    expect(b.fence).toBe(2);
    expect(await a.acquire()).toBe(false);
    expect([a.leaseValid(), b.leaseValid()]).toEqual([false, true]);
    expect(await a.state()).toMatchObject({ holder: 'replica-b', heldByMe: false, fence: 2 });
  });

  it("stops a cycle's remaining writes once the lease is lost, and logs it", async () => {
    const logs = logSink();
    const p = await createSatsPayment<{ id: string; address: string }>(d, 'u-lease', 20_000, 3);
    await lab.pay(p.address, 20_000);
    await lab.mine(3);
    // The lease holds until the payment's change is written and is gone by the credit phase.
    const { pino } = await import('pino');
    const watcher = new PaymentWatcher({
      repo: d.repo,
      chain: d.chain,
      chainState: new ChainStateStore(d.mongo.db),
      scan: {
        network: 'regtest',
        mempoolViewWindowMs: 60_000,
        mempoolNewPaymentMs: 120_000,
        intervalMs: 30_000,
      },
      settlement: d.settlement,
      policy: policyFrom(d.config),
      concurrency: 2,
      log: pino({ level: 'info' }, logs.sink),
      leaseValid: () => logs.find('payment event').length === 0,
    });
    const report = await watcher.runCycle();
    expect(report).toMatchObject({ changed: 1, credited: 0, published: 0 });
    const stored = await d.repo.findById(p.id);
    expect(stored?.credit?.state).toBe('due');
    expect((await d.ledger.balance('u-lease')).balance).toBe(0);
    expect(stored?.outbox.length).toBeGreaterThan(0);
    // One line, naming the first write phase the lost lease stopped (before any credit).
    expect(logs.find('watcher lease lost; the rest of this cycle writes nothing')).toHaveLength(1);

    // The next leader's cycle finishes the work, once.
    await d.watcher.runCycle();
    expect((await d.ledger.balance('u-lease')).balance).toBe(3);
  });
});

interface Span {
  replica: string;
  start: number;
  end: number;
}

/** Cycle start/end per replica, from the 'watcher cycle done' lines (time, durationMs). */
function cycleSpans(replica: string, logs: LogSink): Span[] {
  return logs
    .find('watcher cycle done')
    .map((r) => ({ replica, start: r.time! - Number(r.durationMs), end: r.time! }));
}

describe('two replicas with a short lease and cycles longer than it', () => {
  const profile = `lease-slow-${randomBytes(4).toString('hex')}`;
  const logsA = logSink();
  const logsB = logSink();
  let a: TestDaemon;
  let b: Daemon | undefined;

  beforeAll(async () => {
    a = await startTestDaemon(
      {
        SATWATCH_CHAIN_ESPLORA_URLS: await lab.faults(profile, {}),
        SATWATCH_WATCHER_INTERVAL_SECONDS: '1',
        SATWATCH_WATCHER_LEASE_SECONDS: '6',
        // The new payment's mempool is checked every cycle: each cycle makes 2+ requests.
        SATWATCH_WATCHER_MEMPOOL_NEW_PAYMENT_SECONDS: '3600',
      },
      { logger: { level: 'info' }, logDestination: logsA.sink },
    );
    // A new payment, so a cycle asks the chain for its tip hash and for one address's mempool.
    await createSatsPayment(a, 'u-two', 20_000, 1);
    b = await startReplica(a, { logger: { level: 'info' }, logDestination: logsB.sink });
  });
  afterAll(async () => {
    await lab.faults(profile, {});
    await b?.close();
    await stopTestDaemon(a);
    await lab.clearFaults(profile);
  });

  it('never run cycles at the same time, and exactly one reports leading at every scrape', async () => {
    // Each chain answer 4 s late: a cycle (the tip hash, then the mempool) takes 8 s or more.
    await lab.faults(profile, { latencyMs: 4000 });
    a.loop.start();
    b!.loop.start();
    const scrapes: [number, number][] = [];
    const done = () => cycleSpans('a', logsA).length + cycleSpans('b', logsB).length;
    let someoneLed = false;
    while (done() < 3) {
      const [x, y] = await Promise.all([
        metric(a, 'satwatch_watcher_leading'),
        metric(b!, 'satwatch_watcher_leading'),
      ]);
      const pair: [number, number] = [x, y];
      someoneLed ||= pair.includes(1);
      if (someoneLed) scrapes.push(pair);
      await sleep(100);
    }
    const spans = [...cycleSpans('a', logsA), ...cycleSpans('b', logsB)].sort(
      (x, y) => x.start - y.start,
    );
    for (const [i, x] of spans.entries()) {
      for (const y of spans.slice(i + 1)) {
        if (x.replica === y.replica) continue;
        // Sorted by start: y must not start before x has ended.
        expect(
          y.start,
          `${JSON.stringify(x)} overlaps ${JSON.stringify(y)}`,
        ).toBeGreaterThanOrEqual(x.end);
      }
    }
    expect(spans.every((s) => s.end - s.start > 6_000)).toBe(true); // longer than the lease
    expect(scrapes.length).toBeGreaterThan(10);
    expect(scrapes.filter(([x, y]) => x + y !== 1)).toEqual([]);
  }, 180_000);
});

describe('a watcher whose cycles overrun the interval', () => {
  const profile = `overrun-${randomBytes(4).toString('hex')}`;
  let d: TestDaemon;
  const logs = logSink();

  beforeAll(async () => {
    d = await startTestDaemon(
      {
        SATWATCH_CHAIN_ESPLORA_URLS: await lab.faults(profile, {}),
        SATWATCH_WATCHER_INTERVAL_SECONDS: '1',
        SATWATCH_WATCHER_LEASE_SECONDS: '6',
      },
      { logger: { level: 'info' }, logDestination: logs.sink },
    );
  });
  afterAll(async () => {
    await lab.faults(profile, {});
    await stopTestDaemon(d);
    await lab.clearFaults(profile);
  });

  it('logs each skipped tick as JSON and counts it in /metrics', async () => {
    await lab.faults(profile, { latencyMs: 1500 });
    d.loop.start();
    await waitFor(
      'two skipped ticks',
      () =>
        Promise.resolve(
          logs.find('watcher cycle overran; tick skipped').length >= 2 ? true : undefined,
        ),
      60_000,
    );
    const counted = await metric(d, 'satwatch_watcher_ticks_skipped_total');
    const logged = logs.find('watcher cycle overran; tick skipped');
    expect(counted).toBeGreaterThanOrEqual(2);
    expect(logged.length).toBeGreaterThanOrEqual(counted);
    expect(logged[0]).toMatchObject({ level: 40, component: 'watcher', intervalSeconds: 1 });
  }, 120_000);

  it('writes nothing but JSON lines to stdout and stderr in a process', async () => {
    // A database of its own: the in-process loop above holds this one's lease.
    const database = `t_${randomBytes(6).toString('hex')}`;
    await lab.faults(profile, { latencyMs: 1500 });
    const proc = spawnSatwatch(['serve', '--watcher-only'], {
      ...d.env,
      SATWATCH_MONGO_DATABASE: database,
      SATWATCH_WATCHER_INTERVAL_SECONDS: '1',
      SATWATCH_WATCHER_LEASE_SECONDS: '6',
      SATWATCH_LOG_LEVEL: 'info',
    });
    try {
      await proc.waitForLine(/watcher cycle overran; tick skipped/, 60_000);
    } finally {
      proc.child.kill('SIGKILL');
      await proc.exited;
      await d.mongo.client.db(database).dropDatabase();
    }
    const { stdout, stderr } = proc.output();
    const lines = [...stdout.split('\n'), ...stderr.split('\n')].filter((l) => l.trim() !== '');
    const notJson = lines.filter((l) => {
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
  }, 120_000);
});
