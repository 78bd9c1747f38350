/** The in-memory scan position passes the ChainState contract the MongoDB store passes. */
import { chainStateContract } from '../support/chain-state-contract.js';
import { MemoryChainState } from '../support/memory-chain-state.js';

chainStateContract('MemoryChainState', () => Promise.resolve(new MemoryChainState()));
