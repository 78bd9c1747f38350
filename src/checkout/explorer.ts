/**
 * Links from the checkout to a block explorer, so a payer can see their transaction for
 * themselves. The template comes from `checkout.explorerUrl` (`{txid}` is replaced); without
 * one, each public network has a default and regtest has none (no public explorer knows it).
 */

export const TXID_PLACEHOLDER = '{txid}';

/** By network name; regtest (and any other) has none. */
const DEFAULT_EXPLORERS: Readonly<Record<string, string>> = {
  mainnet: 'https://mempool.space/tx/{txid}',
  testnet: 'https://mempool.space/testnet/tx/{txid}',
  signet: 'https://mempool.space/signet/tx/{txid}',
};

/** The template in force: the configured one, none when configured empty, else the network's. */
export function explorerTemplate(network: string, configured?: string): string | undefined {
  if (configured === undefined) return DEFAULT_EXPLORERS[network];
  return configured === '' ? undefined : configured;
}

export function explorerTxUrl(template: string | undefined, txid: string): string | undefined {
  return template?.replaceAll(TXID_PLACEHOLDER, encodeURIComponent(txid));
}
