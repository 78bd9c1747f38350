/**
 * `satwatch reconcile`: checks the money records against each other, straight in MongoDB (no
 * HTTP server, no watcher), safe beside a running daemon:
 *
 * - every user's balance against its ledger (`Ledger.reconcile()`: sum, gapless chain, last
 *   balanceAfter);
 * - every credited payment against its ledger entry: exactly one entry `credit:<paymentId>`,
 *   for the payment's user and the credited amount;
 * - every ledger credit naming a payment against that payment, which must be credited (a
 *   second credit for one payment, or a credit for an unknown payment, is a mismatch);
 * - ledger entries of users that have no balance document.
 *
 * A credit that is due (the watcher applies it on its next cycle, or a crash came between the
 * ledger entry and marking the payment) is reported as pending, not as a mismatch.
 *
 * With forwarding on, also the coins on our receive addresses (chain API, one request per
 * address, indexes 0 … highest issued + gap): coins no pending or finished sweep and no payment
 * still in the pipeline accounts for (stray money, coins a lost sweep stranded) are a mismatch,
 * with their sats; `satwatch sweep-stray` sweeps them.
 */
import { EsploraChainSource } from '../chain/esplora.js';
import { loadConfig } from '../config/config.js';
import { type CoinAudit, auditCoins } from '../forwarding/coin-audit.js';
import { type LedgerEntry, creditOpId } from '../ledger/ledger.js';
import { AddressCounter } from '../storage/address-counter.js';
import { type Database, connectMongo } from '../storage/mongo.js';
import { PaymentRepository } from '../storage/payments.js';
import { SweepRepository } from '../storage/sweeps.js';
import { WalletAccount } from '../wallet/account.js';
import { safeErrorText } from '../observability/timeout.js';
import { ReconcileRuns } from '../storage/reconcile-runs.js';
import { UsageError } from './usage.js';
import { Ledger } from '../storage/ledger.js';
import { type CreditedPayment, ReconcileReads } from '../storage/reconcile-reads.js';

type BalanceMismatch = Awaited<ReturnType<Ledger['reconcile']>>['mismatches'][number];

export interface CreditMismatch {
  paymentId: string;
  userId: string | undefined;
  problem: string;
}

export interface PendingCredit {
  paymentId: string;
  userId: string;
  credits: number;
  /** The ledger entry is already recorded (the payment is not marked done yet). */
  recorded: boolean;
}

export interface ReconcileReport {
  database: string;
  users: number;
  balanceMismatches: BalanceMismatch[];
  /** Users with ledger entries but no balance document. */
  orphanLedgerUsers: string[];
  creditedPayments: number;
  ledgerCredits: number;
  creditMismatches: CreditMismatch[];
  pendingCredits: PendingCredit[];
  /** Coins on our addresses (with forwarding on). */
  coins?: CoinAudit;
}

export { creditOpId };

/** What is wrong between a credited payment and the ledger entries recorded for it. */
export function checkCreditedPayment(payment: CreditedPayment, entries: LedgerEntry[]): string[] {
  const credit = payment.credit;
  if (credit?.state !== 'done') return [];
  if (credit.credits === 0) {
    // A payment worth 0 credits (proportional mode, dust) is marked done without an entry.
    return entries.length === 0
      ? []
      : [`credited 0 but has ${plural(entries.length, 'ledger entry', 'ledger entries')}`];
  }
  if (entries.length === 0) {
    return [`credited ${credit.credits} but has no ledger entry ${creditOpId(payment._id)}`];
  }
  if (entries.length > 1) {
    return [`has ${entries.length} ledger entries ${creditOpId(payment._id)} (one expected)`];
  }
  const entry = entries[0] as LedgerEntry;
  const problems: string[] = [];
  if (entry.userId !== payment.userId)
    problems.push(`ledger entry ${entry._id} is for user ${entry.userId}, not ${payment.userId}`);
  if (entry.type !== 'credit') problems.push(`ledger entry ${entry._id} is a ${entry.type}`);
  if (entry.amount !== credit.credits)
    problems.push(`credited ${credit.credits} but ledger entry ${entry._id} is ${entry.amount}`);
  if (entry.paymentId !== payment._id)
    problems.push(`ledger entry ${entry._id} names payment ${entry.paymentId ?? '(none)'}`);
  if (credit.entryId !== undefined && credit.entryId !== entry._id)
    problems.push(`records ledger entry ${credit.entryId} but the entry is ${entry._id}`);
  return problems;
}

export async function reconcileDatabase(db: Database): Promise<ReconcileReport> {
  const ledger = new Ledger(db);
  const reads = new ReconcileReads(db);
  const report: ReconcileReport = {
    database: db.databaseName,
    users: 0,
    balanceMismatches: [],
    orphanLedgerUsers: [],
    creditedPayments: 0,
    ledgerCredits: 0,
    creditMismatches: [],
    pendingCredits: [],
  };

  const balances = await ledger.reconcile();
  report.users = balances.users;
  report.balanceMismatches = balances.mismatches;

  const ledgerUsers = await reads.ledgerUserIds();
  const known = await reads.balanceUserIds();
  report.orphanLedgerUsers = ledgerUsers.filter((id) => !known.has(id)).sort();

  // Payments → ledger. Due credits are pending: note whether their entry exists already.
  for await (const batch of reads.creditedPayments()) {
    for (const { payment, entries: recorded } of batch) {
      if (payment.credit?.state === 'due') {
        report.pendingCredits.push({
          paymentId: payment._id,
          userId: payment.userId,
          credits: payment.credit.credits,
          recorded: recorded.length > 0,
        });
        continue;
      }
      report.creditedPayments++;
      for (const problem of checkCreditedPayment(payment, recorded)) {
        report.creditMismatches.push({ paymentId: payment._id, userId: payment.userId, problem });
      }
    }
  }

  // Ledger → payments: every credit naming a payment is that payment's one credit.
  for await (const batch of reads.paymentCredits()) {
    for (const { entry, payment } of batch) {
      report.ledgerCredits++;
      const paymentId = entry.paymentId;
      const mismatch = (problem: string) =>
        report.creditMismatches.push({ paymentId, userId: entry.userId, problem });
      if (entry.opId !== creditOpId(paymentId)) {
        mismatch(`ledger entry ${entry._id} (${entry.opId}) is a second credit for the payment`);
      } else if (!payment) {
        mismatch(`ledger entry ${entry._id} credits a payment that does not exist`);
      } else if (payment.credit?.state !== 'done' && payment.credit?.state !== 'due') {
        mismatch(`ledger entry ${entry._id} credits a payment that is not credited`);
      }
    }
  }
  return report;
}

export function isClean(report: ReconcileReport): boolean {
  return (
    report.balanceMismatches.length === 0 &&
    report.orphanLedgerUsers.length === 0 &&
    report.creditMismatches.length === 0 &&
    (report.coins?.unaccounted.length ?? 0) === 0
  );
}

export function mismatchCount(report: ReconcileReport): number {
  return (
    report.balanceMismatches.length +
    report.orphanLedgerUsers.length +
    report.creditMismatches.length
  );
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function formatReport(report: ReconcileReport): string {
  const lines = [`reconcile: database ${report.database}`];
  const balanceProblems = report.balanceMismatches.length + report.orphanLedgerUsers.length;
  lines.push(
    `  balances: ${plural(report.users, 'user')} checked, ${plural(balanceProblems, 'mismatch', 'mismatches')}`,
  );
  for (const m of report.balanceMismatches) {
    lines.push(
      `    MISMATCH user ${m.userId}: balance ${m.balance}, ledger sum ${m.ledgerSum} over ${plural(m.entries, 'entry', 'entries')} (seq ${m.seq})`,
    );
  }
  for (const userId of report.orphanLedgerUsers) {
    lines.push(`    MISMATCH user ${userId}: ledger entries but no balance document`);
  }
  const credited = plural(report.creditedPayments, 'credited payment');
  const ledgerCredits = plural(report.ledgerCredits, 'ledger credit');
  const creditProblems = plural(report.creditMismatches.length, 'mismatch', 'mismatches');
  lines.push(`  credits: ${credited} and ${ledgerCredits} checked, ${creditProblems}`);
  for (const m of report.creditMismatches) {
    lines.push(`    MISMATCH payment ${m.paymentId} (user ${m.userId ?? '?'}): ${m.problem}`);
  }
  if (report.pendingCredits.length > 0) {
    lines.push(
      `  pending: ${plural(report.pendingCredits.length, 'credit')} due (the watcher applies them on its next cycle)`,
    );
    for (const p of report.pendingCredits) {
      const recorded = p.recorded ? ', ledger entry already recorded' : '';
      lines.push(
        `    due payment ${p.paymentId} (user ${p.userId}): ${plural(p.credits, 'credit')}${recorded}`,
      );
    }
  }
  if (report.coins) lines.push(...formatCoins(report.coins));
  lines.push(
    isClean(report)
      ? 'OK: balances, ledger and payments agree'
      : 'MISMATCH: the records disagree (see above)',
  );
  return lines.join('\n');
}

function formatCoins(coins: CoinAudit): string[] {
  const sats = (list: { valueSats: number }[]) => list.reduce((sum, c) => sum + c.valueSats, 0);
  const lines = [
    `  coins: ${plural(coins.addressesScanned, 'address', 'addresses')} scanned; ` +
      `${sats(coins.inSweeps)} sats in sweeps, ${sats(coins.awaitingSweep)} sats awaiting a sweep, ` +
      `${sats(coins.unaccounted)} sats unaccounted`,
  ];
  for (const c of coins.unaccounted) {
    lines.push(
      `    MISMATCH coin ${c.txid}:${c.vout} (${c.valueSats} sats) on ${c.path} ${c.address}: ${c.note}; no sweep accounts for it (satwatch sweep-stray)`,
    );
  }
  return lines;
}

/** Exit code 0 when everything agrees, 2 on any mismatch; operational errors throw (→ 1). */
export async function reconcile(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const gapAt = args.indexOf('--gap');
  const gap = gapAt >= 0 ? Number(args[gapAt + 1]) : 20;
  const gapArgs = gapAt >= 0 ? [gapAt, gapAt + 1] : [];
  const unknown = args.filter((a, i) => a !== '--json' && !gapArgs.includes(i));
  if (unknown.length > 0) throw new UsageError(`reconcile: unknown option ${unknown.join(' ')}`);
  if (!Number.isInteger(gap) || gap < 0 || gap > 10_000)
    throw new UsageError('reconcile: --gap must be 0..10000');
  const config = loadConfig();
  const mongo = await connectMongo(config.mongo.url, config.mongo.database);
  try {
    const report = await reconcileDatabase(mongo.db);
    if (config.forwarding.mode !== 'off') {
      report.coins = await auditCoins(
        {
          wallet: WalletAccount.fromConfig({ network: config.network, ...config.wallet }),
          chain: EsploraChainSource.fromConfig(config),
          repo: new PaymentRepository(mongo.db),
          sweeps: new SweepRepository(mongo.db),
          counter: new AddressCounter(mongo.db),
        },
        gap,
      );
    }
    // For /metrics (satwatch_reconcile_mismatches): the daemon does not repeat this scan. A
    // read-only database user still gets the report; only the metric misses this run.
    await new ReconcileRuns(mongo.db)
      .record({
        at: new Date(),
        mismatches: mismatchCount(report),
        pendingCredits: report.pendingCredits.length,
        clean: isClean(report),
      })
      .catch((err: unknown) => {
        console.error(
          `reconcile: the outcome was not recorded for /metrics (${safeErrorText(err)})`,
        );
      });
    console.log(
      json ? JSON.stringify({ ...report, clean: isClean(report) }, null, 2) : formatReport(report),
    );
    return isClean(report) ? 0 : 2;
  } finally {
    await mongo.client.close();
  }
}
