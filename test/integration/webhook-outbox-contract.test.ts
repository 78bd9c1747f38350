/**
 * The MongoDB webhook outbox on the lab's wire server passes the contract the in-memory outbox
 * passes in the unit project. Neither mines nor pays: a database of its own.
 */
import { beforeAll } from 'vitest';
import { WebhookOutbox } from '../../src/storage/webhook-outbox.js';
import { labDatabase } from '../support/lab-database.js';
import { webhookOutboxContract } from '../support/webhook-outbox-contract.js';

const db = labDatabase('outbox_contract');
let outbox: WebhookOutbox;

beforeAll(async () => {
  outbox = new WebhookOutbox(db());
  await outbox.ensureIndexes();
});

webhookOutboxContract('WebhookOutbox (MongoDB)', () => Promise.resolve(outbox));
