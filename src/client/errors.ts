/** What the daemon answers when it refuses a request: `{ error, message, field? }`. */
export interface SatwatchErrorBody {
  /** Machine-readable code, e.g. `order_id_taken`, `payment_not_cancellable`. */
  error: string;
  message: string;
  /** The request field at fault, as a dotted path. */
  field?: string;
}

function isErrorBody(value: unknown): value is SatwatchErrorBody {
  if (value === null || typeof value !== 'object') return false;
  const body = value as Record<string, unknown>;
  return typeof body.error === 'string' && typeof body.message === 'string';
}

/** A request the daemon refused or failed: the HTTP status and our error body. */
export class SatwatchApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly body: SatwatchErrorBody;

  constructor(status: number, answer: unknown) {
    // A proxy in front of the daemon may answer in its own words: keep the status, say so.
    const body: SatwatchErrorBody = isErrorBody(answer)
      ? answer
      : { error: 'http_error', message: `HTTP ${status} without a satwatch error body` };
    super(`${status} ${body.error}: ${body.message}`);
    this.name = 'SatwatchApiError';
    this.status = status;
    this.code = body.error;
    this.field = body.field;
    this.body = body;
  }
}
