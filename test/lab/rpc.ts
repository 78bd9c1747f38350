/** Minimal JSON-RPC client for btcd (HTTP, basic auth). Every request carries an id: btcd requires it. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly method: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export interface RpcConfig {
  url: string;
  user: string;
  pass: string;
}

export class BtcdRpc {
  private nextId = 1;
  private readonly auth: string;

  constructor(private readonly config: RpcConfig) {
    this.auth = 'Basic ' + Buffer.from(`${config.user}:${config.pass}`).toString('base64');
  }

  async call<T = unknown>(method: string, ...params: unknown[]): Promise<T> {
    const res = await fetch(this.config.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: this.auth },
      body: JSON.stringify({ jsonrpc: '1.0', id: this.nextId++, method, params }),
      signal: AbortSignal.timeout(120_000),
    });
    const text = await res.text();
    let body: { result?: T; error?: { code: number; message: string } | null };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new RpcError(
        -1,
        `btcd answered ${res.status} with non-JSON: ${text.slice(0, 200)}`,
        method,
      );
    }
    if (body.error) throw new RpcError(body.error.code, body.error.message, method);
    return body.result as T;
  }
}
