import { describe, expect, it } from 'vitest';
import { outpointKey } from '../../src/chain/outpoint.js';
import {
  SWEEP_STATES,
  SWEEP_TRANSITIONS,
  type SweepState,
  SweepTransitionError,
  canTransition,
  checkTransition,
} from '../../src/forwarding/sweep.js';

/** Every move the forwarder makes, by the step that makes it. */
const USED: [SweepState, SweepState, string][] = [
  ['building', 'abandoned', 'a stale build is abandoned, or its coins were claimed first'],
  ['rejected', 'abandoned', 'an admin retries a rejected sweep'],
  ['building', 'awaiting_signature', 'psbt mode stores the PSBT'],
  ['building', 'signed', 'sign mode stores the signed transaction'],
  ['awaiting_signature', 'signed', 'the admin submits the signed PSBT'],
  ['signed', 'broadcast', 'the stored transaction is broadcast'],
  ['broadcast', 'confirmed', 'the broadcast sweep confirms'],
  ['replaced', 'broadcast', 'a refused replacement puts the original back in charge'],
  ['building', 'replaced', 'another family member confirmed'],
  ['awaiting_signature', 'replaced', 'another family member confirmed'],
  ['signed', 'replaced', 'another family member confirmed'],
  ['broadcast', 'replaced', 'another family member confirmed'],
  ['building', 'rejected', 'its destination is refused, or its coins are spent elsewhere'],
  [
    'awaiting_signature',
    'rejected',
    'its destination is refused, or its coins are spent elsewhere',
  ],
  ['signed', 'rejected', 'the node refuses it'],
  ['broadcast', 'rejected', 'the node refuses its rebroadcast'],
];

describe('the sweep lifecycle table', () => {
  it('lists every state, and only states, on both sides', () => {
    expect(Object.keys(SWEEP_TRANSITIONS).sort()).toEqual([...SWEEP_STATES].sort());
    for (const to of Object.values(SWEEP_TRANSITIONS).flat()) expect(SWEEP_STATES).toContain(to);
  });

  it.each(USED)('allows %s → %s (%s)', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => {
      checkTransition([from], to);
    }).not.toThrow();
  });

  it('allows nothing the forwarder does not do', () => {
    const allowed = SWEEP_STATES.flatMap((from) =>
      SWEEP_TRANSITIONS[from].map((to) => `${from}→${to}`),
    );
    expect(allowed.sort()).toEqual(USED.map(([from, to]) => `${from}→${to}`).sort());
  });

  it('lets nothing leave confirmed or abandoned', () => {
    for (const to of SWEEP_STATES) {
      expect(canTransition('confirmed', to)).toBe(false);
      expect(canTransition('abandoned', to)).toBe(false);
    }
  });

  it('refuses a sweep that is out (broadcast or confirmed) going back to building or signed', () => {
    expect(canTransition('broadcast', 'signed')).toBe(false);
    expect(canTransition('broadcast', 'building')).toBe(false);
    expect(canTransition('confirmed', 'broadcast')).toBe(false);
  });

  it('refuses abandoning a sweep that stored a transaction', () => {
    for (const from of ['awaiting_signature', 'signed', 'broadcast'] as const) {
      expect(canTransition(from, 'abandoned')).toBe(false);
    }
  });

  it('refuses a move whose from-list has one state that may not make it, naming it', () => {
    expect(() => {
      checkTransition(['building', 'confirmed'], 'rejected');
    }).toThrow(SweepTransitionError);
    expect(() => {
      checkTransition(['building', 'confirmed'], 'rejected');
    }).toThrow('a sweep may not move from confirmed to rejected');
  });

  it('refuses staying in the same state (a state change must change something)', () => {
    for (const state of SWEEP_STATES) expect(canTransition(state, state)).toBe(false);
  });
});

describe('an outpoint key', () => {
  it('is txid:vout', () => {
    expect(outpointKey({ txid: 'ab'.repeat(32), vout: 3 })).toBe(`${'ab'.repeat(32)}:3`);
  });
});
