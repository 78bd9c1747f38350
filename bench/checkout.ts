/**
 * Checkout throughput against a daemon on the lab (its MongoDB wire server), over HTTP with
 * 20 keep-alive connections (autocannon):
 *   - checkout pages per second (`GET /pay/:id`, QR included),
 *   - status reads per second (`GET /pay/:id/status`, what the page polls).
 * The machine's load average is printed beside the figures: on a shared machine they move with it.
 * Usage: npm run bench:checkout [-- <seconds per run>]
 */
import os from 'node:os';
import autocannon from 'autocannon';
import { labDown, labUp } from '../test/lab/lab.js';
import { listen, startTestDaemon, stopTestDaemon } from '../test/support/daemon.js';

const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = 20;

async function measure(url: string): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration: SECONDS });
}

function line(label: string, result: autocannon.Result): string {
  const failed = result.non2xx + result.errors + result.timeouts;
  return (
    `${label}: ${result.requests.average.toFixed(0)}/s  ` +
    `(p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.requests.total} requests, ` +
    `${failed} failed)`
  );
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const { started } = await labUp(() => undefined);
const d = await startTestDaemon({
  // One client address sends everything: the per-client limit would answer 429 after 120.
  SATWATCH_RATE_LIMIT_CHECKOUT_PER_MINUTE: '100000000',
  SATWATCH_LOG_LEVEL: 'warn',
  SATWATCH_CHECKOUT_MERCHANT_NAME: 'Bench Coffee',
});
try {
  const base = await listen(d.app);
  const res = await d.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: d.merchant,
    payload: { userId: 'bench-user', packageId: 'starter', description: 'Order #1' },
  });
  if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${res.body}`);
  const { id } = res.json<{ id: string }>();
  const page = `${base}/pay/${id}`;

  // Warm up the JIT and the connection pool.
  await autocannon({ url: page, connections: CONNECTIONS, amount: 200 });

  console.log(`load average before: ${load()}  (${os.cpus().length} cores)`);
  const pages = await measure(page);
  const status = await measure(`${page}/status`);
  console.log(line('checkout pages  ', pages));
  console.log(line('status endpoint ', status));
  console.log(`load average after : ${load()}`);
} finally {
  await stopTestDaemon(d);
  if (started) await labDown();
}
