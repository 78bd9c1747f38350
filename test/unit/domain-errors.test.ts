import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareApi } from '../../src/api/prepare.js';
import { ChainSourceError } from '../../src/chain/chain-source.js';
import { SweepError } from '../../src/forwarding/tx/sweep-error.js';
import { InsufficientBalanceError, LedgerConflictError } from '../../src/ledger/ledger.js';
import { IdempotencyConflictError } from '../../src/payments/payment-service.js';
import { RateUnavailableError } from '../../src/pricing/rates.js';
import { BadCursorError } from '../../src/storage/cursor.js';
import {
  AlreadyCreditedError,
  PaymentNotFoundError,
} from '../../src/settlement/settlement-errors.js';

let app: FastifyInstance;
let thrown: Error;

beforeAll(async () => {
  app = Fastify();
  prepareApi(app);
  const fail = () => Promise.reject(thrown);
  app.post('/v1/admin/sweeps/:id/psbt', fail);
  app.post('/v1/admin/payments/:id/forward', fail);
  app.post('/v1/users/:id/debit', fail);
  app.get('/elsewhere', fail);
  await app.ready();
});

afterAll(() => app.close());

async function answer(error: Error, method: 'GET' | 'POST', url: string, payload?: object) {
  thrown = error;
  const res = await app.inject({ method, url, ...(payload && { payload }) });
  return {
    status: res.statusCode,
    body: res.json<Record<string, unknown>>(),
    headers: res.headers,
  };
}

describe('the domain-error table', () => {
  it('answers a domain error with its status, code, message and field', async () => {
    expect(await answer(new PaymentNotFoundError('pay_1'), 'GET', '/elsewhere')).toMatchObject({
      status: 404,
      body: { error: 'not_found', message: 'payment not found' },
    });
    expect(await answer(new AlreadyCreditedError('pay_1'), 'GET', '/elsewhere')).toMatchObject({
      status: 409,
      body: { error: 'already_credited', message: 'payment pay_1 is already credited' },
    });
    expect(await answer(new BadCursorError(), 'GET', '/elsewhere')).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', field: 'cursor' },
    });
    expect(await answer(new IdempotencyConflictError(), 'GET', '/elsewhere')).toMatchObject({
      status: 422,
      body: { error: 'idempotency_conflict', field: 'Idempotency-Key' },
    });
    expect(await answer(new InsufficientBalanceError(3, 5), 'GET', '/elsewhere')).toMatchObject({
      status: 409,
      body: { error: 'insufficient_balance', message: 'balance 3 is less than the 5 requested' },
    });
  });

  it('sends retry-after with the answers that say "try again later"', async () => {
    const res = await answer(
      new RateUnavailableError('EUR', 'kraken', 'down'),
      'GET',
      '/elsewhere',
    );
    expect(res).toMatchObject({ status: 503, body: { error: 'rate_unavailable' } });
    expect(res.headers['retry-after']).toBe('30');
  });

  it('names the field the admin sent when a signed sweep does not match', async () => {
    const err = new SweepError('mismatch', 'the outputs differ');
    const url = '/v1/admin/sweeps/s1/psbt';
    expect(await answer(err, 'POST', url, { rawTx: 'ab' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', message: 'the outputs differ', field: 'rawTx' },
    });
    expect((await answer(err, 'POST', url, { psbt: 'cA==' })).body.field).toBe('psbt');
  });

  it('maps route-scoped errors only on their routes, elsewhere they stay internal', async () => {
    const chain = new ChainSourceError('timeout', '/blocks/tip/height');
    expect(await answer(chain, 'POST', '/v1/admin/payments/p1/forward')).toMatchObject({
      status: 503,
      body: { error: 'chain_unavailable', message: 'the chain API is unavailable; try again' },
    });
    expect(await answer(chain, 'GET', '/elsewhere')).toMatchObject({
      status: 500,
      body: { error: 'internal_error' },
    });
    expect((await answer(new LedgerConflictError(), 'GET', '/elsewhere')).status).toBe(500);
    expect((await answer(new LedgerConflictError(), 'POST', '/v1/users/u/debit')).status).toBe(422);
    expect((await answer(new SweepError('mismatch', 'x'), 'GET', '/elsewhere')).status).toBe(500);
  });
});
