/**
 * The MongoDB ledger on the lab's wire server passes the LedgerStore contract the in-memory
 * ledger passes in the unit project. Neither mines nor pays: a database of its own.
 */
import { randomBytes } from 'node:crypto';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { Ledger } from '../../src/storage/ledger.js';
import { LabClient } from '../lab/client.js';
import { ledgerStoreContract } from '../support/ledger-store-contract.js';

const databaseName = `ledger_store_${randomBytes(6).toString('hex')}`;
let client: MongoClient;
let db: Db;
let ledger: Ledger;

beforeAll(async () => {
  client = new MongoClient(LabClient.fromState().mongoUrl, { maxPoolSize: 8 });
  await client.connect();
  db = client.db(databaseName);
  ledger = new Ledger(db);
  await ledger.ensureIndexes();
});

afterAll(async () => {
  await db.dropDatabase();
  await client.close();
});

ledgerStoreContract('Ledger (MongoDB)', () => Promise.resolve(ledger));
