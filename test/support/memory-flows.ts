/**
 * The watcher's flows wired on in-memory parts, as src/daemon.ts wires them on MongoDB and
 * Esplora: the memory chain source, payment, ledger, sweep and chain-state stores (each passes
 * the contract suite its real counterpart passes), the real watcher, settlement and (when asked)
 * a sign-mode forwarder to a cold address. No lab, no timers: a test moves the chain, sets the
 * clock and runs cycles itself.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Forwarder, type ForwardingOptions } from '../../src/forwarding/forwarder.js';
import { WalletAccount } from '../../src/wallet/account.js';
import { bip32 } from '../../src/wallet/extended-key.js';
import { BITCOIN_NETWORKS } from '../../src/wallet/networks.js';
import type { IssuedPayment } from '../../src/payments/payment.js';
import type { Policy } from '../../src/payments/state-machine.js';
import { Settlement } from '../../src/settlement/settlement.js';
import { type CycleReport, PaymentWatcher } from '../../src/watcher/payment-watcher.js';
import { MemoryChainSource } from './memory-chain-source.js';
import { MemoryChainState } from './memory-chain-state.js';
import { MemoryLedgerStore } from './memory-ledger-store.js';
import { MemoryPaymentStore } from './memory-payment-store.js';
import { MemorySweepStore } from './memory-sweep-store.js';
import { type EnqueuedWebhook, MemoryWebhookOutbox } from './memory-webhook-outbox.js';
import { paymentFixture } from './payment-fixture.js';

/** The configuration defaults of the payment rules (config/schema-money.ts). */
export const DEFAULT_POLICY: Policy = {
  underpaymentToleranceBps: 0,
  expiryGraceMs: 3600_000,
  monitoringMs: 72 * 3600_000,
  latePayments: 'credit',
  creditMode: 'fixed',
  settledConfirmations: 6,
};

/** Forwarding settings close to the configuration's defaults, for a regtest chain. */
export const FORWARDING: ForwardingOptions = {
  feeTargetBlocks: 6,
  minFeeRate: 1,
  maxFeeRate: 50,
  fallbackFeeRate: 2,
  maxFeeShareBps: 1000,
  bumpAfterBlocks: 6,
  maxInputsPerSweep: 100,
  minConfirmations: 1,
  staleBuildSeconds: 600,
};

export interface MemoryFlows {
  chain: MemoryChainSource;
  repo: MemoryPaymentStore;
  ledger: MemoryLedgerStore;
  chainState: MemoryChainState;
  sweeps: MemorySweepStore;
  settlement: Settlement;
  watcher: PaymentWatcher;
  /** Present when the flows were asked to forward. */
  forwarder?: Forwarder;
  wallet: WalletAccount;
  /** A forwarder to `address` on the same stores and chain (another replica's, say). */
  forwarderTo(address: string): Forwarder;
  /** What settlement copied to the webhook outbox, in order. */
  webhooks: readonly EnqueuedWebhook[];
  /** The next `n` ledger credits fail (a ledger outage): the credit stays due. */
  failCredits(n: number): void;
  /** One watcher cycle; fails the test on a cycle error. */
  cycle(): Promise<CycleReport>;
  /** Stores an issued payment to the wallet's next receive address, created now at the tip. */
  issue(overrides?: Partial<IssuedPayment>): Promise<IssuedPayment>;
}

export interface MemoryFlowsOptions {
  policy?: Policy;
  now?: () => Date;
  /** Sweep credited coins to this address (sign mode). */
  forwardTo?: string;
  forwarding?: Partial<ForwardingOptions>;
}

/** A fresh hot wallet (regtest BIP84 account) and its private account node, for sign mode. */
function hotWallet() {
  const root = bip32.fromSeed(randomBytes(32), BITCOIN_NETWORKS.regtest);
  const account = root.derivePath("m/84'/1'/0'");
  const wallet = WalletAccount.fromConfig({
    network: 'regtest',
    xprv: account.toBase58(),
    masterFingerprint: Buffer.from(root.fingerprint).toString('hex'),
  });
  return { wallet, signer: account };
}

export function memoryFlows(options: MemoryFlowsOptions = {}): MemoryFlows {
  const now = options.now ?? (() => new Date());
  const log = pino({ level: 'silent' });
  const chain = new MemoryChainSource();
  chain.mine(3);
  const repo = new MemoryPaymentStore();
  const ledger = new MemoryLedgerStore(now);
  const chainState = new MemoryChainState();
  const sweeps = new MemorySweepStore(now);
  const { wallet, signer } = hotWallet();
  const makeForwarder = (address: string) =>
    new Forwarder({
      repo,
      sweeps,
      chain,
      wallet,
      signer,
      destination: { kind: 'address', address },
      settings: { ...FORWARDING, ...options.forwarding },
      log,
      now,
    });
  const forwarder = options.forwardTo === undefined ? undefined : makeForwarder(options.forwardTo);
  const outbox = new MemoryWebhookOutbox();
  let creditFailures = 0;
  const settlement = new Settlement({
    repo,
    ledger: {
      creditPayment(input) {
        if (creditFailures > 0) {
          creditFailures--;
          return Promise.reject(new Error('ledger unavailable (test)'));
        }
        return ledger.creditPayment(input);
      },
    },
    outbox,
    view: { publicUrl: 'http://checkout.test', merchantName: 'Test shop' },
    log,
    now,
  });
  const watcher = new PaymentWatcher({
    repo,
    chain,
    chainState,
    scan: {
      network: 'regtest',
      mempoolViewWindowMs: 10 * 60_000,
      mempoolNewPaymentMs: 10 * 60_000,
      intervalMs: 10_000,
    },
    settlement,
    ...(forwarder && { forwarder }),
    policy: options.policy ?? DEFAULT_POLICY,
    concurrency: 4,
    log,
    now,
  });
  let issued = 0;
  return {
    chain,
    repo,
    ledger,
    chainState,
    sweeps,
    settlement,
    watcher,
    ...(forwarder && { forwarder }),
    wallet,
    forwarderTo: makeForwarder,
    webhooks: outbox.events,
    failCredits(n) {
      creditFailures = n;
    },
    async cycle() {
      const report = await watcher.runCycle();
      if (report.errors !== 0) throw new Error(`watcher cycle had ${report.errors} errors`);
      return report;
    },
    async issue(overrides = {}) {
      const at = now();
      const index = issued++;
      const derived = wallet.receiveAddress(index);
      const payment = paymentFixture({
        _id: `pay_${index}_${Math.random().toString(36).slice(2, 8)}`,
        userId: `user_${index}`,
        version: 0,
        watching: true,
        createdAt: at,
        expiresAt: new Date(at.getTime() + 3600_000),
        createdAtHeight: chain.tipHeightNow,
        address: derived.address,
        derivation: {
          index,
          path: derived.path,
          scriptType: wallet.scriptType,
          accountFingerprint: wallet.accountFingerprint,
        },
        ...overrides,
      }) as IssuedPayment;
      await repo.insert(payment);
      return payment;
    },
  };
}
