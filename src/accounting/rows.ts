/**
 * The rows of the accounting exports: one per payment, one per ledger entry. Pure: records in,
 * string cells out (dates ISO 8601 UTC, amounts in integer sats and exact BTC, booleans as
 * true/false), in the order of the column lists.
 */
import type { LedgerEntry } from '../ledger/ledger.js';
import type { IssuedPayment, Payment } from '../payments/payment.js';
import { formatBtc } from '../pricing/amount.js';
import type { Sweep } from '../forwarding/sweep.js';

export const PAYMENT_COLUMNS = [
  'payment_id',
  'created_at',
  'user_id',
  'status',
  'amount_sats',
  'amount_btc',
  'received_sats',
  'received_btc',
  'confirmed_sats',
  'confirmed_btc',
  'overpaid_sats',
  'credits',
  'credited_credits',
  'credited_at',
  'price_amount',
  'price_currency',
  'fiat_currency',
  'fiat_amount',
  'rate',
  'rate_source',
  'rate_fetched_at',
  'package_id',
  'description',
  'address',
  'derivation_path',
  'txids',
  'late',
  'manual',
  'needs_review',
  'sweep_txids',
  'sweep_fee_sats',
  'network',
] as const;

export const LEDGER_COLUMNS = [
  'entry_id',
  'created_at',
  'user_id',
  'seq',
  'type',
  'credits',
  'balance_after',
  'op_id',
  'reason',
  'actor',
  'payment_id',
  'payment_amount_sats',
  'payment_amount_btc',
  'fiat_currency',
  'fiat_amount',
  'rate',
] as const;

/** Several values in one cell (txids): separated by a space, which no value contains. */
const LIST_SEPARATOR = ' ';

/** Sweep states whose transaction is out (and whose fee is paid or about to be). */
export const SPENT_SWEEP_STATES = ['broadcast', 'confirmed'] as const;

/**
 * Text a merchant or user chose (user ids, descriptions, reasons) could start with `=`, `+`, `-`
 * or `@` and run as a formula when an accountant opens the file in a spreadsheet (CSV
 * injection); such a cell gets a leading apostrophe, as OWASP recommends. Amounts are ours and
 * never touched.
 */
export function spreadsheetSafe(text: string | undefined): string {
  if (text === undefined) return '';
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

const iso = (date: Date | undefined) => (date === undefined ? '' : date.toISOString());
const int = (n: number | undefined) => (n === undefined ? '' : String(n));
const bool = (b: boolean | undefined) => (b === true ? 'true' : 'false');

const FIAT = /^[A-Z]{3}$/;

function fiatOf(payment: Pick<Payment, 'price' | 'rate'>): [string, string, string] {
  const { price, rate } = payment;
  const isFiat = FIAT.test(price.currency) && price.currency !== 'SAT' && price.currency !== 'BTC';
  return [
    rate?.currency ?? (isFiat ? price.currency : ''),
    isFiat ? price.amount : '',
    rate?.rate ?? '',
  ];
}

/**
 * Each payment's share of a sweep's fee, in proportion to the value of its inputs, in whole sats
 * that add up to the fee exactly (largest remainder; ties by payment id).
 */
export function feeShares(sweep: Pick<Sweep, 'feeSats' | 'inputs'>): Map<string, number> {
  const value = new Map<string, bigint>();
  for (const input of sweep.inputs)
    value.set(input.paymentId, (value.get(input.paymentId) ?? 0n) + BigInt(input.valueSats));
  const total = [...value.values()].reduce((a, b) => a + b, 0n);
  const fee = BigInt(sweep.feeSats);
  const shares = new Map<string, bigint>();
  const remainders: { id: string; rest: bigint }[] = [];
  let given = 0n;
  for (const [id, v] of value) {
    const exact = total === 0n ? 0n : fee * v;
    const share = total === 0n ? 0n : exact / total;
    shares.set(id, share);
    remainders.push({ id, rest: total === 0n ? 0n : exact % total });
    given += share;
  }
  remainders.sort((a, b) =>
    a.rest === b.rest ? a.id.localeCompare(b.id) : a.rest > b.rest ? -1 : 1,
  );
  // The remainders add up to less than the total, so fewer odd sats than payments are left.
  for (const { id } of remainders) {
    if (given >= fee) break;
    shares.set(id, (shares.get(id) ?? 0n) + 1n);
    given++;
  }
  return new Map([...shares].map(([id, share]) => [id, Number(share)]));
}

export function paymentRow(payment: IssuedPayment, sweeps: readonly Sweep[]): string[] {
  const [fiatCurrency, fiatAmount, rate] = fiatOf(payment);
  const credited = payment.credit?.state === 'done' ? payment.credit : undefined;
  const mine = sweeps.filter(
    (s) =>
      (SPENT_SWEEP_STATES as readonly string[]).includes(s.state) &&
      s.inputs.some((i) => i.paymentId === payment._id),
  );
  const fee = mine.reduce((sum, s) => sum + (feeShares(s).get(payment._id) ?? 0), 0);
  const row: Record<(typeof PAYMENT_COLUMNS)[number], string> = {
    payment_id: payment._id,
    created_at: iso(payment.createdAt),
    user_id: spreadsheetSafe(payment.userId),
    status: payment.status,
    amount_sats: int(payment.amountSats),
    amount_btc: formatBtc(payment.amountSats),
    received_sats: int(payment.receivedSats),
    received_btc: formatBtc(payment.receivedSats),
    confirmed_sats: int(payment.confirmedSats),
    confirmed_btc: formatBtc(payment.confirmedSats),
    overpaid_sats: int(payment.overpaidSats),
    credits: int(payment.credits),
    credited_credits: int(credited?.credits ?? 0),
    credited_at: iso(credited?.doneAt),
    price_amount: payment.price.amount,
    price_currency: payment.price.currency,
    fiat_currency: fiatCurrency,
    fiat_amount: fiatAmount,
    rate,
    rate_source: payment.rate?.source ?? '',
    rate_fetched_at: iso(payment.rate?.fetchedAt),
    package_id: spreadsheetSafe(payment.packageId),
    description: spreadsheetSafe(payment.description),
    address: payment.address,
    derivation_path: payment.derivation.path,
    txids: [...new Set(payment.outputs.map((o) => o.txid))].join(LIST_SEPARATOR),
    late: bool(payment.late),
    manual: bool(payment.manual),
    needs_review: bool(payment.needsReview),
    sweep_txids: mine.map((s) => s.txid ?? '').join(LIST_SEPARATOR),
    sweep_fee_sats: mine.length === 0 ? '' : String(fee),
    network: payment.network,
  };
  return PAYMENT_COLUMNS.map((column) => row[column]);
}

export function ledgerRow(entry: LedgerEntry, payment: Payment | undefined): string[] {
  const [fiatCurrency, fiatAmount, rate] = payment ? fiatOf(payment) : ['', '', ''];
  const row: Record<(typeof LEDGER_COLUMNS)[number], string> = {
    entry_id: entry._id,
    created_at: iso(entry.createdAt),
    user_id: spreadsheetSafe(entry.userId),
    seq: int(entry.seq),
    type: entry.type,
    credits: int(entry.amount),
    balance_after: int(entry.balanceAfter),
    op_id: spreadsheetSafe(entry.opId),
    reason: spreadsheetSafe(entry.reason),
    actor: spreadsheetSafe(entry.actor),
    payment_id: entry.paymentId ?? '',
    payment_amount_sats: int(payment?.amountSats),
    payment_amount_btc: payment === undefined ? '' : formatBtc(payment.amountSats),
    fiat_currency: fiatCurrency,
    fiat_amount: fiatAmount,
    rate,
  };
  return LEDGER_COLUMNS.map((column) => row[column]);
}
