/**
 * The operator's scans against the lab's MongoDB wire server, over N synthetic payments (clones
 * of one real payment, every other one paid):
 *   - the payments CSV export over HTTP: rows per second and the peak growth of the live heap
 *     (streamed, so it should not grow with N),
 *   - the wallet figures behind /metrics (issued, used indexes, hot balance): one refresh.
 * Usage: npm run bench:operator [-- <count>]
 */
import { randomBytes } from 'node:crypto';
import type { Derivation, Payment } from '../src/payments/payment.js';
import { WalletUsage } from '../src/storage/wallet-usage.js';
import { gapReport } from '../src/wallet/gap-limit.js';
import { labDown, labUp } from '../test/lab/lab.js';
import {
  createSatsPayment,
  listen,
  startTestDaemon,
  stopTestDaemon,
} from '../test/support/daemon.js';

const COUNT = Number(process.argv[2] ?? 20_000);

const { started } = await labUp(() => undefined);
const d = await startTestDaemon({ SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '1000000' });
try {
  const { id } = await createSatsPayment(d, 'bench', 20_000, 1);
  const payments = d.mongo.db.collection<Payment>('payments');
  const sample = await payments.findOne({ _id: id });
  if (!sample) throw new Error('no sample payment');
  const fingerprint = d.wallet.accountFingerprint;
  const output = {
    txid: '11'.repeat(32),
    vout: 0,
    valueSats: 20_000,
    signalsRbf: false,
    late: false,
  };
  for (let start = 1; start < COUNT; start += 1000) {
    const docs: Payment[] = [];
    for (let i = start; i < Math.min(COUNT, start + 1000); i++) {
      docs.push({
        ...sample,
        _id: randomBytes(12).toString('hex'),
        address: `bench-${i}`,
        derivation: { ...(sample.derivation as Derivation), index: i },
        outputs: i % 2 === 0 ? [{ ...output, vout: i, firstSeenAt: new Date() }] : [],
        createdAt: new Date(Date.now() + i),
      });
    }
    await payments.insertMany(docs);
  }
  await d.mongo.db
    .collection('counters')
    .updateOne(
      { _id: `receive:${fingerprint}` as never },
      { $set: { next: COUNT } },
      { upsert: true },
    );

  const base = await listen(d.app);
  // Live heap after a full GC (run with --expose-gc), sampled through the export: flat when the
  // export streams, growing with N when something holds the rows.
  const gc = (globalThis as { gc?: () => void }).gc;
  const liveHeap = () => {
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const heapBefore = liveHeap();
  let peak = heapBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, liveHeap())), 250);
  let start = performance.now();
  const res = await fetch(`${base}/v1/admin/exports/payments.csv`, { headers: d.admin });
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) lines++;
  }
  const exportSeconds = (performance.now() - start) / 1000;
  clearInterval(sampler);

  const usage = new WalletUsage(d.mongo.db);
  start = performance.now();
  const [issued, used, hot] = await Promise.all([
    usage.issued(fingerprint),
    usage.usedIndexes(fingerprint),
    usage.hotSats(fingerprint),
  ]);
  const figuresSeconds = (performance.now() - start) / 1000;
  const gaps = gapReport(issued, used);

  console.log(`payments: ${COUNT}`);
  console.log(
    `payments.csv: ${lines - 1} rows, ${(bytes / 1e6).toFixed(1)} MB in ${exportSeconds.toFixed(2)} s = ` +
      `${Math.round((lines - 1) / exportSeconds)} rows/s; peak live heap growth ` +
      `${((peak - heapBefore) / 1e6).toFixed(1)} MB${gc ? '' : ' (run with --expose-gc for live heap)'}`,
  );
  console.log(
    `wallet figures: ${figuresSeconds.toFixed(2)} s (issued ${issued}, used ${gaps.used}, ` +
      `required gap limit ${gaps.requiredGapLimit}, hot ${hot} sats)`,
  );
} finally {
  await stopTestDaemon(d);
  if (started) await labDown();
}
