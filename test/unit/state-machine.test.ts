import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChainTransaction } from '../../src/chain/chain-source.js';
import {
  type Evaluation,
  type Policy,
  type TrackedState,
  amountThreshold,
  evaluatePayment,
  initialTrackedState,
} from '../../src/payments/state-machine.js';

const ADDRESS = 'bcrt1qpayment';
const T0 = new Date('2026-11-22T12:00:00Z');
const minutes = (m: number) => new Date(T0.getTime() + m * 60_000);
const terms = {
  address: ADDRESS,
  amountSats: 100_000,
  credits: 10,
  requiredConfirmations: 3,
  expiresAt: minutes(60),
};
const policy: Policy = {
  underpaymentToleranceBps: 0,
  expiryGraceMs: 60_000,
  monitoringMs: 24 * 3600_000,
  latePayments: 'credit',
  creditMode: 'fixed',
  settledConfirmations: 6,
};

function tx(
  txid: string,
  valueSats: number,
  blockHeight?: number,
  signalsRbf = false,
  address = ADDRESS,
): ChainTransaction {
  return {
    txid,
    spends: [],
    signalsRbf,
    status:
      blockHeight === undefined
        ? { confirmed: false }
        : { confirmed: true, blockHeight, blockHash: `h${blockHeight}` },
    outputs: [
      { vout: 0, address: 'bcrt1qchange', script: '00', valueSats: 12345 },
      { vout: 1, address, script: '00', valueSats },
    ],
  };
}

/** Runs observations in order, persisting each result as the watcher would. */
function run(
  steps: { tip: number; txs: ChainTransaction[]; at: Date }[],
  p: Policy = policy,
  t = terms,
) {
  let state = initialTrackedState();
  const results: Evaluation[] = [];
  for (const step of steps) {
    const result = evaluatePayment(
      t,
      state,
      { tipHeight: step.tip, transactions: step.txs, now: step.at },
      p,
    );
    results.push(result);
    state = result.next;
    if (state.credit?.state === 'due')
      state = { ...state, credit: { ...state.credit, state: 'done' } };
  }
  return { state, results, webhooks: results.flatMap((r) => r.webhooks) };
}

describe('payment state machine', () => {
  it('stays pending while nothing pays the address', () => {
    const { state, results } = run([
      { tip: 100, txs: [tx('a', 5000, undefined, false, 'bcrt1qother')], at: minutes(1) },
    ]);
    expect(state.status).toBe('pending');
    expect(results[0]!.changed).toBe(false);
  });

  it('goes pending → confirming → confirmed at the third confirmation, and credits once', () => {
    const paid = (height?: number) => [tx('a', 100_000, height)];
    const { state, results, webhooks } = run([
      { tip: 100, txs: paid(), at: minutes(1) },
      { tip: 101, txs: paid(101), at: minutes(11) },
      { tip: 102, txs: paid(101), at: minutes(21) },
      { tip: 103, txs: paid(101), at: minutes(31) },
      { tip: 104, txs: paid(101), at: minutes(41) },
    ]);
    expect(results.map((r) => r.next.status)).toEqual([
      'confirming',
      'confirming',
      'confirming',
      'confirmed',
      'confirmed',
    ]);
    expect(results.map((r) => r.next.confirmations)).toEqual([0, 1, 2, 3, 4]);
    expect(results.filter((r) => r.next.credit?.state === 'due')).toHaveLength(1);
    expect(state.credit).toMatchObject({ credits: 10, basisSats: 100_000 });
    expect(webhooks).toEqual(['payment.confirming', 'payment.confirmed']);
  });

  it('adds up several transactions: a partial payment and a top-up', () => {
    const { results } = run([
      { tip: 100, txs: [tx('a', 60_000, 100)], at: minutes(1) },
      { tip: 103, txs: [tx('a', 60_000, 100)], at: minutes(5) },
      { tip: 103, txs: [tx('a', 60_000, 100), tx('b', 40_000)], at: minutes(6) },
      { tip: 105, txs: [tx('a', 60_000, 100), tx('b', 40_000, 104)], at: minutes(30) },
    ]);
    expect(results.map((r) => r.next.status)).toEqual([
      'confirming',
      'confirming',
      'confirming',
      'confirming',
    ]);
    const final = run([
      { tip: 106, txs: [tx('a', 60_000, 100), tx('b', 40_000, 104)], at: minutes(40) },
    ]);
    expect(final.state.status).toBe('confirmed');
    expect(final.state.receivedSats).toBe(100_000);
  });

  it('records an overpayment', () => {
    const { state } = run([{ tip: 110, txs: [tx('a', 130_000, 100)], at: minutes(5) }]);
    expect(state).toMatchObject({ status: 'confirmed', overpaidSats: 30_000 });
  });

  it('marks a short payment underpaid at expiry, and expires an unpaid one', () => {
    const short = run([
      { tip: 100, txs: [tx('a', 70_000)], at: minutes(10) },
      { tip: 110, txs: [tx('a', 70_000, 101)], at: minutes(62) },
    ]);
    expect(short.state.status).toBe('underpaid');
    expect(short.webhooks).toEqual(['payment.confirming', 'payment.underpaid']);
    const unpaid = run([
      { tip: 100, txs: [], at: minutes(59) },
      { tip: 100, txs: [], at: minutes(61) },
    ]);
    expect(unpaid.state.status).toBe('expired');
    expect(unpaid.webhooks).toEqual(['payment.expired']);
  });

  it('keeps a payment sent in time confirming after expiry until its confirmations arrive', () => {
    const { results } = run([
      { tip: 100, txs: [tx('a', 100_000)], at: minutes(59) },
      { tip: 101, txs: [tx('a', 100_000, 101)], at: minutes(70) },
      { tip: 103, txs: [tx('a', 100_000, 101)], at: minutes(90) },
    ]);
    expect(results.map((r) => r.next.status)).toEqual(['confirming', 'confirming', 'confirmed']);
    expect(results[2]!.next.late).toBe(false);
  });

  it('credits late money inside the monitoring window by default, flagged late', () => {
    const { state, webhooks } = run([
      { tip: 100, txs: [], at: minutes(62) },
      { tip: 100, txs: [tx('a', 100_000)], at: minutes(120) },
      { tip: 103, txs: [tx('a', 100_000, 101)], at: minutes(150) },
    ]);
    expect(state).toMatchObject({ status: 'confirmed', late: true });
    expect(state.credit?.credits).toBe(10);
    expect(webhooks).toEqual(['payment.expired', 'payment.late', 'payment.confirmed']);
  });

  it('holds late money for review when latePayments is review', () => {
    const { state, webhooks } = run(
      [
        { tip: 100, txs: [], at: minutes(62) },
        { tip: 103, txs: [tx('a', 100_000, 101)], at: minutes(120) },
      ],
      { ...policy, latePayments: 'review' },
    );
    expect(state).toMatchObject({ status: 'expired', late: true, needsReview: true });
    expect(state.credit).toBeUndefined();
    expect(webhooks).toEqual(['payment.expired', 'payment.needs_review', 'payment.late']);
  });

  it('drops a replaced transaction and falls back to pending', () => {
    const { results } = run([
      { tip: 100, txs: [tx('a', 100_000, undefined, true)], at: minutes(1) },
      { tip: 100, txs: [tx('b', 100_000, undefined, true, 'bcrt1qelsewhere')], at: minutes(2) },
    ]);
    expect(results.map((r) => r.next.status)).toEqual(['confirming', 'pending']);
    expect(results[1]!.events.map((e) => e.type)).toEqual(['output_dropped', 'status']);
  });

  it('rolls back on a reorg before crediting', () => {
    const { results } = run([
      { tip: 102, txs: [tx('a', 100_000, 101)], at: minutes(1) },
      { tip: 101, txs: [tx('a', 100_000)], at: minutes(2) }, // block 101/102 reorged out, tx back in mempool
    ]);
    expect(results.map((r) => [r.next.status, r.next.confirmations])).toEqual([
      ['confirming', 2],
      ['confirming', 0],
    ]);
  });

  it('flags a credited payment for review when a reorg removes its money, crediting and debiting nothing', () => {
    const { state, results, webhooks } = run([
      { tip: 103, txs: [tx('a', 100_000, 101)], at: minutes(1) },
      { tip: 100, txs: [], at: minutes(2) },
      { tip: 101, txs: [], at: minutes(3) },
    ]);
    expect(state).toMatchObject({ status: 'confirmed', needsReview: true, receivedSats: 0 });
    expect(results.filter((r) => r.next.credit?.state === 'due')).toHaveLength(1);
    expect(webhooks.filter((w) => w === 'payment.needs_review')).toHaveLength(1);
  });

  it('accepts zero confirmations only when configured, and never for an RBF-signalling transaction', () => {
    const zeroConf = { ...terms, requiredConfirmations: 0 };
    expect(
      run(
        [{ tip: 100, txs: [tx('a', 100_000, undefined, false)], at: minutes(1) }],
        policy,
        zeroConf,
      ).state.status,
    ).toBe('confirmed');
    expect(
      run(
        [{ tip: 100, txs: [tx('a', 100_000, undefined, true)], at: minutes(1) }],
        policy,
        zeroConf,
      ).state.status,
    ).toBe('confirming');
    expect(
      run([{ tip: 100, txs: [tx('a', 100_000, 100, true)], at: minutes(1) }], policy, zeroConf)
        .state.status,
    ).toBe('confirmed');
  });

  it('treats a payment short by no more than the tolerance as paid', () => {
    expect(amountThreshold(100_000, 50)).toBe(99_500);
    const tolerant = { ...policy, underpaymentToleranceBps: 50 };
    expect(
      run([{ tip: 110, txs: [tx('a', 99_500, 100)], at: minutes(5) }], tolerant).state.status,
    ).toBe('confirmed');
    expect(
      run([{ tip: 110, txs: [tx('a', 99_499, 100)], at: minutes(5) }], tolerant).state.status,
    ).toBe('confirming');
  });

  it('credits in proportion to what arrived in proportional mode', () => {
    const proportional = { ...policy, creditMode: 'proportional' as const };
    expect(
      run([{ tip: 110, txs: [tx('a', 150_000, 100)], at: minutes(5) }], proportional).state.credit
        ?.credits,
    ).toBe(15);
    const short = run(
      [
        { tip: 100, txs: [tx('a', 55_000)], at: minutes(5) },
        { tip: 110, txs: [tx('a', 55_000, 101)], at: minutes(70) },
      ],
      proportional,
    );
    expect(short.state).toMatchObject({ status: 'underpaid', credit: { credits: 5 } });
  });

  it('stops watching a settled credited payment and an expired one after the monitoring window', () => {
    expect(
      run([
        { tip: 110, txs: [tx('a', 100_000, 100)], at: minutes(5) },
        { tip: 110, txs: [tx('a', 100_000, 100)], at: minutes(6) },
      ]).state.watching,
    ).toBe(false);
    const expired = run([
      { tip: 100, txs: [], at: minutes(62) },
      { tip: 100, txs: [], at: minutes(62 + 24 * 60) },
    ]);
    expect(expired.state).toMatchObject({ status: 'expired', watching: false });
  });
});

describe('state machine properties', () => {
  // Random histories: transactions appear, confirm, get reorged out or replaced, time passes.
  const step = fc.record({
    tip: fc.integer({ min: 100, max: 120 }),
    minute: fc.integer({ min: 0, max: 3000 }),
    txs: fc.array(
      fc.record({
        id: fc.constantFrom('a', 'b', 'c', 'd'),
        value: fc.integer({ min: 1, max: 120_000 }),
        height: fc.option(fc.integer({ min: 95, max: 120 }), { nil: undefined }),
        rbf: fc.boolean(),
        ours: fc.boolean(),
      }),
      { maxLength: 4 },
    ),
  });
  const history = fc.array(step, { minLength: 1, maxLength: 25 });
  const policies = fc.record({
    required: fc.integer({ min: 0, max: 6 }),
    late: fc.constantFrom<'credit' | 'review'>('credit', 'review'),
    mode: fc.constantFrom<'fixed' | 'proportional'>('fixed', 'proportional'),
    bps: fc.integer({ min: 0, max: 500 }),
  });

  it('never credits twice and never below the required confirmations', () => {
    fc.assert(
      fc.property(history, policies, (steps, pol) => {
        const t = { ...terms, requiredConfirmations: pol.required };
        const p: Policy = {
          ...policy,
          latePayments: pol.late,
          creditMode: pol.mode,
          underpaymentToleranceBps: pol.bps,
        };
        let state: TrackedState = initialTrackedState();
        let creditsDue = 0;
        const sorted = [...steps].sort((a, b) => a.minute - b.minute);
        for (const s of sorted) {
          const txs = s.txs.map((x) =>
            tx(
              x.id,
              x.value,
              x.height !== undefined && x.height <= s.tip ? x.height : undefined,
              x.rbf,
              x.ours ? ADDRESS : 'bcrt1qother',
            ),
          );
          const r = evaluatePayment(
            t,
            state,
            { tipHeight: s.tip, transactions: txs, now: minutes(s.minute) },
            p,
          );
          if (!state.credit && r.next.credit) {
            creditsDue++;
            // Every output the credit counted is deep enough (RBF-signalling ones need 1 even with N = 0).
            const counted = txs
              .filter((x) => x.outputs[1]!.address === ADDRESS)
              .filter((x) => {
                const confs =
                  x.status.blockHeight === undefined ? 0 : s.tip - x.status.blockHeight + 1;
                return confs >= Math.max(pol.required, x.signalsRbf ? 1 : 0);
              })
              .reduce((sum, x) => sum + x.outputs[1]!.valueSats, 0);
            expect(r.next.credit.basisSats).toBe(counted);
            expect(counted).toBeGreaterThan(0);
          }
          if (state.credit) expect(r.next.credit).toEqual(state.credit); // once set, never changed
          if (r.next.status === 'confirmed') expect(r.next.credit).toBeDefined();
          expect(r.next.receivedSats).toBe(
            txs
              .filter((x) => x.outputs[1]!.address === ADDRESS)
              .reduce((sum, x) => sum + x.outputs[1]!.valueSats, 0),
          );
          state = r.next;
        }
        expect(creditsDue).toBeLessThanOrEqual(1);
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent: the same observation twice changes nothing the second time', () => {
    fc.assert(
      fc.property(step, (s) => {
        const txs = s.txs.map((x) =>
          tx(
            x.id,
            x.value,
            x.height !== undefined && x.height <= s.tip ? x.height : undefined,
            x.rbf,
            x.ours ? ADDRESS : 'bcrt1qo',
          ),
        );
        const obs = { tipHeight: s.tip, transactions: txs, now: minutes(s.minute) };
        const first = evaluatePayment(terms, initialTrackedState(), obs, policy);
        const second = evaluatePayment(terms, first.next, obs, policy);
        expect(second.changed).toBe(false);
        expect(second.next).toEqual(first.next);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('funds older than the payment', () => {
  const created = { ...terms, createdAtHeight: 110 };

  it('never counts an output first seen confirmed below createdAtHeight, records it and flags the payment', () => {
    const { state, results, webhooks } = run(
      [
        { tip: 112, txs: [tx('old', 100_000, 105)], at: minutes(1) },
        { tip: 130, txs: [tx('old', 100_000, 105)], at: minutes(2) },
      ],
      policy,
      created,
    );
    expect(state.status).toBe('pending');
    expect(state.credit).toBeUndefined();
    expect(state.receivedSats).toBe(0);
    expect(state.confirmedSats).toBe(0);
    expect(state.outputs).toEqual([expect.objectContaining({ txid: 'old', old: true })]);
    expect(state.needsReview).toBe(true);
    expect(state.reviewReasons).toEqual(['funds older than the payment']);
    expect(webhooks).toEqual(['payment.needs_review']);
    expect(results[0]!.events.map((e) => e.type)).toEqual(['output_seen', 'needs_review']);
    expect(results[1]!.changed).toBe(false);
  });

  it('counts an output confirmed at or above createdAtHeight, and one first seen in the mempool', () => {
    const atTip = run(
      [{ tip: 112, txs: [tx('a', 100_000, 110)], at: minutes(1) }],
      policy,
      created,
    );
    expect(atTip.state.credit?.credits).toBe(10);
    expect(atTip.state.needsReview).toBe(false);

    // Seen unconfirmed first: new money, even if a deep reorg later mines it lower.
    const fromMempool = run(
      [
        { tip: 110, txs: [tx('m', 100_000)], at: minutes(1) },
        { tip: 112, txs: [tx('m', 100_000, 108)], at: minutes(2) },
      ],
      { ...policy },
      { ...created, requiredConfirmations: 3 },
    );
    expect(fromMempool.state.outputs[0]!.old).toBeUndefined();
    expect(fromMempool.state.credit?.basisSats).toBe(100_000);
  });

  it('credits only the new money when old and new funds share the address', () => {
    const { state } = run(
      [{ tip: 120, txs: [tx('old', 60_000, 100), tx('new', 100_000, 115)], at: minutes(5) }],
      policy,
      created,
    );
    expect(state.credit).toMatchObject({ credits: 10, basisSats: 100_000 });
    expect(state.receivedSats).toBe(100_000);
    expect(state.overpaidSats).toBe(0);
    expect(state.needsReview).toBe(true);
  });

  it('treats payments without createdAtHeight as before', () => {
    const { state } = run([{ tip: 120, txs: [tx('old', 100_000, 100)], at: minutes(5) }]);
    expect(state.credit?.credits).toBe(10);
    expect(state.needsReview).toBe(false);
  });

  it('never credits, in any history, money first seen confirmed below createdAtHeight', () => {
    const observation = fc.record({
      tip: fc.integer({ min: 100, max: 130 }),
      minute: fc.integer({ min: 0, max: 3000 }),
      txs: fc.uniqueArray(
        fc.record({
          id: fc.constantFrom('a', 'b', 'c', 'd'),
          value: fc.integer({ min: 1, max: 120_000 }),
          height: fc.option(fc.integer({ min: 90, max: 130 }), { nil: undefined }),
        }),
        { maxLength: 4, selector: (x) => x.id },
      ),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 95, max: 125 }),
        fc.array(observation, { minLength: 1, maxLength: 15 }),
        fc.integer({ min: 0, max: 6 }),
        (createdAtHeight, steps, required) => {
          const t = { ...terms, createdAtHeight, requiredConfirmations: required };
          let state = initialTrackedState();
          // An output's age is decided when it is first seen and kept while it stays visible.
          let firstSeenOld = new Set<string>();
          let firstSeenNew = new Set<string>();
          for (const s of steps) {
            const txs = s.txs.map((x) =>
              tx(x.id, x.value, x.height !== undefined && x.height <= s.tip ? x.height : undefined),
            );
            const nextOld = new Set<string>();
            const nextNew = new Set<string>();
            for (const x of txs) {
              const key = `${x.txid}:1`;
              const h = x.status.blockHeight;
              const old = firstSeenOld.has(key)
                ? true
                : firstSeenNew.has(key)
                  ? false
                  : h !== undefined && h < createdAtHeight;
              (old ? nextOld : nextNew).add(key);
            }
            firstSeenOld = nextOld;
            firstSeenNew = nextNew;
            const r = evaluatePayment(
              t,
              state,
              { tipHeight: s.tip, transactions: txs, now: minutes(s.minute) },
              policy,
            );
            const current = new Set(txs.map((x) => `${x.txid}:1`));
            const newSats = txs
              .filter((x) => firstSeenNew.has(`${x.txid}:1`))
              .reduce((sum, x) => sum + x.outputs[1]!.valueSats, 0);
            expect(r.next.receivedSats).toBe(newSats);
            if (r.next.credit && !state.credit)
              expect(r.next.credit.basisSats).toBeLessThanOrEqual(newSats);
            for (const o of r.next.outputs) {
              expect(o.old === true).toBe(firstSeenOld.has(`${o.txid}:${o.vout}`));
            }
            if ([...firstSeenOld].some((k) => current.has(k))) {
              expect(r.next.reviewReasons).toContain('funds older than the payment');
            }
            state = r.next;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
