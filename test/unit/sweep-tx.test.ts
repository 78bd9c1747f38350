import * as bitcoin from 'bitcoinjs-lib';
import * as ecc from 'tiny-secp256k1';
import { describe, expect, it } from 'vitest';
import { chooseFeeRate } from '../../src/forwarding/tx/fee-rate.js';
import {
  type SweepInput,
  type SweepPlan,
  planReplacement,
  planSweep,
} from '../../src/forwarding/tx/plan.js';
import { SEQUENCE_RBF, buildSweepPsbt } from '../../src/forwarding/tx/psbt.js';
import { signSweep } from '../../src/forwarding/tx/sign.js';
import { dustThreshold, estimateVsize } from '../../src/forwarding/tx/size.js';
import { SweepError } from '../../src/forwarding/tx/sweep-error.js';
import { acceptSignedSweep } from '../../src/forwarding/tx/verify.js';
import { bip32, type ScriptType } from '../../src/wallet/extended-key.js';
import {
  REGTEST,
  fakeTxid,
  hardwareSign,
  makeWallet,
  signaturesValid,
} from '../support/sweep-wallet.js';

const wallet = makeWallet(Buffer.alloc(32, 7));
const other = makeWallet(Buffer.alloc(32, 8));
const coldKey = bip32.fromSeed(Buffer.alloc(32, 9), REGTEST).publicKey;
const destination = bitcoin.payments.p2wpkh({ pubkey: coldKey, network: REGTEST }).address!;
const SEGWIT_TYPES = ['p2wpkh', 'p2sh-p2wpkh', 'p2tr'] as const;
const ALL_BPS = 10_000;

/** `values.length` inputs of `scriptType` at receive indexes first, first+1, … with fake outpoints. */
function inputsOf(scriptType: ScriptType, values: number[], first = 0): SweepInput[] {
  return values.map((valueSats, n) => ({
    txid: fakeTxid(`${scriptType}:${first + n}`),
    vout: n % 3,
    valueSats,
    scriptType,
    index: first + n,
  }));
}

function planOf(inputs: SweepInput[], feeRate = 2, to = destination): SweepPlan {
  return planSweep(inputs, to, feeRate, 'regtest', ALL_BPS);
}

/** The account that owns the inputs: the one of the first input's script type. */
function accountFor(plan: SweepPlan, scriptType = plan.inputs[0]!.scriptType) {
  return wallet.account(scriptType);
}

function build(plan: SweepPlan, scriptType?: ScriptType) {
  return buildSweepPsbt(plan, accountFor(plan, scriptType).sweep, 'regtest');
}

function prevoutsOf(psbt: bitcoin.Psbt) {
  return psbt.data.inputs.map((input) => input.witnessUtxo!);
}

/** Signed the way a hardware wallet would, from the PSBT's BIP32 origins; not finalized. */
function hardwareSigned(plan: SweepPlan, scriptType?: ScriptType): bitcoin.Psbt {
  const psbt = build(plan, scriptType);
  hardwareSign(psbt, wallet.root);
  return psbt;
}

function rejection(fn: () => unknown): SweepError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SweepError) return err;
    throw err;
  }
  throw new Error('expected a SweepError');
}

describe('chooseFeeRate', () => {
  const bounds = { min: 1, max: 100, fallback: 5 };
  const estimates = { '1': 40, '3': 20, '6': 10, '144': 2 };

  it('uses the estimate for the requested target when it exists', () => {
    expect(chooseFeeRate(estimates, 3, bounds)).toBe(20);
  });

  it('uses the smallest target above the requested one when the requested one is missing', () => {
    expect(chooseFeeRate(estimates, 4, bounds)).toBe(10);
  });

  it('uses the largest target below when no target is as large as requested', () => {
    expect(chooseFeeRate(estimates, 500, bounds)).toBe(2);
  });

  it('clamps a high estimate to the maximum', () => {
    expect(chooseFeeRate(estimates, 1, { ...bounds, max: 25 })).toBe(25);
  });

  it('clamps a low estimate to the minimum', () => {
    expect(chooseFeeRate(estimates, 144, { ...bounds, min: 3 })).toBe(3);
  });

  it('keeps fractional rates', () => {
    expect(chooseFeeRate({ '2': 1.512 }, 2, bounds)).toBe(1.512);
  });

  it('uses the fallback when the map is empty', () => {
    expect(chooseFeeRate({}, 6, bounds)).toBe(5);
  });

  it('clamps the fallback too', () => {
    expect(chooseFeeRate({}, 6, { min: 8, max: 100, fallback: 5 })).toBe(8);
  });

  it('ignores entries that are not a positive target and rate', () => {
    expect(chooseFeeRate({ abc: 50, '0': 60, '2': Number.NaN, '4': -1, '5': 7 }, 1, bounds)).toBe(
      7,
    );
  });
});

describe('dustThreshold', () => {
  const pubkey = coldKey;
  const network = REGTEST;
  const p2wpkh = bitcoin.payments.p2wpkh({ pubkey, network });
  const addresses: [string, string, number][] = [
    ['P2WPKH', p2wpkh.address!, 294],
    [
      'P2TR',
      bitcoin.payments.p2tr({ internalPubkey: pubkey.subarray(1, 33), network }).address!,
      330,
    ],
    [
      'P2WSH',
      bitcoin.payments.p2wsh({ redeem: bitcoin.payments.p2pk({ pubkey, network }), network })
        .address!,
      330,
    ],
    ['P2SH', bitcoin.payments.p2sh({ redeem: p2wpkh, network }).address!, 540],
    ['P2PKH', bitcoin.payments.p2pkh({ pubkey, network }).address!, 546],
  ];

  it.each(addresses)('is Bitcoin Core’s threshold for a %s destination', (_, address, dust) => {
    expect(dustThreshold(address, 'regtest')).toBe(dust);
  });

  it('refuses an address of another network', () => {
    const mainnet = bitcoin.payments.p2wpkh({ pubkey, network: bitcoin.networks.bitcoin });
    expect(() => dustThreshold(mainnet.address!, 'regtest')).toThrow(RangeError);
  });
});

describe('estimateVsize', () => {
  it('matches the well-known 110 vB of a one-input one-output P2WPKH spend', () => {
    expect(estimateVsize([{ scriptType: 'p2wpkh' }], destination, 'regtest')).toBe(110);
  });

  it('sizes the output by the destination script (a P2TR output is 12 vB more than P2WPKH)', () => {
    const p2tr = bitcoin.payments.p2tr({
      internalPubkey: coldKey.subarray(1, 33),
      network: REGTEST,
    }).address!;
    const inputs = [{ scriptType: 'p2wpkh' as const }];
    expect(
      estimateVsize(inputs, p2tr, 'regtest') - estimateVsize(inputs, destination, 'regtest'),
    ).toBe(12);
  });

  describe.each(SEGWIT_TYPES)('for %s inputs', (scriptType) => {
    it.each([1, 3, 20])(
      'is an upper bound within 1 vB per input of the signed size with %i inputs',
      (n) => {
        const plan = planOf(inputsOf(scriptType, Array<number>(n).fill(100_000)));
        const signed = signSweep(build(plan), plan, accountFor(plan).node);
        expect(plan.vsize).toBeGreaterThanOrEqual(signed.vsize);
        expect(plan.vsize - signed.vsize).toBeLessThanOrEqual(n);
      },
    );

    it('stays an upper bound for signatures without low-R grinding (hardware wallets)', () => {
      const n = 40;
      const plan = planOf(inputsOf(scriptType, Array<number>(n).fill(100_000), 1000));
      const psbt = hardwareSigned(plan);
      psbt.finalizeAllInputs();
      const vsize = psbt.extractTransaction(true).virtualSize();
      expect(plan.vsize).toBeGreaterThanOrEqual(vsize);
      expect(plan.vsize - vsize).toBeLessThanOrEqual(n);
    });
  });

  it('is an upper bound within 1 vB per input for a batch mixing all three script types', () => {
    const inputs = [
      ...inputsOf('p2wpkh', [50_000, 60_000]),
      ...inputsOf('p2sh-p2wpkh', [70_000], 10),
      ...inputsOf('p2tr', [80_000, 90_000], 20),
    ];
    const plan = planOf(inputs);
    const signed = signSweep(build(plan, 'p2wpkh'), plan, wallet.account('p2wpkh').node);
    expect(plan.vsize).toBeGreaterThanOrEqual(signed.vsize);
    expect(plan.vsize - signed.vsize).toBeLessThanOrEqual(inputs.length);
  });

  it('stays an upper bound past 252 inputs, where the input count takes 3 bytes', () => {
    const plan = planOf(inputsOf('p2tr', Array<number>(253).fill(10_000)));
    const signed = signSweep(build(plan), plan, accountFor(plan).node);
    expect(plan.vsize).toBeGreaterThanOrEqual(signed.vsize);
    expect(plan.vsize - signed.vsize).toBeLessThanOrEqual(253);
  });
});

describe('planSweep', () => {
  it('charges ceil(vsize × feeRate) and pays the rest to the destination', () => {
    const plan = planOf(inputsOf('p2wpkh', [100_000]), 1.5);
    expect(plan.vsize).toBe(110);
    expect(plan.feeSats).toBe(165);
    expect(plan.valueOutSats).toBe(100_000 - 165);
  });

  it('rounds a fractional fee up to the next sat', () => {
    expect(planOf(inputsOf('p2wpkh', [100_000]), 1.01).feeSats).toBe(112); // 111.1
  });

  it('does not round up a fee that is a whole number of sats (110 vB × 1.1 sat/vB = 121)', () => {
    expect(planOf(inputsOf('p2wpkh', [100_000]), 1.1).feeSats).toBe(121);
  });

  it('refuses an empty list of inputs', () => {
    expect(rejection(() => planOf([])).reason).toBe('no-inputs');
  });

  it('refuses a sweep whose output would be below the dust threshold', () => {
    // 1 vB/sat × 110 vB leaves 293 sats, one below P2WPKH's 294.
    expect(rejection(() => planOf(inputsOf('p2wpkh', [403]), 1)).reason).toBe('dust');
  });

  it('accepts an output of exactly the dust threshold', () => {
    expect(planOf(inputsOf('p2wpkh', [404]), 1).valueOutSats).toBe(294);
  });

  it('refuses a sweep whose fee is more than the allowed share of its value', () => {
    const inputs = inputsOf('p2wpkh', [10_000]); // 220 sats at 2 sat/vB = 2.2 %
    const err = rejection(() => planSweep(inputs, destination, 2, 'regtest', 219));
    expect(err.reason).toBe('uneconomic');
  });

  it('accepts a fee of exactly the allowed share', () => {
    const inputs = inputsOf('p2wpkh', [10_000]);
    expect(planSweep(inputs, destination, 2, 'regtest', 220).feeSats).toBe(220);
  });

  it('refuses a sweep too large for a node to relay (over 100 000 vB)', () => {
    expect(() => planOf(inputsOf('p2wpkh', Array<number>(1500).fill(10_000)))).toThrow(
      /over the 100000 vB a node relays/,
    );
  });

  it('refuses an input listed twice', () => {
    const [input] = inputsOf('p2wpkh', [10_000]);
    expect(() => planOf([input!, { ...input! }])).toThrow(RangeError);
  });
});

describe('buildSweepPsbt', () => {
  const mixed = () =>
    planOf([
      ...inputsOf('p2wpkh', [50_000], 3),
      ...inputsOf('p2sh-p2wpkh', [60_000], 4),
      ...inputsOf('p2tr', [70_000], 5),
    ]);

  it('signals BIP125 replaceability on every input', () => {
    const psbt = build(mixed(), 'p2wpkh');
    expect(psbt.txInputs.map((i) => i.sequence)).toEqual([
      SEQUENCE_RBF,
      SEQUENCE_RBF,
      SEQUENCE_RBF,
    ]);
    expect(SEQUENCE_RBF).toBe(0xfffffffd);
  });

  it('pays the planned value to the destination in its only output', () => {
    const plan = mixed();
    const psbt = build(plan, 'p2wpkh');
    expect(psbt.txOutputs.map((o) => [o.address, o.value])).toEqual([
      [destination, BigInt(plan.valueOutSats)],
    ]);
  });

  it.each(SEGWIT_TYPES)(
    'spends %s coins at the addresses the daemon derived, with their values',
    (scriptType) => {
      const account = wallet.account(scriptType);
      const plan = planOf(inputsOf(scriptType, [11_000, 12_000], 7));
      const utxos = prevoutsOf(build(plan));
      expect(utxos.map((u) => bitcoin.address.fromOutputScript(u.script, REGTEST))).toEqual([
        account.address(7),
        account.address(8),
      ]);
      expect(utxos.map((u) => u.value)).toEqual([11_000n, 12_000n]);
    },
  );

  it.each(['p2wpkh', 'p2sh-p2wpkh'] as const)(
    'gives %s inputs a bip32Derivation with the master fingerprint and the full path',
    (scriptType) => {
      const account = wallet.account(scriptType);
      const plan = planOf(inputsOf(scriptType, [11_000], 9));
      const [origin] = build(plan).data.inputs[0]!.bip32Derivation!;
      expect(Buffer.from(origin!.masterFingerprint).toString('hex')).toBe(wallet.fingerprint);
      expect(origin!.path).toBe(`${account.path}/0/9`);
      expect(Buffer.from(origin!.pubkey)).toEqual(
        Buffer.from(wallet.root.derivePath(`${account.path}/0/9`).publicKey),
      );
    },
  );

  it('gives p2sh-p2wpkh inputs the redeem script', () => {
    const plan = planOf(inputsOf('p2sh-p2wpkh', [11_000], 2));
    const pubkey = wallet.account('p2sh-p2wpkh').node.derive(0).derive(2).publicKey;
    expect(Buffer.from(build(plan).data.inputs[0]!.redeemScript!)).toEqual(
      Buffer.from(bitcoin.payments.p2wpkh({ pubkey }).output!),
    );
  });

  it('gives p2tr inputs the internal key and a tapBip32Derivation with fingerprint and path', () => {
    const account = wallet.account('p2tr');
    const plan = planOf(inputsOf('p2tr', [11_000], 4));
    const input = build(plan).data.inputs[0]!;
    const xonly = Buffer.from(account.node.derive(0).derive(4).publicKey.subarray(1, 33));
    expect(Buffer.from(input.tapInternalKey!)).toEqual(xonly);
    const [origin] = input.tapBip32Derivation!;
    expect(Buffer.from(origin!.masterFingerprint).toString('hex')).toBe(wallet.fingerprint);
    expect(origin!.path).toBe(`${account.path}/0/4`);
    expect(Buffer.from(origin!.pubkey)).toEqual(xonly);
    expect(origin!.leafHashes).toEqual([]);
  });

  it('leaves out the BIP32 origins when the master fingerprint is unknown', () => {
    const plan = mixed();
    const anonymous = { ...wallet.account('p2wpkh').sweep, masterFingerprint: undefined };
    const inputs = buildSweepPsbt(plan, anonymous, 'regtest').data.inputs;
    expect(inputs.map((i) => [i.bip32Derivation, i.tapBip32Derivation])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
    ]);
  });

  it('lets a signer holding only the master key sign every input, with valid signatures', () => {
    const psbt = hardwareSigned(planOf(inputsOf('p2wpkh', [11_000, 12_000, 13_000])));
    expect(
      psbt.validateSignaturesOfAllInputs((pubkey, hash, signature) =>
        ecc.verify(hash, pubkey, signature),
      ),
    ).toBe(true);
  });

  it('lets a signer holding only the master key sign taproot inputs, with valid signatures', () => {
    const psbt = hardwareSigned(planOf(inputsOf('p2tr', [11_000, 12_000])));
    expect(
      psbt.validateSignaturesOfAllInputs((pubkey, hash, signature) =>
        ecc.verifySchnorr(hash, pubkey, signature),
      ),
    ).toBe(true);
  });

  it('refuses p2pkh inputs, which need the whole previous transaction', () => {
    const plan = planOf(inputsOf('p2pkh', [50_000]));
    expect(rejection(() => build(plan)).reason).toBe('unsupported-script');
  });
});

describe('signSweep', () => {
  it.each(SEGWIT_TYPES)('produces valid signatures for %s inputs', (scriptType) => {
    const plan = planOf(inputsOf(scriptType, [30_000, 40_000]));
    const psbt = build(plan);
    const signed = signSweep(psbt, plan, accountFor(plan).node);
    expect(signaturesValid(bitcoin.Transaction.fromHex(signed.hex), prevoutsOf(psbt))).toBe(true);
  });

  it('produces valid signatures for a batch mixing all three script types', () => {
    const plan = planOf([
      ...inputsOf('p2tr', [10_000], 30),
      ...inputsOf('p2wpkh', [20_000], 31),
      ...inputsOf('p2sh-p2wpkh', [30_000], 32),
      ...inputsOf('p2tr', [40_000], 33),
    ]);
    const psbt = build(plan, 'p2tr');
    const signed = signSweep(psbt, plan, wallet.account('p2tr').node);
    expect(signaturesValid(bitcoin.Transaction.fromHex(signed.hex), prevoutsOf(psbt))).toBe(true);
  });

  it('pays at least the requested fee rate, and exactly the planned fee', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000, 40_000, 50_000]), 3.7);
    const signed = signSweep(build(plan), plan, accountFor(plan).node);
    const tx = bitcoin.Transaction.fromHex(signed.hex);
    expect(120_000 - Number(tx.outs[0]!.value)).toBe(plan.feeSats);
    expect(signed.feeRate).toBeGreaterThanOrEqual(3.7);
    expect(signed.vsize).toBe(tx.virtualSize());
    expect(signed.txid).toBe(tx.getId());
  });

  it('leaves the PSBT it was given unsigned', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const psbt = build(plan);
    const before = psbt.toBase64();
    signSweep(psbt, plan, accountFor(plan).node);
    expect(psbt.toBase64()).toBe(before);
  });

  it('refuses the key of another account', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const err = rejection(() => signSweep(build(plan), plan, other.account('p2wpkh').node));
    expect(err.reason).toBe('mismatch');
  });

  it('refuses a PSBT whose output differs from the plan', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const psbt = build({ ...plan, feeSats: plan.feeSats + 1, valueOutSats: plan.valueOutSats - 1 });
    expect(rejection(() => signSweep(psbt, plan, accountFor(plan).node)).reason).toBe('mismatch');
  });

  it('keeps the private key out of its errors', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const key = other.account('p2wpkh').node;
    const err = rejection(() => signSweep(build(plan), plan, key));
    const text = `${err.message}\n${err.stack ?? ''}\n${JSON.stringify(err)}`;
    const child = key.derive(0).derive(0);
    for (const secret of [
      key.toBase58(),
      Buffer.from(key.privateKey!).toString('hex'),
      Buffer.from(child.privateKey!).toString('hex'),
      child.toWIF(),
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('refuses a public node', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    expect(() => signSweep(build(plan), plan, accountFor(plan).sweep.publicNode)).toThrow(
      RangeError,
    );
  });
});

describe('acceptSignedSweep', () => {
  it.each(SEGWIT_TYPES)('accepts a %s PSBT signed elsewhere and finalizes it', (scriptType) => {
    const plan = planOf(inputsOf(scriptType, [30_000, 40_000]));
    const psbt = hardwareSigned(plan);
    const accepted = acceptSignedSweep(plan, psbt.toBase64(), 'regtest');
    const tx = bitcoin.Transaction.fromHex(accepted.hex);
    expect(signaturesValid(tx, prevoutsOf(psbt))).toBe(true);
    expect(accepted.txid).toBe(tx.getId());
    expect(accepted.vsize).toBe(tx.virtualSize());
    expect(accepted.feeRate).toBeCloseTo(plan.feeSats / tx.virtualSize(), 9);
  });

  it('accepts a PSBT that was already finalized, in hex', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const psbt = hardwareSigned(plan).finalizeAllInputs();
    const txid = psbt.extractTransaction().getId();
    expect(acceptSignedSweep(plan, psbt.toHex(), 'regtest').txid).toBe(txid);
  });

  it('accepts the raw transaction hex', () => {
    const plan = planOf(inputsOf('p2sh-p2wpkh', [30_000, 40_000]));
    const tx = hardwareSigned(plan).finalizeAllInputs().extractTransaction();
    const accepted = acceptSignedSweep(plan, tx.toHex(), 'regtest');
    expect(accepted).toMatchObject({ hex: tx.toHex(), txid: tx.getId() });
  });

  it('accepts a raw taproot transaction when given the account', () => {
    const plan = planOf(inputsOf('p2tr', [30_000, 40_000]));
    const tx = hardwareSigned(plan).finalizeAllInputs().extractTransaction();
    const accepted = acceptSignedSweep(plan, tx.toHex(), 'regtest', wallet.account('p2tr').sweep);
    expect(accepted.txid).toBe(tx.getId());
  });

  it('cannot check a raw taproot transaction without the account', () => {
    const plan = planOf(inputsOf('p2tr', [30_000]));
    const hex = hardwareSigned(plan).finalizeAllInputs().extractTransaction().toHex();
    expect(rejection(() => acceptSignedSweep(plan, hex, 'regtest')).reason).toBe(
      'unsupported-script',
    );
  });

  it('accepts the inputs in another order', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000, 40_000]));
    const reordered = { ...plan, inputs: [...plan.inputs].reverse() };
    const psbt = hardwareSigned(reordered);
    expect(acceptSignedSweep(plan, psbt.toBase64(), 'regtest').txid).toBe(
      psbt.clone().finalizeAllInputs().extractTransaction().getId(),
    );
  });

  it('refuses a transaction paying a different amount', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const psbt = hardwareSigned({
      ...plan,
      feeSats: plan.feeSats + 1000,
      valueOutSats: plan.valueOutSats - 1000,
    });
    expect(rejection(() => acceptSignedSweep(plan, psbt.toBase64(), 'regtest')).reason).toBe(
      'mismatch',
    );
  });

  it('refuses a transaction paying a different address', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const elsewhere = other.account('p2wpkh').address(0);
    const psbt = hardwareSigned({ ...plan, destination: elsewhere });
    expect(rejection(() => acceptSignedSweep(plan, psbt.toBase64(), 'regtest')).reason).toBe(
      'mismatch',
    );
  });

  it('refuses a transaction with an extra input', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const extra = inputsOf('p2wpkh', [5_000], 50);
    const bigger = { ...plan, inputs: [...plan.inputs, ...extra], feeSats: plan.feeSats + 5_000 };
    const psbt = hardwareSigned(bigger);
    expect(rejection(() => acceptSignedSweep(plan, psbt.toBase64(), 'regtest')).reason).toBe(
      'mismatch',
    );
  });

  it('refuses a transaction missing an input', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000, 40_000]));
    const psbt = hardwareSigned(planOf(plan.inputs.slice(0, 1)));
    expect(rejection(() => acceptSignedSweep(plan, psbt.toBase64(), 'regtest')).reason).toBe(
      'mismatch',
    );
  });

  it('refuses a PSBT with an input left unsigned', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000, 40_000]));
    const psbt = build(plan).signInputHD(0, wallet.root);
    expect(rejection(() => acceptSignedSweep(plan, psbt.toBase64(), 'regtest')).reason).toBe(
      'unsigned',
    );
  });

  it('refuses a PSBT with a taproot input left unsigned', () => {
    const plan = planOf(inputsOf('p2tr', [30_000, 40_000]));
    const psbt = hardwareSigned(plan);
    delete psbt.data.inputs[1]!.tapKeySig;
    expect(rejection(() => acceptSignedSweep(plan, psbt.toBase64(), 'regtest')).reason).toBe(
      'unsigned',
    );
  });

  it('refuses a raw transaction with an empty witness', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000, 40_000]));
    const tx = hardwareSigned(plan).finalizeAllInputs().extractTransaction();
    tx.setWitness(1, []);
    expect(rejection(() => acceptSignedSweep(plan, tx.toHex(), 'regtest')).reason).toBe('unsigned');
  });

  it('refuses a signature that does not verify', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const tx = hardwareSigned(plan).finalizeAllInputs().extractTransaction();
    const signature = Buffer.from(tx.ins[0]!.witness[0]!);
    signature[10]! ^= 0x01; // inside r: still valid DER, wrong signature
    tx.setWitness(0, [signature, tx.ins[0]!.witness[1]!]);
    expect(rejection(() => acceptSignedSweep(plan, tx.toHex(), 'regtest')).reason).toBe('unsigned');
  });

  it('refuses a taproot signature made over other amounts', () => {
    const plan = planOf(inputsOf('p2tr', [30_000]));
    const psbt = build(plan);
    // The signer is shown 40 000 sats in: its signature commits to that amount.
    psbt.data.inputs[0]!.witnessUtxo = { ...psbt.data.inputs[0]!.witnessUtxo!, value: 40_000n };
    hardwareSign(psbt, wallet.root);
    const hex = psbt.finalizeAllInputs().extractTransaction(true).toHex();
    const err = rejection(() =>
      acceptSignedSweep(plan, hex, 'regtest', wallet.account('p2tr').sweep),
    );
    expect(err.reason).toBe('unsigned');
  });

  it('refuses a signature with SIGHASH_NONE, which would let anyone redirect the output', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const psbt = build(plan);
    psbt.updateInput(0, { sighashType: bitcoin.Transaction.SIGHASH_NONE });
    psbt.signInputHD(0, wallet.root, [bitcoin.Transaction.SIGHASH_NONE]);
    expect(rejection(() => acceptSignedSweep(plan, psbt.toBase64(), 'regtest')).reason).toBe(
      'unsigned',
    );
  });

  it('refuses a transaction that does not signal replaceability', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const psbt = build(plan).setInputSequence(0, 0xffffffff);
    hardwareSign(psbt, wallet.root);
    const hex = psbt.finalizeAllInputs().extractTransaction().toHex();
    expect(rejection(() => acceptSignedSweep(plan, hex, 'regtest')).reason).toBe('mismatch');
  });

  it('refuses coins signed away by a key that does not own them, given the account', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    const foreign = buildSweepPsbt(plan, other.account('p2wpkh').sweep, 'regtest');
    hardwareSign(foreign, other.root);
    const err = rejection(() =>
      acceptSignedSweep(plan, foreign.toBase64(), 'regtest', wallet.account('p2wpkh').sweep),
    );
    expect(err.reason).toBe('mismatch');
  });

  it('refuses text that is neither a PSBT nor a transaction', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]));
    expect(rejection(() => acceptSignedSweep(plan, 'not a psbt', 'regtest')).reason).toBe(
      'mismatch',
    );
  });
});

describe('planReplacement', () => {
  const original = () => planOf(inputsOf('p2wpkh', [50_000, 60_000]), 2);

  it('raises the rate by at least 1 sat/vB when a lower rate is requested', () => {
    expect(planReplacement(original(), 1, 'regtest').feeRate).toBe(3);
  });

  it('uses the requested rate when it is higher', () => {
    expect(planReplacement(original(), 7.5, 'regtest').feeRate).toBe(7.5);
  });

  it('pays at least the previous fee plus 1 sat/vB of its own size', () => {
    const previous = original();
    const overpaid = {
      ...previous,
      feeSats: previous.feeSats + 500,
      valueOutSats: previous.valueOutSats - 500,
    };
    const replacement = planReplacement(overpaid, 1, 'regtest');
    expect(replacement.feeSats).toBe(overpaid.feeSats + replacement.vsize);
  });

  it('spends the same inputs to the same destination', () => {
    const previous = original();
    const replacement = planReplacement(previous, 10, 'regtest');
    expect([replacement.inputs, replacement.destination]).toEqual([
      previous.inputs,
      previous.destination,
    ]);
    expect(replacement.valueOutSats).toBe(110_000 - replacement.feeSats);
  });

  it('signs into a transaction paying a higher rate and a fee at least its size above the first', () => {
    const previous = original();
    const replacement = planReplacement(previous, 1, 'regtest');
    const node = wallet.account('p2wpkh').node;
    const first = signSweep(build(previous), previous, node);
    const second = signSweep(build(replacement), replacement, node);
    expect(second.feeRate).toBeGreaterThan(first.feeRate);
    expect(replacement.feeSats - previous.feeSats).toBeGreaterThanOrEqual(second.vsize);
  });

  it('refuses when the bumped fee would leave only dust', () => {
    const previous = planOf(inputsOf('p2wpkh', [1_000]), 2); // 220 fee; at 7 sat/vB 770
    expect(rejection(() => planReplacement(previous, 7, 'regtest')).reason).toBe('dust');
  });
});

describe('the configured destination', () => {
  const foreign = bitcoin.payments.p2wpkh({
    pubkey: bip32.fromSeed(Buffer.alloc(32, 10), REGTEST).publicKey,
    network: REGTEST,
  }).address!;

  it('signSweep refuses a plan that pays another address than the configured one', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]), 2, foreign);
    expect(
      rejection(() => signSweep(build(plan), plan, accountFor(plan).node, destination)).reason,
    ).toBe('destination');
    expect(signSweep(build(plan), plan, accountFor(plan).node, foreign).txid).toMatch(
      /^[0-9a-f]{64}$/,
    );
  });

  it('acceptSignedSweep refuses a PSBT or raw transaction paying another address', () => {
    const plan = planOf(inputsOf('p2wpkh', [30_000]), 2, foreign);
    const psbt = hardwareSigned(plan);
    expect(
      rejection(() => acceptSignedSweep(plan, psbt.toBase64(), 'regtest', undefined, destination))
        .reason,
    ).toBe('destination');
    const raw = psbt.finalizeAllInputs().extractTransaction().toHex();
    expect(
      rejection(() => acceptSignedSweep(plan, raw, 'regtest', undefined, destination)).reason,
    ).toBe('destination');
  });
});
