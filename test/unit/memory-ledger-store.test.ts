/** The in-memory ledger passes the LedgerStore contract the MongoDB ledger passes on the lab. */
import { ledgerStoreContract } from '../support/ledger-store-contract.js';
import { MemoryLedgerStore } from '../support/memory-ledger-store.js';

ledgerStoreContract('MemoryLedgerStore', () => Promise.resolve(new MemoryLedgerStore()));
