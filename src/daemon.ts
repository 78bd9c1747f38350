/** The composition root: configuration → adapters → services → HTTP application. */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config/config.js';
import { PaymentService } from './payments/payment-service.js';
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

export function rateProviderFor(config: Config['rates']): RateProvider {
  switch (config.provider) {
    case 'fixed':
      return new FixedRateProvider(config.fixed);
    case 'mempool':
      return new CachedRateProvider(
        new MempoolRateProvider(config.mempoolUrl, config.timeoutMs),
        config.maxAgeSeconds * 1000,
      );
    case 'kraken':
      return new CachedRateProvider(
        new KrakenRateProvider(config.krakenUrl, config.timeoutMs),
        config.maxAgeSeconds * 1000,
      );
  }
}

export interface Daemon {
  app: FastifyInstance;
  mongo: MongoHandle;
  payments: PaymentService;
  wallet: WalletAccount;
  close(): Promise<void>;
}

export interface DaemonOptions {
  logger?: FastifyServerOptions['logger'];
  now?: () => Date;
  /** Replaces the configured rate provider (tests). */
  rates?: RateProvider;
}

export async function createDaemon(config: Config, options: DaemonOptions = {}): Promise<Daemon> {
  const wallet = WalletAccount.fromConfig({ network: config.network, ...config.wallet });
  const mongo = await connectMongo(config.mongo.url, config.mongo.database);
  try {
    const repo = new PaymentRepository(mongo.db);
    await repo.ensureIndexes();
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
      ...(options.now && { now: options.now }),
    });
    const app = await buildApp({
      config,
      payments,
      ...(options.logger !== undefined && { logger: options.logger }),
      ...(options.now && { now: options.now }),
    });
    return {
      app,
      mongo,
      payments,
      wallet,
      async close() {
        await app.close();
        await mongo.client.close();
      },
    };
  } catch (err) {
    await mongo.client.close();
    throw err;
  }
}
