/**
 * Webhook endpoints over the API (issue 13 §2), on the lab's MongoDB wire server, delivering to
 * real local HTTP receivers that verify with the `standardwebhooks` package: filters and fan-out,
 * order per payment, secret rotation with overlap, automatic disabling, the redelivery limit, the
 * URL policy, and the configured URL with both header styles.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import dns from 'node:dns';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { MongoClient, type Db } from 'mongodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiKeyVerifier, hashApiKey, newApiKey } from '../../src/api/auth.js';
import { prepareApi } from '../../src/api/prepare.js';
import { webhookEndpointRoutes } from '../../src/api/webhook-endpoints-routes.js';
import { RedeliveryLimits } from '../../src/storage/redelivery-limits.js';
import { WebhookDeliveryStore } from '../../src/storage/webhook-deliveries.js';
import { WebhookEndpointStore } from '../../src/storage/webhook-endpoints.js';
import { WebhookOutbox } from '../../src/storage/webhook-outbox.js';
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.js';
import {
  EndpointDispatcher,
  type EndpointDispatcherOptions,
} from '../../src/webhooks/endpoint-dispatcher.js';
import { EndpointRegistry } from '../../src/webhooks/endpoint-registry.js';
import { FANOUT_FAILPOINT, WebhookFanOut } from '../../src/webhooks/fan-out.js';
import type { WebhookEventType } from '../../src/webhooks/outbox.js';
import { SecretBox } from '../../src/webhooks/secret-box.js';
import { verifySignature } from '../../src/webhooks/signature.js';
import { verifyWebhook } from '../../src/client/verify-webhook.js';
import { isPrivateAddress } from '../../src/webhooks/url-policy.js';
import { LabClient } from '../lab/client.js';
import { startTestDaemon, stopTestDaemon } from '../support/daemon.js';
import { repoRoot } from '../lab/paths.js';
import { type HttpStub, startHttpStub } from '../support/http-stub.js';

const merchantKey = newApiKey();
const adminKey = newApiKey();
const merchant = { authorization: `Bearer ${merchantKey}` };
const admin = { authorization: `Bearer ${adminKey}` };
const SECRETS_KEY = randomBytes(32).toString('hex');
const CONFIGURED_SECRET = `configured-${randomBytes(24).toString('hex')}`;

let client: MongoClient;
let db: Db;
let outbox: WebhookOutbox;
let endpoints: WebhookEndpointStore;
let deliveries: WebhookDeliveryStore;
let app: FastifyInstance;
let strictApp: FastifyInstance;
let stubs: HttpStub[];
let configuredStub: HttpStub;
let clock: Date;
const now = () => clock;
const advance = (ms: number) => {
  clock = new Date(clock.getTime() + ms);
};
const box = new SecretBox(SECRETS_KEY);

interface EndpointJson {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  readOnly: boolean;
  description?: string;
  createdAt?: string;
  disabledReason?: string;
  previousSecretExpiresAt?: string;
  secret?: string;
}

interface Received {
  stub: number;
  headers: Record<string, string>;
  body: string;
  json: { id: string; type: string; isRedelivery: boolean; data: unknown };
}

let received: Received[];

function registryFor(allowPrivateUrls: boolean, configuredUrl?: string): EndpointRegistry {
  return new EndpointRegistry({
    endpoints,
    deliveries,
    outbox,
    limits: new RedeliveryLimits(db, 2, 60_000, now),
    box,
    policy: { allowPrivateUrls },
    ...(configuredUrl !== undefined && { configuredUrl }),
    now,
  });
}

async function appFor(registry: EndpointRegistry): Promise<FastifyInstance> {
  const fastify = Fastify();
  prepareApi(fastify);
  await fastify.register(webhookEndpointRoutes, {
    registry,
    auth: new ApiKeyVerifier([
      { id: 'merchant-test', role: 'merchant', sha256: hashApiKey(merchantKey) },
      { id: 'admin-test', role: 'admin', sha256: hashApiKey(adminKey) },
    ]),
  });
  await fastify.ready();
  return fastify;
}

function dispatcher(options: Partial<EndpointDispatcherOptions> = {}): EndpointDispatcher {
  return new EndpointDispatcher({
    endpoints,
    deliveries,
    box,
    policy: { allowPrivateUrls: true },
    timeoutMs: 2000,
    maxAttempts: 5,
    retryWindowSeconds: 0,
    now,
    ...options,
  });
}

/** Fan-out, then one sending pass. */
async function round(d: EndpointDispatcher = dispatcher()) {
  await new WebhookFanOut({ outbox, endpoints, deliveries }).run();
  return d.deliverDue();
}

async function create(body: object, headers = merchant): Promise<EndpointJson> {
  const res = await app.inject({ method: 'POST', url: '/v1/webhooks', headers, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<EndpointJson>();
}

let seq = 0;
async function event(
  type: WebhookEventType,
  paymentId = `pay_${++seq}`,
  id = `${paymentId}:${++seq}`,
) {
  expect(await outbox.enqueue({ id, type, paymentId, data: { payment: { id: paymentId } } })).toBe(
    true,
  );
  advance(1);
  return id;
}

function verifies(secret: string, r: Received): boolean {
  try {
    new Webhook(secret).verify(r.body, r.headers);
    return true;
  } catch {
    return false;
  }
}

type Respond = (r: Received, nth: number) => number;

function listen(index: number, respond: Respond = () => 200): void {
  const stub = index < 0 ? configuredStub : stubs[index]!;
  stub.handler = (req, body) => {
    const r: Received = {
      stub: index,
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [
          k,
          Array.isArray(v) ? v.join(',') : (v ?? ''),
        ]),
      ),
      body,
      json: JSON.parse(body) as Received['json'],
    };
    received.push(r);
    const nth = received.filter((x) => x.stub === index && x.json.id === r.json.id).length;
    return { status: respond(r, nth), body: '{}' };
  };
}

beforeAll(async () => {
  client = new MongoClient(LabClient.fromState().mongoUrl);
  await client.connect();
  db = client.db(`webhook_endpoints_${randomBytes(6).toString('hex')}`);
  clock = new Date();
  outbox = new WebhookOutbox(db, now);
  endpoints = new WebhookEndpointStore(db, now);
  deliveries = new WebhookDeliveryStore(db, now);
  await outbox.ensureIndexes();
  await endpoints.ensureIndexes();
  await deliveries.ensureIndexes();
  stubs = [await startHttpStub(() => ({ body: '' })), await startHttpStub(() => ({ body: '' }))];
  configuredStub = await startHttpStub(() => ({ body: '' }));
  app = await appFor(registryFor(true, `${configuredStub.url}/hooks?token=querytoken123`));
  strictApp = await appFor(registryFor(false));
}, 60_000);

afterAll(async () => {
  await app.close();
  await strictApp.close();
  await Promise.all([...stubs, configuredStub].map((s) => s.close()));
  await db.dropDatabase();
  await client.close();
});

beforeEach(async () => {
  await Promise.all([
    outbox.collection.deleteMany({}),
    endpoints.collection.deleteMany({}),
    deliveries.collection.deleteMany({}),
    db.collection('webhook_redelivery_windows').deleteMany({}),
  ]);
  // The standardwebhooks verifier checks the timestamp against the real clock: start there.
  clock = new Date();
  received = [];
  listen(0);
  listen(1);
  listen(-1);
});

describe('managing endpoints', () => {
  it('creates an endpoint whose whsec_ secret is shown once, never listed, and sealed in the database', async () => {
    const created = await create({
      url: `${stubs[0]!.url}/a`,
      events: ['payment.confirmed'],
      description: 'shop A',
    });
    expect(created).toMatchObject({
      url: `${stubs[0]!.url}/a`,
      events: ['payment.confirmed'],
      enabled: true,
      readOnly: false,
      description: 'shop A',
      createdAt: clock.toISOString(),
    });
    expect(created.id).toMatch(/^we_/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const secret = created.secret!;

    const list = await app.inject({ method: 'GET', url: '/v1/webhooks', headers: admin });
    expect(list.statusCode).toBe(200);
    const items = list.json<{ items: EndpointJson[] }>().items;
    // The configured URL first, read-only, without its query token.
    expect(items.map((e) => [e.id, e.readOnly])).toEqual([
      ['config', true],
      [created.id, false],
    ]);
    expect(items[0]!.url).toBe(`${configuredStub.url}/hooks`);
    const one = await app.inject({
      method: 'GET',
      url: `/v1/webhooks/${created.id}`,
      headers: merchant,
    });
    expect(one.json<EndpointJson>().id).toBe(created.id);
    const everything = JSON.stringify(await endpoints.collection.find().toArray());
    for (const text of [list.body, one.body, everything]) {
      expect(text).not.toContain(secret.slice('whsec_'.length));
      expect(text).not.toContain('querytoken123');
    }
  });

  it('changes, disables and deletes an endpoint; the configured one is read-only', async () => {
    const created = await create({ url: `${stubs[0]!.url}/a` });
    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/webhooks/${created.id}`,
      headers: merchant,
      payload: { events: ['payment.expired'], enabled: false, url: `${stubs[1]!.url}/b` },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json<EndpointJson>()).toMatchObject({
      events: ['payment.expired'],
      enabled: false,
      url: `${stubs[1]!.url}/b`,
    });
    expect(patched.json<EndpointJson>().secret).toBeUndefined();
    for (const [method, url] of [
      ['PATCH', '/v1/webhooks/config'],
      ['DELETE', '/v1/webhooks/config'],
      ['POST', '/v1/webhooks/config/rotate-secret'],
    ] as const) {
      const res = await app.inject({
        method,
        url,
        headers: merchant,
        ...(method === 'PATCH' && { payload: { enabled: false } }),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(409);
      expect(res.json()).toMatchObject({ error: 'read_only' });
    }
    const gone = await app.inject({
      method: 'DELETE',
      url: `/v1/webhooks/${created.id}`,
      headers: merchant,
    });
    expect(gone.statusCode).toBe(204);
    const again = await app.inject({
      method: 'GET',
      url: `/v1/webhooks/${created.id}`,
      headers: merchant,
    });
    expect(again.statusCode).toBe(404);
  });

  it('refuses bad input with 400 naming the field, writing nothing', async () => {
    const cases: [object, string][] = [
      [{}, 'url'],
      [{ url: 'not a url' }, 'url'],
      [{ url: 'ftp://example.com/x' }, 'url'],
      [{ url: 'https://example.com/x', events: ['payment.nope'] }, 'events.0'],
      [{ url: 'https://example.com/x', extra: 1 }, 'extra'],
      [{ url: 'https://example.com/x', enabled: 'yes' }, 'enabled'],
    ];
    for (const [payload, field] of cases) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: merchant,
        payload,
      });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json<{ field?: string }>().field).toBe(field);
    }
    expect(await endpoints.collection.countDocuments()).toBe(0);
    const noKey = await app.inject({ method: 'GET', url: '/v1/webhooks' });
    expect(noKey.statusCode).toBe(401);
  });

  it('refuses loopback, private and plain-http URLs by default (400 naming url)', async () => {
    for (const url of [
      `${stubs[0]!.url}/a`,
      'https://127.0.0.1/x',
      'https://localhost/x',
      'https://10.1.2.3/x',
      'https://192.168.0.10/x',
      'https://169.254.169.254/x',
      'https://[::1]/x',
      'https://[fd00::1]/x',
      'http://hooks.example.com/x',
    ]) {
      const res = await strictApp.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: merchant,
        payload: { url },
      });
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_request', field: 'url' });
    }
    expect(await endpoints.collection.countDocuments()).toBe(0);
    const ok = await strictApp.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: merchant,
      payload: { url: 'https://hooks.example.com/satwatch' },
    });
    expect(ok.statusCode).toBe(201);
  });

  it('does not connect when a name resolves to a private address at delivery time', async () => {
    // A stored endpoint whose name passes the form check but resolves inward: the machine's
    // own host name (a loopback or private address on a workstation, a container or CI).
    const host = os.hostname();
    const { address } = await dns.promises.lookup(host);
    expect(isPrivateAddress(address)).toBe(true);
    const stored = await endpoints.create({
      url: `https://${host}:${new URL(stubs[0]!.url).port}/hook`,
      events: [],
      enabled: true,
      sealedSecret: box.seal('whsec_' + randomBytes(32).toString('base64')),
    });
    await event('payment.confirmed');
    expect(await round(dispatcher({ policy: { allowPrivateUrls: false } }))).toEqual({
      delivered: 0,
      retrying: 1,
      failed: 0,
    });
    expect(received).toHaveLength(0);
    const [log] = (await deliveries.list(stored._id, { limit: 10 })).items;
    expect(log!.deliveries[0]!.error).toMatch(/private address/);
  });
});

describe('delivering to endpoints', () => {
  it('sends each endpoint only the events its filter takes, signed for the standardwebhooks verifier', async () => {
    const a = await create({ url: `${stubs[0]!.url}/a`, events: ['payment.confirmed'] });
    const b = await create({
      url: `${stubs[1]!.url}/b`,
      events: ['payment.expired', 'payment.late'],
    });
    const confirmed = await event('payment.confirmed');
    const expired = await event('payment.expired');
    const late = await event('payment.late');
    expect(await round()).toEqual({ delivered: 3, retrying: 0, failed: 0 });

    const toA = received.filter((r) => r.stub === 0);
    const toB = received.filter((r) => r.stub === 1);
    expect(toA.map((r) => r.json.id)).toEqual([confirmed]);
    expect(toB.map((r) => r.json.id)).toEqual([expired, late]);
    for (const r of toA) expect(verifies(a.secret!, r)).toBe(true);
    // The typed client's verifier takes what the daemon sends, too.
    expect(verifyWebhook(toA[0]!.headers, toA[0]!.body, a.secret!)).toMatchObject({
      id: confirmed,
    });
    expect(() => verifyWebhook(toA[0]!.headers, toA[0]!.body, b.secret!)).toThrow();
    for (const r of toB) {
      expect(verifies(b.secret!, r)).toBe(true);
      expect(verifies(a.secret!, r)).toBe(false);
    }
    expect(toA[0]!.headers).toMatchObject({
      'webhook-id': confirmed,
      'webhook-timestamp': String(Math.floor(clock.getTime() / 1000)),
      'content-type': 'application/json',
    });
    // The endpoints' requests carry no Satwatch-Signature: that is the configured URL's alone.
    expect(toA[0]!.headers['satwatch-signature']).toBeUndefined();

    // The configured URL got all three, in both header styles (below); the delivery log per endpoint:
    const log = await app.inject({
      method: 'GET',
      url: `/v1/webhooks/${b.id}/deliveries`,
      headers: merchant,
    });
    expect(log.statusCode).toBe(200);
    const page = log.json<{
      items: { eventId: string; state: string; attemptLog: { status?: number }[] }[];
    }>();
    expect(page.items.map((d) => [d.eventId, d.state, d.attemptLog.map((x) => x.status)])).toEqual([
      [late, 'delivered', [200]],
      [expired, 'delivered', [200]],
    ]);
    // Nothing is copied twice when the fan-out runs again.
    expect(await new WebhookFanOut({ outbox, endpoints, deliveries }).run()).toBe(0);
    expect(await deliveries.collection.countDocuments()).toBe(3);
  });

  it('keeps the order per payment while a receiver fails, then recovers', async () => {
    await create({ url: `${stubs[0]!.url}/a` });
    // The first event of pay_o fails twice; the receiver records the order it sees.
    const first = await event('payment.confirming', 'pay_o', 'pay_o:1');
    const second = await event('payment.confirmed', 'pay_o', 'pay_o:2');
    const other = await event('payment.confirmed', 'pay_other', 'pay_other:1');
    listen(0, (r, nth) => (r.json.id === first && nth <= 2 ? 503 : 200));
    expect(await round()).toEqual({ delivered: 1, retrying: 1, failed: 0 });
    advance(10_000);
    expect(await round()).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    advance(60_000);
    expect(await round()).toEqual({ delivered: 2, retrying: 0, failed: 0 });
    expect(received.map((r) => r.json.id)).toEqual([first, other, first, first, second]);
  });

  it('signs with both secrets during a rotation overlap, then only the new one', async () => {
    const created = await create({ url: `${stubs[0]!.url}/a` });
    const oldSecret = created.secret!;
    const rotate = await app.inject({
      method: 'POST',
      url: `/v1/webhooks/${created.id}/rotate-secret`,
      headers: merchant,
      payload: { overlapSeconds: 60 },
    });
    expect(rotate.statusCode, rotate.body).toBe(200);
    const rotated = rotate.json<{ secret: string; previousSecretExpiresAt: string }>();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(oldSecret);
    expect(rotated.previousSecretExpiresAt).toBe(new Date(clock.getTime() + 60_000).toISOString());

    await event('payment.confirmed');
    await round();
    const during = received[0]!;
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifies(rotated.secret, during)).toBe(true);
    expect(verifies(oldSecret, during)).toBe(true);

    advance(61_000);
    await event('payment.confirmed');
    await round();
    const after = received[1]!;
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(verifies(rotated.secret, after)).toBe(true);
    expect(verifies(oldSecret, after)).toBe(false);
    // The rotate answer is the only place the secret appears.
    const view = await app.inject({
      method: 'GET',
      url: `/v1/webhooks/${created.id}`,
      headers: merchant,
    });
    expect(view.body).not.toContain(rotated.secret.slice(6));
  });

  it('disables an endpoint after deliveries are given up in a row, with a reason admins see', async () => {
    const created = await create({ url: `${stubs[0]!.url}/a` });
    listen(0, () => 500);
    const d = dispatcher({ maxAttempts: 1, disableAfterGiveUps: 3 });
    for (let i = 0; i < 3; i++) {
      await event('payment.confirmed');
      expect(await round(d)).toEqual({ delivered: 0, retrying: 0, failed: 1 });
    }
    const view = await app.inject({
      method: 'GET',
      url: `/v1/webhooks/${created.id}`,
      headers: admin,
    });
    expect(view.json<EndpointJson>()).toMatchObject({ enabled: false });
    expect(view.json<EndpointJson>().disabledReason).toMatch(/3 deliveries in a row were given up/);
    // Disabled: nothing more is copied or sent.
    await event('payment.confirmed');
    expect(await round(d)).toEqual({ delivered: 0, retrying: 0, failed: 0 });
    expect(received).toHaveLength(3);
    // Re-enabled by the merchant: the reason goes, deliveries resume.
    listen(0);
    const enabled = await app.inject({
      method: 'PATCH',
      url: `/v1/webhooks/${created.id}`,
      headers: merchant,
      payload: { enabled: true },
    });
    expect(enabled.json<EndpointJson>().disabledReason).toBeUndefined();
    await event('payment.confirmed');
    expect(await round(d)).toEqual({ delivered: 1, retrying: 0, failed: 0 });
  });

  it('disables an endpoint whose deliveries have all failed for 5 days', async () => {
    const created = await create({ url: `${stubs[0]!.url}/a` });
    listen(0, () => 503);
    const start = clock;
    await event('payment.confirmed');
    const d = dispatcher({ maxAttempts: 100, retryWindowSeconds: 0 });
    await round(d);
    for (let i = 0; i < 200; i++) {
      const endpoint = await endpoints.get(created.id);
      if (!endpoint?.enabled) break;
      const [pending] = (await deliveries.list(created.id, { limit: 1 })).items;
      clock = pending!.nextAttemptAt;
      await round(d);
    }
    const endpoint = await endpoints.get(created.id);
    expect(endpoint?.enabled).toBe(false);
    expect(endpoint?.disabledReason).toMatch(
      /every delivery has failed since .* \(5 days or more\)/,
    );
    expect(endpoint!.disabledAt!.getTime() - start.getTime()).toBeGreaterThanOrEqual(
      5 * 24 * 3600 * 1000,
    );
  });

  it('redelivers on request, limited per endpoint (429 with Retry-After)', async () => {
    const created = await create({ url: `${stubs[0]!.url}/a` });
    const id = await event('payment.confirmed');
    await round();
    const [delivery] = (await deliveries.list(created.id, { limit: 1 })).items;
    const redeliver = () =>
      app.inject({
        method: 'POST',
        url: `/v1/webhooks/${created.id}/deliveries/${delivery!._id}/redeliver`,
        headers: merchant,
      });
    for (let i = 0; i < 2; i++) {
      const res = await redeliver();
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toMatchObject({ eventId: id, state: 'pending', isRedelivery: true });
    }
    const limited = await redeliver();
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await round();
    expect(received.map((r) => [r.json.id, r.json.isRedelivery])).toEqual([
      [id, false],
      [id, true],
    ]);
    expect(verifies(created.secret!, received[1]!)).toBe(true);
    advance(60_000);
    expect((await redeliver()).statusCode).toBe(202);
    const unknown = await app.inject({
      method: 'POST',
      url: `/v1/webhooks/${created.id}/deliveries/wd_nope/redeliver`,
      headers: merchant,
    });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('replicas', () => {
  it('delivers each event to each endpoint exactly once with two replicas sending at once', async () => {
    await create({ url: `${stubs[0]!.url}/a` });
    await create({ url: `${stubs[1]!.url}/b` });
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) ids.push(await event('payment.confirmed'));
    await new WebhookFanOut({ outbox, endpoints, deliveries }).run();
    const other = new MongoClient(LabClient.fromState().mongoUrl);
    await other.connect();
    try {
      const otherDb = other.db(db.databaseName);
      const replica = dispatcher({
        endpoints: new WebhookEndpointStore(otherDb, now),
        deliveries: new WebhookDeliveryStore(otherDb, now),
      });
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) => (i % 2 ? replica : dispatcher()).deliverDue(100)),
      );
      expect(results.reduce((sum, r) => sum + r.delivered, 0)).toBe(30);
    } finally {
      await other.close();
    }
    for (const stub of [0, 1]) {
      const seen = received.filter((r) => r.stub === stub).map((r) => r.json.id);
      expect([...seen].sort()).toEqual([...ids].sort());
    }
  }, 60_000);
});

describe('fan-out crash safety', () => {
  it('copies nothing twice when killed between the copies and the mark', async () => {
    await create({ url: `${stubs[0]!.url}/a` });
    await create({ url: `${stubs[1]!.url}/b` });
    const id = await event('payment.confirmed');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(repoRoot, 'test/support/fanout-child.ts'),
        LabClient.fromState().mongoUrl,
        db.databaseName,
      ],
      { env: { ...process.env, SATWATCH_FAILPOINT: FANOUT_FAILPOINT }, stdio: 'ignore' },
    );
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => {
      child.on('exit', (_code, sig) => {
        resolve(sig);
      });
    });
    expect(signal).toBe('SIGKILL');
    // Killed after copying, before marking: the event is still to fan out.
    expect(await deliveries.collection.countDocuments({ eventId: id })).toBe(2);
    expect((await outbox.get(id))?.fanout).toBe('pending');
    // The next pass resumes: no second copy, the event marked, each endpoint gets it once.
    expect(await new WebhookFanOut({ outbox, endpoints, deliveries }).run()).toBe(0);
    expect((await outbox.get(id))?.fanout).toBeUndefined();
    clock = new Date(); // the child stamped its copies with the real clock
    expect(await dispatcher().deliverDue()).toEqual({ delivered: 2, retrying: 0, failed: 0 });
    expect(received.map((r) => [r.stub, r.json.id])).toEqual(
      expect.arrayContaining([
        [0, id],
        [1, id],
      ]),
    );
    expect(received).toHaveLength(2);
  }, 60_000);
});

describe('the configured URL', () => {
  it('is delivered with both the Standard Webhooks headers and Satwatch-Signature', async () => {
    const d = new WebhookDispatcher({
      outbox,
      url: `${configuredStub.url}/hooks`,
      secret: CONFIGURED_SECRET,
      secrets: [CONFIGURED_SECRET],
      timeoutMs: 2000,
      maxAttempts: 3,
      now,
    });
    const id = await event('payment.confirmed');
    expect(await d.deliverDue()).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    const [r] = received;
    expect(r!.headers).toMatchObject({ 'webhook-id': id, 'satwatch-event-id': id });
    expect(
      verifySignature(
        CONFIGURED_SECRET,
        r!.headers['satwatch-signature']!,
        r!.body,
        Math.floor(clock.getTime() / 1000),
      ),
    ).toBe(true);
    // A standard verifier takes the configured secret as whsec_ + base64 of its bytes.
    const asWhsec = `whsec_${Buffer.from(CONFIGURED_SECRET).toString('base64')}`;
    expect(verifies(asWhsec, r!)).toBe(true);
    // Its delivery log and redelivery go through the endpoints API as `config`.
    const log = await app.inject({
      method: 'GET',
      url: '/v1/webhooks/config/deliveries',
      headers: merchant,
    });
    expect(log.json<{ items: { eventId: string; state: string }[] }>().items).toEqual([
      expect.objectContaining({ eventId: id, state: 'delivered' }),
    ]);
    const again = await app.inject({
      method: 'POST',
      url: `/v1/webhooks/config/deliveries/${encodeURIComponent(id)}/redeliver`,
      headers: merchant,
    });
    expect(again.statusCode).toBe(202);
    expect(await d.deliverDue()).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    expect(received.map((x) => x.json.isRedelivery)).toEqual([false, true]);
  });
});

describe('through the daemon', () => {
  it('wires the settings, the API and the delivery round: configured URL and endpoint both served', async () => {
    const configuredSecret = 'c'.repeat(40);
    const d = await startTestDaemon({
      SATWATCH_WEBHOOK_URL: `${configuredStub.url}/hooks`,
      SATWATCH_WEBHOOK_SECRETS: configuredSecret,
      SATWATCH_WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      SATWATCH_WEBHOOK_SECRETS_KEY: SECRETS_KEY,
    });
    try {
      const res = await d.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: d.merchant,
        payload: { url: `${stubs[0]!.url}/a`, events: ['payment.confirmed'] },
      });
      expect(res.statusCode, res.body).toBe(201);
      const { secret } = res.json<{ secret: string }>();
      await d.outbox.enqueue({
        id: 'pay_d:1',
        type: 'payment.confirmed',
        paymentId: 'pay_d',
        data: { payment: { id: 'pay_d' } },
      });
      expect(await d.dispatcher?.deliverDue()).toMatchObject({ delivered: 2, failed: 0 });
      const toEndpoint = received.find((r) => r.stub === 0)!;
      const toConfigured = received.find((r) => r.stub === -1)!;
      expect(verifies(secret, toEndpoint)).toBe(true);
      expect(
        verifies(`whsec_${Buffer.from(configuredSecret).toString('base64')}`, toConfigured),
      ).toBe(true);
      expect(toConfigured.headers['satwatch-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      // Sealed at rest with webhooks.secretsKey.
      const stored = JSON.stringify(
        await d.mongo.db.collection('webhook_endpoints').find().toArray(),
      );
      expect(stored).not.toContain(secret.slice(6));
      expect(stored).toMatch(/gcm1:/);
      const metrics = await d.metrics.registry.metrics();
      expect(metrics).toMatch(/satwatch_webhook_endpoint_attempts_total\{outcome="delivered"\} 1/);
    } finally {
      await stopTestDaemon(d);
    }
  }, 120_000);

  it('refuses a private URL with the default settings', async () => {
    const d = await startTestDaemon();
    try {
      const res = await d.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: d.merchant,
        payload: { url: `${stubs[0]!.url}/a` },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ field: 'url' });
      // No configured URL: the list is empty, not an error.
      const list = await d.app.inject({ method: 'GET', url: '/v1/webhooks', headers: d.admin });
      expect(list.json()).toEqual({ items: [] });
    } finally {
      await stopTestDaemon(d);
    }
  }, 120_000);
});
