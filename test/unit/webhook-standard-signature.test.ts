import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { SecretBox, SecretUnavailableError } from '../../src/webhooks/secret-box.js';
import {
  isEndpointSecret,
  newEndpointSecret,
  standardHeaders,
} from '../../src/webhooks/standard-signature.js';

const body = JSON.stringify({ id: 'pay_1:1', type: 'payment.confirmed', data: { note: 'café ₿' } });
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('Standard Webhooks signatures', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const a = newEndpointSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(isEndpointSecret(a)).toBe(true);
    expect(newEndpointSecret()).not.toBe(a);
    expect(isEndpointSecret('whsec_short')).toBe(false);
    expect(isEndpointSecret('x'.repeat(40))).toBe(false);
  });

  it('signs so that the standardwebhooks verifier accepts the body and nothing else', () => {
    const secret = newEndpointSecret();
    const headers = standardHeaders([secret], 'pay_1:1', nowSeconds(), body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('café', 'cafe'), { ...headers })).toThrow(
      WebhookVerificationError,
    );
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'pay_1:2' })).toThrow(
      WebhookVerificationError,
    );
    expect(() => new Webhook(newEndpointSecret()).verify(body, { ...headers })).toThrow(
      WebhookVerificationError,
    );
  });

  it('carries one v1 entry per secret, each verifying on its own (rotation overlap)', () => {
    const [newer, older] = [newEndpointSecret(), newEndpointSecret()];
    const headers = standardHeaders([newer, older], 'evt', nowSeconds(), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(newer).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(older).verify(body, { ...headers })).not.toThrow();
  });

  it('signs with a configured non-whsec secret as its UTF-8 bytes: whsec_ + base64 of it verifies', () => {
    const configured = 'a-configured-secret-of-at-least-32-bytes!';
    const headers = standardHeaders([configured], 'evt', nowSeconds(), body);
    const asWhsec = `whsec_${Buffer.from(configured, 'utf8').toString('base64')}`;
    expect(() => new Webhook(asWhsec).verify(body, { ...headers })).not.toThrow();
  });
});

describe('endpoint secrets at rest', () => {
  it('seals with a key and opens only with the same key', () => {
    const secret = newEndpointSecret();
    const box = new SecretBox('k'.repeat(40));
    const sealed = box.seal(secret);
    expect(sealed).not.toContain(secret.slice(6));
    expect(sealed).toMatch(/^gcm1:/);
    expect(box.open(sealed)).toBe(secret);
    expect(() => new SecretBox('j'.repeat(40)).open(sealed)).toThrow(SecretUnavailableError);
    expect(() => new SecretBox(undefined).open(sealed)).toThrow(SecretUnavailableError);
  });

  it('stores plainly, marked, without a key', () => {
    const box = new SecretBox(undefined);
    expect(box.encrypts).toBe(false);
    expect(box.open(box.seal('whsec_x'))).toBe('whsec_x');
  });
});
