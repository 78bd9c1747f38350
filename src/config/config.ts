/**
 * Configuration: config/default.json ← config/<env>.json ← environment variables, where every
 * variable may instead name a file (`<NAME>_FILE`) for secrets. Validated at start; errors
 * name the offending key and never quote a secret.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as bitcoin from 'bitcoinjs-lib';
import path from 'node:path';
import { Ajv } from 'ajv';
import { SCRIPT_TYPES, type ScriptType } from '../wallet/extended-key.js';
import { BITCOIN_NETWORKS, NETWORK_NAMES, type NetworkName } from '../wallet/networks.js';
import { WalletAccount } from '../wallet/account.js';
import { MIN_LEASE_SECONDS } from '../watcher/lease.js';
import { cronIntervalProblem } from '../watcher/cron-interval.js';
import { decimalPlaces, isDecimalString, minorUnits } from '../pricing/amount.js';
import {
  type EnvKind,
  type EnvironmentVariable,
  environmentFor,
  unknownVariable,
} from './environment.js';

export type Role = 'merchant' | 'admin';

export interface ApiKeyConfig {
  id: string;
  role: Role;
  /** Hex SHA-256 of the key; keys themselves are never stored. */
  sha256: string;
}

export interface PackageConfig {
  id: string;
  credits: number;
  price: { amount: string; currency: string };
  description?: string;
}

export type RateSource = 'fixed' | 'mempool' | 'kraken';

export interface Config {
  network: NetworkName;
  http: {
    host: string;
    port: number;
    publicUrl: string;
    bodyLimitBytes: number;
    trustProxy: boolean;
  };
  /** The operations listener: health, readiness, metrics, docs (keep it private). */
  ops: {
    host: string;
    port: number;
    /** One readiness probe of MongoDB and the chain API answers /readyz this long. */
    readinessCacheSeconds: number;
    /** The MongoDB counts behind /metrics are recounted at most this often. */
    metricsCacheSeconds: number;
  };
  log: { level: string };
  mongo: { url: string; database: string };
  wallet: {
    /** An output descriptor, instead of xpub (see wallet/descriptor.ts). */
    descriptor?: string;
    xpub?: string;
    xprv?: string;
    scriptType?: ScriptType;
    derivationPath?: string;
    masterFingerprint?: string;
    /** Unused receive addresses in a row that end the start-up gap scan (default 20). */
    gapLimit?: number;
  };
  payments: {
    expiryMinutes: number;
    requiredConfirmations: number;
    minAmountSats: number;
    maxAmountSats: number;
    maxCredits: number;
    /** How long expired and underpaid addresses stay watched for late money. */
    monitoringHours: number;
    latePayments: 'credit' | 'review';
    creditMode: 'fixed' | 'proportional';
    /** An amount short by at most this share (basis points) still counts as paid. */
    underpaymentToleranceBps: number;
    /** Money first seen this long after expiry still counts as on time (poll delay). */
    expiryGraceSeconds: number;
    /** A credited payment is no longer watched once its transactions are this deep. */
    settledConfirmations: number;
    /** Required to run mainnet with requiredConfirmations 0 (full-RBF makes 0-conf replaceable). */
    acceptZeroConfRisk: boolean;
  };
  chain: {
    /** Esplora base URLs, tried in order; empty means the network's public defaults. */
    esploraUrls: string[];
    timeoutMs: number;
    maxConcurrency: number;
    retries: number;
    bearerToken?: string;
    /** Chain API requests allowed per rolling hour; absent: the URLs' default; 0: unlimited. */
    maxRequestsPerHour?: number;
    /** A new installation scans blocks from this height (default: from the tip at first start). */
    scanFromHeight?: number;
  };
  watcher: {
    enabled: boolean;
    intervalSeconds: number;
    concurrency: number;
    leaseSeconds: number;
    /** Checkouts viewed this recently get their address's mempool checked each cycle. */
    mempoolViewWindowSeconds: number;
    /** Payments created this recently get their address's mempool checked each cycle. */
    mempoolNewPaymentSeconds: number;
  };
  webhooks: {
    url?: string;
    /** Signing secrets, newest first: events are signed with the first (rotation: prepend). */
    secrets?: string[];
    /** The old single secret (deprecated, warned at start): read as `secrets: [secret]`. */
    secret?: string;
    timeoutMs: number;
    /** Attempts per delivery round; the retries of a round span at least 3 days (retry-plan.ts). */
    maxAttempts: number;
    /** Lets API endpoints use http and loopback/private addresses (tests, internal hooks). */
    allowPrivateUrls: boolean;
    /** Seals the API endpoints' signing secrets in MongoDB (AES-256-GCM, key derived with HKDF). */
    secretsKey?: string;
  };
  /** How long a shutdown waits for the running watcher cycle. */
  shutdown: { timeoutMs: number };
  forwarding: {
    /** sign: the daemon signs with wallet.xprv; psbt: an admin signs elsewhere; off. */
    mode: 'off' | 'sign' | 'psbt';
    /** One fixed cold address, or… */
    coldAddress?: string;
    /** …a cold wallet's account xpub: every sweep goes to a fresh address of it. */
    coldXpub?: string;
    /** …or the cold wallet's receive descriptor (same as coldXpub). */
    coldDescriptor?: string;
    feeTargetBlocks: number;
    /** sat/vB */
    minFeeRate: number;
    maxFeeRate: number;
    fallbackFeeRate: number;
    /** A sweep whose fee exceeds this share of its value waits to be batched later. */
    maxFeeShareBps: number;
    /** An unconfirmed sweep is fee-bumped (RBF) after this many blocks. */
    bumpAfterBlocks: number;
    maxInputsPerSweep: number;
    /** Outputs are swept once they have this many confirmations (and the payment's own N). */
    minConfirmations: number;
    /** A sweep still building (nothing signed stored) after this long is abandoned: its builder died. */
    staleBuildSeconds: number;
  };
  packages: PackageConfig[];
  rates: {
    provider: RateSource;
    currencies: string[];
    fixed: Record<string, string>;
    mempoolUrl: string;
    krakenUrl: string;
    timeoutMs: number;
    maxAgeSeconds: number;
  };
  auth: { apiKeys: ApiKeyConfig[] };
  rateLimit: {
    /** Every route without its own limit, per API key (or client address when public). */
    globalPerMinute: number;
    createPerMinute: number;
    debitPerMinute: number;
    /** The public /pay/:id page and its status, per client address (honours http.trustProxy). */
    checkoutPerMinute: number;
    /** Failed authentications per client address; past it, 429 until the minute ends. */
    failedAuthPerMinute: number;
  };
  checkout: { merchantName: string };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(`invalid configuration: ${message}`);
    this.name = 'ConfigError';
  }
}

// A setting without a row here gets a derived variable (see environment.ts); the full list,
// rows and derived, is SETTINGS_ENVIRONMENT. Rows keep older names and mark secrets.
/** Every environment variable the daemon reads, the config key it sets, and its kind. */
export const ENVIRONMENT: readonly { env: string; key: string; kind: EnvKind; secret?: boolean }[] =
  [
    { env: 'SATWATCH_NETWORK', key: 'network', kind: 'string' },
    { env: 'SATWATCH_HTTP_HOST', key: 'http.host', kind: 'string' },
    { env: 'SATWATCH_HTTP_PORT', key: 'http.port', kind: 'int' },
    { env: 'SATWATCH_PUBLIC_URL', key: 'http.publicUrl', kind: 'string' },
    { env: 'SATWATCH_HTTP_BODY_LIMIT_BYTES', key: 'http.bodyLimitBytes', kind: 'int' },
    { env: 'SATWATCH_HTTP_TRUST_PROXY', key: 'http.trustProxy', kind: 'bool' },
    { env: 'SATWATCH_LOG_LEVEL', key: 'log.level', kind: 'string' },
    { env: 'SATWATCH_MONGO_URL', key: 'mongo.url', kind: 'string', secret: true },
    { env: 'SATWATCH_MONGO_DATABASE', key: 'mongo.database', kind: 'string' },
    { env: 'SATWATCH_WALLET_XPUB', key: 'wallet.xpub', kind: 'string' },
    { env: 'SATWATCH_WALLET_XPRV', key: 'wallet.xprv', kind: 'string', secret: true },
    { env: 'SATWATCH_WALLET_SCRIPT_TYPE', key: 'wallet.scriptType', kind: 'string' },
    { env: 'SATWATCH_WALLET_DERIVATION_PATH', key: 'wallet.derivationPath', kind: 'string' },
    { env: 'SATWATCH_WALLET_MASTER_FINGERPRINT', key: 'wallet.masterFingerprint', kind: 'string' },
    { env: 'SATWATCH_PAYMENTS_EXPIRY_MINUTES', key: 'payments.expiryMinutes', kind: 'int' },
    {
      env: 'SATWATCH_PAYMENTS_REQUIRED_CONFIRMATIONS',
      key: 'payments.requiredConfirmations',
      kind: 'int',
    },
    { env: 'SATWATCH_PAYMENTS_MIN_AMOUNT_SATS', key: 'payments.minAmountSats', kind: 'int' },
    { env: 'SATWATCH_PAYMENTS_MAX_AMOUNT_SATS', key: 'payments.maxAmountSats', kind: 'int' },
    { env: 'SATWATCH_PAYMENTS_MONITORING_HOURS', key: 'payments.monitoringHours', kind: 'int' },
    { env: 'SATWATCH_PAYMENTS_LATE_PAYMENTS', key: 'payments.latePayments', kind: 'string' },
    { env: 'SATWATCH_PAYMENTS_CREDIT_MODE', key: 'payments.creditMode', kind: 'string' },
    {
      env: 'SATWATCH_PAYMENTS_UNDERPAYMENT_TOLERANCE_BPS',
      key: 'payments.underpaymentToleranceBps',
      kind: 'int',
    },
    {
      env: 'SATWATCH_PAYMENTS_EXPIRY_GRACE_SECONDS',
      key: 'payments.expiryGraceSeconds',
      kind: 'int',
    },
    {
      env: 'SATWATCH_PAYMENTS_SETTLED_CONFIRMATIONS',
      key: 'payments.settledConfirmations',
      kind: 'int',
    },
    { env: 'SATWATCH_PACKAGES', key: 'packages', kind: 'json' },
    { env: 'SATWATCH_CHAIN_ESPLORA_URLS', key: 'chain.esploraUrls', kind: 'list' },
    { env: 'SATWATCH_CHAIN_TIMEOUT_MS', key: 'chain.timeoutMs', kind: 'int' },
    { env: 'SATWATCH_CHAIN_MAX_CONCURRENCY', key: 'chain.maxConcurrency', kind: 'int' },
    { env: 'SATWATCH_CHAIN_RETRIES', key: 'chain.retries', kind: 'int' },
    { env: 'SATWATCH_CHAIN_BEARER_TOKEN', key: 'chain.bearerToken', kind: 'string', secret: true },
    { env: 'SATWATCH_WATCHER_ENABLED', key: 'watcher.enabled', kind: 'bool' },
    { env: 'SATWATCH_WATCHER_INTERVAL_SECONDS', key: 'watcher.intervalSeconds', kind: 'int' },
    { env: 'SATWATCH_WATCHER_CONCURRENCY', key: 'watcher.concurrency', kind: 'int' },
    { env: 'SATWATCH_WATCHER_LEASE_SECONDS', key: 'watcher.leaseSeconds', kind: 'int' },
    { env: 'SATWATCH_WEBHOOK_URL', key: 'webhooks.url', kind: 'string' },
    { env: 'SATWATCH_WEBHOOK_SECRET', key: 'webhooks.secret', kind: 'string', secret: true },
    // Comma-separated, newest first.
    { env: 'SATWATCH_WEBHOOK_SECRETS', key: 'webhooks.secrets', kind: 'list', secret: true },
    { env: 'SATWATCH_WEBHOOK_TIMEOUT_MS', key: 'webhooks.timeoutMs', kind: 'int' },
    { env: 'SATWATCH_WEBHOOK_MAX_ATTEMPTS', key: 'webhooks.maxAttempts', kind: 'int' },
    {
      env: 'SATWATCH_WEBHOOK_ALLOW_PRIVATE_URLS',
      key: 'webhooks.allowPrivateUrls',
      kind: 'bool',
    },
    {
      env: 'SATWATCH_WEBHOOK_SECRETS_KEY',
      key: 'webhooks.secretsKey',
      kind: 'string',
      secret: true,
    },
    { env: 'SATWATCH_SHUTDOWN_TIMEOUT_MS', key: 'shutdown.timeoutMs', kind: 'int' },
    { env: 'SATWATCH_FORWARDING_MODE', key: 'forwarding.mode', kind: 'string' },
    { env: 'SATWATCH_FORWARDING_COLD_ADDRESS', key: 'forwarding.coldAddress', kind: 'string' },
    { env: 'SATWATCH_FORWARDING_COLD_XPUB', key: 'forwarding.coldXpub', kind: 'string' },
    {
      env: 'SATWATCH_FORWARDING_FEE_TARGET_BLOCKS',
      key: 'forwarding.feeTargetBlocks',
      kind: 'int',
    },
    { env: 'SATWATCH_FORWARDING_MIN_FEE_RATE', key: 'forwarding.minFeeRate', kind: 'number' },
    { env: 'SATWATCH_FORWARDING_MAX_FEE_RATE', key: 'forwarding.maxFeeRate', kind: 'number' },
    {
      env: 'SATWATCH_FORWARDING_FALLBACK_FEE_RATE',
      key: 'forwarding.fallbackFeeRate',
      kind: 'number',
    },
    { env: 'SATWATCH_FORWARDING_MAX_FEE_SHARE_BPS', key: 'forwarding.maxFeeShareBps', kind: 'int' },
    {
      env: 'SATWATCH_FORWARDING_BUMP_AFTER_BLOCKS',
      key: 'forwarding.bumpAfterBlocks',
      kind: 'int',
    },
    {
      env: 'SATWATCH_FORWARDING_MAX_INPUTS_PER_SWEEP',
      key: 'forwarding.maxInputsPerSweep',
      kind: 'int',
    },
    {
      env: 'SATWATCH_FORWARDING_MIN_CONFIRMATIONS',
      key: 'forwarding.minConfirmations',
      kind: 'int',
    },
    { env: 'SATWATCH_RATES_PROVIDER', key: 'rates.provider', kind: 'string' },
    { env: 'SATWATCH_RATES_CURRENCIES', key: 'rates.currencies', kind: 'list' },
    { env: 'SATWATCH_RATES_FIXED', key: 'rates.fixed', kind: 'json' },
    { env: 'SATWATCH_RATES_MEMPOOL_URL', key: 'rates.mempoolUrl', kind: 'string' },
    { env: 'SATWATCH_RATES_KRAKEN_URL', key: 'rates.krakenUrl', kind: 'string' },
    { env: 'SATWATCH_RATES_TIMEOUT_MS', key: 'rates.timeoutMs', kind: 'int' },
    { env: 'SATWATCH_RATES_MAX_AGE_SECONDS', key: 'rates.maxAgeSeconds', kind: 'int' },
    // Holds only hashes, but a raw key pasted here by mistake must not be echoed.
    { env: 'SATWATCH_API_KEYS', key: 'auth.apiKeys', kind: 'json', secret: true },
    { env: 'SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE', key: 'rateLimit.createPerMinute', kind: 'int' },
    { env: 'SATWATCH_CHECKOUT_MERCHANT_NAME', key: 'checkout.merchantName', kind: 'string' },
  ];

const positiveInt = { type: 'integer', minimum: 1 } as const;
const decimalString = {
  type: 'string',
  pattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?$',
  maxLength: 32,
} as const;
const currencyCode = { type: 'string', pattern: '^[A-Z]{3}$' } as const;
/** Parsed with the WHATWG URL parser (see isHttpUrl), not prefix-matched. */
const httpUrl = { type: 'string', format: 'http-url', maxLength: 2048 } as const;
/** HMAC keys: 32 bytes at least, so a guessed or brute-forced secret is out of reach. */
const webhookSecret = { type: 'string', minLength: 32 } as const;

const schema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'network',
    'http',
    'log',
    'mongo',
    'wallet',
    'payments',
    'packages',
    'rates',
    'auth',
    'rateLimit',
    'checkout',
    'chain',
    'watcher',
    'webhooks',
    'forwarding',
    'shutdown',
    'ops',
  ],
  properties: {
    network: { enum: NETWORK_NAMES },
    ops: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port', 'readinessCacheSeconds', 'metricsCacheSeconds'],
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        readinessCacheSeconds: { type: 'integer', minimum: 0, maximum: 300 },
        metricsCacheSeconds: { type: 'integer', minimum: 0, maximum: 300 },
      },
    },
    http: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port', 'publicUrl', 'bodyLimitBytes', 'trustProxy'],
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        publicUrl: httpUrl,
        bodyLimitBytes: { type: 'integer', minimum: 1024, maximum: 1048576 },
        trustProxy: { type: 'boolean' },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      required: ['level'],
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
      },
    },
    mongo: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'database'],
      properties: {
        url: { type: 'string', pattern: '^mongodb(\\+srv)?://' },
        database: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,63}$' },
      },
    },
    wallet: {
      type: 'object',
      additionalProperties: false,
      properties: {
        descriptor: { type: 'string', maxLength: 1000 },
        xpub: { type: 'string' },
        xprv: { type: 'string' },
        scriptType: { enum: SCRIPT_TYPES },
        derivationPath: { type: 'string' },
        masterFingerprint: { type: 'string' },
        gapLimit: { type: 'integer', minimum: 1, maximum: 1000 },
      },
    },
    payments: {
      type: 'object',
      additionalProperties: false,
      required: [
        'expiryMinutes',
        'requiredConfirmations',
        'minAmountSats',
        'maxAmountSats',
        'maxCredits',
        'monitoringHours',
        'latePayments',
        'creditMode',
        'underpaymentToleranceBps',
        'expiryGraceSeconds',
        'settledConfirmations',
        'acceptZeroConfRisk',
      ],
      properties: {
        expiryMinutes: { type: 'integer', minimum: 1, maximum: 10080 },
        requiredConfirmations: { type: 'integer', minimum: 0, maximum: 100 },
        minAmountSats: { type: 'integer', minimum: 546 },
        maxAmountSats: { type: 'integer', minimum: 546, maximum: 2100000000000000 },
        maxCredits: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
        monitoringHours: { type: 'integer', minimum: 0, maximum: 8760 },
        latePayments: { enum: ['credit', 'review'] },
        creditMode: { enum: ['fixed', 'proportional'] },
        underpaymentToleranceBps: { type: 'integer', minimum: 0, maximum: 5000 },
        expiryGraceSeconds: { type: 'integer', minimum: 0, maximum: 3600 },
        settledConfirmations: { type: 'integer', minimum: 1, maximum: 1000 },
        acceptZeroConfRisk: { type: 'boolean' },
      },
    },
    chain: {
      type: 'object',
      additionalProperties: false,
      required: ['esploraUrls', 'timeoutMs', 'maxConcurrency', 'retries'],
      properties: {
        esploraUrls: { type: 'array', items: httpUrl },
        timeoutMs: { type: 'integer', minimum: 100, maximum: 120000 },
        maxConcurrency: { type: 'integer', minimum: 1, maximum: 256 },
        retries: { type: 'integer', minimum: 0, maximum: 10 },
        bearerToken: { type: 'string', minLength: 1 },
        maxRequestsPerHour: { type: 'integer', minimum: 0, maximum: 100000000 },
        scanFromHeight: { type: 'integer', minimum: 0, maximum: 100000000 },
      },
    },
    watcher: {
      type: 'object',
      additionalProperties: false,
      required: [
        'enabled',
        'intervalSeconds',
        'concurrency',
        'leaseSeconds',
        'mempoolViewWindowSeconds',
        'mempoolNewPaymentSeconds',
      ],
      properties: {
        enabled: { type: 'boolean' },
        intervalSeconds: { type: 'integer', minimum: 1, maximum: 3600 },
        concurrency: { type: 'integer', minimum: 1, maximum: 256 },
        leaseSeconds: { type: 'integer', minimum: 2, maximum: 86400 },
        mempoolViewWindowSeconds: { type: 'integer', minimum: 0, maximum: 86400 },
        mempoolNewPaymentSeconds: { type: 'integer', minimum: 0, maximum: 86400 },
      },
    },
    shutdown: {
      type: 'object',
      additionalProperties: false,
      required: ['timeoutMs'],
      properties: { timeoutMs: { type: 'integer', minimum: 100, maximum: 3600000 } },
    },
    forwarding: {
      type: 'object',
      additionalProperties: false,
      required: [
        'mode',
        'feeTargetBlocks',
        'minFeeRate',
        'maxFeeRate',
        'fallbackFeeRate',
        'maxFeeShareBps',
        'bumpAfterBlocks',
        'maxInputsPerSweep',
        'minConfirmations',
        'staleBuildSeconds',
      ],
      properties: {
        mode: { enum: ['off', 'sign', 'psbt'] },
        coldAddress: { type: 'string', minLength: 14, maxLength: 100 },
        coldXpub: { type: 'string' },
        coldDescriptor: { type: 'string', maxLength: 1000 },
        feeTargetBlocks: { type: 'integer', minimum: 1, maximum: 1008 },
        minFeeRate: { type: 'number', minimum: 1, maximum: 10000 },
        maxFeeRate: { type: 'number', minimum: 1, maximum: 10000 },
        fallbackFeeRate: { type: 'number', minimum: 1, maximum: 10000 },
        maxFeeShareBps: { type: 'integer', minimum: 1, maximum: 10000 },
        bumpAfterBlocks: { type: 'integer', minimum: 1, maximum: 1000 },
        maxInputsPerSweep: { type: 'integer', minimum: 1, maximum: 500 },
        minConfirmations: { type: 'integer', minimum: 1, maximum: 100 },
        staleBuildSeconds: { type: 'integer', minimum: 10, maximum: 86400 },
      },
    },
    webhooks: {
      type: 'object',
      additionalProperties: false,
      required: ['timeoutMs', 'maxAttempts', 'allowPrivateUrls'],
      properties: {
        url: httpUrl,
        allowPrivateUrls: { type: 'boolean' },
        secretsKey: webhookSecret,
        secrets: { type: 'array', minItems: 1, items: webhookSecret },
        secret: webhookSecret,
        timeoutMs: { type: 'integer', minimum: 100, maximum: 120000 },
        maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
      },
    },
    packages: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'credits', 'price'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
          credits: positiveInt,
          description: { type: 'string', maxLength: 200 },
          price: {
            type: 'object',
            additionalProperties: false,
            required: ['amount', 'currency'],
            properties: {
              amount: decimalString,
              currency: { type: 'string', pattern: '^([A-Z]{3}|SAT)$' },
            },
          },
        },
      },
    },
    rates: {
      type: 'object',
      additionalProperties: false,
      required: [
        'provider',
        'currencies',
        'fixed',
        'mempoolUrl',
        'krakenUrl',
        'timeoutMs',
        'maxAgeSeconds',
      ],
      properties: {
        provider: { enum: ['fixed', 'mempool', 'kraken'] },
        currencies: { type: 'array', items: currencyCode, uniqueItems: true },
        fixed: { type: 'object', propertyNames: currencyCode, additionalProperties: decimalString },
        mempoolUrl: httpUrl,
        krakenUrl: httpUrl,
        timeoutMs: { type: 'integer', minimum: 100, maximum: 60000 },
        maxAgeSeconds: { type: 'integer', minimum: 1, maximum: 3600 },
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      required: ['apiKeys'],
      properties: {
        apiKeys: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'role', 'sha256'],
            properties: {
              id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
              role: { enum: ['merchant', 'admin'] },
              sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
            },
          },
        },
      },
    },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      required: [
        'globalPerMinute',
        'createPerMinute',
        'debitPerMinute',
        'checkoutPerMinute',
        'failedAuthPerMinute',
      ],
      properties: {
        globalPerMinute: positiveInt,
        createPerMinute: positiveInt,
        debitPerMinute: positiveInt,
        checkoutPerMinute: positiveInt,
        failedAuthPerMinute: positiveInt,
      },
    },
    checkout: {
      type: 'object',
      additionalProperties: false,
      required: ['merchantName'],
      properties: { merchantName: { type: 'string', minLength: 1, maxLength: 80 } },
    },
  },
} as const;

/** An absolute http(s) URL with a host: `https://` alone, or `https:/x`, is refused. */
function isHttpUrl(text: string): boolean {
  if (!/^https?:\/\/[^/?#]/i.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const validate = new Ajv({ allErrors: false, strict: true })
  .addFormat('http-url', isHttpUrl)
  .compile(schema);

/** Every environment variable that sets a setting: the table's, then the derived ones. */
export const SETTINGS_ENVIRONMENT: readonly EnvironmentVariable[] = environmentFor(
  schema,
  ENVIRONMENT,
);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: Json, override: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function readJsonFile(file: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(parsed)) throw new ConfigError(`${file} must hold a JSON object`);
  return parsed;
}

function setPath(target: Json, key: string, value: unknown): void {
  const parts = key.split('.');
  const leaf = parts.pop() ?? key;
  let node = target;
  for (const part of parts) {
    const next = node[part];
    node[part] = isObject(next) ? { ...next } : {};
    node = node[part] as Json;
  }
  node[leaf] = value;
}

/** Group or others may read it: a secret file should be the daemon user's alone. */
function readableByOthers(file: string): boolean {
  try {
    return (statSync(file).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

function envValue(
  env: NodeJS.ProcessEnv,
  name: string,
  secret: boolean,
  warn: (message: string) => void,
): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && file !== undefined) {
    throw new ConfigError(`${name} and ${name}_FILE are both set; use one`);
  }
  if (file === undefined) return direct;
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    throw new ConfigError(`${name}_FILE names ${secret ? 'a file' : file} that cannot be read`);
  }
  if (secret && readableByOthers(file)) {
    warn(`${name}_FILE is readable by other users; restrict it (chmod 600 or 400)`);
  }
  return text;
}

function coerce(name: string, kind: EnvKind, raw: string, secret: boolean): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'int':
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer`);
      return Number(raw);
    case 'number':
      if (!/^\d+(\.\d+)?$/.test(raw.trim())) throw new ConfigError(`${name} must be a number`);
      return Number(raw);
    case 'bool':
      if (!['true', 'false', '1', '0'].includes(raw))
        throw new ConfigError(`${name} must be true or false`);
      return raw === 'true' || raw === '1';
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new ConfigError(`${name} must be JSON${secret ? '' : ` (got ${raw.slice(0, 40)})`}`);
      }
  }
}

export interface LoadOptions {
  /** Default: process.env, whose secret variables are removed once read (see scrubSecrets). */
  env?: NodeJS.ProcessEnv;
  configDir?: string;
  /** Warnings for the operator (default: stderr); loading goes on. */
  warn?: (message: string) => void;
}

const warnOnStderr = (message: string): void => {
  process.stderr.write(`satwatch: warning: ${message}\n`);
};

/**
 * Secret values leave the environment once parsed, so nothing started later (a child process,
 * a crash reporter dumping the environment) sees them. The `_FILE` forms only name files.
 */
function scrubSecrets(env: NodeJS.ProcessEnv): void {
  for (const { env: name, secret } of SETTINGS_ENVIRONMENT) {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the environment is a map
    if (secret) delete env[name];
  }
}

export function defaultConfigDir(): string {
  // From src/config (tsx) the repo is two levels up; from dist/src/config (compiled), three.
  const fromSource = path.resolve(import.meta.dirname, '../../config');
  const fromDist = path.resolve(import.meta.dirname, '../../../config');
  return existsSync(path.join(fromSource, 'default.json')) ? fromSource : fromDist;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const warn = options.warn ?? warnOnStderr;
  const unknown = unknownVariable(env, SETTINGS_ENVIRONMENT);
  if (unknown) {
    throw new ConfigError(
      `unknown environment variable ${unknown.variable}` +
        (unknown.suggestion ? ` (did you mean ${unknown.suggestion}?)` : ''),
    );
  }
  const dir = env.SATWATCH_CONFIG_DIR ?? options.configDir ?? defaultConfigDir();
  let merged = readJsonFile(path.join(dir, 'default.json'));
  const profile = env.SATWATCH_ENV ?? env.NODE_ENV;
  if (profile) {
    if (!/^[a-z0-9-]+$/.test(profile))
      throw new ConfigError(`SATWATCH_ENV "${profile}" is not a profile name`);
    const file = path.join(dir, `${profile}.json`);
    if (existsSync(file)) merged = deepMerge(merged, readJsonFile(file));
  }
  for (const { env: name, key, kind, secret = false } of SETTINGS_ENVIRONMENT) {
    const raw = envValue(env, name, secret, warn);
    if (raw !== undefined) setPath(merged, key, coerce(name, kind, raw, secret));
  }
  if (!validate(merged)) {
    const error = validate.errors?.[0];
    const where = (error?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    const extra = error?.params.additionalProperty as string | undefined;
    if (extra !== undefined)
      throw new ConfigError(`unknown key ${where ? `${where}.` : ''}${extra}`);
    throw new ConfigError(`${where || 'config'} ${error?.message ?? 'is invalid'}`);
  }
  const config = merged as unknown as Config;
  checkConsistency(config);
  checkWatcherTiming(config.watcher);
  if (config.webhooks.secret !== undefined) {
    warn('webhooks.secret (SATWATCH_WEBHOOK_SECRET) is deprecated; use webhooks.secrets, a list');
  }
  if (env === process.env) scrubSecrets(env);
  return config;
}

/** The webhook signing secrets, newest first (the deprecated single secret as a list of one). */
export function webhookSecrets(config: Pick<Config, 'webhooks'>): string[] {
  const { secrets, secret } = config.webhooks;
  return secrets ?? (secret === undefined ? [] : [secret]);
}

/** What the HTTP application may see: the configuration without the wallet's private key. */
export type AppConfig = Omit<Config, 'wallet'> & { wallet: Omit<Config['wallet'], 'xprv'> };

export function appConfig(config: Config): AppConfig {
  const wallet = { ...config.wallet };
  delete wallet.xprv;
  return { ...config, wallet };
}

/** Public Esplora instances per network, used when chain.esploraUrls is empty. */
const PUBLIC_ESPLORA: Record<NetworkName, string[]> = {
  mainnet: ['https://blockstream.info/api', 'https://mempool.space/api'],
  testnet: ['https://blockstream.info/testnet/api', 'https://mempool.space/testnet/api'],
  signet: ['https://mempool.space/signet/api'],
  regtest: [],
};

export function esploraUrls(config: Config): string[] {
  return config.chain.esploraUrls.length > 0
    ? config.chain.esploraUrls
    : PUBLIC_ESPLORA[config.network];
}

/** The lease is renewed every third of its length; the intervals are what cron fires exactly. */
function checkWatcherTiming(watcher: Config['watcher']): void {
  if (watcher.leaseSeconds < MIN_LEASE_SECONDS) {
    throw new ConfigError(
      `watcher.leaseSeconds must be at least ${MIN_LEASE_SECONDS} (it is renewed every third of ` +
        `its length, and each renewal needs time to reach MongoDB)`,
    );
  }
  const problem = cronIntervalProblem(watcher.intervalSeconds);
  if (problem !== undefined) throw new ConfigError(`watcher.intervalSeconds ${problem}`);
}

function checkConsistency(config: Config): void {
  WalletAccount.fromConfig({ network: config.network, ...config.wallet });
  if (config.watcher.enabled && esploraUrls(config).length === 0) {
    throw new ConfigError(
      `chain.esploraUrls is required on ${config.network} (there is no public Esplora)`,
    );
  }
  if (config.watcher.leaseSeconds <= config.watcher.intervalSeconds) {
    throw new ConfigError('watcher.leaseSeconds must be longer than watcher.intervalSeconds');
  }
  if (config.webhooks.secret !== undefined && config.webhooks.secrets !== undefined) {
    throw new ConfigError('webhooks.secret is the old name of webhooks.secrets; set one');
  }
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
