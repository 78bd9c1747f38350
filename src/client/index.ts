/**
 * `satwatch/client`: a typed client for a satwatch daemon's merchant API, and the webhook
 * verifier. Imports nothing from the daemon itself, so it stays small for a merchant's app.
 */
export {
  type Balance,
  type CreatePaymentInput,
  type CreateWebhookInput,
  type CreatedWebhookEndpoint,
  type DebitInput,
  type LedgerEntry,
  type ListPaymentsQuery,
  type Payment,
  type PaymentPage,
  type PaymentStatus,
  type RotateWebhookSecretInput,
  SatwatchClient,
  type SatwatchClientOptions,
  type UpdateWebhookInput,
  type WebhookDelivery,
  type WebhookDeliveryPage,
  type WebhookEndpoint,
  createSatwatchClient,
} from './client.js';
export { SatwatchApiError, type SatwatchErrorBody } from './errors.js';
export type { components, operations, paths } from './openapi-types.js';
export {
  type WebhookEvent,
  type WebhookHeaders,
  WebhookVerificationError,
  verifyWebhook,
} from './verify-webhook.js';
