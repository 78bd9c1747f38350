/** The composition root: configuration → adapters → services → HTTP application and watcher. */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { buildApp } from './app.js';
import type { ChainSource } from './chain/chain-source.js';
import { EsploraChainSource } from './chain/esplora.js';
import { type Config, esploraUrls } from './config/config.js';
import { Ledger } from './ledger/ledger.js';
import { PaymentService } from './payments/payment-service.js';
import type { Policy } from './payments/state-machine.js';
import {
  CachedRateProvider,
  FixedRateProvider,
  KrakenRateProvider,
  MempoolRateProvider,
  type RateProvider,
} from './pricing/rates.js';
import { AddressCounter } from './storage/address-counter.js';
import { type MongoHandle, connectMongo } from './storage/mongo.js';
import { PaymentRepository } from './storage/payments.js';
import { WalletAccount } from './wallet/account.js';
import { Lease } from './watcher/lease.js';
import { PaymentWatcher } from './watcher/payment-watcher.js';
import { WatcherLoop } from './watcher/watcher-loop.js';
import { WebhookDispatcher } from './webhooks/dispatcher.js';
import { WebhookOutbox } from './webhooks/outbox.js';

export function rateProviderFor(config: Config['rates']): RateProvider {
  const maxAgeMs = config.maxAgeSeconds * 1000;
  switch (config.provider) {
    case 'fixed':
      return new FixedRateProvider(config.fixed);
    case 'mempool':
      return new CachedRateProvider(
        new MempoolRateProvider(config.mempoolUrl, config.timeoutMs),
        maxAgeMs,
      );
    case 'kraken':
      return new CachedRateProvider(
        new KrakenRateProvider(config.krakenUrl, config.timeoutMs),
        maxAgeMs,
      );
  }
}

export function policyFrom(config: Config): Policy {
  const p = config.payments;
  return {
    underpaymentToleranceBps: p.underpaymentToleranceBps,
    expiryGraceMs: p.expiryGraceSeconds * 1000,
    monitoringMs: p.monitoringHours * 3600_000,
    latePayments: p.latePayments,
    creditMode: p.creditMode,
    settledConfirmations: p.settledConfirmations,
  };
}

export function chainSourceFor(config: Config): EsploraChainSource {
  return new EsploraChainSource({
    baseUrls: esploraUrls(config),
    timeoutMs: config.chain.timeoutMs,
    maxConcurrency: config.chain.maxConcurrency,
    retries: config.chain.retries,
    network: config.network,
    ...(config.chain.bearerToken !== undefined && { bearerToken: config.chain.bearerToken }),
  });
}

export interface Daemon {
  app: FastifyInstance;
  log: Logger;
  mongo: MongoHandle;
  wallet: WalletAccount;
  payments: PaymentService;
  repo: PaymentRepository;
  ledger: Ledger;
  outbox: WebhookOutbox;
  chain: ChainSource;
  watcher: PaymentWatcher;
  loop: WatcherLoop;
  close(): Promise<void>;
}

export interface DaemonOptions {
  /** pino options; default: silent. */
  logger?: pino.LoggerOptions;
  /** A pino destination (tests capture logs with it). */
  logDestination?: pino.DestinationStream;
  now?: () => Date;
  /** Replace the configured rate provider or chain source (tests). */
  rates?: RateProvider;
  chain?: ChainSource;
}

export async function createDaemon(config: Config, options: DaemonOptions = {}): Promise<Daemon> {
  const now = options.now ?? (() => new Date());
  const log = options.logger
    ? options.logDestination
      ? pino(options.logger, options.logDestination)
      : pino(options.logger)
    : pino({ level: 'silent' });
  const wallet = WalletAccount.fromConfig({ network: config.network, ...config.wallet });
  const mongo = await connectMongo(config.mongo.url, config.mongo.database);
  try {
    const repo = new PaymentRepository(mongo.db);
    const ledger = new Ledger(mongo.db, now);
    const outbox = new WebhookOutbox(mongo.db, now);
    await Promise.all([repo.ensureIndexes(), ledger.ensureIndexes(), outbox.ensureIndexes()]);
    const payments = new PaymentService({
      repo,
      counter: new AddressCounter(mongo.db),
      wallet,
      rates: options.rates ?? rateProviderFor(config.rates),
      limits: {
        packages: config.packages,
        currencies: config.rates.currencies,
        ...config.payments,
      },
      expiryMinutes: config.payments.expiryMinutes,
      requiredConfirmations: config.payments.requiredConfirmations,
      now,
    });
    const chain = options.chain ?? chainSourceFor(config);
    const view = { publicUrl: config.http.publicUrl, merchantName: config.checkout.merchantName };
    const watcherLog = log.child({ component: 'watcher' });
    const { url, secret } = config.webhooks;
    const dispatcher =
      url !== undefined && secret !== undefined
        ? new WebhookDispatcher({
            outbox,
            url,
            secret,
            timeoutMs: config.webhooks.timeoutMs,
            maxAttempts: config.webhooks.maxAttempts,
            now,
            log: log.child({ component: 'webhooks' }),
          })
        : undefined;
    const watcher = new PaymentWatcher({
      repo,
      chain,
      ledger,
      outbox,
      ...(dispatcher && { dispatcher }),
      policy: policyFrom(config),
      view,
      concurrency: config.watcher.concurrency,
      log: watcherLog,
      now,
    });
    const holder = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    const lease = new Lease(mongo.db, 'watcher', holder, config.watcher.leaseSeconds * 1000, now);
    const loop = new WatcherLoop(watcher, lease, config.watcher.intervalSeconds, watcherLog);
    const app = await buildApp({
      config,
      payments,
      repo,
      ledger,
      outbox,
      watcher,
      logger: log,
      now,
    });
    return {
      app,
      log,
      mongo,
      wallet,
      payments,
      repo,
      ledger,
      outbox,
      chain,
      watcher,
      loop,
      async close() {
        await loop.stop();
        await app.close();
        await mongo.client.close();
      },
    };
  } catch (err) {
    await mongo.client.close();
    throw err;
  }
}
