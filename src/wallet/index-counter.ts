/** Which addresses a counter hands out: the merchant's receive addresses or sweep destinations. */
export type CounterPurpose = 'receive' | 'cold';

/**
 * The per-account index counters, as the forwarding flows use them (storage/address-counter.ts
 * keeps them in MongoDB, one atomic increment per allocation).
 */
export interface IndexCounter {
  allocate(accountFingerprint: string, purpose?: CounterPurpose): Promise<number>;
  /** The next index that would be handed out (0 when none was). */
  peek(accountFingerprint: string, purpose?: CounterPurpose): Promise<number>;
}
