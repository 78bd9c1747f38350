/**
 * Webhook endpoints over the API (`/v1/webhooks`), typed by hand from the contract the daemon's
 * routes follow: this branch's OpenAPI document does not describe them yet. Once it does, these
 * types give way to the generated ones (`npm run client:types`).
 */

export interface WebhookEndpoint {
  id: string;
  url: string;
  /** Event types delivered to it; empty or absent means all. */
  events: string[];
  enabled: boolean;
  description?: string;
  createdAt: string;
  /** Why the daemon disabled it, after a long run of failures. */
  disabledReason?: string;
  [extra: string]: unknown;
}

/** Answered only by creation: the secret (`whsec_…`) is shown once, then only on rotation. */
export interface CreatedWebhookEndpoint extends WebhookEndpoint {
  secret: string;
}

export interface CreateWebhookInput {
  url: string;
  events?: string[];
  enabled?: boolean;
  description?: string;
}

export type UpdateWebhookInput = Partial<CreateWebhookInput>;

export interface RotateWebhookSecretInput {
  /** How long the old secret keeps signing beside the new one. */
  overlapSeconds?: number;
}

export interface WebhookDelivery {
  id: string;
  [field: string]: unknown;
}
