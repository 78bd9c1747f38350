/**
 * Block-scan watcher cost against the lab (btcd regtest behind the Esplora facade,
 * mongo-java-server), for N issued addresses (old, expired payments inserted straight into
 * MongoDB) plus 10 checkouts whose payers have the page open:
 *
 * - chain requests of an idle cycle (the tip hash + one mempool look per watched checkout),
 * - chain requests of a cycle with one new block,
 * - MongoDB commands per idle cycle (driver command monitoring),
 * - wall time of those cycles and of the first one (which loads the watched set),
 * - time to verify and match a ~1.5 MB block (~4,000 transactions) against the watched set,
 * - resident memory.
 *
 * Sizes above `--db-max` (default 100,000) are measured in memory only: the watched set is
 * filled directly (the same structure the watcher loads from MongoDB) and a block is matched
 * against it; mongo-java-server keeps everything on the Java heap and is not meant for 10⁶
 * documents. Usage: npm run bench:watcher [-- 1000 10000 100000 1000000] [--db-max N]
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import * as bitcoin from 'bitcoinjs-lib';
import type { CommandStartedEvent } from 'mongodb';
import { parseVerifiedBlock } from '../src/chain/block.js';
import { EsploraChainSource } from '../src/chain/esplora.js';
import { type Daemon, createDaemon } from '../src/daemon.js';
import type { Payment } from '../src/payments/payment.js';
import { initialTrackedState } from '../src/payments/state-machine.js';
import { summarize, trackedOf } from '../src/watcher/block-scan.js';
import { WatchedSet } from '../src/watcher/watched-set.js';
import { LabClient } from '../test/lab/client.js';
import { labDown, labUp } from '../test/lab/lab.js';
import { startTestDaemon } from '../test/support/daemon.js';
import { blockOfSize, syntheticTransaction } from '../test/unit/fixtures/synthetic-block.js';

const args = process.argv.slice(2);
const dbMaxAt = args.indexOf('--db-max');
const DB_MAX = dbMaxAt >= 0 ? Number(args[dbMaxAt + 1]) : 100_000;
const sizes = args
  .filter((_, i) => dbMaxAt < 0 || (i !== dbMaxAt && i !== dbMaxAt + 1))
  .map(Number)
  .filter((n) => n > 0);
const SIZES = sizes.length > 0 ? sizes : [1000, 10_000, 100_000, 1_000_000];
const WATCHED = 10;
const network = bitcoin.networks.regtest;

/** A random P2WPKH regtest address (no key behind it: nobody will pay it). */
function randomAddress(): string {
  return bitcoin.payments.p2wpkh({ hash: randomBytes(20), network }).address ?? '';
}

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;

/** A ~1.5 MB block with 10 outputs paying addresses from `addresses`; verify + match time. */
function matchTime(watched: WatchedSet, addresses: string[]) {
  const extra = addresses.slice(0, 10).map((address) =>
    syntheticTransaction({
      inputs: 2,
      outputs: [
        { script: bitcoin.address.toOutputScript(address, network), sats: 25_000 },
        { sats: 10_000 },
      ],
    }),
  );
  const { raw, hash } = blockOfSize(1_500_000, extra);
  const runs: number[] = [];
  const cpu: number[] = [];
  let matched = 0;
  let txs = 0;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const block = parseVerifiedBlock(raw, hash, { network: 'regtest' });
    const summary = summarize(block, watched, trackedOf([]));
    runs.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
    matched = summary.candidates.length; // confirmed by one indexed look-up per block in the scan
    txs = block.transactions.length;
  }
  runs.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  // CPU time as well as wall time: on a shared machine the wall clock mostly measures the queue.
  return { ms: runs[2] ?? 0, cpuMs: cpu[2] ?? 0, matched, txs, bytes: raw.length };
}

function paymentDoc(address: string, now: Date, watched: boolean): Payment {
  const createdAt = new Date(now.getTime() - (watched ? 3600_000 : 2 * 86_400_000));
  return {
    _id: `pay_${randomBytes(12).toString('base64url')}`,
    userId: 'bench',
    network: 'regtest',
    version: 0,
    outbox: [],
    ...initialTrackedState(),
    status: watched ? 'pending' : 'expired',
    watching: false,
    amountSats: 20_000,
    credits: 1,
    price: { amount: '20000', currency: 'SAT' },
    address,
    derivation: {
      index: 0,
      path: "m/84'/1'/0'/0/0",
      scriptType: 'p2wpkh',
      accountFingerprint: '00000000',
    },
    requiredConfirmations: 3,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + (watched ? 7200_000 : 3600_000)),
    createdBy: 'bench',
    requestHash: 'bench',
    events: [],
    ...(watched && { lastViewedAt: now }),
  };
}

interface Row {
  n: number;
  mode: string;
  loadMs: number;
  idleRequests: string;
  blockRequests: string;
  idleMongo: string;
  idleMs: string;
  blockMs: string;
  match: string;
  rss: string;
}

async function measureWithDatabase(n: number, lab: LabClient): Promise<Row> {
  // A first daemon starts the scan on an empty database (no first-start catch-up).
  const first = await startTestDaemon();
  await first.watcher.runCycle();
  const now = new Date();
  const addresses: string[] = [];
  const batch: Payment[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await first.mongo.db.collection<Payment>('payments').insertMany(batch.splice(0));
  };
  for (let i = 0; i < n + WATCHED; i++) {
    const address = randomAddress();
    addresses.push(address);
    batch.push(paymentDoc(address, now, i >= n));
    if (batch.length === 5000) await flush();
  }
  await flush();

  let commands = 0;
  await first.close();
  const d: Daemon = await createDaemon(first.config, {
    mongoOptions: { monitorCommands: true },
  });
  d.mongo.client.on('commandStarted', (_event: CommandStartedEvent) => {
    commands++;
  });
  try {
    const chain = d.chain;
    if (!(chain instanceof EsploraChainSource))
      throw new Error('the benchmark reads Esplora stats');
    const requests = () => Object.values(chain.stats().requests).reduce((s, x) => s + x, 0);
    let t = performance.now();
    await d.watcher.runCycle(); // loads the watched set
    const loadMs = performance.now() - t;

    await d.watcher.runCycle();
    // The payers have their pages open right now (the load may have taken longer than the window).
    await d.mongo.db
      .collection<Payment>('payments')
      .updateMany({ status: 'pending' }, { $set: { lastViewedAt: new Date() } });
    chain.resetStats();
    commands = 0;
    const idle = await d.watcher.runCycle();
    const idleRequests = requests();
    const idleMempool = chain.stats().requests['/address/:a/txs/mempool'] ?? 0;
    const idleCommands = commands;

    await lab.mine(1);
    chain.resetStats();
    t = performance.now();
    const block = await d.watcher.runCycle();
    const blockMs = performance.now() - t;
    const blockRequests = requests() - (chain.stats().requests['/address/:a/txs/mempool'] ?? 0);

    const match = matchTime(d.watcher.watched, addresses);
    return {
      n,
      mode: 'MongoDB',
      loadMs,
      idleRequests: `${idleRequests - idleMempool} + ${idleMempool} mempool`,
      blockRequests: `${blockRequests} (+ mempool)`,
      idleMongo: String(idleCommands),
      idleMs: ms(idle.durationMs),
      blockMs: `${ms(blockMs)} (${block.blocksApplied} block)`,
      match: `${ms(match.ms)} wall, ${ms(match.cpuMs)} CPU (${match.txs} txs, ${(match.bytes / 1e6).toFixed(2)} MB, ${match.matched} hits)`,
      rss: mb(process.memoryUsage().rss),
    };
  } finally {
    await d.mongo.db.dropDatabase();
    await d.close();
  }
}

function measureInMemory(n: number): Row {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const watched = new WatchedSet(undefined as never);
  const addresses: string[] = [];
  let loadMs = 0;
  for (let i = 0; i < n; i++) {
    const address = randomAddress();
    if (i < 10) addresses.push(address);
    const t = performance.now();
    watched.add(address, 'regtest'); // what the load does per payment read from MongoDB
    loadMs += performance.now() - t;
  }
  gc?.();
  const setBytes = process.memoryUsage().heapUsed - heapBefore;
  const match = matchTime(watched, addresses);
  return {
    n,
    mode: 'in memory',
    loadMs,
    idleRequests: '—',
    blockRequests: '—',
    idleMongo: '—',
    idleMs: '—',
    blockMs: '—',
    match: `${ms(match.ms)} wall, ${ms(match.cpuMs)} CPU (${match.txs} txs, ${(match.bytes / 1e6).toFixed(2)} MB, ${match.matched} hits)`,
    rss: `${mb(process.memoryUsage().rss)} (set: ${gc ? mb(setBytes) : 'run with --expose-gc'})`,
  };
}

const { started } = await labUp(() => undefined);
const lab = LabClient.fromState();
const rows: Row[] = [];
console.error(`load average at start: ${os.loadavg()[0]?.toFixed(1)} on ${os.cpus().length} CPUs`);
try {
  for (const n of SIZES) {
    rows.push(n <= DB_MAX ? await measureWithDatabase(n, lab) : measureInMemory(n));
    console.error(`done: ${n}`);
  }
} finally {
  if (started) await labDown();
}
const header = [
  'issued',
  'measured',
  'set load',
  'idle requests',
  'new-block requests',
  'Mongo cmds/idle',
  'idle cycle',
  'new-block cycle',
  'verify + match 1.5 MB block',
  'RSS',
];
console.log(`| ${header.join(' | ')} |`);
console.log(`| ${header.map(() => '---').join(' | ')} |`);
for (const r of rows) {
  console.log(
    `| ${r.n.toLocaleString('en')} | ${r.mode} | ${ms(r.loadMs)} | ${r.idleRequests} | ${r.blockRequests} | ${r.idleMongo} | ${r.idleMs} | ${r.blockMs} | ${r.match} | ${r.rss} |`,
  );
}
