/**
 * The MongoDB payment repository on the lab's wire server passes the PaymentStore contract the
 * in-memory store passes in the unit project. Neither mines nor pays: a database of its own.
 */
import { beforeAll } from 'vitest';
import { PaymentRepository } from '../../src/storage/payments.js';
import { labDatabase } from '../support/lab-database.js';
import { paymentStoreContract } from '../support/payment-store-contract.js';

const db = labDatabase('payment_store');
let repo: PaymentRepository;

beforeAll(async () => {
  repo = new PaymentRepository(db());
  await repo.ensureIndexes();
});

paymentStoreContract('PaymentRepository (MongoDB)', () => Promise.resolve(repo));
