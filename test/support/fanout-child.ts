/**
 * Runs one webhook fan-out pass against `<mongoUrl> <database>` and exits: the kill test sets
 * SATWATCH_FAILPOINT so the process dies in the middle of it.
 */
import { MongoClient } from 'mongodb';
import { WebhookDeliveryStore } from '../../src/storage/webhook-deliveries.js';
import { WebhookEndpointStore } from '../../src/storage/webhook-endpoints.js';
import { WebhookOutbox } from '../../src/storage/webhook-outbox.js';
import { WebhookFanOut } from '../../src/webhooks/fan-out.js';

const [mongoUrl, database] = process.argv.slice(2);
if (mongoUrl === undefined || database === undefined) throw new Error('usage: <mongoUrl> <db>');
const client = new MongoClient(mongoUrl);
await client.connect();
const db = client.db(database);
const created = await new WebhookFanOut({
  outbox: new WebhookOutbox(db),
  endpoints: new WebhookEndpointStore(db),
  deliveries: new WebhookDeliveryStore(db),
}).run();
console.log(`created ${created}`);
await client.close();
