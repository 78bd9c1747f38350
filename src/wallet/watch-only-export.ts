/**
 * The receiving wallet as other software imports it, watch-only: Bitcoin Core's
 * `importdescriptors` request and the settings Sparrow needs. Pure: the figures come in.
 */
import type { WalletAccount } from './account.js';
import type { GapReport } from './gap-limit.js';

/** One request of Bitcoin Core's `importdescriptors`. */
export interface ImportDescriptorRequest {
  desc: string;
  /** Inclusive index range to derive and watch. */
  range: [number, number];
  /** Unix seconds of the first payment (Core rescans from there), or "now" for a new wallet. */
  timestamp: number | 'now';
  active: boolean;
  internal: boolean;
}

export interface WatchOnlyExport {
  requests: ImportDescriptorRequest[];
  /** The gap limit to set in Sparrow (or any wallet with one) to see every issued address. */
  gapLimit: number;
}

/**
 * Receive descriptor over `[0, issued + margin]` (every issued address and the next `margin`),
 * change descriptor over `[0, margin]`: satwatch never issues change addresses, but a wallet that
 * signs sweeps elsewhere may, and Core wants an active internal descriptor for that.
 */
export function watchOnlyExport(
  account: WalletAccount,
  gaps: GapReport,
  margin: number,
  firstPaymentAt: Date | undefined,
): WatchOnlyExport {
  const timestamp =
    firstPaymentAt === undefined ? ('now' as const) : Math.floor(firstPaymentAt.getTime() / 1000);
  return {
    requests: [
      {
        desc: account.descriptor(0),
        range: [0, gaps.issued + margin],
        timestamp,
        active: true,
        internal: false,
      },
      { desc: account.descriptor(1), range: [0, margin], timestamp, active: true, internal: true },
    ],
    gapLimit: Math.max(gaps.gapLimitForIssued, margin),
  };
}
