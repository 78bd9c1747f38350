/**
 * Hands out receive addresses that have never been used on chain. A payment's address must be
 * fresh: an address with history (a restore, a new deployment on an old key, a lost database)
 * would credit the payment with someone else's old money.
 *
 * - Every index is checked on the chain before it is issued; a used one is skipped and its index
 *   burned (nothing is recorded for it). If the chain cannot be asked, nothing is issued: the
 *   caller answers 503 rather than hand out an unchecked address.
 * - On an empty database (no counter yet) a gap scan, like a wallet recovery, walks the receive
 *   addresses from 0 until `gapLimit` unused ones in a row and moves the counter past the last
 *   used one, so a key with a long history does not burn its way forward one request at a time.
 *   It runs once per process, before the first address is issued: not while the daemon starts,
 *   so a slow or unreachable chain API never delays start-up, and watcher-only processes
 *   (which issue nothing) never scan.
 */
import type { ChainSource } from '../chain/chain-source.js';
import type { WalletAccount } from '../wallet/account.js';

export const DEFAULT_GAP_LIMIT = 20;

/** An index we will not try to get past one address at a time: the gap scan is for that. */
const MAX_SKIPPED_PER_ISSUE = 1000;

export interface IssuerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** The chain could not tell whether an address was used: no address is issued unchecked. */
export class AddressCheckUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the chain API cannot be reached to check the new address; try again shortly', {
      cause,
    });
    this.name = 'AddressCheckUnavailableError';
  }
}

export class TooManyUsedAddressesError extends Error {
  constructor(readonly skipped: number) {
    super(`${skipped} receive addresses in a row have chain history; refusing to skip further`);
    this.name = 'TooManyUsedAddressesError';
  }
}

export interface FreshAddress {
  index: number;
  address: string;
  path: string;
}

export interface GapScanReport {
  /** Receive indexes below the counter after the scan: the used ones and the gaps between them. */
  skipped: number;
  /** Addresses asked about. */
  checked: number;
}

/**
 * The receive-index counter of an account (storage/address-counter.ts): it only moves forward,
 * so no index is handed out twice, whichever replica asks.
 */
export interface ReceiveIndexCounter {
  allocate(accountFingerprint: string): Promise<number>;
  /** Gives `index` back if it is still the last one handed out; false otherwise. */
  release(accountFingerprint: string, index: number): Promise<boolean>;
  /** Whether any index was ever handed out (false on an empty database). */
  exists(accountFingerprint: string): Promise<boolean>;
  /** Moves the counter to at least `next`. */
  advanceTo(accountFingerprint: string, next: number): Promise<void>;
}

export interface AddressIssuerDeps {
  counter: ReceiveIndexCounter;
  wallet: WalletAccount;
  chain: Pick<ChainSource, 'addressTransactions'>;
  gapLimit?: number;
  log?: IssuerLog;
}

export class AddressIssuer {
  private readonly gapLimit: number;
  private recovery: Promise<unknown> | undefined;

  constructor(private readonly deps: AddressIssuerDeps) {
    this.gapLimit = deps.gapLimit ?? DEFAULT_GAP_LIMIT;
  }

  /** The next receive index whose address has no chain history. */
  async next(): Promise<FreshAddress> {
    const { counter, wallet } = this.deps;
    await this.recoverOnce();
    for (let skipped = 0; skipped < MAX_SKIPPED_PER_ISSUE; skipped++) {
      const index = await counter.allocate(wallet.accountFingerprint);
      const derived = wallet.receiveAddress(index);
      let used: boolean;
      try {
        used = await this.hasHistory(derived.address);
      } catch (err) {
        // Nothing was issued: give the index back if nobody allocated after us.
        await counter.release(wallet.accountFingerprint, index).catch(() => false);
        throw new AddressCheckUnavailableError(err);
      }
      if (!used) return { index, address: derived.address, path: derived.path };
      this.deps.log?.warn(
        { index, address: derived.address },
        'receive address already has chain history; index skipped',
      );
    }
    throw new TooManyUsedAddressesError(MAX_SKIPPED_PER_ISSUE);
  }

  /**
   * The start-up gap scan: only on an empty database (no counter yet). Returns undefined when the
   * counter exists. Safe with replicas: the counter only moves forward.
   */
  async recover(): Promise<GapScanReport | undefined> {
    const { counter, wallet } = this.deps;
    if (await counter.exists(wallet.accountFingerprint)) return undefined;
    const gap = this.gapLimit;
    let lastUsed = -1;
    let start = 0;
    // Ask a window of `gap` addresses at once; stop once `gap` unused follow the last used one.
    while (start - 1 - lastUsed < gap) {
      const indexes = Array.from({ length: gap }, (_, i) => start + i);
      const used = await Promise.all(
        indexes.map((i) => this.hasHistory(wallet.receiveAddress(i).address)),
      );
      used.forEach((u, k) => {
        if (u) lastUsed = indexes[k] as number;
      });
      start += gap;
    }
    const skipped = lastUsed + 1;
    if (skipped > 0) await counter.advanceTo(wallet.accountFingerprint, skipped);
    this.deps.log?.info(
      { skipped, checked: start, gapLimit: gap },
      skipped > 0
        ? `address gap scan: ${skipped} receive addresses skipped (the key has chain history)`
        : 'address gap scan: the key has no chain history',
    );
    return { skipped, checked: start };
  }

  /** The gap scan, once per process; concurrent first issues wait for the same scan. */
  private async recoverOnce(): Promise<void> {
    this.recovery ??= this.recover().catch((err: unknown) => {
      this.recovery = undefined; // try again with the next issue
      throw new AddressCheckUnavailableError(err);
    });
    await this.recovery;
  }

  /** One request for a fresh address: an empty first page of its transactions. */
  private async hasHistory(address: string): Promise<boolean> {
    return (await this.deps.chain.addressTransactions(address)).length > 0;
  }
}
