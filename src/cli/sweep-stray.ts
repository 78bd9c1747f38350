/** `satwatch sweep-stray`: sweeps coins on receive addresses that no payment accounts for. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { createDaemon } from '../daemon.js';
import { UsageError } from './usage.js';

export async function sweepStray(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'dry-run': { type: 'boolean' }, gap: { type: 'string' } },
  });
  const gap = Number(values.gap ?? 20);
  if (!Number.isInteger(gap) || gap < 0 || gap > 10_000)
    throw new UsageError('sweep-stray: --gap must be 0..10000');
  const config = loadConfig();
  const daemon = await createDaemon(config, { logger: { level: config.log.level } });
  try {
    if (!daemon.forwarder) throw new Error('sweep-stray: forwarding is off (forwarding.mode)');
    const { height } = await daemon.chain.tip();
    const stray = await daemon.forwarder.findStray(gap, daemon.counter, height);
    for (const coin of stray) {
      console.log(
        `${daemon.wallet.receiveAddress(coin.index).path}\t${coin.txid}:${coin.vout}\t${coin.valueSats} sats`,
      );
    }
    const total = stray.reduce((sum, coin) => sum + coin.valueSats, 0);
    console.log(`${stray.length} stray coins, ${total} sats`);
    if (values['dry-run'] || stray.length === 0) return 0;
    const { sweep, waiting } = await daemon.forwarder.sweepInputs(stray, true);
    if (!sweep) console.log(`not swept: ${waiting ?? 'unknown reason'}`);
    else if (sweep.state === 'awaiting_signature')
      console.log(`sweep ${sweep._id} awaits a signature (GET /v1/admin/sweeps/${sweep._id}/psbt)`);
    else
      console.log(`sweep ${sweep._id} ${sweep.state}: ${sweep.txid ?? ''} to ${sweep.destination}`);
    return 0;
  } finally {
    await daemon.close();
  }
}
