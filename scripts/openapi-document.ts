/**
 * The OpenAPI document the public app serves, built without a database or a chain: the routes
 * are registered with services that are never called (the document comes from their schemas).
 * The typed client's types are generated from it (scripts/client-types.ts).
 */
import { buildApp } from '../src/app.js';
import { appConfig, loadConfig } from '../src/config/config.js';
import { bip32 } from '../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../src/wallet/networks.js';

/** A stand-in for a service the document does not need: any call says so. */
function unwired(what: string): never {
  const target = () => undefined;
  const handler: ProxyHandler<typeof target> = {
    // Not a thenable: awaiting a stand-in must not look like a promise.
    get: (_t, prop): unknown => (prop === 'then' ? undefined : unwired(`${what}.${String(prop)}`)),
    apply: () => {
      throw new Error(`${what}() was called while building the OpenAPI document`);
    },
  };
  return new Proxy(target, handler) as never;
}

// A fixed, obviously fake test-network key: the document does not depend on it.
const XPUB = bip32
  .fromSeed(Buffer.alloc(32, 7), BITCOIN_NETWORKS.regtest)
  .derivePath("m/84'/1'/0'")
  .neutered()
  .toBase58();

/** The document as `GET /openapi.json` serves it under the default configuration. */
export async function servedOpenApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({
    env: {
      SATWATCH_NETWORK: 'regtest',
      SATWATCH_WALLET_XPUB: XPUB,
      SATWATCH_CHAIN_ESPLORA_URLS: 'http://127.0.0.1:1',
    },
  });
  const app = await buildApp({
    config: appConfig(config),
    payments: unwired('payments'),
    repo: unwired('repo'),
    ledger: unwired('ledger'),
    accounting: unwired('accounting'),
    outbox: unwired('outbox'),
    webhookEndpoints: unwired('webhookEndpoints'),
    sweeps: unwired('sweeps'),
    forwarder: undefined,
    settlement: unwired('settlement'),
  });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}
