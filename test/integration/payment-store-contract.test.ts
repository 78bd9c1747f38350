/**
 * The MongoDB payment repository on the lab's wire server passes the PaymentStore contract the
 * in-memory store passes in the unit project. Neither mines nor pays: a database of its own.
 */
import { randomBytes } from 'node:crypto';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { PaymentRepository } from '../../src/storage/payments.js';
import { LabClient } from '../lab/client.js';
import { paymentStoreContract } from '../support/payment-store-contract.js';

const databaseName = `payment_store_${randomBytes(6).toString('hex')}`;
let client: MongoClient;
let db: Db;
let repo: PaymentRepository;

beforeAll(async () => {
  client = new MongoClient(LabClient.fromState().mongoUrl, { maxPoolSize: 4 });
  await client.connect();
  db = client.db(databaseName);
  repo = new PaymentRepository(db);
  await repo.ensureIndexes();
});

afterAll(async () => {
  await db.dropDatabase();
  await client.close();
});

paymentStoreContract('PaymentRepository (MongoDB)', () => Promise.resolve(repo));
