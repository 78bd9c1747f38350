/**
 * Time to verify and reduce a ~1.5 MB block (`parseVerifiedBlock`): the per-block CPU cost of the
 * block scan before matching. Run with `npx tsx bench/block-parse.ts [bytes] [runs]`.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseVerifiedBlock } from '../src/chain/block.js';
import { blockOfSize } from '../test/unit/fixtures/synthetic-block.js';

const bytes = Number(process.argv[2] ?? 1_500_000);
const runs = Number(process.argv[3] ?? 10);
const { raw, hash, block } = blockOfSize(bytes);
const times: number[] = [];
// CPU time as well as wall time: on a shared machine the wall clock mostly measures the queue.
const cpu: number[] = [];
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  parseVerifiedBlock(raw, hash, { network: 'regtest' });
  const used = process.cpuUsage(cpuStart);
  times.push(performance.now() - start);
  cpu.push((used.user + used.system) / 1000);
}
cpu.sort((a, b) => a - b);
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] ?? 0;
console.log(
  JSON.stringify({
    bytes: raw.length,
    transactions: block.transactions?.length ?? 0,
    runs,
    medianMs: Math.round(median),
    minMs: Math.round(times[0] ?? 0),
    maxMs: Math.round(times.at(-1) ?? 0),
    medianCpuMs: Math.round(cpu[Math.floor(cpu.length / 2)] ?? 0),
    loadAverage: os.loadavg()[0]?.toFixed(1),
  }),
);
