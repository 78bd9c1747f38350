/** The merchant API for balances: read a user's balance and ledger, spend credits. */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { LedgerEntry, LedgerStore } from '../ledger/ledger.js';
import type { ApiKeyVerifier } from './auth.js';
import { perMinute } from './rate-limits.js';
import { createPaymentBody, idempotencyHeaders, pageOf, authenticatedErrors } from './schemas.js';
import type { ApiTypeProvider } from './prepare.js';

export interface UsersRoutesOptions {
  ledger: LedgerStore;
  auth: ApiKeyVerifier;
  /** Debits per minute per API key (its own limit, instead of the global one). */
  debitPerMinute?: number;
}

interface DebitBody {
  amount: number;
  reason: string;
}

const userParams = {
  type: 'object',
  required: ['id'],
  properties: { id: createPaymentBody.properties.userId },
} as const;

const entryView = {
  type: 'object',
  required: ['id', 'seq', 'type', 'amount', 'balanceAfter', 'reason', 'createdAt'],
  properties: {
    id: { type: 'string' },
    seq: { type: 'integer', description: '1, 2, 3… per user, without gaps' },
    type: { type: 'string', enum: ['credit', 'debit', 'adjustment'] },
    amount: { type: 'integer', description: 'credits; negative for a debit' },
    balanceAfter: { type: 'integer' },
    paymentId: { type: 'string' },
    reason: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const errors = authenticatedErrors;

function showEntry(entry: LedgerEntry) {
  return {
    id: entry._id,
    seq: entry.seq,
    type: entry.type,
    amount: entry.amount,
    balanceAfter: entry.balanceAfter,
    ...(entry.paymentId !== undefined && { paymentId: entry.paymentId }),
    reason: entry.reason,
    createdAt: entry.createdAt.toISOString(),
  };
}

/** What the Idempotency-Key promises to repeat: keys fixed and sorted, so the text is canonical. */
export function debitRequestHash(userId: string, body: DebitBody): string {
  const canonical = JSON.stringify({ amount: body.amount, reason: body.reason, userId });
  return createHash('sha256').update(canonical).digest('hex');
}

/** A Fastify plugin (it returns a promise so `register` treats it as one; nothing inside waits). */
export function usersRoutes(instance: FastifyInstance, options: UsersRoutesOptions): Promise<void> {
  const app = instance.withTypeProvider<ApiTypeProvider>();
  const { ledger, auth } = options;
  const merchant = auth.require('merchant');

  app.get(
    '/v1/users/:id/balance',
    {
      onRequest: merchant,
      schema: {
        tags: ['balances'],
        summary: "Read a user's balance",
        description: 'A user never credited has balance 0.',
        security: [{ apiKey: [] }],
        params: userParams,
        response: {
          200: {
            type: 'object',
            required: ['userId', 'balance', 'updatedAt'],
            properties: {
              userId: { type: 'string' },
              balance: { type: 'integer' },
              updatedAt: { type: ['string', 'null'], format: 'date-time' },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const { userId, balance, updatedAt } = await ledger.balance(request.params.id);
      return { userId, balance, updatedAt: updatedAt?.toISOString() ?? null };
    },
  );

  app.get(
    '/v1/users/:id/ledger',
    {
      onRequest: merchant,
      schema: {
        tags: ['balances'],
        summary: "List a user's ledger entries, newest first",
        security: [{ apiKey: [] }],
        params: userParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            cursor: {
              type: 'string',
              pattern: '^[1-9][0-9]{0,14}$',
              description: 'nextCursor of the previous page',
            },
          },
        },
        response: {
          200: pageOf(entryView),
          ...errors,
        },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const items = await ledger.entries(
        request.params.id,
        limit,
        cursor === undefined ? undefined : Number(cursor),
      );
      const last = items.at(-1);
      // Seqs run 1..n without gaps, so a full page that stopped above 1 has more behind it.
      const nextCursor = items.length === limit && last && last.seq > 1 ? String(last.seq) : null;
      return { items: items.map(showEntry), nextCursor };
    },
  );

  app.post(
    '/v1/users/:id/debit',
    {
      onRequest: merchant,
      ...(options.debitPerMinute !== undefined && {
        // A retry of a debit already applied is answered even over the limit.
        config: {
          rateLimit: perMinute(options.debitPerMinute, (request) => {
            const key = request.headers['idempotency-key'];
            const { id } = request.params as { id?: unknown };
            return typeof key === 'string' && typeof id === 'string'
              ? ledger.hasDebit(id, key)
              : Promise.resolve(false);
          }),
        },
      }),
      schema: {
        tags: ['balances'],
        summary: "Spend a user's credits",
        description:
          'Never takes the balance below zero (409, nothing written). Idempotency-Key is required: ' +
          'a retry with the same key and body returns the same entry (200, Idempotent-Replayed: true); ' +
          'the same key with another body is 422.',
        security: [{ apiKey: [] }],
        params: userParams,
        headers: { ...idempotencyHeaders, required: ['idempotency-key'] },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['amount', 'reason'],
          properties: {
            amount: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
            reason: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
        response: {
          201: entryView,
          200: entryView,
          ...errors,
          409: { $ref: 'Error#' },
          422: { $ref: 'Error#' },
        },
      },
    },
    async (request, reply) => {
      const userId = request.params.id;
      const { amount, reason } = request.body;
      const principal = request.principal;
      if (!principal) throw new Error('route reached without authentication');
      const { entry, replayed } = await ledger.debit({
        userId,
        amount,
        reason,
        idempotencyKey: request.headers['idempotency-key'],
        requestHash: debitRequestHash(userId, { amount, reason }),
        actor: principal.id,
      });
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return reply.status(replayed ? 200 : 201).send(showEntry(entry));
    },
  );
  return Promise.resolve();
}
