/**
 * The MongoDB ledger on the lab's wire server passes the LedgerStore contract the in-memory
 * ledger passes in the unit project. Neither mines nor pays: a database of its own.
 */
import { beforeAll } from 'vitest';
import { Ledger } from '../../src/storage/ledger.js';
import { labDatabase } from '../support/lab-database.js';
import { ledgerStoreContract } from '../support/ledger-store-contract.js';

const db = labDatabase('ledger_store');
let ledger: Ledger;

beforeAll(async () => {
  ledger = new Ledger(db());
  await ledger.ensureIndexes();
});

ledgerStoreContract('Ledger (MongoDB)', () => Promise.resolve(ledger));
