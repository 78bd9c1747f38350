/**
 * The in-memory chain source passes the same contract suite as the Esplora source on the lab,
 * so watcher unit tests built on it stand for the real backend.
 */
import { type ChainDriver, chainSourceContract } from '../support/chain-source-contract.js';
import { MemoryChainSource } from '../support/memory-chain-source.js';

const DEFAULT_FEES = { '1': 20, '3': 10, '6': 5, '144': 1 };

function memoryDriver(chain: MemoryChainSource): ChainDriver {
  const must = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the memory chain has no ${what}`);
    return value;
  };
  return {
    pay(address, sats, options = {}) {
      const txid = chain.pay(address, sats, options);
      const tx = must(chain.inspect(txid), `transaction ${txid}`);
      return Promise.resolve({
        txid,
        vout: 0,
        fee: tx.feeSats ?? 0,
        vsize: tx.vsize ?? 0,
        outputCount: tx.outputs.length,
      });
    },
    replace: (txid) => Promise.resolve({ txid: chain.replace(txid) }),
    mine: (blocks = 1) => Promise.resolve(chain.mine(blocks)),
    invalidate(hash) {
      chain.invalidate(hash);
      return Promise.resolve();
    },
    reconsider(hash) {
      chain.reconsider(hash);
      return Promise.resolve();
    },
    bestHash: () => Promise.resolve(chain.tipHashNow),
    tipHeight: () => Promise.resolve(chain.tipHeightNow),
    hashAt: (height) => Promise.resolve(must(chain.hashAtHeight(height), `block at ${height}`)),
    heightOf: (hash) => Promise.resolve(must(chain.heightOf(hash), `block ${hash}`)),
    setFeeEstimates(estimates) {
      chain.setFeeEstimates(estimates ?? DEFAULT_FEES);
      return Promise.resolve();
    },
  };
}

chainSourceContract('MemoryChainSource', () => {
  const chain = new MemoryChainSource({ feeEstimates: DEFAULT_FEES });
  // A few blocks, so heights 0, 1 and tip - 1 exist as on the lab.
  chain.mine(3);
  return { source: chain, driver: memoryDriver(chain) };
});
