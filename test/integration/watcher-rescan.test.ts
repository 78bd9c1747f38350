/**
 * `satwatch rescan` as an operator runs it, on the lab: a payment restored into the database
 * after its block was scanned is found by rescanning the range, credited once, and a second
 * rescan of the same range changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payment } from '../../src/payments/payment.js';
import { LabClient } from '../lab/client.js';
import {
  type TestDaemon,
  createSatsPayment,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';
import { spawnSatwatch } from '../support/satwatch-process.js';

const lab = LabClient.fromState();
let d: TestDaemon;

beforeAll(async () => {
  d = await startTestDaemon();
});
afterAll(() => stopTestDaemon(d));

async function rescan(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const proc = spawnSatwatch(['rescan', ...args], { ...d.env, SATWATCH_LOG_LEVEL: 'warn' });
  const code = await proc.exited;
  const { stdout, stderr } = proc.output();
  return { code, out: stdout, err: stderr };
}

describe('satwatch rescan', () => {
  it('finds money for a payment restored after its block was scanned, credits it once, and is idempotent', async () => {
    await d.watcher.runCycle(); // the scan starts at the tip
    const p = await createSatsPayment(d, 'restored', 20_000, 4);
    const payments = d.mongo.db.collection<Payment>('payments');
    const doc = await payments.findOne({ _id: p.id });
    await payments.deleteOne({ _id: p.id }); // as if the database were restored from an older backup
    await lab.pay(p.address, 20_000);
    const [first] = await lab.mine(3);
    await d.watcher.runCycle(); // the scan passes the block: nothing to match
    await payments.insertOne(doc!); // the payment comes back
    await d.watcher.runCycle();
    expect((await payments.findOne({ _id: p.id }))?.receivedSats).toBe(0);

    const from = (await lab.tipHeight()) - 2;
    const to = await lab.tipHeight();
    expect(await lab.rpc.call<string>('getblockhash', from)).toBe(first);
    const run = await rescan(['--from', String(from), '--to', String(to)]);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain(`rescan: 3/3 blocks, height ${to}, 1 outputs matched`);
    expect(run.out).toContain('1 payments updated');
    expect(await payments.findOne({ _id: p.id })).toMatchObject({
      status: 'confirmed',
      receivedSats: 20_000,
      credit: { state: 'done' },
    });
    expect((await d.ledger.balance('restored')).balance).toBe(4);

    const again = await rescan(['--from', String(from), '--to', String(to)]);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('0 payments updated');
    expect((await d.ledger.balance('restored')).balance).toBe(4);
  }, 120_000);

  it('refuses a missing or bad range with the usage text (exit 2)', async () => {
    for (const args of [[], ['--from', 'ten'], ['--from', '10', '--to', '5'], ['--form', '1']]) {
      const run = await rescan(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.err).toContain('satwatch rescan --from <height> [--to <height>]');
    }
  }, 120_000);
});
