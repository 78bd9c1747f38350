/** The in-memory webhook outbox passes the contract the MongoDB outbox passes on the lab. */
import { MemoryWebhookOutbox } from '../support/memory-webhook-outbox.js';
import { webhookOutboxContract } from '../support/webhook-outbox-contract.js';

webhookOutboxContract('MemoryWebhookOutbox', () => Promise.resolve(new MemoryWebhookOutbox()));
