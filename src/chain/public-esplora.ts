/**
 * Which Esplora instances to ask: the configured URLs, or the network's public instances when
 * none are configured (regtest has none: its URL must be given).
 */
import type { NetworkName } from '../wallet/networks.js';

/** Public Esplora instances per network, used when chain.esploraUrls is empty. */
export const PUBLIC_ESPLORA: Readonly<Record<NetworkName, readonly string[]>> = {
  mainnet: ['https://blockstream.info/api', 'https://mempool.space/api'],
  testnet: ['https://blockstream.info/testnet/api', 'https://mempool.space/testnet/api'],
  signet: ['https://mempool.space/signet/api'],
  regtest: [],
};

/** The settings that choose the Esplora URLs (a structural slice of the daemon's config). */
export interface EsploraUrlSettings {
  network: NetworkName;
  chain: { esploraUrls: readonly string[] };
}

export function esploraUrls(settings: EsploraUrlSettings): string[] {
  const { esploraUrls: configured } = settings.chain;
  return [...(configured.length > 0 ? configured : PUBLIC_ESPLORA[settings.network])];
}
