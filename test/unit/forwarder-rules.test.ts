/**
 * The forwarder's rules on in-memory parts (test/support/memory-flows.ts), no lab: a credited
 * payment's coins swept to the cold address once, and a sweep whose builder died abandoned and
 * its coins swept again. The same flows run on the lab in test/integration/forwarding*.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Sweep } from '../../src/forwarding/sweep.js';
import { freshKey } from '../lab/keys.js';
import { FORWARDING, memoryFlows } from '../support/memory-flows.js';

describe('the forwarder on in-memory parts', () => {
  it("sweeps a credited payment's coins to the cold address, once", async () => {
    const cold = freshKey().address;
    const flows = memoryFlows({ forwardTo: cold });
    await flows.cycle();
    const p = await flows.issue({ amountSats: 50_000, credits: 2, requiredConfirmations: 1 });
    const paid = flows.chain.pay(p.address, 50_000);
    flows.chain.mine(1);

    const report = await flows.cycle();
    expect(report.credited).toBe(1);
    expect(report.forwarding).toMatchObject({ swept: 1, broadcast: 1, errors: 0 });
    const [sweep] = await flows.sweeps.inState('broadcast');
    expect(sweep?.inputs).toMatchObject([{ paymentId: p._id, txid: paid, vout: 0 }]);
    expect(sweep?.destination).toBe(cold);
    expect(flows.chain.mempoolTxids).toContain(sweep?.txid);
    const sent = flows.chain.inspect(sweep!.txid!);
    expect(sent?.outputs).toMatchObject([{ address: cold, valueSats: 50_000 - sweep!.feeSats }]);
    expect(sent?.spends).toEqual([{ txid: paid, vout: 0 }]);

    // Nothing more is due: later cycles sweep nothing again; the next block confirms the sweep.
    flows.chain.mine(1);
    const next = await flows.cycle();
    expect(next.forwarding).toMatchObject({ swept: 0, confirmed: 1, errors: 0 });
    expect((await flows.sweeps.get(sweep!._id))?.state).toBe('confirmed');
    expect(await flows.repo.findById(p._id)).toMatchObject({ sweepTxid: sweep!.txid });
    expect((await flows.cycle()).forwarding?.swept).toBe(0);
    expect(await flows.ledger.balance(p.userId)).toMatchObject({ balance: 2, seq: 1 });
  });

  it('abandons a sweep still building after staleBuildSeconds, and sweeps its coins again', async () => {
    let clock = new Date('2026-06-01T12:00:00Z');
    const cold = freshKey().address;
    const flows = memoryFlows({ forwardTo: cold, now: () => clock });
    await flows.cycle(); // the leader's start-up recovery is behind us
    const p = await flows.issue({ amountSats: 40_000, requiredConfirmations: 1 });
    const paid = flows.chain.pay(p.address, 40_000);
    flows.chain.mine(1);

    // Another process claimed the coin and died while building: nothing was stored to broadcast.
    const stranded: Sweep = {
      _id: 'swp_stranded',
      state: 'building',
      mode: 'sign',
      inputs: [
        {
          paymentId: p._id,
          txid: paid,
          vout: 0,
          valueSats: 40_000,
          scriptType: 'p2wpkh',
          index: p.derivation.index,
        },
      ],
      destination: cold,
      feeRate: 2,
      vsize: 110,
      feeSats: 220,
      valueOutSats: 39_780,
      createdAt: clock,
      updatedAt: clock,
      events: [{ at: clock, type: 'building', cause: 'test' }],
    };
    await flows.sweeps.create(stranded);
    expect(await flows.sweeps.claim(stranded._id, stranded.inputs)).toBe(true);

    // Young: the coin stays claimed, nothing is swept.
    const young = await flows.cycle();
    expect(young.forwarding?.swept).toBe(0);
    expect((await flows.sweeps.get(stranded._id))?.state).toBe('building');

    clock = new Date(clock.getTime() + (FORWARDING.staleBuildSeconds + 1) * 1000);
    flows.chain.mine(1);
    const stale = await flows.cycle();
    expect(await flows.sweeps.get(stranded._id)).toMatchObject({
      state: 'abandoned',
      claimsReleased: true,
    });
    expect(stale.forwarding).toMatchObject({ swept: 1, broadcast: 1 });
    const [sweep] = await flows.sweeps.inState('broadcast');
    expect(sweep?.inputs.map((i) => `${i.txid}:${i.vout}`)).toEqual([`${paid}:0`]);
    const key = `${paid}:0`;
    expect(await flows.sweeps.claimOwners([key])).toEqual(new Map([[key, sweep!._id]]));
  });

  it('spends a coin once when two replicas sweep it at the same moment', async () => {
    const cold = freshKey().address;
    const flows = memoryFlows(); // the watcher credits; the two forwarders below sweep
    await flows.cycle();
    const p = await flows.issue({ amountSats: 60_000, requiredConfirmations: 1 });
    const paid = flows.chain.pay(p.address, 60_000);
    flows.chain.mine(1);
    expect((await flows.cycle()).credited).toBe(1);

    const tip = flows.chain.tipHeightNow;
    const [a, b] = [flows.forwarderTo(cold), flows.forwarderTo(cold)];
    const results = await Promise.all([
      a.sweepDue(tip, { force: false }),
      b.sweepDue(tip, { force: false }),
    ]);
    expect(results.filter((r) => r.sweep !== undefined)).toHaveLength(1);
    const live = await flows.sweeps.inState('building', 'signed', 'broadcast');
    expect(live).toHaveLength(1);
    const spending = flows.chain.mempoolTxids.filter((txid) =>
      flows.chain.inspect(txid)?.spends.some((s) => s.txid === paid && s.vout === 0),
    );
    expect(spending).toEqual([live[0]?.txid]);
  });
});
