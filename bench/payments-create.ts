/**
 * Payment creation throughput against the lab's MongoDB wire server:
 *   - payments created per second end to end (HTTP, 20 concurrent keep-alive clients),
 *   - raw driver inserts per second of comparable documents on the same server, same run,
 *   - their ratio (how much the API adds on top of the storage floor),
 *   - receive-address derivations per second (bip32 + bitcoinjs, one core).
 * Usage: npm run bench:payments [-- <count>]
 */
import { randomBytes } from 'node:crypto';
import { labDown, labUp } from '../test/lab/lab.js';
import { listen, startTestDaemon, stopTestDaemon } from '../test/support/daemon.js';

const COUNT = Number(process.argv[2] ?? 2000);
const CONCURRENCY = 20;

async function runConcurrently(
  total: number,
  worker: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < total) await worker(next++);
    }),
  );
  return (performance.now() - start) / 1000;
}

const { started } = await labUp(() => undefined);
const d = await startTestDaemon({ SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '1000000' });
try {
  const base = await listen(d.app);
  const body = JSON.stringify({ userId: 'bench-user', packageId: 'starter' });
  const headers = { authorization: `Bearer ${d.merchantKey}`, 'content-type': 'application/json' };

  // Warm up the JIT, connection pools and the rate cache.
  for (let i = 0; i < 50; i++)
    await fetch(`${base}/v1/payments`, { method: 'POST', headers, body });

  const apiSeconds = await runConcurrently(COUNT, async () => {
    const res = await fetch(`${base}/v1/payments`, { method: 'POST', headers, body });
    if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  });

  const sample = await d.mongo.db.collection('payments').findOne({});
  const raw = d.mongo.db.collection('bench_raw');
  const insertSeconds = await runConcurrently(COUNT, async () => {
    await raw.insertOne({ ...sample, _id: randomBytes(16).toString('hex') } as never);
  });

  const derivations = 5000;
  const t0 = performance.now();
  for (let i = 0; i < derivations; i++) d.wallet.receiveAddress(100_000 + i);
  const deriveSeconds = (performance.now() - t0) / 1000;

  const apiRate = COUNT / apiSeconds;
  const insertRate = COUNT / insertSeconds;
  console.log(
    `payments created end to end : ${apiRate.toFixed(0)}/s  (${COUNT} over HTTP, ${CONCURRENCY} clients)`,
  );
  console.log(
    `raw driver inserts          : ${insertRate.toFixed(0)}/s  (${COUNT}, ${CONCURRENCY} concurrent)`,
  );
  console.log(`API / raw insert ratio      : ${(apiRate / insertRate).toFixed(2)}`);
  console.log(`address derivations         : ${(derivations / deriveSeconds).toFixed(0)}/s`);
} finally {
  await stopTestDaemon(d);
  if (started) await labDown();
}
