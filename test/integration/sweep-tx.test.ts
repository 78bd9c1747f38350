/**
 * Sweeps against real consensus: a wallet made here receives lab payments at its receive
 * addresses, and btcd (--rejectnonstd) must accept the sweeps src/forwarding/tx/ signs,
 * and their BIP125 replacements.
 */
import * as bitcoin from 'bitcoinjs-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type SweepInput,
  type SweepPlan,
  planReplacement,
  planSweep,
} from '../../src/forwarding/tx/plan.js';
import { buildSweepPsbt } from '../../src/forwarding/tx/psbt.js';
import { signSweep } from '../../src/forwarding/tx/sign.js';
import { dustThreshold } from '../../src/forwarding/tx/size.js';
import { acceptSignedSweep } from '../../src/forwarding/tx/verify.js';
import type { ScriptType } from '../../src/wallet/extended-key.js';
import { LabClient } from '../lab/client.js';
import { freshKey, voutPaying } from '../lab/keys.js';
import {
  REGTEST,
  type TestAccount,
  type TestWallet,
  freshDestination,
  hardwareSign,
  makeWallet,
} from '../support/sweep-wallet.js';

interface Utxo {
  txid: string;
  vout: number;
  value: number;
  status: { confirmed: boolean };
}

let lab: LabClient;
let wallet: TestWallet;
let nextIndex = 0;

beforeAll(() => {
  lab = LabClient.fromState();
  wallet = makeWallet();
});

/**
 * Pays each amount to a fresh receive address of `account` (of `scriptTypes[n]`, by default the
 * account's own), mines a block, and returns the coins as sweep inputs. The lab payer pays the
 * p2wpkh and p2sh-p2wpkh addresses itself; it cannot encode P2TR addresses (its process never
 * initialises bitcoinjs's ECC library), so taproot coins come through a relay key it pays.
 */
async function receive(
  account: TestAccount,
  amounts: number[],
  scriptTypes: ScriptType[] = amounts.map(() => account.scriptType),
): Promise<SweepInput[]> {
  const coins = amounts.map((sats, n) => {
    const index = nextIndex++;
    const scriptType = scriptTypes[n]!;
    return { sats, index, scriptType, address: account.address(index, scriptType) };
  });
  const direct = coins.filter((c) => c.scriptType !== 'p2tr');
  const taproot = coins.filter((c) => c.scriptType === 'p2tr');
  const relay = freshKey();
  const relayFee = 2_000;
  const relayValue = taproot.reduce((sum, c) => sum + c.sats, relayFee);
  const paid = await lab.payMany([
    ...direct.map(({ address, sats }) => ({ address, sats })),
    ...(taproot.length > 0 ? [{ address: relay.address, sats: relayValue }] : []),
  ]);
  const outpoints = new Map<string, { txid: string; vout: number }>();
  for (const c of direct) {
    outpoints.set(c.address, { txid: paid.txid, vout: voutPaying(paid.hex, c.address) });
  }
  if (taproot.length > 0) {
    const psbt = new bitcoin.Psbt({ network: REGTEST }).addInput({
      hash: paid.txid,
      index: voutPaying(paid.hex, relay.address),
      witnessUtxo: { script: relay.output, value: BigInt(relayValue) },
    });
    for (const c of taproot) psbt.addOutput({ address: c.address, value: BigInt(c.sats) });
    const tx = psbt.signAllInputs(relay.key).finalizeAllInputs().extractTransaction();
    const txid = await lab.rpc.call<string>('sendrawtransaction', tx.toHex());
    taproot.forEach((c, vout) => outpoints.set(c.address, { txid, vout }));
  }
  await lab.mine(1);
  return coins.map(({ sats, index, scriptType, address }) => ({
    ...outpoints.get(address)!,
    valueSats: sats,
    scriptType,
    index,
  }));
}

function signedSweep(account: TestAccount, plan: SweepPlan) {
  const psbt = buildSweepPsbt(plan, account.sweep, 'regtest');
  return signSweep(psbt, plan, account.node);
}

async function utxosOf(address: string): Promise<Utxo[]> {
  const res = await fetch(`${lab.esploraUrl}/address/${address}/utxo`);
  expect(res.status).toBe(200);
  return (await res.json()) as Utxo[];
}

async function inMempool(txid: string): Promise<boolean> {
  return (await lab.rpc.call<string[]>('getrawmempool')).includes(txid);
}

/** Broadcasts, mines one block and checks the destination holds exactly inputs − fee. */
async function sweepAndConfirm(account: TestAccount, inputs: SweepInput[], feeRate: number) {
  const destination = freshDestination();
  const plan = planSweep(inputs, destination, feeRate, 'regtest', 10_000);
  const signed = signedSweep(account, plan);
  expect(await lab.rpc.call<string>('sendrawtransaction', signed.hex)).toBe(signed.txid);
  await lab.mine(1);
  const total = inputs.reduce((sum, i) => sum + i.valueSats, 0);
  expect(await utxosOf(destination)).toEqual([
    {
      txid: signed.txid,
      vout: 0,
      value: total - plan.feeSats,
      status: expect.objectContaining({ confirmed: true }) as unknown,
    },
  ]);
  expect(signed.feeRate).toBeGreaterThanOrEqual(feeRate);
  return { plan, signed };
}

describe('sweeps on regtest', () => {
  it.each(['p2wpkh', 'p2sh-p2wpkh', 'p2tr'] as const)(
    'btcd accepts a sweep of three %s coins and the destination receives inputs minus fee',
    async (scriptType) => {
      const account = wallet.account(scriptType);
      const inputs = await receive(account, [15_000, 27_500, 101_234]);
      await sweepAndConfirm(account, inputs, 2);
    },
  );

  it('btcd accepts a batch of 20 coins mixing p2wpkh, p2sh-p2wpkh and p2tr at a fractional rate', async () => {
    // One account key, coins received at addresses of three script types (BIP86-style taproot
    // key-path spends next to ECDSA ones: the taproot sighash commits to every prevout).
    const account = wallet.account('p2wpkh');
    const types = ['p2wpkh', 'p2sh-p2wpkh', 'p2tr'] as const;
    const scriptTypes = Array.from({ length: 20 }, (_, n) => types[n % 3]!);
    const amounts = scriptTypes.map((_, n) => 10_000 + n * 1_111);
    const inputs = await receive(account, amounts, scriptTypes);
    const { plan, signed } = await sweepAndConfirm(account, inputs, 1.5);
    expect(plan.vsize).toBeGreaterThanOrEqual(signed.vsize);
    expect(plan.vsize - signed.vsize).toBeLessThanOrEqual(20);
  });

  it('btcd accepts a sweep at the minimum relay rate of 1 sat/vB', async () => {
    const account = wallet.account('p2tr');
    const inputs = await receive(account, [50_000]);
    await sweepAndConfirm(account, inputs, 1);
  });

  it('btcd accepts a BIP125 replacement while the first sweep is unconfirmed, and drops the first', async () => {
    const account = wallet.account('p2wpkh');
    const inputs = await receive(account, [40_000, 60_000]);
    const destination = freshDestination();
    const first = planSweep(inputs, destination, 1, 'regtest', 10_000);
    const firstSigned = signedSweep(account, first);
    await lab.rpc.call('sendrawtransaction', firstSigned.hex);
    expect(await inMempool(firstSigned.txid)).toBe(true);

    const bumped = planReplacement(first, 1, 'regtest');
    const bumpedSigned = signedSweep(account, bumped);
    expect(await lab.rpc.call<string>('sendrawtransaction', bumpedSigned.hex)).toBe(
      bumpedSigned.txid,
    );
    const mempool = await lab.rpc.call<string[]>('getrawmempool');
    expect(mempool).toContain(bumpedSigned.txid);
    expect(mempool).not.toContain(firstSigned.txid);

    await lab.mine(1);
    expect((await utxosOf(destination)).map((u) => [u.txid, u.value])).toEqual([
      [bumpedSigned.txid, 100_000 - bumped.feeSats],
    ]);
  });

  it('btcd refuses a replacement that pays less than the first sweep plus its own size', async () => {
    // The control for the test above: the rule is enforced, so passing it means something.
    const account = wallet.account('p2wpkh');
    const inputs = await receive(account, [40_000]);
    const destination = freshDestination();
    const first = planSweep(inputs, destination, 3, 'regtest', 10_000);
    const firstSigned = signedSweep(account, first);
    await lab.rpc.call('sendrawtransaction', firstSigned.hex);
    const cheap = {
      ...first,
      feeSats: first.feeSats + 1,
      valueOutSats: first.valueOutSats - 1,
    };
    const refused = await lab.rpc.call('sendrawtransaction', signedSweep(account, cheap).hex).then(
      () => 'accepted',
      (err: unknown) => String(err),
    );
    // BIP125 rules 3/4 (absolute fee) or btcd's fee-rate rule, whichever it checks first for these sizes.
    expect(refused).toMatch(/replacement transaction has an insufficient (absolute fee|fee rate)/);
    expect(await inMempool(firstSigned.txid)).toBe(true);
    await lab.mine(1);
  });

  it('btcd accepts a sweep signed elsewhere from the PSBT and checked by acceptSignedSweep', async () => {
    const account = wallet.account('p2tr');
    const inputs = await receive(account, [21_000, 22_000, 23_000], ['p2tr', 'p2wpkh', 'p2tr']);
    const destination = freshDestination();
    const plan = planSweep(inputs, destination, 2, 'regtest', 10_000);
    const psbt = buildSweepPsbt(plan, account.sweep, 'regtest');
    hardwareSign(psbt, wallet.root);
    const accepted = acceptSignedSweep(plan, psbt.toBase64(), 'regtest', account.sweep);
    expect(await lab.rpc.call<string>('sendrawtransaction', accepted.hex)).toBe(accepted.txid);
    await lab.mine(1);
    expect((await utxosOf(destination)).map((u) => [u.txid, u.value])).toEqual([
      [accepted.txid, 66_000 - plan.feeSats],
    ]);
  });

  it('btcd agrees with dustThreshold: one sat below is refused, the threshold itself accepted', async () => {
    const account = wallet.account('p2wpkh');
    // 404 sats − 110 sats of fee at 1 sat/vB = 294, P2WPKH's threshold.
    const inputs = await receive(account, [404]);
    const destination = freshDestination();
    const plan = planSweep(inputs, destination, 1, 'regtest', 10_000);
    expect(plan.valueOutSats).toBe(dustThreshold(destination, 'regtest'));
    const below = { ...plan, feeSats: plan.feeSats + 1, valueOutSats: plan.valueOutSats - 1 };
    const refused = await lab.rpc.call('sendrawtransaction', signedSweep(account, below).hex).then(
      () => 'accepted',
      (err: unknown) => String(err),
    );
    expect(refused).toMatch(/dust/);
    const signed = signedSweep(account, plan);
    expect(await lab.rpc.call<string>('sendrawtransaction', signed.hex)).toBe(signed.txid);
    await lab.mine(1);
  });
});
