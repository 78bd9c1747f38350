/**
 * Exact money arithmetic on decimal strings and integer satoshis. No floats touch an amount:
 * decimals are parsed into BigInt numerators and converted with one rounding, up, to whole sats.
 */
export const SATS_PER_BTC = 100_000_000n;
const DECIMAL = /^(0|[1-9]\d*)(\.\d+)?$/;

export class AmountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AmountError';
  }
}

interface Decimal {
  /** value = digits / 10^scale */
  digits: bigint;
  scale: number;
}

export function isDecimalString(text: string): boolean {
  return DECIMAL.test(text);
}

export function parseDecimal(text: string): Decimal {
  if (!DECIMAL.test(text)) throw new AmountError(`"${text}" is not a plain decimal number`);
  const [whole, fraction = ''] = text.split('.') as [string, string?];
  return { digits: BigInt(whole + fraction), scale: fraction.length };
}

function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  return (numerator + denominator - 1n) / denominator;
}

/** BTC as a decimal string ("0.0015") to satoshis; more than 8 decimals is refused. */
export function btcToSats(btc: string): bigint {
  const { digits, scale } = parseDecimal(btc);
  if (scale > 8) throw new AmountError(`"${btc}" has more than 8 decimals`);
  return digits * 10n ** BigInt(8 - scale);
}

/** A fiat amount at `rate` (fiat per BTC) to satoshis, rounded up once. */
export function fiatToSats(amount: string, ratePerBtc: string): bigint {
  const a = parseDecimal(amount);
  const r = parseDecimal(ratePerBtc);
  if (r.digits === 0n) throw new AmountError('the rate is zero');
  // sats = amount / rate * 1e8 = (a.digits / 10^a.scale) / (r.digits / 10^r.scale) * 1e8
  return ceilDiv(
    a.digits * 10n ** BigInt(r.scale) * SATS_PER_BTC,
    r.digits * 10n ** BigInt(a.scale),
  );
}

/** Satoshis to fiat at `rate`, rounded half up to `decimals` places, as a decimal string. */
export function satsToFiat(sats: bigint, ratePerBtc: string, decimals = 2): string {
  const r = parseDecimal(ratePerBtc);
  const scale = 10n ** BigInt(decimals);
  const denominator = SATS_PER_BTC * 10n ** BigInt(r.scale);
  const scaled = (sats * r.digits * scale * 2n + denominator) / (denominator * 2n);
  return formatScaled(scaled, decimals);
}

function formatScaled(value: bigint, decimals: number): string {
  const text = value.toString().padStart(decimals + 1, '0');
  if (decimals === 0) return text;
  return `${text.slice(0, -decimals)}.${text.slice(-decimals)}`;
}

/** "0.00150000": always 8 decimals, for display and APIs. */
export function formatBtc(sats: bigint | number): string {
  return formatScaled(BigInt(sats), 8);
}

/** "0.0015": BIP21 amounts carry no trailing zeros. */
export function formatBtcShort(sats: bigint | number): string {
  return formatBtc(sats).replace(/\.?0+$/, '');
}

/**
 * Decimals of a currency's minor unit (ISO 4217: USD 2, JPY 0, BHD 3), as the platform's
 * Intl data knows them.
 */
export function minorUnits(currency: string): number {
  return (
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits ?? 2
  );
}

export function decimalPlaces(amount: string): number {
  const dot = amount.indexOf('.');
  return dot < 0 ? 0 : amount.length - dot - 1;
}
