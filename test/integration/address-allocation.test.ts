/**
 * Address issue under load: concurrent clients over real HTTP against two replicas sharing one
 * database. Every payment gets its own address, the indexes are consecutive, none is skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import {
  type TestDaemon,
  independentAddress,
  listen,
  startReplica,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';

let primary: TestDaemon;
let replica: Daemon;
let urls: string[];

beforeAll(async () => {
  primary = await startTestDaemon({ SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '100000' });
  replica = await startReplica(primary);
  urls = [await listen(primary.app), await listen(replica.app)];
});

afterAll(async () => {
  await replica.close();
  await stopTestDaemon(primary);
});

interface Created {
  id: string;
  address: string;
  derivationPath: string;
}

describe('address allocation', () => {
  it('gives 1,000 creates from 20 concurrent clients on 2 replicas 1,000 distinct addresses with consecutive indexes', async () => {
    const total = 1000;
    const clients = 20;
    let issued = 0;
    const created: Created[] = [];
    await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        const base = urls[client % urls.length]!;
        while (issued < total) {
          issued++;
          const res = await fetch(`${base}/v1/payments`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${primary.merchantKey}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ userId: `client-${client}`, packageId: 'sats' }),
          });
          expect(res.status).toBe(201);
          created.push((await res.json()) as Created);
        }
      }),
    );
    expect(created).toHaveLength(total);
    expect(new Set(created.map((p) => p.address)).size).toBe(total);
    expect(new Set(created.map((p) => p.id)).size).toBe(total);
    const indexes = created
      .map((p) => Number(p.derivationPath.split('/').pop()))
      .sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: total }, (_, i) => i));

    // Spot-check addresses against an independent derivation from the seed.
    for (const p of created.filter((_, i) => i % 97 === 0)) {
      expect(p.address).toBe(
        await independentAddress(primary.testWallet, Number(p.derivationPath.split('/').pop())),
      );
    }
    expect(await primary.mongo.db.collection('payments').countDocuments()).toBe(total);
  });

  it('refuses to reuse an address even when the counter falls behind, and moves on', async () => {
    const counters = primary.mongo.db.collection<{ _id: string; next: number }>('counters');
    const id = `receive:${primary.wallet.accountFingerprint}`;
    const before = (await counters.findOne({ _id: id }))!.next;
    // Simulate a restore from an old backup: the counter goes back 3 indexes.
    await counters.updateOne({ _id: id }, { $inc: { next: -3 } });
    const res = await primary.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: primary.merchant,
      payload: { userId: 'z', packageId: 'sats' },
    });
    expect(res.statusCode).toBe(201);
    const index = Number(res.json<Created>().derivationPath.split('/').pop());
    expect(index).toBe(before);
    expect(
      await primary.mongo.db
        .collection('payments')
        .countDocuments({ address: res.json<Created>().address }),
    ).toBe(1);
  });
});
