/**
 * `satwatch rescan --from <height> [--to <height>]`: applies the best chain's blocks in the range
 * again through the watcher's own block-matching code. Idempotent (a block applied twice changes
 * nothing) and guarded like every watcher write, so it is safe beside a running daemon. It does
 * not move the scan position; it finds money the scan could not see (for example payments
 * restored into the database after their blocks were scanned).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.js';
import { createDaemon } from '../daemon.js';
import { UsageError } from './usage.js';

const LINE_EVERY = 100;
const BAR_WIDTH = 30;

function heightArg(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw new UsageError(`rescan: --${name} must be a block height (a whole number)`);
  return n;
}

/** A progress bar on a terminal, a line every 100 blocks otherwise (logs, CI). */
function progressReporter(from: number, to: number, tty: boolean) {
  const total = to - from + 1;
  let done = 0;
  let matched = 0;
  return {
    block(height: number, outputs: number) {
      done++;
      matched += outputs;
      if (tty) {
        const filled = Math.round((done / total) * BAR_WIDTH);
        process.stderr.write(
          `\r[${'#'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}] ${done}/${total} blocks, height ${height}, ${matched} outputs matched`,
        );
      } else if (done % LINE_EVERY === 0 || height === to) {
        console.log(
          `rescan: ${done}/${total} blocks, height ${height}, ${matched} outputs matched`,
        );
      }
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}

export async function rescan(args: string[]): Promise<number> {
  let values: { from?: string | undefined; to?: string | undefined };
  try {
    ({ values } = parseArgs({
      args,
      options: { from: { type: 'string' }, to: { type: 'string' } },
    }));
  } catch (err) {
    throw new UsageError(`rescan: ${(err as Error).message}`);
  }
  const from = heightArg('from', values.from);
  if (from === undefined) throw new UsageError('rescan: --from <height> is required');
  const toArg = heightArg('to', values.to);
  if (toArg !== undefined && toArg < from) throw new UsageError('rescan: --to is below --from');
  const config = loadConfig();
  const daemon = await createDaemon(config, { logger: { level: config.log.level } });
  try {
    const tip = await daemon.chain.tipHeight();
    const to = Math.min(toArg ?? tip, tip);
    if (from > to) {
      console.log(`rescan: nothing to do (the chain's tip is ${tip})`);
      return 0;
    }
    const progress = progressReporter(from, to, process.stderr.isTTY);
    const result = await daemon.watcher.rescan(from, to, (height, summary) => {
      progress.block(height, summary.matched.length);
    });
    progress.end();
    await daemon.settlement.creditDue();
    await daemon.settlement.publishOutbox();
    console.log(
      `rescan: ${result.blocks} blocks (${from}..${from + result.blocks - 1}), ${result.changed} payments updated`,
    );
    return 0;
  } finally {
    await daemon.close();
  }
}
