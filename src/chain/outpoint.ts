/**
 * The one spelling of an outpoint as a string key, `txid:vout`: the `_id` of a sweep's claim on
 * a coin, and the key of every map and set of coins. Txids are compared as given (the chain
 * APIs give lowercase hex).
 */
export interface Outpoint {
  txid: string;
  vout: number;
}

export const outpointKey = (o: Outpoint): string => `${o.txid}:${o.vout}`;
