/** JSON schemas shared by routes: they validate input, shape output and make the OpenAPI document. */
import {
  METADATA_MAX_DEPTH,
  ORDER_ID_MAX_LENGTH,
  REDIRECT_URL_MAX_LENGTH,
} from '../payments/order.js';
import { PAYMENT_STATUSES } from '../payments/payment.js';
import { PAYER_PHASES } from '../checkout/payer-status.js';

export const DECIMAL_PATTERN = '^(0|[1-9][0-9]*)(\\.[0-9]+)?$';

/** Text without control characters (C0, DEL, C1) or bidirectional formatting characters. */
export const PRINTABLE_TEXT_PATTERN =
  '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$';

const price = {
  type: 'object',
  additionalProperties: false,
  required: ['amount', 'currency'],
  properties: {
    amount: {
      type: 'string',
      pattern: DECIMAL_PATTERN,
      maxLength: 24,
      description: 'decimal string, e.g. "12.50"',
    },
    currency: {
      type: 'string',
      pattern: '^([A-Z]{3}|SAT)$',
      description: 'SAT, BTC or a configured fiat code',
    },
  },
} as const;

/** The merchant's order fields (payments/order.ts checks what a schema cannot say). */
const orderFields = {
  orderId: {
    type: 'string',
    minLength: 1,
    maxLength: ORDER_ID_MAX_LENGTH,
    pattern: PRINTABLE_TEXT_PATTERN,
    description: "the merchant's order id; at most one payment per order id",
  },
  metadata: {
    type: 'object',
    // Says "any JSON values" to generated clients (a bare object type reads as an empty one).
    additionalProperties: true,
    maxProperties: 50,
    description: `free JSON object, at most 4096 bytes as JSON and ${METADATA_MAX_DEPTH} levels deep`,
  },
  redirectUrl: {
    type: 'string',
    minLength: 1,
    maxLength: REDIRECT_URL_MAX_LENGTH,
    description: 'https URL the checkout links back to (http only for localhost)',
  },
} as const;

export const createPaymentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['userId'],
  properties: {
    userId: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:@-]+$' },
    packageId: { type: 'string', minLength: 1, maxLength: 64 },
    price,
    credits: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    description: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      // Shown to payers and put in wallet labels: no control characters, no bidi overrides
      // that could make the text read differently than it is.
      pattern: PRINTABLE_TEXT_PATTERN,
    },
    ...orderFields,
  },
  description: 'Either packageId, or price with credits.',
} as const;

export const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
    },
  },
} as const;

const rate = {
  type: 'object',
  required: ['currency', 'rate', 'source', 'fetchedAt'],
  properties: {
    currency: { type: 'string' },
    rate: { type: 'string', description: 'fiat per BTC, locked at creation' },
    source: { type: 'string', enum: ['fixed', 'mempool', 'kraken'] },
    fetchedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const paymentView = {
  $id: 'Payment',
  type: 'object',
  required: [
    'id',
    'status',
    'userId',
    'address',
    'amountSats',
    'amountBtc',
    'bip21',
    'checkoutUrl',
    'credits',
    'price',
    'requiredConfirmations',
    'receivedSats',
    'confirmedSats',
    'confirmations',
    'late',
    'overpaidSats',
    'manual',
    'needsReview',
    'creditedCredits',
    'network',
    'derivationPath',
    'createdAt',
    'expiresAt',
  ],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: PAYMENT_STATUSES },
    userId: { type: 'string' },
    address: { type: 'string' },
    amountSats: { type: 'integer' },
    amountBtc: { type: 'string' },
    bip21: { type: 'string' },
    checkoutUrl: { type: 'string' },
    credits: { type: 'integer' },
    price: { type: 'object', properties: price.properties, required: price.required },
    rate,
    packageId: { type: 'string' },
    description: { type: 'string' },
    orderId: { type: 'string' },
    metadata: { type: 'object', additionalProperties: true },
    redirectUrl: { type: 'string' },
    requiredConfirmations: { type: 'integer' },
    receivedSats: {
      type: 'integer',
      description: 'all outputs paying the address, confirmed or not',
    },
    confirmedSats: { type: 'integer', description: 'outputs with the required confirmations' },
    confirmations: { type: 'integer', description: 'of the least confirmed output' },
    late: { type: 'boolean', description: 'money arrived after expiry' },
    overpaidSats: { type: 'integer' },
    manual: { type: 'boolean', description: 'confirmed by an admin' },
    needsReview: { type: 'boolean' },
    creditedCredits: { type: 'integer', description: "credits added to the user's balance" },
    network: { type: 'string' },
    derivationPath: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    cancelledAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const checkoutStatusView = {
  $id: 'CheckoutStatus',
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: PAYMENT_STATUSES },
    address: { type: 'string' },
    amountSats: { type: 'integer' },
    amountBtc: { type: 'string' },
    receivedSats: { type: 'integer' },
    dueSats: { type: 'integer' },
    confirmations: { type: 'integer' },
    requiredConfirmations: { type: 'integer' },
    bip21: { type: 'string' },
    qr: { type: 'string' },
    price: { type: 'object', properties: price.properties },
    merchantName: { type: 'string' },
    description: { type: 'string' },
    redirectUrl: { type: 'string' },
    expiresAt: { type: 'string', format: 'date-time' },
    secondsLeft: { type: 'integer' },
    // What the payer should do now (src/checkout/payer-status.ts).
    phase: { type: 'string', enum: PAYER_PHASES },
    final: { type: 'boolean', description: 'Nothing the payer acts on can change: stop polling' },
    rest: {
      type: 'object',
      additionalProperties: false,
      required: ['amountSats', 'amountBtc', 'bip21', 'qr'],
      description: 'Partial payment: what is still to send, with its own BIP21 and QR content',
      properties: {
        amountSats: { type: 'integer' },
        amountBtc: { type: 'string' },
        bip21: { type: 'string' },
        qr: { type: 'string' },
      },
    },
    transactions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['txid'],
        properties: { txid: { type: 'string' }, url: { type: 'string' } },
      },
    },
  },
} as const;

/** What happened to a record, when and why (payments and sweeps keep such a history). */
export const eventList = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      at: { type: 'string', format: 'date-time' },
      type: { type: 'string' },
      cause: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      actor: { type: 'string' },
    },
  },
} as const;

export const adminPaymentView = {
  $id: 'AdminPayment',
  type: 'object',
  properties: {
    ...paymentView.properties,
    createdBy: { type: 'string' },
    createdAtHeight: {
      type: 'integer',
      description: 'chain tip height at creation; outputs confirmed below it are not counted',
    },
    watching: { type: 'boolean' },
    reviewReasons: { type: 'array', items: { type: 'string' } },
    lastCheckedAt: { type: 'string', format: 'date-time' },
    credit: {
      type: 'object',
      properties: {
        state: { type: 'string', enum: ['due', 'done'] },
        credits: { type: 'integer' },
        basisSats: { type: 'integer' },
        dueAt: { type: 'string', format: 'date-time' },
        doneAt: { type: 'string', format: 'date-time' },
        manual: {
          type: 'object',
          properties: { by: { type: 'string' }, reason: { type: 'string' } },
        },
      },
    },
    outputs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          txid: { type: 'string' },
          vout: { type: 'integer' },
          valueSats: { type: 'integer' },
          blockHeight: { type: 'integer' },
          blockHash: { type: 'string' },
          signalsRbf: { type: 'boolean' },
          late: { type: 'boolean' },
          old: {
            type: 'boolean',
            description: 'confirmed before the payment existed: recorded, never credited',
          },
          firstSeenAt: { type: 'string', format: 'date-time' },
        },
      },
    },
    events: eventList,
  },
} as const;

/** A page of `items` with the cursor of the next page (null on the last). */
export function pageOf<const Items extends object>(items: Items) {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items }, nextCursor: { type: ['string', 'null'] } },
  } as const;
}

/** The errors every authenticated endpoint may answer with. */
export const authenticatedErrors = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
} as const;
