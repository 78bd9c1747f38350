/**
 * Databases of the test file's own on the lab's MongoDB wire server, for the store contract
 * files: the client connects before the file's tests, the databases are dropped after them.
 */
import { randomBytes } from 'node:crypto';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { LabClient } from '../lab/client.js';

/**
 * Registers the hooks; the returned function, called inside tests (or a store factory), gives
 * a new database each call.
 */
export function labDatabases(prefix: string): () => Db {
  let client: MongoClient | undefined;
  const made: Db[] = [];
  beforeAll(async () => {
    client = new MongoClient(LabClient.fromState().mongoUrl, { maxPoolSize: 8 });
    await client.connect();
  });
  afterAll(async () => {
    for (const db of made) await db.dropDatabase();
    await client?.close();
  });
  return () => {
    if (!client) throw new Error('the lab client is not connected yet');
    const db = client.db(`${prefix}_${randomBytes(6).toString('hex')}`);
    made.push(db);
    return db;
  };
}

/** One database for the whole file (its tests keep apart by ids of their own). */
export function labDatabase(prefix: string): () => Db {
  const next = labDatabases(prefix);
  let db: Db | undefined;
  return () => (db ??= next());
}
