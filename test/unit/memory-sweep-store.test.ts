/** The in-memory sweep store passes the SweepStore contract the MongoDB repository passes. */
import { MemorySweepStore } from '../support/memory-sweep-store.js';
import { sweepStoreContract } from '../support/sweep-store-contract.js';

sweepStoreContract('MemorySweepStore', () => Promise.resolve(new MemorySweepStore()));
