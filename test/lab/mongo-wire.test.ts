/**
 * Proves the lab's MongoDB wire server gives the guarantees satwatch's money rules rely on,
 * reached through the official driver: unique keys, atomic $inc, guarded findOneAndUpdate.
 */
import { MongoClient, MongoServerError, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabClient } from './client.js';

let lab: LabClient;
const clients: MongoClient[] = [];
let db: Db;

async function connect(): Promise<MongoClient> {
  const client = new MongoClient(lab.mongoUrl, { maxPoolSize: 20 });
  await client.connect();
  clients.push(client);
  return client;
}

beforeAll(async () => {
  lab = LabClient.fromState();
  db = (await connect()).db(`wire_${Date.now()}`);
});

afterAll(async () => {
  await db.dropDatabase();
  await Promise.all(clients.map((c) => c.close()));
});

describe('mongo-java-server through the official driver', () => {
  it('refuses a duplicate on a unique index with code 11000', async () => {
    const addresses = db.collection('addresses');
    await addresses.createIndex({ address: 1 }, { unique: true }, {});
    await addresses.insertOne({ address: 'bcrt1qexample', index: 0 });
    const error = await addresses
      .insertOne({ address: 'bcrt1qexample', index: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11000);
    expect(await addresses.countDocuments()).toBe(1);
  });

  it('lands all 200 concurrent $inc updates on one document from parallel connections', async () => {
    const connections = await Promise.all(Array.from({ length: 10 }, () => connect()));
    const balances = db.collection<{ _id: string; sats: number }>('balances');
    await balances.insertOne({ _id: 'user-1', sats: 0 });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        connections[i % connections.length]!.db(db.databaseName)
          .collection<{ _id: string; sats: number }>('balances')
          .updateOne({ _id: 'user-1' }, { $inc: { sats: i + 1 } }),
      ),
    );
    expect((await balances.findOne({ _id: 'user-1' }))?.sats).toBe((200 * 201) / 2);
  });

  it('lets exactly one of 50 concurrent findOneAndUpdate calls guarded on a state win', async () => {
    const connections = await Promise.all(Array.from({ length: 5 }, () => connect()));
    const payments = db.collection<{ _id: string; status: string; winner?: number }>('payments');
    await payments.insertOne({ _id: 'pay-1', status: 'confirming' });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        connections[i % connections.length]!.db(db.databaseName)
          .collection<{ _id: string; status: string; winner?: number }>('payments')
          .findOneAndUpdate(
            { _id: 'pay-1', status: 'confirming' },
            { $set: { status: 'confirmed', winner: i } },
            { returnDocument: 'after' },
          ),
      ),
    );
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect(await payments.findOne({ _id: 'pay-1' })).toEqual({
      _id: 'pay-1',
      status: 'confirmed',
      winner: winners[0]!.winner,
    });
  });

  it('upserts with findOneAndUpdate and keeps a capped event list with $push $each $slice', async () => {
    const counters = db.collection<{ _id: string; next: number }>('counters');
    const first = await counters.findOneAndUpdate(
      { _id: 'wallet' },
      { $inc: { next: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    const second = await counters.findOneAndUpdate(
      { _id: 'wallet' },
      { $inc: { next: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    expect([first?.next, second?.next]).toEqual([1, 2]);

    const events = db.collection<{ _id: string; events: number[] }>('events');
    await events.insertOne({ _id: 'p', events: [] });
    for (let i = 0; i < 5; i++) {
      await events.updateOne({ _id: 'p' }, { $push: { events: { $each: [i], $slice: -3 } } });
    }
    expect((await events.findOne({ _id: 'p' }))?.events).toEqual([2, 3, 4]);
  });
});
