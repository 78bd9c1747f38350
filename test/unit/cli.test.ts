import { describe, expect, it } from 'vitest';
import { maskUrlPassword } from '../../src/cli/config-check.js';
import { checkCreditedPayment } from '../../src/cli/reconcile.js';
import type { LedgerEntry } from '../../src/ledger/ledger.js';
import { parseDockerfile } from '../support/dockerfile.js';

describe('maskUrlPassword', () => {
  it.each([
    ['mongodb://127.0.0.1:27017', 'mongodb://127.0.0.1:27017'],
    [
      'mongodb://app:s3cret@db:27017/?authSource=admin',
      'mongodb://app:***@db:27017/?authSource=admin',
    ],
    [
      'mongodb+srv://app:p%40ss@cluster0.example.net/x',
      'mongodb+srv://app:***@cluster0.example.net/x',
    ],
    ['mongodb://app:p@ss/w@h1:1,h2:2/db?w=majority', 'mongodb://app:***@h1:1,h2:2/db?w=majority'],
    [
      'mongodb://app@db/?authMechanism=MONGODB-X509',
      'mongodb://app@db/?authMechanism=MONGODB-X509',
    ],
    ['https://user:token@esplora.example/api', 'https://user:***@esplora.example/api'],
    ['not a url: a:b@c', 'not a url: a:b@c'],
  ])('%s → %s', (url, masked) => {
    expect(maskUrlPassword(url)).toBe(masked);
  });
});

describe('checkCreditedPayment', () => {
  const payment = {
    _id: 'pay_1',
    userId: 'alice',
    credit: {
      state: 'done' as const,
      credits: 40,
      basisSats: 20000,
      dueAt: new Date(0),
      entryId: 'alice:1',
    },
  };
  const entry: LedgerEntry = {
    _id: 'alice:1',
    userId: 'alice',
    seq: 1,
    opId: 'credit:pay_1',
    type: 'credit',
    amount: 40,
    balanceAfter: 40,
    paymentId: 'pay_1',
    reason: 'payment pay_1',
    createdAt: new Date(0),
  };

  it('accepts one matching entry', () => {
    expect(checkCreditedPayment(payment, [entry])).toEqual([]);
  });

  it('names a missing entry, a duplicate, and every field that differs', () => {
    expect(checkCreditedPayment(payment, [])).toEqual([
      'credited 40 but has no ledger entry credit:pay_1',
    ]);
    expect(checkCreditedPayment(payment, [entry, { ...entry, _id: 'alice:2' }])).toEqual([
      'has 2 ledger entries credit:pay_1 (one expected)',
    ]);
    expect(
      checkCreditedPayment(payment, [{ ...entry, _id: 'bob:1', userId: 'bob', amount: 4 }]),
    ).toEqual([
      'ledger entry bob:1 is for user bob, not alice',
      'credited 40 but ledger entry bob:1 is 4',
      'records ledger entry alice:1 but the entry is bob:1',
    ]);
  });

  it('expects no entry for a credit of 0 and ignores credits still due', () => {
    const zero = { ...payment, credit: { ...payment.credit, credits: 0, entryId: 'none' } };
    expect(checkCreditedPayment(zero, [])).toEqual([]);
    expect(checkCreditedPayment(zero, [entry])).toEqual(['credited 0 but has 1 ledger entry']);
    const due = { ...payment, credit: { ...payment.credit, state: 'due' as const } };
    expect(checkCreditedPayment(due, [])).toEqual([]);
  });
});

describe('parseDockerfile', () => {
  it('reads stages, ENV pairs across continuations, COPY, CMD and HEALTHCHECK', () => {
    const stages = parseDockerfile(`# syntax=docker/dockerfile:1
FROM node:20 AS build
WORKDIR /app
FROM node:20-slim
ENV A=1 \\
    B="two words"
WORKDIR /app
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
HEALTHCHECK --interval=30s \\
  CMD ["node", "-e", "process.exit(0)"]
CMD ["node", "dist/main.js", "serve"]
`);
    expect(stages.map((s) => s.name)).toEqual(['build', undefined]);
    const runtime = stages[1]!;
    expect(runtime.env).toEqual({ A: '1', B: 'two words' });
    expect(runtime.workdir).toBe('/app');
    expect(runtime.copies).toEqual([
      { from: 'build', sources: ['/app/dist'], destination: './dist' },
      { from: undefined, sources: ['package.json'], destination: './' },
    ]);
    expect(runtime.user).toBe('node');
    expect(runtime.healthcheck).toEqual(['node', '-e', 'process.exit(0)']);
    expect(runtime.cmd).toEqual(['node', 'dist/main.js', 'serve']);
  });
});
