/** Concurrent reads of one payment share a round trip; nothing is kept after it answers. */
import { describe, expect, it } from 'vitest';
import { SharedReads } from '../../src/checkout/shared-reads.js';

describe('SharedReads', () => {
  it('lets reads of one id that overlap share a single read', async () => {
    const calls: string[] = [];
    let release: (value: string) => void = () => undefined;
    const reads = new SharedReads((id) => {
      calls.push(id);
      return new Promise<string>((resolve) => (release = resolve));
    });
    const a = reads.get('pay_1');
    const b = reads.get('pay_1');
    release('v1');
    expect(await Promise.all([a, b])).toEqual(['v1', 'v1']);
    expect(calls).toEqual(['pay_1']);
  });

  it('reads again once the shared read has answered, and reads other ids apart', async () => {
    let version = 0;
    const calls: string[] = [];
    const reads = new SharedReads((id) => {
      calls.push(id);
      return Promise.resolve(`${id}@${++version}`);
    });
    expect(await reads.get('pay_1')).toBe('pay_1@1');
    expect(await reads.get('pay_1')).toBe('pay_1@2');
    expect(await Promise.all([reads.get('pay_1'), reads.get('pay_2')])).toEqual([
      'pay_1@3',
      'pay_2@4',
    ]);
    expect(calls).toEqual(['pay_1', 'pay_1', 'pay_1', 'pay_2']);
  });

  it('passes a failed read to every waiter and does not keep it', async () => {
    let fail = true;
    const reads = new SharedReads(() =>
      fail ? Promise.reject(new Error('mongo down')) : Promise.resolve('ok'),
    );
    await expect(Promise.all([reads.get('x'), reads.get('x')])).rejects.toThrow('mongo down');
    fail = false;
    expect(await reads.get('x')).toBe('ok');
  });
});
