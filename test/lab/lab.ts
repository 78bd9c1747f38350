/**
 * Brings the whole lab up (btcd regtest, mongo-java-server, esplora facade with the payer)
 * on free ports with temp data dirs, and tears it down. `labUp` is idempotent: a healthy
 * running lab is reused, a broken one is cleaned away and started afresh.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { ensureBtcd, ensureMongoClasspath } from './install.js';
import { labDir, labStateFile, repoRoot } from './paths.js';
import { PayerWallet } from './payer.js';
import { freePort, isAlive, spawnDetached, stopProcess, waitFor } from './process.js';
import { BtcdRpc } from './rpc.js';

/** Blocks mined at start: past segwit/taproot activation (432 on regtest) with ~400 mature coinbases. */
const INITIAL_BLOCKS = 500;

export interface LabState {
  dir: string;
  /** Hash of the lab's own sources: a lab started from other code is stale. */
  codeHash: string;
  startedAt: string;
  btcd: { pid: number; rpcUrl: string; rpcUser: string; rpcPass: string; log: string };
  mongo: { pid: number; url: string; log: string };
  esplora: { pid: number; url: string; log: string };
  payer: { privateKeyHex: string; address: string };
}

function labCodeHash(): string {
  const hash = createHash('sha256');
  const root = path.join(repoRoot, 'test/lab');
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|java|xml)$/.test(f))
    .sort();
  for (const file of files) hash.update(file).update(readFileSync(path.join(root, file)));
  return hash.digest('hex').slice(0, 16);
}

export function readLabState(): LabState | undefined {
  if (!existsSync(labStateFile)) return undefined;
  return JSON.parse(readFileSync(labStateFile, 'utf8')) as LabState;
}

export function btcdRpc(state: LabState): BtcdRpc {
  return new BtcdRpc({
    url: state.btcd.rpcUrl,
    user: state.btcd.rpcUser,
    pass: state.btcd.rpcPass,
  });
}

async function mongoPing(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return true;
  } finally {
    await client.close();
  }
}

async function esploraHealthy(url: string): Promise<boolean> {
  const res = await fetch(`${url}/_lab/health`, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

export async function isLabHealthy(state: LabState): Promise<boolean> {
  if (state.codeHash !== labCodeHash()) return false;
  if (![state.btcd.pid, state.mongo.pid, state.esplora.pid].every(isAlive)) return false;
  try {
    await btcdRpc(state).call('getblockcount');
    return (await mongoPing(state.mongo.url)) && (await esploraHealthy(state.esplora.url));
  } catch {
    return false;
  }
}

export async function labUp(
  log: (line: string) => void = console.log,
): Promise<{ state: LabState; started: boolean }> {
  const existing = readLabState();
  if (existing) {
    if (await isLabHealthy(existing)) return { state: existing, started: false };
    log('[lab] found a stale lab; cleaning it up');
    await labDown();
  }
  const t0 = Date.now();
  const { btcd } = ensureBtcd();
  const mongoClasspath = ensureMongoClasspath();

  mkdirSync(labDir, { recursive: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'satwatch-lab-'));
  const [rpcPort, mongoPort, esploraPort] = [await freePort(), await freePort(), await freePort()];
  const rpcUser = 'lab';
  const rpcPass = randomBytes(12).toString('hex');
  const payerKey = PayerWallet.newPrivateKeyHex();
  const payerAddress = PayerWallet.addressOf(payerKey);

  const btcdDir = path.join(dir, 'btcd');
  mkdirSync(path.join(btcdDir, 'home'), { recursive: true });
  const btcdLog = path.join(dir, 'btcd.log');
  const btcdPid = spawnDetached(
    btcd,
    [
      '--regtest',
      '--txindex',
      '--addrindex',
      '--notls',
      `--rpclisten=127.0.0.1:${rpcPort}`,
      `--rpcuser=${rpcUser}`,
      `--rpcpass=${rpcPass}`,
      '--nolisten',
      `--miningaddr=${payerAddress}`,
      `--datadir=${path.join(btcdDir, 'data')}`,
      `--logdir=${path.join(btcdDir, 'logs')}`,
      '--limitfreerelay=0',
      '--rejectnonstd',
    ],
    btcdLog,
    // btcd always creates ~/.btcd; keep it inside the lab's temp dir.
    { ...process.env, HOME: path.join(btcdDir, 'home') },
  );

  const mongoLog = path.join(dir, 'mongo.log');
  const mongoPid = spawnDetached(
    'java',
    [
      '-Xmx2g',
      '-cp',
      mongoClasspath,
      path.join(repoRoot, 'test/lab/mongo/Launcher.java'),
      String(mongoPort),
    ],
    mongoLog,
  );
  const mongoUrl = `mongodb://127.0.0.1:${mongoPort}`;
  const rpcUrl = `http://127.0.0.1:${rpcPort}`;
  const partial: Partial<LabState> = {
    dir,
    codeHash: labCodeHash(),
    btcd: { pid: btcdPid, rpcUrl, rpcUser, rpcPass, log: btcdLog },
    mongo: { pid: mongoPid, url: mongoUrl, log: mongoLog },
  };
  // Record pids at once so `lab down` can clean up even if the rest of the start fails.
  writeFileSync(labStateFile, JSON.stringify(partial, null, 2));

  const rpc = new BtcdRpc({ url: rpcUrl, user: rpcUser, pass: rpcPass });
  await waitFor('btcd RPC', () => rpc.call<number>('getblockcount'), 30_000, btcdLog);
  await rpc.call('generate', INITIAL_BLOCKS);
  const info = await rpc.call<{ bip9_softforks: Record<string, { status: string }> }>(
    'getblockchaininfo',
  );
  for (const fork of ['segwit', 'taproot']) {
    const status = info.bip9_softforks[fork]?.status;
    if (status !== 'active')
      throw new Error(`${fork} is "${status ?? 'unknown'}" after ${INITIAL_BLOCKS} blocks`);
  }
  await waitFor(
    'mongo-java-server',
    () => mongoPing(mongoUrl).then((ok) => ok || undefined),
    60_000,
    mongoLog,
  );

  const esploraLog = path.join(dir, 'esplora.log');
  const esploraUrl = `http://127.0.0.1:${esploraPort}`;
  const esploraPid = spawnDetached(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'test/lab/esplora/server.ts')],
    esploraLog,
    {
      ...process.env,
      LAB_BTCD_RPC_URL: rpcUrl,
      LAB_BTCD_RPC_USER: rpcUser,
      LAB_BTCD_RPC_PASS: rpcPass,
      LAB_PAYER_KEY: payerKey,
      LAB_ESPLORA_PORT: String(esploraPort),
    },
  );
  const state: LabState = {
    ...(partial as Pick<LabState, 'dir' | 'codeHash' | 'btcd' | 'mongo'>),
    startedAt: new Date().toISOString(),
    esplora: { pid: esploraPid, url: esploraUrl, log: esploraLog },
    payer: { privateKeyHex: payerKey, address: payerAddress },
  };
  writeFileSync(labStateFile, JSON.stringify(state, null, 2));
  await waitFor(
    'esplora facade',
    () => esploraHealthy(esploraUrl).then((ok) => ok || undefined),
    30_000,
    esploraLog,
  );
  log(
    `[lab] up in ${Date.now() - t0} ms: esplora ${esploraUrl}, mongo ${mongoUrl}, btcd ${rpcUrl}`,
  );
  return { state, started: true };
}

export async function labDown(): Promise<void> {
  const state = readLabState() as Partial<LabState> | undefined;
  if (!state) return;
  await Promise.all(
    [state.esplora?.pid, state.mongo?.pid, state.btcd?.pid]
      .filter((pid): pid is number => pid !== undefined)
      .map((pid) => stopProcess(pid)),
  );
  if (state.dir) rmSync(state.dir, { recursive: true, force: true });
  rmSync(labStateFile, { force: true });
}
