/** Bounded waits for probes and scrapes, and error text safe to show an operator. */

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * `promise`, or TimeoutError after `ms`. The work itself is not cancelled (its own timeouts end
 * it); a late rejection is swallowed.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new TimeoutError(what, ms));
    }, ms);
    timer.unref();
  });
  promise.catch(() => undefined);
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const MAX_ERROR_LENGTH = 200;

/**
 * One line describing `err`, without credentials: `scheme://user:pass@host` loses its user
 * part, `Bearer <token>` and `?query` strings (which may carry keys) are blanked out, and the
 * text is cut to 200 characters.
 */
export function safeErrorText(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  const text = raw
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, '$1[redacted]@')
    .replace(/\b(bearer|basic)\s+\S+/gi, '$1 [redacted]')
    .replace(/(\/\/[^\s?#]*)\?\S*/g, '$1?[redacted]')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > MAX_ERROR_LENGTH
    ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…`
    : text || 'error';
}
