/**
 * The MongoDB scan position on the lab's wire server passes the ChainState contract the
 * in-memory one passes in the unit project. Neither mines nor pays. The scan position is one
 * document per database, so each test's store gets a database of its own.
 */
import { ChainStateStore } from '../../src/storage/chain-state.js';
import { chainStateContract } from '../support/chain-state-contract.js';
import { labDatabases } from '../support/lab-database.js';

const newDatabase = labDatabases('chain_state');

chainStateContract('ChainStateStore (MongoDB)', async () => {
  const store = new ChainStateStore(newDatabase());
  await store.ensureIndexes();
  return store;
});
