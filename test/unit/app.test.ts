import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';

describe('http app', () => {
  it('answers /healthz with ok', async () => {
    const app = buildApp();
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    await app.close();
  });

  it('answers unknown routes with 404', async () => {
    const app = buildApp();
    expect((await app.inject({ method: 'GET', url: '/nope' })).statusCode).toBe(404);
    await app.close();
  });
});
