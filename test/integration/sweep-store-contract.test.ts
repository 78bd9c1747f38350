/**
 * The MongoDB sweep repository on the lab's wire server passes the SweepStore contract the
 * in-memory store passes in the unit project. Neither mines nor pays: a database of its own.
 */
import { randomBytes } from 'node:crypto';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { SweepRepository } from '../../src/storage/sweeps.js';
import { LabClient } from '../lab/client.js';
import { sweepStoreContract } from '../support/sweep-store-contract.js';

const databaseName = `sweep_contract_${randomBytes(6).toString('hex')}`;
let client: MongoClient;
let db: Db;
let sweeps: SweepRepository;

beforeAll(async () => {
  client = new MongoClient(LabClient.fromState().mongoUrl, { maxPoolSize: 4 });
  await client.connect();
  db = client.db(databaseName);
  sweeps = new SweepRepository(db);
  await sweeps.ensureIndexes();
});

afterAll(async () => {
  await db.dropDatabase();
  await client.close();
});

sweepStoreContract('SweepRepository (MongoDB)', () => Promise.resolve(sweeps));
