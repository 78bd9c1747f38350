import { describe, expect, it } from 'vitest';
import { SETTINGS_ENVIRONMENT } from '../../src/config/config.js';

/**
 * Every environment variable the daemon accepted before the settings came from one schema:
 * [variable, key, kind, secret]. Operators' deployments use these names, so the list may grow
 * with new settings but none of these may change or disappear.
 */
const ACCEPTED_BEFORE: readonly (readonly [string, string, string, boolean])[] = [
  ['SATWATCH_API_KEYS', 'auth.apiKeys', 'json', true],
  ['SATWATCH_CHAIN_BEARER_TOKEN', 'chain.bearerToken', 'string', true],
  ['SATWATCH_CHAIN_ESPLORA_URLS', 'chain.esploraUrls', 'list', false],
  ['SATWATCH_CHAIN_MAX_CONCURRENCY', 'chain.maxConcurrency', 'int', false],
  ['SATWATCH_CHAIN_MAX_REQUESTS_PER_HOUR', 'chain.maxRequestsPerHour', 'int', false],
  ['SATWATCH_CHAIN_RETRIES', 'chain.retries', 'int', false],
  ['SATWATCH_CHAIN_SCAN_FROM_HEIGHT', 'chain.scanFromHeight', 'int', false],
  ['SATWATCH_CHAIN_TIMEOUT_MS', 'chain.timeoutMs', 'int', false],
  ['SATWATCH_CHECKOUT_MERCHANT_NAME', 'checkout.merchantName', 'string', false],
  ['SATWATCH_FORWARDING_BUMP_AFTER_BLOCKS', 'forwarding.bumpAfterBlocks', 'int', false],
  ['SATWATCH_FORWARDING_COLD_ADDRESS', 'forwarding.coldAddress', 'string', false],
  ['SATWATCH_FORWARDING_COLD_DESCRIPTOR', 'forwarding.coldDescriptor', 'string', false],
  ['SATWATCH_FORWARDING_COLD_XPUB', 'forwarding.coldXpub', 'string', false],
  ['SATWATCH_FORWARDING_FALLBACK_FEE_RATE', 'forwarding.fallbackFeeRate', 'number', false],
  ['SATWATCH_FORWARDING_FEE_TARGET_BLOCKS', 'forwarding.feeTargetBlocks', 'int', false],
  ['SATWATCH_FORWARDING_MAX_FEE_RATE', 'forwarding.maxFeeRate', 'number', false],
  ['SATWATCH_FORWARDING_MAX_FEE_SHARE_BPS', 'forwarding.maxFeeShareBps', 'int', false],
  ['SATWATCH_FORWARDING_MAX_INPUTS_PER_SWEEP', 'forwarding.maxInputsPerSweep', 'int', false],
  ['SATWATCH_FORWARDING_MIN_CONFIRMATIONS', 'forwarding.minConfirmations', 'int', false],
  ['SATWATCH_FORWARDING_MIN_FEE_RATE', 'forwarding.minFeeRate', 'number', false],
  ['SATWATCH_FORWARDING_MODE', 'forwarding.mode', 'string', false],
  ['SATWATCH_FORWARDING_STALE_BUILD_SECONDS', 'forwarding.staleBuildSeconds', 'int', false],
  ['SATWATCH_HTTP_BODY_LIMIT_BYTES', 'http.bodyLimitBytes', 'int', false],
  ['SATWATCH_HTTP_HOST', 'http.host', 'string', false],
  ['SATWATCH_HTTP_PORT', 'http.port', 'int', false],
  ['SATWATCH_HTTP_TRUST_PROXY', 'http.trustProxy', 'bool', false],
  ['SATWATCH_LOG_LEVEL', 'log.level', 'string', false],
  ['SATWATCH_MONGO_DATABASE', 'mongo.database', 'string', false],
  ['SATWATCH_MONGO_URL', 'mongo.url', 'string', true],
  ['SATWATCH_NETWORK', 'network', 'string', false],
  ['SATWATCH_OPS_HOST', 'ops.host', 'string', false],
  ['SATWATCH_OPS_METRICS_CACHE_SECONDS', 'ops.metricsCacheSeconds', 'int', false],
  ['SATWATCH_OPS_PORT', 'ops.port', 'int', false],
  ['SATWATCH_OPS_READINESS_CACHE_SECONDS', 'ops.readinessCacheSeconds', 'int', false],
  ['SATWATCH_PACKAGES', 'packages', 'json', false],
  ['SATWATCH_PAYMENTS_ACCEPT_ZERO_CONF_RISK', 'payments.acceptZeroConfRisk', 'bool', false],
  ['SATWATCH_PAYMENTS_CREDIT_MODE', 'payments.creditMode', 'string', false],
  ['SATWATCH_PAYMENTS_EXPIRY_GRACE_SECONDS', 'payments.expiryGraceSeconds', 'int', false],
  ['SATWATCH_PAYMENTS_EXPIRY_MINUTES', 'payments.expiryMinutes', 'int', false],
  ['SATWATCH_PAYMENTS_LATE_PAYMENTS', 'payments.latePayments', 'string', false],
  ['SATWATCH_PAYMENTS_MAX_AMOUNT_SATS', 'payments.maxAmountSats', 'int', false],
  ['SATWATCH_PAYMENTS_MAX_CREDITS', 'payments.maxCredits', 'int', false],
  ['SATWATCH_PAYMENTS_MIN_AMOUNT_SATS', 'payments.minAmountSats', 'int', false],
  ['SATWATCH_PAYMENTS_MONITORING_HOURS', 'payments.monitoringHours', 'int', false],
  ['SATWATCH_PAYMENTS_REQUIRED_CONFIRMATIONS', 'payments.requiredConfirmations', 'int', false],
  ['SATWATCH_PAYMENTS_SETTLED_CONFIRMATIONS', 'payments.settledConfirmations', 'int', false],
  [
    'SATWATCH_PAYMENTS_UNDERPAYMENT_TOLERANCE_BPS',
    'payments.underpaymentToleranceBps',
    'int',
    false,
  ],
  ['SATWATCH_PUBLIC_URL', 'http.publicUrl', 'string', false],
  ['SATWATCH_RATE_LIMIT_CHECKOUT_PER_MINUTE', 'rateLimit.checkoutPerMinute', 'int', false],
  ['SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE', 'rateLimit.createPerMinute', 'int', false],
  ['SATWATCH_RATE_LIMIT_DEBIT_PER_MINUTE', 'rateLimit.debitPerMinute', 'int', false],
  ['SATWATCH_RATE_LIMIT_FAILED_AUTH_PER_MINUTE', 'rateLimit.failedAuthPerMinute', 'int', false],
  ['SATWATCH_RATE_LIMIT_GLOBAL_PER_MINUTE', 'rateLimit.globalPerMinute', 'int', false],
  ['SATWATCH_RATES_CURRENCIES', 'rates.currencies', 'list', false],
  ['SATWATCH_RATES_FIXED', 'rates.fixed', 'json', false],
  ['SATWATCH_RATES_KRAKEN_URL', 'rates.krakenUrl', 'string', false],
  ['SATWATCH_RATES_MAX_AGE_SECONDS', 'rates.maxAgeSeconds', 'int', false],
  ['SATWATCH_RATES_MEMPOOL_URL', 'rates.mempoolUrl', 'string', false],
  ['SATWATCH_RATES_PROVIDER', 'rates.provider', 'string', false],
  ['SATWATCH_RATES_TIMEOUT_MS', 'rates.timeoutMs', 'int', false],
  ['SATWATCH_SHUTDOWN_TIMEOUT_MS', 'shutdown.timeoutMs', 'int', false],
  ['SATWATCH_WALLET_DERIVATION_PATH', 'wallet.derivationPath', 'string', false],
  ['SATWATCH_WALLET_DESCRIPTOR', 'wallet.descriptor', 'string', false],
  ['SATWATCH_WALLET_GAP_LIMIT', 'wallet.gapLimit', 'int', false],
  ['SATWATCH_WALLET_MASTER_FINGERPRINT', 'wallet.masterFingerprint', 'string', false],
  ['SATWATCH_WALLET_SCRIPT_TYPE', 'wallet.scriptType', 'string', false],
  ['SATWATCH_WALLET_XPRV', 'wallet.xprv', 'string', true],
  ['SATWATCH_WALLET_XPUB', 'wallet.xpub', 'string', false],
  ['SATWATCH_WATCHER_CONCURRENCY', 'watcher.concurrency', 'int', false],
  ['SATWATCH_WATCHER_ENABLED', 'watcher.enabled', 'bool', false],
  ['SATWATCH_WATCHER_INTERVAL_SECONDS', 'watcher.intervalSeconds', 'int', false],
  ['SATWATCH_WATCHER_LEASE_SECONDS', 'watcher.leaseSeconds', 'int', false],
  [
    'SATWATCH_WATCHER_MEMPOOL_NEW_PAYMENT_SECONDS',
    'watcher.mempoolNewPaymentSeconds',
    'int',
    false,
  ],
  [
    'SATWATCH_WATCHER_MEMPOOL_VIEW_WINDOW_SECONDS',
    'watcher.mempoolViewWindowSeconds',
    'int',
    false,
  ],
  ['SATWATCH_WEBHOOK_ALLOW_PRIVATE_URLS', 'webhooks.allowPrivateUrls', 'bool', false],
  ['SATWATCH_WEBHOOK_MAX_ATTEMPTS', 'webhooks.maxAttempts', 'int', false],
  ['SATWATCH_WEBHOOK_SECRET', 'webhooks.secret', 'string', true],
  ['SATWATCH_WEBHOOK_SECRETS', 'webhooks.secrets', 'list', true],
  ['SATWATCH_WEBHOOK_SECRETS_KEY', 'webhooks.secretsKey', 'string', true],
  ['SATWATCH_WEBHOOK_TIMEOUT_MS', 'webhooks.timeoutMs', 'int', false],
  ['SATWATCH_WEBHOOK_URL', 'webhooks.url', 'string', false],
];

/** Settings added since, with their variables (issue 13). */
const ADDED_SINCE: readonly (readonly [string, string, string, boolean])[] = [
  ['SATWATCH_CHECKOUT_EXPLORER_URL', 'checkout.explorerUrl', 'string', false],
  ['SATWATCH_CHECKOUT_FRAME_ANCESTORS', 'checkout.frameAncestors', 'list', false],
];

describe('environment variable names', () => {
  it('accepts exactly the variables it accepted before, with the same key, kind and secrecy', () => {
    const now = SETTINGS_ENVIRONMENT.map(
      (row) => [row.env, row.key, row.kind, row.secret === true] as const,
    ).sort(([a], [b]) => a.localeCompare(b));
    expect(now).toEqual(
      [...ACCEPTED_BEFORE, ...ADDED_SINCE].sort(([a], [b]) => a.localeCompare(b)),
    );
  });
});
