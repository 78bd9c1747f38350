/**
 * Requests refused before our routes see them, answered in our error shape instead of the
 * default bodies: by Node's HTTP parser (headers too large, an unknown method, a client
 * timeout) and by Fastify's router (a malformed URL, an over-long path parameter).
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './errors.js';

/** Node's parser error code → our HTTP status. */
const PARSER_STATUSES: Readonly<Record<string, number>> = {
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADER_OVERFLOW: 431,
  HPE_INVALID_METHOD: 405,
  HPE_URI_TOO_LONG: 414,
};

export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = PARSER_STATUSES[err.code ?? ''] ?? 400;
  const body = errorBody(status);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Longer URLs are refused with 414. Our longest legitimate URL is far shorter; the margin lets
 * a merely invalid query reach validation and its 400 naming the field.
 */
export const MAX_URL_LENGTH = 8192;

/** Router errors (Fastify's `frameworkErrors` option) → our status and body. */
export function frameworkErrors(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const status =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : error.code === 'FST_ERR_BAD_URL' ? 400 : 500;
  void reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send(
      status === 500 ? '{"error":"internal_error","message":"internal error"}' : errorBody(status),
    );
}
