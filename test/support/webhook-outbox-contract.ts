/**
 * The webhook outbox contract, for what settlement uses of it (`enqueue`): an event once per id,
 * ids and types checked, data that is not JSON refused. The MongoDB outbox passes it on the lab
 * (test/integration/webhook-outbox-contract.test.ts), the in-memory one in the unit project
 * (test/unit/memory-webhook-outbox.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OutboxWriter } from '../../src/webhooks/ports.js';

type Outbox = OutboxWriter;

const eventId = (): string => `pay_${randomBytes(6).toString('hex')}:1`;

export function webhookOutboxContract(name: string, makeOutbox: () => Promise<Outbox>): void {
  describe(`${name} keeps the webhook outbox contract`, () => {
    it('takes an event once per id, however often it is enqueued', async () => {
      const outbox = await makeOutbox();
      const event = { id: eventId(), type: 'payment.confirmed' as const, data: { a: 1 } };
      expect(await outbox.enqueue(event)).toBe(true);
      expect(await outbox.enqueue({ ...event, data: { a: 2 } })).toBe(false);
      const twice = await Promise.all([outbox.enqueue(event), outbox.enqueue(event)]);
      expect(twice).toEqual([false, false]);
      const fresh = { ...event, id: eventId() };
      const raced = await Promise.all([outbox.enqueue(fresh), outbox.enqueue(fresh)]);
      expect(raced.filter(Boolean)).toHaveLength(1);
    });

    it('refuses a malformed id, an unknown type and data that is not JSON', async () => {
      const outbox = await makeOutbox();
      await expect(
        outbox.enqueue({ id: 'has space', type: 'payment.confirmed', data: {} }),
      ).rejects.toThrow(TypeError);
      await expect(
        outbox.enqueue({
          id: eventId(),
          type: 'payment.nonsense' as 'payment.confirmed',
          data: {},
        }),
      ).rejects.toThrow(TypeError);
      await expect(
        outbox.enqueue({ id: eventId(), type: 'payment.confirmed', data: { n: 1n } }),
      ).rejects.toThrow(TypeError);
    });
  });
}
