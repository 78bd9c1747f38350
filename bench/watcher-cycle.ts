/**
 * Watcher cycle cost against the lab (btcd regtest behind the Esplora facade, mongo-java-server):
 * for 100, 1,000 and 10,000 open payments, the chain API requests one cycle makes and its wall
 * time. 5 % of the payments are paid and confirmed, so the cycle also evaluates, writes and credits.
 * This is the baseline a later scaling change must beat.
 * Usage: npm run bench:watcher [-- 100 1000 10000]
 */
import { EsploraChainSource } from '../src/chain/esplora.js';
import { LabClient } from '../test/lab/client.js';
import { labDown, labUp } from '../test/lab/lab.js';
import { startTestDaemon, stopTestDaemon } from '../test/support/daemon.js';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const SIZES = sizes.length > 0 ? sizes : [100, 1000, 10_000];

const { started } = await labUp(() => undefined);
const lab = LabClient.fromState();
try {
  console.log('open payments | chain requests/cycle | cycle wall time | changed | credited');
  for (const size of SIZES) {
    const d = await startTestDaemon({ SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '1000000' });
    try {
      const chain = d.chain;
      if (!(chain instanceof EsploraChainSource))
        throw new Error('the benchmark reads Esplora stats');
      const paid: { address: string; sats: number }[] = [];
      for (let i = 0; i < size; i++) {
        const { payment } = await d.payments.create(
          {
            userId: `bench-${i % 50}`,
            price: { amount: String(10_000 + i), currency: 'SAT' },
            credits: 1,
          },
          { apiKeyId: 'bench' },
        );
        if (i % 20 === 0) paid.push({ address: payment.address, sats: payment.amountSats });
      }
      for (let i = 0; i < paid.length; i += 200) await lab.payMany(paid.slice(i, i + 200));
      await lab.mine(3);

      chain.resetStats();
      const report = await d.watcher.runCycle();
      const requests = Object.values(chain.stats().requests).reduce((s, n) => s + n, 0);
      console.log(
        `${String(size).padStart(13)} | ${String(requests).padStart(19)} | ${`${(report.durationMs / 1000).toFixed(2)} s`.padStart(15)} | ${String(report.changed).padStart(7)} | ${report.credited}`,
      );
      if (report.errors > 0) console.log(`  (${report.errors} errors in the cycle)`);
    } finally {
      await stopTestDaemon(d);
    }
  }
} finally {
  if (started) await labDown();
}
