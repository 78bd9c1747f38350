/**
 * The watcher's rules on in-memory parts (test/support/memory-flows.ts): block scan, payment
 * updates and settlement crediting, with no lab. The same flows run on the lab in
 * test/integration/watcher-*.test.ts; the memory parts pass the contracts of the real ones.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, memoryFlows } from '../support/memory-flows.js';

describe('the watcher on in-memory parts', () => {
  it('confirms a paid payment at its required depth and credits it exactly once', async () => {
    const flows = memoryFlows();
    await flows.cycle(); // the scan starts at the tip
    const p = await flows.issue({ amountSats: 25_000, credits: 3, requiredConfirmations: 2 });

    flows.chain.pay(p.address, 25_000);
    flows.chain.mine(1);
    const first = await flows.cycle();
    expect(first.blocksApplied).toBe(1);
    expect(await flows.repo.findById(p._id)).toMatchObject({
      status: 'confirming',
      receivedSats: 25_000,
      confirmations: 1,
    });
    expect((await flows.ledger.balance(p.userId)).balance).toBe(0);

    flows.chain.mine(1);
    const second = await flows.cycle();
    expect(second.credited).toBe(1);
    expect(await flows.repo.findById(p._id)).toMatchObject({
      status: 'confirmed',
      confirmedSats: 25_000,
      credit: { state: 'done', credits: 3 },
    });
    expect(await flows.ledger.balance(p.userId)).toMatchObject({ balance: 3, seq: 1 });

    // More blocks, more cycles, settlement asked again: still one credit.
    flows.chain.mine(2);
    await flows.cycle();
    await flows.cycle();
    expect((await flows.settlement.creditDue()).credited).toBe(0);
    expect(await flows.ledger.balance(p.userId)).toMatchObject({ balance: 3, seq: 1 });
    expect(await flows.ledger.entries(p.userId, 10)).toHaveLength(1);
    const types = flows.webhooks.filter((w) => w.paymentId === p._id).map((w) => w.type);
    expect(types).toEqual(['payment.confirming', 'payment.confirmed']);
  });

  it('un-confirms a payment whose block a reorg takes away, and credits it once on the new branch', async () => {
    const flows = memoryFlows();
    await flows.cycle();
    const p = await flows.issue({ amountSats: 30_000, credits: 2, requiredConfirmations: 2 });
    flows.chain.pay(p.address, 30_000);
    const [block] = flows.chain.mine(1);
    await flows.cycle();
    expect(await flows.repo.findById(p._id)).toMatchObject({ confirmations: 1 });

    // The block leaves the best chain; its transaction goes back to the mempool.
    flows.chain.invalidate(block!);
    flows.chain.mine(1, { exclude: flows.chain.mempoolTxids });
    const reorged = await flows.cycle();
    expect(reorged.blocksDisconnected).toBe(1);
    const after = await flows.repo.findById(p._id);
    expect(after).toMatchObject({ confirmations: 0, confirmedSats: 0 });
    expect(after?.outputs[0]?.blockHash).toBeUndefined();
    expect(after?.credit).toBeUndefined();
    expect((await flows.ledger.balance(p.userId)).balance).toBe(0);

    // The new branch confirms it twice over: one credit.
    flows.chain.mine(2);
    await flows.cycle();
    await flows.cycle();
    expect(await flows.repo.findById(p._id)).toMatchObject({
      status: 'confirmed',
      credit: { state: 'done' },
    });
    expect(await flows.ledger.balance(p.userId)).toMatchObject({ balance: 2, seq: 1 });
  });

  it('flags a credited payment for review when a reorg removes its money, and never takes the credit back', async () => {
    const flows = memoryFlows();
    await flows.cycle();
    const p = await flows.issue({ credits: 4, requiredConfirmations: 1 });
    flows.chain.pay(p.address, p.amountSats);
    const [block] = flows.chain.mine(1);
    expect((await flows.cycle()).credited).toBe(1);

    // The block goes, and its transaction with it (a double spend won elsewhere).
    flows.chain.invalidate(block!, { drop: true });
    flows.chain.mine(2);
    await flows.cycle();
    const after = await flows.repo.findById(p._id);
    expect(after).toMatchObject({
      needsReview: true,
      confirmedSats: 0,
      credit: { state: 'done', credits: 4 },
    });
    expect(after?.reviewReasons).toContain(
      'a reorg or double spend removed funds of a credited payment',
    );
    expect(await flows.ledger.balance(p.userId)).toMatchObject({ balance: 4, seq: 1 });
  });

  it('finds a settled payment no longer watched when a reorg takes its block away', async () => {
    const flows = memoryFlows({ policy: { ...DEFAULT_POLICY, settledConfirmations: 2 } });
    await flows.cycle();
    const p = await flows.issue({ credits: 1, requiredConfirmations: 1 });
    flows.chain.pay(p.address, p.amountSats);
    const [block] = flows.chain.mine(1);
    await flows.cycle();
    flows.chain.mine(2);
    await flows.cycle();
    expect(await flows.repo.findById(p._id)).toMatchObject({
      watching: false,
      credit: { state: 'done' },
    });

    flows.chain.invalidate(block!, { drop: true });
    flows.chain.mine(4);
    expect((await flows.cycle()).blocksDisconnected).toBe(3);
    expect(await flows.repo.findById(p._id)).toMatchObject({
      needsReview: true,
      confirmedSats: 0,
    });
    expect(await flows.ledger.balance(p.userId)).toMatchObject({ balance: 1, seq: 1 });
  });

  it('sees a new checkout paid in the mempool before any block', async () => {
    const flows = memoryFlows();
    await flows.cycle();
    const p = await flows.issue({ amountSats: 15_000, requiredConfirmations: 1 });
    flows.chain.pay(p.address, 15_000);
    await flows.cycle();
    expect(await flows.repo.findById(p._id)).toMatchObject({
      status: 'confirming',
      receivedSats: 15_000,
      confirmedSats: 0,
    });
    expect((await flows.ledger.balance(p.userId)).balance).toBe(0);
  });

  it('expires an unpaid payment once its expiry and grace are over', async () => {
    let clock = new Date('2026-06-01T12:00:00Z');
    const flows = memoryFlows({ now: () => clock });
    await flows.cycle();
    const p = await flows.issue();
    clock = new Date(p.expiresAt.getTime() + DEFAULT_POLICY.expiryGraceMs - 1000);
    await flows.cycle();
    expect((await flows.repo.findById(p._id))?.status).toBe('pending');
    clock = new Date(p.expiresAt.getTime() + DEFAULT_POLICY.expiryGraceMs + 1000);
    await flows.cycle();
    expect((await flows.repo.findById(p._id))?.status).toBe('expired');
    expect(flows.webhooks.map((w) => w.type)).toEqual(['payment.expired']);
  });

  it('keeps a credit the ledger refused due, and credits it once when two callers retry at once', async () => {
    const flows = memoryFlows();
    await flows.cycle();
    const p = await flows.issue({ credits: 5, requiredConfirmations: 1 });
    flows.chain.pay(p.address, p.amountSats);
    flows.chain.mine(1);
    flows.failCredits(1);
    const report = await flows.watcher.runCycle();
    expect(report).toMatchObject({ credited: 0, errors: 1 });
    expect(await flows.repo.findById(p._id)).toMatchObject({
      status: 'confirmed',
      credit: { state: 'due', credits: 5 },
    });
    expect((await flows.ledger.balance(p.userId)).balance).toBe(0);

    // Two replicas (or an admin and the watcher) settle at the same moment.
    const outcomes = await Promise.all([
      flows.settlement.creditDue(),
      flows.settlement.creditDue(),
    ]);
    expect(outcomes.reduce((sum, o) => sum + o.credited, 0)).toBe(1);
    await flows.cycle();
    expect(await flows.ledger.balance(p.userId)).toMatchObject({ balance: 5, seq: 1 });
    expect((await flows.repo.findById(p._id))?.credit?.state).toBe('done');
  });
});
