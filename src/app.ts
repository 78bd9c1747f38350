/**
 * Builds the public HTTP application from its services; tests `inject` into it without opening
 * a port. Operations endpoints (readiness, metrics, docs) live on the ops app
 * (observability/ops-app.ts), not here.
 */
import swagger from '@fastify/swagger';
import type { Registry } from 'prom-client';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { adminRoutes } from './api/admin-routes.js';
import { swaggerOptions } from './api/openapi.js';
import { version } from './version.js';
import { type ApiKeyConfig, ApiKeyVerifier } from './api/auth.js';
import { type CheckoutSettings, checkoutOptions, checkoutRoutes } from './api/checkout-routes.js';
import { MAX_URL_LENGTH, clientErrorHandler, frameworkErrors } from './api/client-errors.js';
import { ApiError } from './api/errors.js';
import { FailedAuthLimiter } from './api/failed-auth-limiter.js';
import { exportRoutes } from './api/export-routes.js';
import { paymentRoutes } from './api/payments-routes.js';
import { prepareApi } from './api/prepare.js';
import { registerRateLimits } from './api/rate-limits.js';
import { sweepsRoutes } from './api/sweeps-routes.js';
import { usersRoutes } from './api/users-routes.js';
import { webhookRoutes } from './api/webhooks-routes.js';
import { webhookEndpointRoutes } from './api/webhook-endpoints-routes.js';
import type { Forwarder } from './forwarding/forwarder.js';
import type { LedgerStore } from './ledger/ledger.js';
import { registerHttpMetrics } from './observability/http-metrics.js';
import { REQUEST_ID_HEADER, requestIdFor } from './observability/request-id.js';
import { healthzRoute } from './observability/ops-app.js';
import type { PaymentService } from './payments/payment-service.js';
import type { AccountingSource } from './storage/accounting-source.js';
import type { Settlement } from './settlement/settlement.js';
import type { PaymentRepository } from './storage/payments.js';
import type { SweepRepository } from './storage/sweeps.js';
import type { OutboxQueue } from './webhooks/ports.js';
import type { EndpointRegistry } from './webhooks/endpoint-registry.js';

/**
 * The settings the HTTP application reads: a structural slice of the daemon's configuration,
 * which the composition root passes as `appConfig(config)`. `wallet` is there only to be
 * checked: it must come without `xprv`.
 */
export interface AppSettings {
  http: { bodyLimitBytes: number; trustProxy: boolean; publicUrl: string };
  packages: readonly { id: string }[];
  rates: {
    provider: string;
    currencies: readonly string[];
    fixed: Readonly<Record<string, string>>;
  };
  rateLimit: {
    globalPerMinute: number;
    createPerMinute: number;
    debitPerMinute: number;
    checkoutPerMinute: number;
    failedAuthPerMinute: number;
  };
  auth: { apiKeys: readonly ApiKeyConfig[] };
  checkout: { merchantName: string } & CheckoutSettings['checkout'];
  network: CheckoutSettings['network'];
  payments: CheckoutSettings['payments'];
  wallet: object;
}

export interface AppDeps {
  /** Without `wallet.xprv`: the HTTP layer never holds the private key (see appConfig). */
  config: AppSettings;
  payments: PaymentService;
  repo: PaymentRepository;
  ledger: LedgerStore;
  /** The records behind the accounting exports. */
  accounting: AccountingSource;
  outbox: OutboxQueue;
  /** The webhook endpoints API (with the configured URL as the read-only `config`). */
  webhookEndpoints: EndpointRegistry;
  sweeps: SweepRepository;
  forwarder: Forwarder | undefined;
  /** Crediting and the admin's "check now" / "confirm by hand". */
  settlement: Settlement;
  /** Where the public app's HTTP request metrics go (the ops listener serves them). */
  metricsRegistry?: Registry;
  /** The chain tip height, for admin actions outside a watcher cycle ("forward now"). */
  chainTipHeight?: () => Promise<number>;
  logger?: FastifyBaseLogger;
  now?: () => Date;
}

export class PrivateKeyInAppError extends Error {
  constructor() {
    super('buildApp was handed wallet.xprv: pass appConfig(config), without the private key');
    this.name = 'PrivateKeyInAppError';
  }
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  if ('xprv' in config.wallet) throw new PrivateKeyInAppError();
  const now = deps.now ?? (() => new Date());
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: config.http.bodyLimitBytes,
    // Longer than any id we issue, so over-long ids reach our schemas (400) instead of a bare 414.
    routerOptions: { maxParamLength: 400 },
    trustProxy: config.http.trustProxy,
    // Our own rule for the caller's x-request-id (see requestIdFor), not Fastify's header option.
    requestIdHeader: false,
    genReqId: (req) => requestIdFor(req.headers[REQUEST_ID_HEADER]),
    clientErrorHandler,
    frameworkErrors,
  });
  prepareApi(app);
  if (deps.metricsRegistry) registerHttpMetrics(app, deps.metricsRegistry);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (request.url.length > MAX_URL_LENGTH) {
      done(
        new ApiError(414, 'uri_too_long', `the URL is longer than ${MAX_URL_LENGTH} characters`),
      );
      return;
    }
    done();
  });

  // Generates the OpenAPI document (served by the ops app) from the route schemas.
  await app.register(
    swagger,
    swaggerOptions(version(), {
      packageIds: config.packages.map((p) => p.id),
      // With fixed rates, only the currencies that have one can be priced.
      currencies: [
        'SAT',
        'BTC',
        ...config.rates.currencies.filter(
          (c) => config.rates.provider !== 'fixed' || c in config.rates.fixed,
        ),
      ],
    }),
  );
  await registerRateLimits(app, { globalPerMinute: config.rateLimit.globalPerMinute });

  const auth = new ApiKeyVerifier(
    config.auth.apiKeys,
    new FailedAuthLimiter(config.rateLimit.failedAuthPerMinute),
  );
  const view = { publicUrl: config.http.publicUrl, merchantName: config.checkout.merchantName };

  app.get('/healthz', { ...healthzRoute, config: { rateLimit: false } }, () => ({
    status: 'ok',
  }));
  await app.register(paymentRoutes, {
    payments: deps.payments,
    auth,
    view,
    createPerMinute: config.rateLimit.createPerMinute,
  });
  await app.register(usersRoutes, {
    ledger: deps.ledger,
    auth,
    debitPerMinute: config.rateLimit.debitPerMinute,
  });
  await app.register(adminRoutes, { repo: deps.repo, settlement: deps.settlement, auth, view });
  await app.register(webhookRoutes, { outbox: deps.outbox, auth });
  await app.register(webhookEndpointRoutes, { registry: deps.webhookEndpoints, auth });
  await app.register(exportRoutes, { accounting: deps.accounting, auth });
  await app.register(sweepsRoutes, {
    sweeps: deps.sweeps,
    forwarder: deps.forwarder,
    auth,
    ...(deps.chainTipHeight && { chainTipHeight: deps.chainTipHeight }),
  });
  await app.register(checkoutRoutes, {
    payments: deps.payments,
    view,
    now,
    perClientPerMinute: config.rateLimit.checkoutPerMinute,
    ...checkoutOptions(config),
  });
  return app;
}
