/** A local HTTP server standing in for a third-party API (rate providers, webhook receivers). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type StubHandler = (
  req: http.IncomingMessage,
  body: string,
) => { status?: number; body: string; delayMs?: number; type?: string };

export interface HttpStub {
  url: string;
  requests: { method: string; url: string; body: string; headers: http.IncomingHttpHeaders }[];
  handler: StubHandler;
  close(): Promise<void>;
}

export async function startHttpStub(handler: StubHandler): Promise<HttpStub> {
  const stub: HttpStub = { url: '', requests: [], handler, close: () => Promise.resolve() };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      stub.requests.push({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        body,
        headers: req.headers,
      });
      const answer = stub.handler(req, body);
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(answer.status ?? 200, { 'content-type': answer.type ?? 'application/json' });
        res.end(answer.body);
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
  return stub;
}
