/**
 * The newcomer's sandbox: satwatch from source against the test lab, with a throwaway regtest
 * wallet, a demo payment, and a command that pays it and mines until it is forwarded.
 *
 *   npm run sandbox        lab up; fresh wallet, keys and .lab/sandbox.env; daemon in the
 *                          background (logs in .lab/sandbox.log); a demo payment
 *   npm run sandbox:pay    pay the demo payment from the lab's wallet, mine, follow it to forwarded
 *   npm run sandbox:down   stop the sandbox daemon, delete its keys (the lab keeps running:
 *                          npm run lab:down stops it)
 *
 * Running `npm run sandbox` again stops the previous sandbox daemon and starts a fresh one.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as bip39 from 'bip39';
import bs58check from 'bs58check';
import * as bitcoin from 'bitcoinjs-lib';
import { MongoClient } from 'mongodb';
import { hashApiKey, newApiKey } from '../src/api/auth.js';
import { bip32 } from '../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../src/wallet/networks.js';
import { LabClient } from '../test/lab/client.js';
import { labUp } from '../test/lab/lab.js';
import { labDir, repoRoot } from '../test/lab/paths.js';
import { freePort, isAlive, sleep, spawnDetached, stopProcess } from '../test/lab/process.js';

const files = {
  state: path.join(labDir, 'sandbox.json'),
  env: path.join(labDir, 'sandbox.env'),
  log: path.join(labDir, 'sandbox.log'),
  xprv: path.join(labDir, 'sandbox-xprv'),
};
const rel = (file: string) => path.relative(process.cwd(), file) || file;

const DATABASE = 'sandbox';
const ACCOUNT = "m/84'/1'/0'";
/** The cold wallet stands in as the seed's second account; in real life it is another wallet. */
const COLD_ACCOUNT = "m/84'/1'/1'";
const WATCHER_INTERVAL_SECONDS = 2;
const REQUIRED_CONFIRMATIONS = 3;
/**
 * Sweeps wait for one block more than the payment needs, so `sandbox:pay` shows each step:
 * 3 blocks → confirmed (credited), 1 more → forwarded (swept to the cold address).
 */
const SWEEP_CONFIRMATIONS = REQUIRED_CONFIRMATIONS + 1;
/** Bound on every wait of `sandbox:pay` for the daemon to see a change. */
const STEP_TIMEOUT_MS = 30_000;
/** Longer than the daemon's own shutdown bound (30 s), so a graceful stop is never cut short. */
const STOP_GRACE_MS = 40_000;

interface SandboxState {
  pid: number;
  url: string;
  paymentId: string;
  merchantKey: string;
  adminKey: string;
  coldAddress: string;
  startedAt: string;
}

interface PaymentView {
  id: string;
  status: string;
  address: string;
  amountSats: number;
  receivedSats: number;
  confirmations: number;
  requiredConfirmations: number;
  creditedCredits: number;
  checkoutUrl: string;
}

function say(line: string): void {
  console.log(`[sandbox] ${line}`);
}

class SandboxError extends Error {}

/** A throwaway BIP84 regtest wallet: the daemon gets the account's vpub and tprv. */
function throwawayWallet() {
  const mnemonic = bip39.generateMnemonic();
  const root = bip32.fromSeed(bip39.mnemonicToSeedSync(mnemonic), BITCOIN_NETWORKS.regtest);
  const account = root.derivePath(ACCOUNT);
  const payload = Buffer.from(bs58check.decode(account.neutered().toBase58()));
  payload.writeUInt32BE(0x045f1cf6, 0); // tpub → vpub (SLIP-132: BIP84 on test networks)
  const cold = root.derivePath(`${COLD_ACCOUNT}/0/0`);
  const coldAddress = bitcoin.payments.p2wpkh({
    pubkey: cold.publicKey,
    network: BITCOIN_NETWORKS.regtest,
  }).address;
  if (coldAddress === undefined) throw new Error('cannot derive the cold address');
  return {
    mnemonic,
    vpub: bs58check.encode(payload),
    tprv: account.toBase58(),
    masterFingerprint: Buffer.from(root.fingerprint).toString('hex'),
    coldAddress,
  };
}

function readState(): SandboxState | undefined {
  if (!existsSync(files.state)) return undefined;
  return JSON.parse(readFileSync(files.state, 'utf8')) as SandboxState;
}

/** The recorded pid is still our daemon (not a recycled pid of something else). */
function isSandboxDaemon(pid: number): boolean {
  if (!isAlive(pid)) return false;
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self')) return true; // no procfs (macOS): trust the pid
  try {
    return readFileSync(cmdline, 'utf8').includes('src/main.ts');
  } catch {
    return false;
  }
}

async function stopDaemon(): Promise<boolean> {
  const state = readState();
  rmSync(files.state, { force: true });
  if (!state || !isSandboxDaemon(state.pid)) return false;
  await stopProcess(state.pid, STOP_GRACE_MS);
  return true;
}

async function api<T>(
  state: Pick<SandboxState, 'url'>,
  key: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${state.url}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...(method === 'POST' && { 'idempotency-key': 'sandbox-demo' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new SandboxError(`${method} ${route} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

function logTail(): string {
  if (!existsSync(files.log)) return '';
  return readFileSync(files.log, 'utf8').trim().split('\n').slice(-15).join('\n');
}

/** Shell exports, single-quoted (no value we write holds a single quote). */
function envFile(env: Record<string, string>, header: string[]): string {
  const lines = header.map((l) => `# ${l}`);
  for (const [name, value] of Object.entries(env)) {
    if (value.includes("'")) throw new Error(`${name} holds a quote`);
    lines.push(`export ${name}='${value}'`);
  }
  return `${lines.join('\n')}\n`;
}

async function up(): Promise<void> {
  const { state: lab, started } = await labUp((line) => {
    say(line);
  });
  if (!started) say(`the lab is running (esplora ${lab.esplora.url}, mongo ${lab.mongo.url})`);
  if (await stopDaemon()) say('stopped the previous sandbox daemon');

  // A fresh database: payments of an earlier sandbox belong to another wallet.
  const mongo = new MongoClient(lab.mongo.url, { serverSelectionTimeoutMS: 5000 });
  try {
    await mongo.db(DATABASE).dropDatabase();
  } finally {
    await mongo.close();
  }

  const wallet = throwawayWallet();
  const merchantKey = newApiKey();
  const adminKey = newApiKey();
  const port = await freePort();
  // The ops listener too: the default 9464 may be another daemon's on this machine.
  const opsPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(labDir, { recursive: true });
  writeFileSync(files.xprv, `${wallet.tprv}\n`, { mode: 0o600 });
  chmodSync(files.xprv, 0o600);
  const daemonEnv: Record<string, string> = {
    SATWATCH_NETWORK: 'regtest',
    SATWATCH_HTTP_HOST: '127.0.0.1',
    SATWATCH_HTTP_PORT: String(port),
    SATWATCH_OPS_PORT: String(opsPort),
    SATWATCH_PUBLIC_URL: url,
    SATWATCH_LOG_LEVEL: 'info',
    SATWATCH_MONGO_URL: lab.mongo.url,
    SATWATCH_MONGO_DATABASE: DATABASE,
    SATWATCH_CHAIN_ESPLORA_URLS: lab.esplora.url,
    SATWATCH_WATCHER_INTERVAL_SECONDS: String(WATCHER_INTERVAL_SECONDS),
    SATWATCH_WALLET_XPUB: wallet.vpub,
    // The private key goes in through a file, as the README recommends for real deployments.
    SATWATCH_WALLET_XPRV_FILE: files.xprv,
    SATWATCH_WALLET_MASTER_FINGERPRINT: wallet.masterFingerprint,
    SATWATCH_PAYMENTS_REQUIRED_CONFIRMATIONS: String(REQUIRED_CONFIRMATIONS),
    SATWATCH_FORWARDING_MODE: 'sign',
    SATWATCH_FORWARDING_COLD_ADDRESS: wallet.coldAddress,
    SATWATCH_FORWARDING_MIN_CONFIRMATIONS: String(SWEEP_CONFIRMATIONS),
    SATWATCH_API_KEYS: JSON.stringify([
      { id: 'sandbox-merchant', role: 'merchant', sha256: hashApiKey(merchantKey) },
      { id: 'sandbox-admin', role: 'admin', sha256: hashApiKey(adminKey) },
    ]),
    SATWATCH_RATES_FIXED: JSON.stringify({ USD: '100000', EUR: '92000' }),
    SATWATCH_CHECKOUT_MERCHANT_NAME: 'satwatch sandbox',
  };
  writeFileSync(
    files.env,
    envFile({ ...daemonEnv, SATWATCH_MERCHANT_KEY: merchantKey, SATWATCH_ADMIN_KEY: adminKey }, [
      'satwatch sandbox (regtest, throwaway): source it to call the API or run the daemon yourself.',
      `wallet seed (BIP39, regtest only): ${wallet.mnemonic}`,
      `hot account ${ACCOUNT}, cold address ${wallet.coldAddress} (account ${COLD_ACCOUNT})`,
    ]),
    { mode: 0o600 },
  );
  chmodSync(files.env, 0o600); // it holds API keys

  // Only the sandbox's settings: a SATWATCH_* exported in this shell must not leak in.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('SATWATCH_') && name !== 'NODE_ENV',
    ),
  );
  writeFileSync(files.log, '');
  const pid = spawnDetached(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'src/main.ts'), 'serve'],
    files.log,
    { ...inherited, ...daemonEnv },
  );
  const state: SandboxState = {
    pid,
    url,
    paymentId: '',
    merchantKey,
    adminKey,
    coldAddress: wallet.coldAddress,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(files.state, JSON.stringify(state, null, 2), { mode: 0o600 });

  const deadline = Date.now() + 30_000;
  while (!(await healthy(url))) {
    if (!isAlive(pid) || Date.now() > deadline) {
      const why = isAlive(pid) ? 'no answer on /healthz within 30 s' : 'it exited';
      await stopDaemon();
      throw new SandboxError(`satwatch did not come up (${why}); ${rel(files.log)}:\n${logTail()}`);
    }
    await sleep(200);
  }
  say(`satwatch is serving on ${url} (pid ${pid}; logs: ${rel(files.log)})`);

  const payment = await api<PaymentView>(state, merchantKey, 'POST', '/v1/payments', {
    userId: 'alice',
    price: { amount: '25.00', currency: 'USD' },
    credits: 100,
    description: 'Sandbox demo',
  });
  state.paymentId = payment.id;
  writeFileSync(files.state, JSON.stringify(state, null, 2), { mode: 0o600 });
  say(
    `demo payment ${payment.id}: ${payment.amountSats} sats (25.00 USD) to ${payment.address}, ${payment.status}`,
  );
  say(`checkout page: ${payment.checkoutUrl}`);
  say(`settings and API keys: ${rel(files.env)}   (source it, then e.g.`);
  say(
    `  curl -s -H "authorization: Bearer $SATWATCH_MERCHANT_KEY" $SATWATCH_PUBLIC_URL/v1/payments/${payment.id})`,
  );
  say('next: npm run sandbox:pay    (pays it, mines blocks, follows it to forwarded)');
  say('stop: npm run sandbox:down');
}

function runningState(): SandboxState {
  const state = readState();
  if (!state?.paymentId || !isSandboxDaemon(state.pid)) {
    throw new SandboxError('the sandbox is not running: start it with "npm run sandbox"');
  }
  return state;
}

function summary(p: PaymentView): string {
  const seen = p.receivedSats > 0 ? `, ${p.receivedSats} of ${p.amountSats} sats seen` : '';
  const credited = p.creditedCredits > 0 ? `, ${p.creditedCredits} credits to alice` : '';
  return `${p.status} (${p.confirmations}/${p.requiredConfirmations} confirmations${seen}${credited})`;
}

/** Polls the payment, printing every change, until `done` holds; a clear error on timeout. */
async function follow(
  state: SandboxState,
  what: string,
  done: (p: PaymentView) => boolean,
  last: { line: string },
): Promise<PaymentView> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const payment = await api<PaymentView>(
      state,
      state.merchantKey,
      'GET',
      `/v1/payments/${state.paymentId}`,
    );
    const line = summary(payment);
    if (line !== last.line) {
      say(`status: ${line}`);
      last.line = line;
    }
    if (done(payment)) return payment;
    if (Date.now() > deadline) {
      throw new SandboxError(
        `timed out after ${STEP_TIMEOUT_MS / 1000} s waiting for ${what} (still ${payment.status}); see ${rel(files.log)}`,
      );
    }
    await sleep(500);
  }
}

const ORDER = ['pending', 'confirming', 'confirmed', 'forwarded'];
const reached = (p: PaymentView, status: string) =>
  ORDER.indexOf(p.status) >= ORDER.indexOf(status);

async function pay(): Promise<void> {
  const state = runningState();
  if (!(await healthy(state.url))) {
    throw new SandboxError(`satwatch does not answer on ${state.url}; see ${rel(files.log)}`);
  }
  const lab = LabClient.fromState();
  const last = { line: '' };
  let payment = await follow(state, 'the payment', () => true, last);
  if (!ORDER.includes(payment.status)) {
    throw new SandboxError(
      `the demo payment is ${payment.status}; run "npm run sandbox" for a new one`,
    );
  }
  if (payment.receivedSats === 0) {
    const paid = await lab.pay(payment.address, payment.amountSats);
    say(`paid ${payment.amountSats} sats from the lab's wallet: transaction ${paid.txid}`);
  }
  payment = await follow(
    state,
    'the daemon to see the transaction',
    (p) => p.receivedSats >= p.amountSats,
    last,
  );
  if (!reached(payment, 'confirmed')) {
    await lab.mine(REQUIRED_CONFIRMATIONS);
    say(`mined ${REQUIRED_CONFIRMATIONS} blocks`);
    payment = await follow(state, 'status confirmed', (p) => reached(p, 'confirmed'), last);
  }
  if (!reached(payment, 'forwarded')) {
    await lab.mine(1);
    say('mined 1 more block: the sweep to the cold address is due');
    payment = await follow(state, 'status forwarded', (p) => reached(p, 'forwarded'), last);
  }
  const details = await api<{ events: { type: string; cause: string; to?: string }[] }>(
    state,
    state.adminKey,
    'GET',
    `/v1/admin/payments/${state.paymentId}`,
  );
  const forwarded = details.events.find((e) => e.to === 'forwarded');
  say(forwarded ? `forwarded: ${forwarded.cause}` : `forwarded to ${state.coldAddress}`);
  say(`done. The checkout page shows it too: ${payment.checkoutUrl}`);
  say('stop: npm run sandbox:down');
}

async function down(): Promise<void> {
  const state = readState();
  if (await stopDaemon()) say(`stopped satwatch (pid ${state?.pid ?? '?'})`);
  else say('no sandbox daemon was running');
  // Its keys go with it; the log stays for a look at what happened.
  rmSync(files.env, { force: true });
  rmSync(files.xprv, { force: true });
  say('the lab keeps running; stop it with: npm run lab:down');
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'up':
      return up();
    case 'pay':
      return pay();
    case 'down':
      return down();
    default:
      throw new SandboxError('usage: tsx scripts/sandbox.ts up|pay|down');
  }
}

main(process.argv[2]).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[sandbox] ${err instanceof SandboxError ? err.message : String(err)}`);
    if (!(err instanceof SandboxError) && err instanceof Error && err.stack)
      console.error(err.stack);
    process.exit(1);
  },
);
