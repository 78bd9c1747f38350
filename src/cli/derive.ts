/** `satwatch derive`: receive addresses, to check against the merchant's own wallet. */
import { loadConfig } from '../config/config.js';
import { WalletAccount } from '../wallet/account.js';
import { UsageError } from './usage.js';

export function derive(args: string[]): number {
  const from = Number(args[0] ?? 0);
  const count = Number(args[1] ?? 10);
  if (
    !Number.isInteger(from) ||
    from < 0 ||
    !Number.isInteger(count) ||
    count < 1 ||
    count > 10000
  ) {
    throw new UsageError('derive: <from-index> must be a whole number ≥ 0 and [count] 1..10000');
  }
  const config = loadConfig();
  const wallet = WalletAccount.fromConfig({ network: config.network, ...config.wallet });
  console.log(
    `# ${config.network} ${wallet.scriptType} account ${wallet.derivationPath}, receive chain`,
  );
  console.log(`# descriptor ${wallet.descriptor(0)}`);
  for (let i = from; i < from + count; i++) {
    const { path, address } = wallet.receiveAddress(i);
    console.log(`${path}\t${address}`);
  }
  return 0;
}
