import * as bitcoin from 'bitcoinjs-lib';

export const NETWORK_NAMES = ['mainnet', 'testnet', 'signet', 'regtest'] as const;
export type NetworkName = (typeof NETWORK_NAMES)[number];

/** Signet shares testnet's address and key formats. */
export const BITCOIN_NETWORKS: Record<NetworkName, bitcoin.Network> = {
  mainnet: bitcoin.networks.bitcoin,
  testnet: bitcoin.networks.testnet,
  signet: bitcoin.networks.testnet,
  regtest: bitcoin.networks.regtest,
};

/** BIP44 coin type: 0 for mainnet, 1 for every test network. */
export function coinType(network: NetworkName): 0 | 1 {
  return network === 'mainnet' ? 0 : 1;
}
