/** The webhook collections' adapters for one database, with their indexes in place. */
import type { Db } from 'mongodb';
import { RedeliveryLimits } from './redelivery-limits.js';
import { WebhookDeliveryStore } from './webhook-deliveries.js';
import { WebhookEndpointStore } from './webhook-endpoints.js';
import { WebhookOutbox } from './webhook-outbox.js';

export interface WebhookStores {
  outbox: WebhookOutbox;
  endpoints: WebhookEndpointStore;
  deliveries: WebhookDeliveryStore;
  limits: RedeliveryLimits;
}

export async function openWebhookStores(
  db: Db,
  now: () => Date,
  redeliveries: { perWindow: number; windowMs: number },
): Promise<WebhookStores> {
  const stores: WebhookStores = {
    outbox: new WebhookOutbox(db, now),
    endpoints: new WebhookEndpointStore(db, now),
    deliveries: new WebhookDeliveryStore(db, now),
    limits: new RedeliveryLimits(db, redeliveries.perWindow, redeliveries.windowMs, now),
  };
  await stores.outbox.ensureIndexes();
  await stores.endpoints.ensureIndexes();
  await stores.deliveries.ensureIndexes();
  return stores;
}
