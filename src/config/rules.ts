/**
 * The configuration's rules that span settings or need domain knowledge (a wallet key that
 * parses, a cold destination that is not the hot wallet, package prices in known currencies),
 * checked after the schema has validated each value on its own.
 */
import * as bitcoin from 'bitcoinjs-lib';
import { esploraUrls } from '../chain/public-esplora.js';
import { decimalPlaces, isDecimalString, minorUnits } from '../pricing/amount.js';
import { WalletAccount } from '../wallet/account.js';
import { BITCOIN_NETWORKS } from '../wallet/networks.js';
import { cronIntervalProblem } from '../watcher/cron-interval.js';
import { MIN_LEASE_SECONDS } from '../watcher/lease.js';
import { ConfigError } from './config-error.js';
import { checkDeprecatedNames, webhookSecrets } from './deprecations.js';
import type { Config } from './schema.js';

/** The lease is renewed every third of its length; the intervals are what cron fires exactly. */
export function checkWatcherTiming(watcher: Config['watcher']): void {
  if (watcher.leaseSeconds < MIN_LEASE_SECONDS) {
    throw new ConfigError(
      `watcher.leaseSeconds must be at least ${MIN_LEASE_SECONDS} (it is renewed every third of ` +
        `its length, and each renewal needs time to reach MongoDB)`,
    );
  }
  const problem = cronIntervalProblem(watcher.intervalSeconds);
  if (problem !== undefined) throw new ConfigError(`watcher.intervalSeconds ${problem}`);
}

/** Rules across settings that the schema cannot state; the first broken one throws. */
export function checkConsistency(config: Config): void {
  WalletAccount.fromConfig({ network: config.network, ...config.wallet });
  if (config.watcher.enabled && esploraUrls(config).length === 0) {
    throw new ConfigError(
      `chain.esploraUrls is required on ${config.network} (there is no public Esplora)`,
    );
  }
  if (config.watcher.leaseSeconds <= config.watcher.intervalSeconds) {
    throw new ConfigError('watcher.leaseSeconds must be longer than watcher.intervalSeconds');
  }
  checkDeprecatedNames(config);
  if ((config.webhooks.url === undefined) !== (webhookSecrets(config).length === 0)) {
    throw new ConfigError('webhooks.url and webhooks.secrets go together');
  }
  if (
    config.network === 'mainnet' &&
    config.payments.requiredConfirmations === 0 &&
    !config.payments.acceptZeroConfRisk
  ) {
    throw new ConfigError(
      'payments.requiredConfirmations 0 on mainnet needs payments.acceptZeroConfRisk: true ' +
        '(with full-RBF relay any unconfirmed payment can be replaced; see README)',
    );
  }
  checkForwarding(config);
  const { payments, rates } = config;
  if (payments.minAmountSats > payments.maxAmountSats) {
    throw new ConfigError('payments.minAmountSats is above payments.maxAmountSats');
  }
  const ids = new Set<string>();
  config.packages.forEach((pkg, i) => {
    if (ids.has(pkg.id)) throw new ConfigError(`packages[${i}].id "${pkg.id}" is used twice`);
    ids.add(pkg.id);
    const { currency, amount } = pkg.price;
    if (currency !== 'SAT' && currency !== 'BTC' && !rates.currencies.includes(currency)) {
      throw new ConfigError(`packages[${i}].price.currency ${currency} is not in rates.currencies`);
    }
    if (currency === 'SAT' && !/^\d+$/.test(amount)) {
      throw new ConfigError(`packages[${i}].price.amount must be whole sats`);
    }
    if (currency !== 'SAT' && currency !== 'BTC' && decimalPlaces(amount) > minorUnits(currency)) {
      throw new ConfigError(
        `packages[${i}].price.amount has more decimals than ${currency} has (${minorUnits(currency)})`,
      );
    }
  });
  for (const [currency, rate] of Object.entries(rates.fixed)) {
    if (!isDecimalString(rate) || /^0(\.0*)?$/.test(rate))
      throw new ConfigError(`rates.fixed.${currency} must be a positive decimal`);
  }
  const keyIds = new Set<string>();
  for (const key of config.auth.apiKeys) {
    if (keyIds.has(key.id)) throw new ConfigError(`auth.apiKeys id "${key.id}" is used twice`);
    keyIds.add(key.id);
  }
}

function checkForwarding(config: Config): void {
  const f = config.forwarding;
  if (f.mode === 'off') return;
  if (f.mode === 'sign' && config.wallet.xprv === undefined) {
    throw new ConfigError(
      'forwarding.mode sign needs wallet.xprv (or use psbt mode to sign elsewhere)',
    );
  }
  const destinations = [f.coldAddress, f.coldXpub, f.coldDescriptor].filter((d) => d !== undefined);
  if (destinations.length !== 1) {
    throw new ConfigError(
      'forwarding needs exactly one of forwarding.coldAddress, forwarding.coldXpub and forwarding.coldDescriptor',
    );
  }
  const hot = WalletAccount.fromConfig({ network: config.network, ...config.wallet });
  if (hot.scriptType === 'p2pkh') {
    throw new ConfigError(
      'forwarding sweeps segwit and taproot wallets only (p2pkh inputs need whole previous transactions)',
    );
  }
  if (f.coldAddress !== undefined) {
    try {
      bitcoin.address.toOutputScript(f.coldAddress, BITCOIN_NETWORKS[config.network]);
    } catch {
      throw new ConfigError(`forwarding.coldAddress is not a ${config.network} address`);
    }
  }
  const cold = coldAccount(config);
  if (cold && cold.accountFingerprint === hot.accountFingerprint) {
    const field = f.coldXpub !== undefined ? 'coldXpub' : 'coldDescriptor';
    throw new ConfigError(`forwarding.${field} is the hot wallet itself`);
  }
  if (!(f.minFeeRate <= f.fallbackFeeRate && f.fallbackFeeRate <= f.maxFeeRate)) {
    throw new ConfigError(
      'forwarding fee rates must satisfy minFeeRate <= fallbackFeeRate <= maxFeeRate',
    );
  }
}

/** The cold wallet's account, from forwarding.coldXpub or forwarding.coldDescriptor, if any. */
export function coldAccount(config: Config): WalletAccount | undefined {
  const { coldXpub, coldDescriptor } = config.forwarding;
  if (coldXpub !== undefined)
    return WalletAccount.fromConfig({ network: config.network, xpub: coldXpub });
  if (coldDescriptor !== undefined)
    return WalletAccount.fromConfig({
      network: config.network,
      descriptor: coldDescriptor,
      descriptorField: 'forwarding.coldDescriptor',
    });
  return undefined;
}
