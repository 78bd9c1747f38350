import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WebhookVerificationError, verifyWebhook } from '../../src/client/index.js';

const key = randomBytes(32);
const secret = `whsec_${key.toString('base64')}`;
const body = JSON.stringify({
  id: 'evt_1',
  type: 'payment.confirmed',
  createdAt: '2026-12-01T00:00:00.000Z',
  isRedelivery: false,
  data: { payment: { id: 'pay_1' } },
});

/** Signed by hand, exactly as the Standard Webhooks spec says, not with the library under test. */
function signed(payload: string, at = Math.floor(Date.now() / 1000), id = 'msg_1') {
  const mac = createHmac('sha256', key).update(`${id}.${at}.${payload}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': `v1,${mac}` };
}

describe('verifyWebhook', () => {
  it('returns the event of a body signed per the Standard Webhooks spec', () => {
    expect(verifyWebhook(signed(body), body, secret)).toMatchObject({
      id: 'evt_1',
      type: 'payment.confirmed',
    });
  });

  it('takes Fetch Headers, node header records in any case, and the body as bytes', () => {
    const h = signed(body);
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(new Headers(h), Buffer.from(body), secret).id).toBe('evt_1');
    expect(verifyWebhook(upper, new TextEncoder().encode(body), secret).id).toBe('evt_1');
  });

  it('accepts any of several signatures (a secret rotation) and any of several secrets', () => {
    const h = signed(body);
    const other = `v1,${createHmac('sha256', randomBytes(32)).update('x').digest('base64')}`;
    const both = { ...h, 'webhook-signature': `${other} ${h['webhook-signature']}` };
    expect(verifyWebhook(both, body, secret).id).toBe('evt_1');
    const oldSecret = `whsec_${randomBytes(32).toString('base64')}`;
    expect(verifyWebhook(h, body, [oldSecret, secret]).id).toBe('evt_1');
  });

  it('refuses a changed body, a wrong secret, a missing header and an old timestamp', () => {
    const h = signed(body);
    expect(() => verifyWebhook(h, body.replace('pay_1', 'pay_2'), secret)).toThrow(
      WebhookVerificationError,
    );
    const wrong = `whsec_${randomBytes(32).toString('base64')}`;
    expect(() => verifyWebhook(h, body, wrong)).toThrow(WebhookVerificationError);
    const missing: Record<string, string> = { ...h };
    delete missing['webhook-id'];
    expect(() => verifyWebhook(missing, body, secret)).toThrow(WebhookVerificationError);
    const old = signed(body, Math.floor(Date.now() / 1000) - 3600);
    expect(() => verifyWebhook(old, body, secret)).toThrow(WebhookVerificationError);
  });
});
