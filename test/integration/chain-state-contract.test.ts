/**
 * The MongoDB scan position on the lab's wire server passes the ChainState contract the
 * in-memory one passes in the unit project. Neither mines nor pays: a database per test.
 */
import { randomBytes } from 'node:crypto';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { ChainStateStore } from '../../src/storage/chain-state.js';
import { LabClient } from '../lab/client.js';
import { chainStateContract } from '../support/chain-state-contract.js';

let client: MongoClient;
const databases: Db[] = [];

beforeAll(async () => {
  client = new MongoClient(LabClient.fromState().mongoUrl, { maxPoolSize: 4 });
  await client.connect();
});

afterAll(async () => {
  for (const db of databases) await db.dropDatabase();
  await client.close();
});

chainStateContract('ChainStateStore (MongoDB)', async () => {
  const db = client.db(`chain_state_${randomBytes(6).toString('hex')}`);
  databases.push(db);
  const store = new ChainStateStore(db);
  await store.ensureIndexes();
  return store;
});
