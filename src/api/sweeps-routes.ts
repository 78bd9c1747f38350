/** The admin API for forwarding: sweeps, their PSBTs in watch-only mode, and "forward now". */
import type { FastifyInstance } from 'fastify';
import type { Forwarder } from '../forwarding/forwarder.js';
import { SWEEP_STATES, type Sweep } from '../forwarding/sweep.js';
import type { SweepRepository } from '../storage/sweeps.js';
import type { ApiKeyVerifier } from './auth.js';
import { ApiError, notFound } from './errors.js';
import { authenticatedErrors, eventList, pageOf } from './schemas.js';
import type { ApiTypeProvider } from './prepare.js';
import { idParams } from './params.js';

export interface SweepsRoutesOptions {
  sweeps: SweepRepository;
  forwarder: Forwarder | undefined;
  auth: ApiKeyVerifier;
  chainTipHeight?: () => Promise<number>;
}

const sweepView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: SWEEP_STATES },
    mode: { type: 'string', enum: ['sign', 'psbt'] },
    txid: { type: 'string' },
    destination: { type: 'string' },
    destinationIndex: { type: 'integer' },
    feeRate: { type: 'number', description: 'sat/vB' },
    feeSats: { type: 'integer' },
    vsize: { type: 'integer' },
    valueOutSats: { type: 'integer' },
    inputs: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          paymentId: { type: 'string' },
          txid: { type: 'string' },
          vout: { type: 'integer' },
          valueSats: { type: 'integer' },
        },
      },
    },
    broadcastAt: { type: 'string', format: 'date-time' },
    broadcastHeight: { type: 'integer' },
    confirmedHeight: { type: 'integer' },
    bumpOf: { type: 'string' },
    replacedBy: { type: 'string' },
    error: { type: 'string' },
    hex: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    events: eventList,
  },
} as const;

function view(sweep: Sweep, withHex = false) {
  return {
    id: sweep._id,
    state: sweep.state,
    mode: sweep.mode,
    ...(sweep.txid !== undefined && { txid: sweep.txid }),
    destination: sweep.destination,
    ...(sweep.destinationIndex !== undefined && { destinationIndex: sweep.destinationIndex }),
    feeRate: sweep.feeRate,
    feeSats: sweep.feeSats,
    vsize: sweep.vsize,
    valueOutSats: sweep.valueOutSats,
    inputs: sweep.inputs.map(({ paymentId, txid, vout, valueSats }) => ({
      paymentId,
      txid,
      vout,
      valueSats,
    })),
    ...(sweep.broadcastAt && { broadcastAt: sweep.broadcastAt.toISOString() }),
    ...(sweep.broadcastHeight !== undefined && { broadcastHeight: sweep.broadcastHeight }),
    ...(sweep.confirmedHeight !== undefined && { confirmedHeight: sweep.confirmedHeight }),
    ...(sweep.bumpOf !== undefined && { bumpOf: sweep.bumpOf }),
    ...(sweep.replacedBy !== undefined && { replacedBy: sweep.replacedBy }),
    ...(sweep.error !== undefined && { error: sweep.error }),
    ...(withHex && sweep.hex !== undefined && { hex: sweep.hex }),
    createdAt: sweep.createdAt.toISOString(),
    events: sweep.events.map((e) => ({ ...e, at: e.at.toISOString() })),
  };
}

export function sweepsRoutes(
  instance: FastifyInstance,
  options: SweepsRoutesOptions,
): Promise<void> {
  const app = instance.withTypeProvider<ApiTypeProvider>();
  const { sweeps, forwarder, auth, chainTipHeight } = options;
  const admin = auth.require('admin');
  const common = { tags: ['forwarding'], security: [{ apiKey: [] }] };
  const needForwarder = (): Forwarder => {
    if (!forwarder)
      throw new ApiError(409, 'forwarding_off', 'forwarding is off (forwarding.mode)');
    return forwarder;
  };
  const load = async (id: string): Promise<Sweep> => {
    const sweep = await sweeps.get(id);
    if (!sweep) throw notFound('sweep');
    return sweep;
  };

  app.get(
    '/v1/admin/sweeps',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'List sweeps, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: SWEEP_STATES },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
            cursor: { type: 'string', maxLength: 200 },
          },
        },
        response: { 200: pageOf(sweepView), ...authenticatedErrors },
      },
    },
    async (request) => {
      const { state, limit, cursor } = request.query;
      const page = await sweeps.list({
        limit,
        ...(state && { state }),
        ...(cursor !== undefined && { cursor }),
      });
      return { items: page.items.map((s) => view(s)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/admin/sweeps/:id',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'A sweep with its signed transaction',
        params: idParams,
        response: { 200: sweepView, 404: { $ref: 'Error#' } },
      },
    },
    async (request) => view(await load(request.params.id), true),
  );

  app.get(
    '/v1/admin/sweeps/:id/psbt',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary: 'Download the PSBT of a sweep awaiting a signature (watch-only mode)',
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['psbt'],
            properties: { psbt: { type: 'string', description: 'base64' } },
          },
          404: { $ref: 'Error#' },
          409: { $ref: 'Error#' },
        },
      },
    },
    async (request) => {
      const sweep = await load(request.params.id);
      if (sweep.state !== 'awaiting_signature' || sweep.psbt === undefined) {
        throw new ApiError(409, 'not_awaiting_signature', `sweep is ${sweep.state}`);
      }
      // Rebuilt with the configured destination: a rewritten record is refused (409), not served.
      return { psbt: await needForwarder().psbtFor(sweep._id) };
    },
  );

  app.post(
    '/v1/admin/sweeps/:id/psbt',
    {
      onRequest: admin,
      // A signed PSBT of a large sweep outgrows http.bodyLimitBytes; the fields' own maxLength
      // (1 MB each) is the limit here. Admin only, and the key is checked before the body is read.
      bodyLimit: 2_200_000,
      schema: {
        ...common,
        summary:
          'Submit the signed PSBT (or the signed raw transaction); it is checked and broadcast',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            psbt: {
              type: 'string',
              minLength: 10,
              maxLength: 1_000_000,
              pattern: '^[A-Za-z0-9+/=]+$',
            },
            rawTx: {
              type: 'string',
              minLength: 10,
              maxLength: 1_000_000,
              pattern: '^[0-9a-fA-F]+$',
            },
          },
        },
        response: {
          200: sweepView,
          ...authenticatedErrors,
          404: { $ref: 'Error#' },
          409: { $ref: 'Error#' },
        },
      },
    },
    async (request) => {
      const { psbt, rawTx } = request.body;
      if ((psbt === undefined) === (rawTx === undefined)) {
        throw new ApiError(400, 'invalid_request', 'psbt or rawTx is required, not both', 'psbt');
      }
      await load(request.params.id);
      // A SweepError (the signed transaction does not match) is a 400 naming the field sent.
      return view(await needForwarder().submitSigned(request.params.id, psbt ?? rawTx ?? ''), true);
    },
  );

  app.post(
    '/v1/admin/payments/:id/forward',
    {
      onRequest: admin,
      schema: {
        ...common,
        summary:
          "Sweep a payment's coins now (after a rejected sweep, or ignoring the fee-share limit)",
        params: idParams,
        response: {
          200: { type: 'object', properties: { sweep: sweepView, waiting: { type: 'string' } } },
          404: { $ref: 'Error#' },
          409: { $ref: 'Error#' },
        },
      },
    },
    async (request) => {
      const active = needForwarder();
      // Without the chain tip (ChainSourceError, TipUnknownError) this is a 503 (errors.ts).
      const tip = chainTipHeight ? await chainTipHeight() : undefined;
      const result = await active.forwardNow(request.params.id, tip);
      return {
        ...(result.sweep && { sweep: view(result.sweep, true) }),
        ...(result.waiting !== undefined && { waiting: result.waiting }),
      };
    },
  );
  return Promise.resolve();
}
