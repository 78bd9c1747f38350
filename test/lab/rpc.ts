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

/**
 * Pages through btcd's `searchrawtransactions` (needs --addrindex), mempool included.
 * btcd answers "No information available about address" (-5) for an address without history.
 */
export async function* searchRawTransactions<T>(
  rpc: BtcdRpc,
  address: string,
  verbose: 0 | 1,
  newestFirst: boolean,
): AsyncGenerator<T[]> {
  const pageSize = 1000;
  for (let skip = 0; ; skip += pageSize) {
    let page: T[];
    try {
      page = await rpc.call<T[]>(
        'searchrawtransactions',
        address,
        verbose,
        skip,
        pageSize,
        0,
        newestFirst,
      );
    } catch (err) {
      if (err instanceof RpcError && err.code === -5) return;
      throw err;
    }
    yield page;
    if (page.length < pageSize) return;
  }
}
