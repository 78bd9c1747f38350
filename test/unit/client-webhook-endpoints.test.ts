/**
 * The client's webhook-endpoint methods speak the `/v1/webhooks` contract (method, path, body,
 * key). The daemon's routes are exercised by test/integration/client.test.ts; here a recording fetch
 * answers like them, so this pins the client's side of the contract only.
 */
import { describe, expect, it } from 'vitest';
import { SatwatchApiError, createSatwatchClient } from '../../src/client/index.js';

interface Sent {
  method: string;
  url: string;
  authorization: string | null;
  body: unknown;
}

function recording(answer: (sent: Sent) => { status: number; body?: unknown }) {
  const sent: Sent[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const text = await request.text();
    const one: Sent = {
      method: request.method,
      url: request.url,
      authorization: request.headers.get('authorization'),
      body: text === '' ? undefined : JSON.parse(text),
    };
    sent.push(one);
    const { status, body } = answer(one);
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  };
  const client = createSatwatchClient({
    baseUrl: 'http://satwatch.test/',
    apiKey: 'sw_key',
    fetch,
  });
  return { client, sent };
}

const endpoint = {
  id: 'we_1',
  url: 'https://shop.example/hooks',
  events: [],
  enabled: true,
  createdAt: '2026-12-01T00:00:00.000Z',
};

describe('webhook endpoint methods', () => {
  it('send each call of the contract with the API key', async () => {
    const { client, sent } = recording(({ method }) =>
      method === 'DELETE'
        ? { status: 204 }
        : { status: 200, body: { ...endpoint, secret: 'whsec_x' } },
    );
    await client.createWebhook({ url: endpoint.url, events: ['payment.confirmed'] });
    await client.listWebhooks();
    await client.getWebhook('we_1');
    await client.updateWebhook('we_1', { enabled: false });
    await client.rotateWebhookSecret('we_1', { overlapSeconds: 3600 });
    await client.listWebhookDeliveries('we_1');
    await client.redeliverWebhook('we_1', 'dl/1');
    await client.deleteWebhook('we_1');
    expect(sent.map((s) => `${s.method} ${s.url.replace('http://satwatch.test', '')}`)).toEqual([
      'POST /v1/webhooks',
      'GET /v1/webhooks',
      'GET /v1/webhooks/we_1',
      'PATCH /v1/webhooks/we_1',
      'POST /v1/webhooks/we_1/rotate-secret',
      'GET /v1/webhooks/we_1/deliveries',
      'POST /v1/webhooks/we_1/deliveries/dl%2F1/redeliver',
      'DELETE /v1/webhooks/we_1',
    ]);
    expect(sent.every((s) => s.authorization === 'Bearer sw_key')).toBe(true);
    expect(sent[0]?.body).toEqual({ url: endpoint.url, events: ['payment.confirmed'] });
    expect(sent[3]?.body).toEqual({ enabled: false });
    expect(sent[4]?.body).toEqual({ overlapSeconds: 3600 });
  });

  it('throw SatwatchApiError with our error body, or a generic one for a foreign answer', async () => {
    const { client } = recording(({ method }) =>
      method === 'POST'
        ? { status: 400, body: { error: 'invalid_request', message: 'url is bad', field: 'url' } }
        : { status: 502, body: '<html>bad gateway</html>' },
    );
    await expect(client.createWebhook({ url: 'ftp://x' })).rejects.toMatchObject({
      status: 400,
      code: 'invalid_request',
      field: 'url',
    });
    const err = await client.listWebhooks().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SatwatchApiError);
    expect(err).toMatchObject({ status: 502, code: 'http_error' });
  });
});
