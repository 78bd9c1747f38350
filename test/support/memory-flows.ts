/**
 * The watcher's flows wired on in-memory parts, as src/daemon.ts wires them on MongoDB and
 * Esplora: the memory chain source, payment store, ledger and chain state (each passes the
 * contract suite its real counterpart passes), the real watcher and settlement. No lab, no
 * timers: a test moves the chain and runs cycles itself.
 */
import { pino } from 'pino';
import type { WebhookEventType } from '../../src/webhooks/outbox.js';
import type { IssuedPayment } from '../../src/payments/payment.js';
import type { Policy } from '../../src/payments/state-machine.js';
import { Settlement } from '../../src/settlement/settlement.js';
import { type CycleReport, PaymentWatcher } from '../../src/watcher/payment-watcher.js';
import { freshKey } from '../lab/keys.js';
import { MemoryChainSource } from './memory-chain-source.js';
import { MemoryChainState } from './memory-chain-state.js';
import { MemoryLedgerStore } from './memory-ledger-store.js';
import { MemoryPaymentStore } from './memory-payment-store.js';
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

/** What settlement copied to the webhook outbox, in order. */
export interface EnqueuedWebhook {
  id: string;
  type: WebhookEventType;
  paymentId?: string;
}

export interface MemoryFlows {
  chain: MemoryChainSource;
  repo: MemoryPaymentStore;
  ledger: MemoryLedgerStore;
  chainState: MemoryChainState;
  settlement: Settlement;
  watcher: PaymentWatcher;
  webhooks: EnqueuedWebhook[];
  /** The next `n` ledger credits fail (a ledger outage): the credit stays due. */
  failCredits(n: number): void;
  /** One watcher cycle; fails the test on a cycle error. */
  cycle(): Promise<CycleReport>;
  /** Stores an issued payment to a fresh address, created now at the chain's tip. */
  issue(overrides?: Partial<IssuedPayment>): Promise<IssuedPayment>;
}

export function memoryFlows(options: { policy?: Policy; now?: () => Date } = {}): MemoryFlows {
  const now = options.now ?? (() => new Date());
  const log = pino({ level: 'silent' });
  const chain = new MemoryChainSource();
  chain.mine(3);
  const repo = new MemoryPaymentStore();
  const ledger = new MemoryLedgerStore(now);
  const chainState = new MemoryChainState();
  const webhooks: EnqueuedWebhook[] = [];
  const outbox = {
    enqueue(event: EnqueuedWebhook & { data: unknown }): Promise<boolean> {
      if (webhooks.some((w) => w.id === event.id)) return Promise.resolve(false);
      webhooks.push({
        id: event.id,
        type: event.type,
        ...(event.paymentId !== undefined && { paymentId: event.paymentId }),
      });
      return Promise.resolve(true);
    },
  };
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
    settlement,
    watcher,
    webhooks,
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
      const payment = paymentFixture({
        _id: `pay_${index}_${Math.random().toString(36).slice(2, 8)}`,
        userId: `user_${index}`,
        version: 0,
        watching: true,
        createdAt: at,
        expiresAt: new Date(at.getTime() + 3600_000),
        createdAtHeight: chain.tipHeightNow,
        address: freshKey().address,
        derivation: {
          index,
          path: `m/84'/1'/0'/0/${index}`,
          scriptType: 'p2wpkh',
          accountFingerprint: '0badf00d',
        },
        ...overrides,
      }) as IssuedPayment;
      await repo.insert(payment);
      return payment;
    },
  };
}
