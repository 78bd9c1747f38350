import { describe, expect, it } from 'vitest';
import { scriptAsm, scriptType } from '../lab/esplora/format.js';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('esplora asm notation', () => {
  it('writes P2SH, P2PKH and P2WPKH scripts as rust-bitcoin does', () => {
    expect(scriptAsm(hex('a914c9848245ae4f5d5934b5cbdfb79e04cdd337470b87'))).toBe(
      'OP_HASH160 OP_PUSHBYTES_20 c9848245ae4f5d5934b5cbdfb79e04cdd337470b OP_EQUAL',
    );
    expect(scriptAsm(hex('76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac'))).toBe(
      'OP_DUP OP_HASH160 OP_PUSHBYTES_20 62e907b15cbf27d5425399ebf6f0fb50ebb88f18 OP_EQUALVERIFY OP_CHECKSIG',
    );
    expect(scriptAsm(hex('0014751e76e8199196d454941c45d1b3a323f1433bd6'))).toBe(
      'OP_0 OP_PUSHBYTES_20 751e76e8199196d454941c45d1b3a323f1433bd6',
    );
  });

  it('names small numbers OP_PUSHNUM_n and long pushes OP_PUSHDATA1', () => {
    const redeem = '52' + '21' + '02'.padEnd(66, 'a') + '21' + '03'.padEnd(66, 'b') + '52ae';
    const scriptSig = '00' + '4c' + (redeem.length / 2).toString(16) + redeem;
    expect(scriptAsm(hex(scriptSig))).toBe(`OP_0 OP_PUSHDATA1 ${redeem}`);
    expect(scriptAsm(hex(redeem))).toBe(
      `OP_PUSHNUM_2 OP_PUSHBYTES_33 ${'02'.padEnd(66, 'a')} OP_PUSHBYTES_33 ${'03'.padEnd(66, 'b')} OP_PUSHNUM_2 OP_CHECKMULTISIG`,
    );
  });

  it('marks a push that runs past the end of the script', () => {
    expect(scriptAsm(hex('4c'))).toBe('<unexpected end>');
    expect(scriptAsm(hex('05aabb'))).toBe('OP_PUSHBYTES_5 <push past end>');
  });
});

describe('esplora scriptpubkey types', () => {
  const cases: [string, string][] = [
    ['76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac', 'p2pkh'],
    ['a914c9848245ae4f5d5934b5cbdfb79e04cdd337470b87', 'p2sh'],
    ['0014751e76e8199196d454941c45d1b3a323f1433bd6', 'v0_p2wpkh'],
    ['0020' + '11'.repeat(32), 'v0_p2wsh'],
    ['5120' + '22'.repeat(32), 'v1_p2tr'],
    ['21' + '02' + '33'.repeat(32) + 'ac', 'p2pk'],
    ['6a0568656c6c6f', 'op_return'],
    ['', 'empty'],
    ['51', 'unknown'],
  ];
  it.each(cases)('classifies %s as %s', (script, type) => {
    expect(scriptType(hex(script))).toBe(type);
  });
});
