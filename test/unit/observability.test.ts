/** The pure parts of observability: request ids, safe error text, timeouts, log redaction, readiness. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  REDACTED,
  REDACT_DEPTH,
  SECRET_KEYS,
  loggerOptions,
  withRedaction,
} from '../../src/observability/logging.js';
import { Readiness, type ReadinessDeps } from '../../src/observability/readiness.js';
import { requestIdFor } from '../../src/observability/request-id.js';
import { TimeoutError, safeErrorText, withTimeout } from '../../src/observability/timeout.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdFor', () => {
  it('keeps 1–128 printable ASCII characters', () => {
    for (const id of ['a', 'shop-42/retry 1', '~!@#$%^&*()', 'x'.repeat(128)])
      expect(requestIdFor(id)).toBe(id);
  });

  it('makes a UUID for anything else', () => {
    for (const header of [
      undefined,
      '',
      'x'.repeat(129),
      'line\nbreak',
      'tab\t',
      'caf\u00e9',
      '\u0000',
      ['a', 'b'],
    ]) {
      expect(requestIdFor(header)).toMatch(UUID);
    }
    expect(requestIdFor(undefined)).not.toBe(requestIdFor(undefined));
  });
});

describe('safeErrorText', () => {
  it('drops credentials from URLs, bearer tokens and query strings', () => {
    const text = safeErrorText(
      new Error(
        'connect failed: mongodb://admin:s3cret@db.internal:27017/satwatch?authSource=admin&password=p4ss, Authorization: Bearer tok_123',
      ),
    );
    for (const secret of ['admin:', 's3cret', 'p4ss', 'tok_123'])
      expect(text).not.toContain(secret);
    expect(text).toContain('db.internal:27017');
    expect(text).toContain('Bearer [redacted]');
  });

  it('is one short line, whatever was thrown', () => {
    expect(safeErrorText(new Error(`a\n  b\t${'c'.repeat(500)}`))).toMatch(/^a b c+…$/);
    expect(safeErrorText(new Error('x'.repeat(500))).length).toBe(200);
    expect(safeErrorText('plain string')).toBe('plain string');
    expect(safeErrorText(new Error(''))).toBe('error');
  });
});

describe('withTimeout', () => {
  it('passes a result through in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 100, 'x')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('no')), 100, 'x')).rejects.toThrow('no');
  });

  it('gives up after the timeout, and a late rejection is harmless', async () => {
    const late = new Promise((_, reject) => {
      setTimeout(() => {
        reject(new Error('late'));
      }, 50);
    });
    // Settling as a TimeoutError (not the late 'late') shows the timeout won the race.
    const err = await withTimeout(late, 10, 'the thing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('the thing did not answer within 10 ms');
    await new Promise((resolve) => setTimeout(resolve, 60)); // no unhandled rejection
  });
});

function capture(options: pino.LoggerOptions): { log: pino.Logger; output: () => string } {
  const lines: string[] = [];
  const log = pino(options, {
    write: (line: string) => {
      lines.push(line);
    },
  });
  return { log, output: () => lines.join('') };
}

describe('log redaction', () => {
  it('redacts every secret key from the top down to REDACT_DEPTH levels, arrays included', () => {
    const { log, output } = capture(loggerOptions('info'));
    const values: string[] = [];
    for (const key of SECRET_KEYS) {
      for (let depth = 0; depth <= REDACT_DEPTH; depth++) {
        const value = `${key}-value-at-${depth}`;
        values.push(value);
        let obj: Record<string, unknown> = { [key]: value, keep: `kept-${key}-${depth}` };
        for (let i = 0; i < depth; i++) obj = { [`level${i}`]: obj };
        log.info(obj, 'm');
      }
      // An array element is one level down from its array: `list.0.key` is two.
      const inArray = `${key}-in-array`;
      values.push(inArray);
      log.info({ outer: { list: [{ [key]: inArray }] } }, 'm');
    }
    const text = output();
    for (const value of values) expect(text).not.toContain(value);
    expect(text.split(REDACTED).length - 1).toBe(values.length);
    expect(text).toContain(`kept-wif-${REDACT_DEPTH}`);
  });

  it('redacts request credentials and header maps', () => {
    const { log, output } = capture(loggerOptions('info'));
    log.info({ req: { headers: { authorization: 'Bearer A1', cookie: 'C1', host: 'h' } } }, 'm');
    log.info({ headers: { authorization: 'Bearer A2', Cookie: 'C2' } }, 'm');
    log.info({ err: { config: { headers: { Authorization: 'Bearer A3' } } } }, 'm');
    const text = output();
    for (const secret of ['A1', 'C1', 'A2', 'C2', 'A3']) expect(text).not.toContain(secret);
    expect(text).toContain('"host":"h"');
  });

  it('keeps the level it is given and merges redact paths given with it', () => {
    expect(loggerOptions('debug').level).toBe('debug');
    const merged = withRedaction({ redact: ['custom.token'] }, 'warn');
    expect(merged.level).toBe('warn');
    expect(withRedaction({ level: 'trace' }, 'warn').level).toBe('trace');
    const { log, output } = capture(merged);
    log.warn({ custom: { token: 'T1' }, xprv: 'X1' }, 'm');
    expect(output()).not.toMatch(/T1|X1/);
    const custom = capture(withRedaction({ redact: { paths: ['a'], censor: '***' } }, 'info'));
    custom.log.info({ a: 'A', seed: 'S' }, 'm');
    expect(custom.output()).toContain('"a":"***","seed":"***"');
  });
});

describe('Readiness', () => {
  const lease = { holder: 'host:1:ab', expiresAt: new Date(), heldByMe: true };
  const deps = (overrides: Partial<ReadinessDeps> = {}): ReadinessDeps => ({
    timeoutMs: 50,
    pingMongo: () => Promise.resolve({ ok: 1 }),
    chainTip: () => Promise.resolve({ height: 812 }),
    watcher: {
      enabled: () => true,
      leading: () => true,
      lastCycleAt: () => new Date('2030-01-02T03:04:05Z'),
      lease: () => Promise.resolve(lease),
    },
    ...overrides,
  });

  it('is ready when MongoDB and the chain answer, and reports the lease', async () => {
    expect(await new Readiness(deps()).check()).toEqual({
      status: 'ready',
      checks: {
        mongo: { ok: true },
        chain: { ok: true, tipHeight: 812 },
        watcher: {
          enabled: true,
          leading: true,
          holder: 'host:1:ab',
          lastCycleAt: '2030-01-02T03:04:05.000Z',
        },
      },
    });
  });

  it('names the failing check, with safe text, and waits no longer than its timeout', async () => {
    // Checks that never answer: only the timeouts let check() return at all.
    const never = () => new Promise<never>(() => undefined);
    const report = await new Readiness(
      deps({
        pingMongo: () => Promise.reject(new Error('auth failed for mongodb://u:pw@db:27017')),
        chainTip: never,
        watcher: { ...deps().watcher, lease: never, leading: () => false },
      }),
    ).check();
    expect(report).toEqual({
      status: 'unready',
      checks: {
        mongo: { ok: false, error: 'auth failed for mongodb://[redacted]@db:27017' },
        chain: { ok: false, error: 'the chain API did not answer within 50 ms' },
        watcher: {
          enabled: true,
          leading: false,
          holder: null,
          lastCycleAt: '2030-01-02T03:04:05.000Z',
        },
      },
    });
  });

  it('does not report leading once the local lease has lapsed, though the stored one still names it', async () => {
    const lapsed = deps({ watcher: { ...deps().watcher, leading: () => false } });
    expect((await new Readiness(lapsed).check()).checks.watcher).toMatchObject({
      leading: false,
      holder: 'host:1:ab',
    });
  });

  it('stays ready on a standby replica', async () => {
    const standby = deps({
      watcher: {
        enabled: () => true,
        leading: () => false,
        lastCycleAt: () => undefined,
        lease: () => Promise.resolve({ ...lease, heldByMe: false }),
      },
    });
    const report = await new Readiness(standby).check();
    expect(report.status).toBe('ready');
    expect(report.checks.watcher).toEqual({
      enabled: true,
      leading: false,
      holder: 'host:1:ab',
      lastCycleAt: null,
    });
  });
});
