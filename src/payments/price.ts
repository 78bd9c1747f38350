/** What a payment was priced in, and the exchange rate used: recorded on the payment as quoted. */

export interface PriceRecord {
  amount: string;
  /** SAT, BTC or a fiat code */
  currency: string;
}

export interface RateRecord {
  currency: string;
  rate: string;
  source: string;
  fetchedAt: Date;
}
