/**
 * The operator's side against the lab, over one real history: a wallet configured by output
 * descriptor, eight payments of which three are paid (two credited and swept, one still
 * unconfirmed on its hot address). Then: `wallet gaps` and `wallet export` as processes, the
 * gap limit and hot balance in /metrics, the accounting CSVs over HTTP and from the CLI (parsed
 * back), HTTP request metrics, and the last reconcile run in /metrics.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Output, checksum } from '@bitcoinerlab/descriptors';
import { MongoClient } from 'mongodb';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WalletGaps } from '../../src/cli/wallet.js';
import type { Payment } from '../../src/payments/payment.js';
import type { Sweep } from '../../src/forwarding/sweep.js';
import type { ImportDescriptorRequest } from '../../src/wallet/watch-only-export.js';
import { bip32 } from '../../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../../src/wallet/networks.js';
import { LabClient } from '../lab/client.js';
import { freshKey } from '../lab/keys.js';
import { repoRoot } from '../lab/paths.js';
import { waitFor } from '../lab/process.js';
import {
  ACCOUNT_PATH,
  type TestDaemon,
  createSatsPayment,
  independentAddress,
  listen,
  newTestWallet,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';
import { parseExposition, valueOf } from '../support/prometheus.js';
import { spawnSatwatch } from '../support/satwatch-process.js';

const run = promisify(execFile);

let lab: LabClient;
let d: TestDaemon;
let descriptor: string;
const payments: { id: string; address: string; amountSats: number }[] = [];
const txids: Record<number, string> = {};
let sweep: Sweep;

async function satwatch(args: string[]) {
  const child = spawnSatwatch(args, d.env);
  const code = await child.exited;
  return { code, ...child.output() };
}

async function scrape() {
  const res = await d.ops.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  return parseExposition(res.body);
}

type CsvRecord = Record<string, string>;
const parseCsv = (text: string) =>
  parse<CsvRecord>(text, { columns: true, record_delimiter: '\r\n' });

beforeAll(async () => {
  lab = LabClient.fromState();
  await lab.setFeeEstimates({ '1': 20, '3': 8, '6': 3.5, '144': 1 });
  const wallet = newTestWallet();
  const tpub = bip32
    .fromSeed(wallet.seed, BITCOIN_NETWORKS.regtest)
    .derivePath(ACCOUNT_PATH)
    .neutered()
    .toBase58();
  const body = `wpkh([${wallet.masterFingerprint}/84h/1h/0h]${tpub}/0/*)`;
  descriptor = `${body}#${checksum(body)}`;
  d = await startTestDaemon(
    {
      // The wallet comes from the descriptor (and the xprv that signs sweeps), not an xpub.
      SATWATCH_WALLET_XPUB: undefined as unknown as string,
      SATWATCH_WALLET_DESCRIPTOR: descriptor,
      SATWATCH_WALLET_XPRV: wallet.tprv,
      SATWATCH_FORWARDING_MODE: 'sign',
      SATWATCH_FORWARDING_COLD_ADDRESS: freshKey().address,
      SATWATCH_FORWARDING_MIN_FEE_RATE: '1',
      SATWATCH_FORWARDING_MAX_FEE_RATE: '50',
      SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '100000',
    },
    { metricsCacheMs: 0 },
    wallet,
  );

  // Index 0: a fiat package; 1: a description that would be a spreadsheet formula; 2–7: sats.
  const starter = await d.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: d.merchant,
    payload: { userId: 'alice', packageId: 'starter' },
  });
  expect(starter.statusCode).toBe(201);
  payments.push(starter.json());
  const formula = await d.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: d.merchant,
    payload: {
      userId: 'bob',
      price: { amount: '30000', currency: 'SAT' },
      credits: 3,
      description: '=HYPERLINK("http://x","y")',
    },
  });
  expect(formula.statusCode).toBe(201);
  payments.push(formula.json());
  for (const sats of [10_000, 10_000, 10_000, 10_000, 40_000, 10_000])
    payments.push(await createSatsPayment(d, 'carol', sats, 1));
  expect(payments.map((p, i) => [p.address, i])).toEqual(
    await Promise.all(payments.map(async (_, i) => [await independentAddress(wallet, i), i])),
  );

  // 0 and 1: paid, confirmed, credited, swept (and the sweep confirmed).
  const paid = await lab.payMany(
    [0, 1].map((i) => ({ address: payments[i]!.address, sats: payments[i]!.amountSats })),
  );
  txids[0] = txids[1] = paid.txid;
  await lab.mine(3);
  const first = await d.watcher.runCycle();
  expect(first.credited).toBe(2);
  expect(first.forwarding).toMatchObject({ broadcast: 1, errors: 0 });
  await lab.mine(1);
  expect((await d.watcher.runCycle()).forwarding?.confirmed).toBe(1);
  [sweep] = (await d.sweeps.inState('confirmed')) as [Sweep];
  expect(sweep.inputs.map((i) => i.paymentId).sort()).toEqual(
    [payments[0]!.id, payments[1]!.id].sort(),
  );

  // 6: paid but not confirmed: its coins are still on the hot address.
  txids[6] = (await lab.pay(payments[6]!.address, 40_000)).txid;
  await d.watcher.runCycle();
}, 240_000);

afterAll(async () => {
  await lab.setFeeEstimates(null);
  await stopTestDaemon(d);
});

describe('satwatch wallet gaps', () => {
  it('reports the longest unused run, the gap limit to set, and the coins still on hot addresses', async () => {
    const result = await satwatch(['wallet', 'gaps', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as WalletGaps;
    expect(report.descriptor).toBe(descriptor);
    expect(report.gaps).toEqual({
      issued: 8,
      used: 3,
      longestUnusedRun: 4,
      longestRunStart: 2,
      trailingUnused: 1,
      requiredGapLimit: 5,
      gapLimitForIssued: 5,
    });
    expect(report.hotAddresses).toEqual([
      {
        index: 6,
        address: payments[6]!.address,
        path: "m/84'/1'/0'/0/6",
        paymentId: payments[6]!.id,
        outputs: [expect.objectContaining({ txid: txids[6], valueSats: 40_000 })],
        sats: 40_000,
      },
    ]);
    expect(report.hotSats).toBe(40_000);

    const text = await satwatch(['wallet', 'gaps']);
    expect(text.stdout).toContain(
      'longest run of unused addresses before a used one: 4 (indexes 2–5)',
    );
    expect(text.stdout).toContain('gap limit to see every coin recorded: 5');
  });

  it('puts the same gap limit and the hot balance in /metrics', async () => {
    await waitFor(
      'the wallet figures in /metrics',
      async () => {
        const metrics = await scrape();
        const ok =
          valueOf(metrics, 'satwatch_wallet_required_gap_limit') === 5 &&
          valueOf(metrics, 'satwatch_hot_wallet_sats') === 40_000 &&
          valueOf(metrics, 'satwatch_wallet_issued_addresses') === 8;
        return ok || undefined;
      },
      30_000,
    );
  });
});

describe('satwatch wallet export', () => {
  it('prints importdescriptors requests whose receive descriptor derives the payment addresses', async () => {
    const result = await satwatch(['wallet', 'export', '--json']);
    expect(result.code).toBe(0);
    const requests = JSON.parse(result.stdout) as ImportDescriptorRequest[];
    expect(requests).toEqual([
      {
        desc: descriptor,
        range: [0, 8 + 20],
        timestamp: expect.any(Number) as unknown,
        active: true,
        internal: false,
      },
      {
        desc: expect.stringMatching(/\/1\/\*\)#[a-z0-9]{8}$/) as unknown,
        range: [0, 20],
        timestamp: requests[0]!.timestamp,
        active: true,
        internal: true,
      },
    ]);
    expect(requests[0]!.timestamp).toBeLessThanOrEqual(Date.now() / 1000);
    for (const [index, payment] of payments.entries()) {
      const output = new Output({
        descriptor: requests[0]!.desc,
        index,
        network: BITCOIN_NETWORKS.regtest,
      });
      expect(output.getAddress()).toBe(payment.address);
    }
  });

  it('prints the Bitcoin Core commands and the Sparrow gap limit for a person', async () => {
    const result = await satwatch(['wallet', 'export', '--margin', '3']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('importdescriptors');
    expect(result.stdout).toContain(`#   ${descriptor}`);
    expect(result.stdout).toContain('Gap Limit: 5');
  });

  it('and satwatch derive prints the descriptor it uses', async () => {
    const result = await satwatch(['derive', '0', '2']);
    expect(result.stdout).toContain(`# descriptor ${descriptor}`);
    expect(result.stdout).toContain(payments[1]!.address);
  });
});

describe('the accounting exports', () => {
  const get = (url: string, headers: Record<string, string> = d.admin) =>
    d.app.inject({ method: 'GET', url, headers });

  it('stream every payment as RFC 4180 CSV with sats, exact BTC, fiat, txids and sweep fees', async () => {
    const res = await get('/v1/admin/exports/payments.csv');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="satwatch-payments-/);
    expect(res.body.split('\r\n')[0]).toMatch(/^payment_id,created_at,user_id,status,amount_sats,/);
    const rows = parseCsv(res.body);
    expect(rows.map((r) => r.payment_id)).toEqual(payments.map((p) => p.id));
    expect(rows[0]).toMatchObject({
      user_id: 'alice',
      status: 'forwarded',
      amount_sats: '20000',
      amount_btc: '0.00020000',
      confirmed_sats: '20000',
      credits: '100',
      credited_credits: '100',
      price_amount: '10.00',
      price_currency: 'USD',
      fiat_currency: 'USD',
      fiat_amount: '10.00',
      rate: '50000',
      package_id: 'starter',
      txids: txids[0],
      sweep_txids: sweep.txid,
      network: 'regtest',
    });
    expect(rows[1]!.description).toBe(`'=HYPERLINK("http://x","y")`);
    expect(Number(rows[0]!.sweep_fee_sats) + Number(rows[1]!.sweep_fee_sats)).toBe(sweep.feeSats);
    expect(rows[6]).toMatchObject({
      status: expect.stringMatching(/pending|confirming/) as unknown,
      received_sats: '40000',
      received_btc: '0.00040000',
      txids: txids[6],
      sweep_txids: '',
      sweep_fee_sats: '',
    });
    expect(rows[3]).toMatchObject({ txids: '', received_sats: '0', credited_credits: '0' });
  });

  it('export the ledger with the payment amount and fiat rate of each credit', async () => {
    const res = await get('/v1/admin/exports/ledger.csv');
    expect(res.statusCode).toBe(200);
    const rows = parseCsv(res.body);
    expect(rows).toHaveLength(2);
    const alice = rows.find((r) => r.user_id === 'alice');
    expect(alice).toMatchObject({
      type: 'credit',
      credits: '100',
      balance_after: '100',
      payment_id: payments[0]!.id,
      payment_amount_sats: '20000',
      payment_amount_btc: '0.00020000',
      fiat_currency: 'USD',
      fiat_amount: '10.00',
      rate: '50000',
    });
  });

  it('keep to the date range, and refuse a bad one naming the field', async () => {
    const empty = await get('/v1/admin/exports/payments.csv?to=2000-01-01');
    expect(empty.statusCode).toBe(200);
    expect(parseCsv(empty.body)).toEqual([]);
    expect(empty.body).toMatch(/^payment_id,.*\r\n$/);
    const all = await get(
      `/v1/admin/exports/payments.csv?from=2000-01-01&to=${new Date(Date.now() + 60_000).toISOString()}`,
    );
    expect(parseCsv(all.body)).toHaveLength(8);

    const bad = await get('/v1/admin/exports/ledger.csv?from=2026-13-45');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'invalid_request', field: 'from' });
    const reversed = await get('/v1/admin/exports/ledger.csv?from=2026-02-01&to=2026-01-01');
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json()).toMatchObject({ field: 'to' });
  });

  it('are for admin keys only', async () => {
    expect((await get('/v1/admin/exports/payments.csv', {})).statusCode).toBe(401);
    expect((await get('/v1/admin/exports/payments.csv', d.merchant)).statusCode).toBe(403);
  });

  it('come out of satwatch export the same as over HTTP', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'satwatch-export-'));
    for (const kind of ['payments', 'ledger']) {
      const file = path.join(dir, `${kind}.csv`);
      const result = await satwatch(['export', kind, '--from', '2000-01-01', '--out', file]);
      expect(result.code).toBe(0);
      const http = await get(`/v1/admin/exports/${kind}.csv?from=2000-01-01`);
      expect(readFileSync(file, 'utf8')).toBe(http.body);
    }
    // On a terminal (util-linux `script` gives it one) a progress line counts the rows.
    const command = [
      process.execPath,
      '--import',
      'tsx',
      path.join(repoRoot, 'src/main.ts'),
      'export',
      'payments',
      '--out',
      path.join(dir, 'tty.csv'),
    ].join(' ');
    const tty = await run('script', ['-qec', command, '/dev/null'], {
      cwd: repoRoot,
      env: { ...process.env, SATWATCH_LOG_LEVEL: 'warn', ...d.env },
    });
    expect(tty.stdout).toContain(`payments: 8 rows to ${path.join(dir, 'tty.csv')}`);
    const stdout = await satwatch(['export', 'ledger']);
    expect(parseCsv(stdout.stdout)).toHaveLength(2);
    const wrong = await satwatch(['export', 'invoices']);
    expect(wrong.code).toBe(2);
  });
});

describe('request metrics and the last reconcile', () => {
  it('count requests by route pattern, method and status, with their latency', async () => {
    await d.app.inject({
      method: 'GET',
      url: `/v1/payments/${payments[0]!.id}`,
      headers: d.merchant,
    });
    const metrics = await scrape();
    expect(
      valueOf(metrics, 'satwatch_http_requests_total', {
        route: '/v1/payments',
        method: 'POST',
        status: '201',
      }),
    ).toBeGreaterThanOrEqual(7);
    expect(
      valueOf(metrics, 'satwatch_http_requests_total', {
        route: '/v1/payments/:id',
        method: 'GET',
        status: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      valueOf(metrics, 'satwatch_http_request_duration_seconds_count', {
        route: '/v1/payments',
        method: 'POST',
      }),
    ).toBeGreaterThanOrEqual(7);
  });

  it('show the outcome of the last satwatch reconcile run', async () => {
    const before = await scrape();
    expect(valueOf(before, 'satwatch_reconcile_last_run_timestamp_seconds')).toBe(0);
    expect((await satwatch(['reconcile'])).code).toBe(0);
    await waitFor(
      'the reconcile run in /metrics',
      async () => {
        const metrics = await scrape();
        const ok =
          (valueOf(metrics, 'satwatch_reconcile_last_run_timestamp_seconds') ?? 0) > 0 &&
          valueOf(metrics, 'satwatch_reconcile_mismatches') === 0;
        return ok || undefined;
      },
      30_000,
    );
  });
});

describe('an export that fails half-way', () => {
  let e: TestDaemon;
  afterAll(async () => {
    await stopTestDaemon(e);
    // The daemon's own client is closed by the test: drop its database with another.
    const client = new MongoClient(lab.mongoUrl);
    try {
      await client.db(e.database).dropDatabase();
    } finally {
      await client.close();
    }
  });

  it('breaks the transfer instead of ending a short file that looks complete', async () => {
    e = await startTestDaemon();
    const { id } = await createSatsPayment(e, 'many', 20_000, 1);
    const collection = e.mongo.db.collection<Payment>('payments');
    const sample = (await collection.findOne({ _id: id }))!;
    // More rows than the socket buffers hold, so most are still to be read from MongoDB.
    const ROWS = 20_000;
    for (let start = 0; start < ROWS; start += 2000) {
      await collection.insertMany(
        Array.from({ length: 2000 }, (_, i) => ({
          ...sample,
          _id: `${id}-${start + i}`,
          address: `${sample.address}-${start + i}`,
        })),
      );
    }
    const base = await listen(e.app);
    const res = await fetch(`${base}/v1/admin/exports/payments.csv`, { headers: e.admin });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    // MongoDB goes away under the cursor.
    await e.mongo.client.close(true);
    let text = new TextDecoder().decode(first.value);
    const rest = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'ended';
        text += new TextDecoder().decode(value);
      }
    })();
    await expect(rest).rejects.toThrow();
    expect(text.split('\r\n').length).toBeLessThan(ROWS);
  });
});
