/** The composition root: configuration → adapters → services → HTTP application and watcher. */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { type AppDeps, buildApp } from './app.js';
import type { ChainSource } from './chain/chain-source.js';
import { RequestBudget, defaultRequestLimit } from './chain/budget.js';
import { EsploraChainSource } from './chain/esplora.js';
import { esploraUrls } from './chain/public-esplora.js';
import { type Config, appConfig, coldAccount, webhookSecrets } from './config/config.js';
import { Ledger } from './storage/ledger.js';
import { AccountingSource } from './storage/accounting-source.js';
import { LeaseRepository } from './storage/leases.js';
import { MetricCounts } from './storage/metric-counts.js';
import { ReconcileRuns } from './storage/reconcile-runs.js';
import { WalletUsage } from './storage/wallet-usage.js';
import { withRedaction } from './observability/logging.js';
import { DaemonMetrics } from './observability/metrics.js';
import { buildOpsApp } from './observability/ops-app.js';
import { registerOperatorMetrics } from './observability/operator-metrics.js';
import { Readiness } from './observability/readiness.js';
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
import { ChainStateStore } from './storage/chain-state.js';
import { type ConnectionOptions, type MongoHandle, connectMongo } from './storage/mongo.js';
import { PaymentRepository } from './storage/payments.js';
import { pinColdDestination } from './forwarding/cold-destination.js';
import { type Destination, Forwarder, type ForwarderDeps } from './forwarding/forwarder.js';
import { SettingsRepository } from './storage/settings.js';
import { SweepRepository } from './storage/sweeps.js';
import { WalletAccount } from './wallet/account.js';
import { parseExtendedKey } from './wallet/extended-key.js';
import { Lease } from './watcher/lease.js';
import { Settlement } from './settlement/settlement.js';
import { PaymentWatcher } from './watcher/payment-watcher.js';
import { WatcherLoop } from './watcher/watcher-loop.js';
import type { DueSender } from './webhooks/delivery-round.js';
import { REDELIVERIES_PER_MINUTE, webhookServices } from './webhooks/webhook-services.js';
import type { WebhookOutbox } from './storage/webhook-outbox.js';
import { openWebhookStores } from './storage/webhook-stores.js';

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

/**
 * The chain request budget: `chain.maxRequestsPerHour`, or when absent the default for the
 * configured URLs (600 for a public capped API, unlimited for one's own); 0 means unlimited.
 */
export function requestBudgetFor(config: Config): RequestBudget {
  const configured = config.chain.maxRequestsPerHour;
  const limit =
    configured === undefined
      ? defaultRequestLimit(esploraUrls(config))
      : configured === 0
        ? null
        : configured;
  return new RequestBudget(limit);
}

/** How long `/readyz` waits for MongoDB and for the chain API. */
const READINESS_TIMEOUT_MS = 2000;

/**
 * The chain source `/readyz` asks: the configured Esplora URLs, one try each, short timeout,
 * own concurrency, so probes during an outage neither wait out retries nor starve the watcher.
 */
function readinessChain(config: Config, budget: RequestBudget): EsploraChainSource {
  return EsploraChainSource.fromConfig(config, {
    budget, // probes spend the provider's hourly cap too
    retries: 0,
    timeoutMs: Math.min(config.chain.timeoutMs, READINESS_TIMEOUT_MS),
    maxConcurrency: 2,
  });
}

/** The forwarder the configuration asks for, or undefined when forwarding is off. */
function forwarderFor(
  config: Config,
  deps: Omit<ForwarderDeps, 'destination' | 'settings' | 'signer'> & { counter: AddressCounter },
): Forwarder | undefined {
  const f = config.forwarding;
  if (f.mode === 'off') return undefined;
  const cold = coldAccount(config);
  const destination: Destination = cold
    ? { kind: 'xpub', account: cold, counter: deps.counter }
    : { kind: 'address', address: f.coldAddress ?? '' };
  // The private key lives only in the forwarder's memory; config validation made sure it exists.
  const signer =
    f.mode === 'sign' && config.wallet.xprv !== undefined
      ? parseExtendedKey(config.wallet.xprv, config.network, 'wallet.xprv').node
      : undefined;
  return new Forwarder({ ...deps, destination, settings: f, ...(signer && { signer }) });
}

/** The services the HTTP application is built from. */
export type DaemonServices = Omit<AppDeps, 'config' | 'logger' | 'now'>;

export interface Daemon extends DaemonServices {
  outbox: WebhookOutbox;
  /** The public listener: the API and the checkout pages. */
  app: FastifyInstance;
  /** The operations listener: health, readiness, metrics, docs (ops.host:ops.port). */
  ops: FastifyInstance;
  metrics: DaemonMetrics;
  readiness: Readiness;
  log: Logger;
  mongo: MongoHandle;
  wallet: WalletAccount;
  counter: AddressCounter;
  chain: ChainSource;
  /** Chain API requests of this process over the last hour (and the limit). */
  budget: RequestBudget;
  watcher: PaymentWatcher;
  /** Sends due webhooks: fans events out to the API endpoints, then the configured URL's and theirs. */
  dispatcher: DueSender | undefined;
  loop: WatcherLoop;
  close(): Promise<void>;
}

export interface DaemonOptions {
  /**
   * pino options (main.ts: `loggerOptions(config.log.level)`); default: silent. Secrets are
   * redacted whatever is given (see observability/logging.ts); the level defaults to `log.level`.
   */
  logger?: pino.LoggerOptions;
  /** A pino destination (tests capture logs with it). */
  logDestination?: pino.DestinationStream;
  now?: () => Date;
  /** Replace the configured rate provider or chain source (tests). */
  rates?: RateProvider;
  chain?: ChainSource;
  /**
   * The operator accepts a cold destination other than the one pinned in the database
   * (`serve --accept-new-cold-destination`); otherwise such a start is refused.
   */
  acceptNewColdDestination?: boolean;
  /** How old the cached wallet and reconcile metrics may get (default 60 s; tests use less). */
  metricsCacheMs?: number;
  /** Extra MongoDB client options (the benchmark counts commands with `monitorCommands`). */
  mongoOptions?: ConnectionOptions;
}

export async function createDaemon(config: Config, options: DaemonOptions = {}): Promise<Daemon> {
  const now = options.now ?? (() => new Date());
  const logOptions = options.logger && withRedaction(options.logger, config.log.level);
  const log = logOptions
    ? options.logDestination
      ? pino(logOptions, options.logDestination)
      : pino(logOptions)
    : pino({ level: 'silent' });
  const wallet = WalletAccount.fromConfig({ network: config.network, ...config.wallet });
  const mongo = await connectMongo(config.mongo.url, config.mongo.database, options.mongoOptions);
  try {
    const repo = new PaymentRepository(mongo.db);
    const ledger = new Ledger(mongo.db, now);
    const webhookStores = await openWebhookStores(mongo.db, now, {
      perWindow: REDELIVERIES_PER_MINUTE,
      windowMs: 60_000,
    });
    const { outbox } = webhookStores;
    const sweeps = new SweepRepository(mongo.db, now);
    const counter = new AddressCounter(mongo.db);
    const chainState = new ChainStateStore(mongo.db);
    await sweeps.ensureIndexes();
    await chainState.ensureIndexes();
    await Promise.all([repo.ensureIndexes(), ledger.ensureIndexes()]);
    const budget = requestBudgetFor(config);
    const chainLog = log.child({ component: 'chain' });
    const chain =
      options.chain ??
      EsploraChainSource.fromConfig(config, {
        budget,
        onBlockRefused: (refusal) => {
          chainLog.warn(
            { block: refusal.hash, reason: refusal.reason, source: refusal.source },
            'a chain server sent a block that does not verify; refused',
          );
        },
      });
    // The scan's position costs no request; before the first scan, one tip-height request.
    const scanHeight = async () =>
      (await chainState.scanState())?.tipHeight ?? (await chain.tipHeight());
    const payments = new PaymentService({
      repo,
      counter,
      wallet,
      chain,
      currentHeight: scanHeight,
      ...(config.wallet.gapLimit !== undefined && { gapLimit: config.wallet.gapLimit }),
      log: log.child({ component: 'payments' }),
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
    const view = { publicUrl: config.http.publicUrl, merchantName: config.checkout.merchantName };
    const watcherLog = log.child({ component: 'watcher' });
    const forwarder = forwarderFor(config, {
      repo,
      sweeps,
      chain,
      wallet,
      counter,
      log: log.child({ component: 'forwarding' }),
      now,
    });
    if (forwarder) {
      await pinColdDestination(forwarder.cold, {
        settings: new SettingsRepository(mongo.db),
        outbox,
        log,
        now,
        acceptChange: options.acceptNewColdDestination === true,
      });
      log.info(
        { mode: forwarder.mode, ...forwarder.cold.describe() },
        'forwarding to the cold destination',
      );
    }
    const metrics = new DaemonMetrics({
      counts: new MetricCounts(mongo.db),
      ...(chain instanceof EsploraChainSource && { chain }),
      budget,
      leading: () => loop.leading,
      countsCacheMs: config.ops.metricsCacheSeconds * 1000,
      log: log.child({ component: 'metrics' }),
    });
    const webhooks = webhookServices(
      { ...config.webhooks, secrets: webhookSecrets(config) },
      webhookStores,
      { now, log: log.child({ component: 'webhooks' }), registry: metrics.registry },
    );
    const dispatcher = webhooks.round;
    const holder = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    const lease = new Lease(
      new LeaseRepository(mongo.db),
      'watcher',
      holder,
      config.watcher.leaseSeconds * 1000,
      () => new Date(), // real time: the lease is about wall-clock expiry, whatever `now` says
      watcherLog,
    );
    registerOperatorMetrics(metrics.registry, {
      usage: new WalletUsage(mongo.db),
      runs: new ReconcileRuns(mongo.db),
      accountFingerprint: wallet.accountFingerprint,
      log: log.child({ component: 'metrics' }),
      ...(options.metricsCacheMs !== undefined && { cacheMs: options.metricsCacheMs }),
    });
    const settlement: Settlement = new Settlement({
      repo,
      ledger,
      outbox,
      view,
      // The admin's "check now" re-reads the chain through the watcher's address check.
      check: {
        tipHeight: (): Promise<number> => watcher.tipHeight(),
        check: (payment, tipHeight) => watcher.check(payment, tipHeight),
      },
      log: watcherLog,
      now,
    });
    const watcher: PaymentWatcher = new PaymentWatcher({
      repo,
      chain,
      chainState,
      scan: {
        network: config.network,
        ...(config.chain.scanFromHeight !== undefined && {
          scanFromHeight: config.chain.scanFromHeight,
        }),
        mempoolViewWindowMs: config.watcher.mempoolViewWindowSeconds * 1000,
        mempoolNewPaymentMs: config.watcher.mempoolNewPaymentSeconds * 1000,
        intervalMs: config.watcher.intervalSeconds * 1000,
      },
      settlement,
      ...(forwarder && { forwarder }),
      budget,
      policy: policyFrom(config),
      concurrency: config.watcher.concurrency,
      log: watcherLog,
      now,
      onCycle: (report) => {
        metrics.observeCycle(report);
      },
      onCycleFailed: (durationMs) => {
        metrics.observeFailedCycle(durationMs);
      },
      // The loop's own cycles stop writing once the lease is lost.
      leaseValid: (): boolean => loop.cycleMayWrite(),
    });
    const loop = new WatcherLoop(watcher, lease, config.watcher.intervalSeconds, watcherLog, {
      onTickSkipped: () => {
        metrics.observeSkippedTick();
      },
      dispatcher,
    });
    const probeChain = options.chain ?? readinessChain(config, budget);
    const readiness = new Readiness({
      timeoutMs: READINESS_TIMEOUT_MS,
      // N callers within the period → one upstream chain request, one MongoDB ping.
      cacheMs: config.ops.readinessCacheSeconds * 1000,
      pingMongo: (signal) => mongo.client.db('admin').command({ ping: 1 }, { signal }),
      // One request per probe (the tip height), not the several of a consistent tip read.
      chainTip: async () => ({ height: await probeChain.tipHeight() }),
      watcher: {
        enabled: () => loop.started,
        leading: () => loop.leading,
        lastCycleAt: () => metrics.lastCycleAt,
        lease: () => lease.state(),
      },
    });
    const services: DaemonServices = {
      payments,
      repo,
      ledger,
      accounting: new AccountingSource(mongo.db),
      outbox,
      webhookEndpoints: webhooks.registry,
      sweeps,
      forwarder,
      settlement,
      chainTipHeight: scanHeight,
    };
    // The HTTP layer never holds the private key: only the forwarder (above) has it.
    const app = await buildApp({
      config: appConfig(config),
      ...services,
      metricsRegistry: metrics.registry,
      logger: log,
      now,
    });
    const ops = await buildOpsApp({
      metrics,
      readiness,
      publicApp: app,
      logger: log.child({ component: 'ops' }),
    });
    return {
      ...services,
      outbox,
      metrics,
      readiness,
      app,
      ops,
      log,
      mongo,
      wallet,
      counter,
      chain,
      budget,
      watcher,
      dispatcher,
      loop,
      async close() {
        await loop.stop();
        await app.close();
        await ops.close();
        await mongo.client.close();
      },
    };
  } catch (err) {
    await mongo.client.close();
    throw err;
  }
}
