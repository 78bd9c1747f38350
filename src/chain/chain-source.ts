/**
 * What the watcher needs to know about the chain, whatever serves it (Esplora today, Bitcoin
 * Core RPC later). Every backend passes the same contract tests (test/support/chain-source-contract.ts).
 */

export interface TxStatus {
  confirmed: boolean;
  blockHeight?: number;
  blockHash?: string;
  /** Unix seconds */
  blockTime?: number;
}

export interface TxOutput {
  vout: number;
  /** Absent for outputs without an address (OP_RETURN, bare scripts). */
  address?: string;
  /** Hex scriptPubKey */
  script: string;
  valueSats: number;
}

export interface ChainTransaction {
  txid: string;
  status: TxStatus;
  outputs: TxOutput[];
  /** The outpoints its inputs spend (none for a coinbase). */
  spends: { txid: string; vout: number }[];
  /** Any input signals BIP125 replaceability (sequence < 0xfffffffe). */
  signalsRbf: boolean;
  /** Absent when the backend cannot tell. */
  feeSats?: number;
  vsize?: number;
}

export interface ChainTip {
  height: number;
  hash: string;
}

/** A chain backend call that failed after its retries; the cycle skips what depended on it. */
export class ChainSourceError extends Error {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ChainSourceError';
  }
}

/** The node refused a broadcast (a definitive answer, not an outage). */
export class BroadcastRejectedError extends Error {
  constructor(
    readonly code: number | undefined,
    readonly reason: string,
  ) {
    super(`transaction rejected: ${reason}`);
    this.name = 'BroadcastRejectedError';
  }
}

/** One transaction of a block, reduced to what matching needs. */
export interface BlockTransaction {
  txid: string;
  /** Every output, with its scriptPubKey as lower-case hex (the key watched scripts are matched on). */
  outputs: { vout: number; script: string; valueSats: number }[];
  /** The outpoints its inputs spend (none for a coinbase). */
  spends: { txid: string; vout: number }[];
  signalsRbf: boolean;
}

/**
 * A block as the chain source delivers it: already checked against the hash it was asked for
 * (double-SHA256 of the header), its merkle root and its proof of work. The parent link and the
 * height come from the caller's header chain.
 */
export interface VerifiedBlock {
  hash: string;
  prevHash: string;
  merkleRoot: string;
  /** Compact difficulty target of the header. */
  bits: number;
  /** Header time, Unix seconds. */
  time: number;
  transactions: BlockTransaction[];
}

/** A server sent a block that is not the block asked for (tampered, or no valid proof of work). */
export class BlockVerificationError extends Error {
  constructor(
    readonly hash: string,
    readonly reason: string,
    /** The base URL that served it, when known. */
    readonly source?: string,
  ) {
    super(`block ${hash} refused: ${reason}`);
    this.name = 'BlockVerificationError';
  }
}

export interface ChainSource {
  /** Height and hash of the best block, read consistently (several requests with Esplora). */
  tip(): Promise<ChainTip>;
  /** Hash of the best block: one request, the block scan's per-cycle cost. */
  tipHash(): Promise<string>;
  /** Height of the best block: one request. */
  tipHeight(): Promise<number>;
  /**
   * The block with `hash`, fetched raw once and verified (hash, merkle root, proof of work). A
   * server whose block fails verification is counted and the next base URL is tried; when none
   * serves a valid one, BlockVerificationError. undefined when no server knows the block.
   */
  block(hash: string): Promise<VerifiedBlock | undefined>;
  /** Unconfirmed transactions paying to or spending from `address` (Esplora: at most 50). */
  addressMempool(address: string): Promise<ChainTransaction[]>;
  /** Hash of the best-chain block at `height`, or undefined above the tip. */
  blockHashAt(height: number): Promise<string | undefined>;
  /** Every transaction paying to or spending from `address`, mempool and confirmed, all pages. */
  addressTransactions(address: string): Promise<ChainTransaction[]>;
  /** Unknown transactions are `{ confirmed: false }` (as Esplora answers); use `transaction` to tell. */
  transactionStatus(txid: string): Promise<TxStatus>;
  /** undefined when the backend does not know the transaction (never seen, or dropped). */
  transaction(txid: string): Promise<ChainTransaction | undefined>;
  /** Returns the txid; BroadcastRejectedError when the node refuses it. */
  broadcast(rawHex: string): Promise<string>;
  /** Confirmation target (blocks) → sat/vB; may be empty. */
  feeEstimates(): Promise<Record<string, number>>;
  /** Whether output `vout` of `txid` is spent (mempool or chain), and by which transaction. */
  outspend(txid: string, vout: number): Promise<Outspend>;
}

export interface Outspend {
  spent: boolean;
  /** The spending transaction, when spent. */
  txid?: string;
}
