/**
 * Cost of making a sweep in sign mode, all in memory (no lab): plan + build the PSBT + sign,
 * verify, finalize and extract, for 1, 10 and 100 p2wpkh inputs (and p2tr for comparison).
 * Median and spread of several runs after a warm-up, one core.
 * Usage: npx tsx bench/sweep-build.ts [-- <runs>]
 */
import { planSweep } from '../src/forwarding/tx/plan.js';
import { buildSweepPsbt } from '../src/forwarding/tx/psbt.js';
import { signSweep } from '../src/forwarding/tx/sign.js';
import type { ScriptType } from '../src/wallet/extended-key.js';
import { fakeTxid, freshDestination, makeWallet } from '../test/support/sweep-wallet.js';

const RUNS = Number(process.argv[2] ?? 21);
const SIZES = [1, 10, 100];
const wallet = makeWallet();
const destination = freshDestination();

function sweepOnce(scriptType: ScriptType, n: number, run: number): number {
  const account = wallet.account(scriptType);
  const inputs = Array.from({ length: n }, (_, i) => ({
    txid: fakeTxid(`${scriptType}:${n}:${run}:${i}`),
    vout: i % 4,
    valueSats: 50_000 + i,
    scriptType,
    // Fresh indexes every run: no derivation is served from a warm cache.
    index: run * n + i,
  }));
  const t0 = performance.now();
  const plan = planSweep(inputs, destination, 2, 'regtest', 10_000);
  const psbt = buildSweepPsbt(plan, account.sweep, 'regtest');
  signSweep(psbt, plan, account.node);
  return performance.now() - t0;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

console.log(`plan + build + sign a sweep (median of ${RUNS} runs, after 3 warm-up runs)`);
console.log('inputs | script type | median ms | min ms | p90 ms | ms per input');
for (const scriptType of ['p2wpkh', 'p2tr'] as const) {
  for (const n of SIZES) {
    for (let w = 0; w < 3; w++) sweepOnce(scriptType, n, 10_000 + w);
    const times = Array.from({ length: RUNS }, (_, run) => sweepOnce(scriptType, n, run)).sort(
      (a, b) => a - b,
    );
    const median = quantile(times, 0.5);
    console.log(
      `${String(n).padStart(6)} | ${scriptType.padEnd(11)} | ${median.toFixed(2).padStart(9)} | ${times[0]!.toFixed(2).padStart(6)} | ${quantile(times, 0.9).toFixed(2).padStart(6)} | ${(median / n).toFixed(3)}`,
    );
  }
}
