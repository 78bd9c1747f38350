/** Shared steps of the forwarding tests on the lab: daemons that sweep, paid payments, chain views. */
import { expect } from 'vitest';
import type { DaemonOptions } from '../../src/daemon.js';
import type { Sweep } from '../../src/forwarding/sweep.js';
import type { LabClient } from '../lab/client.js';
import { freshKey } from '../lab/keys.js';
import { type TestDaemon, newTestWallet, startTestDaemon } from './daemon.js';

export const DEFAULT_FEES = { '1': 20, '3': 8, '6': 3.5, '144': 1 };

/** A daemon that sweeps (sign mode by default) to a fresh cold address of the test's own. */
export async function forwardingDaemon(
  env: Record<string, string> = {},
  options: DaemonOptions = {},
): Promise<TestDaemon & { cold: string }> {
  const wallet = newTestWallet();
  const cold = freshKey().address;
  const psbt = env.SATWATCH_FORWARDING_MODE === 'psbt';
  const d = await startTestDaemon(
    {
      ...(psbt
        ? { SATWATCH_WALLET_MASTER_FINGERPRINT: wallet.masterFingerprint }
        : { SATWATCH_WALLET_XPRV: wallet.tprv, SATWATCH_FORWARDING_MODE: 'sign' }),
      ...(env.SATWATCH_FORWARDING_COLD_XPUB === undefined && {
        SATWATCH_FORWARDING_COLD_ADDRESS: cold,
      }),
      SATWATCH_FORWARDING_MIN_FEE_RATE: '1',
      SATWATCH_FORWARDING_MAX_FEE_RATE: '50',
      SATWATCH_RATE_LIMIT_CREATE_PER_MINUTE: '100000',
      ...env,
    },
    options,
    wallet,
  );
  return Object.assign(d, { cold });
}

export interface MadePayment {
  id: string;
  address: string;
  amountSats: number;
}

/** Creates payments of `amounts` sats, pays `paid[i]` (default: the amount) to each, mines `confirm`. */
export async function paidPayments(
  lab: LabClient,
  d: TestDaemon,
  amounts: number[],
  options: { confirm?: number; paid?: number[] } = {},
): Promise<MadePayment[]> {
  const made: MadePayment[] = [];
  for (const [i, sats] of amounts.entries()) {
    const res = await d.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: d.merchant,
      payload: {
        userId: `fwd-${i % 4}`,
        price: { amount: String(sats), currency: 'SAT' },
        credits: 1,
      },
    });
    expect(res.statusCode).toBe(201);
    made.push(res.json());
  }
  await lab.payMany(
    made.map((p, i) => ({ address: p.address, sats: options.paid?.[i] ?? amounts[i]! })),
  );
  const confirm = options.confirm ?? 3;
  if (confirm > 0) await lab.mine(confirm);
  return made;
}

/**
 * The forwarder's cycle as a new block would run it: sweeps are tracked (and bumped) only when
 * blocks move, and btcd would mine a stuck sweep in any block the lab makes.
 */
export async function cycleAtNewBlock(lab: LabClient, d: Pick<TestDaemon, 'forwarder'>) {
  if (!d.forwarder) throw new Error('forwarding is off');
  return d.forwarder.runCycle(await lab.tipHeight(), { newBlock: true });
}

export function allSweeps(d: Pick<TestDaemon, 'mongo'>): Promise<Sweep[]> {
  return d.mongo.db.collection<Sweep>('sweeps').find({}).sort({ createdAt: 1 }).toArray();
}

export interface Utxo {
  txid: string;
  vout: number;
  value: number;
  status: { confirmed: boolean };
}

export async function utxosOf(lab: LabClient, address: string): Promise<Utxo[]> {
  return (await fetch(`${lab.esploraUrl}/address/${address}/utxo`)).json() as Promise<Utxo[]>;
}

export async function mempoolHas(lab: LabClient, txid: string): Promise<boolean> {
  return (await lab.rpc.call<string[]>('getrawmempool')).includes(txid);
}
