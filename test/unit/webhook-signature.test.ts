/** Webhook signatures as a merchant's receiver checks them. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from '../../src/webhooks/signature.js';

const secret = 'whsec_test_0123456789abcdef';
const body = '{"id":"pay_1:1","type":"payment.confirmed","data":{"amountSats":150000}}';
const t = 1_900_000_000;

/** An independent HMAC, computed here rather than through the module under test. */
function hmac(key: string, message: string): string {
  return createHmac('sha256', Buffer.from(key, 'utf8'))
    .update(Buffer.from(message, 'utf8'))
    .digest('hex');
}

describe('webhook signatures', () => {
  it('round-trips: a header made by signatureHeader verifies', () => {
    const header = signatureHeader(secret, body, t);
    expect(header).toMatch(/^t=1900000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, header, body, t)).toBe(true);
    expect(verifySignature(secret, header, body, t + 299)).toBe(true);
  });

  it('matches a vector computed independently with node:crypto', () => {
    const expected = hmac(secret, `${t}.${body}`);
    expect(signatureHeader(secret, body, t)).toBe(`t=${t},v1=${expected}`);
    // A fixed vector: HMAC-SHA256("secret", "1.{}").
    expect(signatureHeader('secret', '{}', 1)).toBe(`t=1,v1=${hmac('secret', '1.{}')}`);
    // Multi-byte characters are signed as UTF-8.
    const unicode = '{"note":"café ₿ 🚀"}';
    expect(signatureHeader(secret, unicode, t)).toBe(
      `t=${t},v1=${hmac(secret, `${t}.${unicode}`)}`,
    );
    expect(
      verifySignature(secret, `t=${t},v1=${hmac(secret, `${t}.${unicode}`)}`, unicode, t),
    ).toBe(true);
  });

  it('rejects a tampered body', () => {
    const header = signatureHeader(secret, body, t);
    expect(verifySignature(secret, header, body.replace('150000', '150001'), t)).toBe(false);
    expect(verifySignature(secret, header, `${body} `, t)).toBe(false);
  });

  it('rejects the wrong secret', () => {
    const header = signatureHeader(secret, body, t);
    expect(verifySignature('whsec_other_secret_000', header, body, t)).toBe(false);
  });

  it('rejects a stale or far-future timestamp, and a changed timestamp', () => {
    const header = signatureHeader(secret, body, t);
    expect(verifySignature(secret, header, body, t + 301)).toBe(false);
    expect(verifySignature(secret, header, body, t - 301)).toBe(false);
    expect(verifySignature(secret, header, body, t + 60, 30)).toBe(false);
    expect(verifySignature(secret, header, body, t + 30, 30)).toBe(true);
    // The timestamp is signed: moving it forward breaks the signature.
    const moved = header.replace(`t=${t}`, `t=${t + 100}`);
    expect(verifySignature(secret, moved, body, t + 100)).toBe(false);
  });

  it('accepts any one matching v1 among several (secret rotation), in any order', () => {
    const good = hmac(secret, `${t}.${body}`);
    const other = hmac('whsec_previous_secret_0', `${t}.${body}`);
    expect(verifySignature(secret, `t=${t},v1=${other},v1=${good}`, body, t)).toBe(true);
    expect(verifySignature(secret, `t=${t}, v1=${good}, v1=${other}`, body, t)).toBe(true);
    expect(verifySignature(secret, `v1=${good},t=${t}`, body, t)).toBe(true);
    expect(verifySignature(secret, `t=${t},v1=${other},v1=${other}`, body, t)).toBe(false);
    // Unknown schemes are ignored, not trusted.
    expect(verifySignature(secret, `t=${t},v0=${good}`, body, t)).toBe(false);
    expect(verifySignature(secret, `t=${t},v0=${good},v1=${good}`, body, t)).toBe(true);
  });

  it('is false, never throws, for malformed headers', () => {
    const good = hmac(secret, `${t}.${body}`);
    for (const header of [
      '',
      'garbage',
      `v1=${good}`,
      `t=${t}`,
      `t=${t},v1=`,
      `t=${t},v1=${good.slice(0, 63)}`,
      `t=${t},v1=${good}00`,
      `t=${t},v1=${'z'.repeat(64)}`,
      `t=abc,v1=${good}`,
      `t=-${t},v1=${good}`,
      `t=${t},t=${t},v1=${good}`,
      `t=${t}.5,v1=${good}`,
    ]) {
      expect(verifySignature(secret, header, body, t), header).toBe(false);
    }
  });

  it('refuses to sign with a non-integer timestamp', () => {
    expect(() => signatureHeader(secret, body, 1.5)).toThrow(RangeError);
    expect(() => signatureHeader(secret, body, -1)).toThrow(RangeError);
  });
});
