/**
 * `satwatch wallet export` and `satwatch wallet gaps`: the receiving wallet as other software
 * sees it. Both read MongoDB directly (no HTTP server, no watcher), safe beside a running daemon.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { type Database, connectMongo } from '../storage/mongo.js';
import { type HotAddress, WalletUsage } from '../storage/wallet-usage.js';
import { WalletAccount } from '../wallet/account.js';
import { type GapReport, gapReport } from '../wallet/gap-limit.js';
import { watchOnlyExport } from '../wallet/watch-only-export.js';
import { UsageError } from './usage.js';

const DEFAULT_MARGIN = 20;

export interface WalletGaps {
  account: string;
  scriptType: string;
  descriptor: string;
  gaps: GapReport;
  hotAddresses: HotAddress[];
  hotSats: number;
}

export async function walletGaps(db: Database, wallet: WalletAccount): Promise<WalletGaps> {
  const usage = new WalletUsage(db);
  const fingerprint = wallet.accountFingerprint;
  const gaps = gapReport(await usage.issued(fingerprint), await usage.usedIndexes(fingerprint));
  const hotAddresses: HotAddress[] = [];
  for await (const hot of usage.hotAddresses(fingerprint)) hotAddresses.push(hot);
  hotAddresses.sort((a, b) => a.index - b.index);
  return {
    account: wallet.derivationPath,
    scriptType: wallet.scriptType,
    descriptor: wallet.descriptor(0),
    gaps,
    hotAddresses,
    hotSats: hotAddresses.reduce((sum, h) => sum + h.sats, 0),
  };
}

export function formatGaps(report: WalletGaps): string {
  const { gaps } = report;
  const lines = [
    `wallet ${report.account} (${report.scriptType}): ${gaps.issued} addresses issued, ${gaps.used} used`,
    `  longest run of unused addresses before a used one: ${gaps.longestUnusedRun}` +
      (gaps.longestRunStart === undefined
        ? ''
        : ` (indexes ${gaps.longestRunStart}–${gaps.longestRunStart + gaps.longestUnusedRun - 1})`),
    `  unused addresses after the last used one: ${gaps.trailingUnused}`,
    `  gap limit to see every coin recorded: ${gaps.requiredGapLimit}`,
    `  gap limit to also watch every issued address: ${gaps.gapLimitForIssued}`,
    `hot addresses still holding coins (not swept): ${report.hotAddresses.length}, ${report.hotSats} sats`,
  ];
  for (const hot of report.hotAddresses) {
    lines.push(
      `  ${hot.path}\t${hot.address}\tpayment ${hot.paymentId}\t${hot.outputs.length} outputs\t${hot.sats} sats`,
    );
  }
  return lines.join('\n');
}

async function withDatabase<T>(
  work: (db: Database, wallet: WalletAccount) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const wallet = WalletAccount.fromConfig({ network: config.network, ...config.wallet });
  const mongo = await connectMongo(config.mongo.url, config.mongo.database);
  try {
    return await work(mongo.db, wallet);
  } finally {
    await mongo.client.close();
  }
}

async function exportCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { margin: { type: 'string' }, json: { type: 'boolean' } },
  });
  const margin = Number(values.margin ?? DEFAULT_MARGIN);
  if (!Number.isInteger(margin) || margin < 1 || margin > 100_000)
    throw new UsageError('wallet export: --margin must be 1..100000');
  const { exported, wallet } = await withDatabase(async (db, wallet) => {
    const usage = new WalletUsage(db);
    const fingerprint = wallet.accountFingerprint;
    const gaps = gapReport(await usage.issued(fingerprint), await usage.usedIndexes(fingerprint));
    return {
      wallet,
      exported: watchOnlyExport(wallet, gaps, margin, await usage.firstPaymentAt(fingerprint)),
    };
  });
  const json = JSON.stringify(exported.requests, null, 2);
  if (values.json) {
    console.log(json);
    return 0;
  }
  const [receive] = exported.requests;
  console.log(
    [
      '# Bitcoin Core: a watch-only descriptor wallet, then import (the JSON below as one argument):',
      '#   bitcoin-cli -named createwallet wallet_name=satwatch disable_private_keys=true blank=true',
      "#   bitcoin-cli -rpcwallet=satwatch importdescriptors '<JSON>'",
      json,
      '',
      `# Sparrow: File → New Wallet; Script Type ${wallet.scriptType}; in Settings, Edit the descriptor`,
      '# and paste the receive descriptor (Sparrow adds the change chain itself):',
      `#   ${receive?.desc ?? ''}`,
      `# then Settings → Advanced → Gap Limit: ${exported.gapLimit} (watches every issued address;`,
      '# with less, Sparrow stops before later payments). Re-run this as more payments are made.',
    ].join('\n'),
  );
  if (wallet.masterFingerprint === undefined) {
    console.log(
      '# Note: the key origin is missing (set wallet.masterFingerprint and wallet.derivationPath)',
    );
  }
  return 0;
}

async function gapsCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } } });
  const report = await withDatabase(walletGaps);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatGaps(report));
  return 0;
}

export function walletCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'export') return exportCommand(rest);
  if (sub === 'gaps') return gapsCommand(rest);
  throw new UsageError('wallet: the subcommand is "export" or "gaps"');
}
