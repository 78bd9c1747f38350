/**
 * A satwatch daemon for tests: real config loading (defaults + environment), the lab's MongoDB
 * wire server with a database of its own, and a regtest wallet made from a fresh seed so tests
 * can derive addresses independently.
 */
import { randomBytes } from 'node:crypto';
import bs58check from 'bs58check';
import type { FastifyInstance } from 'fastify';
import { hashApiKey, newApiKey } from '../../src/api/auth.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import { type Daemon, type DaemonOptions, createDaemon } from '../../src/daemon.js';
import { bip32 } from '../../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../../src/wallet/networks.js';
import { LabClient } from '../lab/client.js';

export const ACCOUNT_PATH = "m/84'/1'/0'";

export interface TestWallet {
  seed: Buffer;
  /** SLIP-132 vpub of m/84'/1'/0' on regtest */
  vpub: string;
  /** The same account's private key (tprv): for sign-mode forwarding tests only. */
  tprv: string;
  /** Hex fingerprint of the master key, as PSBT signers want it. */
  masterFingerprint: string;
}

export function newTestWallet(): TestWallet {
  const seed = randomBytes(32);
  const root = bip32.fromSeed(seed, BITCOIN_NETWORKS.regtest);
  const account = root.derivePath(ACCOUNT_PATH);
  const payload = Buffer.from(bs58check.decode(account.neutered().toBase58()));
  payload.writeUInt32BE(0x045f1cf6, 0); // vpub
  return {
    seed,
    vpub: bs58check.encode(payload),
    tprv: account.toBase58(),
    masterFingerprint: Buffer.from(root.fingerprint).toString('hex'),
  };
}

export interface TestDaemon extends Daemon {
  config: Config;
  /** The environment the config was loaded from: hand it to a child process for a replica. */
  env: Record<string, string>;
  wallet: Daemon['wallet'];
  testWallet: TestWallet;
  merchantKey: string;
  adminKey: string;
  database: string;
  /** Authorization header for the merchant key. */
  merchant: { authorization: string };
  admin: { authorization: string };
}

export async function startTestDaemon(
  env: Record<string, string> = {},
  options: DaemonOptions = {},
  testWallet: TestWallet = newTestWallet(),
): Promise<TestDaemon> {
  const lab = LabClient.fromState();
  const merchantKey = newApiKey();
  const adminKey = newApiKey();
  const database = `t_${randomBytes(6).toString('hex')}`;
  const fullEnv: Record<string, string> = {
    SATWATCH_NETWORK: 'regtest',
    SATWATCH_MONGO_URL: lab.mongoUrl,
    SATWATCH_MONGO_DATABASE: database,
    SATWATCH_WALLET_XPUB: testWallet.vpub,
    SATWATCH_CHAIN_ESPLORA_URLS: lab.esploraUrl,
    // Tests assert on counts right after acting; caching is tested on its own.
    SATWATCH_OPS_READINESS_CACHE_SECONDS: '0',
    SATWATCH_OPS_METRICS_CACHE_SECONDS: '0',
    // Several daemons at once: each ops listener on a free port.
    SATWATCH_OPS_PORT: '0',
    SATWATCH_API_KEYS: JSON.stringify([
      { id: 'merchant-test', role: 'merchant', sha256: hashApiKey(merchantKey) },
      { id: 'admin-test', role: 'admin', sha256: hashApiKey(adminKey) },
    ]),
    SATWATCH_RATES_FIXED: JSON.stringify({ USD: '50000', EUR: '45000.50' }),
    SATWATCH_PACKAGES: JSON.stringify([
      {
        id: 'starter',
        credits: 100,
        price: { amount: '10.00', currency: 'USD' },
        description: 'Starter pack',
      },
      { id: 'sats', credits: 5, price: { amount: '25000', currency: 'SAT' } },
    ]),
    ...env,
  };
  const config = loadConfig({ env: fullEnv });
  const daemon = await createDaemon(config, options);
  return {
    ...daemon,
    config,
    env: fullEnv,
    testWallet,
    merchantKey,
    adminKey,
    database,
    merchant: { authorization: `Bearer ${merchantKey}` },
    admin: { authorization: `Bearer ${adminKey}` },
  };
}

export async function stopTestDaemon(daemon: TestDaemon | undefined): Promise<void> {
  if (!daemon) return;
  await daemon.mongo.db.dropDatabase().catch(() => undefined);
  await daemon.close();
}

/** The receive address at `index`, derived straight from the seed with bip32 + bitcoinjs. */
export async function independentAddress(wallet: TestWallet, index: number): Promise<string> {
  const bitcoin = await import('bitcoinjs-lib');
  const node = bip32
    .fromSeed(wallet.seed, BITCOIN_NETWORKS.regtest)
    .derivePath(`${ACCOUNT_PATH}/0/${index}`);
  return bitcoin.payments.p2wpkh({ pubkey: node.publicKey, network: BITCOIN_NETWORKS.regtest })
    .address!;
}

export async function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** A second daemon on the same database and wallet: another replica. */
export async function startReplica(
  primary: TestDaemon,
  options: DaemonOptions = {},
): Promise<Daemon> {
  return createDaemon(primary.config, options);
}

/** Creates a sats-priced payment through the merchant API, as a merchant app would. */
export async function createSatsPayment<T = { id: string; address: string; amountSats: number }>(
  d: TestDaemon,
  userId: string,
  sats: number,
  credits: number,
): Promise<T> {
  const res = await d.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: d.merchant,
    payload: { userId, price: { amount: String(sats), currency: 'SAT' }, credits },
  });
  if (res.statusCode !== 201) throw new Error(`create answered ${res.statusCode}: ${res.body}`);
  return res.json<T>();
}
