/**
 * The lab's command line:
 *   install            install btcd, mongo-java-server, chromium, schemathesis (idempotent)
 *   up | down | status start, stop or describe the lab
 *   pay <address> <sats> [--no-rbf]   pay from the lab's payer wallet
 *   mine [blocks]      mine blocks (default 1)
 *   env                print shell exports to run the daemon against the lab, with a fresh
 *                      regtest wallet and merchant key (throwaway, for trying things out)
 */
import { installLab } from './install.js';
import { isLabHealthy, labDown, labUp, readLabState } from './lab.js';
import { LabClient } from './client.js';
import { hashApiKey, newApiKey } from '../../src/api/auth.js';
import { newTestWallet } from '../support/daemon.js';

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'install':
      installLab();
      console.log('[lab] btcd, mongo-java-server, chromium and schemathesis are installed');
      return 0;
    case 'up': {
      const { state, started } = await labUp();
      if (!started) console.log('[lab] already running');
      console.log(
        JSON.stringify(
          { esplora: state.esplora.url, mongo: state.mongo.url, btcdRpc: state.btcd.rpcUrl },
          null,
          2,
        ),
      );
      return 0;
    }
    case 'down':
      await labDown();
      console.log('[lab] down');
      return 0;
    case 'status': {
      const state = readLabState();
      const healthy = state !== undefined && (await isLabHealthy(state));
      console.log(healthy ? `[lab] up since ${state.startedAt}` : '[lab] not running');
      return healthy ? 0 : 1;
    }
    case 'pay': {
      const [address, sats] = args;
      if (!address || !sats) throw new Error('usage: pay <address> <sats> [--no-rbf]');
      const paid = await LabClient.fromState().pay(address, Number(sats), {
        rbf: !args.includes('--no-rbf'),
      });
      console.log(`[lab] paid ${sats} sats to ${address} in ${paid.txid}`);
      return 0;
    }
    case 'mine': {
      const hashes = await LabClient.fromState().mine(Number(args[0] ?? 1));
      console.log(`[lab] mined ${hashes.length} blocks, tip ${hashes[hashes.length - 1] ?? ''}`);
      return 0;
    }
    case 'env': {
      const lab = LabClient.fromState();
      const key = newApiKey();
      const exports = {
        SATWATCH_NETWORK: 'regtest',
        SATWATCH_MONGO_URL: lab.mongoUrl,
        SATWATCH_CHAIN_ESPLORA_URLS: lab.esploraUrl,
        SATWATCH_WATCHER_INTERVAL_SECONDS: '5',
        SATWATCH_WALLET_XPUB: newTestWallet().vpub,
        SATWATCH_API_KEYS: JSON.stringify([
          { id: 'demo', role: 'merchant', sha256: hashApiKey(key) },
        ]),
        SATWATCH_RATES_FIXED: JSON.stringify({ USD: '100000', EUR: '92000' }),
        SATWATCH_MERCHANT_KEY: key,
      };
      for (const [name, value] of Object.entries(exports)) console.log(`export ${name}='${value}'`);
      return 0;
    }
    default:
      console.error('usage: lab install|up|down|status|pay <address> <sats>|mine [blocks]|env');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
