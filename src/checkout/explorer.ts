/**
 * Links from the checkout to a block explorer, so a payer can see their transaction for
 * themselves. The template comes from `checkout.explorerUrl` (`{txid}` is replaced); without
 * one, each public network has a default and regtest has none (no public explorer knows it).
 */
import type { NetworkName } from '../wallet/networks.js';

export const TXID_PLACEHOLDER = '{txid}';

const DEFAULT_EXPLORERS: Record<NetworkName, string | undefined> = {
  mainnet: 'https://mempool.space/tx/{txid}',
  testnet: 'https://mempool.space/testnet/tx/{txid}',
  signet: 'https://mempool.space/signet/tx/{txid}',
  regtest: undefined,
};

/** The template in force: the configured one, none when configured empty, else the network's. */
export function explorerTemplate(network: NetworkName, configured?: string): string | undefined {
  if (configured === undefined) return DEFAULT_EXPLORERS[network];
  return configured === '' ? undefined : configured;
}

/** A usable template: an absolute http(s) URL once the placeholder is filled in. */
export function isExplorerTemplate(template: string): boolean {
  if (!template.includes(TXID_PLACEHOLDER)) return false;
  try {
    const url = new URL(template.replaceAll(TXID_PLACEHOLDER, '0'));
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export function explorerTxUrl(template: string | undefined, txid: string): string | undefined {
  return template?.replaceAll(TXID_PLACEHOLDER, encodeURIComponent(txid));
}
