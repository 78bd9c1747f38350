/**
 * The MongoDB sweep repository on the lab's wire server passes the SweepStore contract the
 * in-memory store passes in the unit project. Neither mines nor pays: a database of its own.
 */
import { beforeAll } from 'vitest';
import { SweepRepository } from '../../src/storage/sweeps.js';
import { labDatabase } from '../support/lab-database.js';
import { sweepStoreContract } from '../support/sweep-store-contract.js';

const db = labDatabase('sweep_contract');
let sweeps: SweepRepository;

beforeAll(async () => {
  sweeps = new SweepRepository(db());
  await sweeps.ensureIndexes();
});

sweepStoreContract('SweepRepository (MongoDB)', () => Promise.resolve(sweeps));
