/** A stored payment for unit tests of the pure transitions: issued-looking, nothing paid yet. */
import type { Payment } from '../../src/payments/payment.js';
import { initialTrackedState } from '../../src/payments/state-machine.js';

export const FIXTURE_NOW = new Date('2026-01-01T00:00:00Z');

export function paymentFixture(overrides: Partial<Payment> = {}): Payment {
  return {
    ...initialTrackedState(),
    _id: 'pay_1',
    userId: 'u',
    network: 'regtest',
    version: 3,
    outbox: [],
    requiredConfirmations: 1,
    createdAt: FIXTURE_NOW,
    expiresAt: FIXTURE_NOW,
    createdBy: 'k',
    requestHash: 'h',
    events: [],
    amountSats: 20_000,
    credits: 1,
    price: { amount: '20000', currency: 'SAT' },
    ...overrides,
  };
}
