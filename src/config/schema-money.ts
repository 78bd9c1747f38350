/**
 * The settings of money: what payments may be (limits, confirmations, late and short money),
 * the packages and rates that price them, and how received coins are forwarded to the cold
 * wallet. Part of CONFIG_SCHEMA (schema.ts).
 */
import { currencyCode, decimalString, httpUrl, positiveInt, seconds } from './schema-fragments.js';

export const PAYMENTS_SCHEMA = {
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
    monitoringHours: {
      type: 'integer',
      minimum: 0,
      maximum: 8760,
      description: 'expired and underpaid addresses stay watched this long for late money',
    },
    latePayments: {
      enum: ['credit', 'review'],
      description: '`review`: late money is recorded and held for review',
    },
    creditMode: {
      enum: ['fixed', 'proportional'],
      description: '`proportional`: credits follow what arrived',
    },
    underpaymentToleranceBps: {
      type: 'integer',
      minimum: 0,
      maximum: 5000,
      description: 'an amount short by at most this share (basis points) still counts as paid',
    },
    expiryGraceSeconds: {
      ...seconds(3600),
      description: 'money first seen this long after expiry still counts as on time',
    },
    settledConfirmations: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      description: 'credited payments this deep stop being watched',
    },
    acceptZeroConfRisk: {
      type: 'boolean',
      description: 'required for `requiredConfirmations: 0` on mainnet, see below',
    },
  },
} as const;

export const PACKAGES_SCHEMA = {
  type: 'array',
  maxItems: 1000,
  description: 'e.g. `[{"id":"pro","credits":100,"price":{"amount":"10.00","currency":"USD"}}]`',
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
} as const;

export const RATES_SCHEMA = {
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
    fixed: {
      type: 'object',
      propertyNames: currencyCode,
      additionalProperties: decimalString,
      description: 'fiat per BTC, decimal strings',
    },
    mempoolUrl: httpUrl,
    krakenUrl: httpUrl,
    timeoutMs: { type: 'integer', minimum: 100, maximum: 60000 },
    maxAgeSeconds: { type: 'integer', minimum: 1, maximum: 3600 },
  },
} as const;

export const FORWARDING_SCHEMA = {
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
    mode: {
      enum: ['off', 'sign', 'psbt'],
      description: '`sign`: needs `wallet.xprv`; `psbt`: watch-only, an admin signs elsewhere',
    },
    coldAddress: {
      type: 'string',
      minLength: 14,
      maxLength: 100,
      description: 'one fixed cold address; exactly one of the three cold destinations',
    },
    coldXpub: {
      type: 'string',
      description: "a cold wallet's account xpub: every sweep goes to a fresh address",
    },
    coldDescriptor: {
      type: 'string',
      maxLength: 1000,
      description: "the cold wallet's receive descriptor, instead of `coldXpub`",
    },
    feeTargetBlocks: { type: 'integer', minimum: 1, maximum: 1008 },
    minFeeRate: { type: 'number', minimum: 1, maximum: 10000, description: 'sat/vB' },
    maxFeeRate: { type: 'number', minimum: 1, maximum: 10000, description: 'sat/vB' },
    fallbackFeeRate: { type: 'number', minimum: 1, maximum: 10000, description: 'sat/vB' },
    maxFeeShareBps: {
      type: 'integer',
      minimum: 1,
      maximum: 10000,
      description: 'a sweep whose fee is a larger share of its value waits to be batched',
    },
    bumpAfterBlocks: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      description: 'an unconfirmed sweep is then replaced at a higher fee (RBF)',
    },
    maxInputsPerSweep: { type: 'integer', minimum: 1, maximum: 500 },
    minConfirmations: {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      description: "outputs are swept this deep (and at the payment's own depth)",
    },
    staleBuildSeconds: {
      type: 'integer',
      minimum: 10,
      maximum: 86400,
      description: 'a sweep still building this long is abandoned; its coins are swept again',
    },
  },
} as const;
