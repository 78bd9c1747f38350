/** The payer-facing pages: no login, nothing private (no user id, no merchant metadata). */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { type Payment, isIssued } from '../payments/payment.js';
import type { ViewContext } from '../payments/views.js';
import type { PaymentService } from '../payments/payment-service.js';
import { CHECKOUT_CSS, CHECKOUT_JS } from '../checkout/assets.js';
import { explorerTemplate } from '../checkout/explorer.js';
import { contentSecurityPolicy } from '../checkout/content-security-policy.js';
import { negotiateLanguage } from '../checkout/messages.js';
import { pageQrContent, renderCheckoutPage, renderNotFoundPage } from '../checkout/page.js';
import { payerStatus } from '../checkout/payer-status.js';
import { QrCache } from '../checkout/qr-cache.js';
import { SharedReads } from '../checkout/shared-reads.js';
import { notFound } from './errors.js';
import { perMinute } from './rate-limits.js';
import type { ApiTypeProvider } from './prepare.js';
import { idParams } from './params.js';

export interface CheckoutRoutesOptions {
  payments: PaymentService;
  view: ViewContext;
  now: () => Date;
  /** Page and status reads per minute per client address (public: no key to count by). */
  perClientPerMinute?: number;
  /** A block explorer's transaction URL with `{txid}` (see checkout/explorer.ts); none: no links. */
  explorerUrl?: string;
  /** Origins allowed to embed the page (CSP frame-ancestors); none: nobody. */
  frameAncestors?: readonly string[];
  /** payments.underpaymentToleranceBps: a payment short by less is paid, not partial. */
  underpaymentToleranceBps?: number;
  qrCache?: QrCache;
}

/** The settings the checkout reads (a structural slice of the configuration). */
export interface CheckoutSettings {
  network: string;
  checkout: { explorerUrl?: string; frameAncestors: readonly string[] };
  payments: { underpaymentToleranceBps: number };
}

/** The checkout's route options from its settings. */
export function checkoutOptions(
  config: CheckoutSettings,
): Pick<CheckoutRoutesOptions, 'explorerUrl' | 'frameAncestors' | 'underpaymentToleranceBps'> {
  const explorerUrl = explorerTemplate(config.network, config.checkout.explorerUrl);
  return {
    ...(explorerUrl !== undefined && { explorerUrl }),
    frameAncestors: config.checkout.frameAncestors,
    underpaymentToleranceBps: config.payments.underpaymentToleranceBps,
  };
}

export function checkoutRoutes(
  instance: FastifyInstance,
  options: CheckoutRoutesOptions,
): Promise<void> {
  const app = instance.withTypeProvider<ApiTypeProvider>();
  const { payments, view, now } = options;
  const statusOptions = {
    underpaymentToleranceBps: options.underpaymentToleranceBps ?? 0,
    ...(options.explorerUrl !== undefined && { explorerUrl: options.explorerUrl }),
  };
  const csp = contentSecurityPolicy(options.frameAncestors);
  const qrCache = options.qrCache ?? new QrCache();
  const reads = new SharedReads((id) => payments.get(id));
  // A payer looking at the page is waiting: the watcher checks that address's mempool. A failed
  // note never fails the page; the payment is still found by the next block.
  const noteView = async (payment: Payment, log: FastifyBaseLogger) => {
    try {
      await payments.markViewed(payment);
    } catch (err) {
      log.warn({ err, paymentId: payment._id }, 'could not record the checkout view');
    }
  };
  const limit =
    options.perClientPerMinute === undefined
      ? {}
      : { config: { rateLimit: perMinute(options.perClientPerMinute) } };

  app.get(
    '/pay/:id',
    {
      ...limit,
      schema: {
        tags: ['checkout'],
        summary: 'The checkout page a payer opens (HTML)',
        params: idParams,
        response: {
          200: {
            description: 'The page',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          404: {
            description: 'No such payment (a page saying so)',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (request, reply) => {
      const language = negotiateLanguage(request.headers['accept-language']);
      void reply
        .header('content-security-policy', csp)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .header('vary', 'Accept-Language')
        .type('text/html; charset=utf-8');
      const payment = await reads.get(request.params.id);
      if (!payment || !isIssued(payment))
        return reply.status(404).send(renderNotFoundPage(language));
      await noteView(payment, request.log);
      const status = payerStatus(payment, view, now(), statusOptions);
      const qr = pageQrContent(status);
      return renderCheckoutPage({
        status,
        language,
        ...(qr !== undefined && { qrSvg: await qrCache.svg(qr) }),
        ...(payment.rate && { rate: payment.rate }),
        statusUrl: `/pay/${encodeURIComponent(payment._id)}/status`,
      });
    },
  );

  app.get(
    '/pay/:id/status',
    {
      ...limit,
      schema: {
        tags: ['checkout'],
        summary: "A payment's public status, for the checkout page",
        params: idParams,
        response: { 200: { $ref: 'CheckoutStatus#' }, 404: { $ref: 'Error#' } },
      },
    },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      const payment = await reads.get(request.params.id);
      if (!payment || !isIssued(payment)) throw notFound('payment');
      await noteView(payment, request.log);
      return payerStatus(payment, view, now(), statusOptions);
    },
  );

  const asset = (path: string, type: string, body: string) =>
    app.get(path, { schema: { hide: true } }, (_request, reply) =>
      reply
        .type(type)
        .header('cache-control', 'public, max-age=3600')
        .header('x-content-type-options', 'nosniff')
        .send(body),
    );
  asset('/pay/assets/checkout.css', 'text/css; charset=utf-8', CHECKOUT_CSS);
  asset('/pay/assets/checkout.js', 'text/javascript; charset=utf-8', CHECKOUT_JS);
  return Promise.resolve();
}
