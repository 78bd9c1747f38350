/**
 * The merchant's typed client for a satwatch daemon. Paths, bodies and answers are typed from
 * the OpenAPI document the daemon serves (openapi-types.ts, generated); calls go through
 * openapi-fetch. Every refusal surfaces as a SatwatchApiError carrying our error body.
 */
import createClient from 'openapi-fetch';
import { SatwatchApiError } from './errors.js';
import type { components, operations, paths } from './openapi-types.js';

type JsonBody<T> = T extends { content: { 'application/json': infer B } } ? B : never;

export type Payment = components['schemas']['Payment'];
export type PaymentStatus = Payment['status'];
export type CreatePaymentInput = JsonBody<operations['postV1Payments']['requestBody']>;
export type ListPaymentsQuery = NonNullable<operations['getV1Payments']['parameters']['query']>;
export type PaymentPage = JsonBody<operations['getV1Payments']['responses'][200]>;
export type Balance = JsonBody<operations['getV1UsersByIdBalance']['responses'][200]>;
export type DebitInput = JsonBody<operations['postV1UsersByIdDebit']['requestBody']>;
export type LedgerEntry = JsonBody<operations['postV1UsersByIdDebit']['responses'][201]>;
export type WebhookEndpoint = JsonBody<operations['getV1WebhooksById']['responses'][200]>;
/** Answered only by creation: the secret (`whsec_…`) is shown once, then only on rotation. */
export type CreatedWebhookEndpoint = JsonBody<operations['postV1Webhooks']['responses'][201]>;
export type CreateWebhookInput = JsonBody<operations['postV1Webhooks']['requestBody']>;
export type UpdateWebhookInput = JsonBody<operations['patchV1WebhooksById']['requestBody']>;
export type RotateWebhookSecretInput = NonNullable<
  JsonBody<NonNullable<operations['postV1WebhooksByIdRotateSecret']['requestBody']>>
>;
export type WebhookDeliveryPage = JsonBody<
  operations['getV1WebhooksByIdDeliveries']['responses'][200]
>;
export type WebhookDelivery = WebhookDeliveryPage['items'][number];

export interface SatwatchClientOptions {
  /** The daemon's public URL, e.g. `https://pay.example.com`. */
  baseUrl: string;
  /** A merchant API key (`sw_…`). */
  apiKey: string;
  /** Another fetch (tests, proxies); the global one by default. */
  fetch?: typeof globalThis.fetch;
}

/** What openapi-fetch answers: data on success, the parsed error body otherwise. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

async function unwrap<T>(pending: Promise<FetchResult<T>>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok || error !== undefined) throw new SatwatchApiError(response.status, error);
  return data as T;
}

export class SatwatchClient {
  private readonly http;
  private readonly options: SatwatchClientOptions;

  constructor(options: SatwatchClientOptions) {
    this.options = options;
    this.http = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/$/, ''),
      headers: { authorization: `Bearer ${options.apiKey}` },
      ...(options.fetch && { fetch: options.fetch }),
    });
  }

  /**
   * Creates a payment. Send an `idempotencyKey` (any unique string per order attempt) so a retry
   * after a lost answer returns the same payment instead of making a second one.
   */
  createPayment(input: CreatePaymentInput, opts: { idempotencyKey?: string } = {}) {
    return unwrap<Payment>(
      this.http.POST('/v1/payments', {
        body: input,
        ...(opts.idempotencyKey !== undefined && {
          params: { header: { 'idempotency-key': opts.idempotencyKey } },
        }),
      }),
    );
  }

  getPayment(id: string) {
    return unwrap<Payment>(this.http.GET('/v1/payments/{id}', { params: { path: { id } } }));
  }

  /** One page, newest first; pass `nextCursor` back as `cursor` for the next. */
  listPayments(query: ListPaymentsQuery = {}) {
    return unwrap<PaymentPage>(this.http.GET('/v1/payments', { params: { query } }));
  }

  /** Every payment matching `query`, page after page. */
  async *payments(query: Omit<ListPaymentsQuery, 'cursor'> = {}): AsyncGenerator<Payment> {
    let cursor: string | undefined;
    do {
      const page = await this.listPayments({ ...query, ...(cursor !== undefined && { cursor }) });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** Cancels an unpaid payment; cancelling again answers the same. */
  cancelPayment(id: string) {
    return unwrap<Payment>(
      this.http.POST('/v1/payments/{id}/cancel', { params: { path: { id } } }),
    );
  }

  balance(userId: string) {
    return unwrap<Balance>(
      this.http.GET('/v1/users/{id}/balance', { params: { path: { id: userId } } }),
    );
  }

  /** Spends credits; the Idempotency-Key makes a retried debit count once. Never below zero (409). */
  debit(userId: string, input: DebitInput, opts: { idempotencyKey: string }) {
    return unwrap<LedgerEntry>(
      this.http.POST('/v1/users/{id}/debit', {
        params: { path: { id: userId }, header: { 'idempotency-key': opts.idempotencyKey } },
        body: input,
      }),
    );
  }

  listWebhooks() {
    return unwrap(this.http.GET('/v1/webhooks'));
  }

  getWebhook(id: string) {
    return unwrap(this.http.GET('/v1/webhooks/{id}', { params: { path: { id } } }));
  }

  /** Creates an endpoint; the answer carries its secret, shown only this once. */
  createWebhook(input: CreateWebhookInput) {
    return unwrap(this.http.POST('/v1/webhooks', { body: input }));
  }

  updateWebhook(id: string, input: UpdateWebhookInput) {
    return unwrap(this.http.PATCH('/v1/webhooks/{id}', { params: { path: { id } }, body: input }));
  }

  async deleteWebhook(id: string): Promise<void> {
    await unwrap(this.http.DELETE('/v1/webhooks/{id}', { params: { path: { id } } }));
  }

  /** A new secret; the old one keeps signing beside it for `overlapSeconds`. */
  rotateWebhookSecret(id: string, input: RotateWebhookSecretInput = {}) {
    return unwrap(
      this.http.POST('/v1/webhooks/{id}/rotate-secret', {
        params: { path: { id } },
        body: input,
      }),
    );
  }

  listWebhookDeliveries(id: string) {
    return unwrap(this.http.GET('/v1/webhooks/{id}/deliveries', { params: { path: { id } } }));
  }

  redeliverWebhook(id: string, deliveryId: string) {
    return unwrap(
      this.http.POST('/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', {
        params: { path: { id, deliveryId } },
      }),
    );
  }
}

export function createSatwatchClient(options: SatwatchClientOptions): SatwatchClient {
  return new SatwatchClient(options);
}
