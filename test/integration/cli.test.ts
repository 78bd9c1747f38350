/**
 * The operator's commands as real processes: `config check`, `reconcile`, the graceful
 * shutdown of `serve`, and the Docker image's command run outside Docker.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey, newApiKey } from '../../src/api/auth.js';
import { reconcileDatabase } from '../../src/cli/reconcile.js';
import type { LedgerEntry } from '../../src/ledger/ledger.js';
import type { Payment } from '../../src/payments/payment.js';
import { LabClient } from '../lab/client.js';
import { freshKey } from '../lab/keys.js';
import { repoRoot } from '../lab/paths.js';
import { freePort, waitFor } from '../lab/process.js';
import {
  type TestDaemon,
  newTestWallet,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';
import { readDockerfile } from '../support/dockerfile.js';
import { type SatwatchProcess, spawnSatwatch, untilServing } from '../support/satwatch-process.js';

const run = promisify(execFile);

let lab: LabClient;
/** Databases of the child processes started here, dropped at the end. */
const databases: string[] = [];
beforeAll(() => {
  lab = LabClient.fromState();
});
afterAll(async () => {
  const client = new MongoClient(lab.mongoUrl);
  try {
    for (const name of databases) await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
});

function newDatabase(prefix: string): string {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  databases.push(name);
  return name;
}

/** Runs a satwatch command to its end. */
async function satwatch(args: string[], env: Record<string, string>) {
  const child = spawnSatwatch(args, env);
  const code = await child.exited;
  return { code, ...child.output() };
}

/** Secrets that look real, so a leak of any of them would be visible in the output. */
function realLookingSecrets() {
  const wallet = newTestWallet();
  return {
    wallet,
    xprv: wallet.tprv,
    webhookSecret: `whsec_${randomBytes(24).toString('base64url')}`,
    bearerToken: `esplora_${randomBytes(24).toString('hex')}`,
    mongoPassword: `pw-${randomBytes(12).toString('hex')}`,
  };
}

function secretFile(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${content}\n`, { mode: 0o600 });
  return file;
}

describe('satwatch config check', () => {
  it('prints the effective configuration as JSON with every secret masked', async () => {
    const s = realLookingSecrets();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'satwatch-secrets-'));
    const merchantKey = newApiKey();
    const result = await satwatch(['config', 'check'], {
      SATWATCH_NETWORK: 'regtest',
      SATWATCH_HTTP_PORT: '9123',
      SATWATCH_MONGO_URL: `mongodb://satwatch:${s.mongoPassword}@db.example:27017/?authSource=admin`,
      SATWATCH_WALLET_XPUB: s.wallet.vpub,
      SATWATCH_WALLET_XPRV_FILE: secretFile(dir, 'xprv', s.xprv),
      SATWATCH_FORWARDING_MODE: 'sign',
      SATWATCH_FORWARDING_COLD_ADDRESS: freshKey().address,
      SATWATCH_WEBHOOK_URL: 'https://shop.example/satwatch',
      SATWATCH_WEBHOOK_SECRETS: `${s.webhookSecret},${s.webhookSecret}-old`,
      SATWATCH_CHAIN_ESPLORA_URLS: 'https://esplora.example/api',
      SATWATCH_CHAIN_BEARER_TOKEN_FILE: secretFile(dir, 'token', s.bearerToken),
      SATWATCH_API_KEYS: JSON.stringify([
        { id: 'shop', role: 'merchant', sha256: hashApiKey(merchantKey) },
      ]),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as {
      http: { port: number };
      mongo: { url: string };
      wallet: { xpub: string; xprv: string };
      webhooks: { url: string; secrets: string };
      chain: { esploraUrls: string[]; bearerToken: string };
      forwarding: { mode: string };
      auth: { apiKeys: { id: string; sha256: string }[] };
    };
    expect(printed.wallet.xprv).toBe('<set>');
    expect(printed.webhooks.secrets).toBe('<set>');
    expect(printed.chain.bearerToken).toBe('<set>');
    expect(printed.mongo.url).toBe('mongodb://satwatch:***@db.example:27017/?authSource=admin');
    // Everything else as it is.
    expect(printed.http.port).toBe(9123);
    expect(printed.wallet.xpub).toBe(s.wallet.vpub);
    expect(printed.webhooks.url).toBe('https://shop.example/satwatch');
    expect(printed.chain.esploraUrls).toEqual(['https://esplora.example/api']);
    expect(printed.forwarding.mode).toBe('sign');
    expect(printed.auth.apiKeys).toEqual([
      { id: 'shop', role: 'merchant', sha256: hashApiKey(merchantKey) },
    ]);
    const all = result.stdout + result.stderr;
    for (const secret of [s.xprv, s.webhookSecret, s.bearerToken, s.mongoPassword, merchantKey]) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(secret.slice(-16));
    }
  });

  it('exits 1 on an unknown SATWATCH_ variable, naming the closest real one', async () => {
    const result = await satwatch(['config', 'check'], {
      SATWATCH_WALLET_XPUB: newTestWallet().vpub,
      SATWATCH_CHAIN_ESPLORA_URLS: 'https://esplora.example/api',
      SATWATCH_WEBHOOKS_URL: 'https://shop.example/satwatch',
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(
      'invalid configuration: unknown environment variable SATWATCH_WEBHOOKS_URL (did you mean SATWATCH_WEBHOOK_URL?)',
    );
  });

  it('exits 1 naming the invalid setting, without its secret value', async () => {
    const secret = 'hunter2-shorty';
    const result = await satwatch(['config', 'check'], {
      SATWATCH_WALLET_XPUB: newTestWallet().vpub,
      SATWATCH_CHAIN_ESPLORA_URLS: 'https://esplora.example/api',
      SATWATCH_WEBHOOK_URL: 'https://shop.example/satwatch',
      SATWATCH_WEBHOOK_SECRET: secret,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(
      'invalid configuration: webhooks.secret must NOT have fewer than 32 characters',
    );
  });
});

describe('satwatch reconcile', () => {
  let d: TestDaemon;
  const paymentOf: Record<string, string> = {};

  beforeAll(async () => {
    d = await startTestDaemon();
    const made: { id: string; address: string; amountSats: number; userId: string }[] = [];
    for (const userId of ['alice', 'bob']) {
      const res = await d.app.inject({
        method: 'POST',
        url: '/v1/payments',
        headers: d.merchant,
        payload: { userId, price: { amount: '20000', currency: 'SAT' }, credits: 40 },
      });
      expect(res.statusCode).toBe(201);
      made.push(res.json());
      paymentOf[userId] = made.at(-1)!.id;
    }
    await lab.payMany(made.map((p) => ({ address: p.address, sats: p.amountSats })));
    await lab.mine(3);
    const report = await d.watcher.runCycle();
    expect(report.credited).toBe(2);
  });
  afterAll(() => stopTestDaemon(d));

  it('passes with exit 0 after a real payment flow', async () => {
    const result = await satwatch(['reconcile'], d.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('balances: 2 users checked, 0 mismatches');
    expect(result.stdout).toContain(
      'credits: 2 credited payments and 2 ledger credits checked, 0 mismatches',
    );
    expect(result.stdout).toContain('OK: balances, ledger and payments agree');
  });

  it('fails with exit 2 when a balance was changed behind the ledger', async () => {
    const users = d.mongo.db.collection<{ _id: string; balance: number }>('users');
    await users.updateOne({ _id: 'alice' }, { $inc: { balance: 1000 } });
    try {
      const result = await satwatch(['reconcile'], d.env);
      expect(result.code).toBe(2);
      expect(result.stdout).toContain(
        'MISMATCH user alice: balance 1040, ledger sum 40 over 1 entry (seq 1)',
      );
      expect(result.stdout).not.toContain('MISMATCH user bob');
      expect(result.stdout).toContain('MISMATCH: the records disagree');
    } finally {
      await users.updateOne({ _id: 'alice' }, { $inc: { balance: -1000 } });
    }
  });

  it('fails with exit 2 when the ledger entry of a credited payment is gone', async () => {
    const ledger = d.mongo.db.collection<LedgerEntry>('ledger');
    const entry = await ledger.findOne({ opId: `credit:${paymentOf.bob!}` });
    expect(entry).not.toBeNull();
    await ledger.deleteOne({ _id: entry!._id });
    try {
      const result = await satwatch(['reconcile', '--json'], d.env);
      expect(result.code).toBe(2);
      const report = JSON.parse(result.stdout) as Awaited<ReturnType<typeof reconcileDatabase>>;
      expect(report.creditMismatches).toEqual([
        {
          paymentId: paymentOf.bob,
          userId: 'bob',
          problem: `credited 40 but has no ledger entry credit:${paymentOf.bob!}`,
        },
      ]);
      expect(report.balanceMismatches.map((m) => m.userId)).toEqual(['bob']);
    } finally {
      await ledger.insertOne(entry!);
    }
    expect((await reconcileDatabase(d.mongo.db)).creditMismatches).toEqual([]);
  });
});

// Real processes against a deliberately slow chain: generous limits, the waits are event-based.
describe('satwatch serve shuts down gracefully', { timeout: 300_000 }, () => {
  /** A chain API that answers every request 1.5 s late, so a watcher cycle takes seconds. */
  async function slowChain(): Promise<{ url: string; profile: string }> {
    const profile = `shutdown-${randomBytes(4).toString('hex')}`;
    return { url: await lab.faults(profile, { latencyMs: 1500 }), profile };
  }

  async function startServe(
    env: Record<string, string>,
  ): Promise<{ proc: SatwatchProcess; base: string }> {
    const port = await freePort();
    const proc = spawnSatwatch(['serve'], {
      ...env,
      SATWATCH_HTTP_PORT: String(port),
      SATWATCH_LOG_LEVEL: 'info',
      SATWATCH_WATCHER_INTERVAL_SECONDS: '1',
    });
    const base = `http://127.0.0.1:${port}`;
    // Waits as long as the process lives (a loaded machine starts it slowly), no deadline.
    await untilServing(`${base}/healthz`, proc.exited);
    return { proc, base };
  }

  const cyclesDone = (proc: SatwatchProcess) =>
    proc
      .output()
      .stdout.split('\n')
      .filter((l) => l.includes('"msg":"watcher cycle done"')).length;

  /** Resolves just after a watcher cycle sent its first chain request (so it runs for seconds). */
  async function cycleStarted(profile: string): Promise<void> {
    const before = (await lab.faultStats(profile)).requests;
    await waitFor(
      'a watcher cycle to start',
      async () => ((await lab.faultStats(profile)).requests > before ? true : undefined),
      120_000,
    );
  }

  function lines(proc: SatwatchProcess): string[] {
    return proc.output().stdout.split('\n');
  }

  it('refuses new requests, finishes the running cycle, releases the lease, closes and exits 0', async () => {
    const d = await startTestDaemon();
    const chain = await slowChain();
    const { proc, base } = await startServe({
      ...d.env,
      SATWATCH_CHAIN_ESPLORA_URLS: chain.url,
      SATWATCH_SHUTDOWN_TIMEOUT_MS: '120000',
    });
    try {
      const res = await fetch(`${base}/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${d.merchantKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          userId: 'carol',
          price: { amount: '30000', currency: 'SAT' },
          credits: 7,
        }),
      });
      expect(res.status).toBe(201);
      const payment = (await res.json()) as { id: string; address: string; amountSats: number };
      await lab.pay(payment.address, payment.amountSats);
      await lab.mine(3);
      // An idle block-scan cycle is one request; two fresh unpaid checkouts add a mempool check
      // each, so the cycle caught below is still running (seconds) when the signal arrives.
      for (const userId of ['dave', 'erin']) {
        const other = await fetch(`${base}/v1/payments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${d.merchantKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ userId, price: { amount: '20000', currency: 'SAT' }, credits: 1 }),
        });
        expect(other.status).toBe(201);
      }
      // Let the cycle that was running at the time finish, then catch the next one at its start:
      // it sees the 3 confirmations and has the credit to write.
      const done = cyclesDone(proc);
      await waitFor(
        'a cycle to end',
        () => Promise.resolve(cyclesDone(proc) > done ? true : undefined),
        120_000,
      );
      await cycleStarted(chain.profile);

      proc.child.kill('SIGTERM');
      await proc.waitForLine(/"msg":"shutting down"/, 120_000);
      // Exit 0 means everything finished within SATWATCH_SHUTDOWN_TIMEOUT_MS.
      expect(await proc.exited).toBe(0);
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
      const log = lines(proc);
      const at = (text: string) => log.findIndex((l) => l.includes(`"msg":"${text}`));
      const shutting = at('shutting down');
      const cycleAfter = log.findIndex(
        (l, i) => i > shutting && l.includes('"msg":"watcher cycle done"'),
      );
      expect(cycleAfter).toBeGreaterThan(shutting);
      expect(at('HTTP server closed')).toBeGreaterThan(shutting);
      // New requests were refused (the port closed) while the cycle was still finishing.
      expect(at('HTTP server closed')).toBeLessThan(cycleAfter);
      expect(at('shutdown complete')).toBeGreaterThan(cycleAfter);

      const lease = await d.mongo.db
        .collection<{ _id: string; expiresAt: Date }>('leases')
        .findOne({ _id: 'watcher' });
      expect(lease!.expiresAt.getTime()).toBeLessThan(Date.now());

      // Nothing half done: every credited payment has its entry, and one more cycle leaves
      // no credit due.
      const payments = d.mongo.db.collection<Payment>('payments');
      const ledger = d.mongo.db.collection<LedgerEntry>('ledger');
      for (const p of await payments.find({ 'credit.state': 'done' }).toArray()) {
        expect(await ledger.countDocuments({ opId: `credit:${p._id}`, userId: p.userId })).toBe(1);
      }
      await d.watcher.runCycle();
      expect(await payments.countDocuments({ 'credit.state': 'due' })).toBe(0);
      expect((await payments.findOne({ _id: payment.id }))?.credit?.state).toBe('done');
      const report = await reconcileDatabase(d.mongo.db);
      expect(report.balanceMismatches).toEqual([]);
      expect(report.creditMismatches).toEqual([]);
    } finally {
      proc.child.kill('SIGKILL');
      await lab.clearFaults(chain.profile);
      await stopTestDaemon(d);
    }
  });

  it('exits at once with 130 on a second signal during shutdown', async () => {
    const chain = await slowChain();
    const { proc } = await startServe(serveEnv(chain.url));
    try {
      await cycleStarted(chain.profile);
      proc.child.kill('SIGTERM');
      await proc.waitForLine(/"msg":"shutting down"/, 120_000);
      proc.child.kill('SIGINT');
      // 130 without "shutdown complete": it did not wait for the cycle (seconds long) to end.
      expect(await proc.exited).toBe(130);
      expect(proc.output().stdout).not.toContain('shutdown complete');
    } finally {
      proc.child.kill('SIGKILL');
      await lab.clearFaults(chain.profile);
    }
  });

  it('exits 1 when the running cycle outlasts SATWATCH_SHUTDOWN_TIMEOUT_MS', async () => {
    const chain = await slowChain();
    const { proc } = await startServe({
      ...serveEnv(chain.url),
      SATWATCH_SHUTDOWN_TIMEOUT_MS: '300',
    });
    try {
      await cycleStarted(chain.profile);
      proc.child.kill('SIGTERM');
      // Exit 1 with this line is the timeout's own path (a finished cycle exits 0).
      expect(await proc.exited).toBe(1);
      expect(proc.output().stdout).toContain('the watcher cycle did not finish in time');
    } finally {
      proc.child.kill('SIGKILL');
      await lab.clearFaults(chain.profile);
    }
  });

  it('refuses a malformed SATWATCH_SHUTDOWN_TIMEOUT_MS at start', async () => {
    const result = await satwatch(['serve'], {
      ...serveEnv('http://127.0.0.1:9'),
      SATWATCH_SHUTDOWN_TIMEOUT_MS: '30s',
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'invalid configuration: SATWATCH_SHUTDOWN_TIMEOUT_MS must be an integer',
    );
  });
});

/** A minimal serve environment on a database of its own. */
function serveEnv(esploraUrl: string): Record<string, string> {
  return {
    SATWATCH_NETWORK: 'regtest',
    SATWATCH_MONGO_URL: lab.mongoUrl,
    SATWATCH_MONGO_DATABASE: newDatabase('cli'),
    SATWATCH_WALLET_XPUB: newTestWallet().vpub,
    SATWATCH_CHAIN_ESPLORA_URLS: esploraUrl,
  };
}

describe('the Docker image, run outside Docker', () => {
  const stages = readDockerfile();
  const runtime = stages.at(-1)!;
  let app: string;

  beforeAll(async () => {
    await run('npm', ['run', 'build'], { cwd: repoRoot });
    // The runtime stage's files, laid out as its COPY lines say. The build stage's node_modules
    // is the repository's (pruning to production is checked statically below).
    app = path.join(mkdtempSync(path.join(os.tmpdir(), 'satwatch-image-')), 'app');
    mkdirSync(app);
    const buildDir = stages.find((s) => s.name !== undefined)?.workdir ?? '/app';
    for (const copy of runtime.copies) {
      for (const source of copy.sources) {
        const from =
          copy.from === undefined
            ? path.join(repoRoot, source)
            : path.join(repoRoot, path.posix.relative(buildDir, source));
        const destination = path.join(
          app,
          copy.destination.endsWith('/') ? path.basename(source) : copy.destination,
        );
        if (path.basename(source) === 'node_modules') {
          symlinkSync(from, destination);
        } else cpSync(from, destination, { recursive: true });
      }
    }
  }, 180_000);

  it('has an executable bin that answers --version, --help and help <command>', async () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      version: string;
      bin: Record<string, string>;
    };
    const bin = path.join(app, pkg.bin.satwatch ?? '');
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(bin).mode & 0o111).toBe(0o111);
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        // Run as the shell would: the file itself, its shebang choosing node.
        const child = spawn(bin, args, {
          env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` },
        });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (out += c.toString()));
        child.on('exit', (code) => {
          resolve({ code, out });
        });
      });
    expect(await cli(['--version'])).toEqual({ code: 0, out: `${pkg.version}\n` });
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('satwatch serve [--api-only|--watcher-only]');
    const serveHelp = await cli(['help', 'serve']);
    expect(serveHelp.code).toBe(0);
    expect(serveHelp.out).toContain('--watcher-only opens no public listener');
    expect((await cli(['serve', '--help'])).out).toBe(serveHelp.out);
    expect((await cli(['help', 'nope'])).code).toBe(2);
  });

  it('needs nothing at runtime but the copied files and production dependencies', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const dist = path.join(app, 'dist');
    const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.js'),
    );
    expect(files).toContain(path.join('src', 'main.js'));
    const problems: string[] = [];
    for (const file of files) {
      const code = readFileSync(path.join(dist, file), 'utf8');
      const specifiers = [
        ...code.matchAll(/(?:^|\s)(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/gm),
        ...code.matchAll(/(?:^|\s)import\s*\(?\s*['"]([^'"]+)['"]/gm),
      ].map((m) => m[1]!);
      for (const spec of specifiers) {
        if (spec.startsWith('node:')) continue;
        if (spec.startsWith('.')) {
          const target = path.resolve(path.dirname(path.join(dist, file)), spec);
          if (!target.startsWith(path.join(dist, 'src')) || !existsSync(target))
            problems.push(`${file}: ${spec}`);
          continue;
        }
        const name = spec.startsWith('@')
          ? spec.split('/').slice(0, 2).join('/')
          : spec.split('/')[0]!;
        if (!(name in pkg.dependencies)) problems.push(`${file}: ${spec} is not a dependency`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("serves with the image's ENV and secrets from files, passes its HEALTHCHECK, and stops on SIGTERM", async () => {
    expect(runtime.cmd).toEqual(['node', 'dist/src/main.js', 'serve']);
    expect(runtime.healthcheck?.[0]).toBe('node');
    const s = realLookingSecrets();
    const secrets = mkdtempSync(path.join(os.tmpdir(), 'satwatch-run-secrets-'));
    const merchantKey = newApiKey();
    // The container's ports are its own; on this machine 8080 or 9464 may be taken, and then the
    // port is set the way `docker run -e SATWATCH_HTTP_PORT=…` would (the HEALTHCHECK reads
    // SATWATCH_OPS_PORT too).
    const isFree = (port: number, host: string) =>
      new Promise<boolean>((resolve) => {
        const server = net.createServer().once('error', () => {
          resolve(false);
        });
        server.listen(port, host, () => {
          server.close(() => {
            resolve(true);
          });
        });
      });
    const imagePort = Number(runtime.env.SATWATCH_HTTP_PORT ?? 8080);
    const portFree = await isFree(imagePort, runtime.env.SATWATCH_HTTP_HOST ?? '0.0.0.0');
    const port = portFree ? imagePort : await freePort();
    const imageOpsPort = Number(runtime.env.SATWATCH_OPS_PORT ?? 9464);
    const opsPortFree = await isFree(imageOpsPort, runtime.env.SATWATCH_OPS_HOST ?? '127.0.0.1');
    const opsPort = opsPortFree ? imageOpsPort : await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...runtime.env,
      ...(!portFree && { SATWATCH_HTTP_PORT: String(port) }),
      ...(!opsPortFree && { SATWATCH_OPS_PORT: String(opsPort) }),
      SATWATCH_NETWORK: 'regtest',
      SATWATCH_MONGO_URL: lab.mongoUrl,
      SATWATCH_MONGO_DATABASE: newDatabase('image'),
      SATWATCH_CHAIN_ESPLORA_URLS: lab.esploraUrl,
      SATWATCH_WALLET_XPUB: s.wallet.vpub,
      SATWATCH_FORWARDING_MODE: 'sign',
      SATWATCH_FORWARDING_COLD_ADDRESS: freshKey().address,
      SATWATCH_WEBHOOK_URL: 'http://127.0.0.1:9/satwatch',
      // Mounted secrets (docker secrets / Kubernetes secret volumes).
      SATWATCH_WALLET_XPRV_FILE: secretFile(secrets, 'xprv', s.xprv),
      SATWATCH_WEBHOOK_SECRET_FILE: secretFile(secrets, 'webhook-secret', s.webhookSecret),
      SATWATCH_CHAIN_BEARER_TOKEN_FILE: secretFile(secrets, 'esplora-token', s.bearerToken),
      SATWATCH_API_KEYS_FILE: secretFile(
        secrets,
        'api-keys',
        JSON.stringify([{ id: 'shop', role: 'merchant', sha256: hashApiKey(merchantKey) }]),
      ),
    };
    const inImage = (argv: string[]) =>
      spawn(argv[0] === 'node' ? process.execPath : argv[0]!, argv.slice(1), {
        cwd: app,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const exitOf = (child: ReturnType<typeof inImage>) =>
      new Promise<number | null>((resolve) => child.on('exit', resolve));

    const check = inImage(['node', 'dist/src/main.js', 'config', 'check']);
    let checked = '';
    check.stdout.on('data', (c: Buffer) => (checked += c.toString()));
    expect(await exitOf(check)).toBe(0);
    expect(JSON.parse(checked)).toMatchObject({
      wallet: { xprv: '<set>' },
      http: { host: '0.0.0.0' },
    });

    const daemon = inImage(runtime.cmd!);
    let output = '';
    daemon.stdout.on('data', (c: Buffer) => (output += c.toString()));
    daemon.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = exitOf(daemon);
    try {
      await untilServing(`http://127.0.0.1:${port}/healthz`, exited);
      await untilServing(`http://127.0.0.1:${opsPort}/readyz`, exited);
      expect(await exitOf(inImage(runtime.healthcheck!))).toBe(0);
      const res = await fetch(`http://127.0.0.1:${port}/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${merchantKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          userId: 'dave',
          price: { amount: '10000', currency: 'SAT' },
          credits: 1,
        }),
      });
      expect(res.status).toBe(201);
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"shutdown complete"');
    // Down means unhealthy: the HEALTHCHECK really checks.
    expect(await exitOf(inImage(runtime.healthcheck!))).toBe(1);

    // A watcher-only replica opens no public port, and its HEALTHCHECK passes all the same.
    const watcher = inImage([...runtime.cmd!, '--watcher-only']);
    watcher.stdout.on('data', (c: Buffer) => (output += c.toString()));
    watcher.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const watcherExited = exitOf(watcher);
    try {
      await untilServing(`http://127.0.0.1:${opsPort}/healthz`, watcherExited);
      expect(await exitOf(inImage(runtime.healthcheck!))).toBe(0);
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      watcher.kill('SIGTERM');
    }
    expect(await watcherExited).toBe(0);
    for (const secret of [s.xprv, s.webhookSecret, s.bearerToken, merchantKey]) {
      expect(output + checked).not.toContain(secret);
    }
  }, 180_000);
});
