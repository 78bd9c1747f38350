/**
 * The sweep repository on the lab's MongoDB wire server: a state change is the table's
 * (SWEEP_TRANSITIONS) and guarded by the state the caller saw.
 */
import { randomBytes } from 'node:crypto';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sweep, SweepTransitionError } from '../../src/forwarding/sweep.js';
import { SweepRepository } from '../../src/storage/sweeps.js';
import { LabClient } from '../lab/client.js';

const databaseName = `sweep_store_${randomBytes(6).toString('hex')}`;
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

async function building(): Promise<Sweep> {
  const at = new Date();
  const sweep: Sweep = {
    _id: `swp_${randomBytes(6).toString('hex')}`,
    state: 'building',
    mode: 'sign',
    inputs: [
      {
        paymentId: 'pay_1',
        txid: 'ab'.repeat(32),
        vout: 0,
        valueSats: 10_000,
        scriptType: 'p2wpkh',
        index: 0,
      },
    ],
    destination: 'bcrt1qdestination',
    feeRate: 2,
    vsize: 110,
    feeSats: 220,
    valueOutSats: 9_780,
    createdAt: at,
    updatedAt: at,
    events: [{ at, type: 'building', cause: 'test' }],
  };
  await sweeps.create(sweep);
  return sweep;
}

describe('a sweep state change in the repository', () => {
  it('moves a sweep the table allows, and records the event', async () => {
    const sweep = await building();
    expect(
      await sweeps.transition(sweep._id, ['building'], 'signed', { txid: 'cd' }, 'signed'),
    ).toBe(true);
    const stored = await sweeps.get(sweep._id);
    expect(stored?.state).toBe('signed');
    expect(stored?.events.at(-1)).toMatchObject({ type: 'signed', cause: 'signed' });
  });

  it('does not move a sweep that is no longer in the state the caller saw', async () => {
    const sweep = await building();
    await sweeps.transition(sweep._id, ['building'], 'abandoned', {}, 'stale');
    expect(await sweeps.transition(sweep._id, ['building'], 'signed', {}, 'late')).toBe(false);
    expect((await sweeps.get(sweep._id))?.state).toBe('abandoned');
  });

  it('refuses a move the table does not allow, and writes nothing', async () => {
    const sweep = await building();
    await expect(
      sweeps.transition(sweep._id, ['building'], 'confirmed', { error: 'x' }, 'skipped ahead'),
    ).rejects.toThrow(SweepTransitionError);
    const stored = await sweeps.get(sweep._id);
    expect(stored?.state).toBe('building');
    expect(stored?.error).toBeUndefined();
    expect(stored?.events).toHaveLength(1);
  });
});
