/**
 * Every setting, once: its type and limits (validated by Ajv at start), whether it is a secret,
 * and its description for README's settings table. The `Config` type is derived from this
 * schema, environment variable names from its key paths (environment.ts), and README's table
 * from it and config/default.json (scripts/settings-table.ts). Defaults live in
 * config/default.json, the file operators copy.
 *
 * `secret: true` marks a value never to echo (config check masks it, its variable leaves the
 * environment once read); `deprecated: true` an old name kept working with a warning.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { SCRIPT_TYPES } from '../wallet/extended-key.js';
import { NETWORK_NAMES } from '../wallet/networks.js';
import {
  explorerUrlTemplate,
  frameAncestor,
  httpUrl,
  positiveInt,
  seconds,
  webhookSecret,
} from './schema-fragments.js';
import {
  FORWARDING_SCHEMA,
  PACKAGES_SCHEMA,
  PAYMENTS_SCHEMA,
  RATES_SCHEMA,
} from './schema-money.js';

export const CONFIG_SCHEMA = {
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
        host: { type: 'string', minLength: 1, description: 'the ops listener: keep it private' },
        port: {
          type: 'integer',
          minimum: 0,
          maximum: 65535,
          description: '`0` picks a free port, logged at start',
        },
        readinessCacheSeconds: {
          ...seconds(300),
          description: 'one probe of MongoDB and the chain API answers `/readyz` this long',
        },
        metricsCacheSeconds: {
          ...seconds(300),
          description: 'the MongoDB counts behind `/metrics` are recounted at most this often',
        },
      },
    },
    http: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port', 'publicUrl', 'bodyLimitBytes', 'trustProxy'],
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        publicUrl: { ...httpUrl, description: 'base of checkout URLs' },
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
        url: {
          type: 'string',
          pattern: '^mongodb(\\+srv)?://',
          secret: true,
          description: 'config check masks only its password',
        },
        database: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,63}$' },
      },
    },
    wallet: {
      type: 'object',
      additionalProperties: false,
      properties: {
        descriptor: {
          type: 'string',
          maxLength: 1000,
          description: 'instead of `wallet.xpub`, e.g. `wpkh([fp/84h/0h/0h]xpub…/0/*)#…`',
        },
        xpub: { type: 'string', description: 'account key: xpub/ypub/zpub/tpub/upub/vpub' },
        xprv: { type: 'string', secret: true, description: 'signs sweeps in `sign` mode' },
        scriptType: { enum: SCRIPT_TYPES, description: "from the key's prefix, else `p2wpkh`" },
        derivationPath: {
          type: 'string',
          description:
            "`m/84'/0'/0'` mainnet, `m/84'/1'/0'` others; the purpose follows the script type",
        },
        masterFingerprint: { type: 'string', description: '8 hex, recorded on payments' },
        gapLimit: {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
          description: 'unused addresses in a row that end the start-up gap scan',
        },
      },
    },
    payments: PAYMENTS_SCHEMA,
    chain: {
      type: 'object',
      additionalProperties: false,
      required: ['esploraUrls', 'timeoutMs', 'maxConcurrency', 'retries'],
      properties: {
        esploraUrls: {
          type: 'array',
          items: httpUrl,
          description:
            'tried in order; empty: blockstream.info + mempool.space for the network; required on regtest',
        },
        timeoutMs: { type: 'integer', minimum: 100, maximum: 120000 },
        maxConcurrency: { type: 'integer', minimum: 1, maximum: 256 },
        retries: { type: 'integer', minimum: 0, maximum: 10 },
        bearerToken: {
          type: 'string',
          minLength: 1,
          secret: true,
          description: 'sent to every Esplora URL listed',
        },
        maxRequestsPerHour: {
          type: 'integer',
          minimum: 0,
          maximum: 100000000,
          description:
            '`600` with a blockstream.info/mempool.space URL, else unlimited; `0` = unlimited',
        },
        scanFromHeight: {
          type: 'integer',
          minimum: 0,
          maximum: 100000000,
          description: 'a new installation scans from the tip at its first start',
        },
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
        intervalSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 3600,
          description: 'seconds dividing 60, or whole minutes dividing 60',
        },
        concurrency: { type: 'integer', minimum: 1, maximum: 256 },
        leaseSeconds: {
          type: 'integer',
          minimum: 2,
          maximum: 86400,
          description: 'leader lease; ≥ 6 and > the interval; renewed every third',
        },
        mempoolViewWindowSeconds: {
          ...seconds(86400),
          description: 'a checkout viewed this recently gets mempool checks',
        },
        mempoolNewPaymentSeconds: {
          ...seconds(86400),
          description: 'a payment created this recently gets mempool checks',
        },
      },
    },
    shutdown: {
      type: 'object',
      additionalProperties: false,
      required: ['timeoutMs'],
      properties: {
        timeoutMs: {
          type: 'integer',
          minimum: 100,
          maximum: 3600000,
          description: 'bounded wait for the running cycle at shutdown',
        },
      },
    },
    forwarding: FORWARDING_SCHEMA,
    webhooks: {
      type: 'object',
      additionalProperties: false,
      required: ['timeoutMs', 'maxAttempts', 'allowPrivateUrls'],
      properties: {
        url: { ...httpUrl, description: 'set with `webhooks.secrets`, or neither' },
        // Before `secrets`: a typo equally close to both is told the old name, as it was.
        secret: {
          ...webhookSecret,
          secret: true,
          deprecated: true,
          description: 'one secret, read as `secrets: [secret]`; warned at start',
        },
        secrets: {
          type: 'array',
          minItems: 1,
          items: webhookSecret,
          secret: true,
          description: 'each ≥ 32 bytes; events are signed with the first (rotation: prepend)',
        },
        timeoutMs: { type: 'integer', minimum: 100, maximum: 120000 },
        maxAttempts: {
          type: 'integer',
          minimum: 1,
          maximum: 100,
          description: "attempts per round; a round's retries span at least 3 days",
        },
        allowPrivateUrls: {
          type: 'boolean',
          description:
            'API endpoints may use http and loopback/private addresses (tests, internal hooks)',
        },
        secretsKey: {
          ...webhookSecret,
          secret: true,
          description:
            "≥ 32 bytes; seals the API endpoints' secrets in MongoDB; without it, stored plain",
        },
      },
    },
    packages: PACKAGES_SCHEMA,
    rates: RATES_SCHEMA,
    auth: {
      type: 'object',
      additionalProperties: false,
      required: ['apiKeys'],
      properties: {
        apiKeys: {
          type: 'array',
          // Holds only hashes, but a raw key pasted here by mistake must not be echoed.
          secret: true,
          description:
            'entries `{"id","role":"merchant"|"admin","sha256"}`; config check shows them',
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
        globalPerMinute: {
          ...positiveInt,
          description:
            'per API key (public routes: per client address), routes without their own limit',
        },
        createPerMinute: {
          ...positiveInt,
          description: 'per API key (idempotent replays never refused)',
        },
        debitPerMinute: { ...positiveInt, description: 'per API key' },
        checkoutPerMinute: {
          ...positiveInt,
          description: 'per client address, each of `/pay/:id` and `/pay/:id/status`',
        },
        failedAuthPerMinute: {
          ...positiveInt,
          description: 'per client address; then `429` until the minute ends',
        },
      },
    },
    checkout: {
      type: 'object',
      additionalProperties: false,
      required: ['merchantName', 'frameAncestors'],
      properties: {
        merchantName: { type: 'string', minLength: 1, maxLength: 80 },
        explorerUrl: {
          ...explorerUrlTemplate,
          description: 'tx links, a URL with `{txid}`; unset: mempool.space, none on regtest',
        },
        frameAncestors: {
          type: 'array',
          maxItems: 50,
          items: frameAncestor,
          description: 'origins that may embed the checkout, e.g. `https://*.shop.example`',
        },
      },
    },
  },
} as const;

/** The validated configuration: its shape is the schema's. */
export type Config = FromSchema<typeof CONFIG_SCHEMA>;
export type PackageConfig = Config['packages'][number];
export type ApiKeyConfig = Config['auth']['apiKeys'][number];
export type Role = ApiKeyConfig['role'];
export type RateSource = Config['rates']['provider'];
