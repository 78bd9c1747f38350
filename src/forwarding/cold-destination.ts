/**
 * Where sweeps may go: the cold destination of the CONFIGURATION, never of a database record.
 * Anyone who can write to MongoDB could rewrite a sweep's destination; every path that signs,
 * accepts a signed sweep or builds a replacement asks this module for the address instead.
 *
 * The destination is also pinned: its fingerprint is stored at first start, and a later start
 * with another one is refused unless the operator accepts the change explicitly.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { IndexCounter } from '../wallet/index-counter.js';
import type { WalletAccount } from '../wallet/account.js';
import type { OutboxWriter } from '../webhooks/ports.js';

/** A fact pinned in the database at first start and checked at every later start. */
export interface PinnedSetting {
  _id: string;
  value: string;
  pinnedAt: Date;
  /** The value it replaced, when an operator accepted a change. */
  previous?: string;
}

/** Where pinned facts are kept (storage/settings.ts: the `settings` collection). */
export interface PinnedSettings {
  get(id: string): Promise<PinnedSetting | null>;
  /** Pins `value` unless something is pinned already; false then (a replica pinned first). */
  pinIfAbsent(id: string, value: string, now: Date): Promise<boolean>;
  /** Replaces `previous` with `value`; false when the pinned value is no longer `previous`. */
  repin(id: string, previous: string, value: string, now: Date): Promise<boolean>;
}

/** One fixed address, or a fresh address of the cold xpub for each sweep. */
export type Destination =
  | { kind: 'address'; address: string }
  | { kind: 'xpub'; account: WalletAccount; counter: IndexCounter };

/** A cold xpub counter above this was not moved by sweeps: someone wrote it. */
export const MAX_COLD_INDEX = 1_000_000;

/** A sweep record names a destination the configuration does not give it. */
export class DestinationMismatchError extends Error {
  constructor(
    readonly sweepId: string,
    message: string,
  ) {
    super(`sweep ${sweepId}: ${message}`);
    this.name = 'DestinationMismatchError';
  }
}

/** The configured cold destination differs from the one pinned in the database. */
export class ColdDestinationChangedError extends Error {
  constructor(readonly setting: 'forwarding.coldAddress' | 'forwarding.coldXpub') {
    super(
      `${setting} differs from the cold destination this database was first started with; ` +
        'if the change is intended, start once with `satwatch serve --accept-new-cold-destination` ' +
        '(or SATWATCH_ACCEPT_NEW_COLD_DESTINATION=1)',
    );
    this.name = 'ColdDestinationChangedError';
  }
}

export class ColdDestination {
  constructor(readonly destination: Destination) {}

  get setting(): 'forwarding.coldAddress' | 'forwarding.coldXpub' {
    return this.destination.kind === 'address' ? 'forwarding.coldAddress' : 'forwarding.coldXpub';
  }

  /** For logs: the address, or the xpub account (public, not a secret). */
  describe(): Record<string, string> {
    const d = this.destination;
    return d.kind === 'address'
      ? { coldAddress: d.address }
      : {
          coldXpub: d.account.publicNode.toBase58(),
          coldAccountFingerprint: d.account.accountFingerprint,
          coldScriptType: d.account.scriptType,
        };
  }

  /** SHA-256 of what defines the destination (for an xpub: its key and script type). */
  fingerprint(): string {
    const d = this.destination;
    const what =
      d.kind === 'address'
        ? `address:${d.address}`
        : `xpub:${d.account.scriptType}:${d.account.publicNode.toBase58()}`;
    return createHash('sha256').update(what).digest('hex');
  }

  /** The destination of a new sweep (an xpub hands out its next index). */
  async next(): Promise<{ address: string; index?: number }> {
    const d = this.destination;
    if (d.kind === 'address') return { address: d.address };
    const index = await d.counter.allocate(d.account.accountFingerprint, 'cold');
    if (index >= MAX_COLD_INDEX) {
      throw new RangeError(`the cold xpub counter reached ${index}, over ${MAX_COLD_INDEX}`);
    }
    return { address: d.account.receiveAddress(index).address, index };
  }

  /**
   * The configured address for a stored sweep: the cold address, or the cold xpub's address at
   * the sweep's index, the index bounded by the counter. DestinationMismatchError otherwise.
   */
  async expectedFor(sweep: {
    _id: string;
    destination: string;
    destinationIndex?: number;
  }): Promise<string> {
    const d = this.destination;
    const refuse = (why: string) => new DestinationMismatchError(sweep._id, why);
    let expected: string;
    if (d.kind === 'address') {
      if (sweep.destinationIndex !== undefined) {
        throw refuse(
          `has a destination index ${sweep.destinationIndex}, but the cold destination is one address`,
        );
      }
      expected = d.address;
    } else {
      const index = sweep.destinationIndex;
      if (index === undefined || !Number.isSafeInteger(index) || index < 0) {
        throw refuse('has no valid cold xpub index');
      }
      const counter = await d.counter.peek(d.account.accountFingerprint, 'cold');
      if (counter > MAX_COLD_INDEX)
        throw refuse(`the cold xpub counter ${counter} is over ${MAX_COLD_INDEX}`);
      if (index >= counter)
        throw refuse(`cold xpub index ${index} was never handed out (counter ${counter})`);
      expected = d.account.receiveAddress(index).address;
    }
    if (sweep.destination !== expected) {
      throw refuse(`pays ${sweep.destination}, not the configured cold destination ${expected}`);
    }
    return expected;
  }
}

const PIN_ID = 'cold-destination';

export interface PinDeps {
  settings: PinnedSettings;
  outbox: OutboxWriter;
  log: Logger;
  now: () => Date;
  /** The operator started with --accept-new-cold-destination. */
  acceptChange: boolean;
}

/**
 * Pins the destination's fingerprint at first start; refuses another one later unless the
 * operator accepts it, and then logs the change and sends the webhook `destination.changed`.
 */
export async function pinColdDestination(cold: ColdDestination, deps: PinDeps): Promise<void> {
  const fingerprint = cold.fingerprint();
  const now = deps.now();
  for (let attempt = 0; attempt < 3; attempt++) {
    const pinned = await deps.settings.get(PIN_ID);
    if (!pinned) {
      if (await deps.settings.pinIfAbsent(PIN_ID, fingerprint, now)) {
        deps.log.info({ ...cold.describe(), fingerprint }, 'cold destination pinned');
        return;
      }
      continue;
    }
    if (pinned.value === fingerprint) return;
    if (!deps.acceptChange) throw new ColdDestinationChangedError(cold.setting);
    if (!(await deps.settings.repin(PIN_ID, pinned.value, fingerprint, now))) continue;
    deps.log.warn(
      { ...cold.describe(), fingerprint, previousFingerprint: pinned.value },
      'cold destination CHANGED (accepted with --accept-new-cold-destination)',
    );
    await deps.outbox.enqueue({
      id: `destination.changed:${fingerprint.slice(0, 16)}:${now.getTime()}`,
      type: 'destination.changed',
      data: {
        destination: cold.describe(),
        fingerprint,
        previousFingerprint: pinned.value,
        changedAt: now.toISOString(),
      },
    });
    return;
  }
  throw new Error('the cold destination pin kept changing under this start; try again');
}
