/**
 * What a payment costs: a configured package or an explicit price, in sats, BTC or fiat through
 * the rate provider, checked against the configured limits. The rate used is returned with it.
 */
import {
  AmountError,
  btcToSats,
  decimalPlaces,
  fiatToSats,
  minorUnits,
} from '../pricing/amount.js';
import type { RateProvider } from '../pricing/rates.js';
import type { PriceRecord, RateRecord } from './price.js';

export class PaymentInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
    this.name = 'PaymentInputError';
  }
}

export interface QuoteRequest {
  packageId?: string;
  price?: PriceRecord;
  credits?: number;
}

/** A configured package, as quoting needs it (config's `packages` entries fit it). */
export interface QuotePackage {
  id: string;
  credits: number;
  price: { amount: string; currency: string };
  description?: string;
}

export interface QuoteLimits {
  packages: readonly QuotePackage[];
  currencies: readonly string[];
  minAmountSats: number;
  maxAmountSats: number;
  maxCredits: number;
}

export interface Quote {
  amountSats: number;
  credits: number;
  price: PriceRecord;
  rate?: RateRecord;
  packageId?: string;
  description?: string;
}

/** Checks the request's shape rules that a JSON schema cannot say clearly. */
function pickPrice(
  request: QuoteRequest,
  limits: QuoteLimits,
): { price: PriceRecord; credits: number; packageId?: string; description?: string } {
  if (request.packageId !== undefined) {
    if (request.price !== undefined)
      throw new PaymentInputError('price', 'must not be given with packageId');
    if (request.credits !== undefined)
      throw new PaymentInputError('credits', 'must not be given with packageId');
    const pkg = limits.packages.find((p) => p.id === request.packageId);
    if (!pkg)
      throw new PaymentInputError(
        'packageId',
        `"${request.packageId}" is not a configured package`,
      );
    return {
      price: pkg.price,
      credits: pkg.credits,
      packageId: pkg.id,
      ...(pkg.description !== undefined && { description: pkg.description }),
    };
  }
  if (request.price === undefined) throw new PaymentInputError('packageId', 'or price is required');
  if (request.credits === undefined)
    throw new PaymentInputError('credits', 'is required with price');
  if (request.credits > limits.maxCredits) {
    throw new PaymentInputError('credits', `must be at most ${limits.maxCredits}`);
  }
  return { price: request.price, credits: request.credits };
}

export async function quotePayment(
  request: QuoteRequest,
  limits: QuoteLimits,
  rates: RateProvider,
): Promise<Quote> {
  const { price, credits, packageId, description } = pickPrice(request, limits);
  const field = packageId === undefined ? 'price.amount' : 'packageId';
  let sats: bigint;
  let rate: RateRecord | undefined;
  try {
    if (price.currency === 'SAT') {
      if (!/^[1-9]\d*$/.test(price.amount))
        throw new PaymentInputError(field, 'must be a whole number of sats');
      sats = BigInt(price.amount);
    } else if (price.currency === 'BTC') {
      sats = btcToSats(price.amount);
    } else {
      if (!limits.currencies.includes(price.currency)) {
        throw new PaymentInputError(
          'price.currency',
          `${price.currency} is not accepted (use SAT, BTC or ${limits.currencies.join(', ')})`,
        );
      }
      const digits = minorUnits(price.currency);
      if (decimalPlaces(price.amount) > digits) {
        throw new PaymentInputError(
          field,
          digits === 0
            ? `must be a whole number of ${price.currency}`
            : `has more than ${digits} decimals, the minor unit of ${price.currency}`,
        );
      }
      rate = await rates.getRate(price.currency);
      sats = fiatToSats(price.amount, rate.rate);
    }
  } catch (err) {
    if (err instanceof AmountError) throw new PaymentInputError(field, err.message);
    throw err;
  }
  if (sats < BigInt(limits.minAmountSats)) {
    throw new PaymentInputError(
      field,
      `is ${sats} sats, below the minimum of ${limits.minAmountSats} sats`,
    );
  }
  if (sats > BigInt(limits.maxAmountSats)) {
    throw new PaymentInputError(
      field,
      `is ${sats} sats, above the maximum of ${limits.maxAmountSats} sats`,
    );
  }
  return {
    amountSats: Number(sats),
    credits,
    price,
    ...(rate && { rate }),
    ...(packageId !== undefined && { packageId }),
    ...(description !== undefined && { description }),
  };
}
