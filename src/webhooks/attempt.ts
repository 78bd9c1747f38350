/**
 * One delivery attempt, shared by the configured URL's dispatcher and the endpoints' dispatcher:
 * POST the body, then judge the answer. 2xx is delivered; no answer, 408, 429 and 5xx are retried
 * on the retry plan until `maxAttempts`; any other status is final at once (the receiver refuses
 * the event, so resending the same bytes cannot help: fix it, then redeliver).
 */
import type http from 'node:http';
import type https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import axios, { AxiosError } from 'axios';
import type { AttemptOutcome } from './outbox.js';
import { plannedDelaySeconds } from './retry-plan.js';

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The request body: exactly these fields, in this order. */
export function webhookBody(event: {
  id: string;
  type: string;
  createdAt: Date;
  isRedelivery: boolean;
  data: unknown;
}): string {
  return JSON.stringify({
    id: event.id,
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    isRedelivery: event.isRedelivery,
    data: event.data,
  });
}

/** The URL without credentials, query or fragment, for logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof AxiosError) {
    if (
      err.code === 'ECONNABORTED' ||
      err.code === 'ETIMEDOUT' ||
      err.code === AxiosError.ERR_CANCELED
    ) {
      return `timed out after ${timeoutMs} ms`;
    }
    const cause: (Error & { code?: string }) | undefined = err.cause;
    const code = err.code ?? cause?.code;
    const message = cause?.message ?? err.message;
    return code && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return err instanceof Error ? err.message : 'unknown error';
}

export interface DeliveryAgents {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
}

export interface PostResult {
  status?: number;
  error?: string;
  durationMs: number;
}

/** POSTs `body`; never throws: no answer is an `error`. */
export async function postWebhook(request: {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  agents?: DeliveryAgents;
}): Promise<PostResult> {
  const started = performance.now();
  let status: number | undefined;
  let error: string | undefined;
  try {
    const response = await axios.post<Readable>(request.url, request.body, {
      headers: request.headers,
      timeout: request.timeoutMs,
      // `timeout` is per socket inactivity; this bounds the whole exchange, so the lock holds.
      signal: AbortSignal.timeout(request.timeoutMs),
      maxRedirects: 0,
      validateStatus: () => true,
      // Only the status matters; the body is never read.
      responseType: 'stream',
      transformRequest: [(data: unknown) => data],
      ...(request.agents && {
        httpAgent: request.agents.httpAgent,
        httpsAgent: request.agents.httpsAgent,
      }),
    });
    status = response.status;
    response.data.destroy();
  } catch (err) {
    error = describeError(err, request.timeoutMs);
  }
  return {
    ...(status !== undefined && { status }),
    ...(error !== undefined && { error }),
    durationMs: Math.round(performance.now() - started),
  };
}

export type Verdict =
  | { kind: 'delivered'; outcome: AttemptOutcome }
  | { kind: 'retrying'; outcome: AttemptOutcome; why: string }
  | { kind: 'gave-up'; outcome: AttemptOutcome; why: string }
  | { kind: 'refused'; outcome: AttemptOutcome; why: string };

/** What attempt number `attempt`, made at `at`, comes to under `maxAttempts` and `plan`. */
export function judgeAttempt(
  result: PostResult,
  context: {
    at: Date;
    attempt: number;
    redelivery: boolean;
    maxAttempts: number;
    plan: readonly number[];
  },
): Verdict {
  const { status, error, durationMs } = result;
  const { at, attempt } = context;
  const delivery = {
    at,
    attempt,
    ...(status !== undefined && { status }),
    durationMs,
    redelivery: context.redelivery,
  };
  if (status !== undefined && status >= 200 && status < 300) {
    return { kind: 'delivered', outcome: { state: 'delivered', delivery } };
  }
  if (status === undefined || isRetryableStatus(status)) {
    const why = error ?? `HTTP ${status}`;
    const logged = { ...delivery, ...(error !== undefined && { error }) };
    if (attempt >= context.maxAttempts) {
      return { kind: 'gave-up', why, outcome: { state: 'failed', delivery: logged } };
    }
    const delay = plannedDelaySeconds(context.plan, attempt);
    return {
      kind: 'retrying',
      why,
      outcome: {
        state: 'pending',
        nextAttemptAt: new Date(at.getTime() + delay * 1000),
        delivery: logged,
      },
    };
  }
  const why =
    status >= 300 && status < 400
      ? `the receiver answered ${status} (redirects are not followed)`
      : `the receiver refused it with ${status}`;
  return {
    kind: 'refused',
    why,
    outcome: { state: 'failed', delivery: { ...delivery, error: `${why}; not retried` } },
  };
}
